//! The querier's `/api/v1/query_exemplars` (`pkg/exemplars/proxy.go` and
//! `pkg/exemplars/exemplars.go` upstream).
//!
//! Requests: as Thanos's exemplars proxy, the query's selectors are checked
//! against the querier's selector labels, then each endpoint is asked only
//! for the selectors its label sets can match, rewritten without the
//! matchers on its external labels (Prometheus's exemplar API knows nothing
//! of them) and joined with `+`; an endpoint none of whose label sets match
//! is not asked. Two departures from v0.26: an endpoint without label sets is
//! asked with every matcher (v0.26 would send it `{}`), and a selector left
//! without matchers is dropped rather than sent as `{}`, which Prometheus
//! refuses.
//!
//! Answers: as Thanos's `dedupExemplarsResponse`, the replica labels are
//! removed from the series labels, series with the same labels are joined,
//! their exemplars sorted by time, labels and value with duplicates removed,
//! and the series sorted by labels; written as Prometheus 2.42 writes its own
//! answer (`value` a string, `timestamp` in seconds).

use std::cmp::Ordering;
use std::collections::HashMap;

use prost::Message;
use thanos_core::labels::{matches_external_labels, Labels, Matcher};
use thanos_core::{bail, Error, ErrorKind, Result};
use thanos_promql::json::{write_labels, write_timestamp, write_value};
use thanos_promql::parser::{parse_expr, Expr};
use thanos_store::pb::thanos::{exemplars_response, ExemplarsRequest, ExemplarsResponse, PartialResponseStrategy};

use crate::response::labels_from_pb;
use crate::targets::strategy;

/// Prometheus's `parser.ExtractSelectors`: the matchers of every vector
/// selector, those under range selectors included.
fn selectors(expr: &Expr) -> Vec<Vec<Matcher>> {
    let mut out = Vec::new();
    expr.walk(&mut |e| match e {
        Expr::VectorSelector(vs) => out.push(vs.matchers.clone()),
        Expr::MatrixSelector(ms) => out.push(ms.vs.matchers.clone()),
        _ => {}
    });
    out
}

/// What to ask of each endpoint, by its label sets: `None` for the query
/// without selectors (Prometheus answers `null`), else one request per
/// endpoint, `None` where it is not asked. A query that does not parse is
/// bad data, in the parser's words.
pub fn requests(
    query: &str,
    start: i64,
    end: i64,
    partial_response: bool,
    selector_labels: &Labels,
    endpoints: &[Vec<Labels>],
) -> Result<Option<Vec<Option<Vec<u8>>>>> {
    let expr = parse_expr(query).map_err(Error::from)?;
    let all = selectors(&expr);
    if all.is_empty() {
        return Ok(None);
    }
    let mut matched_once = false;
    let mut kept = Vec::new();
    for s in &all {
        if let Some(rest) = matches_external_labels(s, selector_labels) {
            matched_once = true;
            if !rest.is_empty() {
                kept.push(rest);
            }
        }
    }
    if !matched_once {
        return Ok(Some(vec![None; endpoints.len()]));
    }
    if kept.is_empty() {
        bail!(BadData, "no matchers specified (excluding external labels)");
    }
    let strategy = strategy(partial_response);
    Ok(Some(
        endpoints
            .iter()
            .map(|sets| {
                let query = endpoint_query(&kept, sets)?;
                Some(ExemplarsRequest { query, start, end, partial_response_strategy: strategy }.encode_to_vec())
            })
            .collect(),
    ))
}

/// For the querier's own Exemplars service: whether the incoming request
/// asks for partial response, and the requests to pass on, as [`requests`].
#[allow(clippy::type_complexity)]
pub fn proxy_requests(
    request: &[u8],
    selector_labels: &Labels,
    endpoints: &[Vec<Labels>],
) -> Result<(bool, Option<Vec<Option<Vec<u8>>>>)> {
    let r = ExemplarsRequest::decode(request)
        .map_err(|e| Error::new(ErrorKind::BadData, format!("decode ExemplarsRequest: {e}")))?;
    let partial = r.partial_response_strategy == PartialResponseStrategy::Warn as i32;
    Ok((partial, requests(&r.query, r.start, r.end, partial, selector_labels, endpoints)?))
}

/// An `ExemplarsResponse` carrying a warning.
pub fn warning(text: &str) -> Vec<u8> {
    ExemplarsResponse { result: Some(exemplars_response::Result::Warning(text.to_string())) }.encode_to_vec()
}

/// The query one endpoint is sent, `None` when none of its label sets can
/// match.
fn endpoint_query(selectors: &[Vec<Matcher>], sets: &[Labels]) -> Option<String> {
    let mut parts = Vec::new();
    'selectors: for s in selectors {
        let mut kept = Vec::new();
        for m in s {
            let mut external = false;
            for set in sets {
                if set.has(&m.name) {
                    if !m.matches(set.get(&m.name)) {
                        continue 'selectors;
                    }
                    external = true;
                }
            }
            if !external || sets.iter().any(|set| !set.has(&m.name)) {
                kept.push(m.to_string());
            }
        }
        if !kept.is_empty() {
            parts.push(format!("{{{}}}", kept.join(", ")));
        }
    }
    (!parts.is_empty()).then(|| parts.join(" + "))
}

struct Exemplar {
    labels: Labels,
    value: f64,
    ts: i64,
}

impl Exemplar {
    /// Thanos's `Exemplar.Compare`: time, labels, value.
    fn compare(&self, other: &Exemplar) -> Ordering {
        self.ts
            .cmp(&other.ts)
            .then_with(|| self.labels.iter().cmp(other.labels.iter()))
            .then_with(|| self.value.total_cmp(&other.value))
    }
}

/// The endpoints' messages merged and deduplicated by `replica_labels`: the
/// `data` JSON, and the warnings the endpoints sent.
pub fn merge<M: AsRef<[u8]>>(answers: &[Vec<M>], replica_labels: &[String]) -> Result<(Vec<u8>, Vec<String>)> {
    let mut series: HashMap<Labels, Vec<Exemplar>> = HashMap::new();
    let mut warnings = Vec::new();
    for message in answers.iter().flatten() {
        let m = ExemplarsResponse::decode(message.as_ref())
            .map_err(|e| Error::new(ErrorKind::Unavailable, format!("decode ExemplarsResponse: {e}")))?;
        let data = match m.result {
            Some(exemplars_response::Result::Warning(w)) => {
                warnings.push(w);
                continue;
            }
            Some(exemplars_response::Result::Data(d)) => d,
            None => bail!(Unavailable, "empty exemplars data"),
        };
        if data.exemplars.is_empty() {
            continue;
        }
        let labels = labels_from_pb(data.series_labels.map(|s| s.labels).unwrap_or_default()).without(replica_labels);
        series.entry(labels).or_default().extend(data.exemplars.into_iter().map(|e| Exemplar {
            labels: labels_from_pb(e.labels.map(|s| s.labels).unwrap_or_default()),
            value: e.value,
            ts: e.ts,
        }));
    }
    let mut series: Vec<_> = series.into_iter().collect();
    series.sort_by(|a, b| a.0.iter().cmp(b.0.iter()));
    let mut out = Vec::new();
    out.push(b'[');
    for (i, (labels, mut exemplars)) in series.into_iter().enumerate() {
        exemplars.sort_by(|a, b| a.compare(b));
        exemplars.dedup_by(|b, a| a.compare(b) == Ordering::Equal);
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"seriesLabels\":");
        write_labels(&mut out, &labels);
        out.extend_from_slice(b",\"exemplars\":[");
        for (j, e) in exemplars.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"labels\":");
            write_labels(&mut out, &e.labels);
            out.extend_from_slice(b",\"value\":\"");
            write_value(&mut out, e.value);
            out.extend_from_slice(b"\",\"timestamp\":");
            write_timestamp(&mut out, e.ts);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
    out.push(b']');
    Ok((out, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_store::pb::thanos::{Exemplar as PbExemplar, ExemplarData, Label, ZLabelSet};

    fn set(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    fn query_of(request: &Option<Vec<u8>>) -> Option<String> {
        request.as_ref().map(|r| ExemplarsRequest::decode(r.as_slice()).unwrap().query)
    }

    #[test]
    fn endpoints_are_asked_for_what_their_labels_allow() {
        let eps = vec![vec![set(&[("cluster", "a")])], vec![set(&[("cluster", "b")])], vec![]];
        let reqs =
            requests(r#"rate(m{cluster="a",job="j"}[5m]) + n"#, 1, 2, true, &Labels::new(), &eps).unwrap().unwrap();
        // Matchers keep the parser's order; the one on the external label goes.
        let q0 = query_of(&reqs[0]).unwrap();
        let (first, second) = q0.split_once(" + ").unwrap();
        assert!(
            first.contains(r#"__name__="m""#) && first.contains(r#"job="j""#) && !first.contains("cluster"),
            "{q0}"
        );
        assert_eq!(second, r#"{__name__="n"}"#);
        assert_eq!(query_of(&reqs[1]).unwrap(), r#"{__name__="n"}"#);
        // Without label sets nothing is known to be external: every matcher is kept.
        assert!(query_of(&reqs[2]).unwrap().contains(r#"cluster="a""#));
        assert!(requests("m", 0, 1, true, &Labels::new(), &[vec![set(&[("__name__", "x")])]]).unwrap().unwrap()[0]
            .is_none());
        let r = ExemplarsRequest::decode(reqs[1].as_ref().unwrap().as_slice()).unwrap();
        assert_eq!((r.start, r.end), (1, 2));
    }

    #[test]
    fn proxied_requests_keep_their_strategy() {
        let incoming = ExemplarsRequest { query: "m".into(), start: 1, end: 2, partial_response_strategy: 1 };
        let eps = vec![vec![set(&[("cluster", "a")])]];
        let (partial, reqs) = proxy_requests(&incoming.encode_to_vec(), &Labels::new(), &eps).unwrap();
        let out = ExemplarsRequest::decode(reqs.unwrap()[0].as_ref().unwrap().as_slice()).unwrap();
        assert!(!partial);
        assert_eq!(
            (out.query.as_str(), out.start, out.end, out.partial_response_strategy),
            (r#"{__name__="m"}"#, 1, 2, 1)
        );
        let w = ExemplarsResponse::decode(warning("w").as_slice()).unwrap();
        assert_eq!(w.result, Some(exemplars_response::Result::Warning("w".into())));
    }

    #[test]
    fn selector_labels_and_bad_queries() {
        let eps = vec![vec![set(&[("cluster", "a")])]];
        let sel = set(&[("region", "eu")]);
        let none = requests(r#"m{region="us"}"#, 0, 1, true, &sel, &eps).unwrap().unwrap();
        assert!(none[0].is_none());
        let e = requests(r#"{region="eu"}"#, 0, 1, true, &sel, &eps).unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::BadData, "no matchers specified (excluding external labels)"));
        assert!(requests("1 + 1", 0, 1, true, &sel, &eps).unwrap().is_none());
        let e = requests("m{", 0, 1, true, &sel, &eps).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadData);
        assert!(e.message().starts_with("1:"), "{}", e.message());
    }

    fn data(series: &[(&str, &str)], exemplars: &[(&str, f64, i64)]) -> Vec<u8> {
        let zset = |pairs: &[(&str, &str)]| {
            Some(ZLabelSet {
                labels: pairs.iter().map(|(n, v)| Label { name: n.to_string(), value: v.to_string() }).collect(),
            })
        };
        let exemplars = exemplars
            .iter()
            .map(|(trace, value, ts)| PbExemplar { labels: zset(&[("trace_id", trace)]), value: *value, ts: *ts })
            .collect();
        let d = ExemplarData { series_labels: zset(series), exemplars };
        ExemplarsResponse { result: Some(exemplars_response::Result::Data(d)) }.encode_to_vec()
    }

    #[test]
    fn replicas_merge_and_exemplars_are_deduplicated_and_sorted() {
        let a = data(&[("__name__", "m"), ("replica", "0")], &[("b", 2.0, 2000), ("a", 1.5, 1001)]);
        let b = data(&[("__name__", "m"), ("replica", "1")], &[("a", 1.5, 1001)]);
        let c = data(&[("__name__", "a")], &[("x", 1.0, 5)]);
        let empty = data(&[("__name__", "z")], &[]);
        let replicas = ["replica".to_string()];
        let (json, _) = merge(&[vec![a.clone(), empty], vec![b.clone(), c]], &replicas).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            concat!(
                r#"[{"seriesLabels":{"__name__":"a"},"exemplars":[{"labels":{"trace_id":"x"},"value":"1","timestamp":0.005}]},"#,
                r#"{"seriesLabels":{"__name__":"m"},"exemplars":[{"labels":{"trace_id":"a"},"value":"1.5","timestamp":1.001},"#,
                r#"{"labels":{"trace_id":"b"},"value":"2","timestamp":2}]}]"#
            )
        );
        let (json, _) = merge(&[vec![a], vec![b]], &[]).unwrap();
        assert_eq!(String::from_utf8(json).unwrap().matches("seriesLabels").count(), 2);
        assert_eq!(merge::<Vec<u8>>(&[], &[]).unwrap().0, b"[]");
    }
}
