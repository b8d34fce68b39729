"""``python -m thanos_rs query`` as a process: ready on /-/ready, stops
cleanly on SIGINT and SIGTERM within the contract's 10 seconds, refuses bad
flags and busy ports with a clear message."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

from support.components import Component, querier


# Starts querier processes and waits on real timers: `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_on_signal(tmp_path, sig):
    q = querier(tmp_path, []).start()
    started = time.monotonic()
    assert q.stop(sig) == 0
    assert time.monotonic() - started < 10
    assert "exiting" in q.logs()


def test_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        c = Component("query", [], tmp_path)
        c.args[0] = f"--http-address=127.0.0.1:{port}"
        c.start(wait=False)
        code = c.proc.wait(timeout=30)
        c.stop()
        assert code != 0
        assert "cannot start" in c.logs() and "address already in use" in c.logs().lower()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--endpoint.sd-config=x"], "flag --endpoint.sd-config is not supported by thanos_rs"),
        (["--store.sd-files=x.txt"], 'path name "x.txt" is not valid for file discovery'),
        (["--store-strict=dns+localhost:1"], "uses SD and that is not permitted under strict mode"),
        (["--query.timeout=soon"], "not a valid duration"),
        (["--selector-label=bad"], 'is not name="value"'),
        (["--no-such-flag"], "unknown long flag '--no-such-flag'"),
    ],
)
def test_bad_flags_are_refused(flags, message):
    r = subprocess.run([sys.executable, "-m", "thanos_rs", "query", *flags], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert message in r.stderr


def test_max_samples_flag_limits_queries(tmp_path):
    """``--query.max-samples`` (CONTRACT: Prometheus's name) is taken from the
    command line: a query holding more samples fails with 422 execution."""
    with querier(tmp_path, [], "--query.max-samples=100") as q:
        status, body = q.request("/api/v1/query_range", {"query": "1", "start": 0, "end": 200, "step": 1})
        assert (status, body["errorType"]) == (422, "execution"), body
        assert "too many samples" in body["error"]
        assert q.request("/api/v1/query_range", {"query": "1", "start": 0, "end": 50, "step": 1})[0] == 200


def test_features_the_engine_always_has_are_accepted_with_thanos_warning(tmp_path):
    """``--enable-feature`` naming a PromQL feature the engine always has runs,
    warning as Thanos v0.26 does (it was refused); ``@`` and negative offsets
    answer either way."""
    features = ("--enable-feature=promql-at-modifier", "--enable-feature=promql-negative-offset")
    with querier(tmp_path, [], *features) as q:
        assert q.api("/api/v1/query", {"query": "count_over_time(vector(1)[1m:] @ 100 offset -1m)", "time": 0})["result"]
        logs = q.logs()
    for name in ("promql-at-modifier", "promql-negative-offset"):
        assert f'msg="This option for --enable-feature is now permanently enabled and therefore a no-op. option={name}"' in logs
