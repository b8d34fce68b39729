"""thanos_rs.timestamp: the one conversion of seconds into the milliseconds
the core takes, and the one set of time bounds."""

from __future__ import annotations

import math

import pytest

from thanos_rs import _core
from thanos_rs.api.params import parse_go_time, parse_time
from thanos_rs.errors import BadDataError
from thanos_rs.timestamp import MAX_TIME_MS, MIN_TIME_MS, duration_ms, from_seconds


def test_api_bounds_are_prometheus_formatted_times():
    # What Prometheus prints for minTime and maxTime, and clients send back.
    assert parse_go_time("-292273086-05-16T16:47:06Z").ms() == MIN_TIME_MS == _core.MIN_TIME
    assert parse_go_time("292277025-08-18T07:12:54.999999999Z").ms() == MAX_TIME_MS == _core.MAX_TIME


@pytest.mark.parametrize(
    ("seconds", "ms"),
    [(1700000000, 1700000000000), (1.5, 1500), (0.0004, 0), (0.0006, 1), (-1.5, -1500), (parse_time("1.2345"), 1234)],
)
def test_times_round_to_milliseconds(seconds, ms):
    assert from_seconds(seconds) == ms


@pytest.mark.parametrize(
    ("seconds", "ms"),
    # Truncated through nanoseconds, as Go turns a time.Duration into ms: a
    # step of 1.9999 ms is 1 ms.
    [(15, 15_000), (0.0019999, 1), (0.0005, 0), (300.0, 300_000), (-0.0019999, -1)],
)
def test_durations_truncate_to_milliseconds(seconds, ms):
    assert duration_ms(seconds) == ms


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e300])
def test_what_no_int64_holds_is_bad_data(bad):
    with pytest.raises(BadDataError):
        from_seconds(bad)
    with pytest.raises(BadDataError):
        duration_ms(bad)


@pytest.mark.parametrize(
    ("args", "fault"),
    [
        ((0, 60_000, 15_000), None),
        ((0, 110_000_000, 10_000), None),  # exactly 11,000 points apart
        ((60_000, 0, 15_000), ("end", "end timestamp must not be before start time")),
        ((0, 60_000, 0), ("step", "zero or negative query resolution step widths are not accepted. Try a positive integer")),
        ((60_000, 0, 0), ("end", "end timestamp must not be before start time")),  # in Prometheus's order
        ((0, 110_010_000, 10_000), (None, "exceeded maximum resolution of 11,000 points per timeseries. "
                                          "Try decreasing the query resolution (?step=XX)")),
        # From the API's first to its last time is more than an int64 of ms.
        ((MIN_TIME_MS, MAX_TIME_MS, 2**62), None),
        ((MIN_TIME_MS, MAX_TIME_MS, 2**40), (None, "exceeded maximum resolution of 11,000 points per timeseries. "
                                                   "Try decreasing the query resolution (?step=XX)")),
    ],
)
def test_range_query_checks(args, fault):
    assert _core.range_query_error(*args) == fault
