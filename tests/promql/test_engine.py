"""thanos_rs.promql.Engine, the engine over in-memory series, through the API
that users' scripts call."""

from __future__ import annotations

import math

import pytest

from support import datasets, remote_write
from thanos_rs.errors import PromQLError, ThanosRsError
from thanos_rs.promql import Engine

DATA = """# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{job="api",code="200"} 0 1000
http_requests_total{job="api",code="200"} 30 1030
http_requests_total{job="api",code="200"} 60 1060
http_requests_total{job="api",code="500"} 1 1000
http_requests_total{job="api",code="500"} 2 1060
# TYPE temperature gauge
temperature{room="a"} NaN 1000
temperature{room="b"} +Inf 1000
# EOF
"""


@pytest.fixture
def engine() -> Engine:
    e = Engine()
    e.load_openmetrics(DATA)
    return e


def test_instant_vector(engine):
    data = engine.query('http_requests_total{code="200"}', 1060)
    assert data == {
        "resultType": "vector",
        "result": [{"metric": {"__name__": "http_requests_total", "code": "200", "job": "api"}, "value": [1060, "60"]}],
    }


def test_values_are_strings_spelled_like_prometheus(engine):
    data = engine.query("temperature", 1000)
    values = {r["metric"]["room"]: r["value"][1] for r in data["result"]}
    assert values == {"a": "NaN", "b": "+Inf"}


def test_range_query_and_aggregation(engine):
    data = engine.query_range("sum by (job) (rate(http_requests_total[1m]))", 1060, 1060, 15)
    [series] = data["result"]
    assert series["metric"] == {"job": "api"}
    [(t, v)] = series["values"]
    assert t == 1060 and math.isclose(float(v), 1.0 + 1 / 60)


def test_scalar_and_fractional_times(engine):
    assert engine.query("time()", 1000.5) == {"resultType": "scalar", "result": [1000.5, "1000.5"]}


def test_lookback_delta_is_configurable():
    e = Engine(lookback_delta=10.0)
    e.load_openmetrics('up 1 1000\n# EOF\n')
    assert e.query("up", 1010)["result"]
    assert e.query("up", 1011)["result"] == []


def test_bytes_are_accepted(engine):
    engine.load_openmetrics(b'extra 1 1000\n# EOF\n')
    assert engine.query("extra", 1000)["result"][0]["value"] == [1000, "1"]


@pytest.mark.parametrize(
    "call, error_type, message",
    [
        (lambda e: e.query("sum(", 0), "bad_data", "1:5: parse error: unclosed left parenthesis"),
        (lambda e: e.query("rate(up)", 0), "bad_data",
         '1:6: parse error: expected type range vector in call to function "rate", got instant vector'),
        (lambda e: e.query_range("up", 10, 0, 1), "bad_data", "end timestamp must not be before start time"),
        (lambda e: e.query_range("up", 0, 10, 0), "bad_data", "zero or negative query resolution step widths"),
        (lambda e: e.query_range("up", 0, 100_000, 1), "bad_data", "exceeded maximum resolution of 11,000 points"),
        (lambda e: e.query_range("up[5m]", 0, 10, 1), "bad_data", 'invalid expression type "range vector" for range query'),
        (lambda e: e.query('label_replace(up, "x", "$1", "a", "(")', 0), "execution",
         "invalid regular expression in label_replace(): ("),
        (lambda e: e.query("http_requests_total + on(job) http_requests_total", 1060), "execution",
         "found duplicate series for the match group"),
    ],
)
def test_errors_carry_prometheus_types_and_wording(engine, call, error_type, message):
    with pytest.raises(PromQLError) as info:
        call(engine)
    assert isinstance(info.value, ThanosRsError)
    assert info.value.error_type == error_type
    assert message in str(info.value)


def test_bad_openmetrics_is_an_error_and_keeps_the_engine(engine):
    with pytest.raises(PromQLError, match="line 1: expected timestamp"):
        engine.load_openmetrics("up 1\n")
    assert engine.query("http_requests_total", 1060)["result"]


def test_remote_write_bodies_load_with_staleness_markers():
    up = (("__name__", "up"), ("job", "api"))
    body = remote_write.write_request([(up, [(1_000_000, 1.0), (1_015_000, datasets.STALE_NAN)])])
    engine = Engine()
    engine.load_remote_write(body)
    # The marker is kept as one: the series ends there instead of showing NaN
    # for five minutes, and functions over ranges skip it.
    assert engine.query("up", 1000)["result"][0]["value"] == [1000, "1"]
    assert engine.query("up", 1015)["result"] == []
    assert engine.query("count_over_time(up[1m])", 1015)["result"][0]["value"] == [1015, "1"]
    # Later bodies append; an ordinary NaN is a value.
    engine.load_remote_write(remote_write.write_request([(up, [(1_030_000, math.nan)])]))
    assert engine.query("up", 1030)["result"][0]["value"] == [1030, "NaN"]
    with pytest.raises(PromQLError) as info:
        engine.load_remote_write(b"not snappy")
    assert info.value.error_type == "bad_data"
    with pytest.raises(PromQLError, match="out of order sample"):
        engine.load_remote_write(remote_write.write_request([(up, [(1_000_000, 2.0)])]))
