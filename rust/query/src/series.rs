//! The series the engine reads: chunks stay compressed until evaluation asks
//! for a series' samples, then each replica is decoded, bounded to the select's
//! time range and deduplicated.
//!
//! The engine reads a select's series one after the other, and one series has
//! a dozen chunks: too few for the decoder to work on sixteen side by side.
//! So the first read of a series decodes it together with the next ones
//! (about [`BATCH_CHUNKS`] chunks), and the following reads find their samples
//! ready. Memory stays bounded by the batch, not the select.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use thanos_core::chunkenc::batch::Decoder;
use thanos_core::labels::Labels;
use thanos_core::Result;
use thanos_promql::engine::storage::{SeriesData, SeriesSet};

use crate::dedup::{dedup_replicas, group_replicas, ReplicaGroup, Run, Samples};
use crate::downsampled::CounterResets;
use crate::response::{ChunkRef, StoreSeries};

/// Chunks decoded in one batch: several times the sixteen the AVX-512 kernel
/// takes at once, yet a few hundred KiB of samples.
const BATCH_CHUNKS: usize = 128;

/// The series of one select, shared by its [`QuerySeries`].
struct Select {
    groups: Vec<ReplicaGroup>,
    /// The select's time range: replicas are cut to it before deduplication,
    /// so the result does not depend on how the engine reads a series.
    mint: i64,
    maxt: i64,
    counter: bool,
}

impl Select {
    /// The chunks of a replica that can hold samples in the select's range:
    /// chunks are sorted by start, so those are a run.
    fn chunks<'a>(&self, replica: &'a [ChunkRef]) -> &'a [ChunkRef] {
        let lo = replica.iter().position(|c| c.max_time >= self.mint).unwrap_or(replica.len());
        let hi = lo + replica[lo..].iter().position(|c| c.min_time > self.maxt).unwrap_or(replica.len() - lo);
        &replica[lo..hi]
    }
}

/// One series for the engine: one replica or several to deduplicate.
pub struct QuerySeries {
    labels: Arc<Labels>,
    select: Arc<Select>,
    index: usize,
}

thread_local! {
    /// The decoded batch and the buffers reused from one series to the next.
    static BATCH: RefCell<Batch> = RefCell::new(Batch::default());
}

#[derive(Default)]
struct Batch {
    decoder: Decoder,
    /// Which select the batch belongs to. Not kept alive by it; the weak
    /// reference keeps its address from being reused while we compare it.
    select: Weak<Select>,
    /// The series it holds: `first..first + series.len()`.
    first: usize,
    /// For each series, the samples of each replica in `ts`/`vs`.
    series: Vec<Vec<Span>>,
    ts: Vec<i64>,
    vs: Vec<f64>,
    /// Replicas whose chunks overlap, put in order here (rare), and those
    /// read through counter-reset application (downsampled counters).
    sorted: Vec<Samples>,
}

/// Where a replica's samples are in the batch.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    /// It holds a downsampled counter chunk (see `ChunkRef::counter`).
    counter: bool,
}

impl Batch {
    fn holds(&self, select: &Arc<Select>, index: usize) -> bool {
        self.select.as_ptr() == Arc::as_ptr(select) && index >= self.first && index < self.first + self.series.len()
    }

    /// Decodes the series from `index` on, as many as make a batch.
    fn fill(&mut self, select: &Arc<Select>, index: usize) -> Result<()> {
        self.select = Arc::downgrade(select);
        self.first = index;
        self.series.clear();
        self.ts.clear();
        self.vs.clear();
        let mut chunks: Vec<&[u8]> = Vec::new();
        // Per replica: its chunks, and whether one is a counter aggregate.
        let mut replicas = Vec::new();
        for group in &select.groups[index..] {
            if !chunks.is_empty() && chunks.len() + group.replicas.iter().map(Vec::len).sum::<usize>() > BATCH_CHUNKS {
                break;
            }
            let n = group.replicas.len();
            for r in &group.replicas {
                let run = select.chunks(r);
                replicas.push((run.len(), run.iter().any(|c| c.counter)));
                chunks.extend(run.iter().map(|c| c.data.as_ref()));
            }
            self.series.push(Vec::with_capacity(n));
        }
        if let Err(e) = self.decoder.decode(&chunks, &mut self.ts, &mut self.vs) {
            self.series.clear();
            return Err(e);
        }
        // Chunk sample counts, grouped by replica, then by series.
        let mut counts = self.decoder.counts();
        let mut replicas = replicas.into_iter();
        let mut at = 0;
        for (k, spans) in self.series.iter_mut().enumerate() {
            for _ in 0..select.groups[index + k].replicas.len() {
                let (chunks, counter) = replicas.next().unwrap_or((0, false));
                let len: usize = counts.by_ref().take(chunks).sum();
                spans.push(Span { start: at, end: at + len, counter });
                at += len;
            }
        }
        Ok(())
    }

    /// The samples of series `index` in the select's range, replica by replica.
    fn runs(&mut self, select: &Select, index: usize) -> Vec<Run<'_>> {
        let spans = &self.series[index - self.first];
        // Overlapping chunks (a store that sent the same data twice) come out of
        // order: keep each sample after the last one kept, as Thanos's chunk
        // iterator does.
        self.sorted.resize_with(spans.len(), Samples::default);
        for (&Span { start: a, end: b, counter }, sorted) in spans.iter().zip(self.sorted.iter_mut()) {
            sorted.ts.clear();
            sorted.vs.clear();
            if counter {
                CounterResets::apply(&self.ts[a..b], &self.vs[a..b], sorted);
            } else if !self.ts[a..b].windows(2).all(|w| w[0] < w[1]) {
                let mut last = i64::MIN;
                for (&t, &v) in self.ts[a..b].iter().zip(&self.vs[a..b]) {
                    if t > last {
                        sorted.ts.push(t);
                        sorted.vs.push(v);
                        last = t;
                    }
                }
            }
        }
        spans
            .iter()
            .zip(&self.sorted)
            .map(|(&Span { start: a, end: b, counter }, sorted)| {
                let (ts, vs) = if sorted.ts.is_empty() && !counter {
                    (&self.ts[a..b], &self.vs[a..b])
                } else {
                    (&sorted.ts[..], &sorted.vs[..])
                };
                let (lo, hi) = bounds(ts, select.mint, select.maxt);
                Run { ts: &ts[lo..hi], vs: &vs[lo..hi] }
            })
            .collect()
    }
}

/// The index range of the samples of sorted `ts` in `[mint, maxt]`.
fn bounds(ts: &[i64], mint: i64, maxt: i64) -> (usize, usize) {
    let lo = ts.partition_point(|&t| t < mint);
    (lo, lo.max(ts.partition_point(|&t| t <= maxt)))
}

impl SeriesData for QuerySeries {
    fn labels(&self) -> &Arc<Labels> {
        &self.labels
    }

    fn samples(&self, mint: i64, maxt: i64, ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
        BATCH.with_borrow_mut(|batch| {
            if !batch.holds(&self.select, self.index) {
                batch.fill(&self.select, self.index)?;
            }
            let counter = self.select.counter;
            let runs = batch.runs(&self.select, self.index);
            if let [only] = runs[..] {
                // One replica: copy only what is in range.
                let (lo, hi) = bounds(only.ts, mint, maxt);
                ts.extend_from_slice(&only.ts[lo..hi]);
                vs.extend_from_slice(&only.vs[lo..hi]);
                return Ok(());
            }
            let start = ts.len();
            dedup_replicas(&runs, counter, ts, vs);
            let (lo, hi) = bounds(&ts[start..], mint, maxt);
            ts.truncate(start + hi);
            vs.truncate(start + hi);
            ts.drain(start..start + lo);
            vs.drain(start..start + lo);
            Ok(())
        })
    }
}

/// How a select's series become the engine's series.
#[derive(Clone, Debug, Default)]
pub struct DedupOpts {
    /// Labels that tell replicas apart; deduplication is off when empty.
    pub replica_labels: Vec<String>,
    /// Whether the select's function reads counters (see [`crate::select::is_counter_func`]).
    pub counter: bool,
}

/// The engine's series of one select from the merged store answer, sorted by
/// labels.
pub fn series_set(merged: Vec<StoreSeries>, opts: &DedupOpts, mint: i64, maxt: i64) -> SeriesSet {
    let mut groups = group_replicas(merged, &opts.replica_labels);
    // The labels move to the engine's series; the select keeps the chunks.
    let labels: Vec<Arc<Labels>> = groups.iter_mut().map(|g| Arc::new(std::mem::take(&mut g.labels))).collect();
    let select = Arc::new(Select { groups, mint, maxt, counter: opts.counter });
    labels
        .into_iter()
        .enumerate()
        .map(|(index, labels)| Arc::new(QuerySeries { labels, select: select.clone(), index }) as Arc<dyn SeriesData>)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use thanos_core::chunkenc::xor::encode;

    fn chunk(points: &[(i64, f64)]) -> ChunkRef {
        let ts: Vec<i64> = points.iter().map(|p| p.0).collect();
        let vs: Vec<f64> = points.iter().map(|p| p.1).collect();
        ChunkRef::raw(ts[0], *ts.last().unwrap(), Bytes::from(encode(&ts, &vs).unwrap()))
    }

    fn read(s: &Arc<dyn SeriesData>, mint: i64, maxt: i64) -> (Vec<i64>, Vec<f64>) {
        let (mut ts, mut vs) = (vec![], vec![]);
        s.samples(mint, maxt, &mut ts, &mut vs).unwrap();
        (ts, vs)
    }

    fn one(labels: &str, chunks: Vec<ChunkRef>) -> StoreSeries {
        StoreSeries { labels: Labels::from_pairs([("__name__", labels)]), chunks }
    }

    #[test]
    fn overlapping_chunks_are_read_once_and_bounded() {
        let chunks =
            vec![chunk(&[(0, 1.0), (10, 2.0), (20, 3.0)]), chunk(&[(20, 9.0), (30, 4.0)]), chunk(&[(500, 5.0)])];
        let set = series_set(vec![one("m", chunks)], &DedupOpts::default(), 5, 100);
        assert_eq!(read(&set[0], 0, 1000), (vec![10, 20, 30], vec![2.0, 3.0, 4.0]));
        assert_eq!(read(&set[0], 15, 25), (vec![20], vec![3.0]));
    }

    #[test]
    fn replicas_are_deduplicated_within_the_select_range() {
        let labels = |r: &str| Labels::from_pairs([("__name__", "m"), ("replica", r)]);
        let merged = vec![
            StoreSeries { labels: labels("0"), chunks: vec![chunk(&[(0, 1.0), (15_000, 2.0)])] },
            StoreSeries { labels: labels("1"), chunks: vec![chunk(&[(0, 1.0), (15_000, 2.0), (30_000, 3.0)])] },
        ];
        let opts = DedupOpts { replica_labels: vec!["replica".into()], counter: false };
        let set = series_set(merged, &opts, 0, 30_000);
        assert_eq!(set.len(), 1);
        assert_eq!(set[0].labels().to_string(), r#"{__name__="m"}"#);
        assert_eq!(read(&set[0], 10_000, 40_000), (vec![15_000, 30_000], vec![2.0, 3.0]));
    }

    #[test]
    fn batches_cover_many_series_in_any_order() {
        // More chunks than one batch holds, read backwards and twice.
        let series: Vec<StoreSeries> =
            (0..300).map(|i| one(&format!("m{i:03}"), vec![chunk(&[(0, i as f64), (10, i as f64 + 0.5)])])).collect();
        let set = series_set(series, &DedupOpts::default(), 0, 100);
        for i in (0..300).rev().chain(0..300) {
            assert_eq!(read(&set[i], 0, 100), (vec![0, 10], vec![i as f64, i as f64 + 0.5]), "series {i}");
        }
    }

    #[test]
    fn a_corrupt_chunk_is_an_error() {
        let bad = ChunkRef::raw(0, 10, Bytes::from_static(b"\x00\x05\x01"));
        let set = series_set(vec![one("m", vec![bad])], &DedupOpts::default(), 0, 10);
        let err = set[0].samples(0, 10, &mut vec![], &mut vec![]).unwrap_err();
        assert_eq!(err.kind(), thanos_core::ErrorKind::CorruptChunk);
    }
}
