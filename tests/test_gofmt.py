"""thanos_rs.gofmt: Go's formatting of durations, times and counts, and its
duration parser."""

from __future__ import annotations

import time

import pytest

from thanos_rs import gofmt


@pytest.mark.parametrize("ms, text", [
    (0, "0s"), (1, "1ms"), (999, "999ms"), (1000, "1s"), (1500, "1.5s"), (61_000, "1m1s"), (60_000, "1m0s"),
    (7_200_000, "2h0m0s"), (136_800_000, "38h0m0s"), (-28_800_000, "-8h0m0s"), (300_000, "5m0s"),
    (3_600_001, "1h0m0.001s"), (864_000_000, "240h0m0s"),
])
def test_duration(ms, text):
    assert gofmt.duration_ms(ms) == text
    assert gofmt.parse_duration_ns(text) == ms * 1_000_000


@pytest.mark.parametrize("text, ns", [
    # time.ParseDuration's answers (Go 1.19) on the forms its grammar allows:
    # a sign, a bare 0, fractions without a whole part or without digits
    # after the point, both spellings of micro, units mixed in any order.
    ("+5m", 300 * 10**9), ("-0", 0), ("+0", 0), (".5h", 1800 * 10**9), ("1.h", 3600 * 10**9),
    ("1.5h", 5400 * 10**9), ("300ms", 300 * 10**6), ("1us", 1000), ("1\u00b5s", 1000), ("1\u03bcs", 1000),
    ("1s1h", 3601 * 10**9), ("1.0000000001s", 10**9), ("0.3s", 300_000_000), ("1.1ns", 1),
    ("2562047h47m16.854775807s", 2**63 - 1), ("-2562047h47m16.854775808s", -(2**63)),
])
def test_parse_duration_as_go(text, ns):
    assert gofmt.parse_duration_ns(text) == ns


def test_parse_duration_refuses_other_text():
    for text in ("", "-", "+", ".", ".s", "5", "false", "1,440", "cluster=eu1", "1d", "--1m", "1.5.2h", "1h5",
                 "2562047h47m16.854775808s", "9223372036854775808ns", "1 s"):
        assert gofmt.parse_duration_ns(text) is None, text


def test_rfc3339_is_local_time_with_z_for_utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    assert gofmt.rfc3339(1_700_000_000) == "2023-11-14T22:13:20Z"
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    assert gofmt.rfc3339(1_700_000_000) == "2023-11-15T03:43:20+05:30"
    monkeypatch.delenv("TZ")
    time.tzset()


def test_thousands():
    assert [gofmt.thousands(n) for n in (0, 999, 1000, 1234567)] == ["0", "999", "1,000", "1,234,567"]
