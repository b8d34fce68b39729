"""Benchmark datasets: a fleet of scrape targets exposing the usual metrics,
written as OpenMetrics text for ``promtool tsdb create-blocks-from
openmetrics`` and for our engine, at any size.

Each target has 13 series: requests by code (2 counters, one of them
resetting once), a latency histogram (7 buckets, ``_sum``, ``_count``),
memory in use (a random walk), ``up``. Samples every 15 s. Values are drawn
from a seeded generator and printed with few digits, so the text stays
compact and the same every time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERIES_PER_TARGET = 13
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
START = 1_700_000_000


@dataclass(frozen=True)
class Size:
    """How much data: total series and hours, and how many clusters share it."""

    series: int
    hours: float
    interval: float = 15.0

    @property
    def targets(self) -> int:
        return max(1, self.series // SERIES_PER_TARGET)

    @property
    def end(self) -> float:
        return START + self.hours * 3600

    @property
    def samples(self) -> int:
        return self.targets * SERIES_PER_TARGET * (int(self.hours * 3600 / self.interval) + 1)

    def __str__(self) -> str:
        return f"{self.series}x{self.hours:g}h"


def _families(size: Size, labels_of: list[str], rnd: random.Random) -> Iterator[tuple[str, str, list[str]]]:
    """(family, type, sample lines) per target and family."""
    n = int(size.hours * 3600 / size.interval) + 1
    times = [f"{START + k * size.interval:.0f}" for k in range(n)]
    for ti, base in enumerate(labels_of):
        for code, per_scrape in (("200", 300), ("500", 10)):
            v = rnd.randrange(1000)
            reset = rnd.randrange(n) if code == "200" and ti % 2 == 0 else -1
            lines = []
            for k, t in enumerate(times):
                v = 0 if k == reset else v + rnd.randrange(per_scrape)
                lines.append(f'http_requests_total{{{base},code="{code}"}} {v} {t}')
            yield "http_requests", "counter", lines
        counts = [0] * len(BUCKETS)
        total = 0.0
        lines = []
        for t in times:
            for _ in range(rnd.randrange(20)):
                latency = rnd.lognormvariate(-2, 1)
                total += latency
                for b, le in enumerate(BUCKETS):
                    if le == "+Inf" or latency <= float(le):
                        counts[b] += 1
            for b, le in enumerate(BUCKETS):
                lines.append(f'http_request_duration_seconds_bucket{{{base},le="{le}"}} {counts[b]} {t}')
            lines.append(f"http_request_duration_seconds_sum{{{base}}} {total:.4f} {t}")
            lines.append(f"http_request_duration_seconds_count{{{base}}} {counts[-1]} {t}")
        yield "http_request_duration_seconds", "histogram", lines
        mem = rnd.uniform(1e9, 4e9)
        mem_lines, up_lines = [], []
        for t in times:
            mem = max(0.0, mem + rnd.gauss(0, 2e7))
            mem_lines.append(f"node_memory_used_bytes{{{base}}} {mem:.0f} {t}")
            up_lines.append(f"up{{{base}}} {0 if rnd.random() < 0.01 else 1} {t}")
        yield "node_memory_used_bytes", "gauge", mem_lines
        yield "up", "gauge", up_lines


def write(size: Size, path: Path, *, cluster: str = "", seed: int = 1) -> None:
    """Writes the dataset as one OpenMetrics file (families grouped, one
    ``# TYPE`` each), as promtool reads it. Families are generated target by
    target, so each goes to its own part file first."""
    rnd = random.Random(seed)
    extra = f'cluster="{cluster}",' if cluster else ""
    labels_of = [f'{extra}job="job{t % 10}",instance="host{t}:9100"' for t in range(size.targets)]
    parts = path.parent / f"{path.name}.parts"
    parts.mkdir(exist_ok=True)
    kinds: dict[str, str] = {}
    handles = {}
    try:
        for family, kind, lines in _families(size, labels_of, rnd):
            if family not in handles:
                handles[family] = open(parts / family, "w")
                kinds[family] = kind
            handles[family].write("\n".join(lines) + "\n")
    finally:
        for h in handles.values():
            h.close()
    with open(path, "w") as out:
        for family, kind in kinds.items():
            out.write(f"# TYPE {family} {kind}\n")
            with open(parts / family) as src:
                while block := src.read(1 << 24):
                    out.write(block)
            (parts / family).unlink()
        out.write("# EOF\n")
    parts.rmdir()


def read_in_parts(path: Path, lines_per_part: int = 2_000_000) -> Iterator[str]:
    """The file as several valid OpenMetrics texts (each with its ``# TYPE``
    lines and ``# EOF``), to load a big dataset into the engine piece by piece."""
    header = ""
    buf: list[str] = []
    with open(path) as f:
        for line in f:
            if line.startswith("# TYPE"):
                if buf:
                    yield header + "".join(buf) + "# EOF\n"
                    buf = []
                header = line
            elif line.startswith("# EOF"):
                break
            else:
                buf.append(line)
                if len(buf) >= lines_per_part:
                    yield header + "".join(buf) + "# EOF\n"
                    buf = []
    if buf:
        yield header + "".join(buf) + "# EOF\n"


def default_step(size: Size) -> int:
    """About 240 points per series, as a dashboard panel asks (at least 15 s)."""
    return max(15, math.ceil(size.hours * 3600 / 240 / 15) * 15)
