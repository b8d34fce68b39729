//! The querier's `/api/v1/rules` and `/api/v1/alerts`: the `RulesResponse`
//! messages of every endpoint merged and deduplicated as Thanos v0.26's
//! `pkg/rules/rules.go` does (`dedupGroups`, `dedupRules`), then written as
//! Prometheus 2.42's API writes its own rules and alerts.
//!
//! Groups with the same file and name are one group, whichever endpoint sent
//! them. Within a group, rules that are equal once the replica labels are
//! removed (type, name, labels, query, and for alerts the `for` duration)
//! are one rule: the alerting rule in the most critical state, then the one
//! evaluated last; for recording rules the one evaluated last. Replica labels
//! also leave the alerts' labels, for stores that put them there (Thanos's
//! sidecar, and ours, do not).

use std::cmp::Ordering;

use prost::Message;
use thanos_core::{gotime, Error, ErrorKind, Result};
use thanos_promql::gofmt;
use thanos_promql::json::write_string;
use thanos_store::pb::thanos::{self, rule, rules_response, RuleGroup};

/// Which rules an answer holds: Prometheus's `type` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    All,
    Alert,
    Record,
}

impl Kind {
    /// The `RulesRequest.Type` value sent to the endpoints.
    pub fn request(self) -> Vec<u8> {
        let t = match self {
            Kind::All => thanos::rules_request::Type::All,
            Kind::Alert => thanos::rules_request::Type::Alert,
            Kind::Record => thanos::rules_request::Type::Record,
        };
        thanos::RulesRequest {
            r#type: t as i32,
            partial_response_strategy: thanos::PartialResponseStrategy::Warn as i32,
            matcher_string: vec![],
        }
        .encode_to_vec()
    }

    fn keeps(self, r: &thanos::Rule) -> bool {
        match (self, &r.result) {
            (_, None) => false,
            (Kind::All, _) => true,
            (Kind::Alert, Some(rule::Result::Alert(_))) => true,
            (Kind::Record, Some(rule::Result::Recording(_))) => true,
            _ => false,
        }
    }
}

/// Whether a `RulesRequest` asks for warnings rather than a failure when an
/// endpoint fails (`WARN`, the default), for the querier's own Rules API.
pub fn request_partial_response(request: &[u8]) -> Result<bool> {
    let req = thanos::RulesRequest::decode(request)
        .map_err(|e| Error::new(ErrorKind::BadData, format!("decode RulesRequest: {e}")))?;
    Ok(req.partial_response_strategy() == thanos::PartialResponseStrategy::Warn)
}

/// A `RulesResponse` carrying a warning.
pub fn warning_message(text: &str) -> Vec<u8> {
    thanos::RulesResponse { result: Some(rules_response::Result::Warning(text.to_string())) }.encode_to_vec()
}

/// The merged groups and the endpoints' own warnings.
pub struct Merged {
    pub groups: Vec<RuleGroup>,
    pub warnings: Vec<String>,
}

/// Decodes `messages` (any endpoint's, in any order), keeps the rules of
/// `kind` and deduplicates by `replica_labels` (none: no deduplication, but
/// groups are still merged and rules sorted, as Thanos does).
pub fn merge<'a>(
    messages: impl IntoIterator<Item = &'a [u8]>,
    kind: Kind,
    replica_labels: &[String],
) -> Result<Merged> {
    let mut groups = Vec::new();
    let mut warnings = Vec::new();
    for m in messages {
        let response = thanos::RulesResponse::decode(m)
            .map_err(|e| Error::new(ErrorKind::Unavailable, format!("decode RulesResponse: {e}")))?;
        match response.result {
            Some(rules_response::Result::Group(g)) => groups.push(g),
            Some(rules_response::Result::Warning(w)) => warnings.push(w),
            None => return Err(Error::new(ErrorKind::Unavailable, "no group")),
        }
    }
    let mut groups = dedup_groups(groups);
    for g in &mut groups {
        g.rules.retain(|r| kind.keeps(r));
        dedup_rules(&mut g.rules, replica_labels);
    }
    Ok(Merged { groups, warnings })
}

/// Prometheus's `rule_name[]`, `rule_group[]` and `file[]` (v2.46 on; 2.42
/// ignores them): only the rules of those names, in groups of those names
/// and files. A group left without rules by them is dropped, as there.
#[derive(Default)]
pub struct Filter {
    pub rule_names: Vec<String>,
    pub groups: Vec<String>,
    pub files: Vec<String>,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.rule_names.is_empty() && self.groups.is_empty() && self.files.is_empty()
    }

    fn wants(list: &[String], value: &str) -> bool {
        list.is_empty() || list.iter().any(|v| v == value)
    }

    /// Keeps what the filter selects of `merged`.
    pub fn apply(&self, merged: &mut Merged) {
        if self.is_empty() {
            return;
        }
        merged.groups.retain(|g| Self::wants(&self.groups, &g.name) && Self::wants(&self.files, &g.file));
        for g in &mut merged.groups {
            g.rules.retain(|r| match &r.result {
                Some(rule::Result::Recording(r)) => Self::wants(&self.rule_names, &r.name),
                Some(rule::Result::Alert(a)) => Self::wants(&self.rule_names, &a.name),
                None => false,
            });
        }
        merged.groups.retain(|g| !g.rules.is_empty());
    }
}

/// Thanos's `RuleGroup.Key`: file, then name.
fn group_key(g: &RuleGroup) -> (&str, &str) {
    (&g.file, &g.name)
}

fn dedup_groups(mut groups: Vec<RuleGroup>) -> Vec<RuleGroup> {
    groups.sort_by(|a, b| group_key(a).cmp(&group_key(b)));
    let mut out: Vec<RuleGroup> = Vec::with_capacity(groups.len());
    for g in groups {
        match out.last_mut() {
            Some(last) if group_key(last) == group_key(&g) => last.rules.extend(g.rules),
            _ => out.push(g),
        }
    }
    out
}

fn labels_of(r: &mut thanos::Rule) -> Option<&mut Option<thanos::ZLabelSet>> {
    match &mut r.result {
        Some(rule::Result::Recording(r)) => Some(&mut r.labels),
        Some(rule::Result::Alert(a)) => Some(&mut a.labels),
        None => None,
    }
}

fn strip(set: &mut Option<thanos::ZLabelSet>, replica_labels: &[String]) {
    if let Some(s) = set {
        s.labels.retain(|l| !replica_labels.contains(&l.name));
        s.labels.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

fn label_pairs(set: &Option<thanos::ZLabelSet>) -> &[thanos::Label] {
    set.as_ref().map_or(&[], |s| &s.labels)
}

/// Prometheus's `labels.Compare`.
fn compare_labels(a: &[thanos::Label], b: &[thanos::Label]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = x.name.cmp(&y.name).then_with(|| x.value.cmp(&y.value));
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Thanos's `Rule.Compare`: alerting rules first, then name, labels, query,
/// and the alert's `for` duration. Equal means the same rule.
fn compare_rules(a: &thanos::Rule, b: &thanos::Rule) -> Ordering {
    use rule::Result::{Alert, Recording};
    let (Some(x), Some(y)) = (&a.result, &b.result) else { return Ordering::Equal };
    fn fields(r: &rule::Result) -> (u8, &str, &[thanos::Label], &str, f64) {
        match r {
            Recording(r) => (1, &r.name, label_pairs(&r.labels), &r.query, 0.0),
            Alert(a) => (0, &a.name, label_pairs(&a.labels), &a.query, a.duration_seconds),
        }
    }
    let (xt, xn, xl, xq, xd) = fields(x);
    let (yt, yn, yl, yq, yd) = fields(y);
    xt.cmp(&yt)
        .then_with(|| xn.cmp(yn))
        .then_with(|| compare_labels(xl, yl))
        .then_with(|| xq.cmp(yq))
        .then_with(|| xd.partial_cmp(&yd).unwrap_or(Ordering::Equal))
}

fn time_of(t: &Option<prost_types::Timestamp>) -> (i64, i32) {
    t.as_ref().map_or((gotime::ZERO_TIME_SECONDS, 0), |t| (t.seconds, t.nanos))
}

/// Whether `b` should replace `a`, its equal: a more critical alert state,
/// or the same state (or a recording rule) evaluated later.
fn prefer(a: &thanos::Rule, b: &thanos::Rule) -> bool {
    match (&a.result, &b.result) {
        (Some(rule::Result::Recording(x)), Some(rule::Result::Recording(y))) => {
            time_of(&y.last_evaluation) > time_of(&x.last_evaluation)
        }
        (Some(rule::Result::Alert(x)), Some(rule::Result::Alert(y))) => {
            y.state > x.state || (y.state == x.state && time_of(&y.last_evaluation) > time_of(&x.last_evaluation))
        }
        _ => false,
    }
}

fn dedup_rules(rules: &mut Vec<thanos::Rule>, replica_labels: &[String]) {
    for r in rules.iter_mut() {
        if let Some(labels) = labels_of(r) {
            strip(labels, replica_labels);
        }
        if let Some(rule::Result::Alert(a)) = &mut r.result {
            for i in &mut a.alerts {
                strip(&mut i.labels, replica_labels);
            }
        }
    }
    rules.sort_by(compare_rules);
    let mut out: Vec<thanos::Rule> = Vec::with_capacity(rules.len());
    for r in rules.drain(..) {
        match out.last_mut() {
            Some(last) if compare_rules(last, &r) == Ordering::Equal => {
                if prefer(last, &r) {
                    *last = r;
                }
            }
            _ => out.push(r),
        }
    }
    *rules = out;
}

/// A float64 as Go's `encoding/json` writes it: `'f'` form, or `'e'` below
/// 1e-6 and from 1e21 on with a one-digit negative exponent unpadded.
fn write_float(out: &mut Vec<u8>, v: f64) {
    if v != 0.0 && (v.abs() < 1e-6 || v.abs() >= 1e21) {
        gofmt::append_e(out, v);
        let n = out.len();
        if n >= 4 && out[n - 4] == b'e' && out[n - 3] == b'-' && out[n - 2] == b'0' {
            out[n - 2] = out[n - 1];
            out.truncate(n - 1);
        }
    } else {
        gofmt::append_f(out, v);
    }
}

fn write_time(out: &mut Vec<u8>, t: &Option<prost_types::Timestamp>) {
    let (seconds, nanos) = time_of(t);
    out.push(b'"');
    out.extend_from_slice(gotime::format_rfc3339_nano(seconds, nanos).as_bytes());
    out.push(b'"');
}

fn write_labels(out: &mut Vec<u8>, set: &Option<thanos::ZLabelSet>) {
    out.push(b'{');
    for (i, l) in label_pairs(set).iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, &l.name);
        out.push(b':');
        write_string(out, &l.value);
    }
    out.push(b'}');
}

/// `,"key":`
fn key(out: &mut Vec<u8>, k: &str) {
    out.push(b',');
    write_string(out, k);
    out.push(b':');
}

fn state_name(s: i32) -> &'static str {
    match thanos::AlertState::try_from(s) {
        Ok(thanos::AlertState::Pending) => "pending",
        Ok(thanos::AlertState::Firing) => "firing",
        _ => "inactive",
    }
}

fn write_alert(out: &mut Vec<u8>, a: &thanos::AlertInstance) {
    out.extend_from_slice(b"{\"labels\":");
    write_labels(out, &a.labels);
    key(out, "annotations");
    write_labels(out, &a.annotations);
    key(out, "state");
    write_string(out, state_name(a.state));
    if a.active_at.is_some() {
        key(out, "activeAt");
        write_time(out, &a.active_at);
    }
    key(out, "value");
    write_string(out, &a.value);
    out.push(b'}');
}

fn write_list<T>(out: &mut Vec<u8>, items: &[T], mut f: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        f(out, item);
    }
    out.push(b']');
}

/// The end every rule shares: health, the error if any, evaluation, type.
fn write_rule_tail(
    out: &mut Vec<u8>,
    health: &str,
    error: &str,
    took: f64,
    last: &Option<prost_types::Timestamp>,
    t: &str,
) {
    key(out, "health");
    write_string(out, health);
    if !error.is_empty() {
        key(out, "lastError");
        write_string(out, error);
    }
    key(out, "evaluationTime");
    write_float(out, took);
    key(out, "lastEvaluation");
    write_time(out, last);
    key(out, "type");
    write_string(out, t);
    out.push(b'}');
}

fn write_rule(out: &mut Vec<u8>, r: &thanos::Rule) {
    match &r.result {
        Some(rule::Result::Recording(r)) => {
            out.extend_from_slice(b"{\"name\":");
            write_string(out, &r.name);
            key(out, "query");
            write_string(out, &r.query);
            if !label_pairs(&r.labels).is_empty() {
                key(out, "labels");
                write_labels(out, &r.labels);
            }
            write_rule_tail(
                out,
                &r.health,
                &r.last_error,
                r.evaluation_duration_seconds,
                &r.last_evaluation,
                "recording",
            );
        }
        Some(rule::Result::Alert(a)) => {
            out.extend_from_slice(b"{\"state\":");
            write_string(out, state_name(a.state));
            key(out, "name");
            write_string(out, &a.name);
            key(out, "query");
            write_string(out, &a.query);
            key(out, "duration");
            write_float(out, a.duration_seconds);
            key(out, "keepFiringFor");
            write_float(out, a.keep_firing_for_seconds);
            key(out, "labels");
            write_labels(out, &a.labels);
            key(out, "annotations");
            write_labels(out, &a.annotations);
            key(out, "alerts");
            write_list(out, &a.alerts, write_alert);
            write_rule_tail(
                out,
                &a.health,
                &a.last_error,
                a.evaluation_duration_seconds,
                &a.last_evaluation,
                "alerting",
            );
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// The `data` of `/api/v1/rules`, as Prometheus 2.42's `RuleDiscovery`.
pub fn rules_json(groups: &[RuleGroup]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"groups\":");
    write_list(&mut out, groups, |out, g| {
        out.extend_from_slice(b"{\"name\":");
        write_string(out, &g.name);
        key(out, "file");
        write_string(out, &g.file);
        key(out, "rules");
        write_list(out, &g.rules, write_rule);
        key(out, "interval");
        write_float(out, g.interval);
        key(out, "limit");
        out.extend_from_slice(g.limit.to_string().as_bytes());
        key(out, "evaluationTime");
        write_float(out, g.evaluation_duration_seconds);
        key(out, "lastEvaluation");
        write_time(out, &g.last_evaluation);
        out.push(b'}');
    });
    out.push(b'}');
    out
}

/// The `data` of `/api/v1/alerts`, as Prometheus 2.42's `AlertDiscovery`:
/// the alerts of every alerting rule, in the rules' order.
pub fn alerts_json(groups: &[RuleGroup]) -> Vec<u8> {
    let alerts: Vec<&thanos::AlertInstance> = groups
        .iter()
        .flat_map(|g| &g.rules)
        .filter_map(|r| match &r.result {
            Some(rule::Result::Alert(a)) => Some(&a.alerts),
            _ => None,
        })
        .flatten()
        .collect();
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"alerts\":");
    write_list(&mut out, &alerts, |out, a| write_alert(out, a));
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> Option<thanos::ZLabelSet> {
        let labels = pairs.iter().map(|(n, v)| thanos::Label { name: n.to_string(), value: v.to_string() }).collect();
        Some(thanos::ZLabelSet { labels })
    }

    fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 5 })
    }

    fn recording(name: &str, replica: &str, evaluated: i64) -> thanos::Rule {
        thanos::Rule {
            result: Some(rule::Result::Recording(thanos::RecordingRule {
                name: name.into(),
                query: "sum(up)".into(),
                labels: set(&[("cluster", "eu"), ("replica", replica)]),
                health: "ok".into(),
                evaluation_duration_seconds: 0.0005,
                last_evaluation: ts(evaluated),
                ..Default::default()
            })),
        }
    }

    fn alerting(replica: &str, state: thanos::AlertState, evaluated: i64) -> thanos::Rule {
        let labels = set(&[("cluster", "eu"), ("replica", replica)]);
        thanos::Rule {
            result: Some(rule::Result::Alert(thanos::Alert {
                state: state as i32,
                name: "AlwaysFiring".into(),
                query: "vector(1)".into(),
                labels: labels.clone(),
                annotations: set(&[("summary", "a<b")]),
                alerts: vec![thanos::AlertInstance {
                    labels: set(&[("alertname", "AlwaysFiring"), ("cluster", "eu"), ("replica", replica)]),
                    annotations: set(&[]),
                    state: state as i32,
                    active_at: ts(1_700_000_000),
                    value: "1e+00".into(),
                    ..Default::default()
                }],
                health: "ok".into(),
                evaluation_duration_seconds: 2.5e-7,
                last_evaluation: ts(evaluated),
                ..Default::default()
            })),
        }
    }

    fn message(file: &str, rules: Vec<thanos::Rule>) -> Vec<u8> {
        let group = RuleGroup {
            name: "example".into(),
            file: file.into(),
            rules,
            interval: 1.0,
            evaluation_duration_seconds: 0.001,
            last_evaluation: ts(1_700_000_010),
            ..Default::default()
        };
        thanos::RulesResponse { result: Some(rules_response::Result::Group(group)) }.encode_to_vec()
    }

    fn ha_pair() -> Vec<Vec<u8>> {
        vec![
            message("/r.yml", vec![recording("job:up", "0", 10), alerting("0", thanos::AlertState::Pending, 20)]),
            message("/r.yml", vec![recording("job:up", "1", 11), alerting("1", thanos::AlertState::Firing, 19)]),
            thanos::RulesResponse { result: Some(rules_response::Result::Warning("w".into())) }.encode_to_vec(),
        ]
    }

    #[test]
    fn replicas_are_one_rule_with_the_preferred_copy() {
        let messages = ha_pair();
        let m = merge(messages.iter().map(Vec::as_slice), Kind::All, &["replica".into()]).unwrap();
        assert_eq!(m.warnings, ["w"]);
        assert_eq!(m.groups.len(), 1);
        let rules = &m.groups[0].rules;
        assert_eq!(rules.len(), 2);
        // Alerting rules first; the firing copy beats the later pending one.
        let Some(rule::Result::Alert(a)) = &rules[0].result else { panic!() };
        assert_eq!(a.state, thanos::AlertState::Firing as i32);
        assert_eq!(label_pairs(&a.alerts[0].labels).len(), 2);
        // The recording rule evaluated last.
        let Some(rule::Result::Recording(r)) = &rules[1].result else { panic!() };
        assert_eq!(r.last_evaluation.unwrap().seconds, 11);
        assert_eq!(label_pairs(&r.labels).len(), 1);
    }

    #[test]
    fn without_dedup_both_replicas_stay_in_one_group() {
        let messages = ha_pair();
        let m = merge(messages.iter().map(Vec::as_slice), Kind::All, &[]).unwrap();
        assert_eq!(m.groups.len(), 1);
        assert_eq!(m.groups[0].rules.len(), 4);
        let other_file = [message("/a.yml", vec![recording("x", "0", 1)]), message("/r.yml", vec![])];
        let m = merge(other_file.iter().map(Vec::as_slice), Kind::All, &[]).unwrap();
        assert_eq!(m.groups.iter().map(|g| g.file.as_str()).collect::<Vec<_>>(), ["/a.yml", "/r.yml"]);
    }

    #[test]
    fn type_keeps_the_groups_and_their_rules_of_that_type() {
        let messages = ha_pair();
        let labels = ["replica".to_string()];
        let alerts = merge(messages.iter().map(Vec::as_slice), Kind::Alert, &labels).unwrap();
        assert!(matches!(alerts.groups[0].rules[..], [thanos::Rule { result: Some(rule::Result::Alert(_)) }]));
        let records = merge(messages.iter().map(Vec::as_slice), Kind::Record, &labels).unwrap();
        assert!(matches!(records.groups[0].rules[..], [thanos::Rule { result: Some(rule::Result::Recording(_)) }]));
    }

    #[test]
    fn json_is_prometheus_shape() {
        let messages = ha_pair();
        let m = merge(messages.iter().map(Vec::as_slice), Kind::All, &["replica".into()]).unwrap();
        let rules = String::from_utf8(rules_json(&m.groups)).unwrap();
        let alert = r#"{"labels":{"alertname":"AlwaysFiring","cluster":"eu"},"annotations":{},"state":"firing","activeAt":"2023-11-14T22:13:20.000000005Z","value":"1e+00"}"#;
        let expected = format!(
            concat!(
                r#"{{"groups":[{{"name":"example","file":"/r.yml","rules":["#,
                r#"{{"state":"firing","name":"AlwaysFiring","query":"vector(1)","duration":0,"keepFiringFor":0,"labels":{{"cluster":"eu"}},"annotations":{{"summary":"a\u003cb"}},"alerts":[{alert}],"health":"ok","evaluationTime":2.5e-7,"lastEvaluation":"1970-01-01T00:00:19.000000005Z","type":"alerting"}},"#,
                r#"{{"name":"job:up","query":"sum(up)","labels":{{"cluster":"eu"}},"health":"ok","evaluationTime":0.0005,"lastEvaluation":"1970-01-01T00:00:11.000000005Z","type":"recording"}}],"#,
                r#""interval":1,"limit":0,"evaluationTime":0.001,"lastEvaluation":"2023-11-14T22:13:30.000000005Z"}}]}}"#
            ),
            alert = alert
        );
        assert_eq!(rules, expected);
        assert_eq!(String::from_utf8(alerts_json(&m.groups)).unwrap(), format!(r#"{{"alerts":[{alert}]}}"#));
        assert_eq!(rules_json(&[]), br#"{"groups":[]}"#);
        assert_eq!(alerts_json(&[]), br#"{"alerts":[]}"#);
    }

    #[test]
    fn recording_rules_without_labels_omit_them_and_errors_show() {
        let mut r = recording("x", "0", 1);
        if let Some(rule::Result::Recording(rr)) = &mut r.result {
            rr.labels = None;
            rr.last_error = "boom".into();
            rr.last_evaluation = None;
        }
        let mut out = Vec::new();
        write_rule(&mut out, &r);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"name":"x","query":"sum(up)","health":"ok","lastError":"boom","evaluationTime":0.0005,"lastEvaluation":"0001-01-01T00:00:00Z","type":"recording"}"#
        );
    }

    #[test]
    fn floats_are_go_json() {
        let f = |v| {
            let mut out = Vec::new();
            write_float(&mut out, v);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(f(0.0), "0");
        assert_eq!(f(60.0), "60");
        assert_eq!(f(0.000048463), "0.000048463");
        assert_eq!(f(5e-7), "5e-7");
        assert_eq!(f(1.5e-10), "1.5e-10");
        assert_eq!(f(1e21), "1e+21");
    }

    #[test]
    fn requests_and_warnings_round_trip() {
        assert!(request_partial_response(&Kind::Alert.request()).unwrap());
        let abort = thanos::RulesRequest { partial_response_strategy: 1, ..Default::default() }.encode_to_vec();
        assert!(!request_partial_response(&abort).unwrap());
        let m = merge([warning_message("w").as_slice()], Kind::All, &[]).unwrap();
        assert_eq!((m.groups.len(), m.warnings), (0, vec!["w".to_string()]));
    }

    #[test]
    fn filters_select_rules_groups_and_files() {
        let messages = [
            message("/r.yml", vec![recording("job:up", "0", 10), alerting("0", thanos::AlertState::Firing, 20)]),
            message("/s.yml", vec![recording("job:up", "0", 10)]),
        ];
        let run = |f: Filter| {
            let mut m = merge(messages.iter().map(Vec::as_slice), Kind::All, &[]).unwrap();
            f.apply(&mut m);
            m.groups.iter().map(|g| (g.file.clone(), g.rules.len())).collect::<Vec<_>>()
        };
        assert_eq!(run(Filter::default()), [("/r.yml".to_string(), 2), ("/s.yml".to_string(), 1)]);
        let names = Filter { rule_names: vec!["AlwaysFiring".into()], ..Default::default() };
        assert_eq!(run(names), [("/r.yml".to_string(), 1)]);
        let files = Filter { files: vec!["/s.yml".into()], ..Default::default() };
        assert_eq!(run(files), [("/s.yml".to_string(), 1)]);
        let groups = Filter { groups: vec!["other".into()], ..Default::default() };
        assert!(run(groups).is_empty());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(merge([b"\xff\xff".as_slice()], Kind::All, &[]).is_err());
    }
}
