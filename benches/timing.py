"""Timing helpers shared by the benchmarks that time a reference themselves."""

from __future__ import annotations

import time
from collections.abc import Callable


def best(fn: Callable[[], object], rounds: int) -> float:
    """The shortest of ``rounds`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)
