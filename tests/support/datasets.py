"""Synthetic but realistic monitoring data as OpenMetrics text, for
backfilling real Prometheus servers with promtool and loading our engine with
the same samples.

Every series is scraped at a fixed interval with a little millisecond jitter,
as real scrapes are: counters with occasional resets, gauges that wander,
classic histograms (cumulative ``le`` buckets with ``_sum`` and ``_count``),
an ``up`` series, and a series with gaps longer than the lookback window.
Values are drawn from a seeded generator, so a dataset is the same every time.

``demo`` is shaped like Prometheus's demo service and also holds what
OpenMetrics text cannot carry: staleness markers. It is loaded through remote
write (``support.remote_write``) instead of promtool.
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass, field

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, math.inf)

# The NaN Prometheus writes when a series goes stale (value.StaleNaN): only its
# bit pattern tells it from an ordinary NaN.
STALE_BITS = 0x7FF0000000000002
STALE_NAN: float = struct.unpack("<d", struct.pack("<Q", STALE_BITS))[0]


def is_stale(v: float) -> bool:
    return struct.unpack("<Q", struct.pack("<d", v))[0] == STALE_BITS


@dataclass
class Dataset:
    start: float  # seconds
    end: float
    interval: float
    lines: dict[str, list[str]] = field(default_factory=dict)  # metric name -> sample lines
    types: dict[str, str] = field(default_factory=dict)
    # The same samples by series (sorted label pairs, __name__ included), in ms.
    series: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = field(default_factory=dict)
    # Whether some sample is a staleness marker, which OpenMetrics cannot spell.
    has_stale: bool = False

    def add(self, name: str, labels: dict[str, str], t: float, v: float, kind: str) -> None:
        family = name
        for suffix in ("_bucket", "_sum", "_count", "_total"):
            if name.endswith(suffix):
                family = name[: -len(suffix)]
                break
        self.types.setdefault(family, kind)
        self.has_stale |= is_stale(v)
        rendered = ",".join(f'{k}="{v}"' for k, v in labels.items())
        self.lines.setdefault(family, []).append(f"{name}{{{rendered}}} {fmt(v)} {t:.3f}")
        key = tuple(sorted({**labels, "__name__": name}.items()))
        self.series.setdefault(key, []).append((round(t * 1000), v))

    def openmetrics(self) -> str:
        if self.has_stale:
            raise ValueError("staleness markers cannot be written as OpenMetrics: load this dataset by remote write")
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


DEMO_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, math.inf)


def demo(*, start: float = 1_700_000_000, hours: float = 2, interval: float = 15, seed: int = 18) -> Dataset:
    """Series shaped like Prometheus's demo service (three instances
    ``demo-service-N:10000`` of ``job="demo"``: CPUs, memory by type, CPU time by
    mode, an API latency histogram by method, path and status, a batch job's
    gauges), with the awkward cases real scrapes produce:

    - ``demo-service-2:10000`` is down from 40 to 52 minutes in: its ``up`` is 0,
      every other series of it gets a staleness marker at the first missed
      scrape, and its counters restart from zero afterwards;
    - ``demo_gappy_gauge``: gaps of 7 to 20 minutes, longer than the lookback;
    - ``demo_nan_gauge``: NaN samples now and then and a stretch of them;
    - ``demo_inf_gauge``: +Inf and -Inf among finite values;
    - ``demo_reset_total``: a counter that resets often, not always to zero;
    - ``demo_stale_gauge``: staleness markers followed by new samples soon
      after, two in a row, and one as the very last sample;
    - ``demo_extreme_gauge``: -0, subnormal, huge and tiny values.

    Equal values on purpose (two instances with 4 CPUs, the same batch
    timestamps) make ties for sort, topk and friends.
    """
    rnd = random.Random(seed)
    end = start + hours * 3600
    ds = Dataset(start, end, interval)
    job = "demo"
    outage = (start + 40 * 60, start + 52 * 60)
    cpus = {0: 4.0, 1: 4.0, 2: 8.0}
    for i in range(3):
        target = {"instance": f"demo-service-{i}:10000", "job": job}
        times = scrape_times(rnd, start, end, interval, jitter_ms=3)
        down = [i == 2 and outage[0] <= t < outage[1] for t in times]
        # The first scrape of an outage writes staleness markers, the rest nothing.
        first_down = [d and (k == 0 or not down[k - 1]) for k, d in enumerate(down)]

        # Called only within this target's iteration.
        def emit(name: str, labels: dict[str, str], k: int, v: float, kind: str) -> None:
            if first_down[k]:  # noqa: B023
                ds.add(name, labels, times[k], STALE_NAN, kind)  # noqa: B023
            elif not down[k]:  # noqa: B023
                ds.add(name, labels, times[k], v, kind)  # noqa: B023

        for k, t in enumerate(times):
            ds.add("up", target, t, 0.0 if down[k] else 1.0, "gauge")
        # Gauges.
        mem = {"buffers": 6e7, "cached": 1.2e9, "free": 2.5e9, "used": 4e9}
        disk_total = 1.2e11
        disk = rnd.uniform(3e10, 6e10)
        for k in range(len(times)):
            emit("demo_num_cpus", target, k, cpus[i], "gauge")
            for kind_, base in mem.items():
                mem[kind_] = max(0.0, base + rnd.gauss(0, base * 0.01))
                emit("demo_memory_usage_bytes", {**target, "type": kind_}, k, round(mem[kind_]), "gauge")
            disk += rnd.uniform(0, 2e6)
            emit("demo_disk_usage_bytes", target, k, disk, "gauge")
            emit("demo_disk_total_bytes", target, k, disk_total, "gauge")
        # Counters: CPU time by mode, items shipped. They restart after the outage.
        cpu = {"idle": 0.0, "system": 0.0, "user": 0.0}
        shipped = 0.0
        for k in range(len(times)):
            if k > 0 and down[k - 1] and not down[k]:
                cpu = dict.fromkeys(cpu, 0.0)
                shipped = 0.0
            busy = rnd.uniform(0.1, 0.6)
            cpu["user"] += cpus[i] * interval * busy * 0.7
            cpu["system"] += cpus[i] * interval * busy * 0.3
            cpu["idle"] += cpus[i] * interval * (1 - busy)
            for mode, v in cpu.items():
                emit("demo_cpu_usage_seconds_total", {**target, "mode": mode}, k, round(v, 6), "counter")
            shipped += rnd.randint(0, 40)
            emit("demo_items_shipped_total", target, k, shipped, "counter")
        # The API latency histogram.
        combos = [(m, p, s) for m in ("GET", "POST") for p in ("/api/bar", "/api/foo") for s in ("200", "500")]
        for method, path, status in combos:
            labels = {**target, "method": method, "path": path, "status": status}
            rate = {"200": 8.0, "500": 0.3}[status] * (0.5 if method == "POST" else 1)
            counts = [0.0] * len(DEMO_BUCKETS)
            total = 0.0
            for k, t in enumerate(times):
                if k > 0 and down[k - 1] and not down[k]:
                    counts = [0.0] * len(DEMO_BUCKETS)
                    total = 0.0
                # A quiet half hour on one path: rates of zero.
                quiet = path == "/api/bar" and start + 3600 <= t < start + 5400
                for _ in range(0 if quiet else int(rnd.expovariate(1 / (rate * interval / 15)))):
                    latency = rnd.lognormvariate(-3.5 if status == "200" else -1.5, 1)
                    total += latency
                    for b, le in enumerate(DEMO_BUCKETS):
                        if latency <= le:
                            counts[b] += 1
                for b, le in enumerate(DEMO_BUCKETS):
                    le_text = "+Inf" if math.isinf(le) else repr(le)
                    bucket = {**labels, "le": le_text}
                    emit("demo_api_request_duration_seconds_bucket", bucket, k, counts[b], "histogram")
                emit("demo_api_request_duration_seconds_sum", labels, k, total, "histogram")
                emit("demo_api_request_duration_seconds_count", labels, k, counts[-1], "histogram")
        # A batch job every 5 minutes: the same success timestamps on every instance.
        last_success, duration, processed = start - 300, 0.0, 0.0
        batch_rnd = random.Random(seed + i)
        for k, t in enumerate(times):
            if k % 20 == 0:
                last_success = math.floor(t)
                duration = batch_rnd.uniform(10, 40)
                processed = float(batch_rnd.randrange(1 << 20, 1 << 30))
            emit("demo_batch_last_success_timestamp_seconds", target, k, last_success, "gauge")
            emit("demo_batch_last_run_duration_seconds", target, k, duration, "gauge")
            emit("demo_batch_last_run_processed_bytes", target, k, processed, "gauge")

    special = {"instance": "demo-service-0:10000", "job": job}
    times = scrape_times(rnd, start, end, interval, jitter_ms=3)
    # Gaps longer than the 5 minute lookback.
    gaps = [(start + 600, start + 1500), (start + 2400, start + 2820), (start + 4000, start + 5200)]
    v = 10.0
    for t in times:
        v += rnd.gauss(0, 1)
        if not any(a <= t < b for a, b in gaps):
            ds.add("demo_gappy_gauge", special, t, round(v, 3), "gauge")
    # NaN now and then, and for ten minutes.
    for t in times:
        nan = rnd.random() < 0.08 or start + 3000 <= t < start + 3600
        ds.add("demo_nan_gauge", special, t, math.nan if nan else rnd.uniform(-100, 100), "gauge")
    # Infinities among finite values, one stretch of each sign.
    for t in times:
        r = rnd.random()
        if start + 1200 <= t < start + 1500:
            x = math.inf
        elif start + 4200 <= t < start + 4500:
            x = -math.inf
        else:
            x = math.inf if r < 0.05 else -math.inf if r < 0.1 else rnd.uniform(0, 50)
        ds.add("demo_inf_gauge", special, t, x, "gauge")
    # A counter that resets every few minutes, to zero or to a small value.
    c = 0.0
    for t in times:
        if rnd.random() < 0.04:
            c = rnd.choice([0.0, 0.0, rnd.uniform(0, 5)])
        else:
            c += rnd.uniform(0, 10)
        ds.add("demo_reset_total", special, t, c, "counter")
    # Staleness markers followed by samples: after 15 s, after 2 minutes, two
    # markers in a row, and a marker as the last sample of the series.
    stale_at = {40, 41, 80, 120, 121, 200, 300, 301, 302, 460}
    for k, t in enumerate(times[:461]):
        ds.add("demo_stale_gauge", special, t, STALE_NAN if k in stale_at else float(k % 7), "gauge")
    for k, t in enumerate(times[:-8]):
        if k not in range(90, 98):
            ds.add("demo_stale_gauge", {**special, "instance": "demo-service-1:10000"}, t, float(k % 5), "gauge")
    ds.add("demo_stale_gauge", {**special, "instance": "demo-service-1:10000"}, times[-8], STALE_NAN, "gauge")
    # Values at the edges of float64.
    extremes = [-0.0, 0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e300, 1.7976931348623157e308,
                -1.7976931348623157e308, 0.1, 1 / 3, 2.0**53, 2.0**53 + 2, -1e-7, 123456789.123456789]
    for k, t in enumerate(times):
        ds.add("demo_extreme_gauge", special, t, extremes[k % len(extremes)], "gauge")
    return ds
