//! The metadata APIs over StoreAPIs: `/api/v1/series` (label sets of the
//! matching series) and `/api/v1/labels`, `/api/v1/label/<name>/values`
//! (names and values merged from every store).

use std::collections::BTreeSet;

use bytes::Bytes;
use prost::Message;
use thanos_core::labels::{Labels, Matcher};
use thanos_core::{Error, ErrorKind, Result};
use thanos_promql::engine::storage::SelectHints;
use thanos_promql::json::{write_labels, write_string};
use thanos_promql::parser::parse_metric_selector;
use thanos_store::pb::thanos::{
    LabelNamesRequest, LabelNamesResponse, LabelValuesRequest, LabelValuesResponse, PartialResponseStrategy,
};

use thanos_store::storepb::{matchers_from_proto, to_proto};

use crate::dedup::group_replicas;
use crate::matchsets::combine;
use crate::merge::merge;
use crate::proxy::STORE_BATCH_SIZE;
use crate::querier::NO_STORE_MATCHED;
use crate::response::StoreSet;
use crate::select::{series_request, RequestOpts, StoreInfo};

/// Parses `match[]` parameters as Prometheus's API does: each a series
/// selector, each with at least one matcher that does not match the empty
/// string.
pub fn parse_match_params(matches: &[String]) -> Result<Vec<Vec<Matcher>>> {
    let mut sets = Vec::with_capacity(matches.len());
    for m in matches {
        let set = parse_metric_selector(m)?;
        if set.iter().all(|m| m.matches_empty()) {
            thanos_core::bail!(BadData, "match[] must contain at least one non-empty matcher");
        }
        sets.push(set);
    }
    Ok(sets)
}

/// A `/api/v1/series` query over the stores: for each `match[]` (combined
/// where they allow, see [`combine`]), a `Series` call without chunks to every
/// matching store.
pub struct SeriesQuery {
    start: i64,
    end: i64,
    /// The `match[]` as given: a set no store matches is warned of, as Thanos does.
    asked: Vec<Vec<Matcher>>,
    /// What the stores are asked for.
    matcher_sets: Vec<Vec<Matcher>>,
    partial_response: bool,
    answers: Vec<Vec<StoreSet>>,
    warnings: Vec<String>,
}

impl SeriesQuery {
    pub fn new(start: i64, end: i64, matcher_sets: Vec<Vec<Matcher>>, partial_response: bool) -> Self {
        let asked = matcher_sets.clone();
        let matcher_sets = combine(matcher_sets);
        let answers = matcher_sets.iter().map(|_| Vec::new()).collect();
        SeriesQuery { start, end, asked, matcher_sets, partial_response, answers, warnings: Vec::new() }
    }

    /// Whether a failing store leaves a warning (true) or fails the request.
    pub fn partial_response(&self) -> bool {
        self.partial_response
    }

    /// The calls as (match index, store index, serialized request).
    pub fn calls(&mut self, stores: &[StoreInfo]) -> Vec<(usize, usize, Vec<u8>)> {
        let hints = SelectHints { start: self.start, end: self.end, func: "series".into(), ..Default::default() };
        let opts = RequestOpts {
            partial_response: self.partial_response,
            skip_chunks: true,
            response_batch_size: STORE_BATCH_SIZE,
            max_resolution_window: 0,
        };
        let matched = |set: &[Matcher]| stores.iter().any(|st| st.matches(self.start, self.end, set));
        if !self.asked.iter().all(|set| matched(set)) {
            self.warnings.push(NO_STORE_MATCHED.to_string());
        }
        let mut calls = Vec::new();
        for (i, matchers) in self.matcher_sets.iter().enumerate() {
            for (j, store) in stores.iter().enumerate() {
                if store.matches(self.start, self.end, matchers) {
                    calls.push((i, j, series_request(&hints, matchers, opts).encode_to_vec()));
                }
            }
        }
        calls
    }

    pub fn add_answer(&mut self, match_index: usize, answer: StoreSet) {
        self.answers[match_index].push(answer);
    }

    pub fn add_warning(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// The label sets found, merged over stores and `match[]`s, without replica
    /// labels when deduplicating, sorted and unique; and the warnings.
    pub fn finish(mut self, replica_labels: &[String]) -> (Vec<Labels>, Vec<String>) {
        let mut all = BTreeSet::new();
        for sets in self.answers {
            let merged = merge(sets);
            self.warnings.extend(merged.warnings);
            all.extend(group_replicas(merged.series, replica_labels).into_iter().map(|g| g.labels));
        }
        (all.into_iter().collect(), self.warnings)
    }
}

/// The warning of an answer cut to the `limit` parameter, in Prometheus's
/// words (v2.51 on; Thanos's querier says the same).
pub const TRUNCATED: &str = "results truncated due to limit";

/// Keeps the first `limit` items (all when `limit` is 0), and says so.
pub fn truncate<T>(items: &mut Vec<T>, limit: usize, warnings: &mut Vec<String>) {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        warnings.push(TRUNCATED.to_string());
    }
}

/// `[{"__name__":"up",...},...]`, the `data` of `/api/v1/series`.
pub fn series_json(series: &[Labels]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * series.len() + 2);
    out.push(b'[');
    for (i, s) in series.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_labels(&mut out, s);
    }
    out.push(b']');
    out
}

/// `["a","b"]`: names or values as the label APIs return them.
pub fn strings_json<S: AsRef<str>>(items: &[S]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 * items.len() + 2);
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(&mut out, s.as_ref());
    }
    out.push(b']');
    out
}

fn strategy(partial_response: bool) -> i32 {
    if partial_response {
        PartialResponseStrategy::Warn as i32
    } else {
        PartialResponseStrategy::Abort as i32
    }
}

fn corrupt(what: &str, e: prost::DecodeError) -> Error {
    Error::new(ErrorKind::CorruptFrame, format!("decode {what}: {e}"))
}

/// `/api/v1/labels` (names) or `/api/v1/label/<name>/values` (values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelsKind {
    Names,
    Values(String),
}

/// A label names or values query over the stores: one call per store and
/// `match[]` (combined where they allow; or one without matchers), answers
/// merged sorted and unique.
pub struct LabelsQuery {
    kind: LabelsKind,
    start: i64,
    end: i64,
    matcher_sets: Vec<Vec<Matcher>>,
    partial_response: bool,
    found: BTreeSet<String>,
    warnings: Vec<String>,
}

impl LabelsQuery {
    pub fn new(
        kind: LabelsKind,
        start: i64,
        end: i64,
        matcher_sets: Vec<Vec<Matcher>>,
        partial_response: bool,
    ) -> Self {
        let matcher_sets = combine(matcher_sets);
        LabelsQuery { kind, start, end, matcher_sets, partial_response, found: BTreeSet::new(), warnings: Vec::new() }
    }

    /// The same query from a serialized request to the querier's own StoreAPI.
    pub fn from_request(values: bool, request: Bytes) -> Result<Self> {
        let bad = |e: prost::DecodeError| Error::new(ErrorKind::BadData, format!("decode request: {e}"));
        let (kind, start, end, matchers, partial) = if values {
            let r = LabelValuesRequest::decode(request).map_err(bad)?;
            (LabelsKind::Values(r.label), r.start, r.end, r.matchers, !r.partial_response_disabled)
        } else {
            let r = LabelNamesRequest::decode(request).map_err(bad)?;
            (LabelsKind::Names, r.start, r.end, r.matchers, !r.partial_response_disabled)
        };
        let matchers = matchers_from_proto(&matchers)?;
        let sets = if matchers.is_empty() { vec![] } else { vec![matchers] };
        Ok(LabelsQuery::new(kind, start, end, sets, partial))
    }

    pub fn kind(&self) -> &LabelsKind {
        &self.kind
    }

    /// Whether a failing store leaves a warning (true) or fails the call.
    pub fn partial_response(&self) -> bool {
        self.partial_response
    }

    /// The serialized requests, by store index: stores whose time range
    /// overlaps and whose label sets can match.
    pub fn calls(&self, stores: &[StoreInfo]) -> Vec<(usize, Vec<u8>)> {
        let no_matchers = [Vec::new()];
        let sets: &[Vec<Matcher>] = if self.matcher_sets.is_empty() { &no_matchers } else { &self.matcher_sets };
        let mut calls = Vec::new();
        for (i, store) in stores.iter().enumerate() {
            for m in sets {
                if store.matches(self.start, self.end, m) {
                    calls.push((i, self.request(m)));
                }
            }
        }
        calls
    }

    fn request(&self, matchers: &[Matcher]) -> Vec<u8> {
        let matchers = matchers.iter().map(to_proto).collect();
        let (disabled, strategy) = (!self.partial_response, strategy(self.partial_response));
        match &self.kind {
            LabelsKind::Names => LabelNamesRequest {
                partial_response_disabled: disabled,
                partial_response_strategy: strategy,
                start: self.start,
                end: self.end,
                matchers,
                ..Default::default()
            }
            .encode_to_vec(),
            LabelsKind::Values(name) => LabelValuesRequest {
                label: name.clone(),
                partial_response_disabled: disabled,
                partial_response_strategy: strategy,
                start: self.start,
                end: self.end,
                matchers,
                ..Default::default()
            }
            .encode_to_vec(),
        }
    }

    /// Adds one store's serialized answer.
    pub fn add_answer(&mut self, message: Bytes) -> Result<()> {
        let (items, warnings) = match self.kind {
            LabelsKind::Names => {
                let r = LabelNamesResponse::decode(message).map_err(|e| corrupt("LabelNamesResponse", e))?;
                (r.names, r.warnings)
            }
            LabelsKind::Values(_) => {
                let r = LabelValuesResponse::decode(message).map_err(|e| corrupt("LabelValuesResponse", e))?;
                (r.values, r.warnings)
            }
        };
        self.found.extend(items.into_iter().filter(|s| !s.is_empty()));
        self.warnings.extend(warnings);
        Ok(())
    }

    pub fn add_warning(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// The merged names or values, sorted, and the warnings.
    pub fn finish(self) -> (Vec<String>, Vec<String>) {
        (self.found.into_iter().collect(), self.warnings)
    }

    /// The merged answer as the querier's own StoreAPI sends it.
    pub fn response(self) -> Vec<u8> {
        let values = matches!(self.kind, LabelsKind::Values(_));
        let (items, warnings) = self.finish();
        if values {
            LabelValuesResponse { values: items, warnings, hints: None }.encode_to_vec()
        } else {
            LabelNamesResponse { names: items, warnings, hints: None }.encode_to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::StoreSeries;
    use thanos_core::labels::MatchOp;
    use thanos_store::pb::thanos::SeriesRequest;

    fn set(series: &[&[(&str, &str)]]) -> StoreSet {
        StoreSet {
            series: series
                .iter()
                .map(|p| StoreSeries { labels: Labels::from_pairs(p.iter().copied()), chunks: vec![] })
                .collect(),
            warnings: vec![],
        }
    }

    #[test]
    fn series_are_merged_deduplicated_and_sorted() {
        let stores = vec![StoreInfo { label_sets: vec![], min_time: 0, max_time: 100 }; 2];
        // Sets that differ in more than one label: one call each per store.
        let not_a = Matcher::new(MatchOp::NotEqual, "job", "a").unwrap();
        let sets = vec![vec![Matcher::equal("__name__", "up")], vec![Matcher::equal("__name__", "x"), not_a]];
        let mut q = SeriesQuery::new(0, 100, sets, true);
        let calls = q.calls(&stores);
        assert_eq!(calls.iter().map(|c| (c.0, c.1)).collect::<Vec<_>>(), vec![(0, 0), (0, 1), (1, 0), (1, 1)]);
        assert!(SeriesRequest::decode(Bytes::from(calls[0].2.clone())).unwrap().skip_chunks);
        q.add_answer(0, set(&[&[("__name__", "up"), ("replica", "0")]]));
        q.add_answer(0, set(&[&[("__name__", "up"), ("replica", "1")]]));
        q.add_answer(1, set(&[&[("__name__", "x"), ("replica", "0")]]));
        q.add_answer(1, set(&[&[("__name__", "up"), ("replica", "1")]]));
        let (got, _) = q.finish(&["replica".to_string()]);
        let json = String::from_utf8(series_json(&got)).unwrap();
        assert_eq!(json, r#"[{"__name__":"up"},{"__name__":"x"}]"#);
    }

    #[test]
    fn metric_names_are_asked_for_in_one_call_per_store() {
        let stores = vec![
            StoreInfo { label_sets: vec![], min_time: 0, max_time: 100 },
            StoreInfo { label_sets: vec![Labels::from_pairs([("cluster", "eu1")])], min_time: 0, max_time: 100 },
        ];
        let sets = parse_match_params(&["up".into(), "x".into(), r#"y{cluster="mars"}"#.into()]).unwrap();
        let mut q = SeriesQuery::new(0, 100, sets, true);
        let calls = q.calls(&stores);
        assert_eq!(calls.iter().map(|c| (c.0, c.1)).collect::<Vec<_>>(), vec![(0, 0), (0, 1), (1, 0)]);
        let req = SeriesRequest::decode(Bytes::from(calls[0].2.clone())).unwrap();
        assert_eq!(req.matchers.len(), 1);
        assert_eq!(req.matchers[0].value, "up|x");
        // y{cluster="mars"} still reaches the first store; it is not warned of.
        assert!(q.warnings.is_empty());
        let mut q = SeriesQuery::new(0, 100, parse_match_params(&[r#"up{cluster="mars"}"#.into()]).unwrap(), true);
        assert!(q.calls(&stores[1..]).is_empty());
        assert_eq!(q.warnings, [NO_STORE_MATCHED]);
    }

    #[test]
    fn match_params_need_a_non_empty_matcher() {
        let ok = parse_match_params(&["up".into(), r#"{job=~"a.*"}"#.into()]).unwrap();
        assert_eq!(ok.len(), 2);
        let err = parse_match_params(&[r#"{job=~".*"}"#.into()]).unwrap_err();
        assert_eq!(err.message(), "match[] must contain at least one non-empty matcher");
        let err = parse_match_params(&["up{".into()]).unwrap_err();
        assert!(err.message().contains("parse error"), "{err}");
    }

    #[test]
    fn label_queries_ask_matching_stores_and_merge() {
        let stores = [
            StoreInfo { label_sets: vec![Labels::from_pairs([("cluster", "eu1")])], min_time: 0, max_time: 100 },
            StoreInfo { label_sets: vec![Labels::from_pairs([("cluster", "us1")])], min_time: 0, max_time: 100 },
            StoreInfo { label_sets: vec![], min_time: 200, max_time: 300 },
        ];
        let sets = vec![vec![Matcher::equal("cluster", "eu1")]];
        let mut q = LabelsQuery::new(LabelsKind::Names, 0, 100, sets, true);
        let calls = q.calls(&stores);
        assert_eq!(calls.iter().map(|c| c.0).collect::<Vec<_>>(), vec![0]);
        let sent = LabelNamesRequest::decode(Bytes::from(calls[0].1.clone())).unwrap();
        assert_eq!((sent.start, sent.end, sent.matchers.len()), (0, 100, 1));
        for names in [vec!["job", "__name__"], vec!["cluster", "job"]] {
            let r = LabelNamesResponse { names: names.iter().map(|s| s.to_string()).collect(), ..Default::default() };
            q.add_answer(r.encode_to_vec().into()).unwrap();
        }
        q.add_warning("w".into());
        assert!(q.add_answer(Bytes::from_static(b"\x0a\x05ab")).is_err());
        let (names, warnings) = q.finish();
        assert_eq!(names, vec!["__name__", "cluster", "job"]);
        assert_eq!(warnings, vec!["w"]);
        assert_eq!(strings_json(&["a\"b", "c"]), br#"["a\"b","c"]"#);
    }

    #[test]
    fn the_proxy_reads_and_answers_values_requests() {
        let req = LabelValuesRequest { label: "job".into(), start: 5, end: 6, ..Default::default() };
        let mut q = LabelsQuery::from_request(true, req.encode_to_vec().into()).unwrap();
        assert_eq!(q.kind(), &LabelsKind::Values("job".into()));
        let calls = q.calls(&[StoreInfo { label_sets: vec![], min_time: 0, max_time: 10 }]);
        assert_eq!(calls.len(), 1);
        let r = LabelValuesResponse { values: vec!["b".into(), "a".into()], ..Default::default() };
        q.add_answer(r.encode_to_vec().into()).unwrap();
        let back = LabelValuesResponse::decode(Bytes::from(q.response())).unwrap();
        assert_eq!(back.values, vec!["a", "b"]);
        assert!(LabelsQuery::from_request(false, Bytes::from_static(b"\xff")).is_err());
    }
}
