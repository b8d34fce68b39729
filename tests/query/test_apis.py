"""The fan-out of the Rules, Targets, Metadata and Exemplars APIs: every
endpoint's messages kept apart, and an endpoint that fails a warning under
partial response or the request's error without it. Real gRPC servers on
loopback, answering raw messages."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from thanos_rs.errors import StoreError
from thanos_rs.query.apis import RULES, gather
from thanos_rs.query.endpoints import Endpoint


async def serve(answer):
    """A server whose Rules method streams ``answer(request)``'s messages, or
    fails with UNAVAILABLE when ``answer`` is None."""

    async def rules(request: bytes, context: grpc.aio.ServicerContext):
        if answer is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "no rules today")
        for m in answer(request):
            yield m

    server = grpc.aio.server()
    handler = grpc.unary_stream_rpc_method_handler(rules)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("thanos.Rules", {"Rules": handler})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    endpoint = Endpoint(f"127.0.0.1:{port}", channel=grpc.aio.insecure_channel(f"127.0.0.1:{port}"))
    return server, endpoint


async def run(answers, partial_response):
    started = [await serve(a) for a in answers]
    try:
        return await gather([e for _, e in started], RULES, b"req", partial_response=partial_response, timeout=5)
    finally:
        for server, e in started:
            await e.channel.close()
            await server.stop(None)


def test_each_endpoint_answers_apart_and_a_failure_is_a_warning():
    got = asyncio.run(run([lambda r: [r + b"1", r + b"2"], None, lambda r: [b"x"]], partial_response=True))
    assert got.answers == [[b"req1", b"req2"], [], [b"x"]]
    (warning,) = got.warnings
    assert warning.startswith("fetching rules from rules client Addr: 127.0.0.1:")
    assert warning.endswith("rpc error: code = Unavailable desc = no rules today")


def test_without_partial_response_a_failure_fails_the_request():
    with pytest.raises(StoreError, match="fetching rules from rules client .*no rules today"):
        asyncio.run(run([lambda r: [b"x"], None], partial_response=False))
