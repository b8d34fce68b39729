"""Synthetic but realistic monitoring data as OpenMetrics text, for
backfilling real Prometheus servers with promtool and loading our engine with
the same samples.

Every series is scraped at a fixed interval with a little millisecond jitter,
as real scrapes are: counters with occasional resets, gauges that wander,
classic histograms (cumulative ``le`` buckets with ``_sum`` and ``_count``),
an ``up`` series, and a series with gaps longer than the lookback window.
Values are drawn from a seeded generator, so a dataset is the same every time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, math.inf)


@dataclass
class Dataset:
    start: float  # seconds
    end: float
    interval: float
    lines: dict[str, list[str]] = field(default_factory=dict)  # metric name -> sample lines
    types: dict[str, str] = field(default_factory=dict)
    # The same samples by series (sorted label pairs, __name__ included), in ms.
    series: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = field(default_factory=dict)

    def add(self, name: str, labels: dict[str, str], t: float, v: float, kind: str) -> None:
        family = name
        for suffix in ("_bucket", "_sum", "_count", "_total"):
            if name.endswith(suffix):
                family = name[: -len(suffix)]
                break
        self.types.setdefault(family, kind)
        rendered = ",".join(f'{k}="{v}"' for k, v in labels.items())
        self.lines.setdefault(family, []).append(f"{name}{{{rendered}}} {fmt(v)} {t:.3f}")
        key = tuple(sorted({**labels, "__name__": name}.items()))
        self.series.setdefault(key, []).append((round(t * 1000), v))

    def openmetrics(self) -> str:
        out = []
        for family, lines in self.lines.items():
            out.append(f"# TYPE {family} {self.types[family]}")
            out.extend(lines)
        out.append("# EOF")
        return "\n".join(out) + "\n"


def fmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def scrape_times(rnd: random.Random, start: float, end: float, interval: float, jitter_ms: int) -> list[float]:
    times, t = [], start
    while t <= end:
        times.append(round(t + rnd.randint(-jitter_ms, jitter_ms) / 1000, 3))
        t += interval
    return times


def monitoring(
    *,
    start: float = 1_700_000_000,
    hours: float = 2,
    interval: float = 15,
    jobs: int = 2,
    instances: int = 3,
    seed: int = 42,
    extra_labels: dict[str, str] | None = None,
) -> Dataset:
    """A small fleet: `jobs` x `instances` targets with the usual metrics."""
    rnd = random.Random(seed)
    end = start + hours * 3600
    ds = Dataset(start, end, interval)
    extra = extra_labels or {}
    for j in range(jobs):
        for i in range(instances):
            target = {**extra, "job": f"job{j}", "instance": f"host{i}:9100"}
            times = scrape_times(rnd, start, end, interval, jitter_ms=2)
            # Requests by code: counters, one of them resets once.
            for code, rate in (("200", 20.0), ("500", 0.7)):
                v = rnd.uniform(0, 1000)
                reset_at = rnd.randrange(len(times)) if code == "200" and (i + j) % 2 == 0 else -1
                for k, t in enumerate(times):
                    v = 0.0 if k == reset_at else v + rnd.expovariate(1 / (rate * interval))
                    ds.add("http_requests_total", {**target, "code": code}, t, v, "counter")
            # A latency histogram.
            counts = [0.0] * len(BUCKETS)
            total = 0.0
            for t in times:
                for _ in range(rnd.randint(0, 30)):
                    latency = rnd.lognormvariate(-2, 1)
                    total += latency
                    for b, le in enumerate(BUCKETS):
                        if latency <= le:
                            counts[b] += 1
                for b, le in enumerate(BUCKETS):
                    le_text = "+Inf" if math.isinf(le) else repr(le)
                    ds.add("http_request_duration_seconds_bucket", {**target, "le": le_text}, t, counts[b], "histogram")
                ds.add("http_request_duration_seconds_sum", target, t, total, "histogram")
                ds.add("http_request_duration_seconds_count", target, t, counts[-1], "histogram")
            # Memory: a random walk; up: mostly 1.
            mem = rnd.uniform(1e9, 4e9)
            for t in times:
                mem = max(0.0, mem + rnd.gauss(0, 2e7))
                ds.add("node_memory_used_bytes", target, t, mem, "gauge")
                ds.add("up", target, t, 0.0 if rnd.random() < 0.02 else 1.0, "gauge")
    # A gauge with NaN samples and gaps far longer than the 5 minute lookback.
    t = start
    while t <= end:
        if not (start + 1800 <= t < start + 2700):
            ds.add("flaky_gauge", {**extra, "job": "job0"}, t, math.nan if rnd.random() < 0.05 else rnd.uniform(-5, 5), "gauge")
        t += interval
    return ds


def merged(*parts: Dataset) -> Dataset:
    """One dataset holding the series of several (their metric families merged)."""
    out = Dataset(min(p.start for p in parts), max(p.end for p in parts), parts[0].interval)
    for p in parts:
        for family, lines in p.lines.items():
            out.lines.setdefault(family, []).extend(lines)
        out.types.update(p.types)
        for key, samples in p.series.items():
            out.series.setdefault(key, []).extend(samples)
    return out


def without(ds: Dataset, start: float, end: float) -> Dataset:
    """The dataset with the samples of ``[start, end)`` (seconds) removed: a
    replica that was down for a while."""
    lo, hi = round(start * 1000), round(end * 1000)
    out = Dataset(ds.start, ds.end, ds.interval, types=dict(ds.types))
    for family, lines in ds.lines.items():
        # A sample line ends with its timestamp in seconds.
        out.lines[family] = [ln for ln in lines if not lo <= round(float(ln.rsplit(" ", 1)[1]) * 1000) < hi]
    out.series = {k: [(t, v) for t, v in s if not lo <= t < hi] for k, s in ds.series.items()}
    return out
