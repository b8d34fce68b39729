"""``python -m thanos_rs sidecar`` as a process: runs in the foreground, stops
cleanly and quickly on SIGINT and SIGTERM, logs as Thanos does in either
format, serves gRPC over TLS when given a certificate, and refuses Thanos flags
it does not implement."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import grpc
import pytest

from support.components import sidecar
from support.storeclient import EQ, StoreClient
from support.tsdb import prometheus

pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def prom(tmp_path_factory, tsdb):
    with prometheus(tmp_path_factory.mktemp("app"), tsdb) as p:
        yield p


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_runs_in_the_foreground_until_signalled(tmp_path, prom, sig):
    side = sidecar(tmp_path, prom.url).start()
    client = StoreClient(side.grpc_address)
    # A long stream is open when the signal arrives.
    call = client.store.Series(client.series_request([(EQ, "__name__", "node_memory_used_bytes")]))
    next(call)
    started = time.monotonic()
    assert side.stop(sig) == 0
    assert time.monotonic() - started < 10
    logs = side.logs()
    assert f"caught signal. Exiting. signal={sig.name.lower()[3:]}" in logs
    assert "msg=exiting" in logs
    client.close()


def test_logfmt_lines_look_like_thanos(tmp_path, prom):
    with sidecar(tmp_path, prom.url, "--log.level=debug") as side:
        pass
    line = next(x for x in side.logs().splitlines() if "starting sidecar" in x)
    assert line.startswith("level=info ts=")
    assert " caller=app.py:" in line and f'msg="starting sidecar prometheus_url={prom.url}"' in line


def test_json_logs_and_level_filter(tmp_path, prom):
    with sidecar(tmp_path, prom.url, "--log.format=json") as side:
        StoreClient(side.grpc_address).series([(EQ, "__name__", "up")])
    lines = [json.loads(x) for x in side.logs().splitlines()]
    assert all({"level", "ts", "caller", "msg"} <= x.keys() for x in lines)
    assert any(x["msg"].startswith("starting sidecar") and x["level"] == "info" for x in lines)
    with sidecar(tmp_path, prom.url, "--log.level=error") as quiet:
        pass
    assert "level=info" not in quiet.logs() and "starting sidecar" not in quiet.logs()


def test_tls(tmp_path, prom):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    with sidecar(tmp_path, prom.url, f"--grpc-server-tls-cert={cert}", f"--grpc-server-tls-key={key}") as side:
        secure = StoreClient(side.grpc_address, grpc.ssl_channel_credentials(cert.read_bytes()))
        assert len(secure.series([(EQ, "__name__", "up")])) == 12
        secure.close()
        plain = StoreClient(side.grpc_address)
        with pytest.raises(grpc.RpcError) as e:
            plain.info()
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        plain.close()


@pytest.mark.parametrize(
    "flag, reason",
    [
        ("--prometheus.http-client-file=client.yml", "Prometheus is reached without client configuration"),
        ("--reloader.method=signal", "only the HTTP reload method is implemented"),
        ("--no-such-flag", "unknown long flag '--no-such-flag'"),
    ],
)
def test_unsupported_flags_are_refused(flag, reason):
    out = subprocess.run([sys.executable, "-m", "thanos_rs", "sidecar", flag], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert reason in out.stderr


def test_busy_port_is_a_clean_error(tmp_path, prom):
    with sidecar(tmp_path, prom.url) as first:
        second = sidecar(tmp_path, prom.url, f"--grpc-address={first.grpc_address}").start(wait=False)
        assert second.proc.wait(timeout=30) == 1
        assert "cannot start" in second.logs() and first.grpc_address in second.logs()
        second.stop()
