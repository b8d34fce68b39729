"""The store gateway's per-call limits, its index cache and its time range
flags, on a process over a directory bucket. The data: 157 series of one
chunk per 2 h block (support.tsdb), 12 of them ``up``."""

from __future__ import annotations

import datetime as dt
import json
import re

import grpc
import pytest

from support.components import store_gateway
from support.objstore import upload_block
from support.storeclient import EQ, RE, StoreClient, by_bits
from support.tsdb import EXTERNAL, blocks
from thanos_rs.objstore import Bucket

pytestmark = pytest.mark.prometheus

UP = [(EQ, "__name__", "up")]
EVERYTHING = [(RE, "__name__", ".+")]
ULID = r"[0-9A-Z]{26}"


@pytest.fixture(scope="module")
def bucket_config(tmp_path_factory, tsdb) -> str:
    directory = tmp_path_factory.mktemp("bucket")
    config = f"type: FILESYSTEM\nconfig:\n  directory: {directory}\n"
    bucket = Bucket.from_config(config)
    for block in blocks(tsdb):
        upload_block(bucket, block, EXTERNAL)
    return config


def block_range(tsdb, i: int) -> tuple[int, int]:
    """The closed time range of the data directory's block ``i``."""
    meta = json.loads((blocks(tsdb)[i] / "meta.json").read_text())
    return meta["minTime"], meta["maxTime"] - 1


def test_series_and_sample_limits_fail_calls_as_thanos_does(bucket_config, tmp_path, tsdb):
    # 20 chunks (2,400 samples at 120 per chunk) and 30 touched series.
    with store_gateway(tmp_path, bucket_config, "--store.grpc.series-sample-limit=2400",
                       "--store.grpc.touched-series-limit=30") as gateway:
        client = StoreClient(gateway.grpc_address)
        one_block = block_range(tsdb, 1)
        assert len(client.series(UP, *one_block)) == 12
        # The next block's 12 series fit the series limit, not their chunks:
        # reserved series by series, the call fails at the 21st.
        with pytest.raises(grpc.RpcError) as e:
            client.series(UP, one_block[0], one_block[1] + 3600_000)
        assert e.value.code() == grpc.StatusCode.ABORTED
        assert_matches(e.value.details(), rf"fetch series for block {ULID}: exceeded chunks limit: "
                                          r"limit 20 violated \(got 21\)")
        # Every series of one block is past the series limit.
        with pytest.raises(grpc.RpcError) as e:
            client.series(EVERYTHING, *one_block)
        assert_matches(e.value.details(), rf"fetch series for block {ULID}: exceeded series limit: "
                                          r"limit 30 violated \(got 157\)")
        # Without chunks, only series count.
        assert len(client.series(UP, one_block[0], one_block[1] + 3600_000, skip_chunks=True)) == 12
        # The gateway goes on serving.
        assert len(client.series(UP, *one_block)) == 12
        client.close()


def assert_matches(text: str, pattern: str) -> None:
    assert re.fullmatch(pattern, text), text


def rfc3339(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).isoformat(timespec="milliseconds")


def test_the_index_cache_serves_repeated_queries(bucket_config, tmp_path, tsdb):
    with store_gateway(tmp_path, bucket_config) as gateway:
        client = StoreClient(gateway.grpc_address)
        one_block = block_range(tsdb, 2)
        first = client.samples(UP, *one_block)
        misses = gateway.metric("thanos_store_index_cache_items_added_total", item_type="Series")
        assert misses == 12
        assert client.samples(UP, *one_block) == first
        assert gateway.metric("thanos_store_index_cache_hits_total", item_type="Series") == 12
        assert gateway.metric("thanos_store_index_cache_hits_total", item_type="Postings") >= 1
        assert gateway.metric("thanos_store_index_cache_items_added_total", item_type="Series") == misses
        assert gateway.metric("thanos_store_index_cache_max_size_bytes") == 250 * 1024 * 1024
        client.close()


def test_a_small_index_cache_evicts_and_answers_the_same(bucket_config, tmp_path):
    with store_gateway(tmp_path, bucket_config, "--index-cache-size=8KB") as gateway:
        client = StoreClient(gateway.grpc_address)
        first = by_bits(client.samples(EVERYTHING))
        assert by_bits(client.samples(EVERYTHING)) == first
        assert gateway.metric("thanos_store_index_cache_items_evicted_total", item_type="Series") > 0
        assert gateway.metric("thanos_store_index_cache_total_size_bytes", item_type="Series") <= 8 * 1024
        client.close()


def test_min_and_max_time_cut_what_is_served(bucket_config, tmp_path, tsdb):
    lo, hi = block_range(tsdb, 3)[0], block_range(tsdb, 5)[1]
    with store_gateway(tmp_path, bucket_config, f"--min-time={rfc3339(lo)}", f"--max-time={rfc3339(hi)}") as gateway:
        client = StoreClient(gateway.grpc_address)
        chunks = [c for s in client.series(UP) for c in s.chunks]
        assert chunks and min(c.min_time for c in chunks) >= lo and max(c.max_time for c in chunks) <= hi
        assert client.series(UP, 0, lo - 1) == []
        client.close()
