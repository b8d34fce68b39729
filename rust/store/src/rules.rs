//! The sidecar's Rules API (`thanos.Rules/Rules`) over Prometheus's
//! `/api/v1/rules`, as Thanos's `pkg/rules/prometheus.go` and
//! `promclient.RulesInGRPC` serve it: the request's type passed on as
//! Prometheus's `type` parameter, one `RulesResponse` per rule group, the
//! external labels added to every rule's labels.
//!
//! Unlike Thanos, the external labels are added to each alert's labels too:
//! the querier's `/api/v1/alerts` then tells the alerts of two clusters apart,
//! and deduplication removes the replica labels from both.

use std::collections::BTreeMap;

use prost::Message;
use serde::Deserialize;
use thanos_core::labels::Labels;
use thanos_core::{gotime, Error, ErrorKind, Result};

use crate::labelpb;
use crate::pb::thanos::{self, rule, rules_request, rules_response};
use crate::promclient;

/// Prometheus's `type` parameter for a `RulesRequest`: `alert`, `record`, or
/// none for all rules (Thanos lower-cases the enum's name).
pub fn request_type(request: &[u8]) -> Result<Option<&'static str>> {
    let req = thanos::RulesRequest::decode(request)
        .map_err(|e| Error::new(ErrorKind::BadData, format!("decode RulesRequest: {e}")))?;
    Ok(match req.r#type() {
        rules_request::Type::All => None,
        rules_request::Type::Alert => Some("alert"),
        rules_request::Type::Record => Some("record"),
    })
}

#[derive(Deserialize)]
struct Discovery {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    name: String,
    file: String,
    #[serde(default)]
    rules: Vec<RuleJson>,
    #[serde(default)]
    interval: f64,
    #[serde(default)]
    limit: i64,
    #[serde(default)]
    evaluation_time: f64,
    last_evaluation: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum RuleJson {
    Recording(Recording),
    Alerting(Alerting),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recording {
    name: String,
    query: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    health: String,
    #[serde(default)]
    last_error: String,
    #[serde(default)]
    evaluation_time: f64,
    last_evaluation: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Alerting {
    #[serde(default)]
    state: String,
    name: String,
    query: String,
    #[serde(default)]
    duration: f64,
    #[serde(default)]
    keep_firing_for: f64,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    alerts: Vec<AlertJson>,
    #[serde(default)]
    health: String,
    #[serde(default)]
    last_error: String,
    #[serde(default)]
    evaluation_time: f64,
    last_evaluation: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlertJson {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    state: String,
    active_at: Option<String>,
    #[serde(default)]
    value: String,
}

/// A Go time as the wire's `Timestamp`; absent is Go's zero time, as
/// gogoproto's stdtime writes it.
fn timestamp(t: Option<&str>) -> Result<prost_types::Timestamp> {
    let (seconds, nanos) = match t {
        Some(t) => gotime::parse_rfc3339(t)?,
        None => (gotime::ZERO_TIME_SECONDS, 0),
    };
    Ok(prost_types::Timestamp { seconds, nanos })
}

/// Prometheus's alert states, upper-cased, are the enum's names; an
/// unknown one is an error, as Thanos's `AlertState.UnmarshalJSON` makes it.
fn state(s: &str) -> Result<i32> {
    match s {
        "inactive" => Ok(thanos::AlertState::Inactive as i32),
        "pending" => Ok(thanos::AlertState::Pending as i32),
        "firing" => Ok(thanos::AlertState::Firing as i32),
        _ => Err(Error::new(ErrorKind::Unavailable, format!("unknown alertState: {s:?}"))),
    }
}

fn label_set(labels: Vec<(&str, &str)>) -> Option<thanos::ZLabelSet> {
    let labels = labels.into_iter().map(|(n, v)| thanos::Label { name: n.into(), value: v.into() }).collect();
    Some(thanos::ZLabelSet { labels })
}

fn plain(m: &BTreeMap<String, String>) -> Option<thanos::ZLabelSet> {
    label_set(m.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect())
}

fn extended(m: &BTreeMap<String, String>, external: &Labels) -> Option<thanos::ZLabelSet> {
    label_set(labelpb::extend_sorted(m.iter().map(|(n, v)| (n.as_str(), v.as_str())), external, &[]))
}

fn rule(r: RuleJson, external: &Labels) -> Result<thanos::Rule> {
    let result = match r {
        RuleJson::Recording(r) => rule::Result::Recording(thanos::RecordingRule {
            labels: extended(&r.labels, external),
            last_evaluation: Some(timestamp(r.last_evaluation.as_deref())?),
            name: r.name,
            query: r.query,
            health: r.health,
            last_error: r.last_error,
            evaluation_duration_seconds: r.evaluation_time,
        }),
        RuleJson::Alerting(a) => {
            let alerts = a
                .alerts
                .iter()
                .map(|i| {
                    Ok(thanos::AlertInstance {
                        // As Thanos's sidecar (enrichRulesWithExtLabels): the
                        // rules' labels get the external labels, alerts keep
                        // Prometheus's own.
                        labels: plain(&i.labels),
                        annotations: plain(&i.annotations),
                        state: state(&i.state)?,
                        active_at: i.active_at.as_deref().map(|t| timestamp(Some(t))).transpose()?,
                        value: i.value.clone(),
                        // Prometheus knows no partial response: Thanos sets Abort.
                        partial_response_strategy: thanos::PartialResponseStrategy::Abort as i32,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            rule::Result::Alert(thanos::Alert {
                state: state(&a.state)?,
                labels: extended(&a.labels, external),
                annotations: plain(&a.annotations),
                last_evaluation: Some(timestamp(a.last_evaluation.as_deref())?),
                name: a.name,
                query: a.query,
                duration_seconds: a.duration,
                keep_firing_for_seconds: a.keep_firing_for,
                alerts,
                health: a.health,
                last_error: a.last_error,
                evaluation_duration_seconds: a.evaluation_time,
            })
        }
    };
    Ok(thanos::Rule { result: Some(result) })
}

/// The `RulesResponse` messages of a `/api/v1/rules` answer, one per group,
/// in Prometheus's order; `external` sorted by name.
pub fn responses(body: &[u8], external: &Labels) -> Result<Vec<Vec<u8>>> {
    let discovery: Discovery = promclient::data(body)?;
    discovery
        .groups
        .into_iter()
        .map(|g| {
            let group = thanos::RuleGroup {
                rules: g.rules.into_iter().map(|r| rule(r, external)).collect::<Result<_>>()?,
                last_evaluation: Some(timestamp(g.last_evaluation.as_deref())?),
                name: g.name,
                file: g.file,
                interval: g.interval,
                evaluation_duration_seconds: g.evaluation_time,
                limit: g.limit,
                partial_response_strategy: thanos::PartialResponseStrategy::Abort as i32,
            };
            let message = thanos::RulesResponse { result: Some(rules_response::Result::Group(group)) };
            Ok(message.encode_to_vec())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Prometheus 2.42's answer, as it wrote it for a test rule file.
    const BODY: &str = r#"{"status":"success","data":{"groups":[{"name":"example","file":"/r.yml","rules":[
        {"name":"job:up:sum","query":"sum(vector(1))","labels":{"team":"a"},"health":"ok","evaluationTime":0.000512194,"lastEvaluation":"2026-12-02T17:10:06.692114807Z","type":"recording"},
        {"state":"firing","name":"AlwaysFiring","query":"vector(1)","duration":0,"keepFiringFor":5,"labels":{"severity":"none","cluster":"own"},"annotations":{"summary":"always {{ $value }}"},"alerts":[{"labels":{"alertname":"AlwaysFiring","severity":"none"},"annotations":{"summary":"always 1"},"state":"firing","activeAt":"2026-12-02T17:10:03.691401581Z","value":"1e+00"}],"health":"ok","evaluationTime":0.000265997,"lastEvaluation":"2026-12-02T17:10:06.692632228Z","type":"alerting"}],
        "interval":1,"limit":0,"evaluationTime":0.000856135,"lastEvaluation":"2026-12-02T17:10:06.692094908Z"}]}}"#;

    fn decode(m: &[u8]) -> thanos::RuleGroup {
        match thanos::RulesResponse::decode(m).unwrap().result {
            Some(rules_response::Result::Group(g)) => g,
            other => panic!("not a group: {other:?}"),
        }
    }

    fn names(set: &Option<thanos::ZLabelSet>) -> Vec<(String, String)> {
        set.as_ref().unwrap().labels.iter().map(|l| (l.name.clone(), l.value.clone())).collect()
    }

    #[test]
    fn one_message_per_group_with_external_labels_on_rules() {
        let ext = Labels::from_pairs([("cluster", "eu"), ("replica", "0")]);
        let messages = responses(BODY.as_bytes(), &ext).unwrap();
        assert_eq!(messages.len(), 1);
        let g = decode(&messages[0]);
        assert_eq!((g.name.as_str(), g.file.as_str(), g.interval), ("example", "/r.yml", 1.0));
        assert_eq!(g.last_evaluation.unwrap().nanos, 692_094_908);
        let Some(rule::Result::Recording(r)) = &g.rules[0].result else { panic!() };
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        assert_eq!(names(&r.labels), pairs(&[("cluster", "eu"), ("replica", "0"), ("team", "a")]));
        let Some(rule::Result::Alert(a)) = &g.rules[1].result else { panic!() };
        assert_eq!(a.state, thanos::AlertState::Firing as i32);
        assert_eq!(a.keep_firing_for_seconds, 5.0);
        // The external value wins a clash, as on series.
        assert_eq!(names(&a.labels), pairs(&[("cluster", "eu"), ("replica", "0"), ("severity", "none")]));
        assert_eq!(names(&a.annotations), pairs(&[("summary", "always {{ $value }}")]));
        let alert = &a.alerts[0];
        assert_eq!(names(&alert.labels), pairs(&[("alertname", "AlwaysFiring"), ("severity", "none")]));
        assert_eq!(alert.value, "1e+00");
        assert_eq!(alert.active_at.unwrap().seconds, 1_796_231_403);
    }

    #[test]
    fn request_types_are_prometheus_parameters() {
        let enc =
            |t: rules_request::Type| thanos::RulesRequest { r#type: t as i32, ..Default::default() }.encode_to_vec();
        assert_eq!(request_type(&enc(rules_request::Type::All)).unwrap(), None);
        assert_eq!(request_type(&enc(rules_request::Type::Alert)).unwrap(), Some("alert"));
        assert_eq!(request_type(&enc(rules_request::Type::Record)).unwrap(), Some("record"));
        assert!(request_type(b"\xff").is_err());
    }

    #[test]
    fn errors_and_unknown_states_fail() {
        let err = responses(br#"{"status":"error","errorType":"internal","error":"boom"}"#, &Labels::new());
        assert_eq!(err.unwrap_err().message(), "boom");
        let bad = BODY.replace(r#""state":"firing","name""#, r#""state":"burning","name""#);
        assert!(responses(bad.as_bytes(), &Labels::new()).is_err());
    }
}
