//! The parts of Prometheus's HTTP API a sidecar reads on the serving path
//! (`pkg/promclient` upstream): time parameters, and the `data` of the series,
//! label names and label values answers, decoded without Python objects.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use thanos_core::{bail, timestamp, Error, ErrorKind, Result};

use crate::pb::prometheus;

/// The range of times Prometheus's API accepts; StoreAPI requests use the
/// full int64 range ("everything"), so times are clamped. The end keeps to
/// whole seconds: at that size a float64 holds no decimals, so Prometheus
/// would not read them as written.
const API_MIN_MS: i64 = timestamp::MIN_TIME;
const API_MAX_MS: i64 = timestamp::MAX_TIME / 1000 * 1000;

/// A `start`/`end` parameter: Unix seconds with up to three decimals, exact
/// (Thanos formats a float, which would round large values).
pub fn format_time(ms: i64) -> String {
    let ms = ms.clamp(API_MIN_MS, API_MAX_MS);
    let sign = if ms < 0 { "-" } else { "" };
    let (secs, frac) = (ms.unsigned_abs() / 1000, ms.unsigned_abs() % 1000);
    if frac == 0 {
        format!("{sign}{secs}")
    } else {
        format!("{sign}{secs}.{frac:03}").trim_end_matches('0').to_string()
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(default)]
    error: String,
}

/// The `data` of a successful answer; an error answer becomes an error with
/// Prometheus's own message.
pub(crate) fn data<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let envelope: Envelope<T> = serde_json::from_slice(body)
        .map_err(|e| Error::new(ErrorKind::Unavailable, format!("unmarshal Prometheus response: {e}")))?;
    match envelope {
        Envelope { status, data: Some(data), .. } if status == "success" => Ok(data),
        Envelope { error, .. } if !error.is_empty() => Err(Error::new(ErrorKind::Unavailable, error)),
        Envelope { status, .. } => bail!(Unavailable, "Prometheus answered with status {status:?} and no data"),
    }
}

/// The series of `/api/v1/series`, each as labels sorted by name.
pub fn parse_series(body: &[u8]) -> Result<Vec<Vec<prometheus::Label>>> {
    let series: Vec<BTreeMap<String, String>> = data(body)?;
    Ok(series
        .into_iter()
        .map(|s| s.into_iter().map(|(name, value)| prometheus::Label { name, value }).collect())
        .collect())
}

/// The strings of `/api/v1/labels` or `/api/v1/label/<name>/values`.
pub fn parse_strings(body: &[u8]) -> Result<Vec<String>> {
    data(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_exact_decimal_seconds() {
        assert_eq!(format_time(1_700_000_000_123), "1700000000.123");
        assert_eq!(format_time(1_700_000_000_100), "1700000000.1");
        assert_eq!(format_time(1_700_000_000_000), "1700000000");
        assert_eq!(format_time(-1), "-0.001");
        assert_eq!(format_time(-1500), "-1.5");
        // Thanos's default min time, year 0.
        assert_eq!(format_time(-62_167_219_200_000), "-62167219200");
        assert_eq!(format_time(i64::MAX), "9223309901257974");
        assert_eq!(format_time(i64::MIN), "-9223309901257974");
    }

    #[test]
    fn series_and_strings_decode() {
        let body = br#"{"status":"success","data":[{"job":"a","__name__":"up"},{"__name__":"x"}]}"#;
        let series = parse_series(body).unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0][0].name, "__name__");
        assert_eq!(series[0][1].value, "a");
        assert_eq!(parse_strings(br#"{"status":"success","data":["a","b"]}"#).unwrap(), ["a", "b"]);
    }

    #[test]
    fn error_answers_carry_prometheus_message() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\""}"#;
        let e = parse_strings(body).unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::Unavailable, "invalid parameter \"match[]\""));
        assert!(parse_strings(b"<html>").unwrap_err().message().starts_with("unmarshal Prometheus response"));
    }
}
