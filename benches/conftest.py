"""Prints the rates the benchmarks record next to pytest-benchmark's table."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    rows = [b for b in getattr(session, "benchmarks", []) if "ns_per_sample" in b.extra_info]
    if rows:
        terminalreporter.section("rates")
        for b in rows:
            info = b.extra_info
            terminalreporter.write_line(
                f"{b.name:45} {info['ns_per_sample']:8.2f} ns/sample {info['M_samples_per_s']:8.1f} M samples/s"
            )
