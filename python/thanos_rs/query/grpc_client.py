"""gRPC client plumbing of the querier: channels to stores (plain or TLS, as
the ``--grpc-client-*`` flags say), the method paths it calls, and raw-bytes
calls: requests and answers stay serialized protobuf, which Rust reads and
writes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from thanos_rs.server.grpc import GO_CODE_NAMES

INFO = "/thanos.info.Info/Info"
LEGACY_STORE_INFO = "/thanos.Store/Info"
SERIES = "/thanos.Store/Series"
LABEL_NAMES = "/thanos.Store/LabelNames"
LABEL_VALUES = "/thanos.Store/LabelValues"

# Thanos dials stores with no receive limit (math.MaxInt32); a batch of long
# series can exceed gRPC's 4 MiB default.
_OPTIONS = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    ("grpc.enable_retries", 0),
]

def rpc_error_text(err: grpc.aio.AioRpcError) -> str:
    """``rpc error: code = Unavailable desc = ...``, as a Go client prints it."""
    return f"rpc error: code = {GO_CODE_NAMES.get(err.code(), 'Unknown')} desc = {err.details() or ''}"


@dataclass(frozen=True)
class ClientTLS:
    """``--grpc-client-tls-*``: TLS towards the stores."""

    secure: bool = False
    cert: str = ""
    key: str = ""
    ca: str = ""
    server_name: str = ""


class ChannelFactory:
    """Opens channels to stores with the configured transport security."""

    def __init__(self, tls: ClientTLS = ClientTLS()) -> None:
        self._tls = tls
        self._credentials = None
        if tls.secure:
            read = lambda p: Path(p).read_bytes() if p else None  # noqa: E731
            self._credentials = grpc.ssl_channel_credentials(
                root_certificates=read(tls.ca), private_key=read(tls.key), certificate_chain=read(tls.cert)
            )

    def channel(self, address: str) -> grpc.aio.Channel:
        options = list(_OPTIONS)
        if self._credentials is None:
            return grpc.aio.insecure_channel(address, options=options)
        if self._tls.server_name:
            options.append(("grpc.ssl_target_name_override", self._tls.server_name))
        return grpc.aio.secure_channel(address, self._credentials, options=options)


async def read_messages(
    channel: grpc.aio.Channel,
    method: str,
    request: bytes,
    *,
    timeout: float | None,
    frame_timeout: float | None = None,
) -> AsyncIterator[bytes]:
    """The raw messages of a server stream as they arrive. ``frame_timeout``
    bounds the wait for each message (``--store.response-timeout``);
    exceeding it raises ``asyncio.TimeoutError``. Closing the iterator early
    cancels the call."""
    call = channel.unary_stream(method)(request, timeout=timeout)
    try:
        while True:
            if frame_timeout:
                msg = await asyncio.wait_for(call.read(), frame_timeout)
            else:
                msg = await call.read()
            if msg is grpc.aio.EOF:
                return
            yield msg
    finally:
        if not call.done():
            call.cancel()
