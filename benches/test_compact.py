"""The compactor's block work in Rust, on promtool's 2 h blocks of 30 s
scrapes (6 h of 20 targets, 24 h of 100): merging them into one block, the
same with a second replica's copy of every block (vertical compaction:
every chunk decoded, merged and encoded again, one-to-one and with the
penalty deduplication), and downsampling the merged block to 5 minutes.
Rates are the raw samples of one replica per second; no reference runs
(Prometheus compacts only inside its own process).

``python -m pytest benches/test_compact.py --benchmark-only``
"""

from __future__ import annotations

import json
import shutil

import pytest
from support import datasets
from support.prometheus import backfill
from support.tsdb import blocks
from thanos_rs import _core
from thanos_rs.block import ulid as ulids
from timing import fresh_block_args, record_rate

#: Hours and targets per job (two jobs).
SIZES = {"6h-20-targets": (6, 10), "24h-100-targets": (24, 50)}
RES_5M = 300_000


@pytest.fixture(scope="module", params=SIZES)
def source(request, tmp_path_factory):
    """The 2 h blocks of the size, and their samples."""
    hours, instances = SIZES[request.param]
    work = tmp_path_factory.mktemp(f"compact-{request.param}")
    data = work / "data"
    backfill(datasets.monitoring(hours=hours, interval=30, jobs=2, instances=instances).openmetrics(), data)
    srcs = blocks(data)
    samples = sum(json.loads((b / "meta.json").read_text())["stats"]["numSamples"] for b in srcs)
    return work, srcs, samples


def test_compact_blocks(benchmark, source):
    work, srcs, samples = source
    meta = benchmark.pedantic(lambda out, u: _core.compact_blocks(srcs, out, u), setup=lambda: fresh_block_args(work),
                              rounds=3, warmup_rounds=1)
    assert json.loads(meta)["stats"]["numSamples"] == samples
    record_rate(benchmark, samples)


@pytest.mark.parametrize("func", ["", "penalty"], ids=["one-to-one", "penalty"])
def test_compact_blocks_vertical(benchmark, source, func):
    work, srcs, samples = source
    replica = work / "replica"
    if not replica.exists():
        replica.mkdir()
        for b in srcs:
            shutil.copytree(b, replica / ulids.new())
    both = srcs + sorted(replica.iterdir())
    meta = benchmark.pedantic(lambda out, u: _core.compact_blocks(both, out, u, func), setup=lambda: fresh_block_args(work),
                              rounds=3, warmup_rounds=1)
    assert json.loads(meta)["stats"]["numSamples"] == samples
    record_rate(benchmark, samples)


def test_downsample_block(benchmark, source):
    work, srcs, samples = source
    merged = work / "merged"
    if not merged.exists():
        merged.mkdir()
        _core.compact_blocks(srcs, merged, ulids.new())
    block = next(merged.iterdir())
    meta = benchmark.pedantic(lambda out, u: _core.downsample_block(block, out, u, RES_5M),
                              setup=lambda: fresh_block_args(work), rounds=3, warmup_rounds=1)
    assert json.loads(meta)["stats"]["numSamples"] > 0
    record_rate(benchmark, samples)
