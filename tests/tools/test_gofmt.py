"""thanos_rs.tools.gofmt: Go's formatting of durations, times and counts."""

from __future__ import annotations

import time

import pytest

from thanos_rs.tools import gofmt


@pytest.mark.parametrize("ms, text", [
    (0, "0s"), (1, "1ms"), (999, "999ms"), (1000, "1s"), (1500, "1.5s"), (61_000, "1m1s"), (60_000, "1m0s"),
    (7_200_000, "2h0m0s"), (136_800_000, "38h0m0s"), (-28_800_000, "-8h0m0s"), (300_000, "5m0s"),
    (3_600_001, "1h0m0.001s"), (864_000_000, "240h0m0s"),
])
def test_duration(ms, text):
    assert gofmt.duration_ms(ms) == text
    assert gofmt.parse_duration_ns(text) == ms * 1_000_000


def test_parse_duration_refuses_other_text():
    for text in ("", "-", "false", "1,440", "cluster=eu1", "1d"):
        assert gofmt.parse_duration_ns(text) is None


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
