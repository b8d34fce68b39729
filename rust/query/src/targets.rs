//! The querier's `/api/v1/targets` (`pkg/targets/targets.go` upstream): the
//! `TargetsRequest` sent to every endpoint that serves the Targets API, and
//! their answers merged and deduplicated as Thanos does, then written as
//! Prometheus 2.42 writes its own answer.
//!
//! Deduplication follows Thanos: targets are sorted by scrape URL, scrape
//! pool, discovered labels and labels; then, with the replica labels removed
//! from both label sets, neighbours that compare equal are one target, the
//! one kept being the less healthy (down before up), then the most recently
//! scraped. Without deduplication no label is removed, so only targets
//! identical in those four keys are joined.
//!
//! Prometheus 2.42 also writes `scrapeInterval` and `scrapeTimeout`; Thanos's
//! `ActiveTarget` has no field for them, so they are not written.

use std::cmp::Ordering;

use prost::Message;
use thanos_core::labels::Labels;
use thanos_core::{bail, gotime, Error, ErrorKind, Result};
use thanos_promql::json::{write_labels, write_string, write_value};
use thanos_store::pb::thanos::{
    targets_request, targets_response, PartialResponseStrategy, TargetsRequest, TargetsResponse, ZLabelSet,
};

use crate::response::labels_from_pb;

/// Thanos's strategy for a request: warn (partial response) or abort.
pub(crate) fn strategy(partial_response: bool) -> i32 {
    if partial_response {
        PartialResponseStrategy::Warn as i32
    } else {
        PartialResponseStrategy::Abort as i32
    }
}

/// Whether an incoming request (to the querier's own Targets service) asks
/// for partial response.
pub fn request_partial(request: &[u8]) -> Result<bool> {
    let r = TargetsRequest::decode(request)
        .map_err(|e| Error::new(ErrorKind::BadData, format!("decode TargetsRequest: {e}")))?;
    Ok(r.partial_response_strategy == PartialResponseStrategy::Warn as i32)
}

/// A `TargetsResponse` carrying a warning, as the querier's proxy passes them on.
pub fn warning(text: &str) -> Vec<u8> {
    TargetsResponse { result: Some(targets_response::Result::Warning(text.to_string())) }.encode_to_vec()
}

/// The request for `state`: `""`/`any`, `active` or `dropped` (any case, as
/// Thanos reads it); `None` for anything else.
pub fn encode_request(state: &str, partial_response: bool) -> Option<Vec<u8>> {
    let state = match state.to_ascii_uppercase().as_str() {
        "" | "ANY" => targets_request::State::Any,
        "ACTIVE" => targets_request::State::Active,
        "DROPPED" => targets_request::State::Dropped,
        _ => return None,
    };
    Some(TargetsRequest { state: state as i32, partial_response_strategy: strategy(partial_response) }.encode_to_vec())
}

struct Active {
    discovered: Labels,
    labels: Labels,
    scrape_pool: String,
    scrape_url: String,
    global_url: String,
    last_error: String,
    last_scrape: (i64, i32),
    last_scrape_duration: f64,
    health: i32,
}

fn labels_cmp(a: &Labels, b: &Labels) -> Ordering {
    a.iter().cmp(b.iter())
}

impl Active {
    /// Thanos's `ActiveTarget.Compare`.
    fn compare(&self, other: &Active) -> Ordering {
        self.scrape_url
            .cmp(&other.scrape_url)
            .then_with(|| self.scrape_pool.cmp(&other.scrape_pool))
            .then_with(|| labels_cmp(&self.discovered, &other.discovered))
            .then_with(|| labels_cmp(&self.labels, &other.labels))
    }

    /// True when `other` replaces `self` among duplicates (Thanos's
    /// `CompareState` > 0): it is less healthy, or as healthy and younger.
    fn replaced_by(&self, other: &Active) -> bool {
        match self.health.cmp(&other.health) {
            Ordering::Equal => self.last_scrape < other.last_scrape,
            o => o == Ordering::Greater,
        }
    }
}

fn set(s: Option<ZLabelSet>) -> Labels {
    labels_from_pb(s.map(|s| s.labels).unwrap_or_default())
}

/// The endpoints' messages merged and deduplicated by `replica_labels`: the
/// `data` JSON, and the warnings the endpoints sent.
pub fn merge<M: AsRef<[u8]>>(answers: &[Vec<M>], replica_labels: &[String]) -> Result<(Vec<u8>, Vec<String>)> {
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    let mut warnings = Vec::new();
    for message in answers.iter().flatten() {
        let m = TargetsResponse::decode(message.as_ref())
            .map_err(|e| Error::new(ErrorKind::Unavailable, format!("decode TargetsResponse: {e}")))?;
        let d = match m.result {
            Some(targets_response::Result::Warning(w)) => {
                warnings.push(w);
                continue;
            }
            Some(targets_response::Result::Targets(d)) => d,
            None => bail!(Unavailable, "no targets"),
        };
        for t in d.active_targets {
            let ts = t.last_scrape.unwrap_or(prost_types::Timestamp { seconds: gotime::ZERO_TIME_SECONDS, nanos: 0 });
            active.push(Active {
                discovered: set(t.discovered_labels),
                labels: set(t.labels),
                scrape_pool: t.scrape_pool,
                scrape_url: t.scrape_url,
                global_url: t.global_url,
                last_error: t.last_error,
                last_scrape: (ts.seconds, ts.nanos),
                last_scrape_duration: t.last_scrape_duration,
                health: t.health,
            });
        }
        dropped.extend(d.dropped_targets.into_iter().map(|t| set(t.discovered_labels)));
    }
    let active = dedup_active(active, replica_labels);
    let dropped = dedup_dropped(dropped, replica_labels);
    Ok((write(&active, &dropped), warnings))
}

fn dedup_active(mut targets: Vec<Active>, replica_labels: &[String]) -> Vec<Active> {
    targets.sort_by(|a, b| a.compare(b));
    let mut out: Vec<Active> = Vec::with_capacity(targets.len());
    for mut t in targets {
        t.discovered = t.discovered.without(replica_labels);
        t.labels = t.labels.without(replica_labels);
        match out.last_mut() {
            Some(kept) if kept.compare(&t) == Ordering::Equal => {
                if kept.replaced_by(&t) {
                    *kept = t;
                }
            }
            _ => out.push(t),
        }
    }
    out
}

fn dedup_dropped(mut targets: Vec<Labels>, replica_labels: &[String]) -> Vec<Labels> {
    targets.sort_by(labels_cmp);
    let mut out: Vec<Labels> = Vec::with_capacity(targets.len());
    for t in targets {
        let t = t.without(replica_labels);
        if out.last() != Some(&t) {
            out.push(t);
        }
    }
    out
}

fn health_name(health: i32) -> &'static str {
    match health {
        0 => "down",
        1 => "up",
        _ => "unknown",
    }
}

fn write(active: &[Active], dropped: &[Labels]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 * active.len() + 128 * dropped.len() + 40);
    out.extend_from_slice(b"{\"activeTargets\":[");
    for (i, t) in active.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"discoveredLabels\":");
        write_labels(&mut out, &t.discovered);
        out.extend_from_slice(b",\"labels\":");
        write_labels(&mut out, &t.labels);
        for (key, value) in [
            ("scrapePool", &t.scrape_pool),
            ("scrapeUrl", &t.scrape_url),
            ("globalUrl", &t.global_url),
            ("lastError", &t.last_error),
        ] {
            out.extend_from_slice(format!(",\"{key}\":").as_bytes());
            write_string(&mut out, value);
        }
        out.extend_from_slice(b",\"lastScrape\":");
        write_string(&mut out, &gotime::format_rfc3339_nano(t.last_scrape.0, t.last_scrape.1));
        out.extend_from_slice(b",\"lastScrapeDuration\":");
        write_value(&mut out, t.last_scrape_duration);
        out.extend_from_slice(b",\"health\":");
        write_string(&mut out, health_name(t.health));
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"droppedTargets\":[");
    for (i, t) in dropped.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"discoveredLabels\":");
        write_labels(&mut out, t);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_store::pb::thanos::{ActiveTarget, DroppedTarget, Label, TargetDiscovery};

    fn zset(pairs: &[(&str, &str)]) -> Option<ZLabelSet> {
        Some(ZLabelSet {
            labels: pairs.iter().map(|(n, v)| Label { name: n.to_string(), value: v.to_string() }).collect(),
        })
    }

    fn target(replica: &str, health: i32, seconds: i64) -> ActiveTarget {
        ActiveTarget {
            discovered_labels: zset(&[("__address__", "a:1"), ("cluster", "c"), ("replica", replica)]),
            labels: zset(&[("cluster", "c"), ("instance", "a:1"), ("replica", replica)]),
            scrape_pool: "p".into(),
            scrape_url: "http://a:1/metrics".into(),
            last_scrape: Some(prost_timestamp(seconds)),
            last_scrape_duration: 0.5,
            health,
            ..Default::default()
        }
    }

    fn prost_timestamp(seconds: i64) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos: 5_000 }
    }

    fn answer(active: Vec<ActiveTarget>, dropped: &[&str]) -> Vec<u8> {
        let dropped = dropped
            .iter()
            .map(|r| DroppedTarget { discovered_labels: zset(&[("__address__", "b:2"), ("replica", r)]) })
            .collect();
        let d = TargetDiscovery { active_targets: active, dropped_targets: dropped };
        TargetsResponse { result: Some(targets_response::Result::Targets(d)) }.encode_to_vec()
    }

    #[test]
    fn requests_by_state() {
        let state = |s| TargetsRequest::decode(encode_request(s, true).unwrap().as_slice()).unwrap().state;
        assert_eq!(state("active"), targets_request::State::Active as i32);
        assert_eq!(state("DROPPED"), targets_request::State::Dropped as i32);
        assert_eq!(state(""), targets_request::State::Any as i32);
        assert!(encode_request("up", true).is_none());
    }

    #[test]
    fn replicas_are_one_target_the_less_healthy_kept() {
        let a = answer(vec![target("0", 1, 200)], &["0"]);
        let b = answer(vec![target("1", 0, 100)], &["1"]);
        let replicas = ["replica".to_string()];
        let (json, warnings) = merge(&[vec![a.clone()], vec![b.clone()]], &replicas).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            String::from_utf8(json).unwrap(),
            concat!(
                r#"{"activeTargets":[{"discoveredLabels":{"__address__":"a:1","cluster":"c"},"#,
                r#""labels":{"cluster":"c","instance":"a:1"},"scrapePool":"p","scrapeUrl":"http://a:1/metrics","#,
                r#""globalUrl":"","lastError":"","lastScrape":"1970-01-01T00:01:40.000005Z","lastScrapeDuration":0.5,"#,
                r#""health":"down"}],"droppedTargets":[{"discoveredLabels":{"__address__":"b:2"}}]}"#
            )
        );
        // Without deduplication both replicas stay, in order.
        let (json, _) = merge(&[vec![a], vec![b]], &[]).unwrap();
        let text = String::from_utf8(json).unwrap();
        assert_eq!(text.matches("\"health\"").count(), 2);
        assert_eq!(text.matches("\"b:2\"").count(), 2);
        assert!(text.find(r#""replica":"0""#) < text.find(r#""replica":"1""#));
    }

    #[test]
    fn equal_health_keeps_the_latest_scrape_and_warnings_pass() {
        let a = answer(vec![target("0", 1, 100)], &[]);
        let b = answer(vec![target("1", 1, 300)], &[]);
        let w = TargetsResponse { result: Some(targets_response::Result::Warning("w".into())) }.encode_to_vec();
        let (json, warnings) = merge(&[vec![a], vec![w, b]], &["replica".to_string()]).unwrap();
        assert!(String::from_utf8(json).unwrap().contains("1970-01-01T00:05:00.000005Z"));
        assert_eq!(warnings, ["w"]);
        let (json, _) = merge::<Vec<u8>>(&[], &[]).unwrap();
        assert_eq!(json, br#"{"activeTargets":[],"droppedTargets":[]}"#);
    }

    #[test]
    fn unknown_health_and_unscraped_targets() {
        let mut t = target("0", 2, 0);
        t.last_scrape = None;
        let (json, _) = merge(&[vec![answer(vec![t], &[])]], &[]).unwrap();
        let text = String::from_utf8(json).unwrap();
        assert!(text.contains(r#""lastScrape":"0001-01-01T00:00:00Z""#) && text.contains(r#""health":"unknown""#));
    }
}
