"""The sidecar's two read paths against each other on one real Prometheus
2.42: for random matchers and time ranges, reading the data directory
(``--tsdb.path``) gives exactly the series, samples and label answers that
Prometheus's remote read gives, over overlapping blocks (two backfills of the
same series, their samples interleaved) and after series are deleted
(tombstones written into the blocks while both sidecars run)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from support import datasets
from support.components import sidecar
from support.prometheus import PrometheusServer, backfill
from support.storeclient import EQ, StoreClient
from support.storecompare import compare
from support.tsdb import DATA, EXTERNAL

pytestmark = pytest.mark.prometheus

#: Some of DATA's series again, from the 3rd to the 7th hour, every minute at
#: half past: blocks that overlap DATA's with samples between DATA's.
OVERLAP = datasets.monitoring(start=DATA.start + 3 * 3600 + 30.5, hours=4, interval=60, jobs=2, instances=2, seed=7)
START_MS = round(DATA.start * 1000)
CASES = 40


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    data = tmp_path_factory.mktemp("overlapping") / "data"
    backfill(DATA.openmetrics(), data)
    backfill(OVERLAP.openmetrics(), data)
    with PrometheusServer(tmp_path_factory.mktemp("prom"), external_labels=EXTERNAL, data_from=data) as p:
        yield p


@pytest.fixture(scope="module")
def clients(tmp_path_factory, prom):
    """(remote read, data directory) clients."""
    with sidecar(tmp_path_factory.mktemp("remote"), prom.url) as remote, \
            sidecar(tmp_path_factory.mktemp("direct"), prom.url, f"--tsdb.path={prom.data}") as direct:
        assert direct.metric("thanos_sidecar_tsdb_direct_read") == 1
        pair = StoreClient(remote.grpc_address), StoreClient(direct.grpc_address)
        yield pair
        for c in pair:
            c.close()


def test_overlapping_blocks_read_the_same_on_both_paths(prom, clients):
    metas = [json.loads((b / "meta.json").read_text()) for b in prom.data.iterdir() if (b / "meta.json").exists()]
    spans = sorted((m["minTime"], m["maxTime"]) for m in metas)
    assert any(a[1] > b[0] for a, b in zip(spans, spans[1:])), "the backfills must overlap"
    assert compare(*clients, seed=1, cases=CASES) >= CASES // 3


def test_deleted_series_read_the_same_on_both_paths(prom, clients):
    remote, direct = clients
    before = direct.samples([(EQ, "__name__", "up"), (EQ, "job", "job1")])
    cut = (START_MS + 5 * 3_600_000, START_MS + 9 * 3_600_000)
    query = urllib.parse.urlencode({"match[]": 'up{job="job1"}', "start": cut[0] / 1000, "end": cut[1] / 1000})
    request = urllib.request.Request(f"{prom.url}/api/v1/admin/tsdb/delete_series?{query}", method="POST")
    with urllib.request.urlopen(request, timeout=30) as r:
        assert r.status == 204
    after = direct.samples([(EQ, "__name__", "up"), (EQ, "job", "job1")])
    assert after.keys() == before.keys()
    for k in before:
        assert after[k] == [(t, v) for t, v in before[k] if not cut[0] <= t <= cut[1]]
        assert len(after[k]) < len(before[k])
    assert compare(*clients, seed=2, cases=CASES) >= CASES // 3



def test_a_directory_it_cannot_read_falls_back_to_remote_read(tmp_path, prom):
    with sidecar(tmp_path, prom.url, f"--tsdb.path={tmp_path / 'nowhere'}") as side:
        client = StoreClient(side.grpc_address)
        try:
            reads = prom.requests_served("/api/v1/read")
            assert client.samples([(EQ, "__name__", "up")])
            assert prom.requests_served("/api/v1/read") == reads + 1
        finally:
            client.close()
        assert side.metric("thanos_sidecar_tsdb_direct_read") == 0
        assert "cannot read the TSDB directory, falling back to remote read" in side.logs()
        assert "nowhere" in side.logs()
