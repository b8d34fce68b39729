"""A fixed workload that says how fast this machine is right now.

``benches/gate.py`` divides the time of each benchmark that has no reference in
its own run (no Prometheus next to it) by this one's, so that a machine twice
as slow, or busy, does not look like a regression. It mixes what the other
benchmarks do: interpreted Python, allocation, and a tight native loop.
"""

from __future__ import annotations

import random
import zlib

DATA = random.Random(0).randbytes(1 << 20)
NUMBERS = [random.Random(1).random() for _ in range(100_000)]


def workload() -> int:
    total = 0
    for x in sorted(NUMBERS):
        total += int(x * 1000)
    return total + zlib.crc32(zlib.compress(DATA, 1))


def test_calibration(benchmark):
    benchmark(workload)
