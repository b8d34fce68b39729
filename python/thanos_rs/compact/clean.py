"""What the compactor deletes for good: blocks marked for deletion longer
ago than ``--delete-delay`` (``compact.BlocksCleaner``), and uploads left
partial for longer than two days (``BestEffortCleanAbortedPartialUploads``),
by then surely abandoned."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from thanos_rs.block import ulid as ulids
from thanos_rs.block.markers import DeletionMark
from thanos_rs.compact.metrics import CompactMetrics
from thanos_rs.errors import BucketError
from thanos_rs.objstore import Bucket
from thanos_rs.objstore.block import delete_block

log = logging.getLogger("compact")

#: ``compact.PartialUploadThresholdAge``.
PARTIAL_UPLOAD_THRESHOLD_S = 2 * 24 * 3600


def delete_marked_blocks(bucket: Bucket, marks: Mapping[str, DeletionMark], delete_delay_s: float,
                         metrics: CompactMetrics, now: float | None = None) -> list[str]:
    now = time.time() if now is None else now
    due = [u for u, mark in sorted(marks.items()) if now - mark.deletion_time > delete_delay_s]
    return [u for u in due if _delete(bucket, u, metrics, "block marked for deletion")]


def clean_aborted_partial_uploads(bucket: Bucket, partial: Mapping[str, str], metrics: CompactMetrics,
                                  now: float | None = None) -> list[str]:
    now_ms = (time.time() if now is None else now) * 1000
    due = [u for u in sorted(partial) if now_ms - ulids.time_ms(u) > PARTIAL_UPLOAD_THRESHOLD_S * 1000]
    metrics.partial_upload_delete_attempts.inc(len(due))
    return [u for u in due if _delete(bucket, u, metrics, "aborted partial upload")]


def _delete(bucket: Bucket, u: str, metrics: CompactMetrics, what: str) -> bool:
    try:
        delete_block(bucket, u)
    except BucketError as e:
        metrics.block_cleanup_failures.inc()
        log.warning("failed to delete %s; will retry block=%s err=%s", what, u, e)
        return False
    metrics.blocks_cleaned.inc()
    log.info("deleted %s block=%s", what, u)
    return True
