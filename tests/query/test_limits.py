"""Every PromQL query is bounded by one deadline, from its arrival: waiting
for one of the ``--query.max-concurrent`` slots, fetching from the stores and
evaluating all count against it; and a query whose client goes away stops at
once, freeing its slot and the CPU."""

from __future__ import annotations

import http.client
import os
import threading
import time
import urllib.parse

import pytest

from support import datasets
from support.components import querier
from support.storeapi import FakeStore, Faults

# Starts querier processes and waits on real timers: `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

DATA = datasets.monitoring(hours=1, jobs=1, instances=2)
T = DATA.start + 1800
LABELS = {"cluster": "eu1", "replica": "0"}

#: About 8 s of evaluation alone on the CI machine, in little memory: a day of
#: 1 s steps under each of a month of minute steps. It needs no store.
HEAVY = "sum_over_time(sum_over_time(timestamp(vector(1))[1d:1s])[30d:1m])"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (``/proc/<pid>/stat``)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(q, params: dict) -> tuple[float, int, dict]:
    started = time.monotonic()
    status, body = q.request("/api/v1/query", params)
    return time.monotonic() - started, status, body


def test_one_deadline_covers_fetching_and_evaluating(tmp_path):
    # The store takes 2 of the 3 seconds; evaluation gets what is left, not 3 more.
    with FakeStore(DATA.series, LABELS, faults=Faults(hang=2.0)) as slow:
        with querier(tmp_path, [slow.address], "--query.timeout=3s") as q:
            took, status, body = timed(q, {"query": f"count(up) + {HEAVY}", "time": T})
            assert (status, body["errorType"]) == (503, "timeout"), body
            assert body["error"] == "query timed out in expression evaluation"
            assert took < 4.5, took


def test_a_queued_query_waits_no_longer_than_its_deadline(tmp_path):
    with FakeStore(DATA.series, LABELS) as store, querier(tmp_path, [store.address], "--query.max-concurrent=1") as q:
        heavy = threading.Thread(target=q.request, args=("/api/v1/query", {"query": HEAVY, "timeout": "6s"}))
        heavy.start()
        time.sleep(0.5)
        took, status, body = timed(q, {"query": "up", "time": T, "timeout": "1s"})
        assert (status, body["errorType"], body["error"]) == (503, "timeout", "query timed out in query queue"), body
        assert took < 2.0, took
        heavy.join()
        # The slot is free again.
        assert len(q.api("/api/v1/query", {"query": "up", "time": T})["result"]) == 2


def test_a_client_that_goes_away_cancels_its_query(tmp_path):
    with FakeStore(DATA.series, LABELS) as store, querier(tmp_path, [store.address], "--query.max-concurrent=1") as q:
        conn = http.client.HTTPConnection("127.0.0.1", q.http_port, timeout=30)
        conn.request("GET", "/api/v1/query?" + urllib.parse.urlencode({"query": HEAVY}))
        time.sleep(1.0)
        conn.close()  # the client hangs up; the query would run ~8 s more
        time.sleep(0.5)
        cpu_before = cpu_seconds(q.proc.pid)

        # Its slot (the only one) is free at once...
        took, status, body = timed(q, {"query": "up", "time": T, "timeout": "3s"})
        assert status == 200 and len(body["data"]["result"]) == 2, body
        assert took < 1.5, took
        # ...and its evaluation no longer burns CPU.
        time.sleep(2.0)
        assert cpu_seconds(q.proc.pid) - cpu_before < 1.0
