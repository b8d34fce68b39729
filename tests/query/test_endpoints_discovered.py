"""The endpoint set under discovery, in process: discovered endpoints come
and go, the addresses of the flags stay, and names without addresses are
listed with the reason."""

from __future__ import annotations

import asyncio

from support import datasets
from support.storeapi import FakeStore

from thanos_rs.query.endpoints import UNDISCOVERED, UNRESOLVED_COMPONENT, EndpointSet
from thanos_rs.query.grpc_client import ChannelFactory, ClientTLS

DATA = datasets.monitoring(hours=1, jobs=1, instances=1)


async def _follow(static: str, found: str) -> None:
    es = EndpointSet([static], channels=ChannelFactory(ClientTLS()))
    try:
        await es.set_discovered([found, static], {"dns+gone.invalid:1": "lookup gone.invalid: no such host"})
        await es.update()
        assert [e.address for e in es.endpoints()] == sorted([static, found])
        (e,) = [e for e in es.stores() if e.address == found]
        assert e.active and e.channel is not None
        statuses = es.statuses()
        assert [s["name"] for s in statuses["sidecar"]] == sorted([static, found])
        assert statuses[UNRESOLVED_COMPONENT][0]["lastError"] == (
            "dns+gone.invalid:1 does not resolve: lookup gone.invalid: no such host")

        await es.set_discovered([])
        assert [x.address for x in es.endpoints()] == [static], "the flags' address stays"
        assert not e.active and e.went_down.is_set() and e.reason == f"endpoint is down: {UNDISCOVERED}"
        assert e.channel is None
        assert UNRESOLVED_COMPONENT not in es.statuses()
    finally:
        await es.close()


def test_discovered_endpoints_come_and_go_and_static_ones_stay():
    with FakeStore(DATA.series, {"c": "static"}) as static, FakeStore(DATA.series, {"c": "found"}) as found:
        asyncio.run(_follow(static.address, found.address))
