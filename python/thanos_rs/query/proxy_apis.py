"""The querier's own Rules, Targets, Metadata and Exemplars gRPC services,
for queriers stacked above it (Thanos's ``rules.Proxy``, ``targets.Proxy``,
``metadata.Proxy`` and ``exemplars.Proxy``): every endpoint that announces the
API is asked and
its messages passed on as they are, an endpoint's failure passed on as a
warning under partial response; merging and deduplication are left to the
querier that serves the HTTP API, as in Thanos."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from thanos_rs._core import exemplars_proxy_requests, proxy_request_partial, proxy_warning
from thanos_rs.errors import ThanosRsError
from thanos_rs.query.apis import EXEMPLARS, METADATA, RULES, TARGETS, API, gather
from thanos_rs.query.endpoints import Endpoint
from thanos_rs.query.querier import AsyncQuerier

__all__ = ["ProxyAPIs"]


class ProxyAPIs:
    def __init__(self, querier: AsyncQuerier) -> None:
        self.querier = querier

    def services(self) -> dict[str, dict]:
        """What to register on the gRPC server, by service name."""
        return {
            "thanos.Rules": {"Rules": self.rules},
            "thanos.Targets": {"Targets": self.targets},
            "thanos.Metadata": {"MetricMetadata": self.metric_metadata},
            "thanos.Exemplars": {"Exemplars": self.exemplars},
        }

    def _timeout(self, context: grpc.aio.ServicerContext) -> float:
        remaining = context.time_remaining()
        return self.querier.options.timeout if remaining is None else min(remaining, self.querier.options.timeout)

    async def _proxy(self, api: API, calls: list[tuple[bytes, list[Endpoint]]], partial: bool,
                     context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            gathered = await asyncio.gather(*(
                gather(targets, api, request, partial_response=partial, timeout=self._timeout(context))
                for request, targets in calls
            ))
        except ThanosRsError as e:
            await context.abort(grpc.StatusCode.UNKNOWN, e.message)
            return
        for g in gathered:
            for w in g.warnings:
                yield proxy_warning(api.name, w)
            for answer in g.answers:
                for message in answer:
                    yield message

    async def _simple(self, api: API, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            partial = proxy_request_partial(api.name, request)
        except ThanosRsError as e:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, e.message)
            return
        async for m in self._proxy(api, [(request, self.querier.endpoints.serving(api.name))], partial, context):
            yield m

    async def rules(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        async for m in self._simple(RULES, request, context):
            yield m

    async def targets(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        async for m in self._simple(TARGETS, request, context):
            yield m

    async def metric_metadata(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        async for m in self._simple(METADATA, request, context):
            yield m

    async def exemplars(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        endpoints = self.querier.endpoints.serving(EXEMPLARS.name)
        try:
            partial, requests = exemplars_proxy_requests(
                request, list(self.querier.options.selector_labels), [e.label_sets for e in endpoints])
        except ThanosRsError as e:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, e.message)
            return
        by_request: dict[bytes, list[Endpoint]] = {}
        for e, req in zip(endpoints, requests or [], strict=False):
            if req is not None:
                by_request.setdefault(req, []).append(e)
        async for m in self._proxy(EXEMPLARS, list(by_request.items()), partial, context):
            yield m
