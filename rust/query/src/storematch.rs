//! `storeMatch[]`: which stores a request may use, as Thanos's querier reads
//! the parameter: series selectors matched against each store's
//! `__address__`. As in Thanos's `labelSetsMatch`, a matcher on any other
//! label is ignored (the store has no such label to fail it).

use thanos_core::labels::Matcher;

/// The one label a store has for `storeMatch[]`.
pub const ADDRESS_LABEL: &str = "__address__";

/// Whether the store at `address` is admitted: no sets, or any set whose
/// `__address__` matchers all match.
pub fn store_matches(sets: &[Vec<Matcher>], address: &str) -> bool {
    sets.is_empty() || sets.iter().any(|set| set.iter().all(|m| m.name != ADDRESS_LABEL || m.matches(address)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_promql::parser::parse_metric_selector;

    fn sets(selectors: &[&str]) -> Vec<Vec<Matcher>> {
        selectors.iter().map(|s| parse_metric_selector(s).unwrap()).collect()
    }

    #[test]
    fn addresses_are_matched_and_other_labels_ignored() {
        assert!(store_matches(&[], "a:1"));
        let only_a = sets(&[r#"{__address__="a:1"}"#]);
        assert!(store_matches(&only_a, "a:1") && !store_matches(&only_a, "b:1"));
        let either = sets(&[r#"{__address__="a:1"}"#, r#"{__address__=~"b:.*", job="x"}"#]);
        assert!(store_matches(&either, "a:1") && store_matches(&either, "b:9") && !store_matches(&either, "c:1"));
        assert!(store_matches(&sets(&[r#"{job="x"}"#]), "c:1"));
    }
}
