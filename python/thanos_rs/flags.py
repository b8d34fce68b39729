"""Command-line flags with Thanos's names and kingpin's conventions.

Thanos parses flags with kingpin: ``--flag=value`` or ``--flag value``, booleans as
``--flag``/``--no-flag``, no abbreviations, durations such as ``5m`` or ``1h30m``.
The helpers here make argparse behave the same way, so that a Thanos command line
works unchanged, and a Thanos flag thanos_rs does not implement is refused with a
reason instead of being silently ignored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from thanos_rs import _core, gofmt
from thanos_rs.errors import BadDataError
from thanos_rs.timestamp import YEAR_0_MS


def prom_duration(text: str) -> float | None:
    """Prometheus's duration form (``model.ParseDuration``: ``1d``, ``2h45m``,
    ``0``) in seconds, or None when ``text`` is not in that form. The core
    parses it, as it parses the durations of PromQL."""
    try:
        return _core.parse_duration(text) / 1000
    except BadDataError:
        return None


def duration(text: str) -> float:
    """Parses a duration in either form Thanos flags accept and returns seconds.

    Prometheus's form (``1d``, ``2h45m``, ``30s``, ``0``) and Go's form (``1.5h``,
    ``300ms``, ``3m0s``) are both accepted, as the flags of Thanos use one or the
    other and users mix them up.
    """
    text = text.strip()
    prom = prom_duration(text)
    if prom is not None:
        return prom
    # Go's form, which kingpin reads time.Duration flags in.
    ns = gofmt.parse_duration_ns(text)
    if ns is None:
        raise argparse.ArgumentTypeError(f'not a valid duration string: "{text}"')
    return ns / 1e9


# kingpin's Bytes flags (alecthomas/units' ParseBase2Bytes): "250MB", "1GiB",
# "1GB512MB"; KB and KiB alike are 1024 bytes.
_BYTES_PART = re.compile(r"(\d+)([KMGTPE]i?)?B")
_BYTES_POWER = {None: 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def byte_size(text: str) -> int:
    """A size in bytes, written as Thanos's flags take it (``250MB``)."""
    parts = _BYTES_PART.findall(text)
    if not parts or "".join(f"{n}{u}B" for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"not a valid size: {text!r} (examples: 250MB, 1GiB, 512KB)")
    return sum(int(n) * 1024 ** _BYTES_POWER[u.rstrip("i") or None] for n, u in parts)


@dataclass(frozen=True)
class TimeOrDuration:
    """``--min-time``: an RFC 3339 time, or a duration relative to now
    (``-1d``, ``2h45m``), evaluated when asked as in Thanos's ``timeOrDuration``."""

    absolute_ms: int | None = None
    relative_s: float | None = None

    def at(self, now: dt.datetime | None = None) -> int:
        """The time in Unix milliseconds."""
        if self.absolute_ms is not None:
            return self.absolute_ms
        now = now or dt.datetime.now(dt.timezone.utc)
        return int(now.timestamp() * 1000 + (self.relative_s or 0.0) * 1000)


def time_or_duration(text: str) -> TimeOrDuration:
    if text.startswith("0000-01-01T00:00:00"):
        return TimeOrDuration(absolute_ms=YEAR_0_MS)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    else:
        if parsed.tzinfo is None:
            raise argparse.ArgumentTypeError(f"time {text!r} has no time zone")
        return TimeOrDuration(absolute_ms=int(parsed.timestamp() * 1000))
    sign = -1.0 if text.startswith("-") else 1.0
    try:
        return TimeOrDuration(relative_s=sign * duration(text[1:] if text[:1] in "+-" else text))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither an RFC 3339 time nor a duration"
        ) from None


def address(text: str) -> str:
    """``host:port`` as Thanos listens and dials; an empty host means every interface."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"address {text!r} is not host:port")
    return text


def log_level(text: str) -> str:
    if text not in ("debug", "info", "warn", "error"):
        raise argparse.ArgumentTypeError(f"enum value must be one of debug,info,warn,error, got '{text}'")
    return text


def log_format(text: str) -> str:
    if text not in ("logfmt", "json"):
        raise argparse.ArgumentTypeError(f"enum value must be one of logfmt,json, got '{text}'")
    return text


class FlagParser(argparse.ArgumentParser):
    """An ArgumentParser that behaves like kingpin: exact flag names only, and
    errors worded ``<prog>: error: <what>, try --help``."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown:
            message = f"unknown long flag '{unknown.group(1)}'"
        self.exit(2, f"{self.prog}: error: {message}, try --help\n")


class _Unsupported(argparse.Action):
    """A Thanos flag thanos_rs knows but does not implement: using it is an error,
    because silently ignoring it would change what the user asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, reason: str, **kwargs) -> None:
        self.reason = reason
        kwargs["help"] = argparse.SUPPRESS
        kwargs.setdefault("nargs", "?")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        parser.error(f"flag {option_string} is not supported by thanos_rs: {self.reason}")


def features(always_on: Sequence[str], not_implemented: Sequence[str]):
    """The type of ``--enable-feature``: comma-separated names. Those whose
    behaviour thanos_rs always has are accepted; one it lacks, or an unknown
    name, is refused rather than silently ignored."""

    def parse(text: str) -> str:
        for name in feature_names([text]):
            if name in not_implemented:
                raise argparse.ArgumentTypeError(f"feature {name!r} is not implemented by thanos_rs")
            if name not in always_on:
                raise argparse.ArgumentTypeError(
                    f"unknown feature {name!r}; known: {', '.join([*always_on, *not_implemented])}"
                )
        return text

    return parse


def feature_names(values: Sequence[str]) -> list[str]:
    """The names in ``--enable-feature`` values, each comma-separated."""
    return [name for text in values for name in (n.strip() for n in text.split(",")) if name]


def model_duration(seconds: float) -> str:
    """A duration as Prometheus's ``model.Duration`` prints it (``2m``,
    ``1h30m``, ``0s``, ``90d``): what Thanos's duration flags show."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    out = "-" if ms < 0 else ""
    ms = abs(ms)
    # Years and weeks only when exact, as 90d reads better than 12w6d.
    for unit, size, exact in (("y", 365 * 86_400_000, True), ("w", 7 * 86_400_000, True), ("d", 86_400_000, False),
                              ("h", 3_600_000, False), ("m", 60_000, False), ("s", 1000, False), ("ms", 1, False)):
        if (exact and ms % size) or ms < size:
            continue
        out += f"{ms // size}{unit}"
        ms %= size
    return out


#: Flags whose values may hold credentials (an objstore config's keys): the
#: flags page shows that they are set, never what they are set to.
SECRET_FLAGS = frozenset({"--objstore.config"})


def flag_map(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """``/api/v1/status/flags``: every flag by its Thanos name, with its value
    as kingpin prints it (``true``, ``2m``, repeated values joined by commas)."""
    out = {}
    for action in parser._actions:
        if isinstance(action, (_Unsupported, argparse._HelpAction, argparse._VersionAction)):
            continue
        value = getattr(args, action.dest, None)
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif action.type is duration and isinstance(value, float):
            text = model_duration(value)
        elif isinstance(value, list):
            text = ",".join(map(str, value))
        elif isinstance(value, float):
            text = f"{value:g}"
        else:
            text = "" if value is None else str(value)
        for name in action.option_strings:
            if name.startswith("--") and not (name.startswith("--no-") and isinstance(value, bool)):
                out[name[2:]] = "<secret>" if name in SECRET_FLAGS and text else text
    return dict(sorted(out.items()))


def add_unsupported(parser: argparse.ArgumentParser, reason: str, *names: str) -> None:
    for name in names:
        parser.add_argument(name, action=_Unsupported, reason=reason, dest=argparse.SUPPRESS)


def add_log_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log.level", dest="log_level", type=log_level, default="info",
        help="Log filtering level: debug, info, warn or error.",
    )
    parser.add_argument(
        "--log.format", dest="log_format", type=log_format, default="logfmt",
        help="Log format to use: logfmt or json.",
    )


def add_time_range_flags(parser: argparse.ArgumentParser, who: str, verb: str, what: str) -> None:
    """``--min-time`` and ``--max-time``: the range of data ``who`` (Thanos
    Store, Thanos Compactor) works on, absolute or relative to now."""
    forms = ("Option can be a constant time in RFC3339 format or time duration relative to current time, such as "
             "-1d or 2h45m. Valid duration units are ms, s, m, h, d, w, y.")
    parser.add_argument(
        "--min-time", dest="min_time", type=time_or_duration, default=time_or_duration("0000-01-01T00:00:00Z"),
        help=f"Start of time range limit to {verb}. {who} will {verb} only {what}, which happened later than this "
        f"value. {forms}",
    )
    parser.add_argument(
        "--max-time", dest="max_time", type=time_or_duration, default=time_or_duration("9999-12-31T23:59:59Z"),
        help=f"End of time range limit to {verb}. {who} will {verb} only blocks, which happened earlier than this "
        f"value. {forms}",
    )


def add_http_flags(parser: argparse.ArgumentParser) -> None:
    """The HTTP listen address and grace period, which every component has."""
    parser.add_argument(
        "--http-address", dest="http_address", type=address, default="0.0.0.0:10902",
        help="Listen host:port for HTTP endpoints.",
    )
    parser.add_argument(
        "--http-grace-period", dest="http_grace_period", type=duration, default=120.0,
        help="Time to wait after an interrupt received for HTTP Server.",
    )


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    """Listen addresses, grace periods and gRPC server TLS, shared by the
    components that serve gRPC."""
    add_http_flags(parser)
    parser.add_argument(
        "--grpc-address", dest="grpc_address", type=address, default="0.0.0.0:10901",
        help="Listen ip:port address for gRPC endpoints (StoreAPI, Info).",
    )
    parser.add_argument(
        "--grpc-grace-period", dest="grpc_grace_period", type=duration, default=120.0,
        help="Time to wait after an interrupt received for GRPC Server.",
    )
    parser.add_argument(
        "--grpc-server-tls-cert", dest="grpc_server_tls_cert", default="",
        help="TLS Certificate for gRPC server, leave blank to disable TLS.",
    )
    parser.add_argument(
        "--grpc-server-tls-key", dest="grpc_server_tls_key", default="",
        help="TLS Key for the gRPC server, leave blank to disable TLS.",
    )
    parser.add_argument(
        "--grpc-server-tls-client-ca", dest="grpc_server_tls_client_ca", default="",
        help="TLS CA to verify clients against. If no client CA is specified, "
        "there is no client verification on server side (tls.NoClientCert).",
    )
    add_unsupported(
        parser, "tracing is not implemented", "--tracing.config", "--tracing.config-file"
    )
    add_unsupported(
        parser, "the HTTP server has no TLS or basic auth configuration",
        "--http.config",
    )
    add_unsupported(
        parser, "request logging is not configurable",
        "--request.logging-config", "--request.logging-config-file",
    )


def fail(prog: str, message: str) -> NoReturn:
    """Exits like kingpin after a flag that parses but makes no sense."""
    sys.stderr.write(f"{prog}: error: {message}\n")
    raise SystemExit(2)
