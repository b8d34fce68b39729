//! Label sets on the wire (`pkg/store/labelpb` upstream): conversions between
//! the protobuf labels and [`Labels`], and the external-label merge a sidecar
//! applies to every series it serves.

use thanos_core::labels::Labels;

use crate::pb::thanos;

/// The series labels with the external labels added, sorted by name. On a name
/// clash the external value wins: Prometheus's remote read merges the other way
/// round (`MergeLabels` keeps the series' own value), and Thanos re-applies its
/// own merge on top so every series of a sidecar carries its external labels.
/// Labels named in `without` (the request's `without_replica_labels`) are left
/// out of the result.
///
/// Both inputs are sorted by name, so this is one merge pass; the strings stay
/// where they are and are written out from there.
pub fn extend_sorted<'a, 's: 'a, 'e: 'a>(
    series: impl IntoIterator<Item = (&'s str, &'s str)>,
    external: &'e Labels,
    without: &[String],
) -> Vec<(&'a str, &'a str)> {
    let series = series.into_iter();
    let mut out = Vec::with_capacity(series.size_hint().0 + external.len());
    let keep = |name: &str| !without.iter().any(|w| w == name);
    let mut ext = external.iter().map(|e| (e.name.as_str(), e.value.as_str())).peekable();
    for (name, value) in series {
        while let Some(e) = ext.next_if(|e| e.0 < name) {
            if keep(e.0) {
                out.push(e);
            }
        }
        // On a clash the external label, next in line, wins.
        if keep(name) && ext.peek().is_none_or(|e| e.0 != name) {
            out.push((name, value));
        }
    }
    out.extend(ext.filter(|e| keep(e.0)));
    out
}

/// A [`Labels`] as the wire's label list.
pub fn to_proto(labels: &Labels) -> Vec<thanos::Label> {
    labels.iter().map(|l| thanos::Label { name: l.name.clone(), value: l.value.clone() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_labels_are_added_in_order_and_win_clashes() {
        let ext = Labels::from_pairs([("cluster", "eu1"), ("replica", "0"), ("zone", "z")]);
        let series = [("__name__", "up"), ("job", "api"), ("replica", "series-own")];
        let out = extend_sorted(series, &ext, &[]);
        assert_eq!(out, [("__name__", "up"), ("cluster", "eu1"), ("job", "api"), ("replica", "0"), ("zone", "z")]);
    }

    #[test]
    fn without_replica_labels_drops_them_wherever_they_come_from() {
        let ext = Labels::from_pairs([("cluster", "eu1"), ("replica", "0")]);
        let series = [("__name__", "up"), ("replica", "x")];
        let out = extend_sorted(series, &ext, &["replica".to_string()]);
        assert_eq!(out, [("__name__", "up"), ("cluster", "eu1")]);
    }

    #[test]
    fn no_external_labels_keeps_the_series() {
        let series = [("a", "1"), ("b", "2")];
        assert_eq!(extend_sorted(series, &Labels::new(), &[]), [("a", "1"), ("b", "2")]);
        let ext = Labels::from_pairs([("0first", "x")]);
        assert_eq!(extend_sorted([], &ext, &[]), [("0first", "x")]);
    }
}
