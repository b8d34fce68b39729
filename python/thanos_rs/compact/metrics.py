"""The compactor's metrics, named as Thanos's (``cmd/thanos/compact.go`` and
``pkg/compact/compact.go`` at v0.26)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from thanos_rs.block.markers import DELETION_MARK_FILENAME


class CompactMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.halted = Gauge("thanos_compact_halted", "Set to 1 if the compactor halted due to an unexpected error.",
                            registry=registry)
        self.retried = Counter("thanos_compact_retries_total",
                               "Total number of retries after retriable compactor error.", registry=registry)
        self.iterations = Counter("thanos_compact_iterations_total",
                                  "Total number of iterations that were executed successfully.", registry=registry)
        self.cleanups = Counter("thanos_compact_block_cleanup_loops_total",
                                "Total number of concurrent cleanup loops of partially uploaded blocks and marked "
                                "blocks that were executed successfully.", registry=registry)
        self.partial_upload_delete_attempts = Counter(
            "thanos_compact_aborted_partial_uploads_deletion_attempts_total",
            "Total number of started deletions of blocks that are assumed aborted and only partially uploaded.",
            registry=registry)
        self.blocks_cleaned = Counter("thanos_compact_blocks_cleaned_total",
                                      "Total number of blocks deleted in compactor.", registry=registry)
        self.block_cleanup_failures = Counter("thanos_compact_block_cleanup_failures_total",
                                              "Failures encountered while deleting blocks in compactor.",
                                              registry=registry)
        self.blocks_marked = Counter("thanos_compact_blocks_marked_total", "Total number of blocks marked in compactor.",
                                     ["marker", "reason"], registry=registry)
        self.garbage_collected = Counter("thanos_compact_garbage_collected_blocks_total",
                                         "Total number of blocks marked for deletion by compactor.", registry=registry)
        group = ["group"]
        self.compactions = Counter("thanos_compact_group_compactions_total",
                                   "Total number of group compaction attempts that resulted in a new block.",
                                   group, registry=registry)
        self.runs_started = Counter("thanos_compact_group_compaction_runs_started_total",
                                    "Total number of group compaction attempts.", group, registry=registry)
        self.runs_completed = Counter("thanos_compact_group_compaction_runs_completed_total",
                                      "Total number of group completed compaction runs. This also includes compactor "
                                      "group runs that resulted with no compaction.", group, registry=registry)
        self.failures = Counter("thanos_compact_group_compactions_failures_total",
                                "Total number of failed group compactions.", group, registry=registry)
        self.vertical_compactions = Counter("thanos_compact_group_vertical_compactions_total",
                                            "Total number of group compaction attempts that resulted in a new block "
                                            "based on overlapping blocks.", group, registry=registry)

    def marked_for_deletion(self) -> None:
        self.blocks_marked.labels(DELETION_MARK_FILENAME, "").inc()
