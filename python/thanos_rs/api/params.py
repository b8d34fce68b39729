"""Request parameters as Prometheus's HTTP API reads them (``web/api/v1/api.go``
at v2.42.0): form values from the URL and a urlencoded POST body, times as
Unix seconds or RFC 3339, durations as seconds or ``5m``, and errors worded as
Prometheus words them."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl

from starlette.requests import Request

from thanos_rs.errors import BadDataError
from thanos_rs.flags import prom_duration
from thanos_rs.timestamp import MAX_TIME_MS, MIN_TIME_MS, from_seconds

T = TypeVar("T")

#: How Prometheus formats its bounds of time (clients send these strings back).
_MIN_TIME_TEXT = "-292273086-05-16T16:47:06Z"
_MAX_TIME_TEXT = "292277025-08-18T07:12:54.999999999Z"

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)
# Go's strconv.ParseFloat: decimal or hex, Inf/NaN; no underscores without a base prefix.
_GO_FLOAT = re.compile(r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$", re.IGNORECASE)


#: Go's ``http.Request.ParseForm`` reads at most 10 MB of a urlencoded body.
MAX_FORM_BYTES = 10 << 20


class Form:
    """A request's form: URL query values plus, for a urlencoded POST, the body's
    values, which come first (Go's ``r.FormValue`` prefers them).

    A body over :data:`MAX_FORM_BYTES` is not read past the limit and its values
    are dropped, as Go drops them ("http: POST too large"): Prometheus 2.42
    answers such a request from its URL values alone, except ``/api/v1/series``,
    which checks ``ParseForm``'s error (see :attr:`body_too_large`)."""

    def __init__(self, pairs: list[tuple[str, str]], body_too_large: bool = False) -> None:
        self._pairs = pairs
        self.body_too_large = body_too_large

    @classmethod
    async def read(cls, request: Request) -> Form:
        pairs: list[tuple[str, str]] = []
        too_large = False
        if request.method == "POST":
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype == "application/x-www-form-urlencoded":
                body = await _read_at_most(request, MAX_FORM_BYTES)
                if body is None:
                    too_large = True
                else:
                    pairs.extend(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        pairs.extend(parse_qsl(request.url.query, keep_blank_values=True))
        return cls(pairs, too_large)

    def get(self, name: str) -> str:
        """The first value, or "" (Go's ``FormValue``)."""
        return next((v for k, v in self._pairs if k == name), "")

    def getall(self, name: str) -> list[str]:
        return [v for k, v in self._pairs if k == name]


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    """The body, or None once it passes ``limit`` bytes: the rest is never
    buffered (uvicorn discards it after the answer); a 100 MB body once took
    3 GB to parse."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def invalid_param(name: str, message: str) -> BadDataError:
    return BadDataError(f"invalid parameter {go_quote(name)}: {message}")


def go_quote(s: str) -> str:
    """A string as Go's ``%q`` prints it (for the ASCII that parameters hold)."""
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


_DECIMAL = re.compile(r"[+-]?[0-9]+")


def go_atoi(text: str) -> int:
    """Go's ``strconv.Atoi``, with its error messages."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    n = int(text)
    if not -(2**63) <= n < 2**63:
        raise ValueError(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return n


def parse_time(text: str) -> float:
    """A time parameter in Unix seconds (ms precision, as Prometheus rounds)."""
    if _GO_FLOAT.match(text):
        t = float(text)
        if math.isfinite(t):
            whole = math.trunc(t)
            return whole + round((t - whole) * 1000) / 1000
    m = _RFC3339.match(text)
    if m:
        year, month, day, hour, minute, sec, frac, zone = m.groups()
        try:
            tz = dt.timezone.utc
            if zone != "Z":
                sign = 1 if zone[0] == "+" else -1
                tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
            base = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(sec), tzinfo=tz)
            return base.timestamp() + (int((frac or "0").ljust(9, "0")) / 1e9)
        except ValueError:
            pass
    if text == _MIN_TIME_TEXT:
        return MIN_TIME_MS / 1000
    if text == _MAX_TIME_TEXT:
        return MAX_TIME_MS / 1000
    raise BadDataError(f"cannot parse {go_quote(text)} to a valid timestamp")


def _optional_time(form: Form, name: str, default: T, parse: Callable[[str], T]) -> T:
    """A time parameter read by ``parse``; absent means ``default``."""
    text = form.get(name)
    if text == "":
        return default
    try:
        return parse(text)
    except BadDataError as e:
        raise invalid_param(name, f"Invalid time value for '{name}': {e.message}") from None


def time_param(form: Form, name: str, default: float) -> float:
    """``time``, ``start``, ``end``: absent means ``default``."""
    return _optional_time(form, name, default, parse_time)


def required_time_param(form: Form, name: str) -> float:
    """``start`` and ``end`` of a range query: required."""
    try:
        return parse_time(form.get(name))
    except BadDataError as e:
        raise invalid_param(name, e.message) from None


def parse_duration(text: str) -> float:
    """A duration parameter in seconds: a float, or Prometheus's ``5m`` form."""
    if _GO_FLOAT.match(text):
        d = float(text)
        if math.isnan(d):
            raise BadDataError(f"cannot parse {go_quote(text)} to a valid duration")
        if abs(d * 1e9) > 2**63 - 1:
            raise BadDataError(f"cannot parse {go_quote(text)} to a valid duration. It overflows int64")
        return d
    d = prom_duration(text)
    if d is None:
        raise BadDataError(f"cannot parse {go_quote(text)} to a valid duration")
    return d


_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def bool_param(form: Form, name: str, default: bool) -> bool:
    """Thanos's boolean parameters (``dedup``, ``partial_response``), read
    with Go's ``strconv.ParseBool``."""
    text = form.get(name)
    if text == "":
        return default
    if text in _GO_TRUE:
        return True
    if text in _GO_FALSE:
        return False
    raise BadDataError(f"'{name}' parameter: strconv.ParseBool: parsing {go_quote(text)}: invalid syntax")


# Go's time.Time as Prometheus's parseTime builds it, for the metadata
# endpoints, where Prometheus 2.42 takes any float: Go converts it to int64
# seconds as amd64 does (NaN, infinities and anything past int64 become
# MinInt64) and the milliseconds wrap around int64, so that `start=1e300` means
# 0 and `end=1e300` finds nothing. We compute the same times rather than fail.

_UNIX_TO_INTERNAL = 62135596800


def _wrap64(n: int) -> int:
    return (n + 2**63) % 2**64 - 2**63


def _go_int64(x: float) -> int:
    """Go's ``int64(x)`` on amd64 (CVTTSD2SQ)."""
    if math.isnan(x) or not -(2.0**63) <= x < 2.0**63:
        return -(2**63)
    return int(x)


def _go_round(x: float) -> float:
    """Go's ``math.Round``: halves away from zero."""
    if not math.isfinite(x):
        return x
    r = float(math.trunc(x))
    return r + math.copysign(1.0, x) if abs(x - r) >= 0.5 else r


@dataclass(frozen=True)
class GoTime:
    """Seconds since the epoch (int64) and nanoseconds in [0, 1e9)."""

    sec: int
    nsec: int

    @classmethod
    def unix(cls, sec: int, nsec: int) -> GoTime:
        """Go's ``time.Unix``, normalising ``nsec`` with wrapping int64 arithmetic."""
        if not 0 <= nsec < 1_000_000_000:
            n = abs(nsec) // 1_000_000_000 * (1 if nsec > 0 else -1)  # Go's division truncates
            sec, nsec = _wrap64(sec + n), nsec - n * 1_000_000_000
            if nsec < 0:
                sec, nsec = _wrap64(sec - 1), nsec + 1_000_000_000
        return cls(sec, nsec)

    @classmethod
    def from_ms(cls, ms: int) -> GoTime:
        return cls(ms // 1000, ms % 1000 * 1_000_000)

    def ms(self) -> int:
        """Prometheus's ``timestamp.FromTime``."""
        return _wrap64(self.sec * 1000 + self.nsec // 1_000_000)

    def before(self, other: GoTime) -> bool:
        """Go's ``Time.Before``, on its internal (wrapping) seconds since year 1."""
        return (_wrap64(self.sec + _UNIX_TO_INTERNAL), self.nsec) < (_wrap64(other.sec + _UNIX_TO_INTERNAL), other.nsec)


def parse_go_time(text: str) -> GoTime:
    """A time parameter as Prometheus's ``parseTime`` reads it, out-of-range
    floats included."""
    if _GO_FLOAT.match(text):
        t = float(text)
        # Go's math.Modf: ±Inf has a NaN fraction.
        whole, frac = (t, math.nan) if math.isinf(t) else math.modf(t)[::-1]
        frac = _go_round(frac * 1000) / 1000
        return GoTime.unix(_go_int64(whole), _go_int64(frac * 1e9))
    if text == _MIN_TIME_TEXT:
        return GoTime.from_ms(MIN_TIME_MS)
    if text == _MAX_TIME_TEXT:
        return GoTime(MAX_TIME_MS // 1000, 999_999_999)
    return GoTime.from_ms(from_seconds(parse_time(text)))


def go_time_param(form: Form, name: str, default: GoTime) -> GoTime:
    """``start`` and ``end`` of the metadata endpoints: absent means ``default``."""
    return _optional_time(form, name, default, parse_go_time)