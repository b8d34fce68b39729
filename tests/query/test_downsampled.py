"""Queries over downsampled data, as Thanos's querier answers them: the
``max_source_resolution`` parameter (or ``auto``: step / 5) becomes the
store calls' ``max_resolution_window``, the store gateway answers from the
coarsest blocks it allows, and each function reads the aggregate Thanos
reads (``rate`` the counter, ``max_over_time`` the max, ``avg_over_time``
sum / count, ...).

The bucket holds 30 days of one-minute samples (gauges ``g``, counters ``c``
with one reset each) three times: raw, at 5 m and at 1 h, the last two made
by our compactor's downsampling. The error bound, for ranges and evaluation
times aligned to the resolution (what Thanos's aggregate chunks allow):

- ``min/max/sum/count`` of a window are exact, so ``max_over_time`` and
  ``avg_over_time`` over whole windows equal the raw answer (to float
  rounding: a relative 1e-9). One exception, Thanos's too: 1 h chunks are
  cut where the 5 m chunks they come from end, so a 1 h window holding
  such a cut is two samples (one per chunk); ``min``, ``max`` and ``sum``
  over them stay exact, ``avg_over_time`` averages the two averages;
- ``rate`` over a range ``R`` reads the counter once a window ``W``: its
  last raw value, stamped with the window's end, plus each chunk's first raw
  value at its own time. The increase it sees can so miss or gain at most a
  window's worth at each end of the range: ``rate * 2W / R`` per series.
  In a range holding a counter reset, the raw rate also loses the increment
  of the reset's scrape (Prometheus counts a reset as a restart from 0),
  ``rate / (N - 1)`` over the range's ``N`` raw samples, which the
  downsampled counter loses too unless the reset falls in the first window.
  Measured here: at most 0.9 % for 1 h ranges of 5 m data (17 % allowed)
  and 10.7 % for 6 h ranges of 1 h data (33 % allowed), both where a chunk
  boundary adds a point and the extrapolation to the range's ends changes.
"""

from __future__ import annotations

import json
import math

import pytest

from support.components import querier, store_gateway
from support.objstore import filesystem_config, upload_block
from support.synthetic import write_block
from thanos_rs import _core
from thanos_rs.block import ulid as ulids
from thanos_rs.compact.downsample import RESOLUTION_1H, RESOLUTION_5M
from thanos_rs.objstore import Bucket

pytestmark = pytest.mark.slow

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
#: 30 days from a midnight, one sample a minute, half a minute past it: a
#: range [T - 1h, T] at a whole hour T then holds 60 raw samples and the 12
#: (5 m) or 1 (1 h) windows that end in it, each stamped with the window's
#: last millisecond (Thanos's ``currentWindow``), as Prometheus 2.42's
#: ranges are closed at both ends.
START = 19_676 * DAY
END = START + 30 * DAY
TIMES = range(START + MINUTE // 2, END, MINUTE)
INSTANCES = range(4)
LABELS = {"cluster": "eu1"}


def gauge(i: int, n: int) -> float:
    return 50 + 40 * math.sin(n / 37 + i) + (n * 7919 + i * 104_729) % 97 / 10


def counter_rate(i: int) -> float:
    """The counter's increment per scrape."""
    return float(i + 1)


def reset_time(i: int) -> int:
    """When counter ``i`` drops to 0 (then counts on from there)."""
    return START + (5 + 6 * i) * DAY + 17 * MINUTE


def counter(i: int, t: int) -> float:
    if t >= reset_time(i):
        return (t - reset_time(i)) // MINUTE * counter_rate(i)
    return 1000 * counter_rate(i) + (t - START) // MINUTE * counter_rate(i)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A store gateway over the bucket, a querier over it, and a second
    querier with --query.auto-downsampling stacked on the first."""
    work = tmp_path_factory.mktemp("downsampled-query")
    blocks = work / "blocks"
    blocks.mkdir()
    ts = list(TIMES)
    series = [([("__name__", "g"), ("instance", str(i))], ts, [gauge(i, n) for n in range(len(ts))]) for i in INSTANCES]
    series += [([("__name__", "c"), ("instance", str(i))], ts, [counter(i, t) for t in ts]) for i in INSTANCES]
    raw = write_block(blocks, series)
    five = blocks / json.loads(_core.downsample_block(raw, blocks, ulids.new(), RESOLUTION_5M))["ulid"]
    hour = blocks / json.loads(_core.downsample_block(five, blocks, ulids.new(), RESOLUTION_1H))["ulid"]
    config = filesystem_config(work / "bucket")
    bucket = Bucket.from_config(config)
    for b in (raw, five, hour):
        upload_block(bucket, b, LABELS)
    with store_gateway(work, config) as gw, querier(work, [gw.grpc_address]) as q, \
            querier(work, [q.grpc_address], "--query.auto-downsampling") as stacked:
        yield q, stacked


def query_range(q, expr: str, step: int, resolution: str | None, first: int = START + 6 * HOUR) -> dict:
    """``{instance or "": {t_ms: value}}`` at the multiples of ``step``."""
    params = {"query": expr, "start": first / 1000, "end": END / 1000, "step": step // 1000}
    if resolution is not None:
        params["max_source_resolution"] = resolution
    status, body = q.request("/api/v1/query_range", params)
    assert status == 200 and body["status"] == "success", body
    return {s["metric"].get("instance", ""): {round(float(t) * 1000): float(v) for t, v in s["values"]}
            for s in body["data"]["result"]}


def assert_close(got: dict, want: dict, bound=lambda key, t: 0.0) -> None:
    assert got.keys() == want.keys()
    for key, points in want.items():
        assert got[key].keys() == points.keys(), key
        for t, v in points.items():
            allowed = bound(key, t) + 1e-9 * abs(v)
            assert abs(got[key][t] - v) <= allowed, (key, t, got[key][t], v, allowed)


@pytest.mark.parametrize(("resolution", "step", "windows"), [
    (None, HOUR, 60), ("0s", HOUR, 60), ("5m", HOUR, 12), ("1h", HOUR, 1),
    # auto: step / 5, the coarsest resolution not above it.
    ("auto", HOUR, 12), ("auto", 6 * HOUR, 1), ("auto", 10 * MINUTE, 60),
])
def test_max_source_resolution_picks_the_blocks(stack, resolution, step, windows):
    """count_over_time counts the samples it reads: one a minute raw, one a
    window downsampled (as in Thanos, it counts windows, not raw samples)."""
    q, _ = stack
    got = query_range(q, "count_over_time(g[1h])", step, resolution)
    assert len(got) == len(INSTANCES)
    counts = [v for points in got.values() for v in points.values()]
    split = split_windows(got) if windows == 1 else set()
    assert {v for v in counts if v != windows} <= {2.0} and counts.count(2.0) == len(split)
    # Cuts are rare: a 5 m chunk holds 120 windows, 10 h.
    assert len(split) <= len(counts) / 8


def split_windows(counts: dict) -> set:
    """The (instance, time) of 1 h windows that a chunk cut split in two."""
    return {(key, t) for key, points in counts.items() for t, v in points.items() if v == 2}


@pytest.mark.parametrize("resolution", ["5m", "1h"])
@pytest.mark.parametrize("func", ["max_over_time", "min_over_time", "avg_over_time", "sum_over_time"])
def test_window_aggregates_equal_the_raw_answer(stack, func, resolution):
    q, _ = stack
    expr = f"{func}(g[1h])"
    got, raw = query_range(q, expr, HOUR, resolution), query_range(q, expr, HOUR, "0s")
    if func == "avg_over_time" and resolution == "1h":
        # The average of the two partial averages of a split window (see the
        # module's comment): between the smallest and largest raw sample.
        split = split_windows(query_range(q, "count_over_time(g[1h])", HOUR, resolution))
        assert split
        lo, hi = (query_range(q, f"{f}(g[1h])", HOUR, "0s") for f in ("min_over_time", "max_over_time"))
        for key, t in split:
            assert lo[key][t] <= got[key][t] <= hi[key][t]
            got[key][t] = raw[key][t]
    assert_close(got, raw)


@pytest.mark.parametrize(("resolution", "window"), [("5m", "1h"), ("1h", "6h")])
def test_rate_is_within_one_scrape_of_the_raw_rate(stack, resolution, window):
    q, _ = stack
    range_ms = int(window[:-1]) * HOUR
    samples = range_ms // MINUTE

    window_ms = RESOLUTION_5M if resolution == "5m" else RESOLUTION_1H

    def series_bound(i: int, t: int) -> float:
        rate = counter_rate(i) / 60
        reset = rate / (samples - 1) if t - range_ms <= reset_time(i) <= t else 0.0
        return rate * 2 * window_ms / range_ms + reset

    def bound(key, t):
        return sum(series_bound(i, t) for i in INSTANCES)

    expr = f"sum(rate(c[{window}]))"
    raw = query_range(q, expr, HOUR, "0s")
    got = query_range(q, expr, HOUR, resolution)
    assert_close(got, raw, bound)
    # Mostly, the rate is the counters' own: sum (i + 1) / 60.
    exact = [v for v in got[""].values() if v == pytest.approx(sum(counter_rate(i) for i in INSTANCES) / 60, rel=1e-9)]
    assert len(exact) > len(got[""]) / 2
    by_instance = query_range(q, f"rate(c[{window}])", HOUR, resolution)
    assert_close(by_instance, query_range(q, f"rate(c[{window}])", HOUR, "0s"),
                 lambda key, t: series_bound(int(key), t))


def test_instant_queries_look_back_a_window_of_the_resolution(stack):
    """With 1 h data the lookback is 1 h (Thanos's dynamic lookback delta),
    so half an hour past a window's last sample the gauge still answers: its
    average over that window (a plain selector reads sum / count)."""
    q, _ = stack
    hour = START + 10 * DAY
    t = hour + 30 * MINUTE
    data = q.api("/api/v1/query", {"query": 'g{instance="1"}', "time": t / 1000, "max_source_resolution": "1h"})
    [sample] = data["result"]
    window = [gauge(1, n) for n in range((hour - HOUR - START) // MINUTE, (hour - START) // MINUTE)]
    assert float(sample["value"][1]) == pytest.approx(sum(window) / len(window), rel=1e-9)
    assert sample["value"][0] == t / 1000
    # Raw data has a sample a minute: the one half a minute before t.
    data = q.api("/api/v1/query", {"query": 'g{instance="1"}', "time": t / 1000})
    assert float(data["result"][0]["value"][1]) == gauge(1, (t - START) // MINUTE - 1)


def test_a_stacked_querier_passes_aggregates_through(stack):
    """The upper querier asks the lower one's StoreAPI for downsampled data
    (auto-downsampling: step / 5 without the parameter); the lower one
    forwards the call and passes the aggregate chunks up as they came."""
    q, stacked = stack
    for expr in ("sum(rate(c[1h]))", "max_over_time(g[1h])", "count_over_time(g[1h])"):
        assert query_range(stacked, expr, HOUR, None) == query_range(q, expr, HOUR, "5m"), expr
