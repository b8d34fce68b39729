"""The querier's HTTP API against Prometheus 2.42's own on the same data: the
same status codes, error types and messages for bad input, GET and POST
alike; Thanos's extra parameters and endpoints; and the process keeps
serving after every bad request."""

from __future__ import annotations

import json
import platform
import socket
import threading
import urllib.parse
import urllib.request
from http.client import HTTPResponse

import pytest

from support import datasets, http
from support.components import querier
from support.prometheus import PrometheusServer
from support.storeapi import FakeStore

import thanos_rs
from thanos_rs import _core

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


def test_match_lists_are_answered_in_one_pass(setup, tmp_path):
    """Grafana asks for dozens of metric names at once; each ``match[]`` used to
    be one call per store (one Prometheus request per sidecar). Sets that differ
    only in one label's matcher are asked for together; the answer is Prometheus's."""
    _, prom = setup
    names = sorted({dict(labels)["__name__"] for labels, _ in DATA.series.items()})
    matches = [*names, 'up{instance="host1:9100"}', 'up{instance=~"host2.*"}', 'node_load1{job!="x"}']
    with FakeStore(DATA.series, {"cluster": "eu1", "replica": "0"}) as store, querier(tmp_path, [store.address]) as q:
        ours = q.api("/api/v1/series", {"match[]": matches})
        # The names in one call, the two ``up`` in another, ``node_load1{job!="x"}`` alone.
        assert len(store.requests) == 3, [r.matchers for r in store.requests]
        assert len(ours) > 2
        theirs = prom.api("/api/v1/series", **{"match[]": matches})
        assert sorted(ours, key=lambda m: sorted(m.items())) == sorted(theirs, key=lambda m: sorted(m.items()))


@pytest.mark.parametrize("path, params", [
    ("/api/v1/series", {"match[]": '{__name__=~".+"}'}),
    ("/api/v1/labels", {}),
    ("/api/v1/label/__name__/values", {}),
])
def test_metadata_limit_as_prometheus_2_54(setup, path, params):
    """Prometheus 2.42 has no ``limit``; this is its reading since v2.54."""
    q, _ = setup
    whole = q.api(path, params)
    assert len(whole) > 2
    status, body = q.request(path, {**params, "limit": "2"})
    assert status == 200 and body["data"] == whole[:2] and body["warnings"] == ["results truncated due to limit"]
    status, body = q.request(path, {**params, "limit": "0"})
    assert body["data"] == whole and "warnings" not in body
    for bad, message in (("-1", "limit must be non-negative"), ("x", 'strconv.Atoi: parsing "x": invalid syntax')):
        status, body = q.request(path, {**params, "limit": bad})
        assert (status, body["errorType"], body["error"]) == (400, "bad_data", f'invalid parameter "limit": {message}')


def test_store_match_picks_stores_by_address_as_thanos(tmp_path):
    with FakeStore(DATA.series, {"cluster": "eu1", "replica": "0"}) as eu, \
            FakeStore(DATA.series, {"cluster": "us1", "replica": "0"}) as us, querier(tmp_path, [eu.address, us.address]) as q:
        def clusters(path: str, params: dict, key=lambda s: s["metric"]["cluster"]) -> tuple[set, list]:
            status, body = q.request(path, params)
            assert status == 200, body
            result = body["data"]["result"] if isinstance(body["data"], dict) else body["data"]
            return {key(s) for s in result}, body.get("warnings", [])

        query = {"query": "count by (cluster) (up)", "time": T}
        assert clusters("/api/v1/query", query) == ({"eu1", "us1"}, [])
        only_us = {"storeMatch[]": f'{{__address__="{us.address}"}}'}
        assert clusters("/api/v1/query", {**query, **only_us}) == ({"us1"}, [])
        assert clusters("/api/v1/series", {"match[]": "up", **only_us}, key=lambda s: s["cluster"]) == ({"us1"}, [])
        assert q.api("/api/v1/label/cluster/values", only_us) == ["us1"]
        # Either of two selectors; labels other than __address__ are ignored, as in Thanos.
        both = {"storeMatch[]": [f'{{__address__="{us.address}"}}', f'{{__address__=~"{eu.address}", job="x"}}']}
        assert clusters("/api/v1/query", {**query, **both}) == ({"eu1", "us1"}, [])
        assert clusters("/api/v1/query", {**query, "storeMatch[]": '{__address__="nowhere:1"}'}) == (
            set(), ["No StoreAPIs matched for this query"])
        status, body = q.request("/api/v1/query", {**query, "storeMatch[]": "{__address__="})
        assert (status, body["errorType"]) == (400, "bad_data"), body


STATS_QUERIES = [
    "up", "rate(http_requests_total[5m])", "sum by (job) (rate(http_requests_total[5m]))", "timestamp(up)",
    "max_over_time(up[10m:1m])", "rate(http_requests_total[5m:1m])", f"up @ {T - 600}",
    f"rate(http_requests_total[5m] @ {T - 600})", "count_over_time(up[10m])", "up[5m]", "1 + 2",
    "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
]


def _sorted_result(result):
    if result and isinstance(result[0], dict):  # not a scalar's [t, "v"]
        return sorted(result, key=lambda r: sorted(r["metric"].items()))
    return result


@pytest.mark.parametrize("stats", ["1", "all"])
def test_stats_as_prometheus(setup, stats):
    """Any non-empty ``stats`` adds Prometheus 2.42's stats object to the
    ``data`` of a query answer (it was ignored): its timings, the samples read
    counted as Prometheus counts them, and the most samples held at once, by
    our engine, which holds fewer than Prometheus's."""
    q, prom = setup
    problems = []
    for query in STATS_QUERIES:
        for path, params in (("/api/v1/query", {"time": T}), ("/api/v1/query_range", {"start": T, "end": T + 600, "step": 60})):
            if path.endswith("range") and query == "up[5m]":
                continue
            params = {**params, "query": query, "stats": stats}
            ours, theirs = q.api(path, params), prom.api(path, **params)
            assert _sorted_result(ours["result"]) == _sorted_result(theirs["result"]), query
            timings = ours["stats"]["timings"]
            assert list(timings) == list(theirs["stats"]["timings"]), timings
            assert all(v >= 0 for v in timings.values()) and timings["execTotalTime"] >= timings["evalTotalTime"]
            assert timings["evalTotalTime"] >= timings["innerEvalTime"] > 0
            (ours, theirs) = (ours["stats"]["samples"], theirs["stats"]["samples"])
            if list(ours) != list(theirs) or ours["totalQueryableSamples"] != theirs["totalQueryableSamples"] \
                    or not 0 < ours["peakSamples"] <= theirs["peakSamples"]:
                problems.append(f"{path} {query}: ours {ours}, Prometheus {theirs}")
    assert not problems, "\n".join(problems)
    assert "stats" not in q.api("/api/v1/query", {"query": "up", "time": T})


def test_subqueries_without_a_step_use_the_default_evaluation_interval(setup, tmp_path):
    _, prom = setup
    expr = "count_over_time(up[10m:{}])"
    with FakeStore(DATA.series, {"cluster": "eu1", "replica": "0"}) as store:
        with querier(tmp_path, [store.address], "--query.default-evaluation-interval=30s") as q:
            ours = q.api("/api/v1/query", {"query": expr.format(""), "time": T})
            # Prometheus's own default is its global evaluation_interval, 1m here.
            assert ours == prom.api("/api/v1/query", query=expr.format("30s"), time=T)
            assert ours != prom.api("/api/v1/query", query=expr.format(""), time=T)


def test_stores_buildinfo_flags_and_cors(setup):
    q, _ = setup
    stores = q.api("/api/v1/stores")
    (entry,) = stores["sidecar"]
    assert set(entry) == {"name", "lastCheck", "lastError", "labelSets", "minTime", "maxTime"}
    assert entry["lastError"] is None
    assert entry["labelSets"] == [{"cluster": "eu1", "replica": "0"}]
    assert entry["minTime"] <= DATA.start * 1000 + 5 and entry["maxTime"] >= DATA.end * 1000 - 5
    # What it is, not Go's fields; the version clients parse stays.
    assert q.api("/api/v1/status/buildinfo") == {
        "version": thanos_rs.__version__, "application": "thanos_rs", "pythonVersion": platform.python_version(),
        "pythonImplementation": platform.python_implementation(), "rustVersion": _core.RUSTC_VERSION,
        "target": _core.TARGET,
    }
    assert _core.RUSTC_VERSION.startswith("rustc ") and _core.TARGET
    # Thanos's flag names, with values as kingpin prints them.
    flags = q.api("/api/v1/status/flags")
    assert flags["query.replica-label"] == "replica"
    assert (flags["query.timeout"], flags["query.default-step"], flags["query.partial-response"]) == ("2m", "5s", "true")
    assert flags["store"] == flags["endpoint"] and "no-query.partial-response" not in flags
    req = urllib.request.Request(f"{q.url}/api/v1/query", method="OPTIONS")
    with urllib.request.urlopen(req) as r:
        assert r.status == 204 and r.headers["Access-Control-Allow-Origin"] == "*"
    with urllib.request.urlopen(f"{q.url}/metrics") as r:
        text = r.read().decode()
    assert 'http_requests_total{code="200",handler="/api/v1/query",method="GET"}' in text


def raw_request(url: str, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """One request on its own connection, the body sent from a thread while
    the answer is read (a server may answer, and Go then close, before it has
    read a large body); returns (status, lower-cased headers, body)."""
    parsed = urllib.parse.urlsplit(url)
    sock = socket.create_connection((parsed.hostname, parsed.port), timeout=120)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parsed.netloc}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()

    def send() -> None:
        try:
            sock.sendall(head)
            sock.sendall(body)
        except OSError:
            pass  # answered and closed before the whole body was read

    sender = threading.Thread(target=send)
    sender.start()
    try:
        resp = HTTPResponse(sock, method=method)
        resp.begin()
        data = resp.read()
    finally:
        sender.join()
        sock.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def _answer(status: int, data: bytes) -> tuple[int, dict]:
    body = json.loads(data)
    if body["status"] == "error":
        return status, {k: body[k] for k in ("errorType", "error")}
    return status, body["data"]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_form_bodies_over_10_mb_are_dropped_as_by_prometheus(setup):
    """Go's ParseForm reads at most 10 MB of a urlencoded body and drops all of
    it past that: Prometheus 2.42 then answers from the URL's values alone,
    except /series, which reports the error. A 100 MB body once peaked at 3 GB
    in the querier."""
    q, prom = setup
    pad = lambda n: b"x=" + b"a" * (n - 2)  # noqa: E731
    query = urllib.parse.urlencode({"query": "count(up)", "time": T}).encode()
    cases = [
        ("/api/v1/query", query + b"&" + pad(10 * 2**20 - len(query) - 1)),  # exactly 10 MB: read
        ("/api/v1/query", query + b"&" + pad(10 * 2**20 - len(query))),  # a byte more: dropped
        ("/api/v1/query", query + b"&" + pad(11 * 2**20)),
        ("/api/v1/query?" + query.decode(), pad(11 * 2**20)),
        ("/api/v1/query_range", query + b"&" + pad(11 * 2**20)),
        ("/api/v1/series", b"match[]=up&" + pad(11 * 2**20)),
        ("/api/v1/series?match%5B%5D=up", pad(11 * 2**20)),
        ("/api/v1/labels?match%5B%5D=up", pad(11 * 2**20)),
    ]
    problems = []
    for path, body in cases:
        ours = _answer(*raw_request(q.url, "POST", path, body, FORM)[::2])
        theirs = _answer(*raw_request(prom.url, "POST", path, body, FORM)[::2])
        if path.startswith("/api/v1/labels") and ours[0] == 200:
            ours = (200, [n for n in ours[1] if n != "replica"])  # the store's replica label
        if ours != theirs:
            problems.append(f"{path} ({len(body)} bytes): ours {ours}, Prometheus {theirs}")
    assert not problems, "\n".join(problems)
    # 100 MB: not buffered (a few MB of growth at most), the same answer.
    with open(f"/proc/{q.proc.pid}/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    hwm = lambda: int(  # noqa: E731
        next(line for line in open(f"/proc/{q.proc.pid}/status") if line.startswith("VmHWM")).split()[1]
    )
    before = hwm()
    status, _, data = raw_request(q.url, "POST", "/api/v1/series", pad(100 * 2**20), FORM)
    assert _answer(status, data) == _answer(*raw_request(prom.url, "POST", "/api/v1/series", pad(11 * 2**20), FORM)[::2])
    assert hwm() - before < 50 * 1024, "kB"
    assert q.api("/api/v1/query", {"query": "count(up)", "time": T})["result"][0]["value"][1] == "2"


# Out-of-range times on the metadata endpoints once answered 500 ("Python int
# too large to convert to C long"). Prometheus 2.42 takes them as Go converts
# them (int64 seconds as amd64 does, milliseconds wrapping around int64).
OUT_OF_RANGE_TIMES = [
    {"start": "-9999999999999"},
    {"end": "99999999999999"},
    {"start": "1e300"},
    {"start": "-1e300"},
    {"start": "99999999999999999999"},
    {"start": "-9223372036854776"},
    {"end": "9223372036854775.807"},
    {"start": "inf"},
    {"start": "NaN"},
    {"end": "1e15"},
    {"start": "-1e10", "end": "1e10"},
]
# Where the Go time of `end` is before `start`'s, Thanos v0.26 (whose
# parseMetadataTimeRange we follow) refuses; Prometheus 2.42 has no such check.
REVERSED_BY_WRAPPING = [{"end": "1e300"}, {"end": "-Inf"}, {"start": "1e18"}, {"start": "9223372036854776"}]
METADATA_PATHS = [
    ("/api/v1/series", {"match[]": "up"}),
    ("/api/v1/labels", {}),
    ("/api/v1/labels", {"match[]": "up"}),
    ("/api/v1/label/job/values", {}),
    ("/api/v1/label/instance/values", {"match[]": "up"}),
]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_out_of_range_metadata_times_answer_as_prometheus(setup, method):
    q, prom = setup
    problems = []
    for path, base in METADATA_PATHS:
        if method == "POST" and path.startswith("/api/v1/label/"):
            continue  # GET only, in both
        for times in OUT_OF_RANGE_TIMES:
            params = {**base, **times}
            ours = q.request(path, params, method)
            theirs = prom_request(prom, path, params, method)
            ours = (ours[0], ours[1].get("errorType"), ours[1].get("data"))
            theirs = (theirs[0], theirs[1].get("errorType"), theirs[1].get("data"))
            if path == "/api/v1/labels" and ours[0] == 200:
                ours = (200, None, [n for n in ours[2] if n != "replica"])
            if path == "/api/v1/series" and ours[0] == 200:
                ours = (200, None, sorted(ours[2], key=lambda m: sorted(m.items())))
                theirs = (200, None, sorted(theirs[2], key=lambda m: sorted(m.items())))
            if ours != theirs:
                problems.append(f"{method} {path} {params}: ours {ours}, Prometheus {theirs}")
        for times in REVERSED_BY_WRAPPING:
            status, body = q.request(path, {**base, **times}, method)
            if (status, body.get("errorType")) != (400, "bad_data"):
                problems.append(f"{method} {path} {times}: ours {status} {body}")
    assert not problems, "\n".join(problems)
    assert q.api("/api/v1/query", {"query": "count(up)", "time": T})["result"][0]["value"][1] == "2"


def test_unknown_routes_and_methods_answer_as_prometheus(setup):
    """Prometheus 2.42's router: Go's plain-text 404 for an unknown path, 405
    with the allowed methods for a known one, HEAD included (its API has no
    HEAD); Starlette answered 405 for every unknown path and ran HEAD as GET."""
    q, prom = setup
    requests = [
        ("GET", "/api/v1/nonexistent"),
        ("POST", "/api/v1/nonexistent"),
        ("HEAD", "/api/v1/nonexistent"),
        ("GET", "/api/v1/"),
        ("GET", "/api/v1/label/job/values/extra"),
        ("POST", "/api/v1/label/job/values"),
        ("PUT", "/api/v1/query"),
        ("PATCH", "/api/v1/query_range"),
        ("POST", "/api/v1/status/buildinfo"),
        ("HEAD", f"/api/v1/query?query=up&time={T}"),
        ("HEAD", "/api/v1/labels"),
        ("HEAD", "/api/v1/label/job/values"),
    ]
    problems = []
    for method, path in requests:
        answers = []
        for url in (q.url, prom.url):
            status, headers, body = raw_request(url, method, path)
            keep = ("content-type", "allow", "x-content-type-options")
            answers.append((status, {k: headers.get(k) for k in keep}, body))
        if answers[0] != answers[1]:
            problems.append(f"{method} {path}: ours {answers[0]}, Prometheus {answers[1]}")
    assert not problems, "\n".join(problems)
    req = urllib.request.Request(f"{q.url}/api/v1/nonexistent", method="OPTIONS")
    with urllib.request.urlopen(req) as r:
        assert r.status == 204 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert q.api("/api/v1/query", {"query": "count(up)", "time": T})["result"][0]["value"][1] == "2"
