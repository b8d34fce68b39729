//! One block in object storage: select, label names and label values, with
//! the index's header on local disk ([`super::header`]) and everything else
//! fetched for the query at hand (`bucketBlock` and `blockSeries` in Thanos's
//! `pkg/store/bucket.go`):
//!
//! 1. matchers become series IDs over the header, fetching the postings lists
//!    they name;
//! 2. the series entries of those IDs are fetched, in merged ranges;
//! 3. the chunks of those series that overlap the range are fetched, in
//!    merged ranges per segment file.
//!
//! Entries and chunks are read with a size guess (Thanos's `maxSeriesSize`
//! and `maxChunkSize`), and read again, exactly, when one is longer.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use thanos_core::labels::{Labels, Matcher};
use thanos_core::{Error, ErrorKind, Result};

use super::cache::{IndexCache, ItemType};
use super::ranges::{Fetched, MAX_GAP};
use super::{header, ObjectReader};
use crate::block::{Chunk, Series};
use crate::chunks::{parse_chunk, SEGMENT_HEADER_LEN};
use crate::encoding::{corrupt, Decbuf, CRC_LEN};
use crate::index::postings::{self, read_postings, Postings};
use crate::index::series::{decode_series, SERIES_ALIGNMENT};
use crate::index::{ChunkMeta, IndexReader, LabelRefs};
use crate::meta::BlockMeta;
use crate::querier::{self, PostingsIndex};
use crate::tombstones::Intervals;

/// The size a series entry is read with at first: Thanos's `maxSeriesSize` (64 KiB).
pub const SERIES_GUESS: u64 = 64 * 1024;
/// The size a chunk is read with at first: Thanos's `maxChunkSize` (16,000 bytes).
pub const CHUNK_GUESS: u64 = 16_000;
/// The longest uvarint length prefix (of a series entry or a chunk).
const MAX_UVARINT: usize = 10;

/// A chunk segment file of a block: its name in the bucket and its size.
#[derive(Clone, Debug)]
pub struct Segment {
    pub name: String,
    pub size: u64,
}

/// A block in the bucket, ready to answer queries.
pub struct BucketBlock {
    meta: BlockMeta,
    /// The header only: postings lists and series entries are holes in it,
    /// so it is never asked for them (they would read as zeros).
    header: IndexReader,
    segments: Vec<Segment>,
    reader: Arc<dyn ObjectReader>,
    index_name: String,
    /// The sizes series entries and chunks are first read with.
    series_guess: u64,
    chunk_guess: u64,
    /// The block's ULID, as the cache's keys hold it.
    id: Arc<str>,
    cache: Option<Arc<IndexCache>>,
}

/// A series a query selects, before its chunks are read.
#[derive(Clone, Debug, PartialEq)]
pub struct Selected {
    /// The series ID in the block's index.
    pub id: u32,
    pub labels: Labels,
    /// The metas of its chunks that overlap the range, in time order.
    pub chunks: Vec<ChunkMeta>,
}

/// A series entry as fetched: label references and chunk metas.
struct Entry {
    id: u32,
    labels: Vec<LabelRefs>,
    chunks: Vec<ChunkMeta>,
}

impl BucketBlock {
    /// The block of `meta` (its `meta.json`), its index of `index_size` bytes
    /// and chunk `segments` in segment order; the header is built in, or
    /// reused from, `dir`.
    pub fn open(
        reader: Arc<dyn ObjectReader>,
        meta: BlockMeta,
        index_size: u64,
        segments: Vec<Segment>,
        dir: &Path,
    ) -> Result<Self> {
        let header = header::open_or_build(reader.as_ref(), &meta.ulid, index_size, dir)?;
        let index_name = format!("{}/index", meta.ulid);
        let id = Arc::from(meta.ulid.as_str());
        Ok(BucketBlock {
            meta,
            header,
            segments,
            reader,
            index_name,
            series_guess: SERIES_GUESS,
            chunk_guess: CHUNK_GUESS,
            id,
            cache: None,
        })
    }

    /// Keeps the postings lists and series entries it reads in `cache`, and
    /// reads them from there.
    pub fn set_cache(&mut self, cache: Arc<IndexCache>) {
        self.cache = Some(cache);
    }

    /// Reads series entries and chunks with these first sizes instead of
    /// Thanos's: smaller ones read less and read again more often.
    pub fn set_read_guesses(&mut self, series: u64, chunk: u64) {
        self.series_guess = series.max(1);
        self.chunk_guess = chunk.max(1);
    }

    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// Heap held by the header's tables, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.header.heap_bytes()
    }

    /// Whether the block may hold samples in `[mint, maxt]` (its own range is half-open).
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        mint < self.meta.max_time && maxt >= self.meta.min_time
    }

    /// The series all `matchers` select with their chunks that overlap
    /// `[mint, maxt]`, in label-set order; as [`crate::Block::select`].
    pub fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>> {
        if !self.overlaps(mint, maxt) {
            return Ok(Vec::new());
        }
        let selected = self.series(&self.postings(matchers)?, mint, maxt)?;
        let metas: Vec<ChunkMeta> = selected.iter().flat_map(|s| s.chunks.iter().copied()).collect();
        let mut chunks = self.chunks(&metas)?.into_iter();
        Ok(selected
            .into_iter()
            .map(|s| Series {
                id: s.id,
                labels: s.labels,
                chunks: chunks.by_ref().take(s.chunks.len()).collect(),
                deleted: Intervals::default(),
            })
            .collect())
    }

    /// The IDs of the series all `matchers` select, ascending: the first step
    /// of a select, which reads postings lists only.
    pub fn postings(&self, matchers: &[Matcher]) -> Result<Vec<u32>> {
        querier::postings_for_matchers(&Index(self), matchers)
    }

    /// The series of `ids` (ascending) that have chunks overlapping
    /// `[mint, maxt]`, with those chunks' metas: the second step of a select,
    /// which reads series entries. Their chunks are read by [`Self::chunks`].
    pub fn series(&self, ids: &[u32], mint: i64, maxt: i64) -> Result<Vec<Selected>> {
        let mut out = Vec::new();
        for mut e in self.series_entries(ids, true)? {
            e.chunks.retain(|m| m.max_time >= mint && m.min_time <= maxt);
            if e.chunks.is_empty() {
                continue;
            }
            let labels = self.header.labels(&e.labels, u64::from(e.id) * SERIES_ALIGNMENT)?;
            out.push(Selected { id: e.id, labels, chunks: e.chunks });
        }
        Ok(out)
    }

    /// The chunks of `metas`, in the order given.
    pub fn chunks(&self, metas: &[ChunkMeta]) -> Result<Vec<Chunk>> {
        self.chunks_from(&self.read_chunks(metas)?, metas)
    }

    /// The bytes of the chunks of `metas`, read at once (ranges near each
    /// other in one request), to be checked and cut into chunks as they are
    /// asked for: [`Self::chunks_from`] then finds a chunk's bytes still in
    /// the CPU's caches when its caller goes on to send them.
    pub fn read_chunks(&self, metas: &[ChunkMeta]) -> Result<ReadChunks> {
        let mut by_segment: HashMap<usize, Vec<u64>> = HashMap::new();
        for m in metas {
            by_segment.entry((m.chunk_ref >> 32) as usize).or_default().push(m.chunk_ref & 0xFFFF_FFFF);
        }
        let mut segments = HashMap::with_capacity(by_segment.len());
        for (index, offsets) in by_segment {
            let Some(segment) = self.segments.get(index) else {
                return Err(Error::new(
                    ErrorKind::CorruptBlock,
                    format!(
                        "{}: chunk segment index {index} out of range ({} segments)",
                        self.meta.ulid,
                        self.segments.len()
                    ),
                ));
            };
            let wanted: Vec<Range<u64>> =
                offsets.iter().map(|&o| o..(o + self.chunk_guess).min(segment.size)).collect();
            segments.insert(index, Fetched::read(self.reader.as_ref(), &segment.name, &wanted, MAX_GAP)?);
        }
        Ok(ReadChunks { segments })
    }

    /// The label names of the block, or of the series the matchers select; sorted.
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        querier::label_names(&Index(self), matchers)
    }

    /// The values of label `name` in the block, or on the series the matchers select; sorted.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        querier::label_values(&Index(self), name, matchers)
    }

    fn index_path(&self) -> PathBuf {
        PathBuf::from(&self.index_name)
    }

    /// The postings lists in `spans` of the index, from the cache or read.
    fn postings_lists(&self, spans: &[Range<usize>]) -> Result<Vec<Postings>> {
        let path = self.index_path();
        let cached = self.cached(ItemType::Postings, spans.iter().map(|s| s.start as u64));
        let wanted: Vec<Range<u64>> =
            spans.iter().zip(&cached).filter(|(_, c)| c.is_none()).map(|(s, _)| s.start as u64..s.end as u64).collect();
        let fetched = Fetched::read(self.reader.as_ref(), &self.index_name, &wanted, MAX_GAP)?;
        spans
            .iter()
            .zip(cached)
            .map(|(s, cached)| {
                if let Some(bytes) = cached {
                    return read_postings(&path, &bytes, 0);
                }
                let (base, bytes) = fetched.from(s.start as u64).ok_or_else(|| unread(&path, s.start))?;
                let from = s.start - base as usize;
                let list = read_postings(&path, bytes, from)?;
                self.keep(
                    ItemType::Postings,
                    s.start as u64,
                    bytes.slice(from..bytes.len().min(s.end - base as usize)),
                );
                Ok(list)
            })
            .collect()
    }

    /// The series entries of `ids` (ascending), with their chunk metas when
    /// `with_chunks`, from the cache or read.
    fn series_entries(&self, ids: &[u32], with_chunks: bool) -> Result<Vec<Entry>> {
        let toc = self.header.toc();
        // Series entries end where the next section starts.
        let section_end = [toc.label_indices, toc.label_indices_table, toc.postings, toc.postings_table]
            .into_iter()
            .filter(|&o| o > toc.series)
            .min()
            .unwrap_or(self.header.size() as u64);
        let offset = |id: u32| u64::from(id) * SERIES_ALIGNMENT;
        let cached = self.cached(ItemType::Series, ids.iter().map(|&id| offset(id)));
        let wanted: Vec<Range<u64>> = ids
            .iter()
            .zip(&cached)
            .filter(|(_, c)| c.is_none())
            .map(|(&id, _)| offset(id)..(offset(id) + self.series_guess).min(section_end))
            .collect();
        let fetched = Fetched::read(self.reader.as_ref(), &self.index_name, &wanted, MAX_GAP)?;
        let path = self.index_path();
        let mut out = Vec::with_capacity(ids.len());
        for (&id, cached) in ids.iter().zip(cached) {
            let at = offset(id);
            let hit = cached.is_some();
            let record = match cached {
                Some(record) => record,
                None => {
                    if at < toc.series || at >= section_end {
                        return Err(corrupt(&path, at as usize, format!("series {id} is outside the series section")));
                    }
                    let (base, bytes) = fetched.from(at).ok_or_else(|| unread(&path, at as usize))?;
                    self.whole(&self.index_name, bytes, (at - base) as usize, at, 0, section_end)?
                }
            };
            let mut d = Decbuf::at_uvarint_section(&path, &record, 0, "series")?;
            let (mut labels, mut chunks) = (Vec::new(), Vec::new());
            decode_series(&mut d, &mut labels, with_chunks.then_some(&mut chunks))?;
            if !hit {
                self.keep(ItemType::Series, at, record);
            }
            out.push(Entry { id, labels, chunks });
        }
        Ok(out)
    }

    /// The items at `offsets` found in the cache, each `None` when not.
    fn cached(&self, kind: ItemType, offsets: impl ExactSizeIterator<Item = u64>) -> Vec<Option<Bytes>> {
        match &self.cache {
            Some(cache) => cache.get_many(&self.id, kind, offsets),
            None => vec![None; offsets.len()],
        }
    }

    fn keep(&self, kind: ItemType, offset: u64, bytes: Bytes) {
        if let Some(cache) = &self.cache {
            // A copy: the slice would keep the whole read it came from
            // (often MiBs of merged ranges) alive, unaccounted.
            cache.put(&self.id, kind, offset, Bytes::copy_from_slice(&bytes));
        }
    }

    /// The bytes of the length-prefixed record at `at` of object `name`, of
    /// which `bytes[pos..]` was read: a slice of those bytes if they hold it
    /// all, else the record read again on its own. `extra` bytes follow the
    /// length prefix besides the data and the CRC (a chunk's encoding byte).
    fn whole(&self, name: &str, bytes: &Bytes, pos: usize, at: u64, extra: usize, end: u64) -> Result<Bytes> {
        let head = &bytes[pos..bytes.len().min(pos + MAX_UVARINT)];
        let path = Path::new(name);
        let mut d = Decbuf::new(path, head, 0, head.len())?;
        let len = d.uvarint().map_err(|_| corrupt(path, at as usize, "bad length prefix"))?;
        let need = (d.pos() as u64).saturating_add(extra as u64).saturating_add(len).saturating_add(CRC_LEN as u64);
        if need <= (bytes.len() - pos) as u64 {
            return Ok(bytes.slice(pos..pos + need as usize));
        }
        if at.saturating_add(need) > end {
            return Err(corrupt(path, at as usize, format!("record of {len} bytes runs past {end}")));
        }
        Ok(self.reader.get_ranges(name, std::slice::from_ref(&(at..at + need)))?.pop().unwrap_or_default())
    }
}

/// Chunk bytes read by [`BucketBlock::read_chunks`], per segment file.
pub struct ReadChunks {
    segments: HashMap<usize, Fetched>,
}

impl BucketBlock {
    /// The chunks of `metas`, among those `read`, in the order given, each
    /// checked against its CRC.
    pub fn chunks_from(&self, read: &ReadChunks, metas: &[ChunkMeta]) -> Result<Vec<Chunk>> {
        metas.iter().map(|m| self.chunk(read, m)).collect()
    }

    fn chunk(&self, read: &ReadChunks, meta: &ChunkMeta) -> Result<Chunk> {
        let (index, o) = ((meta.chunk_ref >> 32) as usize, meta.chunk_ref & 0xFFFF_FFFF);
        let Some(fetched) = read.segments.get(&index) else {
            return Err(Error::new(ErrorKind::Internal, format!("chunk {} was not read", meta.chunk_ref)));
        };
        // Read, so a segment of the block.
        let segment = &self.segments[index];
        let path = Path::new(&segment.name);
        if o < SEGMENT_HEADER_LEN as u64 || o >= segment.size {
            return Err(corrupt(path, o as usize, "chunk ref outside the segment's chunks"));
        }
        let (base, bytes) = fetched.from(o).ok_or_else(|| unread(path, o as usize))?;
        let bytes = self.whole(&segment.name, bytes, (o - base) as usize, o, 1, segment.size)?;
        let (encoding, data) = parse_chunk(path, &bytes, 0, 0)?;
        Ok(Chunk { meta: *meta, encoding, data: bytes.slice(data) })
    }
}

fn unread(path: &Path, at: usize) -> Error {
    Error::new(ErrorKind::Internal, format!("{}: offset {at} was not read", path.display()))
}

/// The matcher logic of [`crate::querier`] over a bucket block: names and
/// values from the header, postings lists and series fetched.
struct Index<'a>(&'a BucketBlock);

impl PostingsIndex for Index<'_> {
    fn postings(&self, name: &str, values: &[&str]) -> Result<Postings> {
        let spans = self.0.header.postings_spans(name, values)?;
        Ok(postings::merge(self.0.postings_lists(&spans)?))
    }

    fn all_postings(&self) -> Result<Postings> {
        let (name, value) = crate::index::ALL_POSTINGS_KEY;
        self.postings(name, &[value])
    }

    fn label_values(&self, name: &str) -> Result<Vec<&str>> {
        self.0.header.label_values(name)
    }

    fn label_value_postings(&self, name: &str) -> Result<Vec<(&str, Postings)>> {
        let spans = self.0.header.label_value_spans(name)?;
        let lists = self.0.postings_lists(&spans.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>())?;
        Ok(spans.into_iter().map(|(v, _)| v).zip(lists).collect())
    }

    fn label_names_for(&self, ids: &[u32]) -> Result<Vec<&str>> {
        let mut refs = std::collections::BTreeSet::new();
        for e in self.0.series_entries(ids, false)? {
            refs.extend(e.labels.iter().map(|l| l.name));
        }
        let mut names = refs.into_iter().map(|r| self.0.header.symbol(r)).collect::<Result<Vec<_>>>()?;
        names.sort_unstable();
        Ok(names)
    }

    fn label_names(&self) -> Vec<&str> {
        self.0.header.label_names()
    }
}
