"""The store gateway serves downsampled blocks as Thanos's does: a call's
``max_resolution_window`` picks the coarsest resolution not above it (the
time it does not cover read from finer blocks), and a downsampled chunk is
sent as the aggregates the call asks for (``aggregates``), each an XOR chunk
in its ``AggrChunk`` field. Raw calls (window 0, what queriers send by
default) read raw blocks only, as before."""

from __future__ import annotations

import json

import grpc
import pytest

from support import datasets
from support.components import store_gateway
from support.objstore import filesystem_config, upload_block
from support.prometheus import backfill
from support.storeclient import RE, StoreClient
from support.tsdb import blocks
from thanos_rs import _core
from thanos_rs.block import ulid as ulids
from thanos_rs.chunkenc import decode_xor
from thanos_rs.objstore import Bucket

pytestmark = pytest.mark.prometheus

LABELS = {"cluster": "eu1"}
#: Two days of 5-minute scrapes from two targets.
DATA = datasets.monitoring(hours=48, interval=300, jobs=1, instances=2)
RES_5M = 300_000
COUNT, SUM, MIN, MAX, COUNTER = 1, 2, 3, 4, 5
UP = [(RE, "__name__", "up")]
#: Where the second day's blocks start (promtool cuts at 2 h boundaries).
DAY_2 = (DATA.start * 1000 + 24 * 3_600_000) // 7_200_000 * 7_200_000


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, prometheus_binaries):
    """A gateway over a bucket holding the first day raw and the second at 5 m."""
    work = tmp_path_factory.mktemp("downsampled")
    data = work / "data"
    backfill(DATA.openmetrics(), data)
    srcs = blocks(data)
    first_day = [b for b in srcs if json.loads((b / "meta.json").read_text())["maxTime"] <= DAY_2]
    second_day = [b for b in srcs if b not in first_day]
    merged = json.loads(_core.compact_blocks(second_day, work, ulids.new()))["ulid"]
    five = json.loads(_core.downsample_block(work / merged, work, ulids.new(), RES_5M))["ulid"]
    config = filesystem_config(work / "bucket")
    bucket = Bucket.from_config(config)
    raw = [upload_block(bucket, b, LABELS) for b in first_day]
    upload_block(bucket, work / five, LABELS)
    with store_gateway(work, config, "--sync-block-duration=1s") as gw:
        client = StoreClient(gw.grpc_address)
        yield client, raw
        client.close()


def test_raw_calls_read_raw_blocks_only(gateway):
    client, raw = gateway
    series = client.series(UP)
    assert series and all(c.HasField("raw") and not c.HasField("count") for s in series for c in s.chunks)
    # Only the first day is raw in this bucket.
    assert max(c.max_time for s in series for c in s.chunks) < DAY_2


def test_a_5m_window_reads_the_aggregates_asked_for_and_raw_data_where_there_are_none(gateway):
    client, _ = gateway
    series = client.series(UP, max_resolution_window=RES_5M, aggregates=[COUNT, SUM])
    assert len(series) == 2
    for s in series:
        raw = [c for c in s.chunks if c.HasField("raw")]
        aggregated = [c for c in s.chunks if not c.HasField("raw")]
        # The first day from raw blocks, the second from the 5 m block.
        assert raw and max(c.max_time for c in raw) < DAY_2 <= min(c.min_time for c in aggregated)
        assert all(c.HasField("count") and c.HasField("sum") and not c.HasField("max") for c in aggregated)
        # A window of 5 minutes holds one scrape: counts of 1, one a window.
        counts = [v for c in aggregated for v in decode_xor(c.count.data)[1].tolist()]
        assert set(counts) == {1.0} and abs(len(counts) - (DATA.end * 1000 - DAY_2) / RES_5M) <= 2
    counter = client.series(UP, max_resolution_window=RES_5M, aggregates=[COUNTER])
    aggregated = [c for s in counter for c in s.chunks if not c.HasField("raw")]
    assert aggregated and all(c.HasField("counter") and not c.HasField("count") for c in aggregated)


def test_an_unknown_aggregate_is_refused(gateway):
    client, _ = gateway
    with pytest.raises(grpc.RpcError) as e:
        client.series(UP, max_resolution_window=RES_5M, aggregates=[9])
    assert "unsupported aggregation 9" in e.value.details()
