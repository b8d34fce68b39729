"""Stores that fail: with partial response the answer comes from the others
with a warning naming the failed store; without it the query fails with
Thanos's error type and status (422 execution); either way the querier
keeps serving."""

from __future__ import annotations

import grpc
import pytest

from support import datasets
from support.components import querier
from support.storeapi import FakeStore, Faults, wait_until
from thanos_rs.query.endpoints import UNHEALTHY_MESSAGE

# Starts querier processes and waits on real timers: `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

DATA = datasets.monitoring(hours=1, jobs=1, instances=2)
T = DATA.start + 1800
GOOD = {"cluster": "eu1", "replica": "0"}
BAD = {"cluster": "us1", "replica": "0"}


def run_case(tmp_path, faults: Faults, *flags: str, expect: str) -> None:
    with FakeStore(DATA.series, GOOD) as good, FakeStore(DATA.series, BAD, faults=faults) as bad:
        with querier(tmp_path, [good.address, bad.address], *flags) as q:
            params = {"query": "count by (cluster) (up)", "time": T}
            status, body = q.request("/api/v1/query", {**params, "partial_response": "true"})
            assert status == 200, body
            assert [s["metric"] for s in body["data"]["result"]] == [{"cluster": "eu1"}]
            (warning,) = body["warnings"]
            assert bad.address in warning and expect in warning, warning

            status, body = q.request("/api/v1/query", {**params, "partial_response": "false"})
            assert (status, body["errorType"]) == (422, "execution"), body
            assert bad.address in body["error"] and expect in body["error"], body["error"]

            # The metadata APIs degrade the same way.
            status, body = q.request("/api/v1/series", {"match[]": "up", "partial_response": "false"})
            assert (status, body["errorType"]) == (422, "execution"), body
            status, body = q.request("/api/v1/series", {"match[]": "up"})
            assert status == 200 and body["warnings"], body

            # Still serving, and the healthy store still answers.
            ok = q.api("/api/v1/query", {"query": 'count(up{cluster="eu1"})', "time": T})
            assert ok["result"][0]["value"][1] == "2"


def test_store_failing_mid_stream(tmp_path):
    run_case(tmp_path, Faults(fail_after=0), expect="code = Unavailable")


def test_store_refusing_calls(tmp_path):
    run_case(tmp_path, Faults(fail=grpc.StatusCode.INTERNAL), expect="code = Internal")


def test_store_sending_a_corrupt_frame(tmp_path):
    run_case(tmp_path, Faults(corrupt=True), expect="decode SeriesResponse")


def test_store_that_hangs(tmp_path):
    run_case(tmp_path, Faults(hang=3.0), "--store.response-timeout=500ms", expect="failed to receive any data in 500ms")


def test_store_that_went_away(tmp_path):
    """A store that stops fails the calls made to it; once an Info poll finds
    it down it is no longer called, but still counted: never a silently
    smaller answer."""
    with FakeStore(DATA.series, GOOD) as good:
        bad = FakeStore(DATA.series, BAD).start()
        with querier(tmp_path, [good.address, bad.address]) as q:
            assert len(q.api("/api/v1/stores")["sidecar"]) == 2
            bad.stop()

            def answer() -> str:
                status, body = q.request("/api/v1/query", {"query": "count(up)", "time": T})
                assert status == 200, body
                assert body["data"]["result"][0]["value"][1] == "2"  # the good store's two series
                (warning,) = body["warnings"]
                assert bad.address in warning
                return warning

            assert "connect" in answer()  # called, and refused
            wait_until(lambda: any(s["lastError"] == UNHEALTHY_MESSAGE for s in q.api("/api/v1/stores")["sidecar"]),
                       timeout=15)
            assert "endpoint is down" in answer()  # not called, still counted
            (down,) = [s for s in q.api("/api/v1/stores")["sidecar"] if s["lastError"]]
            assert down["name"] == bad.address and down["labelSets"] == [BAD]


def test_store_warnings_are_passed_on(tmp_path):
    with FakeStore(DATA.series, GOOD, faults=Faults(warnings=["not all blocks could be read"])) as s:
        with querier(tmp_path, [s.address]) as q:
            status, body = q.request("/api/v1/query", {"query": "up", "time": T})
            assert status == 200 and body["warnings"] == ["not all blocks could be read"]


def test_no_matching_store_warns(tmp_path):
    with FakeStore(DATA.series, GOOD) as s:
        with querier(tmp_path, [s.address]) as q:
            status, body = q.request("/api/v1/query", {"query": 'up{cluster="mars"}', "time": T})
            assert status == 200 and body["data"]["result"] == []
            assert body["warnings"] == ["No StoreAPIs matched for this query"]


def test_series_with_unreadable_chunks_are_left_out_with_a_warning(tmp_path):
    """A native-histogram chunk or one of an unknown encoding costs only
    its series, with a warning that counts them; the store's other series
    still answer, partial response or not (the whole store's answer was lost)."""
    odd = {("instance", "host0:9100"): "histogram"}
    with FakeStore(DATA.series, GOOD, unreadable=odd) as eu, \
            FakeStore(DATA.series, BAD, unreadable={("instance", "host1:9100"): "unknown"}) as us:
        with querier(tmp_path, [eu.address, us.address]) as q:
            for partial in ("true", "false"):
                params = {"query": "count by (cluster, instance) (up)", "time": T, "partial_response": partial}
                status, body = q.request("/api/v1/query", params)
                assert status == 200, body
                assert sorted((s["metric"]["cluster"], s["metric"]["instance"]) for s in body["data"]["result"]) == [
                    ("eu1", "host1:9100"), ("us1", "host0:9100")]
                assert sorted(body["warnings"]) == [
                    '1 series left out: thanos_rs cannot read HISTOGRAM chunks '
                    '(e.g. {__name__="up", cluster="eu1", instance="host0:9100", job="job0", replica="0"})',
                    '1 series left out: thanos_rs cannot read chunks of unknown encoding 7 '
                    '(e.g. {__name__="up", cluster="us1", instance="host1:9100", job="job0", replica="0"})',
                ], body["warnings"]
