"""The planner picks the blocks Thanos's planner picks (the cases of
``pkg/compact/planner_test.go``, with its ranges 20, 60, 180, 540, 1620)."""

from __future__ import annotations

import pytest

from thanos_rs.block import ulid as ulids
from thanos_rs.block.metadata import Meta
from thanos_rs.compact.planner import levels, plan, split_by_range

RANGES = [20, 60, 180, 540, 1620]


def meta(mint: int, maxt: int, failed: bool = False, tombstones: int = 0, series: int = 0) -> Meta:
    u = ulids.new()
    return Meta(ulid=u, min_time=mint, max_time=maxt, num_series=series, num_samples=1, num_chunks=1,
                compaction_level=1, compaction_failed=failed, labels={}, resolution=0, source="", segment_files=[],
                files={}, raw={"compaction": {"sources": [u]}, "stats": {"numTombstones": tombstones}})


def spans(metas: list[Meta]) -> list[tuple[int, int]]:
    return [(m.min_time, m.max_time) for m in metas]


@pytest.mark.parametrize("blocks, want", [
    # One block, or one beside the newest: nothing yet.
    ([(0, 20)], []),
    ([(0, 20), (20, 40)], []),
    # Three, the newest left out: the range of 60 is not full and may grow.
    ([(0, 20), (20, 40), (40, 60)], []),
    # The block after the range appeared: the range is complete.
    ([(0, 20), (20, 40), (40, 60), (60, 80)], [(0, 20), (20, 40), (40, 60)]),
    # A gap within the range does not hold it back once a later block exists.
    ([(0, 20), (40, 60), (60, 80)], [(0, 20), (40, 60)]),
    # The smallest range first: 60..120 before 0..180.
    ([(0, 60), (60, 80), (80, 100), (100, 120), (120, 140)], [(60, 80), (80, 100), (100, 120)]),
    # Overlapping blocks come first, whatever the ranges.
    ([(0, 20), (10, 30), (40, 60)], [(0, 20), (10, 30)]),
    ([(0, 20), (20, 40), (30, 50), (45, 60), (100, 120)], [(20, 40), (30, 50), (45, 60)]),
])
def test_plan_picks_thanos_s_blocks(blocks, want):
    assert spans(plan(RANGES, [meta(a, b) for a, b in blocks])) == want


def test_a_range_with_a_failed_compaction_is_left_alone():
    metas = [meta(0, 20), meta(20, 40, failed=True), meta(40, 60), meta(60, 80)]
    assert plan(RANGES, metas) == []


def test_a_big_block_with_many_tombstones_is_rewritten_alone():
    big = meta(0, 180, tombstones=10, series=100)
    assert plan(RANGES, [big, meta(180, 360)]) == [big]
    assert plan(RANGES, [meta(0, 180, tombstones=5, series=100), meta(180, 360)]) == []


def test_no_compact_marks_split_a_run_without_moving_the_ranges():
    metas = [meta(0, 20), meta(20, 40), meta(40, 60), meta(60, 80)]
    assert spans(plan(RANGES, metas, frozenset({metas[1].ulid}))) == []
    metas = [meta(0, 20), meta(20, 40), meta(40, 60), meta(60, 80), meta(80, 100)]
    assert spans(plan(RANGES, metas, frozenset({metas[0].ulid}))) == [(20, 40), (40, 60)]


def test_split_by_range_groups_blocks_by_aligned_range():
    metas = [meta(0, 10), meta(10, 20), meta(50, 60), meta(90, 100)]
    assert [spans(p) for p in split_by_range(metas, 30)] == [[(0, 10), (10, 20)], [(50, 60)], [(90, 100)]]
    # Negative times align downwards too; a block wider than the range is out.
    assert [spans(p) for p in split_by_range([meta(-25, -15), meta(-5, 40)], 30)] == [[(-25, -15)]]


def test_levels_are_thanos_s_block_ranges():
    hour = 3_600_000
    assert levels() == [hour, 2 * hour, 8 * hour, 48 * hour, 14 * 24 * hour]
    assert levels(1) == [hour, 2 * hour]
    with pytest.raises(ValueError, match="level is bigger"):
        levels(5)
