//! Label sets on the wire (`pkg/store/labelpb` upstream): conversions between
//! the protobuf labels and [`Labels`], and the external-label merge a sidecar
//! applies to every series it serves.

use thanos_core::labels::Labels;

use crate::pb::{prometheus, thanos};

/// The series labels with the external labels added, sorted by name. On a name
/// clash the external value wins: Prometheus's remote read merges the other way
/// round (`MergeLabels` keeps the series' own value), and Thanos re-applies its
/// own merge on top so every series of a sidecar carries its external labels.
/// Labels named in `without` (the request's `without_replica_labels`) are left
/// out of the result.
///
/// Both inputs are sorted by name, so this is one merge pass.
pub fn extend_sorted(series: Vec<prometheus::Label>, external: &Labels, without: &[String]) -> Vec<thanos::Label> {
    let mut out = Vec::with_capacity(series.len() + external.len());
    let keep = |name: &str| !without.iter().any(|w| w == name);
    let mut ext = external.iter().peekable();
    for l in series {
        while let Some(e) = ext.next_if(|e| e.name < l.name) {
            if keep(&e.name) {
                out.push(thanos::Label { name: e.name.clone(), value: e.value.clone() });
            }
        }
        // On a clash the external label, next in line, wins.
        if keep(&l.name) && ext.peek().is_none_or(|e| e.name != l.name) {
            // The series' own strings move: decoded once, never copied.
            out.push(thanos::Label { name: l.name, value: l.value });
        }
    }
    for e in ext.filter(|e| keep(&e.name)) {
        out.push(thanos::Label { name: e.name.clone(), value: e.value.clone() });
    }
    out
}

/// A [`Labels`] as the wire's label list.
pub fn to_proto(labels: &Labels) -> Vec<thanos::Label> {
    labels.iter().map(|l| thanos::Label { name: l.name.clone(), value: l.value.clone() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prom(pairs: &[(&str, &str)]) -> Vec<prometheus::Label> {
        pairs.iter().map(|(n, v)| prometheus::Label { name: n.to_string(), value: v.to_string() }).collect()
    }

    fn pairs(labels: &[thanos::Label]) -> Vec<(&str, &str)> {
        labels.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect()
    }

    #[test]
    fn external_labels_are_added_in_order_and_win_clashes() {
        let ext = Labels::from_pairs([("cluster", "eu1"), ("replica", "0"), ("zone", "z")]);
        let series = prom(&[("__name__", "up"), ("job", "api"), ("replica", "series-own")]);
        let out = extend_sorted(series, &ext, &[]);
        assert_eq!(
            pairs(&out),
            [("__name__", "up"), ("cluster", "eu1"), ("job", "api"), ("replica", "0"), ("zone", "z")]
        );
    }

    #[test]
    fn without_replica_labels_drops_them_wherever_they_come_from() {
        let ext = Labels::from_pairs([("cluster", "eu1"), ("replica", "0")]);
        let series = prom(&[("__name__", "up"), ("replica", "x")]);
        let out = extend_sorted(series, &ext, &["replica".to_string()]);
        assert_eq!(pairs(&out), [("__name__", "up"), ("cluster", "eu1")]);
    }

    #[test]
    fn no_external_labels_keeps_the_series() {
        let series = prom(&[("a", "1"), ("b", "2")]);
        assert_eq!(pairs(&extend_sorted(series, &Labels::new(), &[])), [("a", "1"), ("b", "2")]);
        let ext = Labels::from_pairs([("0first", "x")]);
        assert_eq!(pairs(&extend_sorted(Vec::new(), &ext, &[])), [("0first", "x")]);
    }
}
