"""Benchmark sizes over the demo's synthetic history
(:mod:`thanos_rs.demo.history`): so many series over so many hours, every 15 s."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from thanos_rs.demo.history import SERIES_PER_TARGET, Fleet, read_in_parts, write

__all__ = ["START", "Size", "default_step", "read_in_parts", "write_size"]

START = 1_700_000_000


@dataclass(frozen=True)
class Size:
    series: int
    hours: float

    def fleet(self, **kw) -> Fleet:
        return Fleet(targets=max(1, self.series // SERIES_PER_TARGET), start=START, hours=self.hours, **kw)

    @property
    def end(self) -> float:
        return START + self.hours * 3600

    @property
    def samples(self) -> int:
        return self.fleet().samples

    def __str__(self) -> str:
        return f"{self.series}x{self.hours:g}h"


def write_size(size: Size, path: Path, **kw) -> None:
    write(size.fleet(**kw), path)


def default_step(size: Size) -> int:
    """About 240 points per series, as a dashboard panel asks (at least 15 s)."""
    return max(15, math.ceil(size.hours * 3600 / 240 / 15) * 15)
