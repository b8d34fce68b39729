//! The sidecar's Targets API (`pkg/targets/prometheus.go` upstream): a
//! `thanos.Targets/Targets` request read into Prometheus's `/api/v1/targets`
//! parameters, and Prometheus's answer written back as the one
//! `TargetsResponse` Thanos sends, with the external labels added to every
//! target's labels and discovered labels (Prometheus does not add them; on a
//! clash the external value wins, `labelpb.ExtendSortedLabels`).
//!
//! Health `unknown` (a target not scraped yet) is sent as 2, Thanos main's
//! `UNKNOWN`: v0.26's sidecar fails the whole call on one.

use std::collections::BTreeMap;

use prost::Message;
use serde::Deserialize;
use thanos_core::labels::Labels;
use thanos_core::{bail, gotime, Error, ErrorKind, Result};

use crate::labelpb;
use crate::pb::thanos::{
    self, targets_request, targets_response, ActiveTarget, DroppedTarget, TargetDiscovery, TargetsRequest,
    TargetsResponse,
};
use crate::promclient;

/// The value Thanos main gives a target whose health is `unknown`.
pub const HEALTH_UNKNOWN: i32 = 2;

/// The query parameters of `/api/v1/targets`: `state` unless the request asks
/// for any.
pub fn params(request: &[u8]) -> Result<Vec<(String, String)>> {
    let r = TargetsRequest::decode(request)
        .map_err(|e| Error::new(ErrorKind::BadData, format!("decode TargetsRequest: {e}")))?;
    Ok(match targets_request::State::try_from(r.state) {
        Ok(targets_request::State::Active) => vec![("state".into(), "active".into())],
        Ok(targets_request::State::Dropped) => vec![("state".into(), "dropped".into())],
        _ => vec![],
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromActive {
    #[serde(default)]
    discovered_labels: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    scrape_pool: String,
    #[serde(default)]
    scrape_url: String,
    #[serde(default)]
    global_url: String,
    #[serde(default)]
    last_error: String,
    #[serde(default)]
    last_scrape: Option<String>,
    #[serde(default)]
    last_scrape_duration: f64,
    #[serde(default)]
    health: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromDropped {
    #[serde(default)]
    discovered_labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromTargets {
    #[serde(default)]
    active_targets: Vec<PromActive>,
    #[serde(default)]
    dropped_targets: Vec<PromDropped>,
}

/// A label set with the external labels, as Thanos's `Set*Labels`: none at
/// all when empty.
fn extended(labels: &BTreeMap<String, String>, external: &Labels) -> Option<thanos::ZLabelSet> {
    let pairs = labelpb::extend_sorted(labels.iter().map(|(n, v)| (n.as_str(), v.as_str())), external, &[]);
    (!pairs.is_empty()).then(|| thanos::ZLabelSet {
        labels: pairs.into_iter().map(|(n, v)| thanos::Label { name: n.into(), value: v.into() }).collect(),
    })
}

fn health(text: &str) -> Result<i32> {
    Ok(match text {
        "up" => thanos::TargetHealth::Up as i32,
        "down" => thanos::TargetHealth::Down as i32,
        "unknown" => HEALTH_UNKNOWN,
        other => bail!(Unavailable, "unknown targetHealth: {other:?}"),
    })
}

fn timestamp(text: Option<&str>) -> Result<prost_types::Timestamp> {
    let (seconds, nanos) = match text {
        Some(t) => gotime::parse_rfc3339(t)?,
        None => (gotime::ZERO_TIME_SECONDS, 0),
    };
    Ok(prost_types::Timestamp { seconds, nanos })
}

/// Prometheus's answer as one encoded `TargetsResponse`, external labels added.
pub fn response(body: &[u8], external: &Labels) -> Result<Vec<u8>> {
    let data: PromTargets = promclient::data(body)?;
    let mut active = Vec::with_capacity(data.active_targets.len());
    for t in data.active_targets {
        active.push(ActiveTarget {
            discovered_labels: extended(&t.discovered_labels, external),
            labels: extended(&t.labels, external),
            last_scrape: Some(timestamp(t.last_scrape.as_deref())?),
            health: health(&t.health)?,
            scrape_pool: t.scrape_pool,
            scrape_url: t.scrape_url,
            global_url: t.global_url,
            last_error: t.last_error,
            last_scrape_duration: t.last_scrape_duration,
        });
    }
    let dropped = data
        .dropped_targets
        .iter()
        .map(|t| DroppedTarget { discovered_labels: extended(&t.discovered_labels, external) })
        .collect();
    let discovery = TargetDiscovery { active_targets: active, dropped_targets: dropped };
    Ok(TargetsResponse { result: Some(targets_response::Result::Targets(discovery)) }.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_parameter() {
        let req = |state: targets_request::State| TargetsRequest { state: state as i32, ..Default::default() };
        assert!(params(&req(targets_request::State::Any).encode_to_vec()).unwrap().is_empty());
        assert_eq!(params(&req(targets_request::State::Dropped).encode_to_vec()).unwrap()[0].1, "dropped");
        assert_eq!(params(&req(targets_request::State::Active).encode_to_vec()).unwrap()[0].1, "active");
    }

    #[test]
    fn external_labels_are_added_and_win() {
        let body =
            br#"{"status":"success","data":{"activeTargets":[{"discoveredLabels":{"__address__":"a:1","job":"j"},
            "labels":{"instance":"a:1","job":"j","replica":"own"},"scrapePool":"j","scrapeUrl":"http://a:1/metrics",
            "globalUrl":"http://h:1/metrics","lastError":"","lastScrape":"2023-02-01T10:00:00.123456789Z",
            "lastScrapeDuration":0.0025,"health":"unknown","scrapeInterval":"15s","scrapeTimeout":"10s"}],
            "droppedTargets":[{"discoveredLabels":{"__address__":"b:2"}}]}}"#;
        let ext = Labels::from_pairs([("cluster", "c"), ("replica", "0")]);
        let m = TargetsResponse::decode(response(body, &ext).unwrap().as_slice()).unwrap();
        let Some(targets_response::Result::Targets(d)) = m.result else { panic!("no targets") };
        let t = &d.active_targets[0];
        let names = |s: &Option<thanos::ZLabelSet>| {
            s.as_ref().unwrap().labels.iter().map(|l| format!("{}={}", l.name, l.value)).collect::<Vec<_>>()
        };
        assert_eq!(names(&t.labels), ["cluster=c", "instance=a:1", "job=j", "replica=0"]);
        assert_eq!(names(&t.discovered_labels), ["__address__=a:1", "cluster=c", "job=j", "replica=0"]);
        assert_eq!(t.health, HEALTH_UNKNOWN);
        assert_eq!(t.last_scrape, Some(prost_types::Timestamp { seconds: 1_675_245_600, nanos: 123_456_789 }));
        assert_eq!((t.scrape_url.as_str(), t.last_scrape_duration), ("http://a:1/metrics", 0.0025));
        assert_eq!(names(&d.dropped_targets[0].discovered_labels), ["__address__=b:2", "cluster=c", "replica=0"]);
        let bad = br#"{"status":"success","data":{"activeTargets":[{"health":"sideways"}]}}"#;
        assert!(response(bad, &ext).is_err());
    }
}
