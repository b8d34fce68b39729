"""Values printed the way Go's standard library prints them, for output that
matches Thanos's byte for byte."""

from __future__ import annotations

import datetime as dt
import re

_MS_PER = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_GO_DURATION = re.compile(r"-?(?:\d+(?:\.\d*)?(?:ns|us|µs|ms|s|m|h))+|0")
_GO_PART = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)")
_NS_PER = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


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
    """``time.ParseDuration`` in nanoseconds, or None when ``text`` is not one."""
    if not _GO_DURATION.fullmatch(text):
        return None
    sign = -1 if text.startswith("-") else 1
    return sign * sum(int(float(n) * _NS_PER[u]) for n, u in _GO_PART.findall(text))


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
