"""A synthetic monitoring history: a fleet of scrape targets exposing the
usual metrics, written as OpenMetrics text for ``promtool tsdb
create-blocks-from openmetrics``. The demo backfills it so that its graphs
have something to show at once, and its exporter (:mod:`.exporter`) carries
the same series on live from their last values; the benchmarks use it at any
size.

Each target has 13 series: requests by code (2 counters, one of them
resetting once), a latency histogram (7 buckets, ``_sum``, ``_count``),
memory in use (a random walk), ``up``. Values come from a seeded generator
and are printed with few digits, so the text stays compact and the same
every time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERIES_PER_TARGET = 13
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")


@dataclass(frozen=True)
class Fleet:
    """What to generate: ``targets`` targets scraped every ``interval`` seconds
    from ``start`` for ``hours`` hours, under the job label ``job`` (numbered
    when ``jobs`` > 1)."""

    targets: int
    start: float
    hours: float
    interval: float = 15.0
    job: str = "job"
    jobs: int = 10
    seed: int = 1
    #: Labels every series carries besides job and instance, e.g. ``{"cluster": "eu1"}``.
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def end(self) -> float:
        return self.start + self.hours * 3600

    @property
    def scrapes(self) -> int:
        return int(self.hours * 3600 / self.interval) + 1

    @property
    def samples(self) -> int:
        return self.targets * SERIES_PER_TARGET * self.scrapes


def _families(fleet: Fleet, rnd: random.Random) -> Iterator[tuple[str, str, list[str]]]:
    """(family, type, sample lines), target by target."""
    n = fleet.scrapes
    times = [f"{fleet.start + k * fleet.interval:.0f}" for k in range(n)]
    for t in range(fleet.targets):
        job = f"{fleet.job}{t % fleet.jobs}" if fleet.jobs > 1 else fleet.job
        base = "".join(f'{k}="{v}",' for k, v in fleet.labels) + f'job="{job}",instance="host{t}:9100"'
        for code, per_scrape in (("200", 300), ("500", 10)):
            v = rnd.randrange(1000)
            reset = rnd.randrange(n) if code == "200" and t % 2 == 0 else -1
            lines = []
            for k, ts in enumerate(times):
                v = 0 if k == reset else v + rnd.randrange(per_scrape)
                lines.append(f'http_requests_total{{{base},code="{code}"}} {v} {ts}')
            yield "http_requests", "counter", lines
        counts = [0] * len(BUCKETS)
        total = 0.0
        lines = []
        for ts in times:
            for _ in range(rnd.randrange(20)):
                latency = rnd.lognormvariate(-2, 1)
                total += latency
                for b, le in enumerate(BUCKETS):
                    if le == "+Inf" or latency <= float(le):
                        counts[b] += 1
            for b, le in enumerate(BUCKETS):
                lines.append(f'http_request_duration_seconds_bucket{{{base},le="{le}"}} {counts[b]} {ts}')
            lines.append(f"http_request_duration_seconds_sum{{{base}}} {total:.4f} {ts}")
            lines.append(f"http_request_duration_seconds_count{{{base}}} {counts[-1]} {ts}")
        yield "http_request_duration_seconds", "histogram", lines
        mem = rnd.uniform(1e9, 4e9)
        mem_lines, up_lines = [], []
        for ts in times:
            mem = max(0.0, mem + rnd.gauss(0, 2e7))
            mem_lines.append(f"node_memory_used_bytes{{{base}}} {mem:.0f} {ts}")
            up_lines.append(f"up{{{base}}} {0 if rnd.random() < 0.01 else 1} {ts}")
        yield "node_memory_used_bytes", "gauge", mem_lines
        yield "up", "gauge", up_lines


def write(fleet: Fleet, path: Path) -> dict[str, float]:
    """Writes the history as one OpenMetrics file (families grouped, one
    ``# TYPE`` each), as promtool reads it, and returns each series' last
    value by its text (``name{labels}``). Families come target by target,
    so each goes to its own part file first."""
    rnd = random.Random(fleet.seed)
    parts = path.parent / f"{path.name}.parts"
    parts.mkdir(exist_ok=True)
    kinds: dict[str, str] = {}
    handles = {}
    last: dict[str, float] = {}
    try:
        for family, kind, lines in _families(fleet, rnd):
            if family not in handles:
                handles[family] = open(parts / family, "w")
                kinds[family] = kind
            handles[family].write("\n".join(lines) + "\n")
            # A histogram's lines go time by time: its last scrape is the
            # last len(BUCKETS) + 2 lines; one line is the last of the others.
            for line in lines[-len(BUCKETS) - 2:] if kind == "histogram" else lines[-1:]:
                series, value, _ = line.rsplit(" ", 2)
                last[series] = float(value)
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
    return last


def read_in_parts(path: Path, lines_per_part: int = 2_000_000) -> Iterator[str]:
    """The file as several valid OpenMetrics texts (each with its ``# TYPE``
    lines and ``# EOF``), to load a big history into the engine piece by piece."""
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
