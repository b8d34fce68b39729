"""Long-term storage end to end: a day of data of which the Prometheus keeps
only its last blocks (as retention leaves it), every block uploaded by our
shipper to a bucket of each kind (a directory, and S3 on moto's server), our
store gateway over the bucket, and the querier over the sidecar and the store
gateway. Answers must equal a reference Prometheus holding the whole day,
with the store gateway alone, the sidecar alone (over a Prometheus that still
has everything) and both at once, where the recent blocks are served twice
and must count once."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from support import datasets
from support.compare import check
from support.components import querier, sidecar, store_gateway
from support.objstore import KINDS, new_bucket
from support.prometheus import PrometheusServer, backfill
from support.tsdb import blocks
from thanos_rs.objstore import Bucket
from thanos_rs.shipper import Shipper

pytestmark = pytest.mark.prometheus

DAY = datasets.monitoring(hours=24, interval=60, jobs=2, instances=3, extra_labels={"cluster": "eu1"})
EXTERNAL = {"cluster": "eu1", "replica": "0"}
START, END = DAY.start, DAY.end
#: What the Prometheus keeps: its two newest blocks, about the last 2-4 h.
KEPT_BLOCKS = 2

QUERIES = [
    "up",
    'sum by (job) (rate(http_requests_total[5m]))',
    'increase(http_requests_total{code="200"}[1h])',
    "count by (cluster) (up)",
    "max_over_time(up[3h])",
    'http_requests_total{job="job0"} offset 2h',
]
TIMES = [START + 3600.5, START + 12 * 3600, END - 3 * 3600, END - 600, END]
RANGES = [(START, END, 1800), (END - 6 * 3600, END, 300)]


@pytest.fixture(scope="module")
def day_tsdb(tmp_path_factory, prometheus_binaries) -> Path:
    data = tmp_path_factory.mktemp("day") / "data"
    backfill(DAY.openmetrics(), data)
    return data


@pytest.fixture(scope="module")
def buckets(request, tmp_path_factory, day_tsdb) -> dict[str, str]:
    """A bucket of each kind (its objstore YAML by kind) holding every block
    of the day, uploaded by the shipper with the external labels."""
    out = {}
    for kind in KINDS:
        work = tmp_path_factory.mktemp(f"ship-{kind}")
        data = work / "data"
        shutil.copytree(day_tsdb, data)
        out[kind] = new_bucket(request, work / "bucket", kind)
        shipper = Shipper(Bucket.from_config(out[kind]), data, lambda: dict(EXTERNAL), CollectorRegistry())
        assert shipper.sync() == len(blocks(day_tsdb))
    return out


def recent(day_tsdb: Path, target: Path) -> Path:
    """A data directory with only the newest blocks, as retention leaves it."""
    target.mkdir(parents=True)
    for block in blocks(day_tsdb)[-KEPT_BLOCKS:]:
        shutil.copytree(block, target / block.name)
    return target


@contextlib.contextmanager
def prometheus_and_sidecar(work: Path, data: Path):
    with PrometheusServer(work, "prom", external_labels=EXTERNAL, data_from=data) as prom, \
            sidecar(work, prom.url, f"--tsdb.path={prom.data}") as side:
        yield side.grpc_address


@pytest.fixture(scope="module", params=["store", "store-S3", "sidecar", "both", "both-S3"])
def setup(request, tmp_path_factory, day_tsdb, buckets):
    """(querier, reference Prometheus, which stores): the store gateway on a
    FILESYSTEM bucket unless the setup's name ends in ``-S3``."""
    work = tmp_path_factory.mktemp(request.param)
    stores_kind, _, bucket_kind = request.param.partition("-")
    with contextlib.ExitStack() as stack:
        stores = []
        if stores_kind in ("store", "both"):
            gateway = store_gateway(work, buckets[bucket_kind or "FILESYSTEM"])
            stores.append(stack.enter_context(gateway).grpc_address)
        if stores_kind == "sidecar":
            stores.append(stack.enter_context(prometheus_and_sidecar(work, day_tsdb)))
        if stores_kind == "both":
            stores.append(stack.enter_context(prometheus_and_sidecar(work, recent(day_tsdb, work / "recent"))))
        reference = stack.enter_context(PrometheusServer(work, "reference", data_from=day_tsdb))
        q = stack.enter_context(querier(work, stores))
        yield q, reference, stores_kind


def test_a_day_answers_as_one_prometheus_holding_it(setup):
    q, reference, _ = setup
    problems = []
    for query in QUERIES:
        for t in TIMES:
            problems += check(q, reference, query, (t,))
        for r in RANGES:
            problems += check(q, reference, query, r)
    assert not problems, "\n".join(problems[:20])
    # Not an agreement on nothing: the old data is there, from the bucket.
    old = q.api("/api/v1/query", {"query": "up", "time": START + 3600.5})
    assert len(old["result"]) == 6 and all(s["metric"]["cluster"] == "eu1" for s in old["result"])


def test_the_stores_page_shows_each_component(setup):
    q, _, kind = setup
    stores = q.api("/api/v1/stores")
    want = {"store", "sidecar"} if kind == "both" else {kind}
    assert {k for k, entries in stores.items() if entries} == want, stores
    for entry in stores.get("store", []):
        assert entry["labelSets"] == [EXTERNAL]
        # The bucket's blocks span the whole day.
        assert entry["minTime"] <= START * 1000 and entry["maxTime"] >= END * 1000, entry
