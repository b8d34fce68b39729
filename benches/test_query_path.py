"""The querier's hot paths through its Python API, on StoreAPI messages built
here (protobuf stubs from ``proto/``, chunks from our encoder), over a matrix
of sizes:

- k-way merge of sorted streams: ``/api/v1/series`` over k stores (decode,
  merge, group; no samples);
- replica deduplication: a range query over 2 and 3 replicas that are equal,
  have gaps, or have jittered timestamps, against the same query without
  deduplication (the cost of deduplication is the difference);
- JSON encoding of a large matrix: a selector's range query (its evaluation is
  a copy; the answer is megabytes of JSON).

    python -m pytest benches/test_query_path.py --benchmark-only
"""

from __future__ import annotations

import functools
import random

import pytest
from support import protos
from thanos_rs import _core
from thanos_rs.chunkenc import encode_xor

START_MS = 1_700_000_000_000
INTERVAL_MS = 15_000
BATCH = 256


@functools.cache  # the same answers serve several benchmarks; setup, not timed
def store_messages(series: int, samples: int, replica: str, *, gap: bool = False, jitter_ms: int = 0) -> list[bytes]:
    """One store's Series answer in batches: ``series`` counters of
    ``samples`` samples each, labels sorted as stores send them."""
    p = protos.load()
    rnd = random.Random(replica)
    out, batch = [], []
    for i in range(series):
        ts, vs, v = [], [], 0.0
        shift = rnd.randrange(jitter_ms + 1)
        for k in range(samples):
            if gap and samples // 3 <= k < samples // 2:
                continue
            v += k % 7
            ts.append(START_MS + k * INTERVAL_MS + shift)
            vs.append(v)
        chunks = [
            p.types.AggrChunk(
                min_time=ts[c], max_time=ts[min(c + 119, len(ts) - 1)],
                raw=p.types.Chunk(type=0, data=encode_xor(ts[c : c + 120], vs[c : c + 120])),
            )
            for c in range(0, len(ts), 120)
        ]
        labels = [("__name__", "requests_total"), ("cluster", "us1"), ("instance", f"host{i:05d}"), ("replica", replica)]
        batch.append(p.types.Series(labels=[p.labels.Label(name=n, value=v) for n, v in labels], chunks=chunks))
        if len(batch) == BATCH:
            out.append(p.rpc.SeriesResponse(batch=p.rpc.SeriesBatch(series=batch)).SerializeToString())
            batch = []
    if batch:
        out.append(p.rpc.SeriesResponse(batch=p.rpc.SeriesBatch(series=batch)).SerializeToString())
    return out


STORES = [([], -(2**63), 2**63 - 1)]


def answer(messages: list[bytes]) -> _core.SeriesAnswer:
    """A store's answer as the querier hands it over: decoded as it arrives."""
    a = _core.SeriesAnswer()
    a.push(messages)
    return a


@pytest.mark.parametrize("streams", [2, 8, 32])
@pytest.mark.parametrize("series", [1000, 10000])
def test_kway_merge(benchmark, streams, series):
    # Each stream holds an interleaved share of the series, as stores do.
    answers = [store_messages(series // streams, 4, str(s)) for s in range(streams)]

    def run():
        q = _core.SeriesQuery(["requests_total"], START_MS, START_MS + 3_600_000)
        for a in answers:
            q.add_answer(0, answer(a))
        return q.execute([])

    data, _ = benchmark(run)
    assert data.count(b"__name__") == (series // streams) * streams
    benchmark.extra_info.update(series_per_s=round(series / benchmark.stats.stats.min))


DEDUP_CASES = {
    "equal": {},
    "gaps": {"gap": True},
    "jitter": {"jitter_ms": 3000},
}


@pytest.mark.parametrize("case", DEDUP_CASES)
@pytest.mark.parametrize("replicas", [2, 3])
@pytest.mark.parametrize("dedup", [True, False], ids=["dedup", "no-dedup"])
def test_replica_dedup(benchmark, case, replicas, dedup):
    series, samples = 500, 1440  # 6 h at 15 s
    answers = [store_messages(series, samples, str(r), **(DEDUP_CASES[case] if r == 0 else {})) for r in range(replicas)]
    end = START_MS + (samples - 1) * INTERVAL_MS

    def run():
        q = _core.DistributedQuery.range("sum(rate(requests_total[5m]))", START_MS + 300_000, end, 60_000)
        q.calls(STORES)
        for a in answers:
            q.add_answer(0, answer(a))
        return q.execute(["replica"] if dedup else [])

    benchmark(run)
    total = series * samples * replicas
    benchmark.extra_info.update(
        M_samples_per_s=round(total / benchmark.stats.stats.min / 1e6, 1),
        ns_per_sample=round(benchmark.stats.stats.min / total * 1e9, 2),
    )


@pytest.mark.parametrize("series", [1000, 10000])
@pytest.mark.parametrize("points", [60, 240])
def test_json_of_a_large_matrix(benchmark, series, points):
    answers = store_messages(series, 480, "0")
    end = START_MS + 479 * INTERVAL_MS
    step = (end - START_MS) // 1000 // points * 1000

    def run():
        q = _core.DistributedQuery.range("requests_total", START_MS + step, end, step)
        q.calls(STORES)
        q.add_answer(0, answer(answers))
        return q.execute([])

    data, _ = benchmark(run)
    benchmark.extra_info.update(MB=round(len(data) / 1e6, 1), MB_per_s=round(len(data) / benchmark.stats.stats.min / 1e6))
