"""The four requests the querier fans out to its stores share one protocol
(thanos_rs.query.fanout.FanOut): calls as (group, store index, request),
the partial-response choice they were made with, warnings, and one error for
a request used after it ran."""

from __future__ import annotations

import pytest

from support import protos
from thanos_rs import _core
from thanos_rs.query.fanout import FanOut

# (label sets, min time ms, max time ms): two clusters, and a store whose data
# starts after the requests' time range.
STORES = [([[("cluster", "eu1")]], 0, 10_000), ([[("cluster", "us1")]], 0, 10_000), ([], 20_000, 30_000)]


def proxy_series(partial_response: bool) -> _core.ProxySeries:
    pb = protos.load()
    request = pb.rpc.SeriesRequest(
        min_time=0, max_time=10_000, matchers=[pb.types.LabelMatcher(type=0, name="__name__", value="up")],
        partial_response_disabled=not partial_response,
    )
    return _core.ProxySeries(request.SerializeToString())


REQUESTS = {
    "DistributedQuery": lambda partial: _core.DistributedQuery.instant(
        'up{cluster="eu1"} + on() down', 5_000, partial_response=partial
    ),
    "SeriesQuery": lambda partial: _core.SeriesQuery(["up"], 0, 10_000, partial),
    "LabelsQuery": lambda partial: _core.LabelsQuery(None, [], 0, 10_000, partial),
    "ProxySeries": proxy_series,
}


@pytest.mark.parametrize("name", REQUESTS)
@pytest.mark.parametrize("partial", [True, False])
def test_partial_response_is_what_the_request_was_made_with(name, partial):
    request: FanOut = REQUESTS[name](partial)
    assert request.partial_response is partial


@pytest.mark.parametrize(
    ("name", "calls"),
    [
        # One group per select: eu1's selector goes to eu1 only.
        ("DistributedQuery", [(0, 0), (1, 0), (1, 1)]),
        # One group per match[]; the labels requests and the proxy's merge ask
        # every store at once.
        ("SeriesQuery", [(0, 0), (0, 1)]),
        ("LabelsQuery", [(0, 0), (0, 1)]),
        ("ProxySeries", [(0, 0), (0, 1)]),
    ],
)
def test_calls_name_group_store_and_request(name, calls):
    request: FanOut = REQUESTS[name](True)
    got = request.calls(STORES)
    assert [(group, store) for group, store, _ in got] == calls
    assert all(isinstance(body, bytes) and body for _, _, body in got)


def test_series_requests_are_the_stores_own_protobuf_in_milliseconds():
    pb = protos.load()
    query = _core.DistributedQuery.instant('up{cluster="eu1"}', 5_000, lookback_delta=60_000)
    [(_, _, body)] = query.calls(STORES)
    request = pb.rpc.SeriesRequest.FromString(body)
    # The lookback window before the instant, closed as in Prometheus 2.42.
    assert (request.min_time, request.max_time) == (5_000 - 60_000, 5_000)


@pytest.mark.parametrize(
    ("name", "run"),
    [
        ("DistributedQuery", lambda q: q.execute([])),
        ("SeriesQuery", lambda q: q.execute([])),
        ("LabelsQuery", lambda q: q.execute()),
        ("ProxySeries", lambda q: q.finish()),
    ],
)
def test_a_request_that_ran_takes_nothing_more(name, run):
    request: FanOut = REQUESTS[name](True)
    request.add_warning("store went away")
    run(request)
    with pytest.raises(RuntimeError, match="already been executed"):
        request.calls(STORES)
    with pytest.raises(RuntimeError, match="already been executed"):
        request.add_warning("too late")
