"""The sidecar's gRPC services (``PrometheusStore`` in ``pkg/store/prometheus.go``
upstream): Info, the legacy Store/Info, Series, LabelNames and LabelValues,
answered from Prometheus. Python moves bytes between aiohttp and grpcio; the
Rust ``SeriesStream`` and ``PrometheusLabelsQuery`` decide what to ask and
encode every message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import grpc
from prometheus_client import CollectorRegistry, Histogram

from thanos_rs._core import (
    PrometheusLabelsQuery,
    SeriesStream,
    encode_sidecar_info,
    encode_sidecar_store_info,
)
from thanos_rs.errors import BadDataError, CorruptFrameError, ThanosRsError
from thanos_rs.sidecar.prometheus import (
    SAMPLES_CONTENT_TYPE,
    STREAMED_CONTENT_TYPE,
    PrometheusClient,
    PrometheusError,
    PrometheusMeta,
)

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
        # Status 0: Prometheus could not be reached at all.
        return _HTTP_TO_GRPC.get(e.status, grpc.StatusCode.INTERNAL) if e.status else grpc.StatusCode.UNAVAILABLE
    if isinstance(e, BadDataError):
        return grpc.StatusCode.INVALID_ARGUMENT
    if isinstance(e, CorruptFrameError):
        # Frames that fail their checksum or do not decode: never passed on.
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
_FAILURES = (ThanosRsError, PrometheusError, aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


class PrometheusStore:
    def __init__(self, client: PrometheusClient, meta: PrometheusMeta, registry: CollectorRegistry) -> None:
        self.client = client
        self.meta = meta
        # Registered without the thanos_ prefix, as Thanos does.
        self.frames = Histogram("prometheus_store_received_frames", "Number of frames received per streamed response.",
                                buckets=(10, 100, 1000, 10000, 100000), registry=registry)


    async def info(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        # Thanos withholds the StoreAPI while Prometheus is unreachable, and
        # queriers then leave this sidecar's data out without a word. We keep
        # announcing what we last had: queries that need it are told it failed.
        return encode_sidecar_info(self.meta.external_labels, (self.meta.min_time, self.meta.max_time))

    async def store_info(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return encode_sidecar_store_info(self.meta.external_labels, self.meta.min_time, self.meta.max_time)

    async def series(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            stream = SeriesStream(request, self.meta.external_labels, self.meta.min_time)
            if not stream.matches:
                return
            if stream.skip_chunks:
                body = await self.client.api_get("/api/v1/series", stream.series_params())
                for message in await asyncio.to_thread(stream.feed_series_json, body):
                    yield message
                return
            async with self.client.remote_read(stream.read_request()) as resp:
                content_type = resp.headers.get("Content-Type", "")
                if content_type.startswith(SAMPLES_CONTENT_TYPE):
                    # Prometheus before 2.13 answers in one piece.
                    body = await resp.read()
                    for message in await asyncio.to_thread(stream.feed_samples, body):
                        yield message
                    return
                if not content_type.startswith(STREAMED_CONTENT_TYPE):
                    raise PrometheusError(f"not supported remote read content type: {content_type}", 500)
                try:
                    # One Rust call per piece of the body as it arrives; the next
                    # piece is read only once its messages are sent, so memory
                    # stays at about one frame whatever the series count.
                    async for data in resp.content.iter_any():
                        for message in stream.feed(data):
                            yield message
                    for message in stream.finish():
                        yield message
                finally:
                    self.frames.observe(stream.frames)
        except _FAILURES as e:
            await self._abort(context, "Series", e)

    async def labels(self, values: bool, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        try:
            query = PrometheusLabelsQuery(values, request, self.meta.external_labels)
            if query.answer is not None:
                return query.answer
            body = await self.client.api_get(query.path, query.params)
            return await asyncio.to_thread(query.response, body)
        except _FAILURES as e:
            await self._abort(context, "LabelValues" if values else "LabelNames", e)
            raise  # abort() raises; never reached

    async def _abort(self, context: grpc.aio.ServicerContext, call: str, e: BaseException) -> None:
        code, message = _code(e), _message(e)
        if isinstance(e, (aiohttp.ClientConnectionError, ConnectionError)) or (
            isinstance(e, PrometheusError) and not e.status
        ):
            self.meta.unreachable(e)
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            # The caller's mistake: told to the caller, not worth a warning here.
            log.debug("%s refused err=%r", call, message)
        else:
            message = f"query Prometheus: {message}"
            log.warning("%s failed code=%s err=%r", call, code.name, message)
        await context.abort(code, message)
