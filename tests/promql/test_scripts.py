"""Prometheus 2.42's own PromQL test scripts run through our engine, each eval
with the `@`-pinned and range-query variants Prometheus's runner derives from
it. A case we do not support fails here; nothing is skipped."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from thanos_rs import _core

SCRIPTS = sorted((Path(__file__).resolve().parents[1] / "testdata" / "promql").glob("*.test"))


def test_the_whole_suite_is_here():
    assert [p.name for p in SCRIPTS] == [
        "aggregators.test", "at_modifier.test", "collision.test", "functions.test", "histograms.test",
        "literals.test", "operators.test", "selectors.test", "staleness.test", "subquery.test",
        "trig_functions.test",
    ]


@functools.cache
def run(path: Path) -> tuple:
    """(error, evals) of one script; both tests below read the same run."""
    return _core.run_promql_test_script(path.read_text())


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script(path, script_counts):
    error, evals = run(path)
    failures = [f"line {line}: {failure}" for line, _, failure in evals if failure]
    script_counts[path.name] = (len(evals) - len(failures), len(evals))
    assert error is None, error
    assert evals, "no eval ran"
    assert not failures, "\n".join(failures)


def test_all_566_evals_were_run():
    total = sum(len(run(p)[1]) for p in SCRIPTS)
    assert total == 566


def test_a_failing_expectation_is_reported():
    script = 'load 1m\n  m{a="b"} 1 2 3\n\neval instant at 2m m\n  m{a="b"} 4\n'
    error, evals = _core.run_promql_test_script(script)
    assert error is None
    [(line, expr, failure)] = evals
    assert (line, expr) == (4, "m")
    assert "expected 4" in failure
