"""The shipper's check of Prometheus's block flags, before Prometheus
answers: asked again every FLAGS_RETRY until it does, and given up only when
the sidecar stops. (tests/sidecar/test_shipping.py runs the check against a
real Prometheus.)"""

from __future__ import annotations

import asyncio

import pytest

from thanos_rs.errors import PrometheusError, ShipperError
from thanos_rs.sidecar import shipping


class StartingPrometheus:
    """Answers its flags from the ``down``-th call on: a Prometheus starting
    after the sidecar."""

    def __init__(self, down: int, answer: dict[str, str]) -> None:
        self.calls, self.down, self.answer = 0, down, answer

    async def flags(self, timeout: float) -> dict[str, str]:
        self.calls += 1
        if self.calls <= self.down:
            raise PrometheusError("connection refused")
        return self.answer


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(shipping, "FLAGS_RETRY", 0.01)


def validate(client, ignore: bool = False, stop: asyncio.Event | None = None) -> bool:
    async def run() -> bool:
        return await shipping.validate_prometheus(client, ignore, stop or asyncio.Event(), 1.0)
    return asyncio.run(run())


def test_asked_again_until_prometheus_answers():
    prom = StartingPrometheus(3, {"storage.tsdb.min-block-duration": "2h", "storage.tsdb.max-block-duration": "2h"})
    assert validate(prom) is True and prom.calls == 4


def test_a_compacting_prometheus_is_refused_once_it_answers():
    prom = StartingPrometheus(2, {"storage.tsdb.min-block-duration": "2h", "storage.tsdb.max-block-duration": "1d"})
    with pytest.raises(ShipperError, match="Compaction needs to be disabled"):
        validate(prom)
    assert validate(StartingPrometheus(0, prom.answer), ignore=True) is True


def test_stopping_ends_the_wait():
    async def run() -> tuple[bool, int]:
        stop = asyncio.Event()
        prom = StartingPrometheus(10**9, {})
        asyncio.get_running_loop().call_later(0.1, stop.set)
        return await shipping.validate_prometheus(prom, False, stop, 1.0), prom.calls
    stopped, calls = asyncio.run(run())
    assert stopped is False and calls >= 2
