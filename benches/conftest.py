"""Prints the figures the benchmarks record next to pytest-benchmark's table:
decode and encode rates, and ours-versus-Prometheus ratios."""

from __future__ import annotations

import math


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    benchmarks = getattr(session, "benchmarks", [])
    rates = [b for b in benchmarks if "ns_per_sample" in b.extra_info]
    if rates:
        terminalreporter.section("rates")
        for b in rates:
            info = b.extra_info
            terminalreporter.write_line(
                f"{b.name:45} {info['ns_per_sample']:8.2f} ns/sample {info['M_samples_per_s']:8.1f} M samples/s"
            )
    ratios = [b for b in benchmarks if "ratio" in b.extra_info]
    if ratios:
        terminalreporter.section("ours / Prometheus (median latency)")
        terminalreporter.write_line(f"{'size':>12} {'query':20} {'ours ms':>10} {'Prom ms':>10} {'ratio':>7}")
        for b in ratios:
            i = b.extra_info
            terminalreporter.write_line(
                f"{i['size']:>12} {i['query']:20} {i['ours_ms']:10.2f} {i['prometheus_ms']:10.2f} {i['ratio']:7.3f}"
            )
        geo = math.exp(sum(math.log(b.extra_info["ratio"]) for b in ratios) / len(ratios))
        terminalreporter.write_line(f"geometric mean of ratios: {geo:.3f}")
