//! The head's inverted index, kept in memory and changed as series come and
//! go (`MemPostings` in `tsdb/index/postings.go` and `headIndexReader` in
//! `tsdb/head_read.go` at v2.42.0): label strings interned once, and for
//! each label pair the ascending IDs of the series that hold it.
//!
//! Series IDs are given out in increasing order, so a new series goes at the
//! end of its lists and they stay sorted without a search. IDs are not
//! reused; [`HeadIndex::renumber`] closes the gaps that removed series leave,
//! keeping the order.

use std::cmp::Ordering;
use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use thanos_core::labels::{Label, Labels};
use thanos_core::Result;

use crate::index::postings::{self, Postings};
use crate::index::ALL_POSTINGS_KEY;
use crate::querier::PostingsIndex;

/// A series' labels as (name, value) symbol IDs, sorted by name.
pub(crate) type LabelRefs = Box<[(u32, u32)]>;

/// Interned strings, counted by the label pairs that use them and freed with
/// the last one.
#[derive(Default)]
struct Symbols {
    strs: Vec<Option<Arc<str>>>,
    counts: Vec<u32>,
    free: Vec<u32>,
    ids: HashMap<Arc<str>, u32>,
    string_bytes: usize,
}

impl Symbols {
    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            self.counts[id as usize] += 1;
            return id;
        }
        let a: Arc<str> = Arc::from(s);
        let id = match self.free.pop() {
            Some(id) => {
                self.strs[id as usize] = Some(a.clone());
                self.counts[id as usize] = 1;
                id
            }
            None => {
                self.strs.push(Some(a.clone()));
                self.counts.push(1);
                (self.strs.len() - 1) as u32
            }
        };
        self.ids.insert(a, id);
        self.string_bytes += s.len();
        id
    }

    fn release(&mut self, id: u32) {
        let Some(c) = self.counts.get_mut(id as usize) else { return };
        *c = c.saturating_sub(1);
        if *c == 0 {
            if let Some(s) = self.strs[id as usize].take() {
                self.ids.remove(&*s);
                self.string_bytes -= s.len();
                self.free.push(id);
            }
        }
    }

    fn str(&self, id: u32) -> &str {
        self.strs.get(id as usize).and_then(|s| s.as_deref()).unwrap_or("")
    }

    /// The strings and the tables that find them.
    fn heap_bytes(&self) -> usize {
        // Each string lives once, behind an `Arc` header of two counters.
        self.string_bytes
            + self.ids.len() * 16
            + self.strs.capacity() * size_of::<Option<Arc<str>>>()
            + self.counts.capacity() * 4
            + self.free.capacity() * 4
            + self.ids.capacity() * (size_of::<(Arc<str>, u32)>() + 1)
    }
}

/// A postings entry with this bit set is the index of a list in
/// [`HeadIndex::lists`]; without it, the one series that holds the pair
/// (most pairs of a high-cardinality label have one).
const LIST_FLAG: u32 = 1 << 31;

/// Label pairs to series IDs and back.
#[derive(Default)]
pub(crate) struct HeadIndex {
    symbols: Symbols,
    /// Name symbol -> value symbol -> a series ID, or a list (see [`LIST_FLAG`]).
    postings: HashMap<u32, HashMap<u32, u32>>,
    /// Postings lists of two or more series IDs, ascending.
    lists: Vec<Vec<u32>>,
    /// Indices of `lists` not in use.
    free_lists: Vec<u32>,
    /// The labels of each series ID; `None` once the series is removed.
    labels: Vec<Option<LabelRefs>>,
    /// A hash of each label set -> the series that has it, to find a series
    /// by its labels; a second label set with the same hash goes to `collisions`.
    by_hash: HashMap<u32, u32>,
    collisions: HashMap<u32, Vec<u32>>,
    live: usize,
    /// Each series ID's position among the series sorted by labels, computed
    /// when a selection first needs it after series came or went. Selections
    /// sort by it instead of comparing label strings: the series of a head
    /// change rarely, selections are every query.
    label_order: OnceLock<Vec<u32>>,
}

/// Pushes onto a vector of one entry per series, growing it by an eighth
/// instead of doubling it: amortized constant still, and at most an eighth
/// of the entries idle instead of half.
pub(crate) fn push_slowly_growing<T>(v: &mut Vec<T>, x: T) {
    if v.len() == v.capacity() {
        v.reserve_exact(v.len() / 8 + 64);
    }
    v.push(x);
}

/// Hashes a label set from its strings. 32 bits are plenty: a series found
/// by its hash is compared label by label.
fn hash_labels<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> u32 {
    // Fixed keys: the hashes are only compared within one process.
    let mut h = DefaultHasher::new();
    for (n, v) in labels {
        n.hash(&mut h);
        v.hash(&mut h);
    }
    h.finish() as u32
}

impl HeadIndex {
    /// The number of series.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    fn pairs<'a>(&'a self, refs: &'a [(u32, u32)]) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        refs.iter().map(|&(n, v)| (self.symbols.str(n), self.symbols.str(v)))
    }

    /// The ID of the series with exactly these labels.
    pub(crate) fn find(&self, labels: &Labels) -> Option<u32> {
        let h = hash_labels(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())));
        let first = self.by_hash.get(&h).into_iter();
        let more = self.collisions.get(&h).into_iter().flatten();
        first.chain(more).copied().find(|&id| {
            self.labels.get(id as usize).and_then(Option::as_deref).is_some_and(|refs| {
                refs.len() == labels.len()
                    && self.pairs(refs).zip(labels.iter()).all(|((n, v), l)| n == l.name && v == l.value)
            })
        })
    }

    /// Adds a series with `labels`, which no series has, and returns its ID.
    pub(crate) fn insert(&mut self, labels: &Labels) -> u32 {
        let id = self.labels.len() as u32;
        debug_assert!(id < LIST_FLAG, "series IDs stay below 2^31");
        let refs: LabelRefs =
            labels.iter().map(|l| (self.symbols.intern(&l.name), self.symbols.intern(&l.value))).collect();
        for &(n, v) in refs.iter() {
            match self.postings.entry(n).or_default().entry(v) {
                Entry::Occupied(mut e) => {
                    let p = e.get_mut();
                    if *p & LIST_FLAG != 0 {
                        if let Some(list) = self.lists.get_mut((*p & !LIST_FLAG) as usize) {
                            list.push(id);
                        }
                    } else {
                        let list = vec![*p, id];
                        *p = LIST_FLAG
                            | match self.free_lists.pop() {
                                Some(i) => {
                                    self.lists[i as usize] = list;
                                    i
                                }
                                None => {
                                    self.lists.push(list);
                                    (self.lists.len() - 1) as u32
                                }
                            };
                    }
                }
                Entry::Vacant(e) => {
                    e.insert(id);
                }
            }
        }
        let h = hash_labels(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())));
        match self.by_hash.entry(h) {
            Entry::Vacant(e) => {
                e.insert(id);
            }
            Entry::Occupied(_) => self.collisions.entry(h).or_default().push(id),
        }
        push_slowly_growing(&mut self.labels, Some(refs));
        self.live += 1;
        self.label_order = OnceLock::new();
        id
    }

    /// Removes the series `ids`.
    pub(crate) fn remove(&mut self, ids: &[u32]) {
        self.label_order = OnceLock::new();
        let mut removed: Vec<LabelRefs> = Vec::with_capacity(ids.len());
        for &id in ids {
            let Some(refs) = self.labels.get_mut(id as usize).and_then(Option::take) else { continue };
            let h = hash_labels(self.pairs(&refs));
            if self.by_hash.get(&h) == Some(&id) {
                // Another series with the same hash takes the place.
                match self.collisions.get_mut(&h).and_then(Vec::pop) {
                    Some(next) => {
                        self.by_hash.insert(h, next);
                    }
                    None => {
                        self.by_hash.remove(&h);
                    }
                }
            } else if let Some(c) = self.collisions.get_mut(&h) {
                c.retain(|&x| x != id);
            }
            if self.collisions.get(&h).is_some_and(Vec::is_empty) {
                self.collisions.remove(&h);
            }
            self.live -= 1;
            removed.push(refs);
        }
        // Lists of the pairs the removed series held, without the removed IDs.
        for refs in &removed {
            for &(n, v) in refs.iter() {
                let Some(values) = self.postings.get_mut(&n) else { continue };
                let Some(p) = values.get_mut(&v) else { continue };
                let labels = &self.labels;
                let alive = |id: &u32| labels.get(*id as usize).is_some_and(Option::is_some);
                let list = (*p & LIST_FLAG != 0).then(|| self.lists.get_mut((*p & !LIST_FLAG) as usize)).flatten();
                match list {
                    Some(list) => {
                        list.retain(alive);
                        if list.len() <= 1 {
                            let last = list.first().copied();
                            *list = Vec::new();
                            self.free_lists.push(*p & !LIST_FLAG);
                            match last {
                                Some(id) => *p = id,
                                None => {
                                    values.remove(&v);
                                }
                            }
                        }
                    }
                    None => {
                        if !alive(p) {
                            values.remove(&v);
                        }
                    }
                }
                if values.is_empty() {
                    self.postings.remove(&n);
                }
            }
        }
        for refs in removed {
            for &(n, v) in refs.iter() {
                self.symbols.release(n);
                self.symbols.release(v);
            }
        }
    }

    /// Gives new IDs: `map[old]` is the new ID of series `old`, in the same
    /// order, or `u32::MAX` for a removed one; `len` IDs in all.
    pub(crate) fn renumber(&mut self, map: &[u32], len: usize) {
        self.label_order = OnceLock::new();
        let m = |id: u32| map.get(id as usize).copied().unwrap_or(u32::MAX);
        let mut labels: Vec<Option<LabelRefs>> = (0..len).map(|_| None).collect();
        for (old, refs) in self.labels.drain(..).enumerate() {
            let new = m(old as u32);
            if let (Some(refs), Some(slot)) = (refs, labels.get_mut(new as usize)) {
                *slot = Some(refs);
            }
        }
        self.labels = labels;
        for values in self.postings.values_mut() {
            for p in values.values_mut().filter(|p| **p & LIST_FLAG == 0) {
                *p = m(*p);
            }
        }
        self.lists.iter_mut().flatten().for_each(|id| *id = m(*id));
        self.by_hash.values_mut().for_each(|id| *id = m(*id));
        self.collisions.values_mut().flatten().for_each(|id| *id = m(*id));
    }

    /// Compares two series' label sets as [`Labels`] compare: pair by pair,
    /// a prefix first.
    fn compare(&self, a: u32, b: u32) -> Ordering {
        let refs = |id: u32| self.labels.get(id as usize).and_then(Option::as_deref).unwrap_or_default();
        let (a, b) = (refs(a), refs(b));
        self.pairs(a).cmp(self.pairs(b))
    }

    /// Sorts series IDs by their labels.
    pub(crate) fn sort_by_labels(&self, ids: &mut [u32]) {
        let order = self.label_order.get_or_init(|| {
            let mut sorted: Vec<u32> = (0..self.labels.len() as u32).collect();
            sorted.sort_unstable_by(|&a, &b| self.compare(a, b));
            let mut order = vec![0; sorted.len()];
            for (position, id) in sorted.into_iter().enumerate() {
                order[id as usize] = position as u32;
            }
            order
        });
        ids.sort_unstable_by_key(|&id| order.get(id as usize).copied().unwrap_or(u32::MAX));
    }

    /// The labels of series `id` (empty for an ID without a series).
    pub(crate) fn labels(&self, id: u32) -> Labels {
        let Some(refs) = self.labels.get(id as usize).and_then(Option::as_deref) else {
            return Labels::new();
        };
        Labels::from_sorted(
            self.pairs(refs).map(|(n, v)| Label { name: n.to_string(), value: v.to_string() }).collect(),
        )
    }

    /// Every label name, sorted.
    pub(crate) fn label_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.postings.keys().map(|&n| self.symbols.str(n)).collect();
        names.sort_unstable();
        names
    }

    /// The series IDs of a postings entry.
    fn entry_ids<'a>(&'a self, p: &'a u32) -> &'a [u32] {
        if *p & LIST_FLAG == 0 {
            return std::slice::from_ref(p);
        }
        self.lists.get((*p & !LIST_FLAG) as usize).map_or(&[], Vec::as_slice)
    }

    fn list(&self, name: &str, value: &str) -> Option<&[u32]> {
        let n = self.symbols.get(name)?;
        let v = self.symbols.get(value)?;
        Some(self.entry_ids(self.postings.get(&n)?.get(&v)?))
    }

    /// Heap held, in bytes: the interned strings, and the rest.
    pub(crate) fn heap_bytes(&self) -> (usize, usize) {
        let strings = self.symbols.heap_bytes();
        let mut rest = self.labels.capacity() * size_of::<Option<LabelRefs>>();
        rest += self.labels.iter().flatten().map(|r| r.len() * 8).sum::<usize>();
        rest += self.postings.capacity() * (size_of::<(u32, HashMap<u32, u32>)>() + 1);
        rest += self.postings.values().map(|values| values.capacity() * (size_of::<(u32, u32)>() + 1)).sum::<usize>();
        rest += self.lists.capacity() * size_of::<Vec<u32>>() + self.free_lists.capacity() * 4;
        rest += self.lists.iter().map(|l| l.capacity() * 4).sum::<usize>();
        rest += self.by_hash.capacity() * (size_of::<(u32, u32)>() + 1);
        rest += self.collisions.values().map(|v| 32 + v.capacity() * 4).sum::<usize>();
        rest += self.label_order.get().map_or(0, |o| o.capacity() * 4);
        (strings, rest)
    }
}

/// The matcher logic of [`crate::querier`] over the head, with the
/// all-postings key `("", "")` that Prometheus's `MemPostings` also keeps.
impl PostingsIndex for HeadIndex {
    fn postings(&self, name: &str, values: &[&str]) -> Result<Postings> {
        if name == ALL_POSTINGS_KEY.0 {
            return if values.contains(&ALL_POSTINGS_KEY.1) { self.all_postings() } else { Ok(Vec::new()) };
        }
        let lists: Vec<Postings> = values.iter().filter_map(|v| self.list(name, v)).map(<[u32]>::to_vec).collect();
        Ok(postings::merge(lists))
    }

    fn all_postings(&self) -> Result<Postings> {
        Ok((0..self.labels.len() as u32).filter(|&id| self.labels[id as usize].is_some()).collect())
    }

    fn label_values(&self, name: &str) -> Result<Vec<&str>> {
        if name == ALL_POSTINGS_KEY.0 {
            return Ok(if self.live > 0 { vec![ALL_POSTINGS_KEY.1] } else { Vec::new() });
        }
        let Some(values) = self.symbols.get(name).and_then(|n| self.postings.get(&n)) else {
            return Ok(Vec::new());
        };
        let mut out: Vec<&str> = values.keys().map(|&v| self.symbols.str(v)).collect();
        out.sort_unstable();
        Ok(out)
    }

    fn label_value_postings(&self, name: &str) -> Result<Vec<(&str, Postings)>> {
        if name == ALL_POSTINGS_KEY.0 {
            let all = self.all_postings()?;
            return Ok(if all.is_empty() { Vec::new() } else { vec![(ALL_POSTINGS_KEY.1, all)] });
        }
        let Some(values) = self.symbols.get(name).and_then(|n| self.postings.get(&n)) else {
            return Ok(Vec::new());
        };
        let mut out: Vec<(&str, Postings)> =
            values.iter().map(|(&v, p)| (self.symbols.str(v), self.entry_ids(p).to_vec())).collect();
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Ok(out)
    }

    fn label_names_for(&self, ids: &[u32]) -> Result<Vec<&str>> {
        let mut names: Vec<&str> = ids
            .iter()
            .filter_map(|&id| self.labels.get(id as usize).and_then(Option::as_deref))
            .flat_map(|refs| refs.iter().map(|&(n, _)| self.symbols.str(n)))
            .collect();
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    fn label_names(&self) -> Vec<&str> {
        HeadIndex::label_names(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::querier;
    use thanos_core::labels::{MatchOp, Matcher};

    fn ls(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn finds_inserts_removes_and_renumbers() {
        let mut ix = HeadIndex::default();
        let a = ix.insert(&ls(&[("job", "a"), ("i", "1")]));
        let b = ix.insert(&ls(&[("job", "b"), ("i", "1")]));
        let c = ix.insert(&ls(&[("job", "a"), ("i", "2")]));
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(ix.find(&ls(&[("i", "1"), ("job", "b")])), Some(1));
        assert_eq!(ix.find(&ls(&[("i", "1")])), None);
        assert_eq!(ix.postings("job", &["a"]).unwrap(), vec![0, 2]);
        assert_eq!(ix.postings("i", &["1", "2", "3"]).unwrap(), vec![0, 1, 2]);
        assert_eq!(ix.label_values("job").unwrap(), vec!["a", "b"]);
        assert_eq!(ix.label_names(), vec!["i", "job"]);

        ix.remove(&[1]);
        assert_eq!(ix.len(), 2);
        assert_eq!(ix.find(&ls(&[("i", "1"), ("job", "b")])), None);
        assert_eq!(ix.label_values("job").unwrap(), vec!["a"]);
        assert_eq!(ix.postings("i", &["1"]).unwrap(), vec![0]);
        assert_eq!(ix.all_postings().unwrap(), vec![0, 2]);
        // The string "b" is freed with its last user.
        assert_eq!(ix.symbols.get("b"), None);

        ix.renumber(&[0, u32::MAX, 1], 2);
        assert_eq!(ix.all_postings().unwrap(), vec![0, 1]);
        assert_eq!(ix.postings("job", &["a"]).unwrap(), vec![0, 1]);
        assert_eq!(ix.find(&ls(&[("i", "2"), ("job", "a")])), Some(1));
        assert_eq!(ix.labels(1), ls(&[("i", "2"), ("job", "a")]));
        let d = ix.insert(&ls(&[("job", "b")]));
        assert_eq!(d, 2);
        assert_eq!(ix.label_names_for(&[2]).unwrap(), vec!["job"]);
    }

    #[test]
    fn series_sort_by_labels_as_label_sets_compare() {
        let sets = [
            ls(&[("a", "2")]),
            ls(&[("a", "10"), ("b", "1")]),
            ls(&[("a", "10")]),
            ls(&[("__name__", "up"), ("a", "1")]),
            ls(&[("a", "1"), ("c", "")]),
        ];
        let mut ix = HeadIndex::default();
        let mut ids: Vec<u32> = sets.iter().map(|l| ix.insert(l)).collect();
        let check = |ix: &HeadIndex, ids: &mut Vec<u32>| {
            ix.sort_by_labels(ids);
            let got: Vec<Labels> = ids.iter().map(|&id| ix.labels(id)).collect();
            let mut want = got.clone();
            want.sort();
            assert_eq!(got, want);
        };
        check(&ix, &mut ids);
        // The order follows series that come and go.
        ids.push(ix.insert(&ls(&[("a", "0")])));
        check(&ix, &mut ids);
        ix.remove(&[ids[0]]);
        ids.retain(|&id| ix.labels(id) != Labels::new());
        check(&ix, &mut ids);
        assert_eq!(ix.labels(ids[0]), ls(&[("a", "0")]));
    }

    #[test]
    fn matchers_work_as_over_a_block() {
        let mut ix = HeadIndex::default();
        ix.insert(&ls(&[("n", "x"), ("a", "1")]));
        ix.insert(&ls(&[("n", "x")]));
        ix.insert(&ls(&[("n", "y"), ("a", "2")]));
        let p = |ms: &[Matcher]| querier::postings_for_matchers(&ix, ms).unwrap();
        assert_eq!(p(&[Matcher::equal("n", "x")]), vec![0, 1]);
        assert_eq!(p(&[Matcher::equal("a", "")]), vec![1]);
        assert_eq!(p(&[Matcher::new(MatchOp::NotEqual, "a", "1").unwrap()]), vec![1, 2]);
        assert_eq!(p(&[Matcher::new(MatchOp::Regex, "a", ".+").unwrap()]), vec![0, 2]);
        assert_eq!(p(&[Matcher::new(MatchOp::Regex, "n", ".*").unwrap(), Matcher::equal("a", "")]), vec![1]);
        assert_eq!(p(&[]), Vec::<u32>::new());
        let names = querier::label_names_with_matchers(&ix, &[Matcher::equal("n", "x")]).unwrap();
        assert_eq!(names, vec!["a", "n"]);
        let values = querier::label_values_with_matchers(&ix, "a", &[Matcher::equal("n", "y")]).unwrap();
        assert_eq!(values, vec!["2"]);
    }
}
