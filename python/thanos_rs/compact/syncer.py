"""The compactor's view of the bucket (Thanos's ``compact.Syncer`` and the
meta filters ``cmd/thanos/compact.go`` gives its fetcher, in that order):
blocks out of ``--min-time``/``--max-time``; fresh blocks younger than
``--consistency-delay`` (an upload may still be settling; the compactor's
own blocks are exempt); blocks marked for deletion longer ago than half the
``--delete-delay``; the replica labels of ``--deduplication.replica-label``
taken off; and blocks whose sources another block already holds
(duplicates, left by a compaction whose marks were not all written)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from thanos_rs.block import ulid as ulids
from thanos_rs.block.markers import DeletionMark, mark_for_deletion
from thanos_rs.block.metadata import Meta
from thanos_rs.compact.metrics import CompactMetrics
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.block import fetch

log = logging.getLogger("compact")

#: ``thanos.source`` values exempt from the consistency delay (the
#: compactor's and the bucket tools' blocks are complete when they appear).
TRUSTED_SOURCES = ("compactor", "compactor.repair", "bucket.repair")


@dataclass(frozen=True)
class SyncConfig:
    consistency_delay_s: float
    delete_delay_s: float
    replica_labels: Sequence[str] = ()
    min_time_ms: int = -(1 << 63)
    max_time_ms: int = (1 << 63) - 1
    concurrency: int = 32


class Syncer:
    """Holds the last sync: ``metas`` to plan with, ``partial`` uploads,
    every deletion mark seen, and the duplicates to garbage collect."""

    def __init__(self, bucket: Bucket, config: SyncConfig, metrics: CompactMetrics) -> None:
        self.bucket = bucket
        self.config = config
        self.metrics = metrics
        self.metas: dict[str, Meta] = {}
        self.partial: dict[str, str] = {}
        self.deletion_marks: dict[str, DeletionMark] = {}
        self.duplicates: list[str] = []

    def sync_metas(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        blocks = fetch(self.bucket, self.config.concurrency)
        self.partial = blocks.partial
        self.deletion_marks = blocks.marked_for_deletion
        cfg = self.config
        metas: dict[str, Meta] = {}
        for u, m in blocks.metas.items():
            if m.max_time < cfg.min_time_ms or m.min_time > cfg.max_time_ms:
                continue
            if now * 1000 - ulids.time_ms(u) < cfg.consistency_delay_s * 1000 and m.source not in TRUSTED_SOURCES:
                continue
            mark = blocks.marked_for_deletion.get(u)
            if mark is not None and now - mark.deletion_time > cfg.delete_delay_s / 2:
                continue
            if cfg.replica_labels:
                m = dataclasses.replace(m, labels={k: v for k, v in m.labels.items() if k not in cfg.replica_labels})
            metas[u] = m
        self.duplicates = duplicates(list(metas.values()))
        for u in self.duplicates:
            del metas[u]
        self.metas = metas

    def garbage_collect(self) -> None:
        """Marks the duplicates of the last sync for deletion: their data is
        in the blocks that hold their sources."""
        for u in self.duplicates:
            if u in self.deletion_marks:
                continue
            log.info("marking outdated block for deletion block=%s", u)
            if mark_for_deletion(self.bucket, u, "outdated block"):
                self.metrics.marked_for_deletion()
            self.metrics.garbage_collected.inc()


def duplicates(metas: list[Meta]) -> list[str]:
    """The blocks whose sources another block of the same resolution holds
    (``DeduplicateFilter``): of blocks with the same sources the one with
    the smallest ULID stays."""
    out: list[str] = []
    for resolution in {m.resolution for m in metas}:
        kept: list[set[str]] = []
        same = sorted((m for m in metas if m.resolution == resolution), key=lambda m: (-len(m.sources), m.ulid))
        for m in same:
            sources = set(m.sources)
            if any(sources <= k for k in kept):
                out.append(m.ulid)
            else:
                kept.append(sources)
    return sorted(out)
