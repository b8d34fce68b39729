"""Fixtures of the shipper tests: a copy of the backfilled data directory
(promtool's blocks, as Prometheus cuts them) and a filesystem bucket."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


@pytest.fixture
def bucket(bucket_dir) -> Bucket:
    return Bucket.from_flags("", f"type: FILESYSTEM\nconfig:\n  directory: {bucket_dir}\n")
