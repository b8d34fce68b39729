//! What evaluating a query cost, for the `stats` of Prometheus's HTTP API
//! (`util/stats/query_stats.go` at v2.42.0): the evaluation's timings and its
//! sample counts.

use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QueryStats {
    /// Evaluating the expression (Prometheus's `innerEvalTime`).
    pub inner_eval: Duration,
    /// Sorting a range query's series (`resultSortTime`; instant queries do not sort).
    pub result_sort: Duration,
    /// `totalQueryableSamples`: the samples selectors read, counted where
    /// Prometheus 2.42's evaluator counts them: one per step a vector
    /// selector picks a sample at, each step's window of a range function,
    /// and a step-invariant node's count once per step.
    pub total_samples: i64,
    /// `peakSamples`: the most samples held at once, as checked against
    /// `max_samples`. Our evaluator holds fewer at a time than 2.42's (which
    /// keeps every input and output of a step-by-step evaluation), so this is
    /// smaller than Prometheus's figure for the same query.
    pub peak_samples: usize,
}

#[cfg(test)]
mod tests {
    use thanos_core::labels::Labels;

    use crate::engine::storage::MemStorage;
    use crate::engine::{EngineOpts, Query};

    /// `x`: a sample every 15 s from 0 to 600 s.
    fn storage() -> MemStorage {
        let mut s = MemStorage::new();
        let ts: Vec<i64> = (0..=40).map(|i| i * 15_000).collect();
        s.append(Labels::from_pairs([("__name__", "x")]), &ts, &vec![1.0; ts.len()]).unwrap();
        s
    }

    fn total_samples(expr: &str, start: i64, end: i64, step: i64) -> i64 {
        let mut q = if step == 0 {
            Query::instant(EngineOpts::default(), expr, start).unwrap()
        } else {
            Query::range(EngineOpts::default(), expr, start, end, step).unwrap()
        };
        q.select_from(&storage()).unwrap();
        q.exec_with_stats(None).unwrap().1.total_samples
    }

    #[test]
    fn samples_read_are_counted_where_prometheus_2_42_counts_them() {
        // One per step a selector picks a sample at.
        assert_eq!(total_samples("x", 300_000, 300_000, 0), 1);
        assert_eq!(total_samples("x", 0, 120_000, 60_000), 3);
        // A step-invariant node's reads, once per step.
        assert_eq!(total_samples("x @ 300", 0, 120_000, 60_000), 3);
        // Each step's window: [240 s, 300 s] holds 5.
        assert_eq!(total_samples("rate(x[1m])", 300_000, 300_000, 0), 5);
        // A subquery on its own counts its reads; as a function's range, only
        // the windows over its result (steps 240, 270 and 300 s).
        assert_eq!(total_samples("x[1m:30s]", 300_000, 300_000, 0), 3);
        assert_eq!(total_samples("max_over_time(x[1m:30s])", 300_000, 300_000, 0), 3);
        assert_eq!(total_samples("1 + 2", 300_000, 300_000, 0), 0);
    }
}
