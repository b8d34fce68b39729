"""The ``stats`` object of Prometheus's query answers (``util/stats/query_stats.go``
at v2.42.0, asked for with any non-empty ``stats`` parameter), with the
querier's steps in the place of Prometheus's: the wait for one of
``--query.max-concurrent`` slots is the queue, and the store calls with the
merge of their answers are the preparation (Prometheus's selects)."""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["QueryStats"]


@dataclass(frozen=True)
class QueryStats:
    """Times in seconds; samples as the engine counts them (the core's
    ``QueryStats``: the samples read as 2.42 counts them, and the engine's
    own peak, lower than 2.42's)."""

    exec_queue: float
    preparation: float
    inner_eval: float
    result_sort: float
    #: Everything after the queue.
    eval_total: float
    #: Everything, the queue included.
    exec_total: float
    total_samples: int
    peak_samples: int

    def to_json(self) -> bytes:
        """Prometheus's JSON, its keys in its order. Without per-step samples:
        2.42 gives ``totalQueryableSamplesPerStep`` only for ``stats=all`` with
        ``--enable-feature=promql-per-step-stats``, which Thanos has no flag for."""
        return json.dumps({
            "timings": {
                "evalTotalTime": self.eval_total,
                "resultSortTime": self.result_sort,
                "queryPreparationTime": self.preparation,
                "innerEvalTime": self.inner_eval,
                "execQueueTime": self.exec_queue,
                "execTotalTime": self.exec_total,
            },
            "samples": {"totalQueryableSamples": self.total_samples, "peakSamples": self.peak_samples},
        }, separators=(",", ":")).encode()
