//! Reading the head's files into a [`Head`], first whole and then what was
//! appended since (`Head.Init`, `loadMmappedChunks` and `loadWAL` in
//! `tsdb/head.go` and `tsdb/head_wal.go` at v2.42.0).
//!
//! Chunk files are read before the WAL, in both cases. Prometheus logs a
//! series and its samples to the WAL before it can cut a chunk of them, so
//! the WAL read afterwards defines the series of every chunk read: a chunk
//! whose series is still unknown after it belongs to a series Prometheus has
//! dropped, and is skipped as replay skips it.

use std::collections::HashMap;
use std::path::Path;

use thanos_core::{Error, ErrorKind, Result};

use super::index::push_slowly_growing;
use super::series::{Appended, HeadSeries, MmapChunk};
use super::{ChunkFile, Head, HeadStats, WalPosition};
use crate::chunks::ENCODING_XOR;
use crate::head_chunks::{self, HeadChunkMeta};
use crate::mmap::{inode, MappedFile};
use crate::record::{self, Record, RefSeries};
use crate::wal::{segment_name, RecordReader, WalDir};

/// How often an open starts over when Prometheus moved the files it was
/// reading (a checkpoint replacing segments) before giving up.
const OPEN_ATTEMPTS: usize = 5;

/// What changed in `chunks_head/`, read but not applied.
#[derive(Default)]
struct ChunkScan {
    /// Files deleted (or replaced under the same number).
    removed: Vec<u32>,
    updates: Vec<FileUpdate>,
}

struct FileUpdate {
    seq: u32,
    /// A new mapping (a new file, or one that grew), else the one held.
    map: Option<MappedFile>,
    read_to: usize,
    complete: bool,
    chunks: Vec<HeadChunkMeta>,
}

/// What the WAL holds after the position read to.
enum WalTail {
    Records(Vec<Record>, WalPosition),
    /// The position is gone: the segment was deleted or rewritten.
    Rebuild,
}

/// State while records and chunks are applied.
#[derive(Default)]
struct Replay {
    /// Chunks of series references not (yet) defined by a Series record.
    orphans: HashMap<u64, Vec<MmapChunk>>,
    /// Series whose open chunk needs a flush.
    dirty: Vec<u32>,
    /// Something was removed: the time range is recomputed.
    removed: bool,
}

impl Head {
    fn empty(dir: &Path, min_valid_time: i64) -> Head {
        Head {
            dir: dir.to_path_buf(),
            min_valid_time,
            index: Default::default(),
            series: Vec::new(),
            refs: HashMap::new(),
            extra_refs: HashMap::new(),
            dropped_refs: Default::default(),
            files: Default::default(),
            wal: WalPosition::default(),
            min_time: i64::MAX,
            max_time: i64::MIN,
            stats: HeadStats::default(),
        }
    }

    /// Reads the head whole, dropping what is before `min_valid_time`.
    pub(super) fn open_with(dir: &Path, min_valid_time: i64) -> Result<Head> {
        let mut why = String::new();
        for _ in 0..OPEN_ATTEMPTS {
            match Head::try_open(dir, min_valid_time)? {
                Ok(h) => return Ok(h),
                Err(missing) => why = missing,
            }
        }
        Err(Error::new(ErrorKind::Unavailable, format!("{why} (in each of {OPEN_ATTEMPTS} reads)")))
    }

    /// One read of the head; the inner error names a file that was listed
    /// but is not there (deleted meanwhile, or missing from the sequence).
    fn try_open(dir: &Path, min_valid_time: i64) -> Result<std::result::Result<Head, String>> {
        let missing = |p: &Path| Ok(Err(format!("{} is missing", p.display())));
        let mut h = Head::empty(dir, min_valid_time);
        let mut r = Replay::default();
        let scan = h.scan_chunk_files()?;
        h.apply_chunk_scan(scan, &mut r);

        let wal_dir = dir.join("wal");
        let listing = WalDir::list(&wal_dir)?;
        let mut reader = RecordReader::default();
        let mut first = listing.segments.first().copied().unwrap_or(0);
        if let Some((cp, cp_dir)) = &listing.checkpoint {
            let Some(segments) = WalDir::checkpoint_segments(cp_dir)? else { return missing(cp_dir) };
            for s in segments {
                let path = cp_dir.join(segment_name(s));
                let Some(map) = MappedFile::open_if_exists(&path)? else { return missing(&path) };
                reader.read(&path, map.bytes(), 0, true, |rec, at| {
                    h.apply_record(record::decode(&path, at, rec)?, &mut r);
                    Ok(())
                })?;
            }
            first = cp.saturating_add(1);
        }
        let mut pos = WalPosition { segment: first, offset: 0, ino: 0 };
        if let Some(&last) = listing.segments.last() {
            for seg in first..=last {
                let path = wal_dir.join(segment_name(seg));
                if listing.segments.binary_search(&seg).is_err() {
                    // Deleted since the listing (a newer checkpoint), or a gap.
                    return missing(&path);
                }
                let Some(map) = MappedFile::open_if_exists(&path)? else { return missing(&path) };
                let end = reader.read(&path, map.bytes(), 0, seg != last, |rec, at| {
                    h.apply_record(record::decode(&path, at, rec)?, &mut r);
                    Ok(())
                })?;
                pos = WalPosition { segment: seg, offset: end, ino: map.ino() };
            }
        }
        h.finish(r);
        h.wal = pos;
        Ok(Ok(h))
    }

    pub(super) fn refresh_inner(&mut self) -> Result<()> {
        let scan = self.scan_chunk_files()?;
        let (records, pos) = match self.read_wal_tail()? {
            WalTail::Records(records, pos) => (records, pos),
            WalTail::Rebuild => return self.rebuild(),
        };
        if self.needs_dropped_series(&scan, &records) {
            return self.rebuild();
        }
        let mut r = Replay::default();
        self.apply_chunk_scan(scan, &mut r);
        for rec in records {
            self.apply_record(rec, &mut r);
        }
        self.finish(r);
        self.wal = pos;
        Ok(())
    }

    /// Reads the head again from the newest checkpoint; on error the head
    /// stays as it was.
    fn rebuild(&mut self) -> Result<()> {
        let mut h = Head::open_with(&self.dir, self.min_valid_time)?;
        h.stats.rebuilds = self.stats.rebuilds + 1;
        *self = h;
        Ok(())
    }

    /// Whether new data belongs to a series removed by `set_min_valid_time`
    /// (its labels are then only on disk).
    fn needs_dropped_series(&self, scan: &ChunkScan, records: &[Record]) -> bool {
        if self.dropped_refs.is_empty() {
            return false;
        }
        let mvt = self.min_valid_time;
        let dropped = |r: &u64| self.dropped_refs.contains(r);
        let in_chunks =
            scan.updates.iter().flat_map(|u| &u.chunks).any(|c| c.max_time >= mvt && dropped(&c.series_ref));
        let in_samples = records.iter().any(|rec| match rec {
            Record::Samples(s) => s.iter().any(|s| s.t >= mvt && dropped(&s.series_ref)),
            _ => false,
        });
        in_chunks || in_samples
    }

    /// Reads the new records of `chunks_head/`, without changing the head.
    fn scan_chunk_files(&self) -> Result<ChunkScan> {
        let dir = self.dir.join("chunks_head");
        let listing = head_chunks::list_files(&dir)?;
        let newest = listing.last().map(|(seq, _)| *seq);
        let mut scan = ChunkScan::default();
        for &seq in self.files.keys() {
            if listing.binary_search_by_key(&seq, |(s, _)| *s).is_err() {
                scan.removed.push(seq);
            }
        }
        for (seq, path) in listing {
            let held = self.files.get(&seq);
            let stat = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if held.is_some() {
                        scan.removed.push(seq);
                    }
                    continue;
                }
                Err(e) => {
                    return Err(Error::new(ErrorKind::Unavailable, format!("stat {}: {e}", path.display())));
                }
            };
            let same_file = held.filter(|f| f.map.ino() == inode(&stat));
            if same_file.is_some_and(|f| f.complete) {
                continue;
            }
            let sealed = Some(seq) != newest;
            let mut map = None;
            let mut held = same_file;
            if held.is_none_or(|f| f.map.len() as u64 != stat.len()) {
                let Some(m) = MappedFile::open_if_exists(&path)? else {
                    if self.files.contains_key(&seq) {
                        scan.removed.push(seq);
                    }
                    continue;
                };
                held = held.filter(|f| f.map.ino() == m.ino());
                map = Some(m);
            }
            if self.files.contains_key(&seq) && held.is_none() {
                // A new file under a number held: the old one was deleted.
                scan.removed.push(seq);
            }
            let start = held.map_or(0, |f| f.read_to);
            let bytes = match (&map, held) {
                (Some(m), _) => m.bytes(),
                (None, Some(f)) => f.map.bytes(),
                (None, None) => continue,
            };
            let mut chunks = Vec::new();
            let read_to = head_chunks::read_chunks(&path, seq, bytes, start, sealed, |c| chunks.push(c))?;
            scan.updates.push(FileUpdate { seq, map, read_to, complete: sealed, chunks });
        }
        scan.removed.sort_unstable();
        scan.removed.dedup();
        Ok(scan)
    }

    fn apply_chunk_scan(&mut self, scan: ChunkScan, r: &mut Replay) {
        for seq in scan.removed {
            self.files.remove(&seq);
            for s in self.series.iter_mut().flatten() {
                r.removed |= s.remove_file(seq);
            }
        }
        for u in scan.updates {
            match (u.map, self.files.get_mut(&u.seq)) {
                (Some(map), _) => {
                    self.files.insert(u.seq, ChunkFile { map, read_to: u.read_to, complete: u.complete });
                }
                (None, Some(f)) => {
                    f.read_to = u.read_to;
                    f.complete = u.complete;
                }
                (None, None) => continue,
            }
            for c in u.chunks {
                self.add_file_chunk(c, r);
            }
        }
    }

    /// Reads the WAL from where the last read stopped, without changing the head.
    fn read_wal_tail(&self) -> Result<WalTail> {
        let wal_dir = self.dir.join("wal");
        let listing = WalDir::list(&wal_dir)?;
        let pos = self.wal;
        let Some(&last) = listing.segments.last() else {
            // No segments: none yet, or the WAL was removed.
            return Ok(if pos.ino == 0 { WalTail::Records(Vec::new(), pos) } else { WalTail::Rebuild });
        };
        if listing.segments.binary_search(&pos.segment).is_err() {
            return Ok(if last < pos.segment { WalTail::Records(Vec::new(), pos) } else { WalTail::Rebuild });
        }
        let mut reader = RecordReader::default();
        let mut records = Vec::new();
        let mut new_pos = pos;
        for seg in pos.segment..=last {
            if listing.segments.binary_search(&seg).is_err() {
                return Ok(WalTail::Rebuild);
            }
            let path = wal_dir.join(segment_name(seg));
            let Some(map) = MappedFile::open_if_exists(&path)? else { return Ok(WalTail::Rebuild) };
            let mut start = 0;
            if seg == pos.segment {
                if (pos.ino != 0 && map.ino() != pos.ino) || map.len() < pos.offset {
                    return Ok(WalTail::Rebuild);
                }
                start = pos.offset;
            }
            let end = reader.read(&path, map.bytes(), start, seg != last, |rec, at| {
                records.push(record::decode(&path, at, rec)?);
                Ok(())
            })?;
            new_pos = WalPosition { segment: seg, offset: end, ino: map.ino() };
        }
        Ok(WalTail::Records(records, new_pos))
    }

    /// Adds a chunk read from a file to its series, or keeps it until its
    /// series is defined.
    fn add_file_chunk(&mut self, c: HeadChunkMeta, r: &mut Replay) {
        // Out-of-order chunks carry a flag in the encoding byte; histogram
        // chunks are not read (their samples are not either).
        if c.encoding != ENCODING_XOR {
            self.stats.skipped_chunks += 1;
            return;
        }
        if c.max_time < self.min_valid_time {
            return;
        }
        let (seq, offset) = head_chunks::unpack_ref(c.chunk_ref);
        let m = MmapChunk { seq, offset, min_time: c.min_time, max_time: c.max_time };
        match self.refs.get(&c.series_ref) {
            Some(&id) => self.attach(id, m),
            None => r.orphans.entry(c.series_ref).or_default().push(m),
        }
    }

    fn attach(&mut self, id: u32, m: MmapChunk) {
        let Some(s) = self.series.get_mut(id as usize).and_then(Option::as_mut) else { return };
        if s.add_mmapped(m) {
            self.min_time = self.min_time.min(m.min_time);
            self.max_time = self.max_time.max(m.max_time);
        } else {
            self.stats.skipped_chunks += 1;
        }
    }

    fn apply_record(&mut self, rec: Record, r: &mut Replay) {
        let mvt = self.min_valid_time;
        match rec {
            Record::Series(series) => {
                for s in series {
                    self.add_series(s, r);
                }
            }
            Record::Samples(samples) => {
                for s in samples {
                    if s.t < mvt {
                        continue;
                    }
                    let Some(&id) = self.refs.get(&s.series_ref) else {
                        self.stats.unknown_refs += 1;
                        continue;
                    };
                    let Some(series) = self.series.get_mut(id as usize).and_then(Option::as_mut) else { continue };
                    match series.append(s.t, s.v) {
                        Appended::Covered => {}
                        Appended::OutOfOrder => self.stats.out_of_order_samples += 1,
                        a => {
                            if a == Appended::NeedsFlush {
                                r.dirty.push(id);
                            }
                            self.min_time = self.min_time.min(s.t);
                            self.max_time = self.max_time.max(s.t);
                        }
                    }
                }
            }
            Record::Tombstones(stones) => {
                for st in stones {
                    // Empty ranges (see `record`) delete nothing.
                    if st.interval.maxt < mvt || st.interval.mint > st.interval.maxt {
                        continue;
                    }
                    match self.refs.get(&st.series_ref).and_then(|&id| self.series.get_mut(id as usize)) {
                        Some(Some(s)) => s.add_deleted(st.interval),
                        _ => self.stats.unknown_refs += 1,
                    }
                }
            }
            Record::Skipped(t) => self.stats.skipped_records.count(t),
        }
    }

    /// A Series record: a new series, or another reference of a known one.
    fn add_series(&mut self, s: RefSeries, r: &mut Replay) {
        self.dropped_refs.remove(&s.series_ref);
        let known = self.index.find(&s.labels);
        if known.is_some() && self.refs.get(&s.series_ref) == known.as_ref() {
            return; // The same series again.
        }
        let id = match known {
            Some(id) => {
                self.extra_refs.entry(id).or_default().push(s.series_ref);
                id
            }
            None => {
                let id = self.index.insert(&s.labels);
                debug_assert_eq!(id as usize, self.series.len());
                push_slowly_growing(&mut self.series, Some(HeadSeries::new(s.series_ref)));
                id
            }
        };
        self.refs.insert(s.series_ref, id);
        for m in r.orphans.remove(&s.series_ref).unwrap_or_default() {
            self.attach(id, m);
        }
    }

    /// Ends an apply: chunks of no series are dropped, open chunks flushed.
    fn finish(&mut self, r: Replay) {
        self.stats.skipped_chunks += r.orphans.values().map(|v| v.len() as u64).sum::<u64>();
        for id in r.dirty {
            if let Some(Some(s)) = self.series.get_mut(id as usize) {
                s.flush();
            }
        }
        if r.removed {
            self.recompute_times();
        }
    }
}
