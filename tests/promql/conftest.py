"""Prints how many evals of each PromQL test script pass, and how many
generated queries agree with Prometheus."""

from __future__ import annotations

import pytest

COUNTS = pytest.StashKey[dict]()
GENERATED = pytest.StashKey[dict]()


@pytest.fixture
def script_counts(request) -> dict[str, tuple[int, int]]:
    """Where test_scripts.py records (passed, total) per script."""
    return request.config.stash.setdefault(COUNTS, {})


@pytest.fixture
def generated_counts(request) -> dict[str, int]:
    """Where test_generated.py records `agree`, `unstable`, `total` and `seed`."""
    return request.config.stash.setdefault(GENERATED, {})


def pytest_terminal_summary(terminalreporter, config):
    generated = config.stash.get(GENERATED, {})
    if generated:
        terminalreporter.section("Generated PromQL against Prometheus 2.42")
        terminalreporter.write_line(
            f"generated PromQL: {generated['agree']} of {generated['total']} queries agree (instant and range)"
            f", seed {generated['seed']}"
        )
        if generated.get("unstable"):
            terminalreporter.write_line(
                f"{generated['unstable']} more differ only where Prometheus 2.42 answers differently from run to run"
            )
    counts = config.stash.get(COUNTS, {})
    if counts:
        terminalreporter.section("Prometheus 2.42 PromQL test scripts")
        for name, (passed, total) in sorted(counts.items()):
            terminalreporter.write_line(f"{name:24} {passed:3} of {total:3} evals pass")
        passed = sum(p for p, _ in counts.values())
        total = sum(t for _, t in counts.values())
        terminalreporter.write_line(f"{'total':24} {passed:3} of {total:3} evals pass")
