//! The sidecar's Exemplars API (`pkg/exemplars/prometheus.go` upstream): a
//! `thanos.Exemplars/Exemplars` request read into Prometheus's
//! `/api/v1/query_exemplars` parameters, and Prometheus's answer written back
//! as one `ExemplarsResponse` per series, the external labels added to the
//! series' labels (Prometheus does not add them; on a clash the external value
//! wins, `labelpb.ExtendSortedLabels`).

use std::collections::BTreeMap;

use prost::Message;
use serde::Deserialize;
use thanos_core::labels::Labels;
use thanos_core::{Error, ErrorKind, Result};

use crate::labelpb;
use crate::pb::thanos::{self, exemplars_response, Exemplar, ExemplarData, ExemplarsRequest, ExemplarsResponse};
use crate::promclient;

/// The query parameters of `/api/v1/query_exemplars`: `query`, and `start`
/// and `end` as decimal seconds (milliseconds on the wire).
pub fn params(request: &[u8]) -> Result<Vec<(String, String)>> {
    let r = ExemplarsRequest::decode(request)
        .map_err(|e| Error::new(ErrorKind::BadData, format!("decode ExemplarsRequest: {e}")))?;
    Ok(vec![
        ("query".into(), r.query),
        ("start".into(), promclient::format_time(r.start)),
        ("end".into(), promclient::format_time(r.end)),
    ])
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromSeries {
    #[serde(default)]
    series_labels: BTreeMap<String, String>,
    #[serde(default)]
    exemplars: Vec<PromExemplar>,
}

#[derive(Deserialize)]
struct PromExemplar {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    value: String,
    timestamp: f64,
}

fn label_set<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<thanos::ZLabelSet> {
    let labels: Vec<_> =
        pairs.into_iter().map(|(n, v)| thanos::Label { name: n.to_string(), value: v.to_string() }).collect();
    (!labels.is_empty()).then_some(thanos::ZLabelSet { labels })
}

/// A sample value as Prometheus writes it: Go's float syntax, `NaN` and
/// `±Inf` included.
fn value(text: &str) -> Result<f64> {
    text.parse().map_err(|_| Error::new(ErrorKind::Unavailable, format!("exemplar value {text:?} is not a number")))
}

/// Prometheus's answer as encoded `ExemplarsResponse`s, one per series.
pub fn responses(body: &[u8], external: &Labels) -> Result<Vec<Vec<u8>>> {
    // `null` when the query has no selectors.
    let data: Option<Vec<PromSeries>> = promclient::data(body).or_else(|e| {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .filter(|v| v["status"] == "success" && v["data"].is_null())
            .map(|_| None)
            .ok_or(e)
    })?;
    let mut out = Vec::new();
    for s in data.unwrap_or_default() {
        let series =
            labelpb::extend_sorted(s.series_labels.iter().map(|(n, v)| (n.as_str(), v.as_str())), external, &[]);
        let mut exemplars = Vec::with_capacity(s.exemplars.len());
        for e in s.exemplars {
            exemplars.push(Exemplar {
                labels: label_set(e.labels.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
                value: value(&e.value)?,
                ts: (e.timestamp * 1000.0).round() as i64,
            });
        }
        let data = ExemplarData { series_labels: label_set(series), exemplars };
        out.push(ExemplarsResponse { result: Some(exemplars_response::Result::Data(data)) }.encode_to_vec());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_in_seconds() {
        let r = ExemplarsRequest { query: "up".into(), start: 1_500, end: 2_000_000, ..Default::default() };
        let p = params(&r.encode_to_vec()).unwrap();
        assert_eq!(
            p,
            vec![("query".into(), "up".into()), ("start".into(), "1.5".into()), ("end".into(), "2000".into())]
        );
    }

    #[test]
    fn series_get_external_labels() {
        let body = br#"{"status":"success","data":[{"seriesLabels":{"__name__":"m","job":"j"},
            "exemplars":[{"labels":{"trace_id":"abc"},"value":"1.5","timestamp":1675245600.123},
                         {"labels":{},"value":"NaN","timestamp":1}]}]}"#;
        let ext = Labels::from_pairs([("cluster", "c")]);
        let msgs = responses(body, &ext).unwrap();
        assert_eq!(msgs.len(), 1);
        let m = ExemplarsResponse::decode(msgs[0].as_slice()).unwrap();
        let Some(exemplars_response::Result::Data(d)) = m.result else { panic!("no data") };
        let names: Vec<_> = d.series_labels.unwrap().labels.into_iter().map(|l| l.name).collect();
        assert_eq!(names, ["__name__", "cluster", "job"]);
        assert_eq!((d.exemplars[0].value, d.exemplars[0].ts), (1.5, 1_675_245_600_123));
        assert_eq!(d.exemplars[0].labels.as_ref().unwrap().labels[0].value, "abc");
        assert!(d.exemplars[1].value.is_nan() && d.exemplars[1].labels.is_none());
        assert!(responses(br#"{"status":"success","data":null}"#, &ext).unwrap().is_empty());
        assert!(responses(br#"{"status":"error","error":"boom"}"#, &ext).is_err());
    }
}
