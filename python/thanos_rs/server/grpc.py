"""The gRPC server of a component: grpc.aio with generic handlers that take
and return raw bytes (Rust reads and writes the protobufs), the standard
health service, and server TLS from the ``--grpc-server-tls-*`` flags."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

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


class _Metrics:
    """The server metrics of go-grpc-prometheus, which Thanos registers: calls
    started and handled by code, messages sent, and handling time."""

    # go-grpc-prometheus's buckets as Thanos configures them (pkg/extgrpc).
    BUCKETS = (0.001, 0.01, 0.1, 0.3, 0.6, 1, 3, 6, 9, 20, 30, 60, 90, 120)

    def __init__(self, registry: CollectorRegistry) -> None:
        names = ["grpc_type", "grpc_service", "grpc_method"]
        self.started = Counter("grpc_server_started_total", "Total number of RPCs started on the server.",
                               names, registry=registry)
        self.handled = Counter("grpc_server_handled_total",
                               "Total number of RPCs completed on the server, regardless of success or failure.",
                               [*names, "grpc_code"], registry=registry)
        self.sent = Counter("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.",
                            names, registry=registry)
        self.seconds = Histogram("grpc_server_handling_seconds",
                                 "Histogram of response latency (seconds) of gRPC that had been application-level "
                                 "handled by the server.", names, buckets=self.BUCKETS, registry=registry)

    def wrap(self, service: str, method: str, fn: Unary | Stream) -> Unary | Stream:
        if inspect.isasyncgenfunction(fn):
            labels = ("server_stream", service, method)

            @functools.wraps(fn)
            async def stream(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
                start, failed, sent = self._start(labels), True, 0
                try:
                    async for message in fn(request, context):
                        sent += 1
                        yield message
                    failed = False
                finally:
                    # Counted once per call: a counter update per message
                    # would cost a tenth of what sending one does.
                    self.sent.labels(*labels).inc(sent)
                    self._done(labels, context, start, failed)

            return stream
        labels = ("unary", service, method)

        @functools.wraps(fn)
        async def unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            start, failed = self._start(labels), True
            try:
                response = await fn(request, context)
                self.sent.labels(*labels).inc()
                failed = False
                return response
            finally:
                self._done(labels, context, start, failed)

        return unary

    def _start(self, labels: tuple[str, str, str]) -> float:
        self.started.labels(*labels).inc()
        return time.perf_counter()

    def _done(self, labels: tuple[str, str, str], context: grpc.aio.ServicerContext, start: float,
              failed: bool) -> None:
        code = context.code()
        if not isinstance(code, grpc.StatusCode):
            code = grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
        self.handled.labels(*labels, GO_CODE_NAMES.get(code, code.name)).inc()
        self.seconds.labels(*labels).observe(time.perf_counter() - start)


#: Status codes as Go spells them (``codes.Code.String()``): the values of the
#: grpc_code label on Thanos's dashboards, and the words of Go's error messages.
GO_CODE_NAMES = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}


class GRPCServer:
    """Services registered as ``{"thanos.Store": {"Series": handler}}``; a
    handler that is an async generator function streams. With a registry, calls
    are counted and timed as Thanos's servers do."""

    def __init__(self, address: str, prober: Prober, tls: ServerTLS = ServerTLS(), grace_period: float = 5.0,
                 registry: CollectorRegistry | None = None):
        options = [
            # No message size limit, as Thanos's servers: batches of long series are big.
            ("grpc.max_send_message_length", -1),
            ("grpc.max_receive_message_length", -1),
            # Linux lets two processes bind one port with SO_REUSEPORT, which
            # grpcio sets by default: a taken port must be an error instead.
            ("grpc.so_reuseport", 0),
        ]
        self._server = grpc.aio.server(options=options)
        self._address = address
        self._tls = tls
        self._grace = grace_period
        self._prober = prober
        self._metrics = _Metrics(registry) if registry is not None else None
        self.add_service("grpc.health.v1.Health", {"Check": self._health_check, "Watch": self._health_watch})

    def add_store_api(self, store) -> None:
        """Registers a StoreAPI server: ``thanos.info.Info/Info`` and
        ``thanos.Store/{Info,Series}`` from its methods ``info``, ``store_info``
        and ``series``; ``thanos.Store/{LabelNames,LabelValues}`` from
        ``labels(values, request, context)``, ``values`` telling them apart."""
        self.add_service("thanos.info.Info", {"Info": store.info})
        self.add_service(
            "thanos.Store",
            {
                "Info": store.store_info,
                "Series": store.series,
                "LabelNames": functools.partial(store.labels, False),
                "LabelValues": functools.partial(store.labels, True),
            },
        )

    def add_service(self, name: str, methods: Mapping[str, Unary | Stream]) -> None:
        handlers = {}
        for method, fn in methods.items():
            if self._metrics is not None:
                fn = self._metrics.wrap(name, method, fn)
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
