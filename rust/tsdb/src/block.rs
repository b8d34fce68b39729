//! A persisted block directory and the reads a StoreAPI needs from it:
//! series by matchers and time range, label names, label values
//! (`Block` in `tsdb/block.go` and `blockBaseSeriesSet` in `tsdb/querier.go` at v2.42.0).
//!
//! A block directory holds `meta.json`, `index`, `chunks/000001...` and, when
//! something was deleted, `tombstones`.

use std::borrow::Borrow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use thanos_core::labels::{Labels, Matcher};
use thanos_core::Result;

use crate::chunks::ChunkReader;
use crate::index::{ChunkMeta, IndexReader, LabelRefs, Postings};
use crate::meta::BlockMeta;
use crate::querier;
use crate::tombstones::{Interval, Intervals, Tombstones, TOMBSTONES_FILENAME};

/// An open block: its metadata in memory, its files mapped.
#[derive(Debug)]
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    index: IndexReader,
    chunks: ChunkReader,
    tombstones: Tombstones,
    /// What the tombstones file looked like when read: Prometheus rewrites it
    /// in place (by rename) when series are deleted, the only change a
    /// written block ever sees.
    tombstones_stamp: Option<FileStamp>,
}

/// Modification time and size of a file.
type FileStamp = (SystemTime, u64);

fn stamp(path: &Path) -> Option<FileStamp> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// A chunk of a selected series, as stored: encoding byte and data (the XOR
/// data starts with its 2-byte sample count), a shared slice of the mapping
/// that stays readable after the block is closed or deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub meta: ChunkMeta,
    pub encoding: u8,
    pub data: Bytes,
}

/// A series that [`Block::select`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series ID in this block's index.
    pub id: u32,
    pub labels: Labels,
    /// The chunks that overlap the selected range and are not wholly deleted,
    /// in time order. They may hold samples outside the range: chunks are
    /// passed on whole, and the reader of the samples cuts.
    pub chunks: Vec<Chunk>,
    /// Deleted time ranges (tombstones) of the series; samples inside them
    /// must be dropped by whoever decodes the chunks.
    pub deleted: Intervals,
}

impl Block {
    /// Opens the block in `dir`, mapping its files and checking their headers,
    /// checksummed tables and `meta.json`.
    pub fn open(dir: &Path) -> Result<Self> {
        let meta = BlockMeta::read(dir)?;
        let index = IndexReader::open(&dir.join("index"))?;
        let chunks = ChunkReader::open(&dir.join("chunks"))?;
        let tombstones_stamp = stamp(&dir.join(TOMBSTONES_FILENAME));
        let tombstones = Tombstones::read(dir)?;
        Ok(Block { dir: dir.to_path_buf(), meta, index, chunks, tombstones, tombstones_stamp })
    }

    /// Whether the tombstones file changed since the block was opened: the
    /// block must then be opened again to see the new deletions.
    pub fn tombstones_changed(&self) -> bool {
        stamp(&self.dir.join(TOMBSTONES_FILENAME)) != self.tombstones_stamp
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    pub fn index(&self) -> &IndexReader {
        &self.index
    }

    pub fn chunks(&self) -> &ChunkReader {
        &self.chunks
    }

    pub fn tombstones(&self) -> &Tombstones {
        &self.tombstones
    }

    /// Whether the block may hold samples in the closed range `[mint, maxt]`
    /// (the block's own range is half-open: `[minTime, maxTime)`).
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        mint < self.meta.max_time && maxt >= self.meta.min_time
    }

    /// The series that all `matchers` select, with their chunks that overlap
    /// `[mint, maxt]`, in label-set order. Series without such chunks are left
    /// out, as Prometheus's block querier does. No matchers select nothing.
    pub fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<SeriesSet<&Block>> {
        let postings = self.postings_in_range(matchers, mint, maxt)?;
        Ok(SeriesSet::new(self, postings, mint, maxt))
    }

    /// [`Block::select`] for a shared block: the series set holds the block,
    /// and can outlive the caller's reference to it.
    pub fn select_shared(
        self: &Arc<Self>,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<SeriesSet<Arc<Block>>> {
        let postings = self.postings_in_range(matchers, mint, maxt)?;
        Ok(SeriesSet::new(Arc::clone(self), postings, mint, maxt))
    }

    fn postings_in_range(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Postings> {
        if !self.overlaps(mint, maxt) {
            return Ok(Vec::new());
        }
        querier::postings_for_matchers(&self.index, matchers)
    }

    /// The label names of the block, or of the series the matchers select;
    /// sorted.
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        querier::label_names(&self.index, matchers)
    }

    /// The values of label `name` in the block, or on the series the matchers
    /// select; sorted.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        querier::label_values(&self.index, name, matchers)
    }
}

/// The series of a [`Block::select`], read one at a time from the mapping.
/// Ends after the first error. `B` is how it holds the block: borrowed or shared.
pub struct SeriesSet<B> {
    block: B,
    postings: std::vec::IntoIter<u32>,
    mint: i64,
    maxt: i64,
    refs: Vec<LabelRefs>,
    metas: Vec<ChunkMeta>,
    failed: bool,
}

impl<B: Borrow<Block>> SeriesSet<B> {
    fn new(block: B, postings: Postings, mint: i64, maxt: i64) -> Self {
        SeriesSet {
            block,
            postings: postings.into_iter(),
            mint,
            maxt,
            refs: Vec::new(),
            metas: Vec::new(),
            failed: false,
        }
    }

    /// How many series IDs are left to look at (an upper bound on the series left).
    pub fn remaining_postings(&self) -> usize {
        self.postings.len()
    }

    /// Reads series `id`; `None` when none of its chunks is wanted.
    fn read(&mut self, id: u32) -> Result<Option<Series>> {
        let block: &Block = self.block.borrow();
        let ix = &block.index;
        ix.series_refs(id, &mut self.refs, Some(&mut self.metas))?;
        let deleted = block.tombstones.get(u64::from(id));
        let mut chunks = Vec::new();
        for m in &self.metas {
            // Chunk ranges are closed, as is the requested one.
            if m.max_time < self.mint || m.min_time > self.maxt {
                continue;
            }
            if (Interval { mint: m.min_time, maxt: m.max_time }).is_subrange(&deleted) {
                continue;
            }
            let raw = block.chunks.chunk(m.chunk_ref)?;
            chunks.push(Chunk { meta: *m, encoding: raw.encoding, data: raw.data });
        }
        if chunks.is_empty() {
            return Ok(None);
        }
        let labels = ix.labels(&self.refs, u64::from(id) * crate::index::series::SERIES_ALIGNMENT)?;
        Ok(Some(Series { id, labels, chunks, deleted }))
    }
}

impl<B: Borrow<Block>> Iterator for SeriesSet<B> {
    type Item = Result<Series>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        while let Some(id) = self.postings.next() {
            match self.read(id) {
                Ok(Some(s)) => return Some(Ok(s)),
                Ok(None) => continue,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}
