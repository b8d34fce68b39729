//! From label matchers to series IDs, as Prometheus 2.42 does it
//! (`PostingsForMatchers`, `postingsForMatcher`, `inversePostingsForMatcher`,
//! `labelValuesWithMatchers` and `labelNamesWithMatchers` in `tsdb/querier.go`).
//!
//! The rule that shapes it: a matcher that matches the empty string also
//! selects the series that do not have its label at all (`{a=""}`, `{a!="x"}`,
//! `{a=~"x|"}`; prometheus/prometheus#3575). Such matchers cannot be answered
//! from their label's postings alone, so they are turned around: the series
//! whose value does *not* match are read from the postings and subtracted.
//!
//! The same logic serves a block's index file and the head's in-memory index
//! (Prometheus runs it over both through its `IndexReader` interface): both
//! implement [`PostingsIndex`].

use thanos_core::labels::{MatchOp, Matcher};
use thanos_core::Result;

use crate::index::postings::{self, Postings};

/// What matchers need from an index: postings by label pair and the values of
/// a label. Series IDs are the index's own; lists are sorted ascending.
pub trait PostingsIndex {
    /// The series that have `name` set to any of `values` (their union).
    fn postings(&self, name: &str, values: &[&str]) -> Result<Postings>;
    /// Every series of the index.
    fn all_postings(&self) -> Result<Postings>;
    /// The values of label `name`, sorted.
    fn label_values(&self, name: &str) -> Result<Vec<&str>>;
    /// Each value of `name` with its postings, in value order.
    fn label_value_postings(&self, name: &str) -> Result<Vec<(&str, Postings)>>;
    /// The label names the series `ids` hold, sorted and unique.
    fn label_names_for(&self, ids: &[u32]) -> Result<Vec<&str>>;
    /// Every label name of the index, sorted.
    fn label_names(&self) -> Vec<&str>;
}

/// The label names of the index, or of the series the matchers select;
/// sorted. Series count whatever their samples, as in Prometheus.
pub fn label_names<I: PostingsIndex + ?Sized>(ix: &I, matchers: &[Matcher]) -> Result<Vec<String>> {
    let names = if matchers.is_empty() { ix.label_names() } else { label_names_with_matchers(ix, matchers)? };
    Ok(names.into_iter().map(str::to_string).collect())
}

/// The values of label `name` in the index, or on the series the matchers
/// select; sorted.
pub fn label_values<I: PostingsIndex + ?Sized>(ix: &I, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
    let values =
        if matchers.is_empty() { ix.label_values(name)? } else { label_values_with_matchers(ix, name, matchers)? };
    Ok(values.into_iter().map(str::to_string).collect())
}

/// The IDs of the series that every matcher selects, ascending. No matchers
/// select nothing, as in Prometheus (`Intersect()` of no lists is empty).
pub fn postings_for_matchers<I: PostingsIndex + ?Sized>(ix: &I, ms: &[Matcher]) -> Result<Postings> {
    // Lists to intersect and lists to subtract from the intersection.
    let mut its: Vec<Postings> = Vec::new();
    let mut not_its: Vec<Postings> = Vec::new();
    // A label that some matcher requires to be set (it does not match ""):
    // then a negative matcher on it can be a plain subtraction.
    let must_be_set = |name: &str| ms.iter().any(|m| m.name == name && !m.matches_empty());

    for m in ms {
        if m.name.is_empty() && m.value.is_empty() {
            // Prometheus's special case for the all-postings key, used by its tests.
            its.push(ix.all_postings()?);
        } else if must_be_set(&m.name) {
            let matches_empty = m.matches_empty();
            let is_not = matches!(m.op, MatchOp::NotEqual | MatchOp::NotRegex);
            if is_not && matches_empty {
                // {l=~".+", l!="foo"}: subtract the series with l="foo".
                not_its.push(postings_for_matcher(ix, &inverse(m)?)?);
            } else if is_not {
                // {l!=""}: the series whose value is not "", i.e. that have l.
                let it = inverse_postings_for_matcher(ix, &inverse(m)?)?;
                if it.is_empty() {
                    return Ok(Vec::new());
                }
                its.push(it);
            } else {
                // {l="a"}, {l=~"a.*"}.
                let it = postings_for_matcher(ix, m)?;
                if it.is_empty() {
                    return Ok(Vec::new());
                }
                its.push(it);
            }
        } else {
            // {l=""}, {l!="a"} alone: everything minus the series whose value
            // does not match (those without l are kept).
            not_its.push(inverse_postings_for_matcher(ix, m)?);
        }
    }
    if its.is_empty() && !not_its.is_empty() {
        its.push(ix.all_postings()?);
    }
    let mut it = postings::intersect(its);
    for n in &not_its {
        if it.is_empty() {
            break;
        }
        it = postings::without(&it, n);
    }
    Ok(it)
}

/// The matcher that selects what `m` rejects (`Matcher.Inverse`).
fn inverse(m: &Matcher) -> Result<Matcher> {
    let op = match m.op {
        MatchOp::Equal => MatchOp::NotEqual,
        MatchOp::NotEqual => MatchOp::Equal,
        MatchOp::Regex => MatchOp::NotRegex,
        MatchOp::NotRegex => MatchOp::Regex,
    };
    Matcher::new(op, m.name.clone(), m.value.clone())
}

/// The series whose `m.name` is set to a value `m` matches (never the series
/// without the label).
fn postings_for_matcher<I: PostingsIndex + ?Sized>(ix: &I, m: &Matcher) -> Result<Postings> {
    if m.op == MatchOp::Equal {
        return ix.postings(&m.name, &[m.value.as_str()]);
    }
    if m.op == MatchOp::Regex {
        if let Some(set) = set_matches(&m.value) {
            return ix.postings(&m.name, &set);
        }
    }
    let values: Vec<&str> = ix.label_values(&m.name)?.into_iter().filter(|v| m.matches(v)).collect();
    if values.is_empty() {
        return Ok(Vec::new());
    }
    ix.postings(&m.name, &values)
}

/// The series that have `m.name` set to a value `m` does not match.
fn inverse_postings_for_matcher<I: PostingsIndex + ?Sized>(ix: &I, m: &Matcher) -> Result<Postings> {
    let all = ix.label_values(&m.name)?;
    let values: Vec<&str> = if m.op == MatchOp::Equal && m.value.is_empty() {
        all // Every value is not "".
    } else {
        all.into_iter().filter(|v| !m.matches(v)).collect()
    };
    ix.postings(&m.name, &values)
}

/// The literal alternatives of a regex such as `a|b|c`, which then select by
/// equality instead of testing every value of the label (Prometheus's
/// `findSetMatches`, simplified: only alternatives without any regex syntax).
fn set_matches(pattern: &str) -> Option<Vec<&str>> {
    const META: &[char] = &['\\', '.', '+', '*', '?', '(', ')', '[', ']', '{', '}', '^', '$'];
    if pattern.contains(META) {
        return None;
    }
    Some(pattern.split('|').collect())
}

/// The values of `name` on the series the matchers select, sorted
/// (`labelValuesWithMatchers`).
pub fn label_values_with_matchers<'a, I: PostingsIndex + ?Sized>(
    ix: &'a I,
    name: &str,
    ms: &[Matcher],
) -> Result<Vec<&'a str>> {
    let p = postings_for_matchers(ix, ms)?;
    if p.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (value, list) in ix.label_value_postings(name)? {
        if postings::intersects(&p, &list) {
            out.push(value);
        }
    }
    Ok(out)
}

/// The label names of the series the matchers select, sorted
/// (`labelNamesWithMatchers`).
pub fn label_names_with_matchers<'a, I: PostingsIndex + ?Sized>(ix: &'a I, ms: &[Matcher]) -> Result<Vec<&'a str>> {
    let p = postings_for_matchers(ix, ms)?;
    ix.label_names_for(&p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_matches_only_for_plain_alternations() {
        assert_eq!(set_matches("a|b|c"), Some(vec!["a", "b", "c"]));
        assert_eq!(set_matches("host-1:9100"), Some(vec!["host-1:9100"]));
        assert_eq!(set_matches("a|"), Some(vec!["a", ""]));
        assert_eq!(set_matches("a.*"), None);
        assert_eq!(set_matches("(?i)a"), None);
        assert_eq!(set_matches("a\\|b"), None);
    }
}
