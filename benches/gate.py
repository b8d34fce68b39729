"""The performance regression gate: compares a benchmark run with the saved
baseline (``benches/baseline.json``) and fails when something got slower
beyond the tolerance.

    python -m pytest benches --benchmark-only --benchmark-json=/tmp/bench1.json   # twice:
    python -m pytest benches --benchmark-only --benchmark-json=/tmp/bench2.json   # see below
    python benches/e2e.py --json /tmp/e2e.json
    python benches/gate.py --bench /tmp/bench1.json --bench /tmp/bench2.json --e2e /tmp/e2e.json  # compare
    python benches/gate.py ... --update                                                           # new baseline

What is compared are ratios, never absolute times, so that a slower or busy
machine does not flap: a benchmark that runs next to Prometheus (the engine
and end-to-end suites) is compared by its ratio ours/Prometheus from the same
run; any other is compared by its median time divided by the calibration
benchmark's (``test_calibration.py``) from the same run. A metric fails when
it is more than ``--tolerance`` (default 25 %) above its baseline; metrics
missing on either side are listed, not failed (suites can be run on their own).
Single rounds of the slower benchmarks vary by a third on a busy machine: give
two or three runs (``--bench`` repeated) and each metric's best counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BASELINE = Path(__file__).with_name("baseline.json")
CALIBRATION = "test_calibration"


def bench_metrics(path: Path) -> dict[str, float]:
    """Metrics of a pytest-benchmark JSON file."""
    runs = json.loads(path.read_text())["benchmarks"]
    calibration = next((b["stats"]["median"] for b in runs if b["name"] == CALIBRATION), None)
    out = {}
    for b in runs:
        if b["name"] == CALIBRATION:
            continue
        info = b.get("extra_info", {})
        if "ratio" in info:
            out[f"ratio {b['fullname']}"] = info["ratio"]
        elif "ratio_batched" in info:
            out[f"ratio {b['fullname']} batched"] = info["ratio_batched"]
            out[f"ratio {b['fullname']} v0.26"] = info["ratio_v026"]
        elif calibration:
            out[f"time {b['fullname']}"] = b["stats"]["median"] / calibration
    return out


def e2e_metrics(path: Path) -> dict[str, float]:
    """Metrics of a ``benches/e2e.py --json`` file."""
    report = json.loads(path.read_text())
    size = f"{report['series_per_prometheus']}x{report['hours']:g}h"
    if report.get("storage") == "head":
        size += " head"
    # Remote read keeps the names it had before the sidecar had a second read path.
    suffix = lambda q: "" if q.get("read_path", "remote-read") == "remote-read" else f" {q['read_path']}"
    return {f"e2e {size} {q['query']}{suffix(q)}": q["ratio"] for q in report["queries"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bench", type=Path, action="append", default=[],
                   help="pytest-benchmark JSON (--benchmark-json); repeat for several runs")
    p.add_argument("--e2e", type=Path, action="append", default=[], help="benches/e2e.py --json output; repeatable")
    p.add_argument("--baseline", type=Path, default=BASELINE)
    p.add_argument("--tolerance", type=float, default=0.25, help="allowed slowdown, as a fraction (default 0.25)")
    p.add_argument("--update", action="store_true", help="write these results as the new baseline")
    args = p.parse_args(argv)
    # Of several runs, each metric's best: a regression is slower in every run,
    # a noisy round in one.
    current: dict[str, float] = {}
    for metrics in [*map(bench_metrics, args.bench), *map(e2e_metrics, args.e2e)]:
        for key, value in metrics.items():
            current[key] = min(value, current.get(key, value))
    if not current:
        p.error("give --bench and/or --e2e")
    if args.update:
        old = json.loads(args.baseline.read_text()) if args.baseline.exists() else {}
        old.update({k: round(v, 6) for k, v in current.items()})
        args.baseline.write_text(json.dumps(dict(sorted(old.items())), indent=1) + "\n")
        print(f"baseline {args.baseline}: {len(current)} metrics written")
        return 0
    baseline = json.loads(args.baseline.read_text())
    failed = []
    width = max(len(k) for k in current)
    for key in sorted(current):
        if key not in baseline:
            print(f"  new   {key:{width}} {current[key]:10.4f}")
            continue
        change = current[key] / baseline[key] - 1
        bad = change > args.tolerance
        failed += [key] if bad else []
        print(f"  {'SLOWER' if bad else 'ok':5} {key:{width}} {baseline[key]:10.4f} -> {current[key]:10.4f} {change:+7.1%}")
    for key in sorted(set(baseline) - set(current)):
        print(f"  (not run) {key}")
    if failed:
        print(f"{len(failed)} of {len(current)} metrics slower than the baseline by more than {args.tolerance:.0%}")
        return 1
    print(f"all {len(current)} metrics within {args.tolerance:.0%} of the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
