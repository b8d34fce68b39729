"""Logging as Thanos logs (go-kit): ``--log.format=logfmt`` gives lines like
``level=info ts=2026-11-25T08:00:00.123Z caller=app.py:42 msg="starting"``,
``--log.format=json`` one JSON object per line; ``--log.level`` filters."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}
_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn", logging.ERROR: "error"}


def _fields(record: logging.LogRecord) -> dict[str, str]:
    ts = dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds")
    out = {
        "level": _NAMES.get(record.levelno, "error"),
        "ts": ts.replace("+00:00", "Z"),
        "caller": f"{record.filename}:{record.lineno}",
        "component": record.name,
        "msg": record.getMessage(),
    }
    if record.exc_info:
        out["err"] = logging.Formatter().formatException(record.exc_info)
    return out


def _logfmt_value(v: str) -> str:
    if v and not any(c in v for c in ' "=\n\t\\'):
        return v
    return json.dumps(v)


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in _fields(record).items())


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record))


def setup(level: str = "info", fmt: str = "logfmt") -> None:
    """Configures the root logger for a command (stderr, as Thanos)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
    # Libraries' chatter stays below our own: access logs and gRPC internals.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncio"):
        logging.getLogger(name).setLevel(max(logging.WARNING, _LEVELS[level]))
