"""Parameter parsing as Prometheus's API does it: times, durations, booleans."""

from __future__ import annotations

import pytest

from thanos_rs.api.params import GoTime, go_quote, parse_duration, parse_go_time, parse_time
from thanos_rs.errors import BadDataError
from thanos_rs.timestamp import MAX_TIME_MS, MIN_TIME_MS


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1700000000", 1700000000.0),
        ("1700000000.123456", 1700000000.123),
        ("1.7e9", 1.7e9),
        ("2023-11-14T22:13:20Z", 1700000000.0),
        ("2023-11-14T23:13:20.5+01:00", 1700000000.5),
        ("-292273086-05-16T16:47:06Z", MIN_TIME_MS / 1000),
        ("292277025-08-18T07:12:54.999999999Z", MAX_TIME_MS / 1000),
    ],
)
def test_times(text, seconds):
    assert parse_time(text) == pytest.approx(seconds, abs=1e-6)


@pytest.mark.parametrize("text", ["", "now", "1_000", "2023-11-14 22:13:20", "2023-11-14T22:13:20", "NaN", "Inf"])
def test_bad_times(text):
    with pytest.raises(BadDataError, match="to a valid timestamp"):
        parse_time(text)


@pytest.mark.parametrize(
    "text",
    ["-9999999999999", "99999999999999", "1e300", "-1e300", "1e18", "9223372036854776", "-9223372036854776",
     "9223372036854775.807", "inf", "-Inf", "NaN", "-0.0005", "99999999999999999999"],
)
def test_metadata_times_are_int64_milliseconds_whatever_the_float(text):
    """Once a 500 (an int past int64 handed to Rust); what each means is
    compared with Prometheus in tests/query/test_api.py."""
    assert -(2**63) <= parse_go_time(text).ms() < 2**63


def test_metadata_time_bounds_are_exact():
    assert parse_go_time("-292273086-05-16T16:47:06Z").ms() == MIN_TIME_MS
    assert parse_go_time("292277025-08-18T07:12:54.999999999Z").ms() == MAX_TIME_MS
    assert GoTime.from_ms(MIN_TIME_MS).ms() == MIN_TIME_MS and GoTime.from_ms(MAX_TIME_MS).ms() == MAX_TIME_MS
    assert parse_go_time("1700000000.123456").ms() == 1700000000123
    assert not GoTime.from_ms(MIN_TIME_MS).before(GoTime.from_ms(MIN_TIME_MS))


@pytest.mark.parametrize(("text", "seconds"), [("15", 15.0), ("0.5", 0.5), ("5m", 300.0), ("1h30m", 5400.0), ("1d", 86400.0)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 m", "1.5h", "fast", "NaN"])
def test_bad_durations(text):
    with pytest.raises(BadDataError, match="to a valid duration"):
        parse_duration(text)


def test_huge_durations_overflow_as_in_go():
    with pytest.raises(BadDataError, match="overflows int64"):
        parse_duration("1e300")


def test_go_quote():
    assert go_quote('a"b\\c\n') == '"a\\"b\\\\c\\n"'
