"""Fixtures of the sidecar tests: the backfilled TSDB, and a Prometheus 2.42
with small remote-read frames and a sidecar in front of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.components import sidecar
from support.prometheus import backfill
from support.storeclient import StoreClient
from support.tsdb import DATA, SMALL_FRAMES, prometheus


@pytest.fixture(scope="session")
def tsdb(tmp_path_factory, prometheus_binaries) -> Path:
    data = tmp_path_factory.mktemp("tsdb") / "data"
    backfill(DATA.openmetrics(), data)
    return data


@pytest.fixture(scope="module")
def prom(tmp_path_factory, tsdb):
    with prometheus(tmp_path_factory.mktemp("prom"), tsdb, extra_args=SMALL_FRAMES) as p:
        yield p


@pytest.fixture(scope="module")
def side(tmp_path_factory, prom):
    with sidecar(tmp_path_factory.mktemp("sidecar"), prom.url) as s:
        yield s


@pytest.fixture(scope="module")
def client(side):
    c = StoreClient(side.grpc_address)
    yield c
    c.close()
