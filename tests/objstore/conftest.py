"""Each bucket test runs against a FILESYSTEM bucket and an S3 bucket on moto's server."""

from __future__ import annotations

import pytest

from support.objstore import KINDS, new_bucket
from thanos_rs.objstore import Bucket


@pytest.fixture(params=KINDS)
def bucket_config(request, tmp_path) -> str:
    """The YAML of an empty bucket of each type."""
    return new_bucket(request, tmp_path / "bucket")


@pytest.fixture
def bucket(bucket_config) -> Bucket:
    return Bucket.from_config(bucket_config)
