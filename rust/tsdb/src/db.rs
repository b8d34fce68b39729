//! A Prometheus data directory read as a whole while Prometheus runs: the
//! persisted blocks it holds now, its head, and selections merged across them
//! (`DB` in `tsdb/db.go` at v2.42.0, read-only).
//!
//! Prometheus changes the directory under a reader in three ways, all of
//! them by whole directories: a new block appears by rename from
//! `<ulid>.tmp-for-creation`, a compaction adds a block whose `meta.json`
//! names its sources as parents before the sources go, and retention or
//! compaction deletes a block (renamed to `<ulid>.tmp-for-deletion`, then
//! removed). [`Db::reload`] follows them, and the head ([`Head::refresh`]);
//! a selection already running holds its blocks' mappings and finishes on them.
//!
//! The head holds only samples after the newest block (Prometheus's
//! `minValidTime`): older ones are in blocks, or were cut into one that is
//! being written and will be seen on the next reload.

use std::collections::HashSet;
use std::iter::Peekable;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thanos_core::labels::{Labels, Matcher};
use thanos_core::{Error, ErrorKind, Result};

use crate::block::{Block, Series};
use crate::head::Head;
use crate::merge::{merge_chunks, ChunkSeries};

/// A ULID is 26 characters of Crockford's base32 (`oklog/ulid`); block
/// directories are named by one and nothing else is.
fn is_ulid(name: &str) -> bool {
    name.len() == 26 && name.bytes().all(|b| b.is_ascii_digit() || (b.is_ascii_uppercase() && !b"ILOU".contains(&b)))
}

/// The persisted blocks and the head of a data directory.
#[derive(Debug)]
pub struct Db {
    dir: PathBuf,
    /// Ordered by min time, as Prometheus orders them.
    blocks: Vec<Arc<Block>>,
    head: Head,
}

impl Db {
    /// Opens the blocks and the head in `dir`. An unreadable directory, or
    /// one that holds neither a block nor `wal/` (not a Prometheus 2.x data
    /// directory, or not yet), is `Unavailable`; a damaged file is `CorruptBlock`.
    pub fn open(dir: &Path) -> Result<Self> {
        let mut db = Db { dir: dir.to_path_buf(), blocks: Vec::new(), head: Head::open(dir)? };
        db.reload()?;
        if db.blocks.is_empty() && !dir.join("wal").is_dir() {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("{} is not a Prometheus 2.x data directory: no blocks and no wal/", dir.display()),
            ));
        }
        Ok(db)
    }

    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Catches up with Prometheus: blocks that appeared or went, then what
    /// the head gained. The blocks are listed again after the head is read:
    /// Prometheus writes a block before it truncates the WAL, so a head
    /// refresh that lost a range to a truncation finds the block holding it.
    pub fn reload(&mut self) -> Result<()> {
        self.reload_blocks()?;
        self.head.refresh()?;
        self.reload_blocks()?;
        let min_valid = self.blocks_max_time();
        if min_valid > self.head.min_valid_time() {
            self.head.set_min_valid_time(min_valid);
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn blocks(&self) -> &[Arc<Block>] {
        &self.blocks
    }

    /// Lists the directory again: opens blocks that appeared, forgets those
    /// that are gone or that a compacted block replaces (its parents, which
    /// Prometheus deletes next). Blocks already open are kept unless their
    /// tombstones changed: the only file of a written block that changes.
    fn reload_blocks(&mut self) -> Result<()> {
        let io = |e: std::io::Error| Error::new(ErrorKind::Unavailable, format!("read {}: {e}", self.dir.display()));
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            if let Some(name) = name.to_str().filter(|n| is_ulid(n)) {
                found.push(name.to_string());
            }
        }
        let mut blocks = Vec::with_capacity(found.len());
        for ulid in found {
            if let Some(b) = self.blocks.iter().find(|b| b.meta().ulid == ulid && !b.tombstones_changed()) {
                blocks.push(Arc::clone(b));
                continue;
            }
            let path = self.dir.join(&ulid);
            match Block::open(&path) {
                Ok(b) => blocks.push(Arc::new(b)),
                // Deleted between the listing and the opening: no longer there.
                Err(_) if !path.exists() => continue,
                Err(e) => return Err(e),
            }
        }
        let replaced: HashSet<&str> =
            blocks.iter().flat_map(|b| b.meta().compaction.parents.iter().map(|p| p.ulid.as_str())).collect();
        let mut kept: Vec<Arc<Block>> =
            blocks.iter().filter(|b| !replaced.contains(b.meta().ulid.as_str())).cloned().collect();
        kept.sort_by(|a, b| (a.meta().min_time, &a.meta().ulid).cmp(&(b.meta().min_time, &b.meta().ulid)));
        self.blocks = kept;
        Ok(())
    }

    /// The newest time a block holds (exclusive), or `i64::MIN` without
    /// blocks: the head holds only samples from there on (Prometheus's
    /// `minValidTime`, from the last block in min-time order).
    pub fn blocks_max_time(&self) -> i64 {
        self.blocks.last().map_or(i64::MIN, |b| b.meta().max_time)
    }

    fn overlapping(&self, mint: i64, maxt: i64) -> impl Iterator<Item = &Arc<Block>> {
        self.blocks.iter().filter(move |b| b.overlaps(mint, maxt))
    }

    /// Whether the head holds samples in `[mint, maxt]`, as far as its time
    /// range tells (Prometheus's `DB.Querier` takes the head when
    /// `maxt >= head.MinTime()`).
    fn head_overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.head.min_time() <= maxt && mint <= self.head.max_time()
    }

    /// The series all `matchers` select with their chunks overlapping
    /// `[mint, maxt]`, merged across the blocks and the head, in label-set
    /// order. The set holds what it reads and does not borrow the `Db`.
    pub fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<MergedSeriesSet> {
        let mut sources: Vec<Source> = Vec::new();
        for b in self.overlapping(mint, maxt) {
            sources.push(Box::new(b.select_shared(matchers, mint, maxt)?));
        }
        if self.head_overlaps(mint, maxt) {
            sources.push(Box::new(self.head.select(matchers, mint, maxt)?.into_iter().map(Ok)));
        }
        Ok(MergedSeriesSet::new(sources))
    }

    /// The label names of the series that `matchers` select (all series
    /// without matchers) in the blocks and head overlapping `[mint, maxt]`;
    /// sorted. As in Prometheus, a series counts whatever its samples.
    pub fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for b in self.overlapping(mint, maxt) {
            names.extend(b.label_names(matchers)?);
        }
        if self.head_overlaps(mint, maxt) {
            names.extend(self.head.label_names(matchers)?);
        }
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    /// The values of label `name`, as [`Db::label_names`].
    pub fn label_values(&self, name: &str, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        let mut values = Vec::new();
        for b in self.overlapping(mint, maxt) {
            values.extend(b.label_values(name, matchers)?);
        }
        if self.head_overlaps(mint, maxt) {
            values.extend(self.head.label_values(name, matchers)?);
        }
        values.sort_unstable();
        values.dedup();
        Ok(values)
    }
}

/// Where a merged selection reads series from: a block's series set, the
/// head's selection.
pub type Source = Box<dyn Iterator<Item = Result<Series>> + Send>;

/// Series from several label-ordered sources, one per label set, with their
/// chunks merged ([`merge_chunks`]). Ends after the first error.
pub struct MergedSeriesSet {
    sources: Vec<Peekable<Source>>,
    failed: bool,
}

impl MergedSeriesSet {
    pub fn new(sources: Vec<Source>) -> Self {
        MergedSeriesSet { sources: sources.into_iter().map(Iterator::peekable).collect(), failed: false }
    }

    fn next_series(&mut self) -> Result<Option<ChunkSeries>> {
        loop {
            // The source with the smallest label set next; a source's error first.
            let mut min: Option<(usize, &Labels)> = None;
            let mut failed = None;
            for (i, s) in self.sources.iter_mut().enumerate() {
                match s.peek() {
                    Some(Err(_)) => {
                        failed = Some(i);
                        break;
                    }
                    Some(Ok(series)) if min.is_none_or(|(_, m)| series.labels < *m) => min = Some((i, &series.labels)),
                    _ => {}
                }
            }
            if let Some(i) = failed {
                return Err(self.sources[i].next().expect("peeked").expect_err("peeked an error"));
            }
            let Some((first, _)) = min else { return Ok(None) };
            let Some(Ok(Series { labels, chunks, deleted, .. })) = self.sources[first].next() else {
                unreachable!("peeked a series")
            };
            let mut parts = vec![(chunks, deleted)];
            for s in &mut self.sources[first + 1..] {
                if let Some(Ok(series)) = s.next_if(|r| r.as_ref().is_ok_and(|series| series.labels == labels)) {
                    parts.push((series.chunks, series.deleted));
                }
            }
            let chunks = merge_chunks(parts)?;
            // Every sample deleted: the series is not there.
            if !chunks.is_empty() {
                return Ok(Some(ChunkSeries { labels, chunks }));
            }
        }
    }
}

impl Iterator for MergedSeriesSet {
    type Item = Result<ChunkSeries>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_series();
        self.failed = next.is_err();
        next.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_directories_are_told_by_their_ulid_names() {
        assert!(is_ulid("01GZ7Y3T3B6M0G5V8QW1F3K2XN"));
        assert!(!is_ulid("01GZ7Y3T3B6M0G5V8QW1F3K2XN.tmp-for-creation"));
        assert!(!is_ulid("01GZ7Y3T3B6M0G5V8QW1F3K2XL")); // L is not base32
        assert!(!is_ulid("wal"));
        assert!(!is_ulid("chunks_head"));
    }
}
