"""Reading Rules API answers in tests: the grpcio stubs' messages laid out as
Prometheus's ``/api/v1/rules`` JSON, and the fields of that JSON that stay the
same from one evaluation to the next."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

from support import protos

STATES = {0: "inactive", 1: "pending", 2: "firing"}


def rfc3339(ts) -> str:
    """A ``google.protobuf.Timestamp`` as Go writes the time (RFC 3339, trailing zeros dropped)."""
    base = datetime.fromtimestamp(ts.seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f".{ts.nanos:09d}".rstrip("0") if ts.nanos else ""
    return f"{base}{fraction}Z"


def labels(zset) -> dict[str, str]:
    return {lbl.name: lbl.value for lbl in zset.labels}


def group_json(g) -> dict:
    """A ``RuleGroup`` message as Prometheus 2.42 writes a group."""
    rules = []
    for r in g.rules:
        if r.HasField("recording"):
            rec = r.recording
            rule = {"name": rec.name, "query": rec.query, "labels": labels(rec.labels), "health": rec.health,
                    "evaluationTime": rec.evaluation_duration_seconds,
                    "lastEvaluation": rfc3339(rec.last_evaluation), "type": "recording"}
        else:
            a = r.alert
            rule = {
                "state": STATES[a.state], "name": a.name, "query": a.query, "duration": a.duration_seconds,
                "keepFiringFor": a.keep_firing_for_seconds, "labels": labels(a.labels),
                "annotations": labels(a.annotations),
                "alerts": [
                    {"labels": labels(i.labels), "annotations": labels(i.annotations), "state": STATES[i.state],
                     "activeAt": rfc3339(i.active_at), "value": i.value}
                    for i in a.alerts
                ],
                "health": a.health, "evaluationTime": a.evaluation_duration_seconds,
                "lastEvaluation": rfc3339(a.last_evaluation), "type": "alerting",
            }
        rules.append(rule)
    return {"name": g.name, "file": g.file, "rules": rules, "interval": g.interval, "limit": g.limit,
            "evaluationTime": g.evaluation_duration_seconds, "lastEvaluation": rfc3339(g.last_evaluation)}


UNSTABLE = ("evaluationTime", "lastEvaluation")


def stable(data: dict | list, extra: dict[str, str] | None = None, skip: tuple[str, ...] = UNSTABLE) -> dict | list:
    """``data`` without the fields that change at each evaluation (``skip``);
    with ``extra``, those labels added to every rule's labels (a sidecar adds
    its external labels there, not to alerts, as Thanos's does)."""
    if isinstance(data, list):
        return [stable(d, extra, skip) for d in data]
    out = {}
    for k, v in data.items():
        if k in skip:
            continue
        if k in ("rules", "alerts", "groups"):
            v = stable(v, None if k == "alerts" else extra, skip)
        elif k == "labels" and extra is not None:
            v = dict(sorted({**v, **extra}.items()))
        out[k] = v
    return out


def keys(data: dict | list) -> list:
    """The key order of every object in ``data``, nested: what the shape of an
    answer is, values aside."""
    if isinstance(data, list):
        return [keys(d) for d in data]
    return [(k, keys(v) if isinstance(v, (dict, list)) and k not in ("labels", "annotations") else None)
            for k, v in data.items()]


def wait_for(check: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> object:
    """Polls ``check`` until it returns something true; returns it."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (AssertionError, KeyError, IndexError, OSError) as e:
            last = e
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def request(kind: str = "ALL"):
    pb = protos.load().rules
    return pb.RulesRequest(type=pb.RulesRequest.Type.Value(kind))
