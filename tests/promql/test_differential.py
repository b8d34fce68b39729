"""Our engine against a real Prometheus 2.42 holding the same data: the same
answers (series, timestamps, values within 1e-6 relative, NaN and Inf
exactly) or the same error type, for hand-picked queries and for queries
from support.promqlgen over the same backfilled data (test_generated.py runs
many more, bit for bit, on remote-written data with staleness markers)."""

from __future__ import annotations

import pytest

from support import datasets
from support.compare import settle
from support.prometheus import PrometheusServer
from support.promqlgen import Generator, Schema
from support.queries import HAND_PICKED, TIES
from thanos_rs.errors import PromQLError
from thanos_rs.promql import Engine

pytestmark = pytest.mark.prometheus

DATA = datasets.monitoring(hours=2)
START, END = DATA.start, DATA.end
# Instant evaluation times: early, middle, at the end, and past the end where
# everything goes stale.
TIMES = [START + 600.5, START + 3600, END, END + 200, END + 400]
RANGES = [(START, END, 60), (START + 1234, END - 100, 47), (END - 900, END + 600, 15)]


@pytest.fixture(scope="module")
def servers(tmp_path_factory, prometheus_binaries):
    text = DATA.openmetrics()
    engine = Engine()
    engine.load_openmetrics(text)
    with PrometheusServer(tmp_path_factory.mktemp("prom"), openmetrics=text) as prom:
        yield engine, prom


def ours(engine: Engine, kind: str, query: str, *args) -> dict:
    try:
        data = engine.query(query, *args) if kind == "instant" else engine.query_range(query, *args)
        return {"status": "success", "data": data}
    except PromQLError as e:
        return {"status": "error", "errorType": e.error_type, "error": str(e)}


def theirs(prom: PrometheusServer, kind: str, query: str, *args) -> dict:
    if kind == "instant":
        return prom.api_body("/api/v1/query", query=query, time=args[0])
    start, end, step = args
    return prom.api_body("/api/v1/query_range", query=query, start=start, end=end, step=step)


def check(engine, prom, kind, query, *args) -> list[str]:
    """The differences, unless ours is one of the answers of a Prometheus that
    answers differently from run to run (see compare.settle)."""
    outcome, diff, _ = settle(ours(engine, kind, query, *args), lambda: theirs(prom, kind, query, *args),
                              f"{kind} {query!r} {args}")
    return diff if outcome == "differ" else []


def test_hand_picked_queries_agree(servers):
    engine, prom = servers
    problems = []
    for q in HAND_PICKED:
        for t in TIMES:
            problems += check(engine, prom, "instant", q, t)
        for r in RANGES:
            problems += check(engine, prom, "range", q, *r)
    assert not problems, "\n".join(problems[:20])


def test_sorted_vectors_keep_prometheus_order(servers):
    """Instant answers of sort, sort_desc, topk and bottomk list their series
    in Prometheus's order, ties included (Go 1.19's sort.Sort is not stable)."""
    engine, prom = servers
    problems = []
    for q in TIES:
        for t in TIMES:
            problems += check(engine, prom, "instant", q, t)
            mine = ours(engine, "instant", q, t)["data"]["result"]
            other = theirs(prom, "instant", q, t)["data"]["result"]
            if [s["metric"] for s in mine] != [s["metric"] for s in other]:
                problems.append(f"{q} at {t}")
    assert not problems, problems


def test_generated_queries_agree(servers):
    engine, prom = servers
    gen = Generator(Schema.of(DATA), seed=2042)
    queries = [gen.vector(3).text for _ in range(300)]
    problems = []
    for q in queries:
        problems += check(engine, prom, "instant", q, gen.pick(TIMES))
        problems += check(engine, prom, "range", q, *gen.pick(RANGES))
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:20])
