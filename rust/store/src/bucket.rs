//! The store gateway's StoreAPI over blocks in object storage (Thanos's
//! `BucketStore`, `pkg/store/bucket.go`): each block answers with its
//! external labels (the `thanos` section of its `meta.json`) added to its
//! series, and a request's matchers on those labels pick the blocks.
//!
//! Blocks of one label set that overlap in time (a compacted block and its
//! sources, during a compactor's run) give one series with merged chunks;
//! blocks of different label sets give different series.
//!
//! A `Series` call reads postings and series entries of every block first
//! (small, and cached in the [`IndexCache`]), checks the limits, and then
//! reads chunks a batch of series at a time as the answer is sent: only one
//! batch of chunks is ever held, whatever the size of the answer.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use prost::Message;
use thanos_core::labels::{matches_external_labels, Labels, Matcher};
use thanos_core::{bail, Error, Result};
use thanos_tsdb::aggr::{self, AggrType, ENCODING_AGGR};
use thanos_tsdb::bucket::cache::DEFAULT_MAX_BYTES;
use thanos_tsdb::bucket::{BucketBlock, IndexCache, ReadChunks};
use thanos_tsdb::chunks::ENCODING_XOR;
use thanos_tsdb::index::ChunkMeta;
use thanos_tsdb::merge::merge_chunks;
use thanos_tsdb::Chunk;

use crate::labelpb;
use crate::limiter::{Limiter, Limits, MAX_SAMPLES_PER_CHUNK};
use crate::pb::thanos;
use crate::request::decode;
use crate::response::{Aggregates, Batcher, RawChunk};
use crate::storepb;

/// How many series have their chunks read together by default: Thanos's
/// `SeriesBatchSize` (`pkg/store/bucket.go`), large enough that nearby chunks
/// are read in one request, small enough that a batch's chunks are a few MiB.
pub const SERIES_BATCH_SIZE: usize = 10_000;

/// A series' full label set (external labels in, the request's replica
/// labels out).
type LabelPairs = Vec<(String, String)>;

/// A series of one block in an answer, before its chunks are read.
struct Pending {
    labels: LabelPairs,
    /// Its block, in the call's snapshot.
    block: usize,
    chunks: Vec<ChunkMeta>,
}

/// A block the store serves, with its external labels.
struct Served {
    external: Labels,
    block: Arc<BucketBlock>,
}

/// How a store gateway serves: its flags that shape answers.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// `--index-cache-size`, in bytes.
    pub index_cache_bytes: u64,
    pub limits: Limits,
    /// `--min-time` and `--max-time` in ms: requests are cut to this range.
    pub min_time: i64,
    pub max_time: i64,
    /// `--debug.series-batch-size`: series whose chunks are read together.
    pub series_batch_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            index_cache_bytes: DEFAULT_MAX_BYTES,
            limits: Limits::default(),
            min_time: i64::MIN,
            max_time: i64::MAX,
            series_batch_size: SERIES_BATCH_SIZE,
        }
    }
}

/// The blocks a store gateway serves, by ULID. Calls read a snapshot of the
/// set, so blocks can come and go while they run.
pub struct BucketStore {
    blocks: RwLock<BTreeMap<String, Arc<Served>>>,
    cache: Arc<IndexCache>,
    options: Options,
}

impl Default for BucketStore {
    fn default() -> Self {
        BucketStore::new(Options::default())
    }
}

impl BucketStore {
    pub fn new(options: Options) -> Self {
        BucketStore { blocks: RwLock::default(), cache: Arc::new(IndexCache::new(options.index_cache_bytes)), options }
    }

    pub fn add(&self, external: Labels, mut block: BucketBlock) {
        let ulid = block.meta().ulid.clone();
        block.set_cache(Arc::clone(&self.cache));
        let served = Arc::new(Served { external, block: Arc::new(block) });
        self.blocks.write().expect("not poisoned").insert(ulid, served);
    }

    pub fn remove(&self, ulid: &str) -> bool {
        let removed = self.blocks.write().expect("not poisoned").remove(ulid).is_some();
        self.cache.remove_block(ulid);
        removed
    }

    /// The index cache the blocks share.
    pub fn cache(&self) -> &IndexCache {
        &self.cache
    }

    /// The ULIDs served, sorted.
    pub fn ulids(&self) -> Vec<String> {
        self.blocks.read().expect("not poisoned").keys().cloned().collect()
    }

    fn snapshot(&self) -> Vec<Arc<Served>> {
        self.blocks.read().expect("not poisoned").values().cloned().collect()
    }

    /// The time range of the blocks, `[min, max]` in ms (the last block's max
    /// time is exclusive, as Thanos announces it); `None` without blocks.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let blocks = self.snapshot();
        let min = blocks.iter().map(|s| s.block.meta().min_time).min()?;
        let max = blocks.iter().map(|s| s.block.meta().max_time).max()?;
        Some((min, max))
    }

    /// The distinct external label sets of the blocks, sorted.
    pub fn label_sets(&self) -> Vec<Labels> {
        let mut sets: Vec<Labels> = self.snapshot().iter().map(|s| s.external.clone()).collect();
        sets.sort();
        sets.dedup();
        sets
    }

    /// Starts answering a `thanos.SeriesRequest`: the series entries of every
    /// block the request selects are read now and the limits checked; chunks
    /// are read as [`BucketSeries::next_messages`] asks for them.
    pub fn series(&self, request: &[u8]) -> Result<BucketSeries> {
        let req: thanos::SeriesRequest = decode("SeriesRequest", request)?;
        let matchers = storepb::matchers_from_proto(&req.matchers)?;
        let (mint, maxt) = (req.min_time.max(self.options.min_time), req.max_time.min(self.options.max_time));
        let limits = self.options.limits;
        let call = Call {
            mint,
            maxt,
            without: &req.without_replica_labels,
            skip_chunks: req.skip_chunks,
            touched: Limiter::new(limits.series),
            // Rounded up, unlike Thanos's division: a limit under 120 samples
            // is still a limit.
            sent: Limiter::new(limits.samples.div_ceil(MAX_SAMPLES_PER_CHUNK)),
        };
        let aggregates = requested_aggregates(&req.aggregates)?;
        let blocks = self.snapshot();
        let mut selected = Vec::new();
        for i in blocks_for(&blocks, mint, maxt, req.max_resolution_window) {
            if let Some(rest) = series_matchers(&matchers, &blocks[i].external)? {
                if blocks[i].block.overlaps(mint, maxt) {
                    selected.push((i, rest));
                }
            }
        }
        let mut pending: Vec<Pending> = Vec::new();
        for part in on_threads(&selected, |(i, rest)| call.select(*i, &blocks[*i], rest)) {
            pending.extend(part?);
        }
        // Stable: the parts of a series keep their blocks' order.
        pending.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(BucketSeries {
            blocks,
            pending: pending.into_iter().peekable(),
            ready: Vec::new().into_iter().peekable(),
            read: BTreeMap::new(),
            batcher: Batcher::new(req.response_batch_size),
            skip_chunks: req.skip_chunks,
            aggregates,
            batch_size: self.options.series_batch_size.max(1),
            done: false,
        })
    }

    /// The encoded `thanos.LabelNamesResponse` for a `LabelNamesRequest`.
    pub fn label_names(&self, request: &[u8]) -> Result<Vec<u8>> {
        let req: thanos::LabelNamesRequest = decode("LabelNamesRequest", request)?;
        let matchers = storepb::matchers_from_proto(&req.matchers)?;
        let mut names = Vec::new();
        for served in self.blocks_in(req.start, req.end) {
            let Some(rest) = matches_external_labels(&matchers, &served.external) else { continue };
            let block_names = served.block.label_names(&rest)?;
            // A block's series carry its external labels too, when it has any series.
            if !block_names.is_empty() {
                names.extend(served.external.iter().map(|l| l.name.clone()));
            }
            names.extend(block_names);
        }
        Ok(thanos::LabelNamesResponse { names: finish(names, &req.without_replica_labels), ..Default::default() }
            .encode_to_vec())
    }

    /// The encoded `thanos.LabelValuesResponse` for a `LabelValuesRequest`.
    pub fn label_values(&self, request: &[u8]) -> Result<Vec<u8>> {
        let req: thanos::LabelValuesRequest = decode("LabelValuesRequest", request)?;
        if req.label.is_empty() {
            bail!(BadData, "label name parameter cannot be empty");
        }
        let matchers = storepb::matchers_from_proto(&req.matchers)?;
        let mut values = Vec::new();
        if !req.without_replica_labels.contains(&req.label) {
            for served in self.blocks_in(req.start, req.end) {
                let Some(rest) = matches_external_labels(&matchers, &served.external) else { continue };
                if served.external.has(&req.label) {
                    // One value on every series of the block, if it has any.
                    if !served.block.label_names(&rest)?.is_empty() {
                        values.push(served.external.get(&req.label).to_string());
                    }
                } else {
                    values.extend(served.block.label_values(&req.label, &rest)?);
                }
            }
        }
        Ok(thanos::LabelValuesResponse { values: finish(values, &[]), ..Default::default() }.encode_to_vec())
    }

    /// The blocks holding data in `[start, end]`, within `--min-time` and `--max-time`.
    fn blocks_in(&self, start: i64, end: i64) -> Vec<Arc<Served>> {
        let (start, end) = (start.max(self.options.min_time), end.min(self.options.max_time));
        self.snapshot().into_iter().filter(|s| s.block.overlaps(start, end)).collect()
    }
}

/// What a `Series` call asks of each block, and what it reserved so far.
struct Call<'a> {
    mint: i64,
    maxt: i64,
    without: &'a [String],
    skip_chunks: bool,
    touched: Limiter,
    sent: Limiter,
}

impl Call<'_> {
    /// The series block `i` holds for the call (postings and series entries
    /// read, chunks not), with their full label sets.
    fn select(&self, i: usize, served: &Served, matchers: &[Matcher]) -> Result<Vec<Pending>> {
        let in_block = |e: Error| e.context(format!("fetch series for block {}", served.block.meta().ulid));
        let ids = served.block.postings(matchers).map_err(in_block)?;
        self.touched.reserve(ids.len()).map_err(|e| in_block(e.context("exceeded series limit")))?;
        let mut out = Vec::new();
        for s in served.block.series(&ids, self.mint, self.maxt).map_err(in_block)? {
            if !self.skip_chunks {
                self.sent.reserve(s.chunks.len()).map_err(|e| in_block(e.context("exceeded chunks limit")))?;
            }
            let pairs = s.labels.iter().map(|l| (l.name.as_str(), l.value.as_str()));
            let labels = labelpb::extend_sorted(pairs, &served.external, self.without);
            let labels = labels.into_iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            out.push(Pending { labels, block: i, chunks: s.chunks });
        }
        Ok(out)
    }
}

/// `f` of every item, in order, computed on up to as many threads as the
/// machine has cores: blocks are read concurrently, as Thanos reads them (a
/// goroutine per block), since a call's blocks are independent until merged.
fn on_threads<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(at) else { break };
                        mine.push((at, f(item)));
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("a block reader panicked")).collect()
    });
    done.sort_unstable_by_key(|(at, _)| *at);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The matchers of a `Series` call left for a block once its external
/// labels are taken out; `None` when one of those fails. A request of
/// external-label matchers only is refused, as the sidecar refuses it.
fn series_matchers(matchers: &[Matcher], external: &Labels) -> Result<Option<Vec<Matcher>>> {
    let rest = matches_external_labels(matchers, external);
    if rest.as_ref().is_some_and(Vec::is_empty) {
        bail!(BadData, "no matchers specified (excluding external labels)");
    }
    Ok(rest)
}

fn finish(mut strings: Vec<String>, without: &[String]) -> Vec<String> {
    strings.retain(|s| !without.contains(s));
    strings.sort_unstable();
    strings.dedup();
    strings
}

/// The chunks to send: as stored, or for a downsampled block's aggregate
/// chunk, the `aggregates` asked for (`populateChunk` in Thanos's
/// `pkg/store/bucket.go`; one asked for and missing is an error).
fn raw_chunks<'a>(chunks: &'a [Chunk], aggregates: &[AggrType]) -> Result<Vec<RawChunk<'a>>> {
    chunks
        .iter()
        .map(|c| {
            let (min_time, max_time) = (c.meta.min_time, c.meta.max_time);
            if c.encoding == ENCODING_AGGR {
                let mut parts: Aggregates<'a> = [None; 5];
                for &t in aggregates {
                    match aggr::get(&c.data, t)? {
                        Some((ENCODING_XOR, data)) => parts[t as usize] = Some(data),
                        _ => bail!(CorruptBlock, "aggregate {} does not exist", t.as_str()),
                    }
                }
                return Ok(RawChunk { aggregates: Some(parts), ..RawChunk::raw(min_time, max_time, 0, &[]) });
            }
            let Some(encoding) = storepb::chunk_encoding(i32::from(c.encoding)) else {
                bail!(CorruptBlock, "chunk of encoding {}, which the StoreAPI cannot carry", c.encoding);
            };
            Ok(RawChunk::raw(min_time, max_time, encoding, &c.data))
        })
        .collect()
}

/// The aggregates of a request (`storepb.Aggr`: RAW 0, COUNT 1 ... COUNTER
/// 5); RAW asks for chunks as stored, which every chunk of a raw block is.
fn requested_aggregates(aggrs: &[i32]) -> Result<Vec<AggrType>> {
    let mut out = Vec::new();
    for &a in aggrs {
        match a {
            0 => {}
            1..=5 => out.push(AggrType::ALL[(a - 1) as usize]),
            _ => bail!(BadData, "unsupported aggregation {a}"),
        }
    }
    Ok(out)
}

/// The blocks a call at `max_resolution` reads, per external label set
/// (Thanos's `bucketBlockSet.getFor`): the coarsest resolution not above it
/// where it has blocks, the time before, between and after them filled from
/// the next finer resolution, and so on down to raw.
fn blocks_for(blocks: &[Arc<Served>], mint: i64, maxt: i64, max_resolution: i64) -> Vec<usize> {
    let mut sets: BTreeMap<&Labels, BTreeMap<std::cmp::Reverse<i64>, Vec<usize>>> = BTreeMap::new();
    for (i, s) in blocks.iter().enumerate() {
        let res = s.block.meta().thanos.as_ref().map_or(0, |t| t.downsample.resolution);
        sets.entry(&s.external).or_default().entry(std::cmp::Reverse(res)).or_default().push(i);
    }
    let mut out = Vec::new();
    for levels in sets.values_mut() {
        for ids in levels.values_mut() {
            ids.sort_by_key(|&i| blocks[i].block.meta().min_time);
        }
        let levels: Vec<(i64, &Vec<usize>)> = levels.iter().map(|(r, ids)| (r.0, ids)).collect();
        if let Some(first) = levels.iter().position(|(r, _)| *r <= max_resolution) {
            fill(blocks, &levels[first..], mint, maxt, &mut out);
        }
    }
    out
}

fn fill(blocks: &[Arc<Served>], levels: &[(i64, &Vec<usize>)], mint: i64, maxt: i64, out: &mut Vec<usize>) {
    let Some(((_, ids), finer)) = levels.split_first() else { return };
    if mint > maxt {
        return;
    }
    let mut start = mint;
    for &i in ids.iter() {
        let meta = blocks[i].block.meta();
        // Blocks cover [min_time, max_time).
        if meta.max_time <= mint {
            continue;
        }
        if meta.min_time > maxt {
            break;
        }
        fill(blocks, finer, start, meta.min_time - 1, out);
        out.push(i);
        start = meta.max_time;
    }
    fill(blocks, finer, start, maxt, out);
}

/// The answer of one `Series` call, read and encoded a piece at a time so
/// that only one batch of chunks and about one piece of messages exist at once.
pub struct BucketSeries {
    blocks: Vec<Arc<Served>>,
    pending: std::iter::Peekable<std::vec::IntoIter<Pending>>,
    /// Series of the last batch, their chunks read but not yet cut out and
    /// checked: each series' are once it is next to be sent, so that its
    /// bytes are still in the CPU's caches while they are sent.
    ready: std::iter::Peekable<std::vec::IntoIter<Pending>>,
    /// The chunk bytes of the last batch, by block.
    read: BTreeMap<usize, ReadChunks>,
    batcher: Batcher,
    skip_chunks: bool,
    /// What to send of a downsampled block's chunks.
    aggregates: Vec<AggrType>,
    batch_size: usize,
    done: bool,
}

impl BucketSeries {
    /// The next `SeriesResponse` messages, once at least `budget` bytes of
    /// them are ready (a series is never split); empty only when the answer
    /// is complete. A series held by several blocks (of one label set) is
    /// sent once, its chunks merged.
    pub fn next_messages(&mut self, budget: usize) -> Result<Vec<Bytes>> {
        let mut out = Vec::new();
        let mut ready = 0;
        while ready < budget.max(1) && !self.done {
            let before = out.len();
            let Some((labels, chunks)) = self.next_series()? else {
                self.batcher.flush(&mut out);
                self.done = true;
                break;
            };
            let pairs: Vec<(&str, &str)> = labels.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            self.batcher.push(&pairs, &raw_chunks(&chunks, &self.aggregates)?, &mut out);
            ready += out[before..].iter().map(Bytes::len).sum::<usize>();
        }
        Ok(out)
    }

    /// The next series with its chunks, the parts of a series from several
    /// blocks merged.
    fn next_series(&mut self) -> Result<Option<(LabelPairs, Vec<Chunk>)>> {
        if self.ready.peek().is_none() {
            self.read_batch()?;
        }
        let Some(p) = self.ready.next() else { return Ok(None) };
        let mut parts = vec![(self.chunks_of(&p)?, Default::default())];
        while let Some(next) = self.ready.next_if(|next| next.labels == p.labels) {
            parts.push((self.chunks_of(&next)?, Default::default()));
        }
        let merged = if parts.len() == 1 { parts.pop().expect("one part").0 } else { merge_chunks(parts)? };
        Ok(Some((p.labels, merged)))
    }

    /// Takes the next batch of series (the parts of a series never split)
    /// and reads their chunks: each block's at once.
    fn read_batch(&mut self) -> Result<()> {
        let mut batch: Vec<Pending> = Vec::new();
        while let Some(p) = self
            .pending
            .next_if(|p| batch.len() < self.batch_size || batch.last().is_some_and(|last| last.labels == p.labels))
        {
            batch.push(p);
        }
        self.read.clear();
        if !self.skip_chunks {
            let mut by_block: BTreeMap<usize, Vec<ChunkMeta>> = BTreeMap::new();
            for p in &batch {
                by_block.entry(p.block).or_default().extend_from_slice(&p.chunks);
            }
            for (block, metas) in by_block {
                let read = self.blocks[block].block.read_chunks(&metas).map_err(|e| self.fetch_error(block, e))?;
                self.read.insert(block, read);
            }
        }
        self.ready = batch.into_iter().peekable();
        Ok(())
    }

    /// The chunks of a series' part, none when skipping them.
    fn chunks_of(&self, p: &Pending) -> Result<Vec<Chunk>> {
        if self.skip_chunks {
            return Ok(Vec::new());
        }
        let read = self.read.get(&p.block).expect("every block of the batch was read");
        self.blocks[p.block].block.chunks_from(read, &p.chunks).map_err(|e| self.fetch_error(p.block, e))
    }

    fn fetch_error(&self, block: usize, e: Error) -> Error {
        e.context(format!("fetch series for block {}", self.blocks[block].block.meta().ulid))
    }
}
