"""Helpers shared by the benchmarks: a best-of-N timer for references timed
by hand, and the rate and scratch directory of the block-writing ones."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from thanos_rs.block import ulid as ulids


def best(fn: Callable[[], object], rounds: int) -> float:
    """The shortest of ``rounds`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def record_rate(benchmark, samples: int) -> None:
    """Puts the best round's rate in raw samples per second in ``extra_info``."""
    best_s = benchmark.stats.stats.min
    benchmark.extra_info["samples"] = samples
    benchmark.extra_info["M_samples_per_s"] = round(samples / best_s / 1e6, 1)
    benchmark.extra_info["ns_per_sample"] = round(best_s / samples * 1e9, 2)


def fresh_block_args(work: Path):
    """A pedantic setup: an emptied ``work/out`` and a new ULID to write a block to."""
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    return (out, ulids.new()), {}
