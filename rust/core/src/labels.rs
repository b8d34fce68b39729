//! Label sets and label matchers with Prometheus's semantics
//! (`model/labels/labels.go` and `model/labels/matcher.go` at v2.42.0).

use std::cmp::Ordering;
use std::fmt;

use regex::Regex;

use crate::error::{Error, ErrorKind, Result};

/// The label holding a series' metric name.
pub const METRIC_NAME: &str = "__name__";

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub name: String,
    pub value: String,
}

/// A label set, sorted by name, without empty values and without duplicate
/// names: the form Prometheus keeps series labels in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Labels(Vec<Label>);

impl Labels {
    pub fn new() -> Self {
        Labels(Vec::new())
    }

    /// Builds a set from pairs in any order. Empty values are dropped (an empty
    /// value means "no such label"); of duplicate names the last one wins.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (N, V)>) -> Self {
        let mut b = LabelsBuilder::default();
        for (n, v) in pairs {
            b.set(n, v);
        }
        b.build()
    }

    /// Wraps labels already sorted by name with unique names and no empty values,
    /// as they arrive from Prometheus and from StoreAPIs. Checked in debug builds.
    pub fn from_sorted(labels: Vec<Label>) -> Self {
        debug_assert!(labels.windows(2).all(|w| w[0].name < w[1].name), "labels not sorted: {labels:?}");
        Labels(labels)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `name`, or "" when the set has no such label.
    pub fn get(&self, name: &str) -> &str {
        match self.0.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) => &self.0[i].value,
            Err(_) => "",
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.binary_search_by(|l| l.name.as_str().cmp(name)).is_ok()
    }

    /// The metric name, or "" when there is none.
    pub fn metric_name(&self) -> &str {
        self.get(METRIC_NAME)
    }

    /// A copy without the named labels.
    pub fn without(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels(self.0.iter().filter(|l| !names.iter().any(|n| n.as_ref() == l.name)).cloned().collect())
    }

    /// A copy with only the named labels.
    pub fn keep_only(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels(self.0.iter().filter(|l| names.iter().any(|n| n.as_ref() == l.name)).cloned().collect())
    }

    /// A copy without the metric name.
    pub fn without_metric_name(&self) -> Labels {
        self.without(&[METRIC_NAME])
    }

    pub fn into_vec(self) -> Vec<Label> {
        self.0
    }

    /// A builder starting from this set.
    /// Prometheus's `Labels.Hash` (2.42, `model/labels/labels.go`): xxHash64
    /// of every name and value, each followed by the byte 0xff. Thanos names
    /// a compaction group by it (`Thanos.GroupKey`), so it must be the same
    /// number.
    pub fn prometheus_hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh64::Xxh64::new(0);
        for l in &self.0 {
            h.update(l.name.as_bytes());
            h.update(&[0xff]);
            h.update(l.value.as_bytes());
            h.update(&[0xff]);
        }
        h.digest()
    }

    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder { labels: self.0.clone() }
    }
}

/// Prometheus's `labels.Compare`: label by label, names first, then values; a set
/// that is a prefix of another sorts first. StoreAPI streams are sorted this way.
impl Ord for Labels {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.0.iter().zip(&other.0) {
            match a.name.cmp(&b.name).then_with(|| a.value.cmp(&b.value)) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        self.0.len().cmp(&other.0.len())
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `{__name__="up", job="api"}`, as Prometheus prints label sets.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", l.name, quote(&l.value))?;
        }
        f.write_str("}")
    }
}

/// A Go-style double-quoted string literal, as `strconv.Quote` writes it.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Sets and deletes labels, then yields a sorted [`Labels`].
#[derive(Clone, Debug, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let (name, value) = (name.into(), value.into());
        match self.labels.iter_mut().position(|l| l.name == name) {
            Some(i) if value.is_empty() => {
                self.labels.remove(i);
            }
            Some(i) => self.labels[i].value = value,
            None if value.is_empty() => {}
            None => self.labels.push(Label { name, value }),
        }
        self
    }

    pub fn delete(&mut self, name: &str) -> &mut Self {
        self.labels.retain(|l| l.name != name);
        self
    }

    pub fn build(mut self) -> Labels {
        self.labels.sort_by(|a, b| a.name.cmp(&b.name));
        Labels(self.labels)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// A label matcher. Regular expressions are RE2 syntax, anchored at both ends,
/// and a missing label matches as the empty string, as in Prometheus.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub op: MatchOp,
    pub name: String,
    pub value: String,
    re: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.op == other.op && self.name == other.name && self.value == other.value
    }
}

impl Eq for Matcher {}

impl Matcher {
    pub fn new(op: MatchOp, name: impl Into<String>, value: impl Into<String>) -> Result<Self> {
        let (name, value) = (name.into(), value.into());
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(compile_anchored(&value)?),
            _ => None,
        };
        Ok(Matcher { op, name, value, re })
    }

    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher { op: MatchOp::Equal, name: name.into(), value: value.into(), re: None }
    }

    /// Whether a label value (empty for a missing label) is matched.
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::Regex => self.re.as_ref().is_some_and(|re| re.is_match(value)),
            MatchOp::NotRegex => !self.re.as_ref().is_some_and(|re| re.is_match(value)),
        }
    }

    /// Whether the matcher selects series without the label at all.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.name))
    }
}

/// `job="api"`, as Prometheus prints matchers.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.name, self.op.as_str(), quote(&self.value))
    }
}

/// Compiles `pattern` anchored at both ends, as Prometheus 2.42's
/// `NewFastRegexMatcher` does (`^(?:...)$`; `.` does not match a newline, which
/// Prometheus 3 changed).
pub fn compile_anchored(pattern: &str) -> Result<Regex> {
    check_repeats(pattern)?;
    Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| Error::new(ErrorKind::BadData, format!("error parsing regexp: {}", regex_error(&e))))
}

/// Go's `regexp/syntax` refuses a repeat count above 1000; the regex crate
/// takes far more, and compiling `.{91000}` took 0.4 s of CPU for every
/// matcher of a 20-byte query (found by fuzzing). Refused as Go refuses it.
const MAX_REPEAT: u32 = 1000;

fn check_repeats(pattern: &str) -> Result<()> {
    use regex_syntax::ast::{self, Ast, RepetitionKind, RepetitionRange};

    struct Repeats<'p>(&'p str);
    impl ast::Visitor for Repeats<'_> {
        type Output = ();
        type Err = Error;
        fn finish(self) -> Result<()> {
            Ok(())
        }
        fn visit_pre(&mut self, node: &Ast) -> Result<()> {
            if let Ast::Repetition(rep) = node {
                if let RepetitionKind::Range(range) = &rep.op.kind {
                    let (min, max) = match *range {
                        RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n) => (n, n),
                        RepetitionRange::Bounded(m, n) => (m, n),
                    };
                    if min > MAX_REPEAT || max > MAX_REPEAT {
                        let text = &self.0[rep.op.span.start.offset..rep.op.span.end.offset];
                        return Err(Error::new(
                            ErrorKind::BadData,
                            format!("error parsing regexp: invalid repeat count: `{text}`"),
                        ));
                    }
                }
            }
            Ok(())
        }
    }
    // A pattern the parser refuses is left to `Regex::new` and its message.
    match ast::parse::Parser::new().parse(pattern) {
        Ok(tree) => ast::visit(&tree, Repeats(pattern)),
        Err(_) => Ok(()),
    }
}

/// The gist of a regex error, without the crate's multi-line diagram.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines().rfind(|l| l.starts_with("error:")).map(|l| l.trim_start_matches("error: ").to_string()).unwrap_or(text)
}

/// True when every matcher accepts the label set.
pub fn matches_all(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches_labels(labels))
}

/// Thanos's `matchesExternalLabels`: matchers on labels that `external` holds
/// (a sidecar's external labels, a querier's selector labels) are checked
/// against it and dropped, since the data behind does not carry those labels.
/// `None` when one fails: nothing there can match, an empty answer rather
/// than an error.
pub fn matches_external_labels(matchers: &[Matcher], external: &Labels) -> Option<Vec<Matcher>> {
    let mut rest = Vec::with_capacity(matchers.len());
    for m in matchers {
        if !external.has(&m.name) {
            rest.push(m.clone());
        } else if !m.matches(external.get(&m.name)) {
            return None;
        }
    }
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_hash_is_xxhash64_of_names_and_values_each_ended_by_0xff() {
        // xxHash64 of no bytes with seed 0, the algorithm's published value.
        assert_eq!(Labels::new().prometheus_hash(), 0xef46_db37_51d8_e999);
        let ls = Labels::from_pairs([("replica", "a"), ("cluster", "eu1")]);
        let bytes = b"cluster\xffeu1\xffreplica\xffa\xff";
        assert_eq!(ls.prometheus_hash(), xxhash_rust::xxh64::xxh64(bytes, 0));
        assert_ne!(ls.prometheus_hash(), Labels::from_pairs([("cluster", "eu1")]).prometheus_hash());
    }

    #[test]
    fn repeat_counts_above_go_s_limit_are_refused_before_compiling() {
        // Found by fuzzing: `.{91000}` compiled in 0.4 s; Go refuses it.
        let e = compile_anchored(".{091000}").unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::BadData, "error parsing regexp: invalid repeat count: `{091000}`")
        );
        let e = compile_anchored("(a|b){2,1001}").unwrap_err();
        assert_eq!(e.message(), "error parsing regexp: invalid repeat count: `{2,1001}`");
        assert!(compile_anchored("a{1000}").unwrap().is_match(&"a".repeat(1000)));
        assert!(compile_anchored("x{3,}").unwrap().is_match("xxxx"));
        // A pattern the parser refuses keeps the regex crate's message.
        assert!(compile_anchored("(").unwrap_err().message().starts_with("error parsing regexp: "));
    }

    #[test]
    fn external_labels_are_checked_and_dropped() {
        let ext = Labels::from_pairs([("cluster", "eu1")]);
        let re = Matcher::new(MatchOp::Regex, "cluster", "eu.*").unwrap();
        assert_eq!(
            matches_external_labels(&[re, Matcher::equal("job", "x")], &ext),
            Some(vec![Matcher::equal("job", "x")])
        );
        assert_eq!(matches_external_labels(&[Matcher::equal("cluster", "us1")], &ext), None);
        assert_eq!(matches_external_labels(&[Matcher::equal("cluster", "x")], &Labels::new()).unwrap().len(), 1);
    }

    #[test]
    fn sets_are_sorted_and_drop_empty_values() {
        let l = Labels::from_pairs([("job", "api"), ("__name__", "up"), ("empty", ""), ("job", "web")]);
        assert_eq!(l.to_string(), r#"{__name__="up", job="web"}"#);
        assert_eq!(l.get("job"), "web");
        assert_eq!(l.get("missing"), "");
        assert_eq!(l.metric_name(), "up");
        assert_eq!(l.without_metric_name().to_string(), r#"{job="web"}"#);
    }

    #[test]
    fn compare_is_prometheus_order() {
        let a = Labels::from_pairs([("a", "1")]);
        let ab = Labels::from_pairs([("a", "1"), ("b", "1")]);
        let a2 = Labels::from_pairs([("a", "2")]);
        let b = Labels::from_pairs([("b", "0")]);
        let mut v = vec![b.clone(), a2.clone(), ab.clone(), a.clone()];
        v.sort();
        assert_eq!(v, vec![a, ab, a2, b]);
    }

    #[test]
    fn regex_matchers_are_anchored() {
        let m = Matcher::new(MatchOp::Regex, "job", "a.*").unwrap();
        assert!(m.matches("abc") && !m.matches("cab"));
        // As in Prometheus 2.42, `.` stops at a newline.
        assert!(!Matcher::new(MatchOp::Regex, "x", ".*").unwrap().matches("a\nb"));
        let alt = Matcher::new(MatchOp::Regex, "job", "a|b").unwrap();
        assert!(alt.matches("a") && alt.matches("b") && !alt.matches("ab"));
        let ci = Matcher::new(MatchOp::Regex, "x", "((?i)PRO).*").unwrap();
        assert!(ci.matches("prometheus"));
    }

    #[test]
    fn missing_labels_match_as_empty() {
        let l = Labels::from_pairs([("a", "1")]);
        assert!(Matcher::equal("b", "").matches_labels(&l));
        assert!(Matcher::new(MatchOp::NotEqual, "b", "x").unwrap().matches_labels(&l));
        assert!(Matcher::new(MatchOp::Regex, "b", "x|").unwrap().matches_empty());
    }

    #[test]
    fn bad_regex_is_bad_data() {
        let e = Matcher::new(MatchOp::Regex, "a", "(").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadData);
        assert!(e.message().starts_with("error parsing regexp: "), "{}", e.message());
    }

    #[test]
    fn quoting_follows_go() {
        assert_eq!(quote("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(quote("é"), "\"é\"");
    }
}
