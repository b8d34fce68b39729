//! Reading an OpenMetrics text exposition with timestamps, as
//! `promtool tsdb create-blocks-from openmetrics` reads it: `# TYPE`, `# HELP`
//! and `# UNIT` lines, samples `name{label="value"} value timestamp`, timestamps
//! in seconds (truncated to milliseconds, as Prometheus's parser does), and
//! `# EOF` at the end.

use thanos_core::labels::{Labels, METRIC_NAME};
use thanos_core::{bail, Result};

use crate::parser::literals::parse_go_float;

/// A series' labels, timestamps (ms) and values.
pub type SeriesSamples = (Labels, Vec<i64>, Vec<f64>);

/// The samples of each series, series in order of first appearance.
pub fn parse(text: &str) -> Result<Vec<SeriesSamples>> {
    let mut series: Vec<SeriesSamples> = Vec::new();
    let mut index: std::collections::HashMap<Labels, usize> = std::collections::HashMap::new();
    let mut seen_eof = false;
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        if seen_eof {
            bail!(BadData, "line {lineno}: data after # EOF");
        }
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if comment == "EOF" {
                seen_eof = true;
            } else if !["TYPE ", "HELP ", "UNIT "].iter().any(|p| comment.starts_with(p)) {
                bail!(BadData, "line {lineno}: unexpected comment {line:?}");
            }
            continue;
        }
        let (labels, t, v) = parse_sample(line).map_err(|e| e.context(format!("line {lineno}")))?;
        let i = *index.entry(labels.clone()).or_insert_with(|| {
            series.push((labels, Vec::new(), Vec::new()));
            series.len() - 1
        });
        series[i].1.push(t);
        series[i].2.push(v);
    }
    Ok(series)
}

fn parse_sample(line: &str) -> Result<(Labels, i64, f64)> {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = &line[..name_end];
    if !is_metric_name(name) {
        bail!(BadData, "invalid metric name {name:?}");
    }
    let mut b = Labels::new().builder();
    b.set(METRIC_NAME, name);
    let mut rest = &line[name_end..];
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut b)?;
    }
    // The value, the timestamp, and perhaps an exemplar after " # ".
    let mut fields = rest.split(" # ").next().unwrap_or("").split_whitespace();
    let value =
        fields.next().ok_or_else(|| thanos_core::Error::new(thanos_core::ErrorKind::BadData, "missing value"))?;
    let v = parse_go_float(value)
        .ok_or_else(|| thanos_core::Error::new(thanos_core::ErrorKind::BadData, format!("invalid value {value:?}")))?;
    let labels = b.build();
    let Some(ts) = fields.next() else {
        bail!(BadData, "expected timestamp for series {labels}, got none");
    };
    let ts = parse_go_float(ts)
        .filter(|t| t.is_finite())
        .ok_or_else(|| thanos_core::Error::new(thanos_core::ErrorKind::BadData, format!("invalid timestamp {ts:?}")))?;
    if fields.next().is_some() {
        bail!(BadData, "unexpected text after the timestamp");
    }
    Ok((labels, (ts * 1000.0) as i64, v))
}

/// Reads `name="value", ...}` and returns the text after the `}`.
fn parse_labels<'a>(mut s: &'a str, b: &mut thanos_core::labels::LabelsBuilder) -> Result<&'a str> {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            return Ok(rest);
        }
        let eq = s
            .find('=')
            .ok_or_else(|| thanos_core::Error::new(thanos_core::ErrorKind::BadData, "label without value"))?;
        let name = s[..eq].trim();
        if !crate::parser::lex::is_label(name) {
            bail!(BadData, "invalid label name {name:?}");
        }
        let body = s[eq + 1..].trim_start().strip_prefix('"').ok_or_else(|| {
            thanos_core::Error::new(thanos_core::ErrorKind::BadData, format!("label {name} has no quoted value"))
        })?;
        let mut value = String::new();
        let mut chars = body.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    _ => bail!(BadData, "invalid escape in the value of label {name}"),
                },
                Some((_, c)) => value.push(c),
                None => bail!(BadData, "unterminated value of label {name}"),
            }
        };
        b.set(name, value);
        s = body[end + 1..].trim_start();
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_samples_series_by_series() {
        let text = "# HELP up Up.\n# TYPE up gauge\nup{job=\"a\",i=\"x\\\"y\"} 1 10\nup 2 20.5\nup{i=\"x\\\"y\",job=\"a\"} NaN 30 # {trace_id=\"1\"} 1 30\n# EOF\n";
        let s = parse(text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].0.to_string(), r#"{__name__="up", i="x\"y", job="a"}"#);
        assert_eq!(s[0].1, vec![10_000, 30_000]);
        assert!(s[0].2[1].is_nan());
        assert_eq!((s[1].1.clone(), s[1].2.clone()), (vec![20_500], vec![2.0]));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("up 1\n").unwrap_err();
        assert!(e.message().starts_with("line 1: expected timestamp"), "{}", e.message());
        assert!(parse("# EOF\nup 1 1\n").is_err());
        assert!(parse("1up 1 1\n").is_err());
        assert!(parse("up{a=b} 1 1\n").is_err());
    }
}
