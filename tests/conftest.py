"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from support.prometheus import require_binaries


@pytest.fixture(scope="session")
def prometheus_binaries() -> None:
    """Real Prometheus 2.42 is part of the test setup (scripts/setup.sh installs
    it): its absence is an error, never a skip."""
    require_binaries()
