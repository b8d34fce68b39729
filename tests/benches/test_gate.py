"""The benchmark regression gate (benches/gate.py) on made-up results: ratios
pass within the tolerance and fail beyond it, times are divided by the
calibration benchmark of the same run, and --update writes the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import gate


def bench_json(path: Path, calibration: float, decode: float, ratio: float) -> Path:
    path.write_text(json.dumps({"benchmarks": [
        {"name": "test_calibration", "fullname": "benches/test_calibration.py::test_calibration",
         "stats": {"median": calibration}, "extra_info": {}},
        {"name": "test_decode", "fullname": "benches/test_chunkenc.py::test_decode",
         "stats": {"median": decode}, "extra_info": {}},
        {"name": "test_range_query[rate]", "fullname": "benches/test_promql_engine.py::test_range_query[rate]",
         "stats": {"median": 1.0}, "extra_info": {"ratio": ratio}},
    ]}))
    return path


def test_a_slower_machine_is_not_a_regression_but_a_slower_benchmark_is(tmp_path):
    baseline = tmp_path / "baseline.json"
    first = bench_json(tmp_path / "a.json", calibration=1.0, decode=2.0, ratio=0.5)
    assert gate.main(["--bench", str(first), "--baseline", str(baseline), "--update"]) == 0
    assert json.loads(baseline.read_text())["time benches/test_chunkenc.py::test_decode"] == 2.0
    # Everything twice as slow, calibration included: fine.
    slow_machine = bench_json(tmp_path / "b.json", calibration=2.0, decode=4.0, ratio=0.5)
    assert gate.main(["--bench", str(slow_machine), "--baseline", str(baseline)]) == 0
    # The decoder alone 50 % slower: caught.
    slow_decode = bench_json(tmp_path / "c.json", calibration=1.0, decode=3.0, ratio=0.5)
    assert gate.main(["--bench", str(slow_decode), "--baseline", str(baseline)]) == 1
    # A ratio to Prometheus 40 % worse: caught; 10 %: within the default 25 %.
    assert gate.main(["--bench", str(bench_json(tmp_path / "d.json", 1.0, 2.0, 0.7)), "--baseline", str(baseline)]) == 1
    assert gate.main(["--bench", str(bench_json(tmp_path / "e.json", 1.0, 2.0, 0.55)), "--baseline", str(baseline)]) == 0


def test_end_to_end_ratios(tmp_path):
    report = {"series_per_prometheus": 1989, "hours": 6, "queries": [{"query": "sum_by_rate", "ratio": 0.8}]}
    e2e = tmp_path / "e2e.json"
    e2e.write_text(json.dumps(report))
    baseline = tmp_path / "baseline.json"
    assert gate.main(["--e2e", str(e2e), "--baseline", str(baseline), "--update"]) == 0
    report["queries"][0]["ratio"] = 1.2
    e2e.write_text(json.dumps(report))
    assert gate.main(["--e2e", str(e2e), "--baseline", str(baseline)]) == 1


def test_of_several_runs_each_metric_counts_its_best(tmp_path):
    baseline = tmp_path / "baseline.json"
    assert gate.main(["--bench", str(bench_json(tmp_path / "a.json", 1.0, 2.0, 0.5)),
                      "--baseline", str(baseline), "--update"]) == 0
    noisy = bench_json(tmp_path / "b.json", 1.0, 2.0, 0.8)
    calm = bench_json(tmp_path / "c.json", 1.0, 2.0, 0.52)
    assert gate.main(["--bench", str(noisy), "--baseline", str(baseline)]) == 1
    assert gate.main(["--bench", str(noisy), "--bench", str(calm), "--baseline", str(baseline)]) == 0
    # Slower in every run: still a regression.
    slow = bench_json(tmp_path / "d.json", 1.0, 2.0, 0.7)
    assert gate.main(["--bench", str(noisy), "--bench", str(slow), "--baseline", str(baseline)]) == 1
