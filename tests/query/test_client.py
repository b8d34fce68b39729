"""The Python API: ``Querier(stores=[...])`` answers as the HTTP API does,
with series objects instead of JSON, and warns on partial responses."""

from __future__ import annotations

import warnings

import pytest

from support import datasets
from support.components import querier
from support.storeapi import FakeStore, Faults
from thanos_rs.errors import PromQLError
from thanos_rs.query import PartialResponseWarning, Querier

DATA = datasets.monitoring(hours=1, jobs=1, instances=2)
T = DATA.start + 1800
EXPR = "sum by (instance) (rate(http_requests_total[5m]))"


@pytest.fixture(scope="module")
def stores():
    with FakeStore(DATA.series, {"cluster": "eu1", "replica": "0"}) as a, FakeStore(
        DATA.series, {"cluster": "eu1", "replica": "1"}
    ) as b:
        yield [a.address, b.address]


def test_results_equal_the_http_api(stores, tmp_path):
    with Querier(stores, replica_labels=["replica"]) as q, querier(tmp_path, stores) as http:
        series = q.query_range(EXPR, T - 600, T, 60)
        expected = http.api("/api/v1/query_range", {"query": EXPR, "start": T - 600, "end": T, "step": 60})
        assert [s.labels for s in series] == [e["metric"] for e in expected["result"]]
        for s, e in zip(series, expected["result"]):
            assert s.timestamps == [float(p[0]) for p in e["values"]]
            assert s.values == [float(p[1]) for p in e["values"]]
        samples = q.query("up", T)
        assert len(samples) == 2 and all(s.timestamp == T and s.value in (0.0, 1.0) for s in samples)
        assert q.query("scalar(count(up))", T) == 2.0
        assert q.label_values("instance") == ["host0:9100", "host1:9100"]
        assert {"__name__": "up", "cluster": "eu1", "instance": "host0:9100", "job": "job0"} in q.series("up")


def test_without_dedup_replicas_show(stores):
    with Querier(stores, replica_labels=["replica"], dedup=False) as q:
        assert len(q.query("up", T)) == 4


def test_errors_and_partial_responses(stores):
    with Querier(stores) as q:
        with pytest.raises(PromQLError) as e:
            q.query("sum(", T)
        assert e.value.error_type == "bad_data"
    with FakeStore(DATA.series, {"cluster": "us1"}, faults=Faults(fail_after=0)) as bad:
        with Querier([*stores, bad.address], replica_labels=["replica"]) as q:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                assert len(q.query("up", T)) == 2
            assert any(issubclass(w.category, PartialResponseWarning) and bad.address in str(w.message) for w in caught)
