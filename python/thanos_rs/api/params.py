"""Request parameters as Prometheus's HTTP API reads them (``web/api/v1/api.go``
at v2.42.0): form values from the URL and a urlencoded POST body, times as
Unix seconds or RFC 3339, durations as seconds or ``5m``, and errors worded as
Prometheus words them."""

from __future__ import annotations

import datetime as dt
import math
import re
from urllib.parse import parse_qsl

from starlette.requests import Request

from thanos_rs.errors import BadDataError
from thanos_rs.flags import prom_duration

#: The bounds Prometheus uses for an absent start or end, in ms, and how it
#: formats them (clients send these strings back).
MIN_TIME_MS = (-(2**63 // 1000) + 62135596801) * 1000
MAX_TIME_MS = (2**63 // 1000 - 62135596801) * 1000 + 999
_MIN_TIME_TEXT = "-292273086-05-16T16:47:06Z"
_MAX_TIME_TEXT = "292277025-08-18T07:12:54.999999999Z"

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)
# Go's strconv.ParseFloat: decimal or hex, Inf/NaN; no underscores without a base prefix.
_GO_FLOAT = re.compile(r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$", re.IGNORECASE)


class Form:
    """A request's form: URL query values plus, for a urlencoded POST, the body's
    values, which come first (Go's ``r.FormValue`` prefers them)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    @classmethod
    async def read(cls, request: Request) -> Form:
        pairs: list[tuple[str, str]] = []
        if request.method == "POST":
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype == "application/x-www-form-urlencoded":
                body = (await request.body()).decode("utf-8", "replace")
                pairs.extend(parse_qsl(body, keep_blank_values=True))
        pairs.extend(parse_qsl(request.url.query, keep_blank_values=True))
        return cls(pairs)

    def get(self, name: str) -> str:
        """The first value, or "" (Go's ``FormValue``)."""
        return next((v for k, v in self._pairs if k == name), "")

    def getall(self, name: str) -> list[str]:
        return [v for k, v in self._pairs if k == name]


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


def time_param(form: Form, name: str, default: float) -> float:
    """``time``, ``start``, ``end``: absent means ``default``."""
    text = form.get(name)
    if text == "":
        return default
    try:
        return parse_time(text)
    except BadDataError as e:
        raise invalid_param(name, f"Invalid time value for '{name}': {e.message}") from None


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


def to_ms(seconds: float) -> int:
    return round(seconds * 1000)
