"""The querier's side of the Rules, Targets, Metadata and Exemplars APIs
(Thanos's ``pkg/rules/proxy.go`` and its siblings): one call to every healthy
endpoint that announces the API, the raw answers kept per endpoint for Rust
to merge and deduplicate. An endpoint that fails becomes a warning under
partial response, or fails the request without it, in Thanos's words."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from thanos_rs.errors import StoreError, ThanosRsError
from thanos_rs.query.endpoints import Endpoint
from thanos_rs.query.grpc_client import read_messages, rpc_error_text

__all__ = ["API", "EXEMPLARS", "METADATA", "RULES", "TARGETS", "Gathered", "gather"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class API:
    """One of the APIs: the name Info announces it under (see
    ``_core.decode_info``), its gRPC method, and what Thanos's proxy calls
    its answers in errors."""

    name: str
    method: str
    what: str


RULES = API("rules", "/thanos.Rules/Rules", "rules")
TARGETS = API("targets", "/thanos.Targets/Targets", "targets")
METADATA = API("metadata", "/thanos.Metadata/MetricMetadata", "metric metadata")
EXEMPLARS = API("exemplars", "/thanos.Exemplars/Exemplars", "exemplars")


@dataclass
class Gathered:
    """Every endpoint's messages, in endpoint order, and the warnings of the
    endpoints that failed."""

    answers: list[list[bytes]]
    warnings: list[str]


async def gather(
    targets: Sequence[Endpoint],
    api: API,
    request: bytes,
    *,
    partial_response: bool,
    timeout: float,
) -> Gathered:
    """Calls ``api`` with ``request`` on each of ``targets`` (those that
    serve it: ``EndpointSet.serving(api.name)``), all at once, within
    ``timeout`` seconds. Without partial response the first failure raises
    :class:`StoreError`."""
    answers: list[list[bytes]] = [[] for _ in targets]
    warnings: list[str] = []

    async def call(i: int, e: Endpoint) -> None:
        try:
            if e.channel is None:
                raise StoreError("endpoint has no connection")
            messages = read_messages(e.channel, api.method, request, timeout=timeout)
            async with contextlib.aclosing(messages):
                async for m in messages:
                    answers[i].append(m)
        except (grpc.aio.AioRpcError, ThanosRsError, TimeoutError) as err:
            reason = rpc_error_text(err) if isinstance(err, grpc.aio.AioRpcError) else str(err) or "timeout"
            message = f"fetching {api.what} from {api.what} client {e.describe()}: {reason}"
            if not partial_response:
                raise StoreError(message, "execution") from None
            log.warning("returning partial response: %s", message)
            warnings.append(message)
            answers[i] = []

    try:
        async with asyncio.TaskGroup() as tg:
            for i, e in enumerate(targets):
                tg.create_task(call(i, e))
    except BaseExceptionGroup as eg:
        raise eg.exceptions[0] from None
    return Gathered(answers, warnings)
