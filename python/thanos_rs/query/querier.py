"""The querier's core: PromQL and metadata requests fanned out to the stores.

Python only moves bytes here. Rust plans a request and says which stores to
call with which serialized request; the raw answers go back to Rust, which
decodes, merges, deduplicates and evaluates with the GIL released, in a worker
thread so that the event loop keeps serving. A failing store becomes a
warning under partial response, or fails the request without it, with the
words Thanos uses; so does a store that is down but would have been asked.

Times and steps are integer milliseconds, as the core takes them; the
callers (the HTTP API, the Python API) convert theirs once.

Each PromQL query has one deadline, from its arrival: waiting for one of the
``--query.max-concurrent`` slots, fetching and evaluating all count against
it. PromQL runs on its own pool of that many threads, so heavy queries never
hold the threads metadata calls use. A query whose caller goes away is
cancelled: its store calls and its evaluation stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

from thanos_rs import _core, gofmt
from thanos_rs.errors import PromQLError, StoreError, ThanosRsError
from thanos_rs.query.endpoints import DOWN, Endpoint, EndpointSet
from thanos_rs.query.fanout import Call, FanOut
from thanos_rs.query.grpc_client import LABEL_NAMES, LABEL_VALUES, SERIES, read_messages, rpc_error_text
from thanos_rs.query.resolution import lookback_delta_ms
from thanos_rs.query.stats import QueryStats
from thanos_rs.timestamp import duration_ms

__all__ = ["Answer", "AsyncQuerier", "QueryOptions"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Bytes of a store's messages read while the previous ones are decoded:
#: beyond them, reading waits for the decoder.
_PUSH_BYTES = 1 << 20



@dataclass(frozen=True)
class QueryOptions:
    """The querier's flags that shape requests."""

    replica_labels: Sequence[str] = ()
    #: ``--query.timeout``: the longest a query may take, fetching included.
    timeout: float = 120.0
    lookback_delta: float = 300.0
    #: ``--query.dynamic-lookback-delta``: queries of downsampled data look back a window at least.
    dynamic_lookback_delta: bool = True
    #: ``--query.partial-response``: the default of the ``partial_response`` parameter.
    partial_response: bool = True
    max_concurrent: int = 20
    max_concurrent_select: int = 4
    #: ``--store.response-timeout``: the longest wait for one message of a store; 0 is no limit.
    store_response_timeout: float = 0.0
    selector_labels: Sequence[tuple[str, str]] = field(default_factory=tuple)
    #: ``--query.max-samples``: samples one query may hold at once, counted
    #: as Prometheus counts them (Prometheus's flag and default; Thanos's engine
    #: has no limit to speak of, ``math.MaxInt32``).
    max_samples: int = 50_000_000
    #: ``--query.default-evaluation-interval``: the step of subqueries written without one.
    default_evaluation_interval: float = 60.0


@dataclass(frozen=True)
class Answer:
    """A response's ``data`` as JSON bytes, its warnings and, for PromQL, what it cost."""

    data: bytes
    warnings: list[str]
    stats: QueryStats | None = None


class AsyncQuerier:
    """Answers queries from the endpoints of an :class:`EndpointSet`."""

    def __init__(self, endpoints: EndpointSet, options: QueryOptions = QueryOptions()) -> None:
        self.endpoints = endpoints
        self.options = options
        self._gate = asyncio.Semaphore(options.max_concurrent)
        # One thread per slot, for evaluations only: answers are decoded on
        # asyncio's default pool, which metadata calls share.
        self._pool = ThreadPoolExecutor(options.max_concurrent, thread_name_prefix="promql")

    def close(self) -> None:
        """Stops the PromQL pool; queries still running there are cancelled by their callers."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _in_pool(self, fn: Callable[..., T], *args) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _partial(self, partial_response: bool | None) -> bool:
        return self.options.partial_response if partial_response is None else partial_response

    def _replica_labels(self, dedup: bool, replica_labels: Sequence[str] | None) -> list[str]:
        if not dedup:
            return []
        return list(replica_labels) if replica_labels else list(self.options.replica_labels)

    def _timeout(self, timeout: float | None) -> float:
        return min(self.options.timeout, timeout) if timeout is not None else self.options.timeout

    # PromQL.

    async def query(
        self,
        expr: str,
        time_ms: int,
        *,
        dedup: bool = True,
        replica_labels: Sequence[str] | None = None,
        partial_response: bool | None = None,
        timeout: float | None = None,
        store_match: Sequence[str] = (),
        max_source_resolution: int = 0,
    ) -> Answer:
        """An instant query at ``time_ms``; ``timeout`` in seconds,
        ``max_source_resolution`` in ms (0 reads raw data only)."""
        limit = self._timeout(timeout)
        deadline = time.monotonic() + limit
        args = self._engine_args(limit, partial_response, max_source_resolution)
        q = _core.DistributedQuery.instant(expr, time_ms, **args)
        return await self._evaluate(q, dedup, replica_labels, deadline, store_match)

    async def query_range(
        self,
        expr: str,
        start_ms: int,
        end_ms: int,
        step_ms: int,
        *,
        dedup: bool = True,
        replica_labels: Sequence[str] | None = None,
        partial_response: bool | None = None,
        timeout: float | None = None,
        store_match: Sequence[str] = (),
        max_source_resolution: int = 0,
    ) -> Answer:
        """A range query; times, step and ``max_source_resolution`` in ms,
        ``timeout`` in seconds."""
        limit = self._timeout(timeout)
        deadline = time.monotonic() + limit
        args = self._engine_args(limit, partial_response, max_source_resolution)
        q = _core.DistributedQuery.range(expr, start_ms, end_ms, step_ms, **args)
        return await self._evaluate(q, dedup, replica_labels, deadline, store_match)

    def _engine_args(self, timeout: float, partial_response: bool | None, max_source_resolution: int) -> dict:
        # The engine's deadline runs from the query's creation, as ours does.
        lookback = lookback_delta_ms(
            duration_ms(self.options.lookback_delta), max_source_resolution, self.options.dynamic_lookback_delta)
        return {
            "partial_response": self._partial(partial_response),
            "max_source_resolution": max_source_resolution,
            "lookback_delta": lookback,
            "timeout": duration_ms(timeout),
            "max_samples": self.options.max_samples,
            "default_evaluation_interval": duration_ms(self.options.default_evaluation_interval),
            "selector_labels": list(self.options.selector_labels),
        }

    @contextlib.asynccontextmanager
    async def _slot(self, deadline: float) -> AsyncIterator[None]:
        """One of ``--query.max-concurrent`` slots, waited for until the
        deadline at most (Prometheus's words when the wait is too long)."""
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                await self._gate.acquire()
        except TimeoutError:
            raise PromQLError("query timed out in query queue", "timeout") from None
        try:
            yield
        finally:
            self._gate.release()

    def _stores(self, store_match: Sequence[str]) -> list[Endpoint]:
        """The stores a request counts, narrowed by ``storeMatch[]``
        (selectors on ``__address__``, as in Thanos)."""
        stores = self.endpoints.stores()
        if not store_match:
            return stores
        admitted = _core.match_store_addresses(list(store_match), [s.address for s in stores])
        return [s for s, ok in zip(stores, admitted) if ok]

    async def _evaluate(
        self, q: _core.DistributedQuery, dedup: bool, replica_labels: Sequence[str] | None, deadline: float,
        store_match: Sequence[str],
    ) -> Answer:
        arrived = time.monotonic()
        async with self._slot(deadline):
            started = time.monotonic()
            stores = self._stores(store_match)
            try:
                await self._fan_out(self._series_jobs(q, stores, deadline), deadline)
            except TimeoutError:
                raise PromQLError("query timed out in expression evaluation", "timeout") from None
            fetched = time.monotonic()
            labels = self._replica_labels(dedup, replica_labels)
            try:
                data, warnings, cost = await self._in_pool(q.execute, labels)
            except asyncio.CancelledError:
                q.cancel()
                raise
        done = time.monotonic()
        stats = QueryStats(
            exec_queue=started - arrived, preparation=fetched - started + cost["merge"],
            inner_eval=cost["inner_eval"], result_sort=cost["result_sort"], eval_total=done - started,
            exec_total=done - arrived, total_samples=int(cost["total_samples"]), peak_samples=int(cost["peak_samples"]),
        )
        return Answer(data, warnings, stats)

    async def _fan_out(self, jobs: list[tuple[int, Callable[..., Awaitable[None]], tuple]], deadline: float) -> None:
        """Runs the calls of each group (a select, a ``match[]``) concurrently,
        at most ``--query.max-concurrent-select`` groups at a time; the first
        error cancels the rest."""
        groups: dict[int, list] = {}
        for group, fn, args in jobs:
            groups.setdefault(group, []).append((fn, args))
        selects = asyncio.Semaphore(self.options.max_concurrent_select)

        async def run_group(calls: list) -> None:
            async with selects:
                async with asyncio.TaskGroup() as tg:
                    for fn, args in calls:
                        tg.create_task(fn(*args))

        try:
            # A second over the deadline: the calls' own gRPC deadlines fire
            # first and become warnings under partial response.
            async with asyncio.timeout(max(deadline - time.monotonic(), 0) + 1.0):
                async with asyncio.TaskGroup() as tg:
                    for calls in groups.values():
                        tg.create_task(run_group(calls))
        except BaseExceptionGroup as eg:
            raise _first_error(eg) from None

    def _series_jobs(
        self, target: _core.DistributedQuery | _core.SeriesQuery, stores: list[Endpoint], deadline: float
    ) -> list[tuple]:
        """``_fan_out`` jobs of the Series calls of a query, each answer
        going to ``target``'s group."""
        return [(group, self._series_call, (target, stores[st], req, deadline, _Answer(target, group)))
                for group, st, req in _calls(target, stores)]

    async def _series_call(
        self, target: FanOut, store: Endpoint, request: bytes, deadline: float, sink: _Answer | _ProxyInput
    ) -> None:
        """One ``Series`` call; its messages go to ``sink`` as they arrive."""
        remaining = max(deadline - time.monotonic(), 0.001)
        frame_timeout = self.options.store_response_timeout or None
        try:
            if not store.callable:
                raise StoreError(store.reason or DOWN)
            await store.unless_down(self._receive(store, request, remaining, frame_timeout, sink))
        except grpc.aio.AioRpcError as err:
            reason = rpc_error_text(err)
            self._store_failed(target, f"receive series from {store.describe()}: {reason}", store, reason)
        except TimeoutError:
            waited = gofmt.duration_ms(round((frame_timeout or remaining) * 1000))
            what = f"failed to receive any data in {waited} from {store.describe()}"
            self._store_failed(target, f"{what}: context deadline exceeded", store, "context deadline exceeded")
        except ThanosRsError as err:
            self._store_failed(target, f"receive series from {store.describe()}: {err}", store, str(err))
        else:
            store.data_served()
            await sink.close(complete=True)
            return
        await sink.close(complete=False)

    @staticmethod
    async def _receive(store: Endpoint, request: bytes, timeout: float, frame_timeout: float | None, sink) -> None:
        """Reads the call's messages into ``sink``. Pushes run in a worker
        thread while the next messages are read, and each push takes all
        that arrived meanwhile: the thread hop is paid per batch, and no
        message waits for more to come. Reading pauses while ``_PUSH_BYTES``
        wait, which keeps the sink's backpressure."""
        waiting: list[bytes] = []
        size = 0

        async def pump() -> None:
            nonlocal waiting, size
            while waiting:
                batch, waiting, size = waiting, [], 0
                await sink.push(batch)

        pumping: asyncio.Task | None = None
        messages = read_messages(store.channel, SERIES, request, timeout=timeout, frame_timeout=frame_timeout)
        try:
            async with contextlib.aclosing(messages):
                async for msg in messages:
                    waiting.append(msg)
                    size += len(msg)
                    if pumping is not None and (pumping.done() or size >= _PUSH_BYTES):
                        await pumping  # its error, if any, is the call's
                        pumping = None
                    if pumping is None:
                        pumping = asyncio.create_task(pump())
            if pumping is not None:
                await pumping
            await pump()
        finally:
            if pumping is not None and not pumping.done():
                pumping.cancel()

    @staticmethod
    def _store_failed(
        target: FanOut, message: str, store: Endpoint, reason: str, prefix: str = "proxy Series()"
    ) -> None:
        """A store's call failed (or was not made, the store being down): a
        warning under partial response, else the request fails. The stores
        page shows ``reason`` until the store serves again."""
        store.data_failed(reason)
        if target.partial_response:
            log.warning("returning partial response: %s", message)
            target.add_warning(message)
            return
        raise StoreError(f"{prefix}: {message}", "execution")

    # Metadata.

    async def series(
        self,
        matches: Sequence[str],
        start_ms: int,
        end_ms: int,
        *,
        dedup: bool = True,
        replica_labels: Sequence[str] | None = None,
        partial_response: bool | None = None,
        limit: int = 0,
        store_match: Sequence[str] = (),
    ) -> Answer:
        """``/api/v1/series``: the label sets of the series matching any of
        ``matches``, at most ``limit`` of them unless it is 0."""
        q = _core.SeriesQuery(list(matches), start_ms, end_ms, self._partial(partial_response))
        deadline = time.monotonic() + self.options.timeout
        await self._fan_out(self._series_jobs(q, self._stores(store_match), deadline), deadline)
        data, warnings = await asyncio.to_thread(q.execute, self._replica_labels(dedup, replica_labels), limit)
        return Answer(data, warnings)

    async def label_names(
        self, matches: Sequence[str], start_ms: int, end_ms: int, *, partial_response: bool | None = None,
        limit: int = 0, store_match: Sequence[str] = (),
    ) -> Answer:
        """``/api/v1/labels``; at most ``limit`` names unless it is 0."""
        q = _core.LabelsQuery(None, list(matches), start_ms, end_ms, self._partial(partial_response))
        await self._labels(q, store_match)
        return Answer(*await asyncio.to_thread(q.execute, limit))

    async def label_values(
        self, name: str, matches: Sequence[str], start_ms: int, end_ms: int, *, partial_response: bool | None = None,
        limit: int = 0, store_match: Sequence[str] = (),
    ) -> Answer:
        """``/api/v1/label/<name>/values``; at most ``limit`` values unless it is 0."""
        q = _core.LabelsQuery(name, list(matches), start_ms, end_ms, self._partial(partial_response))
        await self._labels(q, store_match)
        return Answer(*await asyncio.to_thread(q.execute, limit))

    async def _labels(self, q: _core.LabelsQuery, store_match: Sequence[str] = ()) -> None:
        values = q.values
        method, what = (LABEL_VALUES, "label values") if values else (LABEL_NAMES, "label names")
        prefix = "proxy LabelValues()" if values else "proxy LabelNames()"
        stores = self._stores(store_match)
        deadline = time.monotonic() + self.options.timeout

        async def call(store: Endpoint, request: bytes) -> None:
            try:
                if not store.callable:
                    raise StoreError(store.reason or DOWN)
                remaining = max(deadline - time.monotonic(), 0.001)
                answer = await store.unless_down(store.channel.unary_unary(method)(request, timeout=remaining))
                q.add_answer(answer)
            except grpc.aio.AioRpcError as err:
                reason = rpc_error_text(err)
                self._store_failed(q, f"fetch {what} from store {store.describe()}: {reason}", store, reason, prefix)
            except ThanosRsError as err:
                self._store_failed(q, f"fetch {what} from store {store.describe()}: {err}", store, str(err), prefix)
            else:
                store.data_served()

        await self._fan_out([(group, call, (stores[st], req)) for group, st, req in _calls(q, stores)], deadline)

    # The querier's own StoreAPI.

    async def proxy_series(self, request: bytes) -> AsyncIterator[bytes]:
        """A ``Series`` call to our StoreAPI: passed on, merged, not
        deduplicated. Series go out as soon as the merge has decided them,
        while the stores still send; warnings come last."""
        p = _core.ProxySeries(request, list(self.options.selector_labels))
        stores = self.endpoints.stores()
        deadline = time.monotonic() + self.options.timeout
        merged = _ProxyProgress()
        # The answer to the i-th call is the merge's input i.
        jobs = [(group, self._series_call, (p, stores[st], req, deadline, _ProxyInput(p, i, merged)))
                for i, (group, st, req) in enumerate(_calls(p, stores))]

        async def fetch() -> None:
            try:
                await self._fan_out(jobs, deadline)
            finally:
                merged.ready.set()

        task = asyncio.create_task(fetch())
        try:
            while True:
                merged.ready.clear()
                # Taken in the merge's order, whichever store's push made them ready.
                for message in p.take_ready():
                    yield message
                merged.moved.set()  # a store paused for us may go on
                if task.done():
                    break
                await merged.ready.wait()
            await task  # a store's failure without partial response fails the call here
            for message in await asyncio.to_thread(p.finish):
                yield message
        finally:
            # The caller went away or a store failed: the other calls stop.
            task.cancel()

    async def proxy_labels(self, values: bool, request: bytes) -> bytes:
        """A ``LabelNames``/``LabelValues`` call to our StoreAPI."""
        q = _core.LabelsQuery.from_request(values, request)
        await self._labels(q)
        return await asyncio.to_thread(q.response)

    def info(self) -> tuple[bytes, bytes]:
        """Our Info answers: ``(thanos.info.Info, legacy thanos.Store/Info)``."""
        healthy = [e for e in self.endpoints.endpoints() if e.active]
        described = [(e.component or "", e.label_sets, e.store) for e in healthy]
        return _core.encode_query_info(described, list(self.options.selector_labels))


class _Answer:
    """A store's answer to one select or ``match[]`` of a query, decoded as it
    arrives and given to the query once complete. A failed call's part is
    dropped: under partial response that store answered nothing."""

    def __init__(self, target: _core.DistributedQuery | _core.SeriesQuery, group: int) -> None:
        self.target = target
        self.group = group
        self.answer = _core.SeriesAnswer()

    async def push(self, messages: list[bytes]) -> None:
        await asyncio.to_thread(self.answer.push, messages)

    async def close(self, complete: bool) -> None:
        if complete:
            self.target.add_answer(self.group, self.answer)


class _ProxyProgress:
    """What the calls of one request through our StoreAPI wait on."""

    def __init__(self) -> None:
        #: Set when a push may have made messages ready: the sender looks.
        self.ready = asyncio.Event()
        #: Set when the merge or the sender moved: a paused store looks again.
        self.moved = asyncio.Event()


class _ProxyInput:
    """A store's answer to a call through our StoreAPI, pushed into the
    streaming merge, which it waits for when it runs ahead."""

    def __init__(self, proxy: _core.ProxySeries, index: int, progress: _ProxyProgress) -> None:
        self.proxy = proxy
        self.index = index
        self.progress = progress

    async def push(self, messages: list[bytes]) -> None:
        await asyncio.to_thread(self.proxy.push, self.index, messages)
        self._moved()
        while self.proxy.backlogged(self.index):
            self.progress.moved.clear()
            await self.progress.moved.wait()

    async def close(self, complete: bool) -> None:
        # A failed store's series before the failure have gone out already,
        # as in Thanos; the merge stops waiting for it either way.
        await asyncio.to_thread(self.proxy.finish_input, self.index)
        self._moved()

    def _moved(self) -> None:
        self.progress.ready.set()
        self.progress.moved.set()


def _calls(target: FanOut, stores: list[Endpoint]) -> list[Call]:
    """The calls ``target`` needs of ``stores``."""
    return target.calls([s.as_store() for s in stores])


def _first_error(eg: BaseExceptionGroup) -> BaseException:
    """The error to report from a group of failed calls: a request error
    before anything else."""
    leaves: list[BaseException] = []

    def walk(e: BaseException) -> None:
        if isinstance(e, BaseExceptionGroup):
            for sub in e.exceptions:
                walk(sub)
        else:
            leaves.append(e)

    walk(eg)
    for e in leaves:
        if isinstance(e, ThanosRsError):
            return e
    return leaves[0]
