"""The sidecar's two read paths against each other on one real Prometheus
2.42: for random matchers and time ranges, reading the data directory
(``--tsdb.path``) gives exactly the series, samples and label answers that
Prometheus's remote read gives, over overlapping blocks (two backfills of the
same series, their samples interleaved) and after series are deleted
(tombstones written into the blocks while both sidecars run)."""

from __future__ import annotations

import json
import random
import re
import urllib.parse
import urllib.request

import grpc
import pytest

from support import datasets
from support.components import sidecar
from support.prometheus import PrometheusServer, backfill
from support.storeclient import EQ, NEQ, NRE, RE, StoreClient, by_bits
from support.tsdb import DATA, EXTERNAL

pytestmark = pytest.mark.prometheus

#: Some of DATA's series again, from the 3rd to the 7th hour, every minute at
#: half past: blocks that overlap DATA's with samples between DATA's.
OVERLAP = datasets.monitoring(start=DATA.start + 3 * 3600 + 30.5, hours=4, interval=60, jobs=2, instances=2, seed=7)
START_MS, END_MS = round(DATA.start * 1000), round(DATA.end * 1000)
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


def values_of(name: str) -> list[str]:
    return sorted({v for labels in DATA.series for n, v in labels if n == name})


def random_matchers(rnd: random.Random) -> list[tuple[int, str, str]]:
    """One to three matchers over DATA's labels, of every kind, with values
    that exist, regexes over them, and the empty value."""
    names = ["__name__", "job", "instance", "code", "le"]
    out = []
    for name in rnd.sample(names, rnd.randint(1, 3)):
        values = values_of(name)
        op = rnd.choice([EQ, NEQ, RE, NRE])
        if op in (EQ, NEQ):
            value = rnd.choice([*values, ""])
        else:
            chosen = rnd.sample(values, min(len(values), rnd.randint(1, 3)))
            value = "|".join(map(re.escape, chosen))
            value = rnd.choice([value, value + "|", ".*" + re.escape(chosen[0][:3]) + ".*", ".+"])
        out.append((op, name, value))
    return out


def random_range(rnd: random.Random) -> tuple[int, int]:
    a, b = sorted(rnd.randrange(START_MS - 3_600_000, END_MS + 3_600_000) for _ in range(2))
    return a, b


def outcome(call, client):
    """What a call answers, or the status code it fails with."""
    try:
        return call(client)
    except grpc.RpcError as e:
        return e.code()


def compare(clients, seed: int) -> int:
    """Runs CASES random cases; returns how many selected any series."""
    remote, direct = clients
    rnd = random.Random(seed)
    non_empty = 0
    for _ in range(CASES):
        matchers, (start, end) = random_matchers(rnd), random_range(rnd)
        case = (matchers, start, end)
        ours, theirs = direct.samples(matchers, start, end), remote.samples(matchers, start, end)
        assert by_bits(ours) == by_bits(theirs), case
        non_empty += bool(theirs)
        name = rnd.choice(["job", "instance", "code", "__name__"])
        for call in (lambda c: c.label_values(name, matchers, start, end), lambda c: c.label_names(matchers, start, end)):  # noqa: B023
            assert outcome(call, direct) == outcome(call, remote), case
        only = direct.samples(matchers, start, end, skip_chunks=True)
        assert only.keys() == ours.keys(), case
    return non_empty


def test_overlapping_blocks_read_the_same_on_both_paths(prom, clients):
    metas = [json.loads((b / "meta.json").read_text()) for b in prom.data.iterdir() if (b / "meta.json").exists()]
    spans = sorted((m["minTime"], m["maxTime"]) for m in metas)
    assert any(a[1] > b[0] for a, b in zip(spans, spans[1:])), "the backfills must overlap"
    assert compare(clients, seed=1) >= CASES // 3


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
    assert compare(clients, seed=2) >= CASES // 3



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
