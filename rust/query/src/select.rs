//! Which stores a select asks and what it asks them, as Thanos v0.26's
//! querier and proxy do (`pkg/query/querier.go`, `pkg/store/proxy.go`).

use thanos_core::labels::{Labels, Matcher};
use thanos_promql::engine::storage::SelectHints;
use thanos_store::pb::thanos::{Aggr, PartialResponseStrategy, SeriesRequest};
use thanos_store::storepb::to_proto;

/// What the querier knows about a store from its last Info answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreInfo {
    /// The external label sets the store announces; empty when it has none.
    pub label_sets: Vec<Labels>,
    pub min_time: i64,
    pub max_time: i64,
}

impl StoreInfo {
    /// Whether a select over `[mint, maxt]` with `matchers` can find data in the
    /// store: the time ranges overlap and the label sets can match.
    pub fn matches(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> bool {
        mint <= self.max_time && maxt >= self.min_time && label_sets_match(&self.label_sets, matchers)
    }
}

/// Thanos's `labelSetsMatch`: a store without label sets always matches;
/// otherwise one of its sets must be compatible with every matcher, where a
/// matcher only counts against a label the set actually has. So
/// `{cluster="eu1"}` rules out the us1 stores before any call is made.
pub fn label_sets_match(sets: &[Labels], matchers: &[Matcher]) -> bool {
    sets.is_empty()
        || sets.iter().any(|set| {
            matchers.iter().all(|m| {
                let v = set.get(&m.name);
                v.is_empty() || m.matches(v)
            })
        })
}

/// The downsampled aggregates a function reads (`aggrsFromFunc`). Sidecars
/// serve raw data and ignore them; store gateways pick chunks by them.
pub fn aggregates_for(func: &str) -> Vec<Aggr> {
    match func {
        "min" => vec![Aggr::Min],
        "max" => vec![Aggr::Max],
        "count" => vec![Aggr::Count],
        "increase" | "rate" | "irate" | "resets" => vec![Aggr::Counter],
        f if f.starts_with("min_") => vec![Aggr::Min],
        f if f.starts_with("max_") => vec![Aggr::Max],
        f if f.starts_with("count_") => vec![Aggr::Count],
        f if f.starts_with("sum_") => vec![Aggr::Sum],
        _ => vec![Aggr::Count, Aggr::Sum],
    }
}

/// Functions whose replicas are deduplicated as counters: a replica switched
/// to must not look like a counter reset (Thanos's `counterErrAdjust`).
pub fn is_counter_func(func: &str) -> bool {
    matches!(func, "rate" | "increase" | "irate" | "resets")
}

/// How the querier asks its stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestOpts {
    pub partial_response: bool,
    pub skip_chunks: bool,
    /// Series per `SeriesBatch` message; 0 asks for one series per message, as
    /// a v0.26 querier does. Stores that predate batching ignore it.
    pub response_batch_size: i64,
    /// The coarsest resolution of downsampled data the stores may answer
    /// from, ms (the `max_source_resolution` parameter); 0 reads raw data only.
    pub max_resolution_window: i64,
}

/// The `SeriesRequest` of a select.
pub fn series_request(hints: &SelectHints, matchers: &[Matcher], opts: RequestOpts) -> SeriesRequest {
    SeriesRequest {
        min_time: hints.start,
        max_time: hints.end,
        matchers: matchers.iter().map(to_proto).collect(),
        aggregates: aggregates_for(&hints.func).into_iter().map(|a| a as i32).collect(),
        partial_response_disabled: !opts.partial_response,
        partial_response_strategy: if opts.partial_response {
            PartialResponseStrategy::Warn
        } else {
            PartialResponseStrategy::Abort
        } as i32,
        skip_chunks: opts.skip_chunks,
        step: hints.step,
        range: hints.range,
        response_batch_size: opts.response_batch_size,
        max_resolution_window: opts.max_resolution_window,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_core::labels::MatchOp;

    fn eq(n: &str, v: &str) -> Matcher {
        Matcher::equal(n, v)
    }

    fn re(n: &str, v: &str) -> Matcher {
        Matcher::new(MatchOp::Regex, n, v).unwrap()
    }

    fn store(sets: &[&[(&str, &str)]], min_time: i64, max_time: i64) -> StoreInfo {
        StoreInfo {
            label_sets: sets.iter().map(|s| Labels::from_pairs(s.iter().copied())).collect(),
            min_time,
            max_time,
        }
    }

    #[test]
    fn time_ranges_must_overlap() {
        let s = store(&[], 100, 200);
        assert!(s.matches(0, 100, &[]));
        assert!(s.matches(200, 300, &[]));
        assert!(!s.matches(0, 99, &[]));
        assert!(!s.matches(201, 300, &[]));
    }

    #[test]
    fn external_labels_rule_out_stores() {
        let us1 = store(&[&[("cluster", "us1"), ("replica", "0")]], i64::MIN, i64::MAX);
        assert!(us1.matches(0, 1, &[eq("__name__", "up")]));
        assert!(!us1.matches(0, 1, &[eq("cluster", "eu1")]));
        assert!(us1.matches(0, 1, &[re("cluster", "us.*")]));
        // A matcher on a label the set lacks does not rule the store out.
        assert!(us1.matches(0, 1, &[eq("job", "x")]));
        // No label sets: always asked.
        assert!(store(&[], 0, 10).matches(0, 1, &[eq("cluster", "eu1")]));
        // Any one compatible set is enough.
        let two = store(&[&[("cluster", "us1")], &[("cluster", "eu1")]], 0, 10);
        assert!(two.matches(0, 1, &[eq("cluster", "eu1")]));
    }

    #[test]
    fn aggregates_follow_the_function() {
        assert_eq!(aggregates_for("rate"), vec![Aggr::Counter]);
        assert_eq!(aggregates_for("max_over_time"), vec![Aggr::Max]);
        assert_eq!(aggregates_for("sum_over_time"), vec![Aggr::Sum]);
        assert_eq!(aggregates_for(""), vec![Aggr::Count, Aggr::Sum]);
    }

    #[test]
    fn requests_carry_hints_and_strategy() {
        let hints = SelectHints { start: 1, end: 2, step: 3, range: 4, func: "rate".into(), ..Default::default() };
        let opts = RequestOpts {
            partial_response: false,
            skip_chunks: false,
            response_batch_size: 64,
            max_resolution_window: 5,
        };
        let r = series_request(&hints, &[re("job", "a|b")], opts);
        assert_eq!((r.min_time, r.max_time, r.step, r.range, r.max_resolution_window), (1, 2, 3, 4, 5));
        assert!(r.partial_response_disabled);
        assert_eq!(r.partial_response_strategy, PartialResponseStrategy::Abort as i32);
        assert_eq!(r.aggregates, vec![Aggr::Counter as i32]);
        assert_eq!(thanos_store::storepb::matchers_from_proto(&r.matchers).unwrap(), vec![re("job", "a|b")]);
    }
}
