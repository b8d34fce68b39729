"""A store gateway over a bucket without blocks announces what Thanos's
announces (``BucketStore.TimeRange``): MaxInt64 to MinInt64, a range no
query falls in, not Prometheus's API bounds of time."""

from __future__ import annotations

import pytest

from support.components import store_gateway
from support.objstore import filesystem_config
from support.storeclient import StoreClient

# A process on real timers.
pytestmark = pytest.mark.slow


def test_an_empty_bucket_announces_an_empty_range(tmp_path):
    (tmp_path / "bucket").mkdir()
    with store_gateway(tmp_path, filesystem_config(tmp_path / "bucket")) as gateway:
        client = StoreClient(gateway.grpc_address)
        try:
            info, legacy = client.info(), client.store_info()
        finally:
            client.close()
    assert (info.store.min_time, info.store.max_time) == (2**63 - 1, -(2**63))
    assert (legacy.min_time, legacy.max_time) == (2**63 - 1, -(2**63))
