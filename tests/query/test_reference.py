"""The querier with deduplication answers exactly what one Prometheus holding
all the data answers.

The reference is a real Prometheus 2.42 backfilled with two clusters' data,
``cluster`` a plain label and no replicas. The querier reads the same data
from three StoreAPIs, as in the tutorial: eu1 from one store, us1 from an HA
pair whose replicas each miss a stretch (the other must fill it). The stores
are real Prometheus servers behind our sidecars, and also StoreAPI servers
built in the tests (which isolate the querier from the sidecar). A counter
resets while the first replica is away and again right where the querier
switches replicas, so rate, increase, irate and resets must see the resets
and no others.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from support import datasets
from support.compare import check
from support.components import querier, sidecar
from support.prometheus import PrometheusServer, backfill
from support.promqlgen import Generator, Schema
from support.queries import HAND_PICKED
from support.storeapi import FakeStore

pytestmark = pytest.mark.prometheus

START = 1_700_000_000
EU1 = datasets.monitoring(hours=2, seed=1, jobs=1, extra_labels={"cluster": "eu1"})
US1 = datasets.monitoring(hours=2, seed=2, jobs=2, extra_labels={"cluster": "us1"})
END = US1.end
# Where each us1 replica has no data.
GAP0 = (START + 40 * 60, START + 55 * 60)
GAP1 = (START + 80 * 60, START + 90 * 60)


def _switch_counter() -> None:
    """A counter that resets inside GAP0 and at its first sample."""
    t, v = START, 0.0
    while t <= END:
        if t in (GAP0[0], START + 47 * 60):
            v = 0.0
        US1.add("switch_total", {"cluster": "us1", "job": "switch"}, t, v, "counter")
        v += 10.0
        t += 15


_switch_counter()
REFERENCE = datasets.merged(EU1, US1)

TIMES = [START + 600.5, GAP0[0] + 10, START + 47 * 60 + 5, GAP0[1] + 1, GAP1[0] + 200, END, END + 400]
RANGES = [(START, END, 60), (START + 1234, END - 100, 47), (GAP0[0] - 600, GAP1[1] + 600, 15)]
SWITCH_QUERIES = [
    'sum by (cluster) (rate(http_requests_total[5m]))',
    "rate(switch_total[5m])",
    "increase(switch_total[10m])",
    "irate(switch_total[1m])",
    "resets(switch_total[30m])",
    "switch_total",
    "switch_total[20m]",
    'count by (cluster) (up)',
]


REPLICAS = [
    (EU1, {"cluster": "eu1", "replica": "0"}),
    (datasets.without(US1, *GAP0), {"cluster": "us1", "replica": "0"}),
    (datasets.without(US1, *GAP1), {"cluster": "us1", "replica": "1"}),
]


@contextlib.contextmanager
def fake_stores(work):
    """StoreAPIs built in the tests, serving the replicas' samples."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(FakeStore(data.series, labels)).address for data, labels in REPLICAS]


@contextlib.contextmanager
def sidecars(work):
    """The tutorial's way: a real Prometheus per replica, backfilled with its
    samples and carrying its external labels, and our sidecar beside it."""
    with contextlib.ExitStack() as stack:
        addresses = []
        for i, (data, labels) in enumerate(REPLICAS):
            prom = PrometheusServer(work, f"prom{i}", external_labels=labels, openmetrics=data.openmetrics())
            stack.enter_context(prom)
            addresses.append(stack.enter_context(sidecar(work, prom.url)).grpc_address)
        yield addresses


@pytest.fixture(scope="module")
def reference_tsdb(tmp_path_factory, prometheus_binaries) -> Path:
    """The reference's blocks, backfilled once for both store setups."""
    data = tmp_path_factory.mktemp("reference-tsdb") / "data"
    backfill(REFERENCE.openmetrics(), data)
    return data


@pytest.fixture(scope="module", params=[fake_stores, sidecars], ids=["fake-stores", "sidecars"])
def setup(request, tmp_path_factory, reference_tsdb):
    work = tmp_path_factory.mktemp("reference")
    with request.param(work) as stores:
        with PrometheusServer(work, "reference", data_from=reference_tsdb) as reference:
            with querier(work, stores) as q:
                yield q, reference


def test_replica_switches_are_exact(setup):
    q, reference = setup
    problems = []
    for query in SWITCH_QUERIES:
        for t in TIMES:
            problems += check(q, reference, query, (t,))
        for r in RANGES:
            problems += check(q, reference, query, r)
    assert not problems, "\n".join(problems[:20])


def test_hand_picked_queries_are_exact(setup):
    q, reference = setup
    problems = []
    for query in HAND_PICKED:
        for t in TIMES[::2]:
            problems += check(q, reference, query, (t,))
        problems += check(q, reference, query, RANGES[2])
    assert not problems, "\n".join(problems[:20])


def test_generated_queries_are_exact(setup):
    q, reference = setup
    gen = Generator(Schema.of(REFERENCE), seed=7)
    problems = []
    for _ in range(150):
        query = gen.vector(3).text
        problems += check(q, reference, query, (gen.pick(TIMES),))
        problems += check(q, reference, query, gen.pick(RANGES))
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:20])


def test_without_dedup_every_replica_shows(setup):
    q, _ = setup
    _, body = q.request("/api/v1/query", {"query": "switch_total", "time": GAP1[1] + 60, "dedup": "false"})
    replicas = sorted(s["metric"]["replica"] for s in body["data"]["result"])
    assert replicas == ["0", "1"]
