"""XOR codec throughput through the Python API, on chunks Prometheus 2.42 encoded
(tests/testdata/anchors): 1,000 chunks of 120 samples per kind of series, and
batches of 3,000, 30,000 and 300,000 chunks for how decoding scales once the
input and output outgrow the caches.

    python -m pytest benches/test_chunkenc.py --benchmark-only

Each benchmark records samples per second in ``extra_info``; the reference is
Prometheus's Go iterator at 18-31 ns per sample on this kind of machine.
"""

from __future__ import annotations

import pytest
from support import anchors
from thanos_rs.chunkenc import decode_xor, decode_xor_many, encode_xor

KINDS = {"counter": slice(0, 1000), "gauge": slice(1000, 2000), "constant": slice(2000, 3000)}
CHUNKS = anchors.load()


def record_rate(benchmark, samples: int) -> None:
    best = benchmark.stats.stats.min
    benchmark.extra_info["samples"] = samples
    benchmark.extra_info["M_samples_per_s"] = round(samples / best / 1e6, 1)
    benchmark.extra_info["ns_per_sample"] = round(best / samples * 1e9, 2)


@pytest.mark.parametrize("kind", KINDS)
def test_decode_many(benchmark, kind):
    chunks = CHUNKS[KINDS[kind]]
    counts, _, _ = benchmark(decode_xor_many, chunks)
    record_rate(benchmark, sum(counts))


# Rounds per batch size: the 300,000-chunk batch is 36 million samples, about
# 0.6 GB of output and 0.15 s a call at the target speed.
BATCHES = {3_000: 50, 30_000: 15, 300_000: 5}


@pytest.mark.parametrize("chunks", BATCHES, ids=str)
def test_decode_many_batch(benchmark, chunks):
    # Each chunk its own bytes object, as in a real batch: repeating the 3,000
    # anchors by reference would keep the input in the cache and hide the cost
    # of reading it.
    batch = [bytes(bytearray(CHUNKS[i % len(CHUNKS)])) for i in range(chunks)]
    counts, _, _ = benchmark.pedantic(decode_xor_many, args=(batch,), rounds=BATCHES[chunks], warmup_rounds=1)
    record_rate(benchmark, sum(counts))


@pytest.mark.parametrize("kind", KINDS)
def test_decode_one_chunk_per_call(benchmark, kind):
    chunks = CHUNKS[KINDS[kind]]

    def run():
        for c in chunks:
            decode_xor(c)

    benchmark(run)
    record_rate(benchmark, 120 * len(chunks))


@pytest.mark.parametrize("kind", KINDS)
def test_encode(benchmark, kind):
    decoded = [decode_xor(c) for c in CHUNKS[KINDS[kind]]]

    def run():
        for ts, vs in decoded:
            encode_xor(ts, vs)

    benchmark(run)
    record_rate(benchmark, 120 * len(decoded))
