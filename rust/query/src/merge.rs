//! The k-way merge of the stores' sorted series streams (Thanos's
//! `ProxyStore.Series`): series with equal labels from several stores become
//! one, their chunks merged in time order, identical chunks kept once.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::response::{sort_chunks, StoreSeries, StoreSet};

/// The head of one store's stream in the merge heap.
struct Head {
    store: usize,
    series: StoreSeries,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    /// By labels, then by store so that equal series merge in a fixed order.
    fn cmp(&self, other: &Self) -> Ordering {
        self.series.labels.cmp(&other.series.labels).then(self.store.cmp(&other.store))
    }
}

/// Merges the stores' answers into one stream sorted by labels with each
/// label set once. Warnings are concatenated in store order.
pub fn merge(sets: Vec<StoreSet>) -> StoreSet {
    let mut warnings = Vec::new();
    let mut streams = Vec::with_capacity(sets.len());
    let mut total = 0;
    for set in sets {
        warnings.extend(set.warnings);
        total += set.series.len();
        streams.push(set.series.into_iter());
    }
    if streams.len() == 1 {
        return StoreSet { series: streams.pop().unwrap().collect(), warnings };
    }
    let mut heap = BinaryHeap::with_capacity(streams.len());
    for (store, stream) in streams.iter_mut().enumerate() {
        if let Some(series) = stream.next() {
            heap.push(Reverse(Head { store, series }));
        }
    }
    let mut out: Vec<StoreSeries> = Vec::with_capacity(total);
    let mut merged_any = false;
    while let Some(Reverse(Head { store, series })) = heap.pop() {
        if let Some(next) = streams[store].next() {
            heap.push(Reverse(Head { store, series: next }));
        }
        match out.last_mut() {
            Some(last) if last.labels == series.labels => {
                last.chunks.extend(series.chunks);
                merged_any = true;
            }
            _ => out.push(series),
        }
    }
    if merged_any {
        out.iter_mut().for_each(|s| sort_chunks(&mut s.chunks));
    }
    StoreSet { series: out, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::ChunkRef;
    use bytes::Bytes;
    use thanos_core::labels::Labels;

    fn series(v: &str, chunks: &[(i64, &'static [u8])]) -> StoreSeries {
        StoreSeries {
            labels: Labels::from_pairs([("a", v)]),
            chunks: chunks.iter().map(|&(t, d)| ChunkRef::raw(t, t + 9, Bytes::from_static(d))).collect(),
        }
    }

    fn set(series: Vec<StoreSeries>, warnings: &[&str]) -> StoreSet {
        StoreSet { series, warnings: warnings.iter().map(|w| w.to_string()).collect() }
    }

    #[test]
    fn merges_sorted_streams_and_collapses_identical_chunks() {
        let a = set(vec![series("1", &[(0, b"x"), (10, b"y")]), series("3", &[(0, b"z")])], &["w1"]);
        let b = set(vec![series("1", &[(10, b"y"), (20, b"q")]), series("2", &[(0, b"r")])], &[]);
        let c = set(vec![], &["w2"]);
        let got = merge(vec![a, b, c]);
        assert_eq!(got.warnings, vec!["w1", "w2"]);
        let shape: Vec<(String, Vec<i64>)> = got
            .series
            .iter()
            .map(|s| (s.labels.get("a").to_string(), s.chunks.iter().map(|c| c.min_time).collect()))
            .collect();
        assert_eq!(shape, vec![("1".into(), vec![0, 10, 20]), ("2".into(), vec![0]), ("3".into(), vec![0])]);
    }

    #[test]
    fn different_chunks_at_the_same_time_are_both_kept() {
        let a = set(vec![series("1", &[(0, b"x")])], &[]);
        let b = set(vec![series("1", &[(0, b"y")])], &[]);
        assert_eq!(merge(vec![a, b]).series[0].chunks.len(), 2);
    }
}
