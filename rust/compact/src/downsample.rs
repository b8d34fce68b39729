//! Downsampling (Thanos's `pkg/compact/downsample/downsample.go` at v0.26):
//! a block at one resolution becomes a block at a coarser one (raw to 5
//! minutes, 5 minutes to 1 hour) whose chunks are aggregate chunks
//! ([`thanos_tsdb::aggr`]): per window of the resolution, the count, sum,
//! min and max of the samples, and the counter (the series with its resets
//! undone). Windows end at `t - t % res + res - 1`, so a window's aggregate
//! is stamped with the last millisecond it covers.
//!
//! A counter aggregate chunk starts with the chunk's first raw value and ends
//! with its last raw value at the last window's timestamp again, so that
//! readers (and the next downsampling) find the true values at chunk
//! boundaries and see resets between chunks.

use std::collections::BTreeSet;
use std::path::Path;

use bytes::Bytes;
use thanos_core::chunkenc::{self, XorAppender};
use thanos_core::labels::{MatchOp, Matcher};
use thanos_core::{bail, Result};
use thanos_tsdb::aggr::{self, AggrType, ENCODING_AGGR};
use thanos_tsdb::chunks::ENCODING_XOR;
use thanos_tsdb::index::ChunkMeta;
use thanos_tsdb::meta::BlockMeta;
use thanos_tsdb::writer::BlockWriter;
use thanos_tsdb::{Block, Chunk};

/// `downsample.ResLevel1` and `ResLevel2`, in ms.
pub const RES_5M: i64 = 5 * 60 * 1000;
pub const RES_1H: i64 = 60 * 60 * 1000;
/// The raw resolution `DownsampleRaw` assumes when it sizes chunks.
const ASSUMED_RAW_RESOLUTION: i64 = 60 * 1000;
/// Chunks are cut so that each holds at most this many windows on average.
const TARGET_SAMPLES_PER_CHUNK: usize = 140;
/// Prometheus's staleness marker (`value.StaleNaN`).
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// The end of the window of `res` that `t` falls in (`currentWindow`; Go's
/// remainder, like Rust's, takes the sign of `t`).
fn current_window(t: i64, res: i64) -> i64 {
    t - t % res + res - 1
}

/// How many chunks a series of `count` samples over `[mint, maxt]` at
/// `in_res` becomes at `out_res` (`targetChunkCount`).
fn target_chunk_count(mint: i64, maxt: i64, in_res: i64, out_res: i64, count: usize) -> usize {
    let fullness = (count as f64 / ((maxt - mint) as f64 / in_res as f64)).min(1.0);
    let max_samples = ((maxt - mint) / out_res) as f64;
    let expected = (max_samples * fullness) as usize + 1;
    let mut x = 1;
    while expected / x > TARGET_SAMPLES_PER_CHUNK {
        x += 1;
    }
    x
}

/// The running state of one series (`aggregator`): the current window's
/// count, sum, min and max, and the counter since the series began.
struct Aggregator {
    total: usize,
    count: usize,
    sum: f64,
    min: f64,
    max: f64,
    counter: f64,
    last: f64,
}

impl Aggregator {
    fn new() -> Self {
        Aggregator { total: 0, count: 0, sum: 0.0, min: f64::MAX, max: -f64::MAX, counter: 0.0, last: 0.0 }
    }

    fn reset(&mut self) {
        self.count = 0;
        self.sum = 0.0;
        self.min = f64::MAX;
        self.max = -f64::MAX;
    }

    fn add(&mut self, v: f64) {
        if self.total == 0 {
            self.counter = v;
        } else if v < self.last {
            // A reset: the counter restarted from zero.
            self.counter += v;
        } else {
            self.counter += v - self.last;
        }
        self.last = v;
        self.sum += v;
        self.count += 1;
        self.total += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }
}

/// Aggregates `ts`/`vs` by window and calls `emit` at each window's end
/// (`downsampleBatch`); returns the last window's timestamp. Stale markers
/// are skipped; the last window ends no later than the last sample, so that
/// the next batch cannot overlap it.
fn downsample_batch(ts: &[i64], vs: &[f64], res: i64, mut emit: impl FnMut(i64, &Aggregator)) -> i64 {
    let last_t = *ts.last().expect("a batch is never empty");
    let mut a = Aggregator::new();
    let mut next_t = -1;
    for (&t, &v) in ts.iter().zip(vs) {
        if v.to_bits() == STALE_NAN {
            continue;
        }
        if t > next_t {
            if next_t != -1 {
                emit(next_t, &a);
            }
            a.reset();
            next_t = current_window(t, res).min(last_t);
        }
        a.add(v);
    }
    emit(next_t, &a);
    next_t
}

/// Builds the five aggregate chunks of one output chunk.
struct AggrChunkBuilder {
    mint: i64,
    maxt: i64,
    apps: [Option<XorAppender>; 5],
}

impl AggrChunkBuilder {
    fn new(aggregates: &[AggrType]) -> Self {
        let mut apps: [Option<XorAppender>; 5] = Default::default();
        for &t in aggregates {
            apps[t as usize] = Some(XorAppender::new());
        }
        AggrChunkBuilder { mint: i64::MAX, maxt: i64::MIN, apps }
    }

    fn append(&mut self, t: AggrType, ts: i64, v: f64) -> Result<()> {
        self.mint = self.mint.min(ts);
        self.maxt = self.maxt.max(ts);
        self.apps[t as usize].get_or_insert_with(XorAppender::new).append(ts, v)
    }

    fn finish(self) -> Chunk {
        let bytes: Vec<Option<Vec<u8>>> = self.apps.iter().map(|a| a.as_ref().map(XorAppender::bytes)).collect();
        let subs: [Option<(u8, &[u8])>; 5] = std::array::from_fn(|i| bytes[i].as_deref().map(|b| (ENCODING_XOR, b)));
        Chunk {
            meta: ChunkMeta { chunk_ref: 0, min_time: self.mint, max_time: self.maxt },
            encoding: ENCODING_AGGR,
            data: Bytes::from(aggr::encode(&subs)),
        }
    }
}

/// Raw samples (in time order, stale markers included) as aggregate chunks
/// of resolution `res` (`DownsampleRaw`): cut into batches of about equal
/// size, each extended to the end of its last window.
pub fn downsample_raw(ts: &[i64], vs: &[f64], res: i64) -> Result<Vec<Chunk>> {
    let (Some(&mint), Some(&maxt)) = (ts.first(), ts.last()) else {
        return Ok(Vec::new());
    };
    let num_chunks = target_chunk_count(mint, maxt, ASSUMED_RAW_RESOLUTION, res, ts.len());
    let batch_size = ts.len() / num_chunks + 1;
    let mut out = Vec::with_capacity(num_chunks);
    let mut start = 0;
    while start < ts.len() {
        let mut end = (start + batch_size).min(ts.len());
        let window = current_window(ts[end - 1], res);
        while end < ts.len() && ts[end] <= window {
            end += 1;
        }
        let (bts, bvs) = (&ts[start..end], &vs[start..end]);
        let mut b = AggrChunkBuilder::new(&AggrType::ALL);
        b.append(AggrType::Counter, bts[0], bvs[0])?;
        let mut failed = Ok(());
        let last_t = downsample_batch(bts, bvs, res, |t, a| {
            for (ty, v) in [
                (AggrType::Sum, a.sum),
                (AggrType::Min, a.min),
                (AggrType::Max, a.max),
                (AggrType::Count, a.count as f64),
                (AggrType::Counter, a.counter),
            ] {
                if failed.is_ok() {
                    failed = b.append(ty, t, v);
                }
            }
        });
        failed?;
        b.append(AggrType::Counter, last_t, bvs[bvs.len() - 1])?;
        out.push(b.finish());
        start = end;
    }
    Ok(out)
}

/// The samples of an XOR chunk, as `expandChunkIterator` keeps them: no
/// stale markers, nothing that goes back in time (or before 0).
fn expand(data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
    let (mut cts, mut cvs) = (Vec::new(), Vec::new());
    chunkenc::decode_into(data, &mut cts, &mut cvs)?;
    let mut last = ts.last().copied().unwrap_or(0);
    for (t, v) in cts.into_iter().zip(cvs) {
        if v.to_bits() != STALE_NAN && t >= last {
            ts.push(t);
            vs.push(v);
            last = t;
        }
    }
    Ok(())
}

fn sub_chunk(chunk: &Chunk, t: AggrType) -> Result<Option<&[u8]>> {
    match aggr::get(&chunk.data, t)? {
        None => Ok(None),
        Some((ENCODING_XOR, data)) => Ok(Some(data)),
        Some((e, _)) => bail!(CorruptChunk, "{} aggregate of encoding {e}, not XOR", t.as_str()),
    }
}

/// Aggregate chunks to a coarser resolution, along chunk boundaries
/// (`downsampleAggr`): a chunk's first and last counter values are the
/// series' true values, and must stay so.
pub fn downsample_aggr(chunks: &[Chunk], in_res: i64, res: i64) -> Result<Vec<Chunk>> {
    let (Some(first), Some(last)) = (chunks.first(), chunks.last()) else {
        return Ok(Vec::new());
    };
    let samples: u64 = chunks.iter().map(|c| aggr::num_samples(&c.data)).sum();
    let num_chunks = target_chunk_count(first.meta.min_time, last.meta.max_time, in_res, res, samples as usize);
    let batch = (chunks.len() / num_chunks).max(1);
    chunks.chunks(batch).map(|part| downsample_aggr_batch(part, res)).collect()
}

/// What a window of aggregates becomes in the coarser aggregate.
type WindowValue = fn(&Aggregator) -> f64;

fn downsample_aggr_batch(chunks: &[Chunk], res: i64) -> Result<Chunk> {
    let mut b = AggrChunkBuilder::new(&[]);
    // Count windows sum the counts; sum, min and max aggregate themselves.
    let plain: [(AggrType, WindowValue); 4] = [
        (AggrType::Count, |a| a.sum),
        (AggrType::Sum, |a| a.sum),
        (AggrType::Min, |a| a.min),
        (AggrType::Max, |a| a.max),
    ];
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for (ty, value) in plain {
        ts.clear();
        vs.clear();
        for c in chunks {
            if let Some(data) = sub_chunk(c, ty)? {
                expand(data, &mut ts, &mut vs)?;
            }
        }
        if ts.is_empty() {
            continue;
        }
        let mut failed = Ok(());
        downsample_batch(&ts, &vs, res, |t, a| {
            if failed.is_ok() {
                failed = b.append(ty, t, value(a));
            }
        });
        failed?;
    }
    // Counters: the resets between and within chunks undone first.
    let mut counters = Vec::new();
    for c in chunks {
        if let Some(data) = sub_chunk(c, AggrType::Counter)? {
            counters.push(data);
        }
    }
    let (ts, vs, last_raw) = apply_counter_resets(&counters)?;
    if !ts.is_empty() {
        b.append(AggrType::Counter, ts[0], vs[0])?;
        let mut failed = Ok(());
        let last_t = downsample_batch(&ts, &vs, res, |t, a| {
            if failed.is_ok() {
                failed = b.append(AggrType::Counter, t, a.counter);
            }
        });
        failed?;
        b.append(AggrType::Counter, last_t, last_raw)?;
    }
    Ok(b.finish())
}

/// The counter aggregate chunks as one monotonic series
/// (`ApplyCounterResetsSeriesIterator`), and the true last raw value. A
/// sample at the previous one's timestamp carries the true last value of
/// its chunk; samples that go back in time are dropped.
fn apply_counter_resets(chunks: &[&[u8]]) -> Result<(Vec<i64>, Vec<f64>, f64)> {
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    let (mut last_t, mut last_v, mut total) = (0i64, 0f64, 0f64);
    for data in chunks {
        let (mut cts, mut cvs) = (Vec::new(), Vec::new());
        chunkenc::decode_into(data, &mut cts, &mut cvs)?;
        for (t, v) in cts.into_iter().zip(cvs) {
            if v.is_nan() {
                continue;
            }
            if ts.is_empty() {
                (last_t, last_v, total) = (t, v, v);
            } else if t > last_t {
                total += if v >= last_v { v - last_v } else { v };
                (last_t, last_v) = (t, v);
            } else {
                if t == last_t {
                    last_v = v;
                }
                continue;
            }
            // As expandChunkIterator reads it: nothing before 0.
            if t >= 0 {
                ts.push(t);
                vs.push(total);
            }
        }
    }
    Ok((ts, vs, last_v))
}

/// Downsamples block `source` (at `source_res`) to `res` as block `ulid`
/// under `parent` and returns its meta: the source's, with the new ULID and
/// resolution (`Downsample`). Deleted samples (tombstones) stay deleted.
pub fn downsample_block(source: &Path, parent: &Path, ulid: &str, res: i64) -> Result<BlockMeta> {
    let block = Block::open(source)?;
    let meta = block.meta();
    let source_res = meta.thanos.as_ref().map_or(0, |t| t.downsample.resolution);
    if source_res >= res {
        bail!(BadData, "target resolution {res} not lower than existing one {source_res}");
    }
    let all = Matcher::new(MatchOp::Equal, "", "")?;
    let series: Vec<_> = block.select(&[all], i64::MIN, i64::MAX)?.collect::<Result<_>>()?;
    let symbols: BTreeSet<&str> =
        series.iter().flat_map(|s| s.labels.iter().flat_map(|l| [l.name.as_str(), l.value.as_str()])).collect();
    let mut w = BlockWriter::create(parent, ulid, symbols.iter().copied())?;
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for s in &series {
        for (prev, c) in s.chunks.iter().zip(s.chunks.iter().skip(1)) {
            if prev.meta.max_time >= c.meta.min_time {
                bail!(
                    BadData,
                    "found overlapping chunks within series {}: chunks expected to be ordered by min time \
                                and non-overlapping",
                    s.labels
                );
            }
        }
        let chunks = if source_res == 0 {
            ts.clear();
            vs.clear();
            for c in &s.chunks {
                if c.encoding != ENCODING_XOR {
                    bail!(BadData, "series {}: a raw block holds a chunk of encoding {}", s.labels, c.encoding);
                }
                expand(&c.data, &mut ts, &mut vs)?;
            }
            let (kts, kvs): (Vec<i64>, Vec<f64>) =
                ts.iter().zip(&vs).filter(|(t, _)| !s.deleted.contains(**t)).map(|(t, v)| (*t, *v)).unzip();
            downsample_raw(&kts, &kvs, res)?
        } else {
            if let Some(c) = s.chunks.iter().find(|c| c.encoding != ENCODING_AGGR) {
                bail!(BadData, "series {}: expected downsampled chunks, got encoding {}", s.labels, c.encoding);
            }
            downsample_aggr(&s.chunks, source_res, res)?
        };
        w.add_series(&s.labels, &chunks)?;
    }
    let mut out = meta.clone();
    out.ulid = ulid.to_string();
    let thanos = out.thanos.get_or_insert_with(Default::default);
    thanos.downsample.resolution = res;
    thanos.files.clear();
    w.finish(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregate(c: &Chunk, t: AggrType) -> Vec<(i64, f64)> {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        if let Some(data) = sub_chunk(c, t).unwrap() {
            chunkenc::decode_into(data, &mut ts, &mut vs).unwrap();
        }
        ts.into_iter().zip(vs).collect()
    }

    #[test]
    fn windows_end_at_their_last_millisecond() {
        assert_eq!(current_window(0, RES_5M), RES_5M - 1);
        assert_eq!(current_window(RES_5M - 1, RES_5M), RES_5M - 1);
        assert_eq!(current_window(RES_5M, RES_5M), 2 * RES_5M - 1);
    }

    #[test]
    fn raw_samples_become_the_five_aggregates_per_window() {
        // A counter scraped every minute for 10 minutes, reset at minute 7;
        // a stale marker at minute 4 is not a sample.
        let ts: Vec<i64> = (0..10).map(|m| m * 60_000).collect();
        let mut vs = vec![1.0, 2.0, 4.0, 7.0, f64::from_bits(STALE_NAN), 9.0, 10.0, 1.0, 3.0, 6.0];
        let chunks = downsample_raw(&ts, &vs, RES_5M).unwrap();
        assert_eq!(chunks.len(), 1);
        let c = &chunks[0];
        assert_eq!(c.encoding, ENCODING_AGGR);
        // Windows [0, 5m) and [5m, 10m): the second ends at the last sample.
        let (w1, w2) = (RES_5M - 1, 9 * 60_000);
        assert_eq!((c.meta.min_time, c.meta.max_time), (0, w2));
        assert_eq!(aggregate(c, AggrType::Count), [(w1, 4.0), (w2, 5.0)]);
        assert_eq!(aggregate(c, AggrType::Sum), [(w1, 14.0), (w2, 29.0)]);
        assert_eq!(aggregate(c, AggrType::Min), [(w1, 1.0), (w2, 1.0)]);
        assert_eq!(aggregate(c, AggrType::Max), [(w1, 7.0), (w2, 10.0)]);
        // First raw value, the counter at each window's end (the reset at 7
        // adds 1, not -9), then the last raw value at the last window again.
        assert_eq!(aggregate(c, AggrType::Counter), [(0, 1.0), (w1, 7.0), (w2, 16.0), (w2, 6.0)]);
        vs.clear();
        assert!(downsample_raw(&[], &vs, RES_5M).unwrap().is_empty());
    }

    #[test]
    fn long_series_are_cut_into_chunks_of_about_140_windows() {
        // Two days of 15 s samples: 576 windows of 5 minutes.
        let ts: Vec<i64> = (0..2 * 24 * 240).map(|i| i * 15_000).collect();
        let vs: Vec<f64> = ts.iter().map(|&t| (t / 1000) as f64).collect();
        let chunks = downsample_raw(&ts, &vs, RES_5M).unwrap();
        assert_eq!(chunks.len(), 5);
        let windows: usize = chunks.iter().map(|c| aggregate(c, AggrType::Count).len()).sum();
        assert_eq!(windows, 576);
        for (a, b) in chunks.iter().zip(&chunks[1..]) {
            assert!(a.meta.max_time < b.meta.min_time, "chunks do not overlap");
        }
        let total: f64 = chunks.iter().flat_map(|c| aggregate(c, AggrType::Count)).map(|(_, v)| v).sum();
        assert_eq!(total as usize, ts.len());
    }

    #[test]
    fn aggregates_downsample_again_to_the_same_totals() {
        // Four hours of a counter every 15 s with a reset each hour, to 5m then 1h.
        let ts: Vec<i64> = (0..4 * 240).map(|i| i * 15_000).collect();
        let vs: Vec<f64> = ts.iter().map(|&t| ((t % RES_1H) / 15_000) as f64).collect();
        let five = downsample_raw(&ts, &vs, RES_5M).unwrap();
        let hour = downsample_aggr(&five, RES_5M, RES_1H).unwrap();
        let all = |t| hour.iter().flat_map(|c| aggregate(c, t)).collect::<Vec<_>>();
        assert_eq!(all(AggrType::Count).iter().map(|s| s.1).collect::<Vec<_>>(), [240.0; 4]);
        let sums: Vec<f64> = all(AggrType::Sum).iter().map(|s| s.1).collect();
        assert_eq!(sums, [(0..240).sum::<i64>() as f64; 4]);
        assert_eq!(all(AggrType::Min).iter().map(|s| s.1).collect::<Vec<_>>(), [0.0; 4]);
        assert_eq!(all(AggrType::Max).iter().map(|s| s.1).collect::<Vec<_>>(), [239.0; 4]);
        // The counter grows by 239 an hour plus 0 at each reset: 4 * 239 in all,
        // and the last raw value (239) closes the chunk.
        let counter = all(AggrType::Counter);
        assert_eq!(counter.first().unwrap().1, 0.0);
        assert_eq!(counter[counter.len() - 2].1, 4.0 * 239.0);
        assert_eq!(counter.last().unwrap().1, 239.0);
    }
}
