//! One series' chunks from several sources (blocks, the head) made into the
//! time-ordered list a StoreAPI answer carries. A chunk that loses samples to
//! a tombstone, and chunks whose time ranges overlap (overlapping blocks, or
//! a block just cut from the head before the head lets go of that range), are
//! decoded, merged and re-encoded; every other chunk goes out as it is on disk.
//!
//! Prometheus 2.42 does the same in two places: tombstones in
//! `populateWithDelChunkSeriesIterator` (`tsdb/querier.go`), overlaps in
//! `compactChunkSeriesMerger` (`storage/merge.go`), which keeps one sample per
//! timestamp.

use bytes::Bytes;
use thanos_core::chunkenc;
use thanos_core::labels::Labels;
use thanos_core::Result;

use crate::block::Chunk;
use crate::chunks::ENCODING_XOR;
use crate::index::ChunkMeta;
use crate::tombstones::Intervals;

/// Samples per re-encoded chunk: `samplesPerChunk` of Prometheus 2.42's head
/// (`tsdb/head_append.go`), the size its own chunks are cut at.
pub const SAMPLES_PER_CHUNK: usize = 120;

/// A series with its chunks from every source, ready to send.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkSeries {
    pub labels: Labels,
    /// Time-ordered, not overlapping, no deleted sample left.
    pub chunks: Vec<Chunk>,
}

/// The chunks of one series from each source, each with the source's deleted
/// intervals, as one ordered list without overlaps or deleted samples.
/// Chunks of an encoding other than XOR cannot be cut or merged here and are
/// passed on as they are.
pub fn merge_chunks(parts: Vec<(Vec<Chunk>, Intervals)>) -> Result<Vec<Chunk>> {
    let mut chunks = Vec::new();
    for (cs, deleted) in parts {
        for c in cs {
            if c.encoding == ENCODING_XOR && loses_samples(&c, &deleted) {
                let (mut ts, mut vs) = decode(std::slice::from_ref(&c))?;
                retain_samples(&mut ts, &mut vs, |t| !deleted.contains(t));
                encode_into(&ts, &vs, &mut chunks)?;
            } else {
                chunks.push(c);
            }
        }
    }
    if chunks.len() < 2 {
        return Ok(chunks);
    }
    // Already in order unless the parts interleave; the sort is then cheap.
    chunks.sort_by_key(|c| (c.meta.min_time, c.meta.max_time));
    let mut out = Vec::with_capacity(chunks.len());
    let mut group: Vec<Chunk> = Vec::new();
    let mut group_max = i64::MIN;
    for c in chunks {
        if !group.is_empty() && c.meta.min_time > group_max {
            flush_group(&mut group, &mut out)?;
        }
        group_max = if group.is_empty() { c.meta.max_time } else { group_max.max(c.meta.max_time) };
        group.push(c);
    }
    flush_group(&mut group, &mut out)?;
    Ok(out)
}

/// Whether a deleted interval touches the chunk's time range.
fn loses_samples(c: &Chunk, deleted: &Intervals) -> bool {
    deleted.0.iter().any(|r| r.mint <= c.meta.max_time && c.meta.min_time <= r.maxt)
}

/// Moves a group of chunks whose ranges chain into overlap to `out`: as they
/// are when alone, merged sample by sample otherwise.
fn flush_group(group: &mut Vec<Chunk>, out: &mut Vec<Chunk>) -> Result<()> {
    if group.len() == 1 || group.iter().any(|c| c.encoding != ENCODING_XOR) {
        out.append(group);
        return Ok(());
    }
    let (ts, vs) = decode(group)?;
    // Stable: of the samples sharing a timestamp, the one from the chunk that
    // starts first is kept.
    let mut order: Vec<usize> = (0..ts.len()).collect();
    order.sort_by_key(|&i| ts[i]);
    order.dedup_by_key(|i| ts[*i]);
    let ts: Vec<i64> = order.iter().map(|&i| ts[i]).collect();
    let vs: Vec<f64> = order.iter().map(|&i| vs[i]).collect();
    group.clear();
    encode_into(&ts, &vs, out)
}

fn decode(chunks: &[Chunk]) -> Result<(Vec<i64>, Vec<f64>)> {
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for c in chunks {
        chunkenc::decode_into(&c.data, &mut ts, &mut vs)?;
    }
    Ok((ts, vs))
}

fn retain_samples(ts: &mut Vec<i64>, vs: &mut Vec<f64>, keep: impl Fn(i64) -> bool) {
    let mut n = 0;
    for i in 0..ts.len() {
        if keep(ts[i]) {
            ts[n] = ts[i];
            vs[n] = vs[i];
            n += 1;
        }
    }
    ts.truncate(n);
    vs.truncate(n);
}

/// Appends time-ordered samples to `out` as XOR chunks of at most
/// [`SAMPLES_PER_CHUNK`].
pub fn encode_into(ts: &[i64], vs: &[f64], out: &mut Vec<Chunk>) -> Result<()> {
    for (t, v) in ts.chunks(SAMPLES_PER_CHUNK).zip(vs.chunks(SAMPLES_PER_CHUNK)) {
        out.push(Chunk {
            // Not in any file: no reference.
            meta: ChunkMeta { chunk_ref: 0, min_time: t[0], max_time: t[t.len() - 1] },
            encoding: ENCODING_XOR,
            data: Bytes::from(chunkenc::encode(t, v)?),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tombstones::Interval;

    fn chunk(samples: &[(i64, f64)]) -> Chunk {
        let mut out = Vec::new();
        let (ts, vs): (Vec<i64>, Vec<f64>) = samples.iter().copied().unzip();
        encode_into(&ts, &vs, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        out.pop().unwrap()
    }

    fn samples(chunks: &[Chunk]) -> Vec<(i64, f64)> {
        let (ts, vs) = decode(chunks).unwrap();
        ts.into_iter().zip(vs).collect()
    }

    #[test]
    fn chunks_that_do_not_overlap_pass_unchanged_in_time_order() {
        let a = chunk(&[(1, 1.0), (2, 2.0)]);
        let b = chunk(&[(3, 3.0), (4, 4.0)]);
        let out = merge_chunks(vec![(vec![b.clone()], Intervals::default()), (vec![a.clone()], Intervals::default())])
            .unwrap();
        assert_eq!(out, vec![a, b]);
    }

    #[test]
    fn overlapping_chunks_merge_to_one_sample_per_timestamp() {
        let a = chunk(&[(1, 1.0), (3, 3.0), (5, 5.0)]);
        let b = chunk(&[(3, 30.0), (4, 4.0), (6, 6.0)]);
        let c = chunk(&[(10, 10.0)]);
        let out =
            merge_chunks(vec![(vec![a, c.clone()], Intervals::default()), (vec![b], Intervals::default())]).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(samples(&out[..1]), [(1, 1.0), (3, 3.0), (4, 4.0), (5, 5.0), (6, 6.0)]);
        assert_eq!(out[0].meta.min_time, 1);
        assert_eq!(out[0].meta.max_time, 6);
        assert_eq!(out[1], c);
    }

    #[test]
    fn tombstones_cut_samples_and_a_merge_is_cut_into_chunks_of_120() {
        let ts: Vec<(i64, f64)> = (0..300).map(|i| (i, i as f64)).collect();
        let mut parts = Vec::new();
        for part in ts.chunks(100) {
            let mut deleted = Intervals::default();
            deleted.add(Interval { mint: 50, maxt: 59 });
            parts.push((vec![chunk(part)], deleted));
        }
        // The same samples again from a second source: all overlap.
        parts.push((vec![chunk(&ts[..100]), chunk(&ts[100..200]), chunk(&ts[200..])], Intervals::default()));
        let out = merge_chunks(parts).unwrap();
        assert_eq!(samples(&out), ts);
        assert!(out.iter().all(|c| chunkenc::num_samples(&c.data).unwrap() <= SAMPLES_PER_CHUNK));

        let mut deleted = Intervals::default();
        deleted.add(Interval { mint: 50, maxt: 59 });
        let out = merge_chunks(vec![(vec![chunk(&ts[..100])], deleted)]).unwrap();
        let want: Vec<(i64, f64)> = ts[..100].iter().copied().filter(|&(t, _)| !(50..=59).contains(&t)).collect();
        assert_eq!(samples(&out), want);
    }
}
