//! StoreAPI matchers (`pkg/store/storepb/custom.go` upstream): from the wire to
//! [`Matcher`]s, on to Prometheus's remote-read matchers, and to the selector
//! string Prometheus's HTTP API takes as `match[]`.

use thanos_core::labels::{MatchOp, Matcher};
use thanos_core::{bail, Result};

use crate::pb::{prometheus, thanos};

/// Parses the request's matchers; an unknown type or a regular expression that
/// does not compile is the caller's error.
pub fn matchers_from_proto(matchers: &[thanos::LabelMatcher]) -> Result<Vec<Matcher>> {
    matchers
        .iter()
        .map(|m| {
            let op = match thanos::label_matcher::Type::try_from(m.r#type) {
                Ok(thanos::label_matcher::Type::Eq) => MatchOp::Equal,
                Ok(thanos::label_matcher::Type::Neq) => MatchOp::NotEqual,
                Ok(thanos::label_matcher::Type::Re) => MatchOp::Regex,
                Ok(thanos::label_matcher::Type::Nre) => MatchOp::NotRegex,
                Err(_) => bail!(BadData, "unrecognized label matcher type {}", m.r#type),
            };
            Matcher::new(op, m.name.clone(), m.value.clone())
        })
        .collect()
}

/// The StoreAPI's chunk encoding for Prometheus's: Prometheus numbers them from
/// UNKNOWN=0 (XOR=1, HISTOGRAM=2, FLOAT_HISTOGRAM=3), the StoreAPI from XOR=0.
/// Later Prometheus encodings have no StoreAPI counterpart.
pub fn chunk_encoding(prometheus_encoding: i32) -> Option<i32> {
    matches!(prometheus_encoding, 1..=3).then(|| prometheus_encoding - 1)
}

/// The StoreAPI form of a matcher.
pub fn to_proto(m: &Matcher) -> thanos::LabelMatcher {
    let t = match m.op {
        MatchOp::Equal => thanos::label_matcher::Type::Eq,
        MatchOp::NotEqual => thanos::label_matcher::Type::Neq,
        MatchOp::Regex => thanos::label_matcher::Type::Re,
        MatchOp::NotRegex => thanos::label_matcher::Type::Nre,
    };
    thanos::LabelMatcher { r#type: t as i32, name: m.name.clone(), value: m.value.clone() }
}

/// The remote-read form of a matcher; the type numbers are the same on both sides.
pub fn to_prometheus(m: &Matcher) -> prometheus::LabelMatcher {
    let t = match m.op {
        MatchOp::Equal => prometheus::label_matcher::Type::Eq,
        MatchOp::NotEqual => prometheus::label_matcher::Type::Neq,
        MatchOp::Regex => prometheus::label_matcher::Type::Re,
        MatchOp::NotRegex => prometheus::label_matcher::Type::Nre,
    };
    prometheus::LabelMatcher { r#type: t as i32, name: m.name.clone(), value: m.value.clone() }
}

/// `{job="api", code=~"5.."}`: one selector of all the matchers, as the HTTP
/// API's `match[]` parameter takes them.
pub fn selector(matchers: &[Matcher]) -> String {
    let parts: Vec<String> = matchers.iter().map(|m| m.to_string()).collect();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_core::ErrorKind;

    fn pm(t: i32, name: &str, value: &str) -> thanos::LabelMatcher {
        thanos::LabelMatcher { r#type: t, name: name.into(), value: value.into() }
    }

    #[test]
    fn every_type_converts_both_ways() {
        let ms =
            matchers_from_proto(&[pm(0, "a", "1"), pm(1, "b", "2"), pm(2, "c", "3|4"), pm(3, "d", "x\"y")]).unwrap();
        assert_eq!(selector(&ms), r#"{a="1", b!="2", c=~"3|4", d!~"x\"y"}"#);
        let types: Vec<i32> = ms.iter().map(|m| to_prometheus(m).r#type).collect();
        assert_eq!(types, [0, 1, 2, 3]);
        let back: Vec<thanos::LabelMatcher> = ms.iter().map(to_proto).collect();
        assert_eq!(matchers_from_proto(&back).unwrap(), ms);
    }

    #[test]
    fn bad_matchers_are_bad_data() {
        let e = matchers_from_proto(&[pm(9, "a", "1")]).unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::BadData, "unrecognized label matcher type 9"));
        let e = matchers_from_proto(&[pm(2, "a", "(")]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadData);
        assert!(e.message().starts_with("error parsing regexp"), "{}", e.message());
    }
}
