//! Prometheus HTTP API JSON for query results, written straight to bytes:
//! `{"resultType":"vector","result":[{"metric":{...},"value":[t,"v"]}]}`.
//! Times are seconds with up to three decimals as Prometheus writes them
//! (`1700000000`, `1700000000.5` is written `1700000000.500`), values are
//! strings (`"1.5"`, `"NaN"`, `"+Inf"`).

use std::io::Write;

use thanos_core::labels::Labels;

use crate::engine::value::{QueryValue, Series};
use crate::parser::literals::format_api_float;

/// The `data` object of a query response.
pub fn encode_data(value: &QueryValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"resultType\":\"");
    out.extend_from_slice(value.result_type().as_bytes());
    out.extend_from_slice(b"\",\"result\":");
    match value {
        // 2.42 writes a scalar with the type's own MarshalJSON (`'f'` form
        // whatever the size), not as the points of vectors and matrices.
        QueryValue::Scalar { t, v } => {
            write_point_raw(&mut out, *t, format!("\"{}\"", format_api_float(*v)).as_bytes())
        }
        QueryValue::String { t, v } => {
            let mut s = Vec::new();
            write_string(&mut s, v);
            // Strings go out as [t, "value"] with the value as a JSON string.
            write_point_raw(&mut out, *t, &s);
        }
        QueryValue::Vector(samples) => {
            out.push(b'[');
            for (i, s) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"metric\":");
                write_labels(&mut out, &s.labels);
                out.extend_from_slice(b",\"value\":");
                write_point(&mut out, s.t, s.v);
                out.push(b'}');
            }
            out.push(b']');
        }
        QueryValue::Matrix(series) => write_matrix(&mut out, series),
    }
    out.push(b'}');
    out
}

fn write_matrix(out: &mut Vec<u8>, series: &[Series]) {
    out.push(b'[');
    for (i, s) in series.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"metric\":");
        write_labels(out, &s.labels);
        out.extend_from_slice(b",\"values\":[");
        for (j, p) in s.points.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            write_point(out, p.t, p.v);
        }
        out.extend_from_slice(b"]}");
    }
    out.push(b']');
}

fn write_point(out: &mut Vec<u8>, t: i64, v: f64) {
    out.push(b'[');
    write_timestamp(out, t);
    out.extend_from_slice(b",\"");
    write_value(out, v);
    out.extend_from_slice(b"\"]");
}

/// A sample value as Prometheus 2.42 writes it (`jsonutil.MarshalValue`: the
/// shortest decimal that reads back the same, in Go's `'e'` form below 1e-6
/// and from 1e21 on, else in `'f'` form), with `NaN`, `+Inf` and `-Inf`.
/// Integers, the common case for counters and gauges, take a fast path.
pub fn write_value(out: &mut Vec<u8>, v: f64) {
    // Below 2^53 every integer is exact, and prints as itself.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if v.fract() == 0.0 && v.abs() < EXACT && !(v == 0.0 && v.is_sign_negative()) {
        let mut buf = itoa::Buffer::new();
        out.extend_from_slice(buf.format(v as i64).as_bytes());
    } else if v != 0.0 && (v.abs() < 1e-6 || v.abs() >= 1e21) {
        crate::gofmt::append_e(out, v);
    } else {
        crate::gofmt::append_f(out, v);
    }
}

fn write_point_raw(out: &mut Vec<u8>, t: i64, json_value: &[u8]) {
    out.push(b'[');
    write_timestamp(out, t);
    out.push(b',');
    out.extend_from_slice(json_value);
    out.push(b']');
}

/// Milliseconds as seconds: the integer part, then `.` and three digits when
/// the milliseconds are not zero.
pub fn write_timestamp(out: &mut Vec<u8>, t: i64) {
    let abs = t.unsigned_abs();
    if t < 0 {
        out.push(b'-');
    }
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(abs / 1000).as_bytes());
    let frac = (abs % 1000) as u16;
    if frac != 0 {
        out.extend_from_slice(&[
            b'.',
            b'0' + (frac / 100) as u8,
            b'0' + (frac / 10 % 10) as u8,
            b'0' + (frac % 10) as u8,
        ]);
    }
}

pub fn write_labels(out: &mut Vec<u8>, labels: &Labels) {
    out.push(b'{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, &l.name);
        out.push(b':');
        write_string(out, &l.value);
    }
    out.push(b'}');
}

/// A JSON string as Go's encoder writes it, HTML-safe: `<`, `>` and `&` are
/// escaped, as are U+2028 and U+2029.
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::value::{Point, Sample};

    #[test]
    fn values_are_written_as_go_formats_them() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (42.0, "42"),
            (-7.0, "-7"),
            (9_007_199_254_740_992.0, "9007199254740992"),
            (0.1, "0.1"),
            (1e-7, "1e-07"),
            (-2.5e-7, "-2.5e-07"),
            (1e-300, "1e-300"),
            (1e21, "1e+21"),
            (f64::MAX, "1.7976931348623157e+308"),
            (1e20 + 0.5, "100000000000000000000"),
            (0.000001, "0.000001"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for &(v, want) in cases {
            let mut out = Vec::new();
            write_value(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{v:?}");
        }
    }

    #[test]
    fn vectors_scalars_and_matrices() {
        let labels = Arc::new(Labels::from_pairs([("__name__", "up"), ("job", "a<b")]));
        let v = QueryValue::Vector(vec![Sample { labels: labels.clone(), t: 1_700_000_000_500, v: 1.5 }]);
        assert_eq!(
            String::from_utf8(encode_data(&v)).unwrap(),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a\u003cb"},"value":[1700000000.500,"1.5"]}]}"#
        );
        let s = QueryValue::Scalar { t: 5000, v: f64::NEG_INFINITY };
        assert_eq!(String::from_utf8(encode_data(&s)).unwrap(), r#"{"resultType":"scalar","result":[5,"-Inf"]}"#);
        let s = QueryValue::Scalar { t: 5000, v: 1e21 };
        assert_eq!(
            String::from_utf8(encode_data(&s)).unwrap(),
            r#"{"resultType":"scalar","result":[5,"1000000000000000000000"]}"#
        );
        let m = QueryValue::Matrix(vec![Series {
            labels,
            points: vec![Point { t: -1, v: f64::NAN }, Point { t: 60_000, v: 1e21 }],
        }]);
        assert_eq!(
            String::from_utf8(encode_data(&m)).unwrap(),
            r#"{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a\u003cb"},"values":[[-0.001,"NaN"],[60,"1e+21"]]}]}"#
        );
        let st = QueryValue::String { t: 0, v: "x\"y".into() };
        assert_eq!(String::from_utf8(encode_data(&st)).unwrap(), r#"{"resultType":"string","result":[0,"x\"y"]}"#);
    }
}
