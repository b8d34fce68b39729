"""The gRPC server of a component: grpc.aio with generic handlers that take
and return raw bytes (Rust reads and writes the protobufs), the standard
health service, and server TLS from the ``--grpc-server-tls-*`` flags."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc

from thanos_rs.server.lifecycle import Prober

log = logging.getLogger(__name__)

Unary = Callable[[bytes, grpc.aio.ServicerContext], Awaitable[bytes]]
Stream = Callable[[bytes, grpc.aio.ServicerContext], AsyncIterator[bytes]]

# grpc.health.v1.HealthCheckResponse{status: SERVING} and {status: NOT_SERVING}:
# field 1, varint 1 or 2.
_SERVING = b"\x08\x01"
_NOT_SERVING = b"\x08\x02"


@dataclass(frozen=True)
class ServerTLS:
    cert: str = ""
    key: str = ""
    client_ca: str = ""

    def credentials(self) -> grpc.ServerCredentials | None:
        if not self.cert and not self.key:
            return None
        if not (self.cert and self.key):
            raise ValueError("both --grpc-server-tls-cert and --grpc-server-tls-key are needed for TLS")
        ca = Path(self.client_ca).read_bytes() if self.client_ca else None
        pair = (Path(self.key).read_bytes(), Path(self.cert).read_bytes())
        return grpc.ssl_server_credentials([pair], root_certificates=ca, require_client_auth=ca is not None)


class GRPCServer:
    """Services registered as ``{"thanos.Store": {"Series": handler}}``; a
    handler that is an async generator function streams."""

    def __init__(self, address: str, prober: Prober, tls: ServerTLS = ServerTLS(), grace_period: float = 5.0):
        # No message size limit, as Thanos's servers: batches of long series are big.
        options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
        self._server = grpc.aio.server(options=options)
        self._address = address
        self._tls = tls
        self._grace = grace_period
        self._prober = prober
        self.add_service("grpc.health.v1.Health", {"Check": self._health_check, "Watch": self._health_watch})

    def add_service(self, name: str, methods: Mapping[str, Unary | Stream]) -> None:
        handlers = {}
        for method, fn in methods.items():
            if inspect.isasyncgenfunction(fn):
                handlers[method] = grpc.unary_stream_rpc_method_handler(fn)
            else:
                handlers[method] = grpc.unary_unary_rpc_method_handler(fn)
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))

    async def start(self) -> None:
        creds = self._tls.credentials()
        try:
            if creds is None:
                port = self._server.add_insecure_port(self._address)
            else:
                port = self._server.add_secure_port(self._address, creds)
        except RuntimeError as e:  # grpcio's way of saying the port is taken
            raise OSError(f"listen tcp {self._address}: {e}") from None
        if port == 0:
            raise OSError(f"listen tcp {self._address}: bind failed")
        await self._server.start()
        log.info("listening for serving gRPC address=%s", self._address)

    async def stop(self) -> None:
        await self._server.stop(self._grace)

    async def _health_check(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return _SERVING if self._prober.ready else _NOT_SERVING

    async def _health_watch(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        last = None
        while True:
            status = _SERVING if self._prober.ready else _NOT_SERVING
            if status != last:
                yield status
                last = status
            await asyncio.sleep(1.0)
