"""The compactor downsamples: a raw block of two days (promtool's blocks
merged into one) gets a 5-minute copy with the same labels, range and
history, made once; blocks too short are left raw. What the aggregates hold
is checked in Rust (``rust/compact/tests/downsample_block.rs``)."""

from __future__ import annotations

import json

import pytest

from support import datasets
from support.components import compact_once
from support.objstore import filesystem_config, upload_block
from support.prometheus import backfill
from support.tsdb import blocks
from thanos_rs import _core
from thanos_rs.block import ulid as ulids
from thanos_rs.compact.downsample import RESOLUTION_5M, plan
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.block import fetch

pytestmark = pytest.mark.prometheus

LABELS = {"cluster": "eu1", "replica": "0"}
#: Two days of 5-minute scrapes from two targets: over the 40 h threshold.
DATA = datasets.monitoring(hours=48, interval=300, jobs=1, instances=2)


def run_once(tmp_path, config, *flags) -> str:
    code, logs = compact_once(tmp_path, config, "--consistency-delay=0s", *flags)
    assert code == 0, logs
    return logs


def test_a_two_day_raw_block_gets_a_5m_copy_once(tmp_path, prometheus_binaries):
    data = tmp_path / "data"
    backfill(DATA.openmetrics(), data)
    merged = _core.compact_blocks(blocks(data), tmp_path, ulids.new())
    raw_dir = tmp_path / json.loads(merged)["ulid"]
    config = filesystem_config(tmp_path / "bucket")
    bucket = Bucket.from_config(config)
    raw = upload_block(bucket, raw_dir, LABELS)
    short = upload_block(bucket, blocks(data)[-1], {"cluster": "eu2"})

    logs = run_once(tmp_path, config, "--deduplication.replica-label=replica")
    assert "downsampling iterations done" in logs
    metas = fetch(bucket).metas
    five = [m for m in metas.values() if m.resolution == RESOLUTION_5M]
    assert len(five) == 1, logs
    d, r = five[0], metas[raw]
    # The syncer's view of the labels: the replica label is gone.
    assert d.labels == {"cluster": "eu1"}
    assert (d.min_time, d.max_time, d.sources) == (r.min_time, r.max_time, r.sources)
    assert d.num_series == r.num_series
    # About one window per 5 minutes per series.
    assert abs(d.num_samples - r.num_series * 48 * 12) <= 2 * r.num_series
    assert d.files and not bucket.exists(f"{d.ulid}/tombstones")
    assert metas[short].resolution == 0 and len(metas) == 3
    # Done once: the 5 m block holds the raw block's sources now.
    assert plan(fetch(bucket).metas.values()) == []
    run_once(tmp_path, config, "--deduplication.replica-label=replica")
    assert len(fetch(bucket).metas) == 3
