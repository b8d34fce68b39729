//! The sidecar's Metadata API (`pkg/metadata/prometheus.go` upstream): a
//! `thanos.Metadata/MetricMetadata` request read into Prometheus's
//! `/api/v1/metadata` parameters, and Prometheus's answer written back as the
//! one `MetricMetadataResponse` Thanos sends. Metadata carries no labels, so
//! there are no external labels to add.

use std::collections::HashMap;

use prost::Message;
use serde::Deserialize;
use thanos_core::{Error, ErrorKind, Result};

use crate::pb::thanos::{
    metric_metadata_response, Meta, MetricMetadata, MetricMetadataEntry, MetricMetadataRequest, MetricMetadataResponse,
};
use crate::promclient;

/// The query parameters of `/api/v1/metadata` for a request, as Thanos's
/// promclient sets them: `metric` when given, `limit` when not negative.
pub fn params(request: &[u8]) -> Result<Vec<(String, String)>> {
    let r = MetricMetadataRequest::decode(request)
        .map_err(|e| Error::new(ErrorKind::BadData, format!("decode MetricMetadataRequest: {e}")))?;
    let mut out = Vec::new();
    if !r.metric.is_empty() {
        out.push(("metric".to_string(), r.metric));
    }
    if r.limit >= 0 {
        out.push(("limit".to_string(), r.limit.to_string()));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct PromMeta {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    help: String,
    #[serde(default)]
    unit: String,
}

/// Prometheus's answer (`{metric: [{type, help, unit}]}`) as one encoded
/// `MetricMetadataResponse`.
pub fn response(body: &[u8]) -> Result<Vec<u8>> {
    let data: HashMap<String, Vec<PromMeta>> = promclient::data(body)?;
    let metadata = data
        .into_iter()
        .map(|(metric, metas)| {
            let metas = metas.into_iter().map(|m| Meta { r#type: m.kind, help: m.help, unit: m.unit }).collect();
            (metric, MetricMetadataEntry { metas })
        })
        .collect();
    let result = metric_metadata_response::Result::Metadata(MetricMetadata { metadata });
    Ok(MetricMetadataResponse { result: Some(result) }.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_follow_thanos_promclient() {
        let req = |metric: &str, limit| MetricMetadataRequest { metric: metric.into(), limit, ..Default::default() };
        assert_eq!(params(&req("", -1).encode_to_vec()).unwrap(), vec![]);
        assert_eq!(
            params(&req("up", 0).encode_to_vec()).unwrap(),
            vec![("metric".to_string(), "up".to_string()), ("limit".to_string(), "0".to_string())]
        );
        assert_eq!(params(b"\xff").unwrap_err().kind(), ErrorKind::BadData);
    }

    #[test]
    fn prometheus_answer_becomes_one_message() {
        let body = br#"{"status":"success","data":{"up":[{"type":"gauge","help":"Up.","unit":""}],
            "x":[{"type":"counter","help":"a","unit":"s"},{"type":"gauge","help":"b","unit":""}]}}"#;
        let m = MetricMetadataResponse::decode(response(body).unwrap().as_slice()).unwrap();
        let Some(metric_metadata_response::Result::Metadata(md)) = m.result else { panic!("no metadata") };
        assert_eq!(md.metadata["up"].metas, vec![Meta { r#type: "gauge".into(), help: "Up.".into(), unit: "".into() }]);
        assert_eq!(md.metadata["x"].metas.len(), 2);
        assert_eq!(md.metadata["x"].metas[0].unit, "s");
        let err = response(br#"{"status":"error","errorType":"bad_data","error":"limit must be a number"}"#);
        assert_eq!(err.unwrap_err().message(), "limit must be a number");
    }
}
