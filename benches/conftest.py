"""Prints the figures the benchmarks record next to pytest-benchmark's table:
decode and encode rates, and ours-versus-Prometheus ratios."""

from __future__ import annotations

import math


def pytest_addoption(parser):
    parser.addoption("--sidecar-series", type=int, default=1000,
                     help="series streamed by benches/test_sidecar.py (the issue's size: 10000)")


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
    ratios = [b for b in benchmarks if "prometheus_ms" in b.extra_info]
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

    downsampled = [b for b in benchmarks if "downsampled_1h_s" in b.extra_info]
    if downsampled:
        terminalreporter.section("30-day range query: 1 h resolution / raw")
        for b in downsampled:
            i = b.extra_info
            terminalreporter.write_line(f"{b.name:60} raw {i['raw_s'] * 1000:8.1f} ms  1h {i['downsampled_1h_s'] * 1000:7.1f} ms"
                                        f"  ratio {i['ratio']:.4f} ({i['speedup']}x faster)")

    sidecar = [b for b in benchmarks if "ratio_v026" in b.extra_info]
    for b in sidecar:
        i = b.extra_info
        terminalreporter.section("sidecar versus remote read")
        terminalreporter.write_line(
            f"{i['series']} series x 6 h at 15 s ({i['samples']:,} samples, "
            f"{i['remote_read_bytes'] / 2**20:.1f} MiB of frames)"
        )
        terminalreporter.write_line(f"  remote read straight from Prometheus     {i['raw_remote_read_s']:8.3f} s")
        terminalreporter.write_line(
            f"  sidecar, one series per message (v0.26)  {i['sidecar_v026_s']:8.3f} s  x{i['ratio_v026']:.3f}"
        )
        terminalreporter.write_line(
            f"  sidecar, batches of 64                   {i['sidecar_batched_s']:8.3f} s  x{i['ratio_batched']:.3f}"
        )
        terminalreporter.write_line(
            f"  sidecar RSS: idle {i['sidecar_rss_idle_mib']} MiB; peak {i['sidecar_peak_rss_tenth_mib']} MiB "
            f"streaming a tenth of the series, {i['sidecar_peak_rss_all_mib']} MiB streaming all"
        )
