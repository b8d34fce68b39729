"""Values printed the way Go's standard library prints them, for output that
matches Thanos's byte for byte, and Go's duration parser (``time.ParseDuration``,
what kingpin reads duration flags with): the one copy of each in the package.
Prometheus's own duration form (``1d``, ``2w``) is the Rust core's
``parse_duration``."""

from __future__ import annotations

import datetime as dt
import re

_MS_PER = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
# time.ParseDuration's grammar: a sign, then "0" or numbers each with a unit;
# a number may lack its whole part (".5h") or the digits after its point ("1.h").
# Micro is spelt "us", U+00B5 or U+03BC.
_UNITS = "ns|us|\u00b5s|\u03bcs|ms|s|m|h"
_GO_DURATION = re.compile(rf"[-+]?(?:0|(?:(?:\d+\.?\d*|\.\d+)(?:{_UNITS}))+)")
_GO_PART = re.compile(rf"(\d*)(?:\.(\d*))?({_UNITS})")
_NS_PER = {"ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
           "h": 3600 * 10**9}


def duration_ms(ms: int) -> str:
    """``time.Duration.String()`` of a whole number of milliseconds: ``0s``,
    ``500ms``, ``1.5s``, ``5m0s``, ``2h0m0s``, ``-8h0m0s``."""
    if ms == 0:
        return "0s"
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    if ms < 1000:
        return f"{sign}{ms}ms"
    hours, rest = divmod(ms, _MS_PER["h"])
    minutes, rest = divmod(rest, _MS_PER["m"])
    whole, frac = divmod(rest, 1000)
    seconds = f"{whole}.{frac:03d}".rstrip("0") if frac else str(whole)
    out = f"{hours}h" if hours else ""
    out += f"{minutes}m" if hours or minutes else ""
    return f"{sign}{out}{seconds}s"


def parse_duration_ns(text: str) -> int | None:
    """``time.ParseDuration`` in nanoseconds, or None when ``text`` is not one
    or is beyond an int64 of nanoseconds. Go's arithmetic, step by step: whole
    parts exactly, fractions through a float64 (so ``1.1ns`` is 1 ns)."""
    if not _GO_DURATION.fullmatch(text):
        return None
    neg = text.startswith("-")
    body = text.lstrip("+-")
    total = 0
    for whole, frac, unit in _GO_PART.findall("" if body == "0" else body):
        v, size = int(whole or "0"), _NS_PER[unit]
        if v > 2**63 // size:
            return None
        v *= size
        f, scale = _leading_fraction(frac)
        if f:
            v += int(float(f) * (float(size) / scale))
        total += v
        if v > 2**63 or total > 2**63:
            return None
    if neg:
        return -total
    return total if total < 2**63 else None


def _leading_fraction(digits: str) -> tuple[int, float]:
    """Go's ``leadingFraction``: the digits as an integer and their scale,
    ignoring those past what an int64 holds."""
    x, scale = 0, 1.0
    for c in digits:
        if x > (2**63 - 1) // 10:
            break
        y = x * 10 + int(c)
        if y > 2**63:
            break
        x, scale = y, scale * 10
    return x, scale


def rfc3339(unix_seconds: int) -> str:
    """``time.Unix(s, 0).Format(time.RFC3339)``: in the local time zone, ``Z``
    for UTC."""
    t = dt.datetime.fromtimestamp(unix_seconds, dt.timezone.utc).astimezone()
    offset = t.utcoffset()
    suffix = "Z" if not offset else t.strftime("%z")[:3] + ":" + t.strftime("%z")[3:]
    return t.strftime("%Y-%m-%dT%H:%M:%S") + suffix


def parse_rfc3339(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text else None
    except ValueError:
        return None


def thousands(n: int) -> str:
    """``message.NewPrinter(language.English).Sprintf("%d", n)``: ``1,234,567``."""
    return f"{n:,}"
