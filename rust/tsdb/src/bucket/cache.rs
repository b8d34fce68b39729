//! The store gateway's in-memory index cache (Thanos's `InMemoryIndexCache`,
//! `pkg/store/cache/inmemory.go`): postings lists and series entries as read
//! from the bucket, so that a query like the last one reads only chunks.
//! Items are kept under a byte budget (`--index-cache-size`) and the least
//! recently used go first.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// `--index-cache-size`'s default in Thanos v0.26 (250MB).
pub const DEFAULT_MAX_BYTES: u64 = 250 * 1024 * 1024;
/// The largest item kept: Thanos's default `max_item_size` (125MB), or the
/// whole budget when that is smaller (where Thanos refuses to start).
pub const MAX_ITEM_BYTES: u64 = 125 * 1024 * 1024;
/// What one item costs beside its bytes: the key (a ULID's 26 bytes, the
/// offset, the type) and the bookkeeping of the two maps, about.
const ITEM_OVERHEAD: u64 = 128;

/// The kinds of items, as Thanos's `item_type` label names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemType {
    Postings,
    Series,
}

impl ItemType {
    pub const ALL: [ItemType; 2] = [ItemType::Postings, ItemType::Series];

    pub fn name(self) -> &'static str {
        match self {
            ItemType::Postings => "Postings",
            ItemType::Series => "Series",
        }
    }
}

/// An item: its block, its type and its offset in the block's index (a
/// postings list's or a series entry's: each names one item).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    block: Arc<str>,
    kind: ItemType,
    offset: u64,
}

/// Counters of one item type, as Thanos's `thanos_store_index_cache_*` metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TypeStats {
    pub requests: u64,
    pub hits: u64,
    pub added: u64,
    pub evicted: u64,
    /// Items too large to keep (over [`IndexCache::max_item_bytes`]).
    pub overflowed: u64,
    pub items: u64,
    pub bytes: u64,
}

#[derive(Default)]
struct Inner {
    /// Items with the tick of their last use.
    items: HashMap<Key, (Bytes, u64)>,
    /// Items by the tick they were put or last moved here, oldest first. A
    /// hit only updates the item's own tick; eviction gives an item whose
    /// tick is newer than its place here a second place instead (a lazy LRU:
    /// a hit costs one hash lookup, not two tree updates).
    by_use: BTreeMap<u64, Key>,
    tick: u64,
    bytes: u64,
    stats: HashMap<ItemType, TypeStats>,
}

/// A least-recently-used cache of index items, shared by the blocks of a store.
pub struct IndexCache {
    max_bytes: u64,
    inner: Mutex<Inner>,
}

fn cost(bytes: &Bytes) -> u64 {
    bytes.len() as u64 + ITEM_OVERHEAD
}

impl IndexCache {
    /// A cache of at most `max_bytes`; 0 keeps nothing.
    pub fn new(max_bytes: u64) -> Self {
        IndexCache { max_bytes, inner: Mutex::default() }
    }

    /// The item of `block` at `offset`, if kept.
    pub fn get(&self, block: &Arc<str>, kind: ItemType, offset: u64) -> Option<Bytes> {
        self.get_many(block, kind, std::iter::once(offset)).pop().flatten()
    }

    /// The items of `block` at `offsets`, each if kept, under one lock.
    pub fn get_many(&self, block: &Arc<str>, kind: ItemType, offsets: impl Iterator<Item = u64>) -> Vec<Option<Bytes>> {
        let mut guard = self.inner.lock().expect("not poisoned");
        let inner = &mut *guard;
        let mut key = Key { block: Arc::clone(block), kind, offset: 0 };
        let (mut requests, mut hits) = (0, 0);
        let found = offsets
            .map(|offset| {
                requests += 1;
                key.offset = offset;
                let (bytes, used) = inner.items.get_mut(&key)?;
                inner.tick += 1;
                *used = inner.tick;
                hits += 1;
                Some(bytes.clone())
            })
            .collect();
        let stats = inner.stats.entry(kind).or_default();
        stats.requests += requests;
        stats.hits += hits;
        found
    }

    /// Keeps an item, evicting the least recently used ones to make room.
    pub fn put(&self, block: &Arc<str>, kind: ItemType, offset: u64, bytes: Bytes) {
        let size = cost(&bytes);
        let mut inner = self.inner.lock().expect("not poisoned");
        if size > self.max_item_bytes() {
            inner.stats.entry(kind).or_default().overflowed += 1;
            return;
        }
        let key = Key { block: Arc::clone(block), kind, offset };
        if inner.items.contains_key(&key) {
            return;
        }
        while inner.bytes + size > self.max_bytes {
            let Some((placed, old)) = inner.by_use.pop_first() else { break };
            let used = inner.items.get(&old).expect("both maps hold every item").1;
            if used > placed {
                // Used since it was placed: a second place, at its last use.
                inner.by_use.insert(used, old);
                continue;
            }
            let (gone, _) = inner.items.remove(&old).expect("both maps hold every item");
            inner.bytes -= cost(&gone);
            let stats = inner.stats.entry(old.kind).or_default();
            stats.evicted += 1;
            stats.items -= 1;
            stats.bytes -= cost(&gone);
        }
        inner.tick += 1;
        let tick = inner.tick;
        inner.by_use.insert(tick, key.clone());
        inner.items.insert(key, (bytes, tick));
        inner.bytes += size;
        let stats = inner.stats.entry(kind).or_default();
        stats.added += 1;
        stats.items += 1;
        stats.bytes += size;
    }

    /// Drops every item of a block (one no longer served).
    pub fn remove_block(&self, block: &str) {
        let mut inner = self.inner.lock().expect("not poisoned");
        inner.by_use.retain(|_, k| &*k.block != block);
        let gone: Vec<Key> = inner.items.keys().filter(|k| &*k.block == block).cloned().collect();
        for key in gone {
            let (bytes, _) = inner.items.remove(&key).expect("listed above");
            inner.bytes -= cost(&bytes);
            let stats = inner.stats.entry(key.kind).or_default();
            stats.items -= 1;
            stats.bytes -= cost(&bytes);
        }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    pub fn max_item_bytes(&self) -> u64 {
        MAX_ITEM_BYTES.min(self.max_bytes)
    }

    /// The counters of an item type.
    pub fn stats(&self, kind: ItemType) -> TypeStats {
        self.inner.lock().expect("not poisoned").stats.get(&kind).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: usize) -> Bytes {
        Bytes::from(vec![7u8; n])
    }

    #[test]
    fn least_recently_used_items_go_first() {
        let cache = IndexCache::new(3 * (100 + ITEM_OVERHEAD));
        let b: Arc<str> = Arc::from("01B");
        for offset in 0..3 {
            cache.put(&b, ItemType::Postings, offset, item(100));
        }
        assert!(cache.get(&b, ItemType::Postings, 0).is_some());
        cache.put(&b, ItemType::Series, 9, item(100));
        // 1 was the least recently used: 0 was read after it was put.
        assert!(cache.get(&b, ItemType::Postings, 1).is_none());
        assert_eq!(cache.get(&b, ItemType::Postings, 0), Some(item(100)));
        assert!(cache.get(&b, ItemType::Series, 9).is_some());
        let postings = cache.stats(ItemType::Postings);
        assert_eq!(
            (postings.requests, postings.hits, postings.added, postings.evicted, postings.items),
            (3, 2, 3, 1, 2)
        );
        assert_eq!(cache.stats(ItemType::Series).bytes, 100 + ITEM_OVERHEAD);
    }

    #[test]
    fn items_over_the_budget_and_a_zero_budget_keep_nothing() {
        let b: Arc<str> = Arc::from("01B");
        let cache = IndexCache::new(1000);
        cache.put(&b, ItemType::Series, 0, item(1000));
        assert!(cache.get(&b, ItemType::Series, 0).is_none());
        assert_eq!(cache.stats(ItemType::Series).overflowed, 1);
        let none = IndexCache::new(0);
        none.put(&b, ItemType::Series, 0, item(1));
        assert!(none.get(&b, ItemType::Series, 0).is_none());
    }

    #[test]
    fn a_dropped_block_leaves_nothing_behind() {
        let cache = IndexCache::new(10_000);
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("01A"), Arc::from("01B"));
        cache.put(&a, ItemType::Postings, 8, item(10));
        cache.put(&b, ItemType::Postings, 8, item(10));
        cache.remove_block("01A");
        assert!(cache.get(&a, ItemType::Postings, 8).is_none());
        assert!(cache.get(&b, ItemType::Postings, 8).is_some());
        assert_eq!(cache.stats(ItemType::Postings).items, 1);
    }
}
