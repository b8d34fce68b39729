"""The store gateway when its object store fails under it, seen through a
querier over two store gateways holding the same blocks under other external
labels: eu1 on S3 on a moto server of this module's own (so that it can be
stopped), us1 on a directory. The object store unreachable at start or
mid-life and a block deleted while it is served never make an answer
silently smaller: a warning naming the store under partial response, an
error without; and the gateway carries on."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.components import Component, querier, store_gateway
from support.objstore import MotoServer, filesystem_config, upload_block
from support.storeapi import wait_until
from support.tsdb import blocks
from thanos_rs.objstore import Bucket

pytestmark = pytest.mark.prometheus

EU = {"cluster": "eu1", "replica": "0"}
US = {"cluster": "us1", "replica": "0"}
SYNC = "--sync-block-duration=1s"
LOADED = "thanos_bucket_store_blocks_loaded"
BOTH = (["eu1", "us1"], [])


@dataclass
class Setup:
    moto: MotoServer
    s3: Bucket
    blocks: list[Path]
    eu: Component
    us: Component
    q: Component


def s3_config(moto: MotoServer) -> str:
    # One retry (the default is ten, with backoff): each query while the
    # server is down would wait seconds for it to come back.
    return moto.config("eu1", max_retries=1)


def fill(moto: MotoServer, blocks: list[Path]) -> Bucket:
    """The eu1 bucket on ``moto`` holding every block, whole."""
    moto.create_bucket("eu1")
    bucket = Bucket.from_config(s3_config(moto))
    for block in blocks:
        upload_block(bucket, block, EU)
    return bucket


def middle(block: Path) -> float:
    """A time (in seconds) that only this block's samples answer."""
    meta = json.loads((block / "meta.json").read_text())
    return (meta["minTime"] + meta["maxTime"]) / 2000


def clusters(q: Component, t: float) -> tuple[list[str], list[str]]:
    """The clusters whose `up` the querier counts at ``t``, and its warnings."""
    status, body = q.request("/api/v1/query", {"query": "count by (cluster) (up)", "time": t})
    assert status == 200, body
    return sorted(s["metric"]["cluster"] for s in body["data"]["result"]), body.get("warnings", [])


def failing(q: Component, t: float, store: Component) -> str:
    """What the querier says of ``store`` at ``t``: with partial response, us1
    alone and one warning naming the store; without, an error naming it.
    Returns the error."""
    found, warnings = clusters(q, t)
    assert found == ["us1"] and len(warnings) == 1 and store.grpc_address in warnings[0], (found, warnings)
    status, body = q.request("/api/v1/query", {"query": "count by (cluster) (up)", "time": t,
                                               "partial_response": "false"})
    assert (status, body["errorType"]) == (422, "execution"), body
    assert store.grpc_address in body["error"], body
    return body["error"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tsdb):
    work = tmp_path_factory.mktemp("faults")
    fs = filesystem_config(work / "bucket")
    for block in blocks(tsdb):
        upload_block(Bucket.from_config(fs), block, US)
    with MotoServer(work) as moto:
        s3 = fill(moto, blocks(tsdb))
        with store_gateway(work, s3_config(moto), SYNC, cache="eu1") as eu, \
                store_gateway(work, fs, SYNC, cache="us1") as us, \
                querier(work, [eu.grpc_address, us.grpc_address]) as q:
            wait_until(lambda: len(q.api("/api/v1/stores").get("store", [])) == 2)
            yield Setup(moto, s3, blocks(tsdb), eu, us, q)


@pytest.fixture
def block(setup) -> Path:
    """A block in the middle of the day, every block loaded and both clusters
    answering in full at its middle."""
    block = setup.blocks[len(setup.blocks) // 2]
    wait_until(lambda: setup.eu.metric(LOADED) == len(setup.blocks))
    wait_until(lambda: clusters(setup.q, middle(block)) == BOTH)
    return block


def test_an_object_store_unreachable_at_start_is_reported_until_it_answers(setup, block, tmp_path):
    late = MotoServer(tmp_path)  # not started: its port refuses connections
    gateway = store_gateway(tmp_path, s3_config(late), SYNC).start(wait=False)
    try:
        # Strict: a querier forgets a store it never reached, as Thanos's does.
        with querier(tmp_path, [setup.us.grpc_address], f"--endpoint-strict={gateway.grpc_address}") as q:
            wait_until(lambda: "initial synchronization failed" in gateway.logs())
            failing(q, middle(block), gateway)
            with late:
                fill(late, setup.blocks)
                gateway.wait_ready()
                wait_until(lambda: clusters(q, middle(block)) == BOTH)
    finally:
        gateway.stop()


def test_an_object_store_unreachable_mid_life_is_reported_and_survived(setup, block):
    t = middle(block)
    setup.moto.stop()
    try:
        error = failing(setup.q, t, setup.eu)
        assert setup.moto.endpoint in error and "Connection refused" in error
        # It keeps its blocks, says why its syncs fail, and stays up.
        wait_until(lambda: "syncing blocks failed" in setup.eu.logs())
        assert setup.eu.proc.poll() is None
        assert setup.eu.metric(LOADED) == len(setup.blocks)
    finally:
        # Back on the same port, empty: the blocks go up again.
        setup.moto.start()
        fill(setup.moto, setup.blocks)
    wait_until(lambda: clusters(setup.q, t) == BOTH)


def test_a_block_whose_data_is_deleted_while_served_fails_queries(setup, block):
    gone = [n for n in setup.s3.iter(f"{block.name}/", recursive=True) if not n.endswith("/meta.json")]
    assert any("/chunks/" in n for n in gone) and f"{block.name}/index" in gone
    for name in gone:
        setup.s3.delete(name)
    # The index's entries may come from the index cache; the chunks cannot.
    error = failing(setup.q, middle(block), setup.eu)
    assert re.search(rf"{block.name}/(index|chunks/\d+): object not found", error), error
    # Its meta.json is still there: it stays loaded, and failing.
    assert setup.eu.metric(LOADED) == len(setup.blocks)
    # A query that needs none of it is whole.
    assert clusters(setup.q, middle(setup.blocks[0])) == BOTH
    upload_block(setup.s3, block, EU)


def test_a_block_deleted_entirely_is_dropped_at_the_next_sync(setup, block):
    # As Thanos deletes a block: meta.json first, so that it is never read half gone.
    setup.s3.delete(f"{block.name}/meta.json")
    for name in setup.s3.iter(f"{block.name}/", recursive=True):
        setup.s3.delete(name)
    wait_until(lambda: setup.eu.metric(LOADED) == len(setup.blocks) - 1)
    # The bucket no longer holds eu1's samples there: no error, no warning.
    assert clusters(setup.q, middle(block)) == (["us1"], [])
    assert clusters(setup.q, middle(setup.blocks[0])) == BOTH
    upload_block(setup.s3, block, EU)
