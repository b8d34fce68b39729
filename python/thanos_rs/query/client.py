"""The querier as a Python API, without HTTP::

    from thanos_rs.query import Querier

    with Querier(stores=["127.0.0.1:19190", "127.0.0.1:19191"], replica_labels=["replica"]) as q:
        for s in q.query_range("sum by (cluster) (rate(http_requests_total[5m]))", start, end, 60):
            print(s.labels, s.timestamps[:3], s.values[:3])

It runs the same code as ``thanos_rs query`` (endpoint discovery, fan-out,
merge, deduplication, the engine) on an event loop in a background thread.
Store failures under partial response are reported as
:class:`PartialResponseWarning` warnings.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import warnings
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from thanos_rs.query.endpoints import EndpointSet
from thanos_rs.query.grpc_client import ChannelFactory, ClientTLS
from thanos_rs.query.querier import Answer, AsyncQuerier, QueryOptions
from thanos_rs.timestamp import MAX_TIME_MS, MIN_TIME_MS, duration_ms, from_seconds

T = TypeVar("T")


class PartialResponseWarning(UserWarning):
    """A store failed or warned; the answer may be incomplete."""


@dataclass(frozen=True)
class Series:
    """One series of a range query (or a range selector): its labels and its
    samples as parallel lists, times in Unix seconds."""

    labels: dict[str, str]
    timestamps: list[float]
    values: list[float]


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector."""

    labels: dict[str, str]
    timestamp: float
    value: float


def _series(result: list[dict]) -> list[Series]:
    return [
        Series(s["metric"], [float(t) for t, _ in s["values"]], [float(v) for _, v in s["values"]]) for s in result
    ]


class Querier:
    """A querier over StoreAPI endpoints (``host:port``)."""

    def __init__(
        self,
        stores: Sequence[str],
        *,
        replica_labels: Sequence[str] = (),
        dedup: bool = True,
        partial_response: bool = True,
        timeout: float = 120.0,
        lookback_delta: float = 300.0,
        tls: ClientTLS | None = None,
    ) -> None:
        self._dedup = dedup
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="thanos_rs-querier", daemon=True)
        self._thread.start()
        self._stop = asyncio.Event()
        options = QueryOptions(
            replica_labels=tuple(replica_labels), timeout=timeout, lookback_delta=lookback_delta,
            partial_response=partial_response,
        )

        async def setup() -> AsyncQuerier:
            endpoints = EndpointSet(stores, channels=ChannelFactory(tls or ClientTLS()))
            await endpoints.update()
            self._polling = asyncio.ensure_future(endpoints.run(self._stop))
            return AsyncQuerier(endpoints, options)

        self._querier = self._run(setup())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _answer(self, answer: Answer) -> Any:
        for w in answer.warnings:
            warnings.warn(w, PartialResponseWarning, stacklevel=3)
        return json.loads(answer.data)

    def query(self, expr: str, time_s: float | None = None) -> list[Sample] | list[Series] | float | str:
        """An instant query (at ``time_s``, Unix seconds, default now): a list
        of :class:`Sample` for a vector, of :class:`Series` for a range
        selector, a float for a scalar, a str for a string."""
        t = from_seconds(time.time() if time_s is None else time_s)
        data = self._answer(self._run(self._querier.query(expr, t, dedup=self._dedup)))
        kind, result = data["resultType"], data["result"]
        if kind == "vector":
            return [Sample(s["metric"], float(s["value"][0]), float(s["value"][1])) for s in result]
        if kind == "matrix":
            return _series(result)
        return float(result[1]) if kind == "scalar" else result[1]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        """A range query; times and step in seconds."""
        start_ms, end_ms, step_ms = from_seconds(start), from_seconds(end), duration_ms(step)
        data = self._answer(self._run(self._querier.query_range(expr, start_ms, end_ms, step_ms, dedup=self._dedup)))
        return _series(data["result"])

    def series(self, *matches: str, start: float | None = None, end: float | None = None) -> list[dict[str, str]]:
        """The label sets of the series matching any selector."""
        lo = MIN_TIME_MS if start is None else from_seconds(start)
        hi = MAX_TIME_MS if end is None else from_seconds(end)
        return self._answer(self._run(self._querier.series(list(matches), lo, hi, dedup=self._dedup)))

    def label_names(self, *matches: str) -> list[str]:
        return self._answer(self._run(self._querier.label_names(list(matches), MIN_TIME_MS, MAX_TIME_MS)))

    def label_values(self, name: str, *matches: str) -> list[str]:
        return self._answer(self._run(self._querier.label_values(name, list(matches), MIN_TIME_MS, MAX_TIME_MS)))

    def close(self) -> None:
        async def shutdown() -> None:
            self._stop.set()
            await self._polling
            self._querier.close()
            await self._querier.endpoints.close()

        self._run(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Querier:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
