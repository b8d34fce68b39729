"""The calls Grafana's Prometheus data source makes, run against the querier:
none may answer 404 or an error. The sequence is written down from Grafana's
source (grafana/grafana, 2025), as its backend sends them to the data source
URL with the default HTTP method, POST:

- saving the data source: ``pkg/promlib/healthcheck.go`` (an instant ``1+1``
  at t=4 s) and ``pkg/promlib/heuristics.go`` (``/api/v1/status/buildinfo``);
- a dashboard: ``pkg/promlib/client/client.go`` (``QueryRange`` and
  ``QueryInstant``, times as ``strconv.FormatFloat(seconds, 'f', -1, 64)``,
  POSTed as a form) and its template variables
  (``packages/grafana-prometheus/src/metric_find_query.ts``:
  ``label_values(job)`` and ``label_values(up, instance)``);
- the metric browser and the query editor's completion
  (``packages/grafana-prometheus/src/language_provider.ts``: metric names,
  ``/api/v1/metadata``, label names, label values and series with ``match[]``
  and the series limit of 40,000 (``DEFAULT_SERIES_LIMIT``));
- Explore: a range and an instant query at once, and exemplars
  (``client.go``'s ``QueryExemplars``);
- the alerting views: ``/api/v1/rules`` and ``/api/v1/alerts``, which
  ``client.go`` sends with GET only (``endpointsSupportOnlyGet``).

Metadata requests go through Grafana's resource proxy: GET for the paths in
``endpointsSupportOnlyGet``, POST for the others."""

from __future__ import annotations

import pytest

from support import datasets, http
from support.components import querier, sidecar
from support.prometheus import PrometheusServer

pytestmark = pytest.mark.prometheus

DATA = datasets.monitoring(hours=1, jobs=1, instances=2)
START, END = DATA.start + 600, DATA.start + 3600


def seconds(t: float) -> str:
    """As Go's strconv.FormatFloat(t, 'f', -1, 64) writes a time in seconds."""
    return repr(float(t)).removesuffix(".0")


def grafana_calls() -> list[tuple[str, str, dict]]:
    window = {"start": seconds(START + 0.123), "end": seconds(END + 0.456)}
    # getAdjustedInterval: whole seconds, start rounded down and end up.
    adjusted = {"start": str(START), "end": str(END + 1)}
    query = 'sum by (job) (rate(http_requests_total{code!="500"}[5m]))'
    return [
        # Saving the data source.
        ("POST", "/api/v1/query", {"query": "1+1", "time": "4"}),
        ("GET", "/api/v1/status/buildinfo", {}),
        # A dashboard: its variables, then its panels.
        ("GET", "/api/v1/label/job/values", adjusted),
        ("GET", "/api/v1/label/instance/values", {**adjusted, "match[]": "up"}),
        ("POST", "/api/v1/query_range", {"query": query, **window, "step": "15"}),
        ("POST", "/api/v1/query_range", {"query": "up", **window, "step": "7.5"}),
        ("POST", "/api/v1/query", {"query": "count(up)", "time": window["end"]}),
        # The metric browser and completion.
        ("GET", "/api/v1/label/__name__/values", adjusted),
        ("GET", "/api/v1/metadata", {}),
        ("POST", "/api/v1/labels", adjusted),
        ("POST", "/api/v1/labels", {**adjusted, "match[]": "http_requests_total"}),
        ("GET", "/api/v1/label/code/values", {**adjusted, "match[]": '{__name__="http_requests_total"}'}),
        ("POST", "/api/v1/series", {**adjusted, "match[]": '{__name__="http_requests_total"}', "limit": "40000"}),
        # Explore.
        ("POST", "/api/v1/query_range", {"query": query, **window, "step": "2"}),
        ("POST", "/api/v1/query", {"query": query, "time": window["end"]}),
        ("POST", "/api/v1/query_exemplars", {"query": query, **window}),
        # Alerting.
        ("GET", "/api/v1/rules", {}),
        ("GET", "/api/v1/alerts", {}),
    ]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, prometheus_binaries):
    work = tmp_path_factory.mktemp("grafana")
    replicas = [
        PrometheusServer(work, f"prom{r}", {"cluster": "eu1", "replica": str(r)}, openmetrics=DATA.openmetrics())
        for r in range(2)
    ]
    with replicas[0] as p0, replicas[1] as p1:
        with sidecar(work, p0.url) as s0, sidecar(work, p1.url) as s1:
            stores = [s0.grpc_address, s1.grpc_address]
            with querier(work, stores) as q:
                yield q, p0


@pytest.mark.parametrize("method, path, params", grafana_calls(), ids=lambda v: v if isinstance(v, str) else None)
def test_grafana_call_is_answered(stack, method, path, params):
    q, _ = stack
    status, body = http.request(q.url, path, params, method)
    assert status == 200 and body["status"] == "success", (method, path, params, status, body)


def test_the_dashboard_sees_the_data(stack):
    """Not only answers, but the data: the variables and a panel as
    Prometheus itself answers them (either replica holds everything; the
    panel aggregates the external labels away)."""
    q, prom = stack
    for method, path, params in grafana_calls()[2:4]:
        assert http.request(q.url, path, params, method) == http.request(prom.url, path, params, method)
    method, path, params = grafana_calls()[4]
    ours, theirs = http.request(q.url, path, params, method), http.request(prom.url, path, params, method)
    assert ours[1]["data"]["result"] and ours[1]["data"] == theirs[1]["data"]
