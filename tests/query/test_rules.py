"""The querier's ``/api/v1/rules`` and ``/api/v1/alerts`` over an HA pair of
real Prometheus 2.42 servers (same cluster, replicas 0 and 1) with a recording
rule and an always-firing alert, each behind a sidecar: the answers have the
shape of Prometheus's own, and deduplication shows each rule and alert once."""

from __future__ import annotations

import pytest

from support.components import querier, sidecar
from support.prometheus import RULES_ALWAYS_FIRING, PrometheusServer
from support.rules import keys, stable, wait_for

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

CLUSTER = {"cluster": "eu"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("ha")
    proms = [PrometheusServer(root, f"prom{r}", external_labels={**CLUSTER, "replica": str(r)},
                              rule_groups=RULES_ALWAYS_FIRING, rule_file=root / "rules.yml") for r in (0, 1)]
    try:
        for p in proms:
            p.start()
        for p in proms:
            wait_for(lambda p=p: p.api("/api/v1/alerts")["alerts"], what="the alert to fire")
        yield proms
    finally:
        for p in proms:
            p.stop()


@pytest.fixture(scope="module")
def query(tmp_path_factory, pair):
    root = tmp_path_factory.mktemp("q")
    sidecars = [sidecar(root, p.url).start() for p in pair]
    try:
        with querier(root, [s.grpc_address for s in sidecars]) as q:
            # Both endpoints known: without dedup, each rule twice.
            wait_for(lambda: len(q.api("/api/v1/rules", {"dedup": "false"})["groups"][0]["rules"]) == 4,
                     what="both sidecars' rules")
            yield q
    finally:
        for s in sidecars:
            s.stop()


def test_rules_deduplicated_have_prometheus_shape_and_values(pair, query):
    status, body = query.request("/api/v1/rules")
    assert status == 200 and "warnings" not in body, body
    ours = body["data"]
    theirs = pair[0].api("/api/v1/rules")
    # Thanos's order: alerting rules first; Prometheus's rule file has the alert second.
    theirs["groups"][0]["rules"].reverse()
    assert keys(ours) == keys(theirs)
    assert stable(ours) == stable(theirs, CLUSTER)
    (alert,) = [r for r in ours["groups"][0]["rules"] if r["type"] == "alerting"]
    assert alert["state"] == "firing" and alert["alerts"][0]["labels"]["cluster"] == "eu"


def test_rules_without_dedup_show_each_replica(query):
    rules = query.api("/api/v1/rules", {"dedup": "false"})["groups"][0]["rules"]
    by_name = sorted((r["name"], r["labels"]["replica"]) for r in rules)
    assert by_name == [("AlwaysFiring", "0"), ("AlwaysFiring", "1"), ("job:ones:sum", "0"), ("job:ones:sum", "1")]
    alerts = [a for r in rules for a in r.get("alerts", [])]
    assert sorted(a["labels"]["replica"] for a in alerts) == ["0", "1"]


def test_alerts_deduplicated_have_prometheus_shape(pair, query):
    ours = query.api("/api/v1/alerts")
    theirs = pair[0].api("/api/v1/alerts")
    assert keys(ours) == keys(theirs)
    assert stable(ours) == stable(theirs, CLUSTER)
    both = query.api("/api/v1/alerts", {"dedup": "false"})["alerts"]
    assert sorted(a["labels"]["replica"] for a in both) == ["0", "1"]
    # An alert's activeAt is its replica's own.
    active = {a["labels"]["replica"]: a["activeAt"] for a in both}
    assert active == {str(r): p.api("/api/v1/alerts")["alerts"][0]["activeAt"] for r, p in enumerate(pair)}


@pytest.mark.parametrize(("kind", "wanted"), [("alert", "alerting"), ("record", "recording"), ("ALERT", "alerting")])
def test_type_filters(pair, query, kind, wanted):
    ours = query.api("/api/v1/rules", {"type": kind})
    assert [r["type"] for r in ours["groups"][0]["rules"]] == [wanted]
    assert stable(ours) == stable(pair[0].api("/api/v1/rules", type=kind), CLUSTER)


@pytest.mark.parametrize("kind", ["foo", "all"])
def test_bad_type_is_prometheus_bad_data(pair, query, kind):
    status, body = query.request("/api/v1/rules", {"type": kind})
    assert status == 400
    assert body == pair[0].api_body("/api/v1/rules", type=kind)


def test_a_sidecar_whose_prometheus_is_down(tmp_path, pair):
    down = PrometheusServer(tmp_path, "down", external_labels={"cluster": "us", "replica": "0"},
                            rule_groups=RULES_ALWAYS_FIRING).start()
    try:
        with sidecar(tmp_path, pair[0].url) as up, sidecar(tmp_path, down.url) as lost, \
                querier(tmp_path, [up.grpc_address, lost.grpc_address]) as q:
            wait_for(lambda: len(q.api("/api/v1/alerts")["alerts"]) == 2, what="both sidecars' alerts")
            down.stop()
            for path in ("/api/v1/rules", "/api/v1/alerts"):
                status, body = q.request(path, {"partial_response": "true"})
                assert status == 200, body
                (warning,) = body["warnings"]
                assert warning.startswith(f"fetching rules from rules client Addr: {lost.grpc_address}")
                # The other sidecar's rules are there.
                if path == "/api/v1/rules":
                    assert len(body["data"]["groups"][0]["rules"]) == 2
                else:
                    assert [a["labels"]["cluster"] for a in body["data"]["alerts"]] == ["eu"]
                status, body = q.request(path, {"partial_response": "false"})
                assert status == 500 and body["errorType"] == "internal", body
                assert body["error"].startswith("error retrieving rules: proxy Rules: fetching rules from rules client")
    finally:
        down.stop()
