"""The sidecar's Rules API, ``thanos.Rules/Rules`` (``pkg/rules/prometheus.go``
upstream): Prometheus's ``/api/v1/rules`` asked for the request's type, and
answered with one ``RulesResponse`` per rule group, the external labels added
by Rust. A Prometheus that cannot be reached fails the call as the Store API
calls fail, so that queriers warn or fail as they do for queries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from thanos_rs._core import encode_sidecar_rules, sidecar_rules_type
from thanos_rs.sidecar.prometheus import PrometheusClient, PrometheusMeta
from thanos_rs.sidecar.store import _FAILURES, PrometheusStore


class PrometheusRules:
    def __init__(self, client: PrometheusClient, meta: PrometheusMeta, store: PrometheusStore) -> None:
        self.client = client
        self.meta = meta
        # Its failure handling: the log line, Prometheus marked unreachable, the gRPC code.
        self._store = store

    async def rules(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            kind = sidecar_rules_type(request)
            body = await self.client.api_get("/api/v1/rules", [("type", kind)] if kind else [])
            messages = await asyncio.to_thread(encode_sidecar_rules, body, self.meta.external_labels)
        except _FAILURES as e:
            await self._store._abort(context, "Rules", e)
            return
        for message in messages:
            yield message
