"""Fixtures of the sidecar tests: a Prometheus 2.42 serving the backfilled
TSDB with small remote-read frames, and a sidecar in front of it on each read
path: Prometheus's remote-read API, and its data directory (``--tsdb.path``)."""

from __future__ import annotations

import pytest

from support.components import sidecar
from support.storeclient import StoreClient
from support.tsdb import SMALL_FRAMES, prometheus

#: The sidecar's two read paths and the flags that choose them.
READ_PATHS = {"remote-read": (), "tsdb-path": ("--tsdb.path={data}",)}


@pytest.fixture(scope="module")
def prom(tmp_path_factory, tsdb):
    with prometheus(tmp_path_factory.mktemp("prom"), tsdb, extra_args=SMALL_FRAMES) as p:
        yield p


@pytest.fixture(scope="module", params=list(READ_PATHS))
def side(request, tmp_path_factory, prom):
    flags = [f.format(data=prom.data) for f in READ_PATHS[request.param]]
    with sidecar(tmp_path_factory.mktemp("sidecar"), prom.url, *flags) as s:
        s.read_path = request.param
        yield s


@pytest.fixture(scope="module")
def client(side):
    c = StoreClient(side.grpc_address)
    yield c
    c.close()
