"""The Rust ``SeriesStream`` seen from Python, checked with the independent
protobuf stubs and remote-read client of ``tests/support``: the read request it
builds, the messages it makes from Prometheus 2.42's recorded frames however the
body is cut, the SAMPLES fallback on a real SAMPLES answer, and the errors it
raises for damaged input."""

from __future__ import annotations

import random
import urllib.request
from pathlib import Path

import cramjam
import pytest

from support import protos, remote_read
from support.storeclient import EQ, NEQ, RE
from support.tsdb import EXTERNAL, prometheus
from thanos_rs._core import SeriesStream
from thanos_rs.chunkenc import decode_xor
from thanos_rs.errors import BadDataError, CorruptFrameError, StoreError

GOLDEN = (Path(__file__).parents[1] / "testdata/golden/prom242-remote-read.frames").read_bytes()
EXT = sorted(EXTERNAL.items())


def request(matchers, min_time=0, max_time=2**63 - 1, **fields) -> bytes:
    pb = protos.load()
    ms = [pb.types.LabelMatcher(type=t, name=n, value=v) for t, n, v in matchers]
    return pb.rpc.SeriesRequest(min_time=min_time, max_time=max_time, matchers=ms, **fields).SerializeToString()


def decode(messages: list[bytes]) -> list:
    pb = protos.load()
    return [pb.rpc.SeriesResponse.FromString(m).series for m in messages]


def test_read_request_asks_for_streamed_chunks_first():
    stream = SeriesStream(request([(EQ, "cluster", "eu1"), (RE, "job", "a|b"), (NEQ, "x", "")], -10, 500), EXT, 7)
    assert stream.matches and not stream.skip_chunks
    assert stream.time_range == (7, 500)
    pb = protos.load()
    req = pb.remote.ReadRequest.FromString(bytes(cramjam.snappy.decompress_raw(stream.read_request())))
    assert list(req.accepted_response_types) == [pb.remote.ReadRequest.STREAMED_XOR_CHUNKS,
                                                 pb.remote.ReadRequest.SAMPLES]
    (q,) = req.queries
    assert (q.start_timestamp_ms, q.end_timestamp_ms) == (7, 500)
    assert [(m.type, m.name, m.value) for m in q.matchers] == [(RE, "job", "a|b"), (NEQ, "x", "")]


def test_golden_frames_however_the_body_is_cut():
    want_series = list(remote_read.chunked_series(GOLDEN))
    rnd = random.Random(3)
    for _ in range(20):
        stream = SeriesStream(request([(RE, "__name__", ".+")]), EXT, 0)
        cuts = sorted(rnd.sample(range(1, len(GOLDEN)), rnd.randint(1, 50)))
        messages = []
        for a, b in zip([0, *cuts], [*cuts, len(GOLDEN)]):
            messages += stream.feed(GOLDEN[a:b])
        messages += stream.finish()
        got = decode(messages)
        assert len(got) == len(want_series) == stream.frames
        for ours, theirs in zip(got, want_series):
            labels = {label.name: label.value for label in theirs.labels} | EXTERNAL
            assert [(label.name, label.value) for label in ours.labels] == sorted(labels.items())
            assert [c.raw.data for c in ours.chunks] == [c.data for c in theirs.chunks]
            assert [(c.min_time, c.max_time) for c in ours.chunks] == [
                (c.min_time_ms, c.max_time_ms) for c in theirs.chunks
            ]


def test_damaged_bodies_raise_corrupt_frame_errors():
    flipped = bytearray(GOLDEN)
    flipped[len(GOLDEN) // 2] ^= 1
    stream = SeriesStream(request([(RE, "__name__", ".+")]), EXT, 0)
    with pytest.raises(CorruptFrameError, match="checksum mismatch") as e:
        stream.feed(bytes(flipped))
    assert isinstance(e.value, StoreError) and e.value.error_type == "execution"
    stream = SeriesStream(request([(RE, "__name__", ".+")]), EXT, 0)
    stream.feed(GOLDEN[:-1])
    with pytest.raises(CorruptFrameError, match="unexpected EOF"):
        stream.finish()


def test_bad_requests_raise_bad_data():
    with pytest.raises(BadDataError, match="unmarshal SeriesRequest"):
        SeriesStream(b"\x0a\xff", EXT, 0)
    with pytest.raises(BadDataError, match=r"no matchers specified \(excluding external labels\)"):
        SeriesStream(request([(EQ, "replica", "0")]), EXT, 0)
    assert not SeriesStream(request([(EQ, "replica", "1")]), EXT, 0).matches


@pytest.mark.prometheus
def test_samples_fallback_matches_the_streamed_answer(tmp_path, tsdb):
    """Prometheus before 2.13 answers remote read with whole samples; 2.42 still
    does when only SAMPLES is accepted, which gives a real body to convert."""
    pb = protos.load()
    req = pb.remote.ReadRequest(accepted_response_types=[pb.remote.ReadRequest.SAMPLES])
    req.queries.add(start_timestamp_ms=0, end_timestamp_ms=2**62).matchers.add(type=RE, name="__name__",
                                                                               value="node_.*|up")
    body = bytes(cramjam.snappy.compress_raw(req.SerializeToString()))
    with prometheus(tmp_path, tsdb) as prom:
        http = urllib.request.Request(f"{prom.url}/api/v1/read", data=body,
                                      headers={"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"})
        with urllib.request.urlopen(http, timeout=60) as r:
            assert r.headers["Content-Type"] == "application/x-protobuf"
            sampled = r.read()
        streamed = remote_read.fetch(prom.url, remote_read.read_request([(RE, "__name__", "node_.*|up")], 0, 2**62))

    def samples(series_list) -> dict:
        out: dict = {}
        for s in series_list:
            key = tuple((label.name, label.value) for label in s.labels)
            for c in s.chunks:
                ts, vs = decode_xor(c.raw.data)
                out.setdefault(key, []).extend(zip(ts, vs))
        return out

    fallback = SeriesStream(request([(RE, "__name__", "node_.*|up")]), EXT, 0)
    from_samples = decode(fallback.feed_samples(sampled))
    assert all(len(decode_xor(c.raw.data)[0]) <= 120 for s in from_samples for c in s.chunks)
    assert all(c.min_time == decode_xor(c.raw.data)[0][0] for s in from_samples for c in s.chunks)
    stream = SeriesStream(request([(RE, "__name__", "node_.*|up")]), EXT, 0)
    from_frames = decode(stream.feed(streamed) + stream.finish())
    assert len(samples(from_samples)) == 24
    assert samples(from_samples) == samples(from_frames)
    with pytest.raises(CorruptFrameError, match="decompress response"):
        fallback.feed_samples(b"not snappy")
