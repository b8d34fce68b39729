"""The querier's ``/api/v1/rules`` and ``/api/v1/alerts`` over an HA pair of
real Prometheus 2.42 servers (same cluster, replicas 0 and 1) with a recording
rule and an always-firing alert, each behind a sidecar: the answers have the
shape of Prometheus's own, and deduplication shows each rule and alert once."""

from __future__ import annotations

import grpc
import pytest

from support import protos
from support.components import querier, sidecar
from support.prometheus import RULES_ALWAYS_FIRING, PrometheusServer
from support.rules import UNSTABLE, group_json, keys, request, stable, wait_for

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
    # The copy of one replica or the other: their alerts' activeAt differ.
    copies = [p.api("/api/v1/rules") for p in pair]
    for theirs in copies:
        # Thanos's order: alerting rules first; Prometheus's rule file has the alert second.
        theirs["groups"][0]["rules"].reverse()
        assert keys(ours) == keys(theirs)
    assert stable(ours) in [stable(theirs, CLUSTER) for theirs in copies]
    (alert,) = [r for r in ours["groups"][0]["rules"] if r["type"] == "alerting"]
    assert alert["state"] == "firing" and alert["labels"]["cluster"] == "eu"
    assert "cluster" not in alert["alerts"][0]["labels"], "alerts keep Prometheus's labels, as through Thanos"


def test_rules_without_dedup_show_each_replica(query):
    rules = query.api("/api/v1/rules", {"dedup": "false"})["groups"][0]["rules"]
    by_name = sorted((r["name"], r["labels"]["replica"]) for r in rules)
    assert by_name == [("AlwaysFiring", "0"), ("AlwaysFiring", "1"), ("job:ones:sum", "0"), ("job:ones:sum", "1")]
    alerts = [a for r in rules for a in r.get("alerts", [])]
    assert len(alerts) == 2


def test_alerts_deduplicated_have_prometheus_shape(pair, query):
    ours = query.api("/api/v1/alerts")
    copies = [p.api("/api/v1/alerts") for p in pair]
    assert keys(ours) == keys(copies[0])
    assert stable(ours) in [stable(theirs, CLUSTER) for theirs in copies]
    both = query.api("/api/v1/alerts", {"dedup": "false"})["alerts"]
    # Each replica's alert, with its own activeAt.
    assert sorted(a["activeAt"] for a in both) == sorted(p.api("/api/v1/alerts")["alerts"][0]["activeAt"] for p in pair)


@pytest.mark.parametrize(("kind", "wanted"), [("alert", "alerting"), ("record", "recording"), ("ALERT", "alerting")])
def test_type_filters(pair, query, kind, wanted):
    ours = query.api("/api/v1/rules", {"type": kind})
    assert [r["type"] for r in ours["groups"][0]["rules"]] == [wanted]
    assert stable(ours) in [stable(p.api("/api/v1/rules", type=kind), CLUSTER) for p in pair]


def test_later_prometheus_filters(pair, query):
    """``rule_name[]``, ``rule_group[]`` and ``file[]`` as Prometheus reads them
    since v2.46 (2.42 ignores them): a group they leave empty is dropped."""
    names = query.api("/api/v1/rules", [("rule_name[]", "job:ones:sum"), ("rule_name[]", "other")])
    assert [[r["name"] for r in g["rules"]] for g in names["groups"]] == [["job:ones:sum"]]
    file = str(pair[0].rule_file)
    assert len(query.api("/api/v1/rules", {"file[]": file, "rule_group[]": "example"})["groups"]) == 1
    assert query.api("/api/v1/rules", {"rule_group[]": "other"})["groups"] == []
    assert query.api("/api/v1/rules", {"file[]": file + ".other"})["groups"] == []


@pytest.mark.parametrize("kind", ["foo", "all"])
def test_bad_type_is_prometheus_bad_data(pair, query, kind):
    status, body = query.request("/api/v1/rules", {"type": kind})
    assert status == 400
    assert body == pair[0].api_body("/api/v1/rules", type=kind)


def grpc_rules(address: str, kind: str = "ALL", strategy: str = "WARN") -> list:
    with grpc.insecure_channel(address) as ch:
        req = request(kind)
        req.partial_response_strategy = protos.load().types.PartialResponseStrategy.Value(strategy)
        return list(protos.load().rules_grpc.RulesStub(ch).Rules(req, timeout=10))


def test_querier_serves_the_rules_api_as_a_proxy(query):
    """As Thanos's proxy: every endpoint's groups as they came, replicas
    included, for the querier above to deduplicate."""
    answer = grpc_rules(query.grpc_address)
    groups = [group_json(m.group) for m in answer]
    assert len(groups) == 2 and all(m.WhichOneof("result") == "group" for m in answer)
    assert sorted(g["rules"][0]["labels"]["replica"] for g in groups) == ["0", "1"]
    alerts_only = [group_json(m.group) for m in grpc_rules(query.grpc_address, "ALERT")]
    assert [[r["type"] for r in g["rules"]] for g in alerts_only] == [["alerting"], ["alerting"]]


def test_a_querier_above_the_querier_sees_the_same_rules(tmp_path, query):
    with querier(tmp_path, [query.grpc_address]) as top:
        wait_for(lambda: top.api("/api/v1/alerts")["alerts"], what="the lower querier's alerts")
        for path in ("/api/v1/rules", "/api/v1/alerts"):
            for dedup in ("true", "false"):
                ours, theirs = top.api(path, {"dedup": dedup}), query.api(path, {"dedup": dedup})
                # Deduplicated, either replica's alert may win at each call.
                skip = (*UNSTABLE, "activeAt") if dedup == "true" else UNSTABLE
                assert stable(ours, skip=skip) == stable(theirs, skip=skip), (path, dedup)


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
                    assert len(body["data"]["alerts"]) == 1
                status, body = q.request(path, {"partial_response": "false"})
                assert status == 500 and body["errorType"] == "internal", body
                assert body["error"].startswith("error retrieving rules: proxy Rules: fetching rules from rules client")
            # The querier's own Rules API: a warning message, or a failure.
            warned = [m.warning for m in grpc_rules(q.grpc_address) if m.WhichOneof("result") == "warning"]
            assert len(warned) == 1 and warned[0].startswith("fetching rules from rules client")
            with pytest.raises(grpc.RpcError) as e:
                grpc_rules(q.grpc_address, strategy="ABORT")
            assert e.value.code() == grpc.StatusCode.UNKNOWN
    finally:
        down.stop()
