//! A PromQL query over StoreAPIs, in the steps the caller drives: plan it, ask
//! for the store calls its selects need, hand back each store's answer, and
//! evaluate. The caller (Python) does the network I/O in between.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use thanos_core::labels::{matches_external_labels, Labels};
use thanos_core::Result;
use thanos_promql::engine::stats::QueryStats;
use thanos_promql::engine::value::QueryValue;
use thanos_promql::engine::{EngineOpts, Query};
use thanos_store::pb::thanos::SeriesRequest;

use crate::downsampled;
use crate::merge::merge;
use crate::response::StoreSet;
use crate::select::{aggregates_for, is_counter_func, series_request, RequestOpts, StoreInfo};
use crate::series::{series_set, DedupOpts};

/// The warning of a select no store can answer, as Thanos v0.26 words it.
pub const NO_STORE_MATCHED: &str = "No StoreAPIs matched for this query";

/// One call a query needs: a select's request to one store.
#[derive(Debug, PartialEq)]
pub struct StoreCall {
    pub select: usize,
    pub store: usize,
    pub request: SeriesRequest,
}

/// What executing a query cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExecStats {
    /// Merging and deduplicating the stores' answers: with the fetch the
    /// caller times, Prometheus's `queryPreparationTime` (its selects).
    pub merge: Duration,
    pub eval: QueryStats,
}

pub struct DistributedQuery {
    query: Query,
    /// The labels this querier announces (`--selector-label`).
    selector_labels: Labels,
    answers: Vec<Vec<StoreSet>>,
    warnings: Vec<String>,
}

impl DistributedQuery {
    /// An instant query at `t` (ms).
    pub fn instant(opts: EngineOpts, expr: &str, t: i64, selector_labels: Labels) -> Result<Self> {
        Ok(Self::new(Query::instant(opts, expr, t)?, selector_labels))
    }

    /// A range query, checked as Prometheus's API checks it.
    pub fn range(
        opts: EngineOpts,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
        selector_labels: Labels,
    ) -> Result<Self> {
        Ok(Self::new(Query::range(opts, expr, start, end, step)?, selector_labels))
    }

    fn new(query: Query, selector_labels: Labels) -> Self {
        let answers = query.selects().iter().map(|_| Vec::new()).collect();
        DistributedQuery { query, selector_labels, answers, warnings: Vec::new() }
    }

    /// The store calls of every select: each store whose time range and label
    /// sets can match. A select no store matches gets a warning; one that the
    /// selector labels rule out needs no call and finds nothing.
    pub fn calls(&mut self, stores: &[StoreInfo], opts: RequestOpts) -> Vec<StoreCall> {
        let mut calls = Vec::new();
        for (i, select) in self.query.selects().iter().enumerate() {
            let Some(matchers) = matches_external_labels(&select.matchers, &self.selector_labels) else {
                continue;
            };
            let h = &select.hints;
            let before = calls.len();
            for (store, info) in stores.iter().enumerate() {
                if info.matches(h.start, h.end, &matchers) {
                    calls.push(StoreCall { select: i, store, request: series_request(h, &matchers, opts) });
                }
            }
            if calls.len() == before && !self.warnings.iter().any(|w| w == NO_STORE_MATCHED) {
                self.warnings.push(NO_STORE_MATCHED.to_string());
            }
        }
        calls
    }

    /// Records one store's answer to a select.
    pub fn add_answer(&mut self, select: usize, answer: StoreSet) {
        self.answers[select].push(answer);
    }

    /// A warning from outside the answers, such as a store that failed under
    /// partial response.
    pub fn add_warning(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// Merges the answers, deduplicates replicas by `replica_labels` (none: no
    /// deduplication) and evaluates. Returns the value, the warnings and
    /// what it cost.
    pub fn exec(
        mut self,
        replica_labels: &[String],
        cancel: Option<&AtomicBool>,
    ) -> Result<(QueryValue, Vec<String>, ExecStats)> {
        let merging = Instant::now();
        let answers = std::mem::take(&mut self.answers);
        for (i, sets) in answers.into_iter().enumerate() {
            let mut merged = merge(sets);
            self.warnings.extend(merged.warnings);
            let hints = &self.query.selects()[i].hints;
            downsampled::read(&mut merged.series, &aggregates_for(&hints.func))?;
            let opts = DedupOpts { replica_labels: replica_labels.to_vec(), counter: is_counter_func(&hints.func) };
            let set = series_set(merged.series, &opts, hints.start, hints.end);
            self.query.set_series(i, set);
        }
        let merge = merging.elapsed();
        let (value, eval) = self.query.exec_with_stats(cancel)?;
        Ok((value, self.warnings, ExecStats { merge, eval }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{ChunkRef, StoreSeries};
    use bytes::Bytes;
    use thanos_core::chunkenc::encode;

    fn info(pairs: &[(&str, &str)]) -> StoreInfo {
        StoreInfo {
            label_sets: vec![Labels::from_pairs(pairs.iter().copied())],
            min_time: i64::MIN,
            max_time: i64::MAX,
        }
    }

    fn answer(pairs: &[(&str, &str)], points: &[(i64, f64)]) -> StoreSet {
        let ts: Vec<i64> = points.iter().map(|p| p.0).collect();
        let vs: Vec<f64> = points.iter().map(|p| p.1).collect();
        let chunk = ChunkRef::raw(ts[0], ts[ts.len() - 1], Bytes::from(encode(&ts, &vs).unwrap()));
        StoreSet {
            series: vec![StoreSeries { labels: Labels::from_pairs(pairs.iter().copied()), chunks: vec![chunk] }],
            warnings: vec![],
        }
    }

    const OPTS: RequestOpts =
        RequestOpts { partial_response: true, skip_chunks: false, response_batch_size: 0, max_resolution_window: 0 };

    #[test]
    fn the_tutorial_answers_three_series_with_dedup_and_five_without() {
        let stores = [
            info(&[("cluster", "eu1"), ("replica", "0")]),
            info(&[("cluster", "us1"), ("replica", "0")]),
            info(&[("cluster", "us1"), ("replica", "1")]),
        ];
        let run = |replica_labels: &[String]| {
            let mut q = DistributedQuery::instant(EngineOpts::default(), "up", 60_000, Labels::new()).unwrap();
            let calls = q.calls(&stores, OPTS);
            assert_eq!(calls.len(), 3);
            for c in calls {
                let ext = &stores[c.store].label_sets[0];
                for job in ["a", "b"] {
                    if ext.get("cluster") == "eu1" && job == "b" {
                        continue;
                    }
                    let mut pairs = vec![("__name__", "up"), ("job", job)];
                    pairs.extend(ext.iter().map(|l| (l.name.as_str(), l.value.as_str())));
                    q.add_answer(c.select, answer(&pairs, &[(30_000, 1.0)]));
                }
            }
            match q.exec(replica_labels, None).unwrap().0 {
                QueryValue::Vector(v) => v.len(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(run(&["replica".to_string()]), 3);
        assert_eq!(run(&[]), 5);
    }

    #[test]
    fn external_labels_pick_the_stores_and_unmatched_selects_warn() {
        let stores = [info(&[("cluster", "eu1")]), info(&[("cluster", "us1")])];
        let mut q = DistributedQuery::instant(EngineOpts::default(), r#"up{cluster="us1"}"#, 0, Labels::new()).unwrap();
        let calls = q.calls(&stores, OPTS);
        assert_eq!(calls.iter().map(|c| c.store).collect::<Vec<_>>(), vec![1]);
        let mut q = DistributedQuery::instant(EngineOpts::default(), r#"up{cluster="ap1"}"#, 0, Labels::new()).unwrap();
        assert!(q.calls(&stores, OPTS).is_empty());
        let (_, warnings, _) = q.exec(&[], None).unwrap();
        assert_eq!(warnings, vec![NO_STORE_MATCHED]);
    }

    #[test]
    fn selector_labels_rule_out_selects() {
        let stores = [info(&[])];
        let sel = Labels::from_pairs([("region", "eu")]);
        let mut q = DistributedQuery::instant(EngineOpts::default(), r#"up{region="us"}"#, 0, sel.clone()).unwrap();
        assert!(q.calls(&stores, OPTS).is_empty());
        let mut q = DistributedQuery::instant(EngineOpts::default(), r#"up{region="eu"}"#, 0, sel).unwrap();
        let calls = q.calls(&stores, OPTS);
        assert_eq!(calls[0].request.matchers.len(), 1, "the selector label is not sent on");
    }
}
