"""Endpoint discovery: stores are polled with the Info API every 5 seconds,
so one that starts after the querier, dies or comes back is followed, and
the stores page says so; stores older than the Info API are read through the
StoreAPI's own Info."""

from __future__ import annotations

import pytest

from support import datasets
from support.components import querier
from support.prometheus import free_port
from support.storeapi import FakeStore, wait_until

# Starts querier processes and waits on real timers: `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

DATA = datasets.monitoring(hours=1, jobs=1, instances=1)
T = DATA.start + 1800
LABELS = {"cluster": "eu1", "replica": "0"}


def count_up(q) -> int:
    result = q.api("/api/v1/query", {"query": "count(up)", "time": T})["result"]
    return int(result[0]["value"][1]) if result else 0


def test_a_store_that_starts_late_dies_and_comes_back(tmp_path):
    port = free_port()
    address = f"127.0.0.1:{port}"
    with querier(tmp_path, [address]) as q:
        # Never reached: not on the stores page (its component is unknown), no data.
        assert q.api("/api/v1/stores") == {}
        assert count_up(q) == 0

        store = FakeStore(DATA.series, LABELS).start(port)
        wait_until(lambda: q.api("/api/v1/stores").get("sidecar"), timeout=15)
        (entry,) = q.api("/api/v1/stores")["sidecar"]
        assert entry["name"] == address and entry["lastError"] is None
        assert count_up(q) == 1

        store.stop()
        down = wait_until(lambda: [e for e in q.api("/api/v1/stores")["sidecar"] if e["lastError"]], timeout=15)
        assert down[0]["lastError"] == "removing endpoint because it's unhealthy or does not exist"
        assert down[0]["labelSets"] == [LABELS], "a DOWN store keeps what it announced"
        status, body = q.request("/api/v1/query", {"query": "count(up)", "time": T})
        assert status == 200 and body["data"]["result"] == [], body
        assert len(body["warnings"]) == 1 and "endpoint is down" in body["warnings"][0], body

        store = FakeStore(DATA.series, LABELS).start(port)
        wait_until(lambda: not q.api("/api/v1/stores")["sidecar"][0]["lastError"], timeout=15)
        assert count_up(q) == 1
        store.stop()


def test_stores_without_the_info_api_are_read_through_store_info(tmp_path):
    with FakeStore(DATA.series, LABELS, legacy_info_only=True) as store:
        with querier(tmp_path, [store.address]) as q:
            (entry,) = q.api("/api/v1/stores")["sidecar"]
            assert entry["labelSets"] == [LABELS]
            assert count_up(q) == 1
