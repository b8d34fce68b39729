"""Fixtures of the shipper tests: a copy of the backfilled data directory
(promtool's blocks, as Prometheus cuts them), a bucket of each kind (a
directory, and S3 on moto's server), and a filesystem bucket for the tests
that need to look into its directory or trip uploads up in it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support.objstore import KINDS, filesystem_config, new_bucket
from thanos_rs.objstore import Bucket


@pytest.fixture
def data(tmp_path, tsdb) -> Path:
    out = tmp_path / "data"
    shutil.copytree(tsdb, out, ignore=shutil.ignore_patterns("lock"))
    return out


@pytest.fixture
def bucket_dir(tmp_path) -> Path:
    out = tmp_path / "bucket"
    out.mkdir()
    return out


@pytest.fixture(params=KINDS)
def bucket(request, bucket_dir) -> Bucket:
    return Bucket.from_config(new_bucket(request, bucket_dir))


@pytest.fixture
def fs_bucket(bucket_dir) -> Bucket:
    return Bucket.from_config(filesystem_config(bucket_dir))
