"""Clients written for Prometheus work against the querier unchanged:
promtool's query commands and the prometheus-api-client package print and
return the same as against a Prometheus holding the same data."""

from __future__ import annotations

import subprocess

import pytest
from prometheus_api_client import PrometheusConnect

from support import datasets
from support.components import querier
from support.prometheus import PrometheusServer
from support.storeapi import FakeStore

pytestmark = pytest.mark.prometheus

EU1 = datasets.monitoring(hours=1, seed=3, jobs=2, instances=2, extra_labels={"cluster": "eu1"})
T = EU1.start + 1800


@pytest.fixture(scope="module")
def servers(tmp_path_factory, prometheus_binaries):
    work = tmp_path_factory.mktemp("clients")
    # Two replicas of eu1: with deduplication the querier holds what Prometheus holds.
    with FakeStore(EU1.series, {"cluster": "eu1", "replica": "0"}) as r0, FakeStore(
        EU1.series, {"cluster": "eu1", "replica": "1"}
    ) as r1:
        with PrometheusServer(work, openmetrics=EU1.openmetrics()) as prom:
            with querier(work, [r0.address, r1.address]) as q:
                yield q, prom


def promtool(*args: str) -> str:
    return subprocess.run(["promtool", "query", *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize(
    "args",
    [
        ["instant", "--time", str(T), "{url}", "sum by (job) (rate(http_requests_total[5m]))"],
        ["instant", "--time", str(T), "{url}", "up"],
        ["instant", "-o", "json", "--time", str(T), "{url}", "topk(3, node_memory_used_bytes)"],
        ["range", "--start", str(T - 600), "--end", str(T), "--step", "1m", "{url}", "avg by (job) (up)"],
        ["series", "--match", "up", "--start", str(EU1.start), "--end", str(EU1.end), "{url}"],
        ["labels", "--start", str(EU1.start), "--end", str(EU1.end), "{url}", "job"],
    ],
    ids=["instant", "instant-vector", "instant-json", "range", "series", "labels"],
)
def test_promtool_prints_the_same(servers, args):
    q, prom = servers
    ours = promtool(*(a.format(url=q.url) for a in args))
    theirs = promtool(*(a.format(url=prom.url) for a in args))
    assert ours.strip(), "promtool printed nothing"
    if args[0] == "series":
        ours, theirs = sorted(ours.splitlines()), sorted(theirs.splitlines())
    assert ours == theirs


def test_prometheus_api_client_returns_the_same(servers):
    q, prom = servers
    clients = [PrometheusConnect(url=u, disable_ssl=True) for u in (q.url, prom.url)]
    calls = [
        lambda c: c.custom_query("rate(http_requests_total[5m])", params={"time": T}),
        lambda c: c.custom_query_range("sum(up)", start_time=_dt(T - 900), end_time=_dt(T), step="60"),
        lambda c: c.get_label_values("instance"),
        lambda c: sorted(c.all_metrics()),
        lambda c: c.get_current_metric_value("up", label_config={"job": "job1"}, params={"time": T}),
    ]
    for call in calls:
        ours, theirs = (call(c) for c in clients)
        assert ours, "empty answer"
        key = lambda s: sorted(s["metric"].items()) if isinstance(s, dict) else s  # noqa: E731
        if isinstance(ours, list) and ours and isinstance(ours[0], dict):
            ours, theirs = sorted(ours, key=key), sorted(theirs, key=key)
        assert ours == theirs


def _dt(t: float):
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.timezone.utc)
