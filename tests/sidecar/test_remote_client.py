"""The Rust ``RemoteReadClient`` seen from Python (``rust/store/src/remote_client.rs``),
checked with the independent protobuf stubs and remote-read client of
``tests/support``: the request it sends, the messages it makes from Prometheus
2.42's answers (live, and recorded and served cut anywhere by a loopback
server), the one-piece SAMPLES answer, and the errors it raises."""

from __future__ import annotations

import http.server
import random
import threading
import urllib.request
from pathlib import Path

import cramjam
import pytest

from support import protos, remote_read
from support.prometheus import free_port
from support.storeclient import EQ, NEQ, RE
from support.tsdb import EXTERNAL, prometheus
from thanos_rs._core import RemoteReadClient, SeriesStream
from thanos_rs.chunkenc import decode_xor
from thanos_rs.errors import CorruptFrameError, PrometheusError, StoreError, ThanosRsError

pytestmark = pytest.mark.prometheus

GOLDEN = (Path(__file__).parents[1] / "testdata/golden/prom242-remote-read.frames").read_bytes()
EXT = sorted(EXTERNAL.items())
SAMPLES = "application/x-protobuf"
STREAMED = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse"


def request(matchers, min_time=0, max_time=2**63 - 1, **fields) -> bytes:
    pb = protos.load()
    ms = [pb.types.LabelMatcher(type=t, name=n, value=v) for t, n, v in matchers]
    return pb.rpc.SeriesRequest(min_time=min_time, max_time=max_time, matchers=ms, **fields).SerializeToString()


def read_all(url: str, stream: SeriesStream, budget: int = 1 << 20) -> list:
    """Every message of one remote read, decoded; checks that no call but the
    last comes back empty."""
    answer = RemoteReadClient(url, "Thanos/test").read(stream)
    pb = protos.load()
    messages = []
    while batch := answer.next(budget):
        messages += batch
    return [pb.rpc.SeriesResponse.FromString(m).series for m in messages]


def assert_same_series(ours, theirs) -> None:
    """Our messages carry Prometheus's series with the external labels, chunk bytes unchanged."""
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        labels = {label.name: label.value for label in t.labels} | EXTERNAL
        assert [(label.name, label.value) for label in o.labels] == sorted(labels.items())
        assert [c.raw.data for c in o.chunks] == [c.data for c in t.chunks]
        assert [(c.min_time, c.max_time) for c in o.chunks] == [(c.min_time_ms, c.max_time_ms) for c in t.chunks]


class Recorded:
    """A loopback HTTP server answering every POST with ``answer``: a status,
    a content type and the body's pieces, each sent as one HTTP chunk (a
    Prometheus flushes each frame so). Keeps the requests it was sent."""

    def __init__(self) -> None:
        self.answer: tuple[int, str, list[bytes]] = (200, STREAMED, [])
        self.requests: list[tuple[str, dict, bytes]] = []
        recorded = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorded.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, content_type, pieces = recorded.answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in pieces:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorded():
    server = Recorded()
    yield server
    server.close()


def test_the_request_asks_for_streamed_chunks_first(recorded):
    stream = SeriesStream(request([(EQ, "cluster", "eu1"), (RE, "job", "a|b"), (NEQ, "x", "")], -10, 500), EXT, 7)
    assert read_all(recorded.url + "/", stream) == []
    ((path, headers, body),) = recorded.requests
    assert path == "/api/v1/read"
    assert (headers["content-encoding"], headers["content-type"], headers["x-prometheus-remote-read-version"],
            headers["user-agent"]) == ("snappy", "application/x-stream-protobuf", "0.1.0", "Thanos/test")
    pb = protos.load()
    req = pb.remote.ReadRequest.FromString(bytes(cramjam.snappy.decompress_raw(body)))
    assert list(req.accepted_response_types) == [pb.remote.ReadRequest.STREAMED_XOR_CHUNKS,
                                                 pb.remote.ReadRequest.SAMPLES]
    (q,) = req.queries
    assert (q.start_timestamp_ms, q.end_timestamp_ms) == (7, 500)
    assert [(m.type, m.name, m.value) for m in q.matchers] == [(RE, "job", "a|b"), (NEQ, "x", "")]


def test_a_live_answer_whatever_the_budget(prom):
    """Against Prometheus 2.42 cutting series into 1 KiB frames."""
    matchers = [(RE, "__name__", "node_.*|up")]
    theirs = list(remote_read.chunked_series(remote_read.fetch(prom.url, remote_read.read_request(matchers, 0, 2**62))))
    for budget in (1, 4096, 1 << 20):
        stream = SeriesStream(request(matchers), EXT, 0)
        assert_same_series(read_all(prom.url, stream, budget), theirs)
        assert stream.frames == len(theirs) > 24, "several frames a series"


def test_a_recorded_answer_however_it_is_cut(recorded):
    theirs = list(remote_read.chunked_series(GOLDEN))
    rnd = random.Random(3)
    for _ in range(10):
        cuts = sorted(rnd.sample(range(1, len(GOLDEN)), rnd.randint(1, 50)))
        recorded.answer = (200, STREAMED, [GOLDEN[a:b] for a, b in zip([0, *cuts], [*cuts, len(GOLDEN)])])
        stream = SeriesStream(request([(RE, "__name__", ".+")]), EXT, 0)
        assert_same_series(read_all(recorded.url, stream, rnd.choice([1, 1 << 20])), theirs)


def test_damaged_answers_raise_corrupt_frame_errors(recorded):
    flipped = bytearray(GOLDEN)
    flipped[len(GOLDEN) // 2] ^= 1
    recorded.answer = (200, STREAMED, [bytes(flipped)])
    with pytest.raises(CorruptFrameError, match="checksum mismatch") as e:
        read_all(recorded.url, SeriesStream(request([(RE, "__name__", ".+")]), EXT, 0))
    assert isinstance(e.value, StoreError) and e.value.error_type == "execution"
    recorded.answer = (200, STREAMED, [GOLDEN[:-1]])
    with pytest.raises(CorruptFrameError, match="unexpected EOF"):
        read_all(recorded.url, SeriesStream(request([(RE, "__name__", ".+")]), EXT, 0))


def test_a_samples_answer_matches_the_streamed_one(tmp_path, tsdb, recorded):
    """Prometheus before 2.13 answers remote read with whole samples; 2.42 still
    does when only SAMPLES is accepted, which gives a real body to serve."""
    pb = protos.load()
    matchers = [(RE, "__name__", "node_.*|up")]
    req = pb.remote.ReadRequest(accepted_response_types=[pb.remote.ReadRequest.SAMPLES])
    q = req.queries.add(start_timestamp_ms=0, end_timestamp_ms=2**62)
    q.matchers.add(type=RE, name="__name__", value="node_.*|up")
    body = bytes(cramjam.snappy.compress_raw(req.SerializeToString()))
    with prometheus(tmp_path, tsdb) as prom:
        http = urllib.request.Request(f"{prom.url}/api/v1/read", data=body,
                                      headers={"Content-Encoding": "snappy", "Content-Type": SAMPLES})
        with urllib.request.urlopen(http, timeout=60) as r:
            assert r.headers["Content-Type"] == SAMPLES
            sampled = r.read()
        from_frames = read_all(prom.url, SeriesStream(request(matchers), EXT, 0))

    def samples(series_list) -> dict:
        out: dict = {}
        for s in series_list:
            key = tuple((label.name, label.value) for label in s.labels)
            for c in s.chunks:
                ts, vs = decode_xor(c.raw.data)
                out.setdefault(key, []).extend(zip(ts, vs))
        return out

    recorded.answer = (200, SAMPLES, [sampled[:100], sampled[100:]])
    stream = SeriesStream(request(matchers), EXT, 0)
    answer = RemoteReadClient(recorded.url, "Thanos/test").read(stream)
    assert not answer.streamed
    batch = answer.next(1)
    assert answer.next(1) == []
    from_samples = [pb.rpc.SeriesResponse.FromString(m).series for m in batch]
    assert all(len(decode_xor(c.raw.data)[0]) <= 120 for s in from_samples for c in s.chunks)
    assert all(c.min_time == decode_xor(c.raw.data)[0][0] for s in from_samples for c in s.chunks)
    assert len(samples(from_samples)) == 24
    assert samples(from_samples) == samples(from_frames)
    recorded.answer = (200, SAMPLES, [b"not snappy"])
    with pytest.raises(CorruptFrameError, match="decompress response"):
        read_all(recorded.url, SeriesStream(request(matchers), EXT, 0))


def test_http_errors_keep_their_status(prom, recorded):
    stream = SeriesStream(request([(EQ, "__name__", "up")]), EXT, 0)
    # Prometheus's own 404, for a path it does not serve.
    with pytest.raises(PrometheusError) as e:
        RemoteReadClient(prom.url + "/nowhere", "Thanos/test").read(stream)
    assert e.value.status == 404
    assert str(e.value) == "request failed with code 404 Not Found; msg 404 page not found\n"
    recorded.answer = (500, "text/plain", [b"remote read failed on purpose"])
    with pytest.raises(PrometheusError) as e:
        RemoteReadClient(recorded.url, "Thanos/test").read(stream)
    assert (e.value.status, str(e.value)) == (
        500, "request failed with code 500 Internal Server Error; msg remote read failed on purpose")
    recorded.answer = (200, "text/html", [b"<html>"])
    with pytest.raises(ThanosRsError, match="^not supported remote read content type: text/html$") as e:
        RemoteReadClient(recorded.url, "Thanos/test").read(stream)
    assert not isinstance(e.value, PrometheusError)


def test_an_unreachable_prometheus_has_status_0():
    stream = SeriesStream(request([(EQ, "__name__", "up")]), EXT, 0)
    with pytest.raises(PrometheusError, match="^send request: .*onnection refused") as e:
        RemoteReadClient(f"http://127.0.0.1:{free_port()}", "Thanos/test").read(stream)
    assert e.value.status == 0
