"""The demo's exporter carries the synthetic history on: it starts from the
history's last values, moves on with wall time whoever asks (so the two
replicas of an HA pair scrape the same values), and serves each target's
series in Prometheus's text format, without the labels a scrape adds."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.prometheus import free_port
from thanos_rs.demo import exporter
from thanos_rs.demo.history import Fleet, write


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    fleet = Fleet(targets=4, start=1_700_000_000, hours=0.5, job="app", jobs=3, seed=7)
    last = write(fleet, tmp_path_factory.mktemp("history") / "h.om")
    return fleet, last


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text) for s in family.samples
    }


def test_last_values_are_the_history_s_last_lines(history, tmp_path):
    fleet, last = history
    path = tmp_path / "h.om"
    write(fleet, path)
    final = f"{fleet.end:.0f}"
    lines = [ln for ln in path.read_text().splitlines() if ln.endswith(" " + final)]
    assert len(lines) == len(last) == 4 * 13
    for line in lines:
        series, value, _ = line.rsplit(" ", 2)
        assert last[series] == float(value)


def test_it_starts_from_the_last_values_and_moves_on(history):
    fleet, last = history
    live = exporter.Fleet.from_last_values(last, fleet.end, fleet.interval, seed=1)
    first = samples(live.at(fleet.end + 1, "host1:9100"))
    assert first[("http_requests_total", (("code", "500"),))] == last[
        'http_requests_total{job="app1",instance="host1:9100",code="500"}']
    assert first[("node_memory_used_bytes", ())] == round(last['node_memory_used_bytes{job="app1",instance="host1:9100"}'])
    assert not any(name == "up" for name, _ in first), "up is Prometheus's own"
    later = samples(live.at(fleet.end + 10 * fleet.interval, "host1:9100"))
    for key, value in later.items():
        if key[0].endswith(("_total", "_bucket", "_count", "_sum")):
            assert value >= first[key], key
    assert later != first
    buckets = sorted((float(dict(labels)["le"]), v) for (name, labels), v in later.items() if name.endswith("_bucket"))
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert buckets[-1][1] == later[("http_request_duration_seconds_count", ())]
    # The same instant gives the same values to every reader.
    assert samples(live.at(fleet.end + 10 * fleet.interval + 3, "host1:9100")) == later
    assert live.at(fleet.end, "host9:9100") is None


def test_served_over_http(history, tmp_path):
    _, last = history
    state = tmp_path / "state.json"
    exporter.save_state(state, {"eu1": (last, time.time() - 30, 15.0, 1)})
    server = exporter.serve(f"127.0.0.1:{free_port()}", exporter.load_state(state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/metrics?fleet=eu1&target=host2:9100") as r:
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            got = samples(r.read().decode())
        assert ("http_request_duration_seconds_bucket", (("le", "+Inf"),)) in got
        for bad in ("fleet=us1&target=host2:9100", "fleet=eu1&target=host99:9100"):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(f"{base}/metrics?{bad}")
            assert e.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
