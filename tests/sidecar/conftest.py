"""Fixtures of the sidecar tests: a Prometheus 2.42 serving the backfilled
TSDB with small remote-read frames, and a sidecar in front of it."""

from __future__ import annotations

import pytest

from support.components import sidecar
from support.storeclient import StoreClient
from support.tsdb import SMALL_FRAMES, prometheus


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
