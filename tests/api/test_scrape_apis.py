"""The Metadata, Targets and Exemplars APIs end to end, against real
Prometheus 2.42: an HA pair (same cluster, different ``replica``) scraping an
OpenMetrics target with exemplars and dropping another, a sidecar in front of
each, a querier over both. The sidecars' gRPC answers are Prometheus's plus
the external labels; the querier's HTTP answers are Prometheus's own shape,
deduplicated by the replica label."""

from __future__ import annotations

import http.server
import threading
import time

import grpc
import pytest

from support import protos
from support.components import querier, sidecar
from support.prometheus import PrometheusServer, free_port

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

#: Exemplars with fixed timestamps, so that every scrape stores the same ones.
OPENMETRICS = """\
# TYPE demo_requests counter
# HELP demo_requests Requests served.
demo_requests_total{path="/a"} 7 # {trace_id="abc"} 1.0 1675245600.123
demo_requests_total{path="/b"} 3 # {trace_id="def",span_id="1"} 0.5 1675245601
# TYPE demo_temperature_celsius gauge
# UNIT demo_temperature_celsius celsius
# HELP demo_temperature_celsius Temperature <in> the room.
demo_temperature_celsius 21.5
# EOF
"""

CLUSTER = "eu"


class _Exporter(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = OPENMETRICS.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def exporter():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Exporter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def scrape_configs(exporter: str) -> list[dict]:
    return [
        {"job_name": "demo", "static_configs": [{"targets": [exporter]}]},
        {
            "job_name": "dropped",
            "static_configs": [{"targets": ["127.0.0.1:1"]}],
            "relabel_configs": [{"action": "drop", "source_labels": ["__address__"], "regex": "127.0.0.1:1"}],
        },
    ]


def wait_scraped(prom: PrometheusServer) -> None:
    """Until the target is up, its metadata known and its exemplars stored."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        active = prom.api("/api/v1/targets", state="active")["activeTargets"]
        exemplars = prom.api("/api/v1/query_exemplars", query="demo_requests_total")
        if active and all(t["health"] == "up" for t in active) and len(exemplars) == 2 \
                and prom.api("/api/v1/metadata", metric="demo_temperature_celsius"):
            return
        time.sleep(0.3)
    raise AssertionError("Prometheus did not scrape the exporter")


@pytest.fixture(scope="module")
def pair(tmp_path_factory, exporter):
    """Two Prometheus replicas and their sidecars."""
    work = tmp_path_factory.mktemp("scrape-apis")
    proms = [
        PrometheusServer(work, f"prom{r}", external_labels={"cluster": CLUSTER, "replica": str(r)},
                         scrape_configs=scrape_configs(exporter), extra_args=("--enable-feature=exemplar-storage",))
        for r in (0, 1)
    ]
    sidecars = []
    try:
        for p in proms:
            p.start()
        for p in proms:
            wait_scraped(p)
            sidecars.append(sidecar(work, p.url).start())
        yield proms, sidecars
    finally:
        for s in sidecars:
            s.stop()
        for p in proms:
            p.stop()


def wait_serving(q, api_path: str, params: dict, count: int) -> None:
    """Until the querier has asked every endpoint for its Info."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, body = q.request("/api/v1/stores")
        if status == 200 and sum(len(v) for v in body["data"].values()) >= count:
            status, body = q.request(api_path, params)
            if status == 200 and body["status"] == "success":
                return
        time.sleep(0.3)
    raise AssertionError(f"querier never saw its {count} endpoints")


@pytest.fixture(scope="module")
def query(tmp_path_factory, pair):
    _, sidecars = pair
    with querier(tmp_path_factory.mktemp("q"), [s.grpc_address for s in sidecars]) as q:
        wait_serving(q, "/api/v1/targets", {}, 2)
        yield q


def with_external(labels: dict, prom: PrometheusServer) -> dict:
    return {**labels, **prom.external_labels}


def zlabels(zset) -> dict:
    return {lab.name: lab.value for lab in zset.labels}


# The sidecar's gRPC services.


def call(side, service: str, request):
    pb = protos.load()
    with grpc.insecure_channel(side.grpc_address) as channel:
        stub = {
            "targets": pb.targets_grpc.TargetsStub,
            "metadata": pb.metadata_grpc.MetadataStub,
            "exemplars": pb.exemplars_grpc.ExemplarsStub,
        }[service](channel)
        method = {"targets": "Targets", "metadata": "MetricMetadata", "exemplars": "Exemplars"}[service]
        return list(getattr(stub, method)(request, timeout=10))


def test_sidecar_announces_the_apis(pair):
    pb = protos.load()
    _, sidecars = pair
    with grpc.insecure_channel(sidecars[0].grpc_address) as channel:
        info = pb.info_grpc.InfoStub(channel).Info(pb.info.InfoRequest(), timeout=10)
    assert info.HasField("targets") and info.HasField("metric_metadata") and info.HasField("exemplars")


@pytest.mark.parametrize("state", ["ANY", "ACTIVE", "DROPPED"])
def test_sidecar_targets_are_prometheus_s_with_external_labels(pair, state):
    pb = protos.load()
    proms, sidecars = pair
    prom, side = proms[1], sidecars[1]
    (message,) = call(side, "targets", pb.targets.TargetsRequest(state=getattr(pb.targets.TargetsRequest, state)))
    got = message.targets
    want = prom.api("/api/v1/targets", **({} if state == "ANY" else {"state": state.lower()}))
    assert len(got.activeTargets) == len(want["activeTargets"]) == (0 if state == "DROPPED" else 1)
    assert len(got.droppedTargets) == len(want["droppedTargets"]) == (0 if state == "ACTIVE" else 1)
    for g, w in zip(got.activeTargets, want["activeTargets"], strict=True):
        assert zlabels(g.labels) == with_external(w["labels"], prom)
        assert zlabels(g.discoveredLabels) == with_external(w["discoveredLabels"], prom)
        assert (g.scrapePool, g.scrapeUrl, g.globalUrl, g.lastError) == (
            w["scrapePool"], w["scrapeUrl"], w["globalUrl"], w["lastError"])
        assert g.health == pb.targets.UP and w["health"] == "up"
        # Scraped every second: the two reads are a scrape or two apart.
        assert abs(g.lastScrape.seconds - time.time()) < 30 and g.lastScrapeDuration > 0
    for g, w in zip(got.droppedTargets, want["droppedTargets"], strict=True):
        assert zlabels(g.discoveredLabels) == with_external(w["discoveredLabels"], prom)


def metas(message) -> dict:
    return {k: sorted((m.type, m.help, m.unit) for m in v.metas) for k, v in message.metadata.metadata.items()}


def prom_metas(data: dict) -> dict:
    return {k: sorted((m["type"], m["help"], m["unit"]) for m in v) for k, v in data.items()}


@pytest.mark.parametrize("params", [{}, {"metric": "demo_requests"}, {"limit": 1}, {"metric": "nope"}])
def test_sidecar_metadata_is_prometheus_s(pair, params):
    pb = protos.load()
    proms, sidecars = pair
    request = pb.metadata.MetricMetadataRequest(metric=params.get("metric", ""), limit=params.get("limit", -1))
    (message,) = call(sidecars[0], "metadata", request)
    want = prom_metas(proms[0].api("/api/v1/metadata", **params))
    if "limit" in params:
        # Which metric a limit keeps is Go's map order.
        assert len(metas(message)) == len(want) == 1
    else:
        assert metas(message) == want
    if not params:
        assert want["demo_temperature_celsius"] == [("gauge", "Temperature <in> the room.", "celsius")]


def test_sidecar_exemplars_are_prometheus_s_with_external_labels(pair):
    pb = protos.load()
    proms, sidecars = pair
    request = pb.exemplars.ExemplarsRequest(query='demo_requests_total{path=~"/a|/b"}', start=0, end=int(time.time() * 1000))
    got = call(sidecars[0], "exemplars", request)
    want = proms[0].api("/api/v1/query_exemplars", query='demo_requests_total{path=~"/a|/b"}', start=0, end=time.time())
    assert len(got) == len(want) == 2
    by_path = {zlabels(m.data.seriesLabels)["path"]: m.data for m in got}
    for w in want:
        g = by_path[w["seriesLabels"]["path"]]
        assert zlabels(g.seriesLabels) == with_external(w["seriesLabels"], proms[0])
        assert [(zlabels(e.labels), e.value, e.ts) for e in g.exemplars] == [
            (e["labels"], float(e["value"]), round(e["timestamp"] * 1000)) for e in w["exemplars"]]


def test_sidecar_refuses_a_bad_exemplar_query_as_prometheus_does(pair):
    pb = protos.load()
    _, sidecars = pair
    with pytest.raises(grpc.RpcError) as e:
        call(sidecars[0], "exemplars", pb.exemplars.ExemplarsRequest(query="up{", start=0, end=1))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "parse error" in e.value.details()


# The querier's HTTP API.

#: Prometheus 2.42's fields that Thanos's ActiveTarget has no place for.
NOT_IN_THANOS = {"scrapeInterval", "scrapeTimeout"}


def test_querier_targets_deduplicated_by_replica(pair, query):
    proms, _ = pair
    want = proms[0].api("/api/v1/targets")
    got = query.api("/api/v1/targets")
    assert set(got) == set(want) == {"activeTargets", "droppedTargets"}
    (active,) = got["activeTargets"]
    (prom_active,) = want["activeTargets"]
    assert list(active) == [k for k in prom_active if k not in NOT_IN_THANOS]
    assert active["labels"] == {**prom_active["labels"], "cluster": CLUSTER}
    assert active["discoveredLabels"] == {**prom_active["discoveredLabels"], "cluster": CLUSTER}
    for k in ("scrapePool", "scrapeUrl", "globalUrl", "lastError", "health"):
        assert active[k] == prom_active[k]
    assert isinstance(active["lastScrapeDuration"], float)
    assert active["lastScrape"].endswith("Z") and active["lastScrape"][:4] == prom_active["lastScrape"][:4]
    (dropped,) = got["droppedTargets"]
    assert dropped == {"discoveredLabels": {**want["droppedTargets"][0]["discoveredLabels"], "cluster": CLUSTER}}


def test_querier_targets_without_dedup_show_each_replica(query):
    got = query.api("/api/v1/targets", {"dedup": "false"})
    assert sorted(t["labels"]["replica"] for t in got["activeTargets"]) == ["0", "1"]
    assert sorted(t["discoveredLabels"]["replica"] for t in got["droppedTargets"]) == ["0", "1"]


def test_querier_targets_state_filter(query):
    active = query.api("/api/v1/targets", {"state": "active"})
    assert len(active["activeTargets"]) == 1 and active["droppedTargets"] == []
    dropped = query.api("/api/v1/targets", {"state": "Dropped"})
    assert dropped["activeTargets"] == [] and len(dropped["droppedTargets"]) == 1
    status, body = query.request("/api/v1/targets", {"state": "sideways"})
    # Thanos's answer; Prometheus 2.42 answers two empty lists.
    assert (status, body) == (400, {"status": "error", "errorType": "bad_data",
                                    "error": "invalid targets parameter state='sideways'"})


@pytest.mark.parametrize("params", [{}, {"metric": "demo_temperature_celsius"}, {"metric": "nope"}, {"limit": "0"}])
def test_querier_metadata_is_prometheus_s(pair, query, params):
    proms, _ = pair
    want = proms[0].api("/api/v1/metadata", **params)
    got = query.api("/api/v1/metadata", params)
    assert prom_metas(got) == prom_metas(want)
    assert list(got) == sorted(got)


def test_querier_metadata_limit_and_bad_limit(pair, query):
    proms, _ = pair
    got = query.api("/api/v1/metadata", {"limit": "1"})
    (metric,) = got
    assert prom_metas(got)[metric] == prom_metas(proms[0].api("/api/v1/metadata", metric=metric))[metric]
    for bad in ("x", "1.5"):
        want = proms[0].api_body("/api/v1/metadata", limit=bad)
        status, body = query.request("/api/v1/metadata", {"limit": bad})
        assert (status, body) == (400, want)


def test_querier_exemplars_equal_prometheus_s_with_cluster(pair, query):
    proms, _ = pair
    params = {"query": "demo_requests_total", "start": "1675245000", "end": str(int(time.time()))}
    want = proms[0].api("/api/v1/query_exemplars", **params)
    for series in want:
        series["seriesLabels"]["cluster"] = CLUSTER
    want.sort(key=lambda s: sorted(s["seriesLabels"].items()))
    status, body = query.request("/api/v1/query_exemplars", params)
    assert status == 200 and body == {"status": "success", "data": want}
    # The same value and timestamp text as Prometheus writes.
    assert want[0]["exemplars"][0]["value"] == "1" and want[0]["exemplars"][0]["timestamp"] == 1675245600.123
    undeduplicated = query.api("/api/v1/query_exemplars", {**params, "dedup": "false"})
    assert len(undeduplicated) == 4
    # A matcher on the external label is checked against it, not sent.
    assert len(query.api("/api/v1/query_exemplars", {**params, "query": f'demo_requests_total{{cluster="{CLUSTER}"}}'})) == 2
    assert query.api("/api/v1/query_exemplars", {**params, "query": 'demo_requests_total{cluster="us"}'}) == []


@pytest.mark.parametrize("params", [
    {"query": "demo_requests_total", "start": "x"},
    {"query": "demo_requests_total", "end": "x"},
    {"query": "demo_requests_total", "start": "10", "end": "5"},
    {"query": "demo_requests_total{"},
    {},
    {"query": "{}"},
])
def test_querier_exemplars_bad_parameters_as_prometheus(pair, query, params):
    proms, _ = pair
    want = proms[0].api_body("/api/v1/query_exemplars", **params)
    status, body = query.request("/api/v1/query_exemplars", params)
    assert (status, body) == (400, want)


# An endpoint that fails.


@pytest.fixture(scope="module")
def broken(tmp_path_factory, exporter, pair):
    """A querier over a working sidecar and one whose Prometheus has stopped."""
    _, sidecars = pair
    work = tmp_path_factory.mktemp("broken")
    prom = PrometheusServer(work, "gone", external_labels={"cluster": "gone"}, scrape_configs=scrape_configs(exporter),
                            extra_args=("--enable-feature=exemplar-storage",))
    with prom:
        side = sidecar(work, prom.url).start()
    try:
        with querier(work, [sidecars[0].grpc_address, side.grpc_address]) as q:
            deadline = time.monotonic() + 30
            while sum(len(v) for v in q.api("/api/v1/stores").values()) < 2 and time.monotonic() < deadline:
                time.sleep(0.3)
            yield q
    finally:
        side.stop()


@pytest.mark.parametrize("path,params", [
    ("/api/v1/targets", {}),
    ("/api/v1/metadata", {}),
    ("/api/v1/query_exemplars", {"query": "demo_requests_total"}),
])
def test_a_failing_endpoint_is_a_warning_or_an_error(broken, path, params):
    status, body = broken.request(path, {**params, "partial_response": "true"})
    assert status == 200 and body["status"] == "success", body
    (warning,) = body["warnings"]
    assert "Addr: " in warning and "gone" in warning
    status, body = broken.request(path, {**params, "partial_response": "false"})
    assert (status, body["status"], body["errorType"]) == (500, "error", "internal"), body
    assert body["error"].startswith("retrieving ")


# Queriers stacked: the lower one serves the APIs over gRPC.


@pytest.fixture(scope="module")
def stacked(tmp_path_factory, query):
    with querier(tmp_path_factory.mktemp("stacked"), [query.grpc_address]) as top:
        wait_serving(top, "/api/v1/targets", {}, 1)
        yield top


def without_scrape_times(data: dict) -> dict:
    for t in data["activeTargets"]:
        del t["lastScrape"], t["lastScrapeDuration"]
    return data


def test_a_querier_announces_and_serves_the_apis_to_a_querier_above(query, stacked):
    pb = protos.load()
    with grpc.insecure_channel(query.grpc_address) as channel:
        info = pb.info_grpc.InfoStub(channel).Info(pb.info.InfoRequest(), timeout=10)
    assert info.HasField("targets") and info.HasField("metric_metadata") and info.HasField("exemplars")
    for params in ({}, {"dedup": "false"}, {"state": "dropped"}):
        top = stacked.api("/api/v1/targets", params)
        assert without_scrape_times(top) == without_scrape_times(query.api("/api/v1/targets", params))
        assert top["activeTargets"] or top["droppedTargets"]
    assert stacked.api("/api/v1/metadata") == query.api("/api/v1/metadata")
    params = {"query": "demo_requests_total", "start": "1675245000"}
    exemplars = stacked.api("/api/v1/query_exemplars", params)
    assert exemplars == query.api("/api/v1/query_exemplars", params) and len(exemplars) == 2
