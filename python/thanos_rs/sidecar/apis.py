"""The sidecar's Metadata, Targets and Exemplars gRPC services over
Prometheus's HTTP API (``pkg/metadata/prometheus.go``,
``pkg/targets/prometheus.go`` and ``pkg/exemplars/prometheus.go`` upstream):
each call is one GET on Prometheus, whose JSON Rust turns into the messages
Thanos sends, external labels added to targets and exemplar series."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from thanos_rs._core import (
    sidecar_exemplars_params,
    sidecar_exemplars_responses,
    sidecar_metadata_params,
    sidecar_metadata_response,
    sidecar_targets_params,
    sidecar_targets_response,
)
from thanos_rs.sidecar.prometheus import PrometheusClient, PrometheusMeta
from thanos_rs.sidecar.store import _FAILURES, PrometheusStore

__all__ = ["PrometheusAPIs"]


class PrometheusAPIs:
    """The three services; failures are told as the StoreAPI tells them."""

    def __init__(self, client: PrometheusClient, meta: PrometheusMeta, store: PrometheusStore) -> None:
        self.client = client
        self.meta = meta
        # Its abort: Prometheus's HTTP status as Thanos's promclient maps it.
        self._store = store

    def services(self) -> dict[str, dict]:
        """What to register on the gRPC server, by service name."""
        return {
            "thanos.Metadata": {"MetricMetadata": self.metric_metadata},
            "thanos.Targets": {"Targets": self.targets},
            "thanos.Exemplars": {"Exemplars": self.exemplars},
        }

    async def metric_metadata(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            body = await self.client.api_get("/api/v1/metadata", sidecar_metadata_params(request))
            message = sidecar_metadata_response(body)
        except _FAILURES as e:
            await self._store._abort(context, "MetricMetadata", e)
            return
        yield message

    async def targets(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            body = await self.client.api_get("/api/v1/targets", sidecar_targets_params(request))
            message = sidecar_targets_response(body, self.meta.external_labels)
        except _FAILURES as e:
            await self._store._abort(context, "Targets", e)
            return
        yield message

    async def exemplars(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        try:
            body = await self.client.api_get("/api/v1/query_exemplars", sidecar_exemplars_params(request))
            messages = sidecar_exemplars_responses(body, self.meta.external_labels)
        except _FAILURES as e:
            await self._store._abort(context, "Exemplars", e)
            return
        for message in messages:
            yield message
