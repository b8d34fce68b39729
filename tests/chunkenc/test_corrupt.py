"""Damaged chunks: every truncation and many random bit flips of real chunks
give a CorruptChunkError or a valid decode, never a crash, a hang or garbage
past the data."""

from __future__ import annotations

import random

import pytest

from thanos_rs.chunkenc import decode_xor, decode_xor_many
from thanos_rs.errors import CorruptChunkError

from support import anchors

REAL = anchors.load()[::250]  # counters, gauges and constants


@pytest.mark.parametrize("chunk", REAL, ids=lambda c: f"{len(c)}B")
def test_every_truncation_is_an_error(chunk):
    for size in range(len(chunk)):
        with pytest.raises(CorruptChunkError):
            decode_xor(chunk[:size])


def flipped(chunk: bytes, rnd: random.Random) -> bytes:
    b = bytearray(chunk)
    for _ in range(rnd.randint(1, 8)):
        i = rnd.randrange(len(b))
        b[i] ^= 1 << rnd.randrange(8)
    return bytes(b)


def test_random_bit_flips_decode_or_fail_cleanly():
    rnd = random.Random(7)
    outcomes = {"error": 0, "decoded": 0}
    for _ in range(3000):
        chunk = flipped(rnd.choice(REAL), rnd)
        try:
            ts, vs = decode_xor(chunk)
        except CorruptChunkError:
            outcomes["error"] += 1
            continue
        # A decode that succeeds returns exactly the count the header promises.
        assert len(ts) == len(vs) == int.from_bytes(chunk[:2], "big")
        outcomes["decoded"] += 1
    assert outcomes["error"] > 0 and outcomes["decoded"] > 0, outcomes


def test_batch_decode_agrees_with_one_at_a_time_on_damage():
    rnd = random.Random(11)
    for _ in range(200):
        batch = [flipped(c, rnd) if rnd.random() < 0.2 else c for c in rnd.choices(REAL, k=20)]
        singles = []
        for c in batch:
            try:
                singles.append(decode_xor(c))
            except CorruptChunkError:
                singles = None
                break
        if singles is None:
            with pytest.raises(CorruptChunkError):
                decode_xor_many(batch)
        else:
            counts, ts, vs = decode_xor_many(batch)
            assert list(ts) == [t for s in singles for t in s[0]]


def test_a_header_claiming_more_samples_than_the_chunk_holds_is_an_error():
    # decode_xor_many sizes its output from the headers before decoding: a
    # count that lies must still end in a clear error naming the chunk. (Up to
    # three more samples can come out of the zero bits that pad the last byte,
    # two bits each, as they do from Prometheus's iterator: claims here are at
    # least four more.)
    good = REAL[0]
    n = int.from_bytes(good[:2], "big")
    for claim in (n + 4, 4 * n, 65535):
        bad = claim.to_bytes(2, "big") + good[2:]
        with pytest.raises(CorruptChunkError, match="chunk 3: XOR chunk truncated"):
            decode_xor_many([good] * 3 + [bad] + [good] * 3)
        with pytest.raises(CorruptChunkError, match="truncated"):
            decode_xor(bad)


def test_a_header_claiming_fewer_samples_gives_the_first_ones():
    # As Prometheus's iterator, which stops at the count.
    good = REAL[1]
    ts, vs = decode_xor(good)
    short = (7).to_bytes(2, "big") + good[2:]
    counts, sts, svs = decode_xor_many([short, good])
    assert list(counts) == [7, len(ts)]
    assert list(sts) == list(ts)[:7] + list(ts)


def test_impossible_claims_fail_before_any_output_is_allocated():
    # 100,000 chunks of 12 bytes claiming 65,535 samples each: 105 GB of output
    # if the counts were believed.
    with pytest.raises(CorruptChunkError, match="chunk 0: XOR chunk truncated"):
        decode_xor_many([b"\xff\xff" + bytes(10)] * 100_000)
