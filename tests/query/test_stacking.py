"""A querier over a querier: the lower one serves its stores' data through
its own StoreAPI (merged, not deduplicated) and announces itself as
component "query"; the upper one gives the same answers as the lower one."""

from __future__ import annotations

import pytest

from support import datasets
from support.components import querier
from support.queries import HAND_PICKED
from support.storeapi import FakeStore
from support.storeclient import RE, StoreClient

# Starts querier processes and waits on real timers: `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

EU1 = datasets.monitoring(hours=1, seed=1, jobs=1, extra_labels={"cluster": "eu1"})
US1 = datasets.monitoring(hours=1, seed=2, jobs=1, extra_labels={"cluster": "us1"})
T = EU1.start + 1800
GAP = (EU1.start + 600, EU1.start + 1500)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("stack")
    stores = [
        FakeStore(EU1.series, {"cluster": "eu1", "replica": "0"}),
        FakeStore(datasets.without(US1, *GAP).series, {"cluster": "us1", "replica": "0"}),
        FakeStore(US1.series, {"cluster": "us1", "replica": "1"}),
    ]
    for s in stores:
        s.start()
    try:
        with querier(work, [s.address for s in stores], "--selector-label=tier=\"lower\"") as lower:
            with querier(work, [lower.grpc_address]) as upper:
                yield lower, upper
    finally:
        for s in stores:
            s.stop()


def test_upper_sees_a_query_component(stack):
    lower, upper = stack
    (entry,) = upper.api("/api/v1/stores")["query"]
    assert entry["name"] == lower.grpc_address
    assert {"cluster": "eu1", "replica": "0", "tier": "lower"} in entry["labelSets"]
    assert len(entry["labelSets"]) == 3
    assert entry["minTime"] <= EU1.start * 1000 + 5


def test_answers_are_the_same(stack):
    lower, upper = stack
    problems = []
    for q in HAND_PICKED:
        for params in (
            {"query": q, "time": T},
            {"query": q, "time": T, "dedup": "false"},
        ):
            a = lower.request("/api/v1/query", params)
            b = upper.request("/api/v1/query", params)
            if a != b:
                problems.append(f"{params}: lower {a}, upper {b}")
        params = {"query": q, "start": EU1.start, "end": EU1.end, "step": 60}
        if lower.request("/api/v1/query_range", params) != upper.request("/api/v1/query_range", params):
            problems.append(f"range {q}")
    assert not problems, "\n".join(problems[:10])


def test_metadata_through_the_stack(stack):
    lower, upper = stack
    for path, params in [
        ("/api/v1/series", {"match[]": "up"}),
        ("/api/v1/label/cluster/values", {}),
        ("/api/v1/labels", {"match[]": "node_memory_used_bytes"}),
    ]:
        assert lower.api(path, params) == upper.api(path, params), path


def test_selector_labels_filter_requests(stack):
    _, upper = stack
    assert upper.api("/api/v1/query", {"query": 'count(up{tier="lower"})', "time": T})["result"]
    status, body = upper.request("/api/v1/query", {"query": 'up{tier="other"}', "time": T})
    assert status == 200 and body["data"]["result"] == []


def test_store_api_takes_any_batch_size(stack):
    """Any int64 is a legal response_batch_size: 2^62 answered INTERNAL
    "capacity overflow"; it means every series in one batch."""
    lower, _ = stack
    client = StoreClient(lower.grpc_address)
    try:
        single = client.series_messages([(RE, "__name__", "up|node_.*")])
        assert single and {m.WhichOneof("result") for m in single} == {"series"}
        for huge in (2**62, 2**63 - 1):
            (whole,) = client.series_messages([(RE, "__name__", "up|node_.*")], response_batch_size=huge)
            assert list(whole.batch.series) == [m.series for m in single]
    finally:
        client.close()
