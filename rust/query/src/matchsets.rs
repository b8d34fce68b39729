//! `match[]` lists in as few store calls as they allow. The StoreAPI has no
//! "or" of matcher sets, so each set costs one call per store (and, through a
//! sidecar, one request to Prometheus): about 5 ms each end to end. Sets that
//! differ only in one label's `=` or `=~` matcher, as Grafana's lists of
//! metric names do (`{__name__="a"}`, `{__name__="b"}`), select exactly the
//! union of their series as one set with an alternation (`{__name__=~"a|b"}`),
//! which Prometheus answers from its set-matcher fast path.

use std::collections::{BTreeMap, BTreeSet};

use thanos_core::labels::{MatchOp, Matcher};

/// The matcher sets to ask for: the union of their series is the union of
/// `sets`' series. Order follows the first set of each group.
pub fn combine(sets: Vec<Vec<Matcher>>) -> Vec<Vec<Matcher>> {
    let mut sets: Vec<Vec<Matcher>> = sets.into_iter().map(normalized).collect();
    dedup_keep_order(&mut sets);
    while let Some(label) = best_label(&sets) {
        let merged = merge_on(&sets, &label);
        if merged.len() == sets.len() {
            break; // every alternation failed to compile: nothing left to gain
        }
        sets = merged;
    }
    sets
}

fn normalized(mut set: Vec<Matcher>) -> Vec<Matcher> {
    set.sort_by(|a, b| (&a.name, a.op.as_str(), &a.value).cmp(&(&b.name, b.op.as_str(), &b.value)));
    set.dedup();
    set
}

/// Drops repeated sets in one pass: a form body may hold hundreds of
/// thousands of `match[]`.
fn dedup_keep_order(sets: &mut Vec<Vec<Matcher>>) {
    let mut seen = BTreeSet::new();
    sets.retain(|s| {
        let owned: Vec<(String, &str, String)> =
            s.iter().map(|m| (m.name.clone(), m.op.as_str(), m.value.clone())).collect();
        seen.insert(owned)
    });
}

/// Where `set` can vary on `label`: its one matcher there, if that is `=` or
/// `=~`; and the rest of the set, which must be equal for sets to merge.
fn split_on<'a>(set: &'a [Matcher], label: &str) -> Option<(&'a Matcher, Vec<&'a Matcher>)> {
    let mut on = set.iter().filter(|m| m.name == label);
    let m = on.next()?;
    if on.next().is_some() || !matches!(m.op, MatchOp::Equal | MatchOp::Regex) {
        return None;
    }
    Some((m, set.iter().filter(|m| m.name != label).collect()))
}

type Key<'a> = Vec<(&'a str, &'static str, &'a str)>;

fn key<'a>(rest: &[&'a Matcher]) -> Key<'a> {
    rest.iter().map(|m| (m.name.as_str(), m.op.as_str(), m.value.as_str())).collect()
}

/// The label whose merging removes the most sets, if any removes one.
fn best_label(sets: &[Vec<Matcher>]) -> Option<String> {
    let mut labels: Vec<&str> = sets.iter().flatten().map(|m| m.name.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let mut best: Option<(usize, &str)> = None;
    for label in labels {
        let mut groups: BTreeMap<Key, usize> = BTreeMap::new();
        for set in sets {
            if let Some((_, rest)) = split_on(set, label) {
                *groups.entry(key(&rest)).or_default() += 1;
            }
        }
        let gain: usize = groups.values().map(|n| n - 1).sum();
        if gain > 0 && best.is_none_or(|(g, _)| gain > g) {
            best = Some((gain, label));
        }
    }
    best.map(|(_, l)| l.to_string())
}

/// `sets` with those that differ only on `label` merged into one each.
fn merge_on(sets: &[Vec<Matcher>], label: &str) -> Vec<Vec<Matcher>> {
    let mut order: Vec<Key> = Vec::new();
    let mut groups: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    let mut out: Vec<Option<Vec<Matcher>>> = vec![None; sets.len()];
    for (i, set) in sets.iter().enumerate() {
        match split_on(set, label) {
            Some((_, rest)) => {
                let k = key(&rest);
                if !groups.contains_key(&k) {
                    order.push(k.clone());
                }
                groups.entry(k).or_default().push(i);
            }
            None => out[i] = Some(set.clone()),
        }
    }
    for k in order {
        let members = &groups[&k];
        let merged = if members.len() > 1 { alternation(members.iter().map(|&i| &sets[i]), label) } else { None };
        match merged {
            Some(set) => out[members[0]] = Some(set),
            // One member, or too big a regex: every member stays as it is.
            None => members.iter().for_each(|&i| out[i] = Some(sets[i].clone())),
        }
    }
    out.into_iter().flatten().collect()
}

/// The shared matchers plus one `label=~"alt1|alt2|..."`; None if the
/// regex does not compile (too large).
fn alternation<'a>(members: impl Iterator<Item = &'a Vec<Matcher>>, label: &str) -> Option<Vec<Matcher>> {
    let mut alts = Vec::new();
    let mut rest = Vec::new();
    for set in members {
        let (m, r) = split_on(set, label)?;
        alts.push(match m.op {
            MatchOp::Equal => quote_meta(&m.value),
            _ => format!("(?:{})", m.value),
        });
        rest = r;
    }
    let on = Matcher::new(MatchOp::Regex, label, alts.join("|")).ok()?;
    let mut set: Vec<Matcher> = rest.into_iter().cloned().collect();
    set.push(on);
    Some(normalized(set))
}

/// A literal as an RE2 pattern: Go's `regexp.QuoteMeta`, so that every store
/// (Go or Rust) reads it the same.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_core::labels::Labels;
    use thanos_promql::parser::parse_metric_selector;

    fn sets(selectors: &[&str]) -> Vec<Vec<Matcher>> {
        selectors.iter().map(|s| parse_metric_selector(s).unwrap()).collect()
    }

    fn shown(sets: &[Vec<Matcher>]) -> Vec<String> {
        sets.iter().map(|s| s.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(",")).collect()
    }

    #[test]
    fn metric_names_become_one_alternation() {
        let got = combine(sets(&["up", "go_goroutines", "process_cpu_seconds_total", "up"]));
        assert_eq!(shown(&got), [r#"__name__=~"up|go_goroutines|process_cpu_seconds_total""#]);
    }

    #[test]
    fn only_sets_that_differ_in_one_label_merge() {
        let got = combine(sets(&[
            r#"up{job="a"}"#,
            r#"up{job="b"}"#,
            r#"up{job=~"c.*", env="prod"}"#,
            r#"go_goroutines{job!="a"}"#,
        ]));
        assert_eq!(
            shown(&got),
            [
                r#"__name__="up",job=~"a|b""#,
                r#"__name__="up",env="prod",job=~"c.*""#,
                r#"__name__="go_goroutines",job!="a""#
            ]
        );
    }

    #[test]
    fn regexes_and_literals_keep_their_meaning() {
        let got = combine(sets(&[r#"{__name__=~"http_.*|rpc_.*"}"#, r#"{__name__="a.b+c"}"#]));
        assert_eq!(shown(&got), [r#"__name__=~"(?:http_.*|rpc_.*)|a\\.b\\+c""#]);
        let m = &got[0][0];
        for (name, want) in [("http_x", true), ("rpc_y", true), ("a.b+c", true), ("aXbbc", false), ("x_http_", false)] {
            assert_eq!(m.matches(name), want, "{name}");
        }
    }

    #[test]
    fn many_sets_are_combined_in_one_pass() {
        // About what a 10 MB form body holds; each of these would be a store call.
        let many: Vec<String> = (0..200_000).map(|i| format!("up{{job=\"j{}\"}}", i % 50_000)).collect();
        let got = combine(sets(&many.iter().map(String::as_str).collect::<Vec<_>>()));
        assert_eq!(got.len(), 1);
        assert!(got[0].iter().any(|m| m.name == "job" && m.matches("j49999") && !m.matches("j50000")));
    }

    #[test]
    fn the_union_of_series_is_unchanged() {
        let selectors = [
            r#"up{job="a"}"#,
            r#"up{job="b"}"#,
            r#"up{job=""}"#,
            r#"x{job="a"}"#,
            r#"{__name__=~"y|z", job="a"}"#,
            r#"up{job=~"c|d", env!="dev"}"#,
        ];
        let (before, after) = (sets(&selectors), combine(sets(&selectors)));
        assert!(after.len() < before.len());
        for name in ["up", "x", "y", "z", "w"] {
            for job in ["", "a", "b", "c", "d", "e"] {
                for env in ["", "dev", "prod"] {
                    let series = Labels::from_pairs([("__name__", name), ("job", job), ("env", env)]);
                    let any = |s: &[Vec<Matcher>]| s.iter().any(|set| set.iter().all(|m| m.matches_labels(&series)));
                    assert_eq!(any(&before), any(&after), "{series:?}");
                }
            }
        }
    }
}
