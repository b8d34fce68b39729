"""The sidecar's gRPC services (``PrometheusStore`` in ``pkg/store/prometheus.go``
upstream): Info, the legacy Store/Info, Series, LabelNames and LabelValues,
answered from Prometheus.

Two read paths. With ``--tsdb.path``, the Rust ``Tsdb`` reads Prometheus's
data directory itself (Thanos's ``TSDBStore``, ``pkg/store/tsdb.go``) and
hands over finished messages. Otherwise, or when that directory cannot be
read, Prometheus is asked over HTTP: the Rust ``RemoteReadClient`` reads its
remote-read answers, aiohttp makes the label API calls, and the Rust
``SeriesStream`` and ``PrometheusLabelsQuery`` decide what to ask and encode
every message. Either way Python only passes finished messages to grpcio."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from thanos_rs._core import (
    PrometheusLabelsQuery,
    SeriesStream,
    Tsdb,
    TsdbSeries,
    encode_sidecar_info,
    encode_sidecar_store_info,
)
from thanos_rs.errors import (
    BadDataError,
    CorruptBlockError,
    CorruptFrameError,
    PrometheusError,
    StoreError,
    ThanosRsError,
)
from thanos_rs.sidecar.prometheus import PrometheusClient, PrometheusMeta

log = logging.getLogger("sidecar")

# How Thanos's promclient maps Prometheus's HTTP errors to gRPC codes; any
# other failure is Internal.
_HTTP_TO_GRPC = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    422: grpc.StatusCode.INTERNAL,
    500: grpc.StatusCode.INTERNAL,
    503: grpc.StatusCode.UNAVAILABLE,
}


def _code(e: BaseException) -> grpc.StatusCode:
    if isinstance(e, PrometheusError):
        if not e.status or e.status // 100 == 2:
            # Prometheus could not be reached, or its answer broke off.
            return grpc.StatusCode.UNAVAILABLE
        return _HTTP_TO_GRPC.get(e.status, grpc.StatusCode.INTERNAL)
    if isinstance(e, BadDataError):
        return grpc.StatusCode.INVALID_ARGUMENT
    if isinstance(e, (CorruptFrameError, CorruptBlockError)):
        # Frames or files that fail their checks: never passed on.
        return grpc.StatusCode.DATA_LOSS
    if isinstance(e, (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)):
        return grpc.StatusCode.UNAVAILABLE
    return grpc.StatusCode.INTERNAL


def _message(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    if isinstance(e, aiohttp.ClientPayloadError):
        return f"read response: {text}"
    if isinstance(e, aiohttp.ClientError):
        return f"send request: {text}"
    return text


# The failures a call turns into a gRPC error; anything else is a bug and is
# left to grpcio, which answers Unknown and logs it.
_FAILURES = (ThanosRsError, aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)

#: About how many bytes of messages one Rust call returns, over the data
#: directory or remote read: large enough that the call overhead vanishes,
#: small enough that a huge answer never sits in memory whole.
BATCH_BYTES = 1 << 20


def open_tsdb(path: str | None, registry: CollectorRegistry) -> Tsdb | None:
    """The data directory to read directly, or None for remote read; says in
    the log and in ``thanos_sidecar_tsdb_direct_read`` which it is and why."""
    direct = Gauge("thanos_sidecar_tsdb_direct_read",
                   "1 when Series and label calls read Prometheus's data directory (--tsdb.path), "
                   "0 when they go through remote read.", registry=registry)
    if path is None:
        log.info("reading Prometheus through its remote-read API; --tsdb.path not given")
        return None
    try:
        tsdb = Tsdb(path)
    except StoreError as e:
        log.warning("cannot read the TSDB directory, falling back to remote read path=%s err=%r", path, e.message)
        return None
    direct.set(1)
    log.info("reading Prometheus's data directory directly path=%s blocks=%d", path, len(tsdb.blocks()))
    return tsdb


class PrometheusStore:
    def __init__(self, client: PrometheusClient, meta: PrometheusMeta, registry: CollectorRegistry,
                 tsdb: Tsdb | None = None) -> None:
        self.client = client
        self.meta = meta
        self.tsdb = tsdb
        # Registered without the thanos_ prefix, as Thanos does.
        self.frames = Histogram("prometheus_store_received_frames", "Number of frames received per streamed response.",
                                buckets=(10, 100, 1000, 10000, 100000), registry=registry)
        self.fallbacks = Counter("thanos_sidecar_tsdb_fallbacks",
                                 "Calls answered through remote read because the data directory could not be read.",
                                 ["call"], registry=registry)

    def _fall_back(self, call: str, e: StoreError) -> None:
        self.fallbacks.labels(call).inc()
        log.warning("%s: reading the TSDB directory failed, asking Prometheus instead err=%r", call, e.message)


    async def info(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        # Thanos withholds the StoreAPI while Prometheus is unreachable, and
        # queriers then leave this sidecar's data out without a word. We keep
        # announcing what we last had: queries that need it are told it failed.
        return encode_sidecar_info(self.meta.external_labels, (self.meta.min_time, self.meta.max_time))

    async def store_info(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return encode_sidecar_store_info(self.meta.external_labels, self.meta.min_time, self.meta.max_time)

    async def _confirm_prometheus(self, context: grpc.aio.ServicerContext, call: str) -> None:
        """On the direct read path: fails the call if Prometheus is down.
        Its data directory would still answer, but without what Prometheus
        has stopped collecting, and nothing would tell the caller: Unavailable
        does (a querier warns, and its stores page shows why), and the sidecar
        turns not ready at this first call rather than at the next heartbeat.
        Remote-read calls find out by failing."""
        if not await self.meta.confirm():
            message = f"Prometheus is down: {self.meta.failure}"
            log.warning("%s failed code=UNAVAILABLE err=%r", call, message)
            await context.abort(grpc.StatusCode.UNAVAILABLE, message)

    async def series(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        if self.tsdb is not None:
            await self._confirm_prometheus(context, "Series")
        selection = await self._tsdb_series(request, context) if self.tsdb is not None else None
        messages = self._read_tsdb(selection, context) if selection else self._remote_read(request, context)
        async for message in messages:
            yield message

    async def _tsdb_series(self, request: bytes, context: grpc.aio.ServicerContext) -> TsdbSeries | None:
        """The selection over the data directory, or None to use remote read."""
        assert self.tsdb is not None
        try:
            return await asyncio.to_thread(self.tsdb.series, request, self.meta.external_labels, self.meta.min_time)
        except StoreError as e:
            self._fall_back("Series", e)
            return None
        except _FAILURES as e:
            await self._abort(context, "Series", e)
            raise  # abort() raises; never reached

    async def _read_tsdb(self, selection: TsdbSeries, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            while messages := await asyncio.to_thread(selection.next, BATCH_BYTES):
                for message in messages:
                    yield message
        except _FAILURES as e:
            # Part of the answer may be sent: remote read cannot complete it.
            await self._abort(context, "Series", e, "read TSDB")

    async def _remote_read(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            stream = SeriesStream(request, self.meta.external_labels, self.meta.min_time)
            if not stream.matches:
                return
            if stream.skip_chunks:
                body = await self.client.api_get("/api/v1/series", stream.series_params())
                for message in await asyncio.to_thread(stream.feed_series_json, body):
                    yield message
                return
            answer = await self.client.remote_read(stream)
            # Rust reads the next batch while this one is sent: read then send
            # in turn was 15 % slower than aiohttp at 10,000 series. Memory
            # stays at about two batches whatever the series count. A call
            # given up drops ``answer``, which closes the connection to
            # Prometheus (once the read in flight returns).
            ahead = asyncio.ensure_future(asyncio.to_thread(answer.next, BATCH_BYTES))
            try:
                while messages := await ahead:
                    ahead = asyncio.ensure_future(asyncio.to_thread(answer.next, BATCH_BYTES))
                    for message in messages:
                        yield message
            finally:
                # A read in flight is not stopped, only no longer awaited; one
                # that failed meanwhile is read here so that asyncio does not
                # log its error as lost.
                if not ahead.cancel() and not ahead.cancelled():
                    ahead.exception()
                if answer.streamed:
                    self.frames.observe(stream.frames)
        except _FAILURES as e:
            await self._abort(context, "Series", e)

    async def labels(self, values: bool, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        call = "LabelValues" if values else "LabelNames"
        if self.tsdb is not None:
            await self._confirm_prometheus(context, call)
            try:
                return await asyncio.to_thread(self.tsdb.labels, values, request, self.meta.external_labels)
            except StoreError as e:
                self._fall_back(call, e)
            except _FAILURES as e:
                await self._abort(context, call, e)
                raise  # abort() raises; never reached
        try:
            query = PrometheusLabelsQuery(values, request, self.meta.external_labels)
            if query.answer is not None:
                return query.answer
            body = await self.client.api_get(query.path, query.params)
            return await asyncio.to_thread(query.response, body)
        except _FAILURES as e:
            await self._abort(context, call, e)
            raise  # abort() raises; never reached

    async def _abort(self, context: grpc.aio.ServicerContext, call: str, e: BaseException,
                     source: str = "query Prometheus") -> None:
        code, message = _code(e), _message(e)
        if isinstance(e, (aiohttp.ClientConnectionError, ConnectionError)) or (
            isinstance(e, PrometheusError) and not e.status
        ):
            self.meta.unreachable(e)
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            # The caller's mistake: told to the caller, not worth a warning here.
            log.debug("%s refused err=%r", call, message)
        else:
            message = f"{source}: {message}"
            log.warning("%s failed code=%s err=%r", call, code.name, message)
        await context.abort(code, message)
