"""Stores that go down never make an answer silently smaller: two clusters,
each a real Prometheus 2.42 with a sidecar, behind one querier. When one
cluster's Prometheus dies or its sidecar hangs (SIGSTOP), queries that need
it say so (a warning under partial response, 422 without), at once, and the
stores page shows it failing and why; when it is back, so are its series."""

from __future__ import annotations

import signal
import time

import pytest

from support.components import querier, sidecar
from support.storeapi import wait_until
from support.tsdb import DATA, prometheus

pytestmark = pytest.mark.prometheus

FAST = ("--prometheus.get_config_interval=1s", "--prometheus.get_config_timeout=1s")
T = DATA.start + 12 * 3600
COUNT = {"query": "count by (cluster) (up)", "time": T}


@pytest.fixture(scope="module")
def clusters(tmp_path_factory, tsdb):
    work = tmp_path_factory.mktemp("clusters")
    proms = {c: prometheus(work, tsdb, name=f"prom-{c}", external={"cluster": c, "replica": "0"}).start()
             for c in ("eu1", "us1")}
    sides = {c: sidecar(work, p.url, *FAST).start() for c, p in proms.items()}
    q = querier(work, [s.grpc_address for s in sides.values()], "--query.timeout=60s").start()
    try:
        wait_until(lambda: len(q.api("/api/v1/stores").get("sidecar", [])) == 2, timeout=30)
        yield proms, sides, q
    finally:
        q.stop()
        for s in sides.values():
            s.stop()
        for p in proms.values():
            p.stop()


def clusters_answering(q, **params) -> tuple[list[str], list[str]]:
    status, body = q.request("/api/v1/query", {**COUNT, **params})
    assert status == 200, body
    return sorted(s["metric"]["cluster"] for s in body["data"]["result"]), body.get("warnings", [])


def store_error(q, address: str) -> str | None:
    (entry,) = [s for s in q.api("/api/v1/stores")["sidecar"] if s["name"] == address]
    return entry["lastError"]


def test_a_dead_prometheus_is_reported_not_left_out(clusters):
    proms, sides, q = clusters
    us = sides["us1"].grpc_address
    assert clusters_answering(q) == (["eu1", "us1"], [])

    proms["us1"].stop()
    # Thanos's sidecar would stop announcing its StoreAPI once Prometheus is
    # gone, and the querier would leave it out without a word.
    wait_until(lambda: store_error(q, us), timeout=20)
    assert "query Prometheus" in store_error(q, us)
    time.sleep(3)  # past the sidecar's heartbeat finding Prometheus gone

    found, warnings = clusters_answering(q)
    assert found == ["eu1"]
    assert len(warnings) == 1 and us in warnings[0] and "query Prometheus" in warnings[0], warnings
    status, body = q.request("/api/v1/query", {**COUNT, "partial_response": "false"})
    assert (status, body["errorType"]) == (422, "execution"), body
    assert us in body["error"] and "query Prometheus" in body["error"]
    status, body = q.request("/api/v1/series", {"match[]": "up", "partial_response": "false"})
    assert (status, body["errorType"]) == (422, "execution"), body

    proms["us1"].start()
    wait_until(lambda: store_error(q, us) is None, timeout=30)
    assert clusters_answering(q) == (["eu1", "us1"], [])


def test_a_hung_sidecar_is_found_down_and_stops_holding_queries(clusters):
    proms, sides, q = clusters
    side = sides["us1"]
    us = side.grpc_address
    side.proc.send_signal(signal.SIGSTOP)
    try:
        # A query in flight when it hangs is released once the endpoint poll
        # finds it down (5 s interval, 5 s Info timeout), not at the 60 s deadline.
        started = time.monotonic()
        found, warnings = clusters_answering(q)
        assert time.monotonic() - started < 15
        assert found == ["eu1"] and len(warnings) == 1 and us in warnings[0], warnings

        # From then on, queries that need it do not wait for it at all.
        wait_until(lambda: store_error(q, us), timeout=15)
        started = time.monotonic()
        found, warnings = clusters_answering(q)
        assert time.monotonic() - started < 2
        assert found == ["eu1"] and len(warnings) == 1 and "endpoint is down" in warnings[0], warnings
        status, body = q.request("/api/v1/query", {**COUNT, "partial_response": "false"})
        assert (status, body["errorType"]) == (422, "execution") and us in body["error"], body
        # It counts only for what it announced.
        found, warnings = clusters_answering(q, query='count by (cluster) (up{cluster="eu1"})')
        assert found == ["eu1"] and warnings == []
    finally:
        side.proc.send_signal(signal.SIGCONT)
    wait_until(lambda: store_error(q, us) is None, timeout=30)
    assert clusters_answering(q) == (["eu1", "us1"], [])
