"""Round trips of thanos_rs.chunkenc over the cases that break XOR codecs."""

from __future__ import annotations

import array
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thanos_rs.chunkenc import SampleArray, decode_xor, decode_xor_many, encode_xor
from thanos_rs.errors import BadDataError, CorruptChunkError, ThanosRsError

STALE_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]


def bits_of(values) -> list[int]:
    return [struct.unpack("<Q", struct.pack("<d", v))[0] for v in values]


def assert_round_trip(ts: list[int], vs: list[float]) -> bytes:
    chunk = encode_xor(ts, vs)
    dts, dvs = decode_xor(chunk)
    assert list(dts) == ts
    assert bits_of(dvs) == bits_of(vs)
    counts, mts, mvs = decode_xor_many([chunk, chunk])
    assert list(counts) == [len(ts)] * 2
    assert list(mts) == ts * 2
    assert bits_of(mvs) == bits_of(vs) * 2
    return chunk


# Values: every IEEE-754 double, plus the ones codecs get wrong.
special = st.sampled_from([math.nan, STALE_NAN, math.inf, -math.inf, -0.0, 0.0, 5e-324, 1.7976931348623157e308])
value = st.one_of(special, st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**53), 2**53).map(float))
# Timestamps: steady scrapes, jitter, and jumps of any size in either direction.
step = st.one_of(
    st.just(15_000),
    st.integers(14_990, 15_010),
    st.integers(-(2**40), 2**40),
    st.integers(-(2**62), 2**62),
)


@st.composite
def series(draw, min_size=1, max_size=300):
    start = draw(st.integers(-(2**62), 2**62))
    steps = draw(st.lists(step, min_size=min_size - 1, max_size=max_size - 1))
    ts = [start]
    for d in steps:
        ts.append((ts[-1] + d + 2**63) % 2**64 - 2**63)  # wrap like int64
    repeat = draw(st.booleans())
    vs = draw(st.lists(value, min_size=len(ts), max_size=len(ts)))
    if repeat:  # long runs of one value exercise the 1-bit "unchanged" code
        vs = [vs[0]] * len(ts)
    return ts, vs


@settings(max_examples=300, deadline=None)
@given(series())
def test_round_trips_any_samples(data):
    assert_round_trip(*data)


@pytest.mark.parametrize("width", [14, 17, 20])
def test_every_delta_of_delta_bucket_edge(width):
    half = 1 << (width - 1)
    for dod in (half, half + 1, -(half - 1), -half, -(half + 1), 1, -1, 0):
        ts = [1_000_000, 1_015_000, 1_030_000 + dod, 1_045_000 + 2 * dod]
        assert_round_trip(ts, [1.0, 2.0, 3.0, 4.0])


def test_special_values_keep_their_bits():
    vs = [math.nan, STALE_NAN, math.inf, -math.inf, -0.0, 0.0, STALE_NAN, 1.0, 1.0, 5e-324]
    chunk = assert_round_trip([i * 15_000 for i in range(len(vs))], vs)
    _, dvs = decode_xor(chunk)
    assert bits_of([dvs[1]]) == [0x7FF0000000000002]


def test_one_sample_and_the_largest_chunk():
    assert_round_trip([-5], [STALE_NAN])
    n = 65535
    chunk = assert_round_trip(list(range(0, 15_000 * n, 15_000)), [float(i % 7) for i in range(n)])
    assert chunk[:2] == b"\xff\xff"
    with pytest.raises(BadDataError, match="at most 65535"):
        encode_xor(list(range(n + 1)), [0.0] * (n + 1))


def test_empty_chunk():
    assert encode_xor([], []) == b"\x00\x00"
    ts, vs = decode_xor(b"\x00\x00")
    assert len(ts) == len(vs) == 0


def test_sample_arrays_are_buffers_in_native_order():
    chunk = encode_xor([1, 2, 3], [0.5, 1.5, 2.5])
    ts, vs = decode_xor(chunk)
    assert isinstance(ts, SampleArray)
    assert (ts.typecode, vs.typecode, ts.itemsize) == ("q", "d", 8)
    assert memoryview(ts).format == "q" and memoryview(vs).format == "d"
    assert array.array("q", bytes(ts)).tolist() == [1, 2, 3]
    assert array.array("d", bytes(vs)).tolist() == [0.5, 1.5, 2.5]
    assert ts.tolist() == [1, 2, 3] and vs[-1] == 2.5
    with pytest.raises(IndexError):
        ts[3]
    with pytest.raises(TypeError):
        memoryview(ts)[0] = 7  # read-only


def test_encode_accepts_buffers_and_sequences_alike():
    ts, vs = [10, 20], [1.0, 2.0]
    want = encode_xor(ts, vs)
    assert encode_xor(array.array("q", ts), array.array("d", vs)) == want
    assert encode_xor(tuple(ts), tuple(vs)) == want
    assert encode_xor(*decode_xor(want)) == want


def test_mismatched_lengths_are_bad_data():
    with pytest.raises(BadDataError, match="2 timestamps but 1 values"):
        encode_xor([1, 2], [1.0])


def test_errors_are_thanos_rs_errors():
    with pytest.raises(CorruptChunkError) as info:
        decode_xor(b"\x00")
    assert isinstance(info.value, ThanosRsError)
    assert isinstance(info.value, ValueError)
