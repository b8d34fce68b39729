"""One run of the compactor over a bucket (``compactMainFn`` of Thanos's
``cmd/thanos/compact.go`` and ``compact.BucketCompactor``): compact every
group until nothing is left to plan, downsample, apply retention, then
delete what has waited long enough. Blocking: the caller runs it off the event loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from thanos_rs.compact import group as groups
from thanos_rs.compact.clean import clean_aborted_partial_uploads, delete_marked_blocks
from thanos_rs.compact.downsample import DownsampleMetrics, downsample_bucket
from thanos_rs.compact.metrics import CompactMetrics
from thanos_rs.compact.retention import apply_retention
from thanos_rs.compact.syncer import Syncer
from thanos_rs.objstore import Bucket

log = logging.getLogger("compact")


@dataclass(frozen=True)
class CompactorConfig:
    data_dir: Path
    compact: groups.CompactConfig
    retention_ms: Mapping[int, int]
    delete_delay_s: float
    #: ``--compact.concurrency``: groups compacted at once.
    concurrency: int = 1
    downsampling: bool = True
    #: ``--downsample.concurrency``: blocks downsampled at once.
    downsample_concurrency: int = 1


class BucketCompactor:
    def __init__(self, bucket: Bucket, syncer: Syncer, config: CompactorConfig, metrics: CompactMetrics,
                 downsample_metrics: DownsampleMetrics) -> None:
        self.bucket = bucket
        self.syncer = syncer
        self.config = config
        self.metrics = metrics
        self.downsample_metrics = downsample_metrics
        self.workdir = config.data_dir / "compact"
        self.downsample_dir = config.data_dir / "downsample"
        # The cleanup of --compact.cleanup-interval and a run's own share the
        # syncer's state.
        self._clean_lock = threading.Lock()

    def run(self) -> None:
        """One iteration; raises :class:`HaltError` or :class:`CompactionError`."""
        self.compact()
        if self.config.downsampling:
            # Two passes: the 5 m blocks of the first may be due for 1 h.
            for which in ("first", "second"):
                log.info("start %s pass of downsampling", which)
                with self._clean_lock:
                    self.syncer.sync_metas()
                self.downsample_dir.mkdir(parents=True, exist_ok=True)
                downsample_bucket(self.bucket, self.syncer.metas.values(), self.downsample_dir,
                                  self.config.compact.hash_func, self.downsample_metrics,
                                  self.config.downsample_concurrency)
            log.info("downsampling iterations done")
        else:
            log.info("downsampling was explicitly disabled")
        with self._clean_lock:
            self.syncer.sync_metas()
            apply_retention(self.bucket, self.syncer.metas.values(), self.config.retention_ms, self.metrics)
        self.clean()

    def compact(self) -> None:
        """Compacts every group until no plan is left (``BucketCompactor.Compact``)."""
        while True:
            with self._clean_lock:
                self.syncer.sync_metas()
                self.syncer.garbage_collect()
            todo = groups.groups(self.syncer.metas.values())
            with ThreadPoolExecutor(max(1, self.config.concurrency)) as pool:
                # list() re-raises the first failure, a halt included.
                rerun = list(pool.map(
                    lambda g: groups.compact(g, self.bucket, self.workdir, self.config.compact, self.metrics), todo))
            if not any(rerun):
                log.info("compaction iterations done")
                return

    def clean(self) -> None:
        """Deletes partial uploads and marked blocks whose time has come."""
        with self._clean_lock:
            self.syncer.sync_metas()
            clean_aborted_partial_uploads(self.bucket, self.syncer.partial, self.metrics)
            delete_marked_blocks(self.bucket, self.syncer.deletion_marks, self.config.delete_delay_s, self.metrics)
            self.metrics.cleanups.inc()
