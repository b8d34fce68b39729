"""Which blocks of a group to compact next: Thanos's ``tsdbBasedPlanner``
(``pkg/compact/planner.go`` at v0.26), itself Prometheus's planner of
``tsdb/compact.go`` working on metas instead of directories.

Overlapping blocks come first (vertical compaction). Otherwise blocks are
gathered into the smallest of the ranges (2 h, 8 h, 2 d, 14 d) that they
fill, leaving out the newest block so that a range is compacted only once
nothing more will arrive in it. Last, a block of at least the middle range
whose tombstones cover more than 5 % of its series is rewritten alone."""

from __future__ import annotations

from collections.abc import Sequence

from thanos_rs.block.metadata import Meta

HOUR_MS = 3_600_000
#: Thanos's ``compactions`` set: the block ranges by compaction level, and the
#: default ``--debug.max-compaction-level`` (its last index).
RANGES_MS = (1 * HOUR_MS, 2 * HOUR_MS, 8 * HOUR_MS, 48 * HOUR_MS, 14 * 24 * HOUR_MS)
MAX_COMPACTION_LEVEL = len(RANGES_MS) - 1
#: Share of series with tombstones over which a block is rewritten.
TOMBSTONE_RATIO = 0.05


def levels(max_level: int = MAX_COMPACTION_LEVEL) -> list[int]:
    """The ranges up to ``max_level`` (``compactionSet.levels``)."""
    if not 0 <= max_level < len(RANGES_MS):
        raise ValueError(f"level is bigger then default set of {len(RANGES_MS)}")
    return list(RANGES_MS[: max_level + 1])


def plan(ranges: Sequence[int], metas_by_min_time: Sequence[Meta], no_compact: frozenset[str] = frozenset()) -> list[Meta]:
    """The blocks to compact into one next, or none; ``metas_by_min_time``
    are a group's blocks sorted by min time, ``no_compact`` the ULIDs
    excluded from compaction."""
    if not metas_by_min_time:
        return []
    candidates = [m for m in metas_by_min_time if m.ulid not in no_compact]
    overlapping = select_overlapping(candidates)
    if overlapping:
        return overlapping
    # The newest block stays out: the range it is in may not be complete.
    if metas_by_min_time[-1].ulid not in no_compact:
        candidates = candidates[:-1]
    chosen = select_metas(ranges, no_compact, metas_by_min_time[:-1])
    if chosen:
        return chosen
    for meta in reversed(candidates):
        if meta.max_time - meta.min_time < ranges[len(ranges) // 2]:
            break
        if meta.num_tombstones / (meta.num_series + 1) > TOMBSTONE_RATIO:
            return [meta]
    return []


def select_metas(ranges: Sequence[int], no_compact: frozenset[str], metas_by_min_time: Sequence[Meta]) -> list[Meta]:
    """The first run of at least two blocks that fills one range, or lies
    before the newest block (``selectMetas``); blocks marked no-compact split
    a run without moving the ranges."""
    if len(ranges) < 2 or not metas_by_min_time:
        return []
    high_time = metas_by_min_time[-1].min_time
    for tr in ranges[1:]:
        for part in split_by_range(metas_by_min_time, tr):
            if any(m.compaction_failed for m in part) or len(part) < 2:
                continue
            mint, maxt = part[0].min_time, part[-1].max_time
            # A range not yet full that reaches past the newest block's start
            # may still get blocks.
            if maxt - mint != tr and maxt > high_time:
                continue
            start = 0
            for i, m in enumerate(part):
                if m.ulid not in no_compact:
                    continue
                if i - start > 1:
                    return list(part[start:i])
                start = i + 1
            if len(part) - start > 1:
                return list(part[start:])
    return []


def select_overlapping(metas_by_min_time: Sequence[Meta]) -> list[Meta]:
    """The first run of blocks whose time ranges overlap, in their order
    (``selectOverlappingMetas``)."""
    if len(metas_by_min_time) < 2:
        return []
    out: list[Meta] = []
    global_maxt = metas_by_min_time[0].max_time
    for prev, m in zip(metas_by_min_time, metas_by_min_time[1:]):
        if m.min_time < global_maxt:
            if not out:
                out.append(prev)
            out.append(m)
        elif out:
            break
        global_maxt = max(global_maxt, m.max_time)
    return out


def split_by_range(metas_by_min_time: Sequence[Meta], tr: int) -> list[list[Meta]]:
    """The blocks grouped by the aligned range of width ``tr`` each falls
    into, those wider than their range left out (``splitByRange``): blocks
    [0-10, 10-20, 50-60, 90-100] at 30 give [0-10, 10-20], [50-60], [90-100]."""
    out: list[list[Meta]] = []
    i = 0
    while i < len(metas_by_min_time):
        m = metas_by_min_time[i]
        # Python's floor division rounds toward minus infinity, as the
        # negative branch of Prometheus's computation does by hand.
        t0 = tr * (m.min_time // tr)
        if m.max_time > t0 + tr:
            i += 1
            continue
        group: list[Meta] = []
        while i < len(metas_by_min_time) and metas_by_min_time[i].max_time <= t0 + tr:
            group.append(metas_by_min_time[i])
            i += 1
        if group:
            out.append(group)
    return out
