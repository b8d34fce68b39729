//! One series of the head (`memSeries` in `tsdb/head.go` and its `append`
//! in `tsdb/head_append.go` at v2.42.0): the chunks that Prometheus has
//! written to its head chunk files, then the samples after them that only
//! the WAL holds, XOR-encoded here and cut into chunks where Prometheus cuts
//! its own (about [`SAMPLES_PER_CHUNK`] samples, aligned to the chunk range),
//! so that a query reads chunks of the sizes Prometheus itself would.
//!
//! A sample is kept only if it is newer than every sample the series holds,
//! as Prometheus's append refuses the others. When a chunk file shows a new
//! chunk of the series, the in-memory samples it covers are dropped: the
//! file has them now.

use thanos_core::chunkenc::{XorAppender, XorIterator};

pub use crate::merge::SAMPLES_PER_CHUNK;
use crate::tombstones::{Interval, Intervals};

/// The head's chunk range: Prometheus's `--storage.tsdb.min-block-duration`,
/// 2 h unless changed (`DefaultBlockDuration` in `tsdb/db.go`). A chunk ends
/// at the latest at the end of the range it started in. The flag is not in
/// the data directory: with another value chunks are cut elsewhere than
/// Prometheus cuts them, holding the same samples.
const CHUNK_RANGE_MS: i64 = 2 * 3600 * 1000;

/// The end of the chunk range holding `t` (`rangeForTimestamp`).
fn range_end(t: i64) -> i64 {
    (t / CHUNK_RANGE_MS) * CHUNK_RANGE_MS + CHUNK_RANGE_MS
}

/// Where a chunk that started at `start` and reached `cur` with a quarter of
/// its samples should end, so that the chunks left until `max` come out the
/// same size (`computeChunkEndTime` in `tsdb/head_append.go`).
fn chunk_end_time(start: i64, cur: i64, max: i64) -> i64 {
    let n = (max - start) / ((cur - start + 1) * 4);
    if n <= 1 {
        max
    } else {
        start + (max - start) / n
    }
}

/// A chunk in a head chunk file: file number, record offset, time range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MmapChunk {
    pub seq: u32,
    pub offset: u32,
    pub min_time: i64,
    pub max_time: i64,
}

/// A full in-memory chunk.
pub(crate) struct MemChunk {
    pub min_time: i64,
    pub max_time: i64,
    pub data: Box<[u8]>,
}

/// The chunk samples are appended to. `data` is a copy of the appender's
/// bytes, brought up to date by [`HeadSeries::flush`] after a batch of
/// appends, so that readers can borrow it.
pub(crate) struct OpenChunk {
    app: XorAppender,
    pub min_time: i64,
    pub max_time: i64,
    pub data: Vec<u8>,
    /// Samples were appended since `data` was copied.
    stale: bool,
    /// A sample at or after this time starts the next chunk (Prometheus's
    /// `memSeries.nextAt`).
    next_at: i64,
}

impl OpenChunk {
    fn new(t: i64) -> OpenChunk {
        OpenChunk {
            app: XorAppender::new(),
            min_time: t,
            max_time: t,
            data: Vec::new(),
            stale: false,
            next_at: range_end(t),
        }
    }

    fn from_samples(samples: &[(i64, f64)]) -> Option<OpenChunk> {
        let (&(min_time, _), &(max_time, _)) = (samples.first()?, samples.last()?);
        let app = encode(samples);
        let data = app.bytes();
        let mut next_at = range_end(min_time);
        // The prediction Prometheus made when the chunk held a quarter of its samples.
        if let Some(&(quarter, _)) = samples.get(SAMPLES_PER_CHUNK / 4) {
            next_at = chunk_end_time(min_time, quarter, next_at);
        }
        Some(OpenChunk { app, min_time, max_time, data, stale: false, next_at })
    }
}

/// The samples a series holds in memory: full chunks, then the open one.
#[derive(Default)]
pub(crate) struct MemPart {
    pub full: Vec<MemChunk>,
    pub open: Option<OpenChunk>,
}

impl MemPart {
    /// Time range and bytes of each chunk, in time order.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = (i64, i64, &[u8])> {
        let full = self.full.iter().map(|c| (c.min_time, c.max_time, &c.data[..]));
        full.chain(self.open.iter().map(|o| (o.min_time, o.max_time, &o.data[..])))
    }
}

/// What [`HeadSeries::append`] did with a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Appended {
    /// Appended; the open chunk needs a flush (it did not before).
    NeedsFlush,
    /// Appended.
    Yes,
    /// Not newer than the series' last chunk in a file, which holds it.
    Covered,
    /// Not newer than the newest sample: dropped, as an append refuses it.
    OutOfOrder,
}

fn encode(samples: &[(i64, f64)]) -> XorAppender {
    let mut app = XorAppender::new();
    for &(t, v) in samples {
        // Fails only past 65535 samples; chunks here hold at most 120.
        let _ = app.append(t, v);
    }
    app
}

/// The samples of an XOR chunk newer than `t`. Chunks here are encoded here,
/// so they decode; if one did not, what decoded is kept.
fn samples_after(data: &[u8], t: i64) -> Vec<(i64, f64)> {
    let Ok(it) = XorIterator::new(data) else { return Vec::new() };
    it.map_while(|s| s.ok()).filter(|&(st, _)| st > t).collect()
}

pub(crate) struct HeadSeries {
    /// Chunks in the head chunk files, in time order, not overlapping.
    pub mmapped: Vec<MmapChunk>,
    /// The samples after the mapped chunks; `None` when there are none.
    pub mem: Option<Box<MemPart>>,
    /// The time of the newest sample the series has held: older ones are refused.
    pub last_t: i64,
    /// Deleted ranges from tombstone records.
    pub deleted: Option<Box<Intervals>>,
    /// The WAL reference of the series' first Series record.
    pub wal_ref: u64,
}

impl HeadSeries {
    pub(crate) fn new(wal_ref: u64) -> Self {
        HeadSeries { mmapped: Vec::new(), mem: None, last_t: i64::MIN, deleted: None, wal_ref }
    }

    /// Appends a sample newer than the series' newest; a [`Appended::NeedsFlush`]
    /// asks for a [`HeadSeries::flush`] once the batch of appends is done.
    pub(crate) fn append(&mut self, t: i64, v: f64) -> Appended {
        if t <= self.last_t {
            let covered = self.mmapped.last().is_some_and(|c| t <= c.max_time);
            return if covered { Appended::Covered } else { Appended::OutOfOrder };
        }
        self.last_t = t;
        let mem = self.mem.get_or_insert_with(Default::default);
        // Prometheus's `appendPreprocessor`: with a quarter of its samples, a
        // chunk is given an end that splits the rest of its range evenly; it
        // is cut there, or at twice the target count when samples speed up.
        if let Some(open) = mem.open.as_mut() {
            let n = open.app.num_samples();
            if n == SAMPLES_PER_CHUNK / 4 {
                open.next_at = chunk_end_time(open.min_time, open.max_time, open.next_at);
            }
            if t >= open.next_at || n >= 2 * SAMPLES_PER_CHUNK {
                if let Some(full) = mem.open.take() {
                    let data = full.app.bytes().into_boxed_slice();
                    // A series holds a few chunks: no room kept for more.
                    mem.full.reserve_exact(1);
                    mem.full.push(MemChunk { min_time: full.min_time, max_time: full.max_time, data });
                }
            }
        }
        let open = mem.open.get_or_insert_with(|| OpenChunk::new(t));
        let _ = open.app.append(t, v);
        open.max_time = t;
        let newly_stale = !open.stale;
        open.stale = true;
        if newly_stale {
            Appended::NeedsFlush
        } else {
            Appended::Yes
        }
    }

    /// Brings the open chunk's bytes up to date.
    pub(crate) fn flush(&mut self) {
        if let Some(o) = self.mem.as_mut().and_then(|m| m.open.as_mut()).filter(|o| o.stale) {
            o.data = o.app.bytes();
            o.stale = false;
        }
    }

    /// Adds a chunk from a head chunk file and drops the in-memory samples it
    /// covers. `false` when it overlaps a chunk the series has (it is not added).
    pub(crate) fn add_mmapped(&mut self, c: MmapChunk) -> bool {
        let i = self.mmapped.partition_point(|x| x.min_time < c.min_time);
        let overlaps_before = i > 0 && self.mmapped[i - 1].max_time >= c.min_time;
        let overlaps_after = self.mmapped.get(i).is_some_and(|x| x.min_time <= c.max_time);
        if overlaps_before || overlaps_after {
            return false;
        }
        self.mmapped.reserve_exact(1);
        self.mmapped.insert(i, c);
        self.drop_mem_through(c.max_time);
        self.last_t = self.last_t.max(c.max_time);
        true
    }

    /// Drops the in-memory samples at or before `t`.
    pub(crate) fn drop_mem_through(&mut self, t: i64) {
        let Some(mem) = self.mem.as_mut() else { return };
        if mem.full.first().is_some_and(|c| c.min_time <= t) {
            let mut kept = Vec::with_capacity(mem.full.len());
            for c in mem.full.drain(..) {
                if c.max_time <= t {
                    continue;
                }
                if c.min_time > t {
                    kept.push(c);
                    continue;
                }
                let rest = samples_after(&c.data, t);
                if let (Some(&(min_time, _)), Some(&(max_time, _))) = (rest.first(), rest.last()) {
                    kept.push(MemChunk { min_time, max_time, data: encode(&rest).bytes().into_boxed_slice() });
                }
            }
            mem.full = kept;
        }
        if mem.open.as_ref().is_some_and(|o| o.min_time <= t) {
            mem.open = mem.open.take().and_then(|o| OpenChunk::from_samples(&samples_after(&o.app.bytes(), t)));
        }
        if mem.full.is_empty() && mem.open.is_none() {
            self.mem = None;
        }
    }

    /// Drops what is wholly before `mint`: file chunks that end before it,
    /// in-memory samples before it, deleted ranges that end before it.
    pub(crate) fn truncate_before(&mut self, mint: i64) {
        self.mmapped.retain(|c| c.max_time >= mint);
        if mint > i64::MIN {
            self.drop_mem_through(mint - 1);
        }
        if let Some(d) = self.deleted.as_mut() {
            d.0.retain(|iv| iv.maxt >= mint);
            if d.is_empty() {
                self.deleted = None;
            }
        }
    }

    /// Forgets the chunks of file `seq`; whether there were any.
    pub(crate) fn remove_file(&mut self, seq: u32) -> bool {
        let n = self.mmapped.len();
        self.mmapped.retain(|c| c.seq != seq);
        self.mmapped.len() != n
    }

    pub(crate) fn add_deleted(&mut self, iv: Interval) {
        self.deleted.get_or_insert_with(Default::default).add(iv);
    }

    /// Whether the series holds no sample at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.mmapped.is_empty() && self.mem.is_none()
    }

    /// The time range of what the series holds; `None` when it holds nothing.
    pub(crate) fn time_range(&self) -> Option<(i64, i64)> {
        let mem_first = self.mem.as_ref().and_then(|m| m.chunks().next()).map(|c| c.0);
        let mem_last = self.mem.as_ref().and_then(|m| m.chunks().last()).map(|c| c.1);
        let first = [self.mmapped.first().map(|c| c.min_time), mem_first].into_iter().flatten().min()?;
        let last = [self.mmapped.last().map(|c| c.max_time), mem_last].into_iter().flatten().max()?;
        Some((first, last))
    }

    /// Heap held, in bytes: the series' state (chunk references, deleted
    /// ranges) and the in-memory chunks.
    pub(crate) fn heap_bytes(&self) -> (usize, usize) {
        let mut state = self.mmapped.capacity() * size_of::<MmapChunk>();
        if let Some(d) = &self.deleted {
            state += size_of::<Intervals>() + d.0.capacity() * size_of::<Interval>();
        }
        let mut chunks = 0;
        if let Some(m) = &self.mem {
            state += m.full.capacity() * size_of::<MemChunk>();
            chunks += size_of::<MemPart>() + m.full.iter().map(|c| c.data.len()).sum::<usize>();
            if let Some(o) = &m.open {
                // The appender's stream starts at 128 bytes and grows as the copy.
                chunks += o.data.capacity() + o.data.len().max(128);
            }
        }
        (state, chunks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(s: &HeadSeries) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        if let Some(m) = &s.mem {
            assert!(m.open.as_ref().is_none_or(|o| !o.stale));
            for (_, _, data) in m.chunks() {
                out.extend(samples_after(data, i64::MIN));
            }
        }
        out
    }

    fn full_chunks(s: &HeadSeries) -> usize {
        s.mem.as_ref().map_or(0, |m| m.full.len())
    }

    #[test]
    fn sizes_are_those_the_head_docs_count() {
        assert_eq!(size_of::<Option<HeadSeries>>(), 56);
        assert_eq!(size_of::<MmapChunk>(), 24);
        assert_eq!(size_of::<MemChunk>(), 32);
    }

    #[test]
    fn chunks_are_cut_where_prometheus_cuts_them() {
        // Every 15 s from the start of a 2 h range: four chunks of 120
        // samples, ending on the range's half hours, as Prometheus cuts them.
        let start = 236_112 * CHUNK_RANGE_MS;
        let mut s = HeadSeries::new(1);
        for k in 0..=480 {
            s.append(start + k * 15_000, k as f64);
        }
        s.flush();
        let m = s.mem.as_ref().unwrap();
        let ranges: Vec<(i64, i64)> = m.chunks().map(|(a, b, _)| (a - start, b - start)).collect();
        let half_hour = 1_800_000;
        assert_eq!(
            ranges,
            [
                (0, half_hour - 15_000),
                (half_hour, 2 * half_hour - 15_000),
                (2 * half_hour, 3 * half_hour - 15_000),
                (3 * half_hour, 4 * half_hour - 15_000),
                (4 * half_hour, 4 * half_hour),
            ]
        );
        // Samples ten times as fast: cut at twice the target count.
        let mut fast = HeadSeries::new(2);
        for k in 0..1000 {
            fast.append(start + k * 1_500, 0.0);
        }
        let counts: Vec<usize> = fast.mem.as_ref().unwrap().full.iter().map(|c| c.data[1] as usize).collect();
        assert!(counts.iter().all(|&n| n <= 2 * SAMPLES_PER_CHUNK), "{counts:?}");
    }

    #[test]
    fn appends_cuts_and_drops_what_files_cover() {
        let mut s = HeadSeries::new(1);
        assert_eq!(s.append(10, 1.0), Appended::NeedsFlush);
        assert_eq!(s.append(20, 2.0), Appended::Yes);
        assert_eq!(s.append(20, 3.0), Appended::OutOfOrder);
        assert_eq!(s.append(5, 3.0), Appended::OutOfOrder);
        for i in 3..300 {
            s.append(i * 10, i as f64);
        }
        s.flush();
        assert_eq!(full_chunks(&s), 2);
        // With 30 samples over 290 ms, the chunk was given an end 1164 ms
        // after its start (the 2 h range split evenly): 117 samples.
        assert_eq!(s.mem.as_ref().unwrap().full[0].data[..2], [0, 117]);
        assert_eq!(s.time_range(), Some((10, 2990)));
        let all = samples(&s);
        assert_eq!(all.len(), 299);

        // A file chunk up to 1500 (inside the second in-memory chunk).
        assert!(s.add_mmapped(MmapChunk { seq: 1, offset: 8, min_time: 10, max_time: 1500 }));
        assert_eq!(samples(&s), all.iter().copied().filter(|&(t, _)| t > 1500).collect::<Vec<_>>());
        assert!(!s.add_mmapped(MmapChunk { seq: 1, offset: 90, min_time: 1500, max_time: 1600 }));
        // One into the open chunk.
        assert!(s.add_mmapped(MmapChunk { seq: 2, offset: 8, min_time: 1510, max_time: 2500 }));
        assert_eq!(samples(&s), all.iter().copied().filter(|&(t, _)| t > 2500).collect::<Vec<_>>());
        assert_eq!(full_chunks(&s), 0);
        assert_eq!(s.append(2400, 0.0), Appended::Covered);

        s.add_deleted(Interval { mint: 0, maxt: 100 });
        s.add_deleted(Interval { mint: 2000, maxt: 2600 });
        s.truncate_before(2700);
        assert!(s.mmapped.is_empty());
        assert_eq!(samples(&s).first().map(|x| x.0), Some(2700));
        assert_eq!(s.deleted.as_ref().map(|d| d.0.len()), None);
        assert!(!s.remove_file(9) && !s.is_empty());
        s.truncate_before(5000);
        assert!(s.is_empty());
        assert_eq!(s.time_range(), None);
    }
}
