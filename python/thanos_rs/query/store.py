"""The querier's own gRPC services: the StoreAPI (its stores' data merged,
not deduplicated) and Info with component "query", so that a querier can be
one of another querier's stores."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from thanos_rs.errors import BadDataError, ThanosRsError
from thanos_rs.query.querier import AsyncQuerier


class QueryStoreServer:
    def __init__(self, querier: AsyncQuerier) -> None:
        self.querier = querier


    async def info(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return self.querier.info()[0]

    async def store_info(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return self.querier.info()[1]

    async def series(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            async for m in self.querier.proxy_series(request):
                yield m
        except ThanosRsError as e:
            await _abort(context, e)

    async def labels(self, values: bool, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        try:
            return await self.querier.proxy_labels(values, request)
        except ThanosRsError as e:
            await _abort(context, e)
            raise  # abort() raises; this line is never reached


async def _abort(context: grpc.aio.ServicerContext, e: ThanosRsError) -> None:
    # Bad matchers are the caller's fault; a store failing without partial
    # response is passed on as Thanos does, with code Unknown.
    code = grpc.StatusCode.INVALID_ARGUMENT if isinstance(e, BadDataError) else grpc.StatusCode.UNKNOWN
    await context.abort(code, e.message)
