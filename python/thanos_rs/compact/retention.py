"""Retention by resolution (``compact.ApplyRetentionPolicyByResolution``):
a block whose newest sample is older than its resolution's retention is
marked for deletion. A retention of 0 keeps that resolution forever."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

from thanos_rs import gofmt
from thanos_rs.block.markers import mark_for_deletion
from thanos_rs.block.metadata import Meta
from thanos_rs.compact.metrics import CompactMetrics
from thanos_rs.objstore import Bucket

log = logging.getLogger("compact")


def apply_retention(bucket: Bucket, metas: Iterable[Meta], retention_ms: Mapping[int, int], metrics: CompactMetrics,
                    now: float | None = None) -> list[str]:
    """Marks the blocks past retention; returns their ULIDs."""
    now_ms = int((time.time() if now is None else now) * 1000)
    marked = []
    for m in metas:
        keep = retention_ms.get(m.resolution, 0)
        if keep == 0 or m.max_time >= now_ms - keep:
            continue
        log.info("applying retention: marking block for deletion id=%s maxTime=%s", m.ulid,
                 gofmt.rfc3339(m.max_time // 1000))
        if mark_for_deletion(bucket, m.ulid, f"block exceeding retention of {gofmt.duration_ms(keep)}", now):
            metrics.marked_for_deletion()
        marked.append(m.ulid)
    return marked
