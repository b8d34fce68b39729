"""Each bucket test runs against a FILESYSTEM bucket and an S3 bucket on moto's server."""

from __future__ import annotations

import itertools

import pytest

from support.objstore import filesystem_config
from thanos_rs.objstore import Bucket

_names = itertools.count()


@pytest.fixture(params=["FILESYSTEM", "S3"])
def bucket_config(request, tmp_path) -> str:
    """The YAML of an empty bucket of each type."""
    if request.param == "FILESYSTEM":
        return filesystem_config(tmp_path / "bucket")
    moto = request.getfixturevalue("moto")
    name = f"test-{next(_names)}"
    moto.create_bucket(name)
    return moto.config(name)


@pytest.fixture
def bucket(bucket_config) -> Bucket:
    return Bucket.from_config(bucket_config)
