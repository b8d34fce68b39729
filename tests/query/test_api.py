"""The querier's HTTP API against Prometheus 2.42's own on the same data: the
same status codes, error types and messages for bad input, GET and POST
alike; Thanos's extra parameters and endpoints; and the process keeps
serving after every bad request."""

from __future__ import annotations

import urllib.request

import pytest

from support import datasets, http
from support.components import querier
from support.prometheus import PrometheusServer
from support.storeapi import FakeStore

pytestmark = pytest.mark.prometheus

DATA = datasets.monitoring(hours=1, jobs=1, instances=2, extra_labels={"cluster": "eu1"})
T = DATA.start + 1800


@pytest.fixture(scope="module")
def setup(tmp_path_factory, prometheus_binaries):
    work = tmp_path_factory.mktemp("api")
    with FakeStore(DATA.series, {"cluster": "eu1", "replica": "0"}) as store:
        with PrometheusServer(work, openmetrics=DATA.openmetrics()) as prom:
            with querier(work, [store.address], "--query.default-step=5s") as q:
                yield q, prom


def prom_request(prom: PrometheusServer, path: str, params, method: str = "GET") -> tuple[int, dict]:
    return http.request(prom.url, path, params, method)

BAD_REQUESTS = [
    ("/api/v1/query", {"query": "sum(", "time": T}),
    ("/api/v1/query", {"time": T}),
    ("/api/v1/query", {"query": "up", "time": "yesterday"}),
    ("/api/v1/query", {"query": "up", "time": T, "timeout": "soon"}),
    ("/api/v1/query", {"query": "rate(up)", "time": T}),
    ("/api/v1/query", {"query": "up + on (job) up", "time": T}),
    ("/api/v1/query", {"query": 'label_replace(up, "x", "$1", "instance", "(")', "time": T}),
    # --query.max-samples (Prometheus's default, 50,000,000): once 2.7 GB and a 200.
    ("/api/v1/query", {"query": "max_over_time(vector(1)[1000d:1s])", "time": T}),
    ("/api/v1/query_range", {"query": "count_over_time(up[1h:1s])", "start": T, "end": T + 3600, "step": 1}),
    ("/api/v1/query_range", {"query": "up", "start": T, "end": T + 60, "step": 0}),
    ("/api/v1/query_range", {"query": "up", "start": T, "end": T + 60, "step": -5}),
    ("/api/v1/query_range", {"query": "up", "start": T, "end": T + 60, "step": "fast"}),
    ("/api/v1/query_range", {"query": "up", "start": T, "end": T + 86400, "step": 1}),
    ("/api/v1/query_range", {"query": "up", "start": T + 60, "end": T, "step": 15}),
    ("/api/v1/query_range", {"query": "up", "end": T, "step": 15}),
    ("/api/v1/query_range", {"query": "up", "start": "then", "end": T, "step": 15}),
    ("/api/v1/query_range", {"query": '"a string"', "start": T, "end": T + 60, "step": 15}),
    ("/api/v1/query_range", {"query": "up[5m]", "start": T, "end": T + 60, "step": 15}),
    ("/api/v1/query_range", {"query": "sum by (", "start": T, "end": T + 60, "step": 15}),
    ("/api/v1/series", {}),
    ("/api/v1/series", {"match[]": '{job=~".*"}'}),
    ("/api/v1/series", {"match[]": "up{"}),
    ("/api/v1/series", {"match[]": "up", "start": "x"}),
    ("/api/v1/labels", {"match[]": "up{"}),
    ("/api/v1/labels", {"end": "x"}),
    ("/api/v1/label/0bad/values", {}),
    ("/api/v1/label/job/values", {"match[]": "{"}),
]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_input_gets_prometheus_status_type_and_message(setup, method):
    q, prom = setup
    problems = []
    for path, params in BAD_REQUESTS:
        if method == "POST" and path.startswith("/api/v1/label/"):
            continue  # GET only, in both
        ours = q.request(path, params, method)
        theirs = prom_request(prom, path, params, method)
        if ours[0] != theirs[0] or ours[1].get("errorType") != theirs[1].get("errorType"):
            problems.append(f"{path} {params}: ours {ours}, Prometheus {theirs}")
        elif ours[1].get("error") != theirs[1].get("error"):
            problems.append(f"{path} {params}: message {ours[1].get('error')!r} vs {theirs[1].get('error')!r}")
    assert not problems, "\n".join(problems)
    # Still serving.
    assert q.api("/api/v1/query", {"query": "count(up)", "time": T})["result"][0]["value"][1] == "2"


def test_unknown_parameters_are_ignored_as_by_prometheus(setup):
    q, prom = setup
    params = {"query": "sum(up)", "time": T, "frobnicate": "yes"}
    ours, theirs = q.request("/api/v1/query", params), prom_request(prom, "/api/v1/query", params)
    assert ours[0] == theirs[0] == 200
    assert ours[1]["data"] == theirs[1]["data"]


def test_post_answers_as_get(setup):
    q, _ = setup
    params = {"query": "rate(http_requests_total[5m])", "start": T, "end": T + 600, "step": 30}
    assert q.request("/api/v1/query_range", params, "POST") == q.request("/api/v1/query_range", params)


def test_deep_queries_answer_as_prometheus_and_deeper_ones_fail_cleanly(setup):
    """A chain of 9,000 operands (an 18 KB query) once overflowed the
    querier's stack and killed it (issue 17); Prometheus answers it, and so do
    we. Past our depth limit the answer is bad_data, and the querier lives on."""
    q, prom = setup
    for query in ["+".join(["1"] * 9000), " or ".join(["up"] * 9000)]:
        params = {"query": query, "time": T}
        status, body = q.request("/api/v1/query", params, "POST")
        assert (status, body) == prom_request(prom, "/api/v1/query", params, "POST")
    status, body = q.request("/api/v1/query", {"query": "+".join(["1"] * 30000), "time": T}, "POST")
    assert (status, body["errorType"]) == (400, "bad_data"), body
    assert "levels deep" in body["error"]
    assert q.request("/api/v1/query", {"query": "1", "time": T})[0] == 200


def test_thanos_parameters(setup):
    q, _ = setup
    with_replica = q.api("/api/v1/query", {"query": "up", "time": T, "dedup": "false"})["result"]
    assert {s["metric"]["replica"] for s in with_replica} == {"0"}
    deduped = q.api("/api/v1/query", {"query": "up", "time": T})["result"]
    assert all("replica" not in s["metric"] for s in deduped)
    # replicaLabels[] overrides the flag: deduplicating on "cluster" drops it instead.
    by_cluster = q.api("/api/v1/query", {"query": "up", "time": T, "replicaLabels[]": "cluster"})["result"]
    assert all("cluster" not in s["metric"] and s["metric"]["replica"] == "0" for s in by_cluster)
    status, body = q.request("/api/v1/query", {"query": "up", "time": T, "dedup": "maybe"})
    assert (status, body["errorType"]) == (400, "bad_data")
    assert body["error"] == "'dedup' parameter: strconv.ParseBool: parsing \"maybe\": invalid syntax"
    status, body = q.request("/api/v1/query", {"query": "up", "time": T, "partial_response": "2"})
    assert (status, body["errorType"]) == (400, "bad_data")


def test_range_queries_default_the_step_as_thanos(setup):
    q, _ = setup
    # No step: max(range / 250, --query.default-step=5s) = 5s for 10 minutes.
    result = q.api("/api/v1/query_range", {"query": "count(up)", "start": T, "end": T + 600})["result"]
    times = [p[0] for p in result[0]["values"]]
    assert times[1] - times[0] == 5 and len(times) == 121


def test_metadata_endpoints_match_prometheus(setup):
    q, prom = setup
    for path, params in [
        ("/api/v1/labels", {}),
        ("/api/v1/labels", {"match[]": "up"}),
        ("/api/v1/label/job/values", {}),
        ("/api/v1/label/__name__/values", {}),
        ("/api/v1/label/instance/values", {"match[]": 'up{instance="host1:9100"}'}),
        ("/api/v1/series", {"match[]": ["up", "node_memory_used_bytes"]}),
        ("/api/v1/series", {"match[]": "up", "start": T - 60, "end": T}),
    ]:
        ours = q.api(path, params)
        theirs = prom.api(path, **params)
        if path == "/api/v1/labels":
            # The store's external replica label is a label name the querier sees.
            ours = [n for n in ours if n != "replica"]
        if path == "/api/v1/series":
            ours = sorted(ours, key=lambda m: sorted(m.items()))
            theirs = sorted(theirs, key=lambda m: sorted(m.items()))
        assert ours == theirs, path


def test_stores_buildinfo_flags_and_cors(setup):
    q, _ = setup
    stores = q.api("/api/v1/stores")
    (entry,) = stores["sidecar"]
    assert set(entry) == {"name", "lastCheck", "lastError", "labelSets", "minTime", "maxTime"}
    assert entry["lastError"] is None
    assert entry["labelSets"] == [{"cluster": "eu1", "replica": "0"}]
    assert entry["minTime"] <= DATA.start * 1000 + 5 and entry["maxTime"] >= DATA.end * 1000 - 5
    assert set(q.api("/api/v1/status/buildinfo")) >= {"version", "revision", "branch", "goVersion"}
    flags = q.api("/api/v1/status/flags")
    assert flags["query-replica-labels"] == "replica"
    req = urllib.request.Request(f"{q.url}/api/v1/query", method="OPTIONS")
    with urllib.request.urlopen(req) as r:
        assert r.status == 204 and r.headers["Access-Control-Allow-Origin"] == "*"
    with urllib.request.urlopen(f"{q.url}/metrics") as r:
        text = r.read().decode()
    assert 'http_requests_total{code="200",handler="/api/v1/query",method="GET"}' in text
