"""The sidecar with object storage (``--objstore.config``): a real Prometheus
2.42, our sidecar process, a filesystem bucket. Blocks go up as soon as the
sidecar has the external labels; a Prometheus that compacts its own blocks is
refused, as Thanos refuses it."""

from __future__ import annotations

import json

import pytest

from support.components import sidecar
from support.storeapi import wait_until
from support.tsdb import EXTERNAL, prometheus
from thanos_rs.objstore.block import is_ulid

pytestmark = pytest.mark.prometheus

#: Prometheus's own compaction off: what uploads need.
EQUAL_BLOCKS = ("--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h")


def objstore(directory) -> str:
    return f"--objstore.config=type: FILESYSTEM\nconfig:\n  directory: {directory}\n"


def test_blocks_go_up_with_the_external_labels(tmp_path, tsdb):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    with prometheus(tmp_path, tsdb, extra_args=EQUAL_BLOCKS) as prom:
        local = sorted(p.name for p in prom.data.iterdir() if is_ulid(p.name))
        with sidecar(tmp_path, prom.url, f"--tsdb.path={prom.data}", objstore(bucket)) as side:
            wait_until(lambda: all((bucket / ulid / "meta.json").exists() for ulid in local))
            wait_until(lambda: side.metric("thanos_shipper_uploads_total") == len(local))
            assert side.metric("thanos_shipper_dir_syncs_total") >= 1
    for ulid in local:
        assert json.loads((bucket / ulid / "meta.json").read_bytes())["thanos"]["labels"] == EXTERNAL
    assert sorted(json.loads((prom.data / "thanos.shipper.json").read_bytes())["uploaded"]) == local


def test_a_prometheus_that_compacts_is_refused_unless_told(tmp_path, tsdb):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    # Prometheus's defaults: 2 h blocks compacted up to a tenth of the retention.
    with prometheus(tmp_path, tsdb) as prom:
        side = sidecar(tmp_path, prom.url, f"--tsdb.path={prom.data}", objstore(bucket)).start(wait=False)
        assert side.proc.wait(timeout=30) == 1
        assert "Compaction needs to be disabled" in side.logs()
        side.log.close()
        assert not any(bucket.iterdir())
        with sidecar(tmp_path, prom.url, f"--tsdb.path={prom.data}", objstore(bucket),
                     "--shipper.ignore-unequal-block-size") as side:
            wait_until(lambda: side.metric("thanos_shipper_uploads_total"))
            assert "flag to ignore Prometheus min/max block duration flags differing" in side.logs()


def test_without_a_bucket_uploads_are_disabled(tmp_path, tsdb):
    with prometheus(tmp_path, tsdb, extra_args=EQUAL_BLOCKS) as prom, \
            sidecar(tmp_path, prom.url, f"--tsdb.path={prom.data}") as side:
        assert "no supported bucket was configured, uploads will be disabled" in side.logs()
        assert side.metric("thanos_shipper_uploads_total") is None
        assert not (prom.data / "thanos.shipper.json").exists()
