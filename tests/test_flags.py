"""Flag value parsing: durations and times as Thanos reads them."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from thanos_rs.flags import address, byte_size, duration, model_duration, time_or_duration
from thanos_rs.timestamp import YEAR_0_MS


@pytest.mark.parametrize(
    "text, seconds",
    [("0", 0), ("0s", 0), ("5m", 300), ("1h30m", 5400), ("2h45m", 9900), ("1d", 86400), ("1w", 604800),
     ("1y", 365 * 86400), ("100ms", 0.1), ("1.5h", 5400), ("3m0s", 180), ("300ms", 0.3), ("1m30s", 90),
     # Go's form only (gofmt.parse_duration_ns): a sign, fractions, units in any order.
     ("+5m", 300), (".5h", 1800), ("1s1h", 3601), ("1\u00b5s", 1e-6)],
)
def test_durations(text, seconds):
    assert duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "1h5", "--1m", "1.5.2h"])
def test_bad_durations(text):
    with pytest.raises(argparse.ArgumentTypeError, match="not a valid duration"):
        duration(text)


def test_min_time_forms():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert time_or_duration("0000-01-01T00:00:00Z").at(now) == YEAR_0_MS
    assert time_or_duration("2026-01-01T00:00:00Z").at(now) == int(now.timestamp() * 1000)
    assert time_or_duration("-1d").at(now) == int(now.timestamp() * 1000) - 86_400_000
    assert time_or_duration("2h45m").at(now) == int(now.timestamp() * 1000) + 9_900_000
    with pytest.raises(argparse.ArgumentTypeError):
        time_or_duration("yesterday")


@pytest.mark.parametrize("text, size", [("250MB", 250 << 20), ("1GiB", 1 << 30), ("512KB", 512 << 10),
                                        ("1GB512MB", (1 << 30) + (512 << 20)), ("0B", 0), ("10B", 10)])
def test_sizes_as_kingpin_reads_them(text, size):
    # Base-2 units whichever way they are written, as Thanos's Bytes flags.
    assert byte_size(text) == size


@pytest.mark.parametrize("text", ["250", "MB", "1.5GB", "250mb", "", "-1MB"])
def test_bad_sizes(text):
    with pytest.raises(argparse.ArgumentTypeError):
        byte_size(text)


def test_addresses():
    assert address("0.0.0.0:10901") == "0.0.0.0:10901"
    assert address(":9090") == ":9090"
    for bad in ("localhost", "host:port", "host:70000"):
        with pytest.raises(argparse.ArgumentTypeError):
            address(bad)


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s"), (120, "2m"), (5400, "1h30m"), (0.1, "100ms"), (86400 * 90, "90d"), (86400 * 14, "2w"),
     (365 * 86400, "1y"), (86400 * 8 + 1, "8d1s")],
)
def test_durations_print_as_prometheus_prints_them(seconds, text):
    assert model_duration(seconds) == text
    assert duration(text) == pytest.approx(seconds)


def test_flag_values_print_as_kingpin_prints_them():
    """``/api/v1/status/flags`` of the querier: Go's spellings, never Python's
    (``False``, ``120.0``, ``['a', 'b']``)."""
    from thanos_rs.cli import build_parser
    from thanos_rs.flags import flag_map

    args = build_parser().parse_args(["query", "--store=127.0.0.1:1", "--store=127.0.0.1:2",
                                      "--no-query.partial-response", "--query.timeout=90s"])
    flags = flag_map(args.parser, args)
    assert flags["query.partial-response"] == "false" and flags["web.disable-cors"] == "false"
    assert (flags["query.timeout"], flags["query.lookback-delta"], flags["store.response-timeout"]) == (
        "1m30s", "5m", "0s")
    assert flags["store"] == "127.0.0.1:1,127.0.0.1:2" and flags["query.max-concurrent"] == "20"
    assert "no-query.partial-response" not in flags
    spelled = set(flags.values())
    assert not spelled & {"False", "True", "None"} and not any(v.endswith(".0") or "[" in v for v in spelled)


def test_flags_page_never_shows_an_objstore_config():
    from thanos_rs.flags import FlagParser, flag_map
    from thanos_rs.objstore.flags import add_objstore_flags

    parser = FlagParser()
    add_objstore_flags(parser)
    args = parser.parse_args(["--objstore.config", "type: S3\nconfig:\n  secret_key: hunter2\n",
                              "--objstore.config-file", "/etc/thanos/bucket.yml"])
    flags = flag_map(parser, args)
    assert flags == {"objstore.config": "<secret>", "objstore.config-file": "/etc/thanos/bucket.yml"}
    assert flag_map(parser, parser.parse_args([]))["objstore.config"] == ""
