"""The sidecar's ``thanos.Rules/Rules`` over a real Prometheus 2.42 with a
recording rule and an always-firing alert: Prometheus's own ``/api/v1/rules``
with the external labels added, read with the grpcio stubs."""

from __future__ import annotations

import grpc
import pytest

from support import protos
from support.components import sidecar
from support.prometheus import RULES_ALWAYS_FIRING, PrometheusServer
from support.rules import group_json, request, stable, wait_for

pytestmark = pytest.mark.prometheus

EXTERNAL = {"cluster": "eu", "replica": "0"}


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    with PrometheusServer(tmp_path_factory.mktemp("prom"), external_labels=EXTERNAL,
                          rule_groups=RULES_ALWAYS_FIRING) as p:
        wait_for(lambda: p.api("/api/v1/alerts")["alerts"], what="the alert to fire")
        yield p


@pytest.fixture(scope="module")
def channel(tmp_path_factory, prom):
    with sidecar(tmp_path_factory.mktemp("sidecar"), prom.url) as s:
        with grpc.insecure_channel(s.grpc_address) as ch:
            yield ch


def call(channel, kind="ALL"):
    stub = protos.load().rules_grpc.RulesStub(channel)
    return list(stub.Rules(request(kind), timeout=10))


def test_rules_are_prometheus_rules_with_external_labels(prom, channel):
    answer = call(channel)
    theirs = prom.api("/api/v1/rules")["groups"]
    assert all(m.WhichOneof("result") == "group" for m in answer)
    ours = [group_json(m.group) for m in answer]
    assert stable(ours) == stable(theirs, EXTERNAL)
    # Every rule and alert was evaluated, and the times read as Go writes them.
    (group,) = ours
    assert group["lastEvaluation"] > "2000"
    assert all(r["lastEvaluation"] > "2000" and r["health"] == "ok" for r in group["rules"])
    alert = group["rules"][1]["alerts"][0]
    # Prometheus's own: Thanos's sidecar adds its external labels to rules only.
    assert alert["labels"] == {"alertname": "AlwaysFiring", "severity": "none"}
    assert alert["annotations"] == {"summary": "value 1"}
    assert alert["activeAt"] == theirs[0]["rules"][1]["alerts"][0]["activeAt"]


@pytest.mark.parametrize(("kind", "param"), [("ALERT", "alert"), ("RECORD", "record")])
def test_type_is_passed_to_prometheus(prom, channel, kind, param):
    ours = [group_json(m.group) for m in call(channel, kind)]
    theirs = prom.api("/api/v1/rules", type=param)["groups"]
    assert stable(ours) == stable(theirs, EXTERNAL)
    wanted = {"ALERT": "alerting", "RECORD": "recording"}[kind]
    assert [r["type"] for r in ours[0]["rules"]] == [wanted]


def test_info_announces_rules(channel):
    pb = protos.load()
    info = pb.info_grpc.InfoStub(channel).Info(pb.info.InfoRequest(), timeout=10)
    assert info.HasField("rules")


def test_prometheus_down_is_unavailable(tmp_path):
    with PrometheusServer(tmp_path, external_labels=EXTERNAL, rule_groups=RULES_ALWAYS_FIRING) as p:
        with sidecar(tmp_path, p.url) as s, grpc.insecure_channel(s.grpc_address) as ch:
            assert call(ch)
            p.stop()
            with pytest.raises(grpc.RpcError) as e:
                call(ch)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "query Prometheus" in e.value.details()
