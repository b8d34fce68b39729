"""Discovery in a querier process: ``--store.sd-files`` is followed as the
file is rewritten, ``dns+`` names reach their stores, and a name that does
not resolve is listed on the stores page with the reason."""

from __future__ import annotations

import pytest

from support import datasets
from support.components import querier
from support.storeapi import FakeStore, wait_until

# Starts querier processes and waits on real timers: `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

DATA = datasets.monitoring(hours=1, jobs=1, instances=1)
T = DATA.start + 1800


def names(q, component: str = "sidecar") -> list[str]:
    return [e["name"] for e in q.api("/api/v1/stores").get(component, [])]


def clusters(q) -> list[str]:
    result = q.api("/api/v1/query", {"query": "count by (cluster) (up)", "time": T})["result"]
    return sorted(r["metric"]["cluster"] for r in result)


def test_file_sd_is_followed_without_restart(tmp_path):
    sd = tmp_path / "stores.yml"
    with FakeStore(DATA.series, {"cluster": "one"}) as one, FakeStore(DATA.series, {"cluster": "two"}) as two:
        sd.write_text(f"- targets: ['{one.address}']\n")
        with querier(tmp_path, [], f"--store.sd-files={tmp_path}/*.yml", "--store.sd-interval=1m") as q:
            wait_until(lambda: names(q) == [one.address], timeout=15)
            assert clusters(q) == ["one"]

            sd.write_text(f"- targets: ['{two.address}']\n  labels: {{a: b}}\n")
            wait_until(lambda: names(q) == [two.address], timeout=15)
            assert clusters(q) == ["two"], "the store no longer listed is gone, not down"

            sd.write_text("- targets: ['")  # broken: the last good targets stay
            (tmp_path / "more.yml").write_text(f"- targets: ['{one.address}']\n")
            wait_until(lambda: names(q) == sorted([one.address, two.address]), timeout=15)
            assert clusters(q) == ["one", "two"]
            assert "Error reading file" in q.logs()


def test_a_dns_name_reaches_its_store(tmp_path):
    with FakeStore(DATA.series, {"cluster": "dns"}) as store:
        port = store.address.rsplit(":", 1)[1]
        with querier(tmp_path, [f"dns+localhost:{port}"], "--store.sd-dns-interval=1s") as q:
            # Resolved before the querier is ready, so the store is there at once.
            assert names(q) == [f"127.0.0.1:{port}"]
            assert clusters(q) == ["dns"]


def test_a_name_that_does_not_resolve_is_on_the_stores_page(tmp_path):
    with FakeStore(DATA.series, {"cluster": "static"}) as store:
        with querier(tmp_path, [store.address, "dns+nonexistent.invalid:10901"], "--store.sd-dns-interval=1s") as q:
            stores = q.api("/api/v1/stores")
            assert names(q) == [store.address]
            (entry,) = stores["unknown-store-api"]
            assert entry["name"] == "dns+nonexistent.invalid:10901"
            assert entry["lastError"] == (
                "dns+nonexistent.invalid:10901 does not resolve: lookup nonexistent.invalid: no such host")
            assert set(entry) == {"name", "lastCheck", "lastError", "labelSets", "minTime", "maxTime"}
            assert entry["lastCheck"] == "0001-01-01T00:00:00Z" and entry["labelSets"] == []
            assert clusters(q) == ["static"], "the querier keeps serving"
