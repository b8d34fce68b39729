"""Chunks written by a real Prometheus 2.42: decoded exactly, re-encoded to the
same bytes."""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path

from support import anchors, remote_read
from thanos_rs.chunkenc import decode_xor, decode_xor_many, encode_xor

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
GOLDEN = TESTDATA / "golden"

SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+) (\S+)$")


def om_samples(text: str) -> dict[tuple, list[tuple[int, int]]]:
    """Series of the recorder's OpenMetrics text: labels -> [(ms, value bits)]."""
    out: dict[tuple, list[tuple[int, int]]] = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        name, labels, value, ts = m.groups()
        key = (("__name__", name),) + tuple(sorted(re.findall(r'(\w+)="([^"]*)"', labels)))
        v = float(value)
        bits = struct.unpack("<Q", struct.pack("<d", v))[0]
        out.setdefault(key, []).append((round(float(ts) * 1000), bits))
    return out


def bits(values) -> list[int]:
    return list(struct.unpack(f"<{len(values)}Q", bytes(memoryview(values))))


def test_decodes_prometheus_remote_read_chunks_exactly():
    want = om_samples((GOLDEN / "prom242-remote-read.om").read_text())
    body = (GOLDEN / "prom242-remote-read.frames").read_bytes()
    seen = {}
    for series in remote_read.chunked_series(body):
        key = tuple((l.name, l.value) for l in series.labels)
        chunks = [c.data for c in series.chunks]
        assert all(c.type == 1 for c in series.chunks)  # Prometheus's XOR
        counts, ts, vs = decode_xor_many(chunks)
        assert list(ts) == [t for t, _ in want[key]]
        got_bits = bits(vs)
        for (t, w), g in zip(want[key], got_bits):
            # Prometheus keeps NaN payloads but the OpenMetrics parser may not give
            # the canonical NaN; compare NaNs as NaNs, everything else bit for bit.
            if math.isnan(struct.unpack("<d", struct.pack("<Q", w))[0]):
                assert math.isnan(struct.unpack("<d", struct.pack("<Q", g))[0]), t
            else:
                assert g == w, t
        for c, chunk, n in zip(series.chunks, chunks, counts):
            assert (c.min_time_ms, c.max_time_ms) == (decode_xor(chunk)[0][0], decode_xor(chunk)[0][n - 1])
        seen[key] = len(chunks)
    assert set(seen) == set(want)
    assert sum(seen.values()) > 50


def test_reencodes_prometheus_remote_read_chunks_byte_for_byte():
    body = (GOLDEN / "prom242-remote-read.frames").read_bytes()
    n = 0
    for series in remote_read.chunked_series(body):
        for c in series.chunks:
            ts, vs = decode_xor(c.data)
            assert encode_xor(ts, vs) == c.data
            n += 1
    assert n > 50


def anchor_samples() -> list[tuple[list[int], list[float]]]:
    """The generator of tests/testdata/anchors/README.md."""
    state = 42
    mask = (1 << 64) - 1

    def nxt() -> int:
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        return state >> 11

    out = []
    for kind in range(3):
        for c in range(1000):
            t, v = 1_700_000_000_000 + c * 120 * 15_000, 1000.0
            ts, vs = [], []
            for _ in range(120):
                jitter = nxt() % 5 - 2
                if kind == 0:
                    v += nxt() % 100
                elif kind == 1:
                    v += (nxt() / 2**53 - 0.5) * 10
                ts.append(t + jitter)
                vs.append(v)
                t += 15_000
            out.append((ts, vs))
    return out


def test_anchor_chunks_from_prometheus_encoder():
    chunks, want = anchors.load(), anchor_samples()
    assert len(chunks) == 3000
    counts, ts, vs = decode_xor_many(chunks)
    assert list(counts) == [120] * 3000
    assert list(ts) == [t for w in want for t in w[0]]
    assert list(vs) == [v for w in want for v in w[1]]
    for chunk, (wt, wv) in zip(chunks[::97], want[::97]):
        assert encode_xor(wt, wv) == chunk
