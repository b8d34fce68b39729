//! The querier's `/api/v1/metadata` (`pkg/metadata/metadata.go` upstream):
//! the `MetricMetadataRequest` sent to every endpoint that serves the
//! Metadata API, and their answers merged as Thanos merges them: per metric,
//! each distinct `{type, help, unit}` once, and at most `limit` metrics
//! (none for 0, all for a negative limit), then written as Prometheus 2.42
//! writes its own answer (`{metric: [{type, help, unit}]}`, metrics by name).
//!
//! Thanos fills its map in the order the answers arrive and Go's map order
//! within one, so which metrics a limit keeps varies; here endpoints are taken
//! in order and metrics by name, so the same answers give the same result.

use std::collections::BTreeMap;

use prost::Message;
use thanos_core::{bail, Error, ErrorKind, Result};
use thanos_promql::json::write_string;
use thanos_store::pb::thanos::{
    metric_metadata_response, Meta, MetricMetadataRequest, MetricMetadataResponse, PartialResponseStrategy,
};

/// The request for `metric` (every metric when empty), `limit` metrics.
pub fn encode_request(metric: &str, limit: i32, partial_response: bool) -> Vec<u8> {
    MetricMetadataRequest {
        metric: metric.to_string(),
        limit,
        partial_response_strategy: crate::targets::strategy(partial_response),
    }
    .encode_to_vec()
}

/// Whether an incoming request (to the querier's own Metadata service) asks
/// for partial response.
pub fn request_partial(request: &[u8]) -> Result<bool> {
    let r = MetricMetadataRequest::decode(request)
        .map_err(|e| Error::new(ErrorKind::BadData, format!("decode MetricMetadataRequest: {e}")))?;
    Ok(r.partial_response_strategy == PartialResponseStrategy::Warn as i32)
}

/// A `MetricMetadataResponse` carrying a warning.
pub fn warning(text: &str) -> Vec<u8> {
    let result = metric_metadata_response::Result::Warning(text.to_string());
    MetricMetadataResponse { result: Some(result) }.encode_to_vec()
}

/// The endpoints' messages merged: the `data` JSON, and the warnings the
/// endpoints sent.
pub fn merge<M: AsRef<[u8]>>(answers: &[Vec<M>], limit: i32) -> Result<(Vec<u8>, Vec<String>)> {
    let mut merged: BTreeMap<String, Vec<Meta>> = BTreeMap::new();
    let mut warnings = Vec::new();
    for message in answers.iter().flatten() {
        let m = MetricMetadataResponse::decode(message.as_ref())
            .map_err(|e| Error::new(ErrorKind::Unavailable, format!("decode MetricMetadataResponse: {e}")))?;
        let metadata = match m.result {
            Some(metric_metadata_response::Result::Warning(w)) => {
                warnings.push(w);
                continue;
            }
            Some(metric_metadata_response::Result::Metadata(md)) => md,
            None => bail!(Unavailable, "no metadata"),
        };
        if limit == 0 {
            continue;
        }
        let mut entries: Vec<_> = metadata.metadata.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (metric, entry) in entries {
            if let Some(metas) = merged.get_mut(&metric) {
                for meta in entry.metas {
                    if !metas.contains(&meta) {
                        metas.push(meta);
                    }
                }
            } else if limit < 0 || merged.len() < limit as usize {
                merged.insert(metric, entry.metas);
            }
        }
    }
    Ok((write(&merged), warnings))
}

fn write(merged: &BTreeMap<String, Vec<Meta>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * merged.len() + 2);
    out.push(b'{');
    for (i, (metric, metas)) in merged.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(&mut out, metric);
        out.extend_from_slice(b":[");
        for (j, m) in metas.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"type\":");
            write_string(&mut out, &m.r#type);
            out.extend_from_slice(b",\"help\":");
            write_string(&mut out, &m.help);
            out.extend_from_slice(b",\"unit\":");
            write_string(&mut out, &m.unit);
            out.push(b'}');
        }
        out.push(b']');
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_store::pb::thanos::{MetricMetadata, MetricMetadataEntry};

    fn answer(entries: &[(&str, &[(&str, &str)])]) -> Vec<u8> {
        let metadata = entries
            .iter()
            .map(|(metric, metas)| {
                let metas = metas
                    .iter()
                    .map(|(t, h)| Meta { r#type: t.to_string(), help: h.to_string(), unit: String::new() })
                    .collect();
                (metric.to_string(), MetricMetadataEntry { metas })
            })
            .collect();
        let result = metric_metadata_response::Result::Metadata(MetricMetadata { metadata });
        MetricMetadataResponse { result: Some(result) }.encode_to_vec()
    }

    fn warning(w: &str) -> Vec<u8> {
        MetricMetadataResponse { result: Some(metric_metadata_response::Result::Warning(w.into())) }.encode_to_vec()
    }

    #[test]
    fn replicas_merge_into_distinct_metas() {
        let a = answer(&[("up", &[("gauge", "Up.")]), ("x", &[("counter", "X.")])]);
        let b = answer(&[("up", &[("gauge", "Up."), ("gauge", "Other help.")])]);
        let (json, warnings) = merge(&[vec![a], vec![b, warning("w")]], -1).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"up":[{"type":"gauge","help":"Up.","unit":""},{"type":"gauge","help":"Other help.","unit":""}],"x":[{"type":"counter","help":"X.","unit":""}]}"#
        );
        assert_eq!(warnings, ["w"]);
    }

    #[test]
    fn limit_counts_metrics() {
        let a = answer(&[("a", &[("gauge", "")]), ("b", &[("gauge", "")]), ("c", &[("gauge", "")])]);
        let b = answer(&[("a", &[("counter", "")])]);
        let (json, _) = merge(&[vec![a.clone()], vec![b]], 2).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"a":[{"type":"gauge","help":"","unit":""},{"type":"counter","help":"","unit":""}],"b":[{"type":"gauge","help":"","unit":""}]}"#
        );
        assert_eq!(merge(&[vec![a]], 0).unwrap().0, b"{}");
        assert_eq!(merge::<Vec<u8>>(&[], -1).unwrap().0, b"{}");
        assert!(merge(&[vec![b"\x0a".to_vec()]], -1).is_err());
    }
}
