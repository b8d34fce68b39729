"""Compaction groups (Thanos's ``compact.Group`` at v0.26): the blocks of one
origin, the same external labels and resolution, compacted together; and
one step of a group: plan, download, merge, upload, mark the sources."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from thanos_rs import _core, gofmt
from thanos_rs.block import metadata
from thanos_rs.block import ulid as ulids
from thanos_rs.block.markers import mark_for_deletion
from thanos_rs.block.metadata import Meta
from thanos_rs.block.upload import segment_files, upload
from thanos_rs.compact import planner
from thanos_rs.compact.metrics import CompactMetrics
from thanos_rs.errors import BucketError, CompactionError, CorruptBlockError, HaltError, ThanosRsError
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.block import download

log = logging.getLogger("compact")

#: ``metadata.CompactorSource``.
COMPACTOR_SOURCE = "compactor"
#: The file Prometheus writes into every block; Thanos uploads none.
TOMBSTONES_FILENAME = "tombstones"


@dataclass
class Group:
    key: str
    labels: dict[str, str]
    resolution: int
    metas: list[Meta] = field(default_factory=list)

    def __str__(self) -> str:
        pairs = ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{self.resolution}@{{{pairs}}}"


def groups(metas: Iterable[Meta]) -> list[Group]:
    """The blocks by group, each group's by min time; groups by key."""
    by_key: dict[str, Group] = {}
    for m in metas:
        g = by_key.setdefault(m.group_key, Group(m.group_key, m.labels, m.resolution))
        g.metas.append(m)
    for g in by_key.values():
        g.metas.sort(key=lambda m: m.min_time)
    return [by_key[k] for k in sorted(by_key)]


@dataclass(frozen=True)
class CompactConfig:
    ranges: Sequence[int]
    vertical: bool
    hash_func: str = ""
    #: ``--deduplication.func``: "" (one sample per timestamp) or "penalty".
    dedup_func: str = ""
    #: Blocks downloaded or uploaded at once per block's files.
    concurrency: int = 1


def overlaps(metas: Sequence[Meta]) -> str:
    """The blocks among ``metas`` (sorted by min time) whose ranges overlap,
    as Prometheus's ``Overlaps.String`` words them; empty when none do."""
    runs: list[list[Meta]] = []
    rest = list(metas)
    while True:
        run = planner.select_overlapping(rest)
        if not run:
            break
        runs.append(run)
        rest = rest[rest.index(run[-1]) + 1:]
    return "\n".join(
        f"[mint: {min(m.min_time for m in run)}, maxt: {max(m.max_time for m in run)}, "
        f"range: {_range(min(m.min_time for m in run), max(m.max_time for m in run))}, blocks: {len(run)}]: "
        + ", ".join(f"<ulid: {m.ulid}, mint: {m.min_time}, maxt: {m.max_time}, range: {_range(m.min_time, m.max_time)}>"
                    for m in run)
        for run in runs)


def _range(mint: int, maxt: int) -> str:
    return gofmt.duration_ms((maxt - mint) // 1000 * 1000)


def compact(group: Group, bucket: Bucket, workdir: Path, config: CompactConfig, metrics: CompactMetrics) -> bool:
    """One compaction of ``group`` (``Group.Compact``); True when it made a
    block (or dropped empty ones), so that planning runs again. The work
    directory is removed on success and kept on failure."""
    metrics.runs_started.labels(group.key).inc()
    subdir = workdir / group.key
    try:
        subdir.mkdir(parents=True, exist_ok=True)
        rerun = _compact(group, bucket, subdir, config, metrics)
    except ThanosRsError:
        metrics.failures.labels(group.key).inc()
        raise
    shutil.rmtree(subdir, ignore_errors=True)
    metrics.runs_completed.labels(group.key).inc()
    return rerun


def _compact(group: Group, bucket: Bucket, subdir: Path, config: CompactConfig, metrics: CompactMetrics) -> bool:
    overlapping = overlaps(group.metas)
    if overlapping and not config.vertical:
        raise HaltError(f"group {group}: pre compaction overlap check: overlaps found while gathering blocks. "
                        f"{overlapping}")
    plan = planner.plan(config.ranges, group.metas)
    if not plan:
        return False
    ids = [m.ulid for m in plan]
    log.info("compaction available and planned; downloading blocks group=%s plan=%s", group, ids)
    seen: set[str] = set()
    for m in plan:
        if seen & set(m.sources):
            raise HaltError(f"group {group}: overlapping sources detected for plan {ids}")
        seen |= set(m.sources)
    begin = time.monotonic()
    dirs = []
    for m in plan:
        try:
            download(bucket, m.ulid, subdir / m.ulid, config.concurrency)
        except BucketError as e:
            raise CompactionError(f"group {group}: download block {m.ulid}: {e}") from None
        dirs.append(subdir / m.ulid)
    log.info("downloaded and verified blocks; compacting blocks group=%s duration=%.3fs", group,
             time.monotonic() - begin)

    begin = time.monotonic()
    new = ulids.new()
    try:
        document = json.loads(_core.compact_blocks(dirs, subdir, new, config.dedup_func))
    except ThanosRsError as e:
        raise HaltError(f"group {group}: compact blocks {ids}: {e}") from None
    bdir = subdir / new
    if document["compaction"].get("deletable"):
        # Prometheus makes no block without samples: the empty sources go.
        log.info("compacted block would have no samples, deleting source blocks group=%s blocks=%s", group, ids)
        shutil.rmtree(bdir, ignore_errors=True)
        for m in plan:
            if m.num_samples == 0:
                _mark(bucket, m.ulid, metrics)
        return True
    metrics.compactions.labels(group.key).inc()
    if overlapping:
        metrics.vertical_compactions.labels(group.key).inc()
    log.info("compacted blocks new=%s blocks=%s duration=%.3fs overlapping_blocks=%s", new, ids,
             time.monotonic() - begin, bool(overlapping))

    # The section Thanos's compactor writes (metadata.InjectThanos).
    document["thanos"] = {
        "version": 1,
        "labels": group.labels,
        "downsample": {"resolution": group.resolution},
        "source": COMPACTOR_SOURCE,
        "segment_files": segment_files(bdir),
    }
    metadata.write(bdir, document)
    (bdir / TOMBSTONES_FILENAME).unlink(missing_ok=True)
    if not config.vertical:
        new_meta = Meta.read(bdir)
        rest = sorted([m for m in group.metas if m.ulid not in ids] + [new_meta], key=lambda m: m.min_time)
        if overlaps(rest):
            raise HaltError(f"group {group}: resulted compacted block {new} overlaps with something: {overlaps(rest)}")

    begin = time.monotonic()
    try:
        upload(bucket, bdir, document, config.hash_func, config.concurrency)
    except (BucketError, CorruptBlockError, OSError) as e:
        raise CompactionError(f"group {group}: upload of {new} failed: {e}") from None
    log.info("uploaded block result_block=%s duration=%.3fs", new, time.monotonic() - begin)
    # Marked so that the next plan leaves them out; the new block holds them.
    for m in plan:
        shutil.rmtree(subdir / m.ulid, ignore_errors=True)
        _mark(bucket, m.ulid, metrics)
        metrics.garbage_collected.inc()
    return True


def _mark(bucket: Bucket, u: str, metrics: CompactMetrics) -> None:
    log.info("marking compacted block for deletion old_block=%s", u)
    try:
        if mark_for_deletion(bucket, u, "source of compacted block"):
            metrics.marked_for_deletion()
    except BucketError as e:
        raise CompactionError(f"mark block {u} for deletion from bucket: {e}") from None
