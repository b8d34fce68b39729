//! The series the engine reads: chunks stay compressed until evaluation asks
//! for a series' samples, then each replica is decoded, bounded to the select's
//! time range and deduplicated.

use std::cell::RefCell;
use std::sync::Arc;

use thanos_core::chunkenc::batch::Decoder;
use thanos_core::labels::Labels;
use thanos_core::Result;
use thanos_promql::engine::storage::{SeriesData, SeriesSet};

use crate::dedup::{dedup_replicas, group_replicas, Samples};
use crate::response::{ChunkRef, StoreSeries};

/// One series for the engine: one replica or several to deduplicate.
pub struct QuerySeries {
    labels: Arc<Labels>,
    replicas: Vec<Vec<ChunkRef>>,
    /// The select's time range: replicas are cut to it before deduplication,
    /// so the result does not depend on how the engine reads the series.
    mint: i64,
    maxt: i64,
    counter: bool,
}

thread_local! {
    /// Buffers reused from one series to the next: a query reads thousands.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Default)]
struct Scratch {
    decoder: Decoder,
    replicas: Vec<Samples>,
}

impl SeriesData for QuerySeries {
    fn labels(&self) -> &Arc<Labels> {
        &self.labels
    }

    fn samples(&self, mint: i64, maxt: i64, ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch { decoder, replicas } = scratch;
            if let [only] = self.replicas.as_slice() {
                return decode_replica(decoder, only, mint.max(self.mint), maxt.min(self.maxt), ts, vs);
            }
            replicas.resize_with(self.replicas.len(), Samples::default);
            for (chunks, s) in self.replicas.iter().zip(replicas.iter_mut()) {
                s.ts.clear();
                s.vs.clear();
                decode_replica(decoder, chunks, self.mint, self.maxt, &mut s.ts, &mut s.vs)?;
            }
            let start = ts.len();
            dedup_replicas(&replicas[..self.replicas.len()], self.counter, ts, vs);
            trim(ts, vs, start, mint, maxt);
            Ok(())
        })
    }
}

/// Appends the samples in `[mint, maxt]` of one replica's chunks (sorted by
/// time). Where chunks overlap, a sample not after the last one kept is
/// dropped, as Thanos's chunk iterator seeks past it.
pub fn decode_replica(
    decoder: &mut Decoder,
    chunks: &[ChunkRef],
    mint: i64,
    maxt: i64,
    ts: &mut Vec<i64>,
    vs: &mut Vec<f64>,
) -> Result<()> {
    // Chunks are sorted by start: those that can overlap the range are a run.
    let lo = chunks.iter().position(|c| c.max_time >= mint).unwrap_or(chunks.len());
    let hi = lo + chunks[lo..].iter().position(|c| c.min_time > maxt).unwrap_or(chunks.len() - lo);
    if lo == hi {
        return Ok(());
    }
    let start = ts.len();
    decoder.decode(&chunks[lo..hi], ts, vs)?;
    // Usually the chunks follow each other: trim the ends and be done.
    if ts[start..].windows(2).all(|w| w[0] < w[1]) {
        trim(ts, vs, start, mint, maxt);
        return Ok(());
    }
    let mut keep = start;
    let mut last = i64::MIN;
    for i in start..ts.len() {
        let t = ts[i];
        if t >= mint && t <= maxt && t > last {
            ts[keep] = t;
            vs[keep] = vs[i];
            keep += 1;
            last = t;
        }
    }
    ts.truncate(keep);
    vs.truncate(keep);
    Ok(())
}

/// Keeps, of the sorted samples from `start` on, those in `[mint, maxt]`.
fn trim(ts: &mut Vec<i64>, vs: &mut Vec<f64>, start: usize, mint: i64, maxt: i64) {
    let from = start + ts[start..].partition_point(|&t| t < mint);
    let to = start + ts[start..].partition_point(|&t| t <= maxt);
    ts.truncate(to);
    vs.truncate(to);
    ts.drain(start..from);
    vs.drain(start..from);
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
    group_replicas(merged, &opts.replica_labels)
        .into_iter()
        .map(|g| {
            Arc::new(QuerySeries {
                labels: Arc::new(g.labels),
                replicas: g.replicas,
                mint,
                maxt,
                counter: opts.counter,
            }) as Arc<dyn SeriesData>
        })
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
        ChunkRef { min_time: ts[0], max_time: *ts.last().unwrap(), data: Bytes::from(encode(&ts, &vs).unwrap()) }
    }

    #[test]
    fn overlapping_chunks_are_read_once_and_bounded() {
        let chunks =
            vec![chunk(&[(0, 1.0), (10, 2.0), (20, 3.0)]), chunk(&[(20, 9.0), (30, 4.0)]), chunk(&[(500, 5.0)])];
        let (mut ts, mut vs) = (vec![], vec![]);
        decode_replica(&mut Decoder::default(), &chunks, 5, 100, &mut ts, &mut vs).unwrap();
        assert_eq!(ts, vec![10, 20, 30]);
        assert_eq!(vs, vec![2.0, 3.0, 4.0]);
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
        let (mut ts, mut vs) = (vec![], vec![]);
        set[0].samples(10_000, 40_000, &mut ts, &mut vs).unwrap();
        assert_eq!((ts, vs), (vec![15_000, 30_000], vec![2.0, 3.0]));
    }

    #[test]
    fn a_corrupt_chunk_is_an_error() {
        let bad = ChunkRef { min_time: 0, max_time: 10, data: Bytes::from_static(b"\x00\x05\x01") };
        let err = decode_replica(&mut Decoder::default(), &[bad], 0, 10, &mut vec![], &mut vec![]).unwrap_err();
        assert_eq!(err.kind(), thanos_core::ErrorKind::CorruptChunk);
    }
}
