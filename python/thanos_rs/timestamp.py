"""Times as the Rust core takes them: integer milliseconds since the epoch.

Public APIs speak Prometheus's units (seconds, as its HTTP API does) and
convert here, once, before calling :mod:`thanos_rs._core`, which takes
milliseconds for every time and duration. These are the only bounds of time
in the Python code; Prometheus's API bounds come from the Rust core.
"""

from __future__ import annotations

import math

from thanos_rs import _core
from thanos_rs.errors import BadDataError

__all__ = ["MIN_TIME_MS", "MAX_TIME_MS", "STORE_MIN_TIME_MS", "STORE_MAX_TIME_MS", "YEAR_0_MS",
           "from_seconds", "duration_ms"]

#: The earliest and latest times Prometheus's HTTP API reads and writes
#: (``minTime``/``maxTime`` of ``web/api/v1/api.go``): an absent start or end.
MIN_TIME_MS: int = _core.MIN_TIME
MAX_TIME_MS: int = _core.MAX_TIME

#: A store's range when it has no bounds: all of int64, as Thanos announces it.
STORE_MIN_TIME_MS = -(2**63)
STORE_MAX_TIME_MS = 2**63 - 1

#: 0000-01-01T00:00:00Z, the earliest ``--min-time`` Thanos takes and its
#: default: what a sidecar without object storage advertises as its min time.
YEAR_0_MS = -62167219200000

_INT64 = range(-(2**63), 2**63)


def from_seconds(t: float) -> int:
    """Unix seconds in ms, rounded as Prometheus's ``parseTime`` rounds them."""
    return _int64(round(_finite(t * 1000, t, "time")), t, "time")


def duration_ms(seconds: float) -> int:
    """A duration in ms, truncated through nanoseconds as Go converts a
    ``time.Duration`` (``step``, ``--query.lookback-delta``)."""
    ns = int(_finite(seconds * 1e9, seconds, "duration"))
    ms = abs(ns) // 1_000_000
    return _int64(ms if ns >= 0 else -ms, seconds, "duration")


def _finite(scaled: float, seconds: float, what: str) -> float:
    if not math.isfinite(scaled):
        raise BadDataError(f"{what} {seconds!r} s is not a finite number of milliseconds")
    return scaled


def _int64(ms: int, seconds: float, what: str) -> int:
    if ms not in _INT64:
        raise BadDataError(f"{what} {seconds!r} s is more milliseconds than an int64 holds")
    return ms
