"""The PromQL engine alone, on in-memory data, against a real Prometheus 2.42
holding the same data, in the same run: range queries over 100, 1,000 and
10,000 series and 1, 6 and 24 hours at a 15 s scrape interval.

    python -m pytest benches/test_promql_engine.py --benchmark-only
    THANOS_RS_BENCH_SIZES=all python -m pytest benches/test_promql_engine.py --benchmark-only

By default the sizes up to 1,000 series x 24 h and 10,000 x 6 h run; ``all``
adds 10,000 x 24 h (57 million samples: a 5 GB backfill, several minutes).
Each case runs ours and Prometheus's alternately (one warm-up, then
``ROUNDS`` each) and records both medians and the ratio ours/Prometheus in
``extra_info``; the table at the end lists them. Our time is the engine's
call returning the API's JSON bytes; Prometheus's is its HTTP answer, also
JSON, over loopback, uncompressed.
"""

from __future__ import annotations

import os
import statistics
import time
import urllib.parse
import urllib.request

import pytest
from fleet import START, Size, default_step, read_in_parts, write_size
from support.prometheus import PrometheusServer, backfill_file, require_binaries
from thanos_rs import _core
from thanos_rs.timestamp import duration_ms, from_seconds

ROUNDS = 5
SIZES = [Size(s, h) for s in (100, 1000, 10000) for h in (1, 6, 24)]
if os.environ.get("THANOS_RS_BENCH_SIZES") != "all":
    SIZES = [s for s in SIZES if s.samples < 20_000_000]

QUERIES = {
    "rate": "rate(http_requests_total[5m])",
    "sum_by_rate": "sum by (job) (rate(http_requests_total[5m]))",
    "histogram_quantile": "histogram_quantile(0.9, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))",
    "avg_over_time": "avg_over_time(node_memory_used_bytes[10m])",
    "binary": "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])",
}


@pytest.fixture(scope="module", params=SIZES, ids=str)
def loaded(request, tmp_path_factory):
    require_binaries()
    size: Size = request.param
    work = tmp_path_factory.mktemp(f"engine-{size}")
    text = work / "data.om"
    write_size(size, text)
    engine = _core.PromQLEngine()
    for part in read_in_parts(text):
        engine.load_openmetrics(part)
    prom = PrometheusServer(work)
    backfill_file(text, prom.data)
    text.unlink()
    with prom:
        yield size, engine, prom


def prometheus_range(prom, query: str, start: float, end: float, step: int) -> bytes:
    params = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{prom.url}/api/v1/query_range?{params}", timeout=600) as r:
        return r.read()


@pytest.mark.parametrize("name", QUERIES)
def test_range_query(benchmark, loaded, name):
    size, engine, prom = loaded
    query = QUERIES[name]
    start, end, step = START + 600, size.end, default_step(size)
    # The core takes ms; Prometheus's API seconds.
    ours_args = (query, from_seconds(start), from_seconds(end), duration_ms(step))
    ours_body = engine.query_range(*ours_args)
    theirs_body = prometheus_range(prom, query, start, end, step)
    # Same answer shape (the tests check values; here only sizes).
    assert ours_body.count(b'"metric"') == theirs_body.count(b'"metric"'), "different series counts"
    ours_t, theirs_t = [], []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        engine.query_range(*ours_args)
        ours_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        prometheus_range(prom, query, start, end, step)
        theirs_t.append(time.perf_counter() - t0)
    ours, theirs = statistics.median(ours_t), statistics.median(theirs_t)
    benchmark.extra_info.update(
        size=str(size), query=name, ours_ms=round(ours * 1e3, 2), prometheus_ms=round(theirs * 1e3, 2),
        ratio=round(ours / theirs, 3),
    )
    benchmark.pedantic(engine.query_range, args=ours_args, rounds=1, iterations=1)
