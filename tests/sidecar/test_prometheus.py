"""The sidecar and its Prometheus over time: external labels read at start and
followed by the heartbeat, a Prometheus without them refused, Prometheus
stopped and restarted under a running sidecar, remote-read answers damaged
on the way (through a proxy in front of a real Prometheus) turned into gRPC
errors while the sidecar keeps serving, and a cancelled call that stops
reading from Prometheus."""

from __future__ import annotations

import http.server
import socket
import struct
import threading
import time
import urllib.request

import grpc
import pytest

from support.components import sidecar
from support.prometheus import free_port
from support import protos
from support.remote_read import crc32c, frame_header
from support.storeapi import wait_until
from support.storeclient import EQ, RE, StoreClient
from support.tsdb import EXTERNAL, prometheus
from thanos_rs.sidecar.prometheus import CONFIRM_AFTER

pytestmark = pytest.mark.prometheus

FAST = ("--prometheus.get_config_interval=1s", "--prometheus.get_config_timeout=1s")
UP = [(EQ, "__name__", "up")]


def ready(component) -> bool:
    try:
        with urllib.request.urlopen(f"{component.url}/-/ready", timeout=5) as r:
            return r.status == 200
    except urllib.error.HTTPError as e:
        assert e.code == 503 and e.read().startswith(b"NOT OK")
        return False


def test_prometheus_stopped_and_restarted_under_the_sidecar(tmp_path, tsdb):
    prom = prometheus(tmp_path, tsdb).start()
    try:
        with sidecar(tmp_path, prom.url, *FAST) as side:
            client = StoreClient(side.grpc_address)
            assert side.metric("thanos_sidecar_prometheus_up") == 1
            assert side.metric("thanos_status", check="ready", component="sidecar") == 1
            assert side.metric("thanos_status", check="healthy", component="sidecar") == 1
            assert client.series(UP)

            prom.stop()
            wait_until(lambda: not ready(side), timeout=10)
            assert side.metric("thanos_sidecar_prometheus_up") == 0
            assert side.metric("thanos_status", check="ready", component="sidecar") == 0
            # Unlike Thanos's sidecar, it keeps announcing what it had, so that
            # queriers count it (and warn) instead of silently leaving it out...
            info = client.info()
            assert info.HasField("store") and info.label_sets
            # ...and its calls fail, saying why.
            with pytest.raises(grpc.RpcError) as e:
                client.series(UP)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "query Prometheus" in e.value.details() and "connect" in e.value.details().lower()
            with pytest.raises(grpc.RpcError) as e:
                client.label_names()
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "heartbeat failed" in side.logs()

            prom.start()
            wait_until(lambda: ready(side), timeout=15)
            assert side.metric("thanos_sidecar_prometheus_up") == 1
            assert client.info().HasField("store")
            assert len(client.series(UP)) == 12
            client.close()
    finally:
        prom.stop()


@pytest.mark.parametrize("read_path", ["remote-read", "tsdb-path"])
def test_a_failed_read_makes_the_sidecar_unready_at_once(tmp_path, tsdb, read_path):
    """Without waiting for the next heartbeat (a minute here). On the direct
    read path the data directory would still answer: the sidecar asks
    Prometheus first, and says that it is down."""
    prom = prometheus(tmp_path, tsdb).start()
    flags = ["--prometheus.get_config_interval=60s"]
    if read_path == "tsdb-path":
        flags.append(f"--tsdb.path={prom.data}")
    try:
        with sidecar(tmp_path, prom.url, *flags) as side:
            client = StoreClient(side.grpc_address)
            assert ready(side)
            assert len(client.series(UP)) == 12
            prom.stop()
            # A read of Prometheus vouches for it this long: the probe above was one.
            time.sleep(CONFIRM_AFTER)
            with pytest.raises(grpc.RpcError) as e:
                client.series(UP)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "connect" in e.value.details().lower()
            assert not ready(side)
            assert side.metric("thanos_sidecar_prometheus_up") == 0
            with pytest.raises(grpc.RpcError) as e:
                client.label_names()
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
            if read_path == "tsdb-path":
                assert e.value.details().startswith("Prometheus is down: ")
                # Back as soon as a call finds Prometheus answering again.
                prom.start()
                assert len(client.series(UP)) == 12
                assert ready(side)
                assert side.metric("thanos_sidecar_prometheus_up") == 1
            client.close()
    finally:
        prom.stop()


def test_the_readiness_probe_asks_prometheus(tmp_path, tsdb):
    """Not ready as soon as Prometheus is gone, ready as soon as it is back,
    without a data call and without waiting for the heartbeat (a minute)."""
    prom = prometheus(tmp_path, tsdb).start()
    try:
        with sidecar(tmp_path, prom.url, "--prometheus.get_config_interval=60s", f"--tsdb.path={prom.data}") as side:
            assert ready(side)
            prom.stop()
            time.sleep(CONFIRM_AFTER)
            assert not ready(side)
            assert side.metric("thanos_sidecar_prometheus_up") == 0
            prom.start()
            assert ready(side)
            assert side.metric("thanos_sidecar_prometheus_up") == 1
    finally:
        prom.stop()


def test_external_label_changes_are_followed(tmp_path, tsdb):
    with prometheus(tmp_path, tsdb) as prom, sidecar(tmp_path, prom.url, *FAST) as side:
        client = StoreClient(side.grpc_address)
        prom.external_labels = {"cluster": "eu2", "replica": "0"}
        prom.write_config()
        urllib.request.urlopen(urllib.request.Request(f"{prom.url}/-/reload", method="POST"), timeout=10)

        def labels():
            return [(label.name, label.value) for label in client.info().label_sets[0].labels]

        wait_until(lambda: labels() == [("cluster", "eu2"), ("replica", "0")], timeout=10)
        assert {dict((label.name, label.value) for label in s.labels)["cluster"] for s in client.series(UP)} == {"eu2"}
        assert client.series([(EQ, "cluster", "eu1"), *UP]) == []
        assert any("successfully loaded prometheus external labels" in line and "eu2" in line
                   for line in side.logs().splitlines())

        # Labels removed from the config: refused, so not ready, until they return.
        prom.external_labels = {}
        prom.write_config()
        urllib.request.urlopen(urllib.request.Request(f"{prom.url}/-/reload", method="POST"), timeout=10)
        wait_until(lambda: not ready(side), timeout=10)
        assert side.metric("thanos_sidecar_prometheus_up") == 1
        assert "no external labels configured on Prometheus server" in side.logs()
        prom.external_labels = dict(EXTERNAL)
        prom.write_config()
        urllib.request.urlopen(urllib.request.Request(f"{prom.url}/-/reload", method="POST"), timeout=10)
        wait_until(lambda: ready(side), timeout=10)
        client.close()


def test_prometheus_without_external_labels_is_refused(tmp_path, tsdb):
    with prometheus(tmp_path, tsdb, external={}) as prom:
        side = sidecar(tmp_path, prom.url, *FAST).start(wait=False)
        assert side.proc.wait(timeout=30) == 1
        assert (
            "no external labels configured on Prometheus server, uniquely identifying external labels must be "
            "configured; see https://thanos.io/tip/thanos/storage.md#external-labels for details." in side.logs()
        )
        side.stop()


def test_sidecar_started_before_prometheus_waits_for_it(tmp_path, tsdb):
    port = free_port()
    side = sidecar(tmp_path, f"http://127.0.0.1:{port}", *FAST).start(wait=False)
    try:
        wait_until(lambda: _healthy(side), timeout=20)
        assert not ready(side)
        # No gRPC until the external labels are known.
        channel = grpc.insecure_channel(side.grpc_address)
        with pytest.raises(grpc.FutureTimeoutError):
            grpc.channel_ready_future(channel).result(timeout=1)
        channel.close()
        with prometheus(tmp_path, tsdb, port=port):
            side.wait_ready(timeout=20)
            client = StoreClient(side.grpc_address)
            assert len(client.series(UP)) == 12
            client.close()
    finally:
        assert side.stop() == 0


def _healthy(component) -> bool:
    try:
        with urllib.request.urlopen(f"{component.url}/-/healthy", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class DamagingProxy:
    """An HTTP proxy in front of a real Prometheus that damages remote-read
    answers as ``mode`` says: ``None`` passes everything through, "trickle"
    sends them a frame at a time and records in ``gave_up`` how many bytes
    of the body were sent when the client closed the connection."""

    #: Pause between frames in "trickle" mode.
    TRICKLE_PAUSE = 0.2

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode: str | None = None
        self.body_size = 0
        self.gave_up: int | None = None
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self.forward(None)

            def do_POST(self) -> None:
                self.forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def forward(self, body: bytes | None) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "content-encoding",
                                                                                   "x-prometheus-remote-read-version")}
                req = urllib.request.Request(proxy.upstream + self.path, data=body, headers=headers,
                                             method=self.command)
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        status, content_type, data = r.status, r.headers["Content-Type"], r.read()
                except urllib.error.HTTPError as e:
                    status, content_type, data = e.code, e.headers["Content-Type"], e.read()
                declared = None
                if self.path.startswith("/api/v1/read") and proxy.mode in ("trickle", "reset"):
                    (self.trickle if proxy.mode == "trickle" else self.reset)(content_type, data)
                    return
                if self.path.startswith("/api/v1/read"):
                    status, content_type, data, declared = proxy.damage(status, content_type, data)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(declared or len(data)))
                self.end_headers()
                self.wfile.write(data)
                if declared:
                    self.close_connection = True

            def trickle(self, content_type: str, data: bytes) -> None:
                """One HTTP chunk per frame, as Prometheus sends them, but slowly."""
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                proxy.body_size, sent = len(data), 0
                try:
                    while sent < len(data):
                        size, crc_at = frame_header(data, sent)
                        frame = data[sent:crc_at + 4 + size]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                        sent += len(frame)
                        time.sleep(proxy.TRICKLE_PAUSE)
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    proxy.gave_up = sent
                self.close_connection = True

            def reset(self, content_type: str, data: bytes) -> None:
                """What a client sees of a Prometheus killed while it still had
                bytes to read: a connection reset in the middle of the answer."""
                size, crc_at = frame_header(data, 0)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: crc_at + 4 + size + 7])
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def damage(self, status: int, content_type: str, data: bytes):
        """(status, content type, body, declared length or None)."""
        size, crc_at = frame_header(data, 0)
        second_frame = crc_at + 4 + size
        if self.mode == "flip":
            i = second_frame + 10
            return status, content_type, data[:i] + bytes([data[i] ^ 0x40]) + data[i + 1:], None
        if self.mode == "oversize":
            # A length of 2^35 for the second frame.
            return status, content_type, data[:second_frame] + b"\x80\x80\x80\x80\x80\x01" + data[second_frame:], None
        if self.mode == "garbage":
            payload = b"\x0a\xff\xff\xff"  # a field whose length runs past the end
            crc = crc32c(payload).to_bytes(4, "big")
            return status, content_type, data[:second_frame] + bytes([len(payload)]) + crc + payload, None
        if self.mode == "truncate":
            return status, content_type, data[: second_frame + 7], None
        if self.mode == "hang up":
            return status, content_type, data[: second_frame + 7], len(data)
        if self.mode == "error":
            return 500, "text/plain", b"remote read failed on purpose", None
        if self.mode == "content type":
            return status, "text/html", b"<html>", None
        return status, content_type, data, None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, tsdb):
    workdir = tmp_path_factory.mktemp("proxied")
    with prometheus(workdir, tsdb) as prom:
        proxy = DamagingProxy(prom.url)
        with sidecar(workdir, proxy.url) as side:
            client = StoreClient(side.grpc_address)
            yield proxy, side, client
            client.close()
        proxy.close()


@pytest.mark.parametrize(
    "mode, code, message",
    [
        ("flip", grpc.StatusCode.DATA_LOSS, "chunkedReader: corrupted frame; checksum mismatch"),
        ("oversize", grpc.StatusCode.DATA_LOSS,
         "chunkedReader: message size exceeded the limit 50000000 bytes; got: 34359738368 bytes"),
        ("garbage", grpc.StatusCode.DATA_LOSS, "next proto: unmarshal frame"),
        ("truncate", grpc.StatusCode.DATA_LOSS, "unexpected EOF"),
        ("hang up", grpc.StatusCode.UNAVAILABLE, "read response"),
        ("reset", grpc.StatusCode.UNAVAILABLE, "read response"),
        ("error", grpc.StatusCode.INTERNAL, "request failed with code 500 Internal Server Error; "
                                            "msg remote read failed on purpose"),
        ("content type", grpc.StatusCode.INTERNAL, "not supported remote read content type: text/html"),
    ],
)
def test_damaged_answers_are_errors_and_serving_goes_on(proxied, mode, code, message):
    proxy, side, client = proxied
    proxy.mode = mode
    try:
        with pytest.raises(grpc.RpcError) as e:
            client.series([(RE, "__name__", "node_.*")])
        assert e.value.code() == code
        assert message in e.value.details()
        assert e.value.details().startswith("query Prometheus: ")
    finally:
        proxy.mode = None
    assert side.proc.poll() is None
    assert ready(side)
    assert len(client.series([(RE, "__name__", "node_.*")])) == 12


def test_a_cancelled_call_stops_reading_from_prometheus(proxied):
    """The querier gives up (a deadline, a cancelled query): the sidecar closes
    its connection to Prometheus instead of reading the answer to its end."""
    proxy, side, client = proxied
    pb = protos.load()
    request = pb.rpc.SeriesRequest(min_time=0, max_time=2**62)
    request.matchers.add(type=RE, name="__name__", value="node_.*")
    channel = grpc.insecure_channel(side.grpc_address)
    series = channel.unary_stream("/thanos.Store/Series", request_serializer=None, response_deserializer=None)
    proxy.mode, proxy.gave_up = "trickle", None
    try:
        call = series(request.SerializeToString(), timeout=60)
        next(call)
        call.cancel()
        # The 12 series take 12 pauses to send; the proxy is told within a few.
        wait_until(lambda: proxy.gave_up is not None, timeout=12 * proxy.TRICKLE_PAUSE)
    finally:
        proxy.mode = None
        channel.close()
    assert 0 < proxy.gave_up < proxy.body_size
    assert side.proc.poll() is None and ready(side)
    assert len(client.series([(RE, "__name__", "node_.*")])) == 12
