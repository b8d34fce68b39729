"""The store gateway (``thanos_rs store``) as a process over a filesystem
bucket laid out by hand in Thanos's format: it answers as a sidecar reading
the same blocks from a Prometheus data directory, announces what it holds,
and follows blocks that appear, are marked for deletion or are half uploaded."""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest

from support.components import Component, sidecar
from support.prometheus import free_port
from support.storeapi import wait_until
from support.storeclient import EQ, RE, StoreClient
from support.storecompare import compare
from support.tsdb import EXTERNAL, prometheus

pytestmark = pytest.mark.prometheus


def is_block(p: Path) -> bool:
    return (p / "meta.json").exists()


def lay_out(block: Path, bucket: Path, labels: dict[str, str]) -> str:
    """Copies a block into the bucket with Thanos's section in its meta.json,
    as a shipper would have written it (without the optional files list)."""
    target = bucket / block.name
    shutil.copytree(block, target, ignore=shutil.ignore_patterns("tombstones"))
    meta = json.loads((target / "meta.json").read_text())
    meta["thanos"] = {"labels": labels, "downsample": {"resolution": 0}, "source": "sidecar"}
    (target / "meta.json").write_text(json.dumps(meta, indent="\t"))
    return block.name


def store(workdir: Path, bucket: Path, *extra: str) -> Component:
    config = f"--objstore.config=type: FILESYSTEM\nconfig:\n  directory: {bucket}\n"
    return Component("store", [config, f"--data-dir={workdir / 'cache'}", "--sync-block-duration=1s", *extra],
                     workdir)


@pytest.fixture(scope="module")
def bucket(tmp_path_factory, tsdb) -> Path:
    out = tmp_path_factory.mktemp("bucket")
    for block in filter(is_block, tsdb.iterdir()):
        lay_out(block, out, EXTERNAL)
    return out


@pytest.fixture(scope="module")
def clients(tmp_path_factory, tsdb, bucket):
    """(sidecar reading the data directory, store gateway over the bucket)."""
    workdir = tmp_path_factory.mktemp("store")
    with prometheus(workdir, tsdb) as prom, sidecar(workdir, prom.url, f"--tsdb.path={prom.data}") as side, \
            store(workdir, bucket) as gateway:
        pair = StoreClient(side.grpc_address), StoreClient(gateway.grpc_address)
        yield pair
        for c in pair:
            c.close()


def test_the_store_gateway_answers_as_the_sidecar_on_the_same_blocks(clients):
    assert compare(*clients, seed=3, cases=40, api_checks=False) >= 10


def test_info_announces_the_blocks_labels_and_range(clients, bucket):
    metas = [json.loads((b / "meta.json").read_text()) for b in bucket.iterdir()]
    info = clients[1].info()
    assert info.ComponentType == "store"
    assert [{lab.name: lab.value for lab in s.labels} for s in info.label_sets] == [EXTERNAL]
    assert (info.store.min_time, info.store.max_time) == (min(m["minTime"] for m in metas),
                                                          max(m["maxTime"] for m in metas))


def test_blocks_come_and_go_without_a_restart(tmp_path, tsdb):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    first, second, *_ = sorted(filter(is_block, tsdb.iterdir()))
    lay_out(first, bucket, {"replica": "a"})
    with store(tmp_path, bucket) as gateway:
        client = StoreClient(gateway.grpc_address)
        up = [(EQ, "__name__", "up")]
        before = client.samples(up)
        assert before and all(dict(k)["replica"] == "a" for k in before)
        # Half uploaded (no meta.json yet): not a block.
        partial = bucket / second.name
        shutil.copytree(second, partial, ignore=shutil.ignore_patterns("meta.json"))
        time.sleep(2.5)
        assert client.samples(up) == before
        # Its meta.json arrives last, as Thanos uploads it: now it is served.
        shutil.rmtree(partial)
        lay_out(second, bucket, {"replica": "b"})
        wait_until(lambda: {dict(k)["replica"] for k in client.samples(up)} == {"a", "b"})
        assert gateway.metric("thanos_bucket_store_blocks_loaded") == 2
        # Marked for deletion by a compactor: dropped, and so is its header.
        (bucket / first.name / "deletion-mark.json").write_text(
            json.dumps({"id": first.name, "deletion_time": int(time.time()), "version": 1}))
        wait_until(lambda: {dict(k)["replica"] for k in client.samples(up)} == {"b"})
        assert not (tmp_path / "cache" / first.name).exists()
        client.close()


def test_a_bucket_that_goes_away_fails_calls_clearly(tmp_path, tsdb):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    block = lay_out(next(filter(is_block, tsdb.iterdir())), bucket, EXTERNAL)
    with store(tmp_path, bucket) as gateway:
        client = StoreClient(gateway.grpc_address)
        everything = [(RE, "__name__", ".+")]
        assert client.samples(everything)
        shutil.rmtree(bucket / block / "chunks")
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
