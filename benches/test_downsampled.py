"""A month of data: 2,000 series (half counters, half gauges) of one sample a
minute for 30 days, 86.4 M raw samples in fifteen 2-day blocks, written once
by our block writer and kept in the temporary directory for later runs.

- The compactor's work on it, in raw samples per second: merging the fifteen
  blocks into one (what its 14-day level does), downsampling the month to
  5 m, and the 5 m month to 1 h.
- A 30-day range query at a 1 h step through a store gateway over the bucket
  and our querier, from the 1 h blocks (``max_source_resolution=1h``)
  against the raw blocks (``0s``): both times and their ratio (the issue's
  goal: the 1 h answer at least 20x faster, a ratio of 0.05 or less).

``python -m pytest benches/test_downsampled.py --benchmark-only``
(about 4 minutes the first time, 2 minutes after)
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from support.components import querier, store_gateway
from support.objstore import filesystem_config, upload_block
from support.synthetic import chunks
from timing import best, fresh_block_args, record_rate
from thanos_rs import _core
from thanos_rs.block import ulid as ulids
from thanos_rs.compact.downsample import RESOLUTION_1H, RESOLUTION_5M
from thanos_rs.objstore import Bucket

SERIES = 2_000
DAYS = 30
BLOCK_DAYS = 2
MINUTE, DAY = 60_000, 86_400_000
START = 19_676 * DAY
END = START + DAYS * DAY
#: Distinct value sequences, shared by the series: enough that no two
#: neighbouring series are alike, few enough to build the month in seconds.
PATTERNS = 50
LABELS = {"cluster": "eu1"}
QUERIES = {
    "sum_rate_3h": "sum by (job) (rate(bench_requests_total[3h]))",
    "max_over_time_1h": "max by (job) (max_over_time(bench_temperature[1h]))",
}


def pattern(k: int, n: int) -> list[float]:
    """Sequence ``k``: a counter with varying increments for even ``k``, a
    gauge with two decimals for odd ``k``."""
    if k % 2 == 0:
        out, v = [], 0.0
        for i in range(n):
            v += (k * 7 + i * 13) % 101
            out.append(v)
        return out
    return [round(20 + 10 * math.sin(i / 90 + k) + (i * 7919 + k) % 50 / 100, 2) for i in range(n)]


def series_labels(s: int) -> list[tuple[str, str]]:
    name = "bench_requests_total" if s % 2 == 0 else "bench_temperature"
    return [("__name__", name), ("instance", f"host{s // 2}:9100"), ("job", f"bench{s % 10}")]


def raw_blocks(parent: Path) -> list[Path]:
    """The fifteen 2-day raw blocks."""
    ts = list(range(START, END, MINUTE))
    values = [pattern(k, len(ts)) for k in range(PATTERNS)]
    per_block = BLOCK_DAYS * DAY // MINUTE
    out = []
    for b in range(DAYS // BLOCK_DAYS):
        part = slice(b * per_block, (b + 1) * per_block)
        shared = [chunks(ts[part], values[k][part]) for k in range(PATTERNS)]
        series = [(series_labels(s), shared[s % PATTERNS]) for s in range(SERIES)]
        out.append(parent / json.loads(_core.write_block(parent, ulids.new(), series))["ulid"])
    return out


@pytest.fixture(scope="module")
def month():
    """``(raw 2-day blocks, raw month, 5 m month, 1 h month, raw samples)``,
    made once."""
    cache = Path(tempfile.gettempdir()) / "thanos_rs_bench" / f"downsampled-{SERIES}x{DAYS}d"
    blocks = cache / "blocks"
    if not (cache / "done.json").exists():
        shutil.rmtree(cache, ignore_errors=True)
        blocks.mkdir(parents=True)
        raw = raw_blocks(blocks)
        merged = json.loads(_core.compact_blocks(raw, cache, ulids.new()))["ulid"]
        five = json.loads(_core.downsample_block(cache / merged, cache, ulids.new(), RESOLUTION_5M))["ulid"]
        hour = json.loads(_core.downsample_block(cache / five, cache, ulids.new(), RESOLUTION_1H))["ulid"]
        doc = {"raw": [b.name for b in raw], "merged": merged, "5m": five, "1h": hour}
        (cache / "done.json").write_text(json.dumps(doc))
    doc = json.loads((cache / "done.json").read_text())
    raw = [blocks / name for name in doc["raw"]]
    samples = sum(json.loads((b / "meta.json").read_text())["stats"]["numSamples"] for b in raw)
    return raw, cache / doc["merged"], cache / doc["5m"], cache / doc["1h"], samples


def test_compact_month(benchmark, month, tmp_path):
    raw, _, _, _, samples = month
    meta = benchmark.pedantic(lambda out, u: _core.compact_blocks(raw, out, u), setup=lambda: fresh_block_args(tmp_path),
                              rounds=2)
    assert json.loads(meta)["stats"]["numSamples"] == samples
    record_rate(benchmark, samples)


@pytest.mark.parametrize("resolution", ["5m", "1h"])
def test_downsample_month(benchmark, month, tmp_path, resolution):
    _, merged, five, _, samples = month
    source, res = (merged, RESOLUTION_5M) if resolution == "5m" else (five, RESOLUTION_1H)
    meta = benchmark.pedantic(lambda out, u: _core.downsample_block(source, out, u, res),
                              setup=lambda: fresh_block_args(tmp_path), rounds=2)
    assert json.loads(meta)["stats"]["numSamples"] > 0
    # Raw samples of the month per second, whatever the input's resolution.
    record_rate(benchmark, samples)


@pytest.fixture(scope="module")
def stack(month, tmp_path_factory):
    """A store gateway over the raw 2-day blocks and the 5 m and 1 h months,
    and a querier over it."""
    raw, _, five, hour, _ = month
    work = tmp_path_factory.mktemp("downsampled-bench")
    config = filesystem_config(work / "bucket")
    bucket = Bucket.from_config(config)
    for b in [*raw, five, hour]:
        upload_block(bucket, b, LABELS)
    with store_gateway(work, config) as gw, querier(work, [gw.grpc_address]) as q:
        yield q


def query(url: str, expr: str, resolution: str) -> dict:
    params = urllib.parse.urlencode({"query": expr, "start": START / 1000, "end": END / 1000, "step": 3600,
                                     "max_source_resolution": resolution})
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{params}", timeout=600) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    return body["data"]


@pytest.mark.parametrize("name", QUERIES)
def test_month_range_query_1h_against_raw(benchmark, stack, name):
    expr = QUERIES[name]
    raw = query(stack.url, expr, "0s")
    assert len(raw["result"]) == 5  # counters have even series numbers, gauges odd: 5 jobs each
    raw_s = best(lambda: query(stack.url, expr, "0s"), rounds=3)
    data = benchmark.pedantic(lambda: query(stack.url, expr, "1h"), rounds=10, warmup_rounds=1)
    assert len(data["result"]) == 5
    hour_s = benchmark.stats.stats.min
    benchmark.extra_info.update(raw_s=round(raw_s, 3), downsampled_1h_s=round(hour_s, 4),
                                ratio=round(hour_s / raw_s, 4), speedup=round(raw_s / hour_s, 1))
