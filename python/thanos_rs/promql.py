"""The PromQL engine of thanos_rs, usable without any server.

:class:`Engine` holds its own in-memory series and answers queries with the
``data`` object of Prometheus's HTTP API, evaluated with Prometheus 2.42's
semantics (5-minute lookback, closed range windows, staleness markers)::

    engine = Engine()
    engine.load_openmetrics('up{job="a"} 1 1700000000\\n# EOF\\n')
    engine.query("up", 1700000000)
    # {'resultType': 'vector', 'result': [{'metric': {...}, 'value': [1700000000, '1']}]}

Failures raise :class:`thanos_rs.errors.PromQLError`, whose ``error_type`` is
Prometheus's (``bad_data`` for a parse error, ``execution``, ``timeout`` ...);
a parse error is a :class:`thanos_rs.errors.PromQLParseError`, which also
says where. Times are seconds here; the core takes milliseconds.
"""

from __future__ import annotations

import json

from thanos_rs import _core
from thanos_rs.timestamp import duration_ms, from_seconds

__all__ = ["Engine"]


class Engine:
    """An engine over its own in-memory series."""

    def __init__(self, lookback_delta: float = 300.0) -> None:
        self._engine = _core.PromQLEngine(duration_ms(lookback_delta))

    def load_openmetrics(self, text: str | bytes) -> None:
        """Adds the samples of an OpenMetrics text with timestamps in seconds."""
        if isinstance(text, bytes):
            text = text.decode()
        self._engine.load_openmetrics(text)

    def load_remote_write(self, body: bytes) -> None:
        """Adds the samples of a Prometheus remote-write body: a
        snappy-compressed (block format) ``prometheus.WriteRequest``, as POSTed
        to ``/api/v1/write``. Values keep their bits, so staleness markers stay
        staleness markers. Each series' samples must be newer than those it
        already has."""
        self._engine.load_remote_write(body)

    def query(self, expr: str, time: float) -> dict:
        """An instant query at ``time`` (Unix seconds)."""
        return json.loads(self._engine.query(expr, from_seconds(time)))

    def query_range(self, expr: str, start: float, end: float, step: float) -> dict:
        """A range query from ``start`` to ``end`` every ``step`` seconds."""
        return json.loads(self._engine.query_range(expr, from_seconds(start), from_seconds(end), duration_ms(step)))
