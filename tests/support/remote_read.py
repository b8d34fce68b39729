"""A minimal, independent Prometheus remote-read client for tests and recorders:
request building with the Python protobuf stubs and cramjam's snappy, frame
parsing with a pure-Python CRC-32C. Deliberately shares no code with the Rust core."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import cramjam

from support import protos

STREAMED = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse"


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def read_request(matchers: list[tuple[int, str, str]], start_ms: int, end_ms: int) -> bytes:
    """A snappy-compressed ReadRequest asking for streamed XOR chunks."""
    pb = protos.load()
    req = pb.remote.ReadRequest(accepted_response_types=[pb.remote.ReadRequest.STREAMED_XOR_CHUNKS])
    q = req.queries.add(start_timestamp_ms=start_ms, end_timestamp_ms=end_ms)
    for kind, name, value in matchers:
        q.matchers.add(type=kind, name=name, value=value)
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def fetch(prometheus_url: str, body: bytes) -> bytes:
    """POSTs a read request and returns the raw streamed response body."""
    http = urllib.request.Request(
        f"{prometheus_url}/api/v1/read",
        data=body,
        headers={
            "Content-Encoding": "snappy",
            "Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Read-Version": "0.1.0",
        },
    )
    with urllib.request.urlopen(http, timeout=60) as resp:
        assert resp.headers["Content-Type"] == STREAMED, resp.headers["Content-Type"]
        return resp.read()


def frame_header(body: bytes, i: int) -> tuple[int, int]:
    """(payload size, where its CRC starts) of the frame starting at ``i``:
    the size is a uvarint."""
    size = shift = 0
    while True:
        b = body[i]
        i += 1
        size |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return size, i


def frames(body: bytes) -> Iterator[bytes]:
    """The payloads of a streamed body: uvarint length, big-endian CRC-32C, payload."""
    i = 0
    while i < len(body):
        size, i = frame_header(body, i)
        crc = int.from_bytes(body[i : i + 4], "big")
        payload = body[i + 4 : i + 4 + size]
        if len(payload) != size or crc32c(payload) != crc:
            raise ValueError(f"damaged frame at byte {i}")
        yield payload
        i += 4 + size


def chunked_series(body: bytes) -> Iterator:
    """Every ChunkedSeries of a streamed body, in order."""
    pb = protos.load()
    for payload in frames(body):
        msg = pb.remote.ChunkedReadResponse.FromString(payload)
        yield from msg.chunked_series
