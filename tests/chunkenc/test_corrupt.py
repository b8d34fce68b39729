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
