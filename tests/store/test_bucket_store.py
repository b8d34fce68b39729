"""The store gateway (``thanos_rs store``) as a process over a bucket of each
kind (a directory, and S3 on moto's server) laid out by hand in Thanos's
format: it answers as a sidecar reading the same blocks from a Prometheus
data directory, announces what it holds, and follows blocks that appear, are
marked for deletion or are half uploaded."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest

from support.components import Component, sidecar, store_gateway
from support.objstore import KINDS, new_bucket, upload_block
from support.prometheus import free_port
from support.storeapi import wait_until
from support.storeclient import EQ, RE, StoreClient
from support.storecompare import compare
from support.tsdb import EXTERNAL, blocks, prometheus
from thanos_rs.objstore import Bucket

pytestmark = pytest.mark.prometheus


def lay_out(block: Path, bucket: Bucket, labels: dict[str, str], meta: bool = True) -> str:
    """The block in the bucket as a shipper would have uploaded it, but
    without the optional files list: the store gateway lists the chunks."""
    return upload_block(bucket, block, labels, files=False, meta=meta)


def store(workdir: Path, config: str, *flags: str) -> Component:
    return store_gateway(workdir, config, "--sync-block-duration=1s", *flags)


@pytest.fixture(scope="module")
def sidecar_client(tmp_path_factory, tsdb):
    """A sidecar reading the data directory."""
    workdir = tmp_path_factory.mktemp("sidecar")
    with prometheus(workdir, tsdb) as prom, sidecar(workdir, prom.url, f"--tsdb.path={prom.data}") as side:
        client = StoreClient(side.grpc_address)
        yield client
        client.close()


#: Flags of the store gateway besides the bucket: "small" reads chunks a few
#: series at a time with an index cache that evicts all the time.
GATEWAYS = {**{kind: (kind, ()) for kind in KINDS},
            "small": ("FILESYSTEM", ("--debug.series-batch-size=5", "--index-cache-size=16KB"))}


@pytest.fixture(scope="module", params=GATEWAYS)
def gateway_client(request, tmp_path_factory, tsdb):
    """A store gateway over a bucket of each kind holding the data directory's blocks."""
    workdir = tmp_path_factory.mktemp(f"store-{request.param}")
    kind, flags = GATEWAYS[request.param]
    config = new_bucket(request, workdir / "bucket", kind)
    bucket = Bucket.from_config(config)
    for block in blocks(tsdb):
        lay_out(block, bucket, EXTERNAL)
    with store(workdir, config, *flags) as gateway:
        client = StoreClient(gateway.grpc_address)
        yield client
        client.close()


def test_the_store_gateway_answers_as_the_sidecar_on_the_same_blocks(sidecar_client, gateway_client):
    assert compare(sidecar_client, gateway_client, seed=3, cases=40, api_checks=False) >= 10


def test_info_announces_the_blocks_labels_and_range(gateway_client, tsdb):
    metas = [json.loads((b / "meta.json").read_text()) for b in blocks(tsdb)]
    info = gateway_client.info()
    assert info.ComponentType == "store"
    assert [{lab.name: lab.value for lab in s.labels} for s in info.label_sets] == [EXTERNAL]
    assert (info.store.min_time, info.store.max_time) == (min(m["minTime"] for m in metas),
                                                          max(m["maxTime"] for m in metas))


@pytest.mark.parametrize("kind", KINDS)
def test_blocks_come_and_go_without_a_restart(kind, request, tmp_path, tsdb):
    config = new_bucket(request, tmp_path / "bucket", kind)
    bucket = Bucket.from_config(config)
    first, second, *_ = blocks(tsdb)
    lay_out(first, bucket, {"replica": "a"})
    with store(tmp_path, config) as gateway:
        client = StoreClient(gateway.grpc_address)
        up = [(EQ, "__name__", "up")]
        before = client.samples(up)
        assert before and all(dict(k)["replica"] == "a" for k in before)
        # Half uploaded (no meta.json yet): not a block.
        lay_out(second, bucket, {"replica": "b"}, meta=False)
        syncs = gateway.metric("thanos_blocks_meta_syncs_total")
        wait_until(lambda: gateway.metric("thanos_blocks_meta_syncs_total") >= syncs + 2)
        assert client.samples(up) == before
        assert gateway.metric("thanos_bucket_store_blocks_loaded") == 1
        # Its meta.json arrives last, as Thanos uploads it: now it is served.
        lay_out(second, bucket, {"replica": "b"})
        wait_until(lambda: {dict(k)["replica"] for k in client.samples(up)} == {"a", "b"})
        assert gateway.metric("thanos_bucket_store_blocks_loaded") == 2
        # Marked for deletion by a compactor: dropped, and so is its header.
        bucket.upload(f"{first.name}/deletion-mark.json",
                      json.dumps({"id": first.name, "deletion_time": int(time.time()), "version": 1}).encode())
        wait_until(lambda: {dict(k)["replica"] for k in client.samples(up)} == {"b"})
        assert not (tmp_path / "cache" / first.name).exists()
        client.close()


@pytest.mark.parametrize("kind", KINDS)
def test_a_bucket_that_goes_away_fails_calls_clearly(kind, request, tmp_path, tsdb):
    config = new_bucket(request, tmp_path / "bucket", kind)
    bucket = Bucket.from_config(config)
    block = lay_out(blocks(tsdb)[0], bucket, EXTERNAL)
    with store(tmp_path, config) as gateway:
        client = StoreClient(gateway.grpc_address)
        everything = [(RE, "__name__", ".+")]
        assert client.samples(everything)
        for name in bucket.iter(f"{block}/chunks/"):
            bucket.delete(name)
        with pytest.raises(grpc.RpcError) as e:
            client.samples(everything)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "chunks/000001" in e.value.details()
        client.close()


def test_an_unreachable_bucket_at_start_keeps_it_unready_until_it_answers(tmp_path):
    closed = free_port()
    config = ("--objstore.config=type: S3\nconfig:\n  bucket: thanos\n  endpoint: 127.0.0.1:%d\n  insecure: true\n"
              "  access_key: a\n  secret_key: s3cr3t-value\n" % closed)
    gateway = Component("store", [config, f"--data-dir={tmp_path / 'cache'}"], tmp_path).start(wait=False)
    try:
        wait_until(lambda: "initial synchronization failed, retrying" in gateway.logs())
        assert gateway.proc.poll() is None
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{gateway.url}/-/ready", timeout=10)
        assert e.value.code == 503
    finally:
        gateway.stop()
    assert "s3cr3t-value" not in gateway.logs()
