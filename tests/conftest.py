"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.objstore import MotoServer
from support.prometheus import backfill, require_binaries
from support.tsdb import DATA


@pytest.fixture(scope="session")
def prometheus_binaries() -> None:
    """Real Prometheus 2.42 is part of the test setup (scripts/setup.sh installs
    it): its absence is an error, never a skip."""
    require_binaries()


@pytest.fixture(scope="session")
def tsdb(tmp_path_factory, prometheus_binaries) -> Path:
    """A Prometheus data folder of ``support.tsdb.DATA``, backfilled once;
    each Prometheus serves a copy."""
    data = tmp_path_factory.mktemp("tsdb") / "data"
    backfill(DATA.openmetrics(), data)
    return data


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    """moto's S3 server, one for the session; tests create their own buckets."""
    with MotoServer(tmp_path_factory.mktemp("moto")) as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the Prometheus binaries, through any fixture, is a
    `prometheus` test even where its module forgot the marker, so that
    `make test-fast` (``-m "not prometheus"``) never starts one."""
    for item in items:
        if "prometheus_binaries" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.prometheus)
