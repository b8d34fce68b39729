//! Downsampled chunks read as the select's function asks, as Thanos v0.26's
//! querier reads them (`pkg/query/iter.go`, `chunkSeries.Iterator`): a single
//! aggregate is read as it is, except COUNTER, whose values go through
//! Thanos's counter-reset application (`downsample.ApplyCounterResetsSeriesIterator`);
//! COUNT and SUM together are read as their average per window
//! (`downsample.AverageChunkIterator`).
//!
//! Store answers keep the aggregates as they came ([`Aggregates`]); once the
//! answers of a select are merged, [`read`] turns the series that hold
//! aggregates into XOR chunks of what the function reads: the aggregate
//! itself, or the averages (encoded again). Counter chunks are marked
//! instead, and their series' samples go through [`CounterResets`] as they
//! are decoded (`crate::series`). Series without aggregates, all of them for
//! raw data, are not touched.

use bytes::Bytes;
use thanos_core::chunkenc::{decode_into, encode};
use thanos_core::{Error, ErrorKind, Result};
use thanos_store::pb::thanos::{chunk, Aggr, AggrChunk};

use crate::dedup::Samples;
use crate::response::{ChunkRef, StoreSeries};

/// The aggregate chunks of one downsampled window range, each an XOR chunk
/// (Thanos's `AggrChunk` without the raw one).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Aggregates {
    pub count: Option<Bytes>,
    pub sum: Option<Bytes>,
    pub min: Option<Bytes>,
    pub max: Option<Bytes>,
    pub counter: Option<Bytes>,
}

impl Aggregates {
    /// The aggregates of an `AggrChunk` without raw samples; `Err` says why a
    /// series holding it cannot be read (no aggregate, or one of an encoding
    /// other than XOR).
    pub fn from_pb(c: AggrChunk) -> std::result::Result<Self, String> {
        let xor = |c: Option<thanos_store::pb::thanos::Chunk>| match c {
            None => Ok(None),
            Some(c) if c.r#type == chunk::Encoding::Xor as i32 => Ok(Some(c.data)),
            Some(c) => Err(format!("aggregate chunks of encoding {}", c.r#type)),
        };
        let a = Aggregates {
            count: xor(c.count)?,
            sum: xor(c.sum)?,
            min: xor(c.min)?,
            max: xor(c.max)?,
            counter: xor(c.counter)?,
        };
        if a == Aggregates::default() {
            return Err("chunks with neither raw samples nor aggregates".to_string());
        }
        Ok(a)
    }

    /// Their bytes, all aggregates together.
    pub fn size(&self) -> usize {
        [&self.count, &self.sum, &self.min, &self.max, &self.counter]
            .iter()
            .filter_map(|c| c.as_ref())
            .map(Bytes::len)
            .sum()
    }

    fn get(&self, aggr: Aggr) -> Option<&Bytes> {
        match aggr {
            Aggr::Count => self.count.as_ref(),
            Aggr::Sum => self.sum.as_ref(),
            Aggr::Min => self.min.as_ref(),
            Aggr::Max => self.max.as_ref(),
            Aggr::Counter => self.counter.as_ref(),
            Aggr::Raw => None,
        }
    }
}

/// Turns the aggregate chunks of `series` into raw chunks holding what a
/// select that asked for `aggrs` reads (see the module's comment). An
/// aggregate asked for and missing, or a combination Thanos does not read,
/// fails the select with Thanos's words.
pub fn read(series: &mut [StoreSeries], aggrs: &[Aggr]) -> Result<()> {
    for s in series.iter_mut().filter(|s| s.chunks.iter().any(|c| c.aggregates.is_some())) {
        s.chunks = match aggrs {
            &[one] => s.chunks.iter().map(|c| aggregate_chunk(c, one)).collect::<Result<_>>()?,
            [Aggr::Count, Aggr::Sum] | [Aggr::Sum, Aggr::Count] => {
                s.chunks.iter().map(average_chunk).collect::<Result<_>>()?
            }
            _ => return Err(unexpected(aggrs)),
        };
    }
    Ok(())
}

fn unexpected(aggrs: &[Aggr]) -> Error {
    let names: Vec<&str> = aggrs.iter().map(Aggr::as_str_name).collect();
    Error::new(ErrorKind::BadData, format!("unexpected result aggregate type [{}]", names.join(" ")))
}

fn raw(min_time: i64, max_time: i64, data: Vec<u8>) -> ChunkRef {
    ChunkRef::raw(min_time, max_time, Bytes::from(data))
}

/// One aggregate of a chunk, or its raw samples (`getFirstIterator(c.X, c.Raw)`).
fn aggregate_chunk(c: &ChunkRef, aggr: Aggr) -> Result<ChunkRef> {
    let Some(a) = &c.aggregates else { return Ok(c.clone()) };
    let data = a.get(aggr).ok_or_else(|| no_valid_chunk(aggr))?;
    let mut out = ChunkRef::raw(c.min_time, c.max_time, data.clone());
    out.counter = aggr == Aggr::Counter;
    Ok(out)
}

fn no_valid_chunk(aggr: Aggr) -> Error {
    Error::new(
        ErrorKind::CorruptFrame,
        format!("no valid chunk found: a downsampled chunk lacks the {} aggregate", aggr.as_str_name()),
    )
}

/// Per window, sum / count; raw chunks as they are.
fn average_chunk(c: &ChunkRef) -> Result<ChunkRef> {
    let Some(a) = &c.aggregates else { return Ok(c.clone()) };
    let (Some(count), Some(sum)) = (&a.count, &a.sum) else {
        return Err(no_valid_chunk(if a.count.is_none() { Aggr::Count } else { Aggr::Sum }));
    };
    let (mut ct, mut cv, mut st, mut sv) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    decode_into(count, &mut ct, &mut cv)?;
    decode_into(sum, &mut st, &mut sv)?;
    if ct != st {
        let what = if ct.len() != st.len() { "iterator" } else { "timestamps" };
        return Err(Error::new(ErrorKind::CorruptChunk, format!("sum and count {what} not aligned")));
    }
    let avg: Vec<f64> = sv.iter().zip(&cv).map(|(s, c)| s / c).collect();
    Ok(raw(c.min_time, c.max_time, encode(&ct, &avg)?))
}

/// Thanos's counter-reset application, sample by sample over a series'
/// chunks in order, all of them (raw ones too) once one is a counter
/// aggregate. A counter aggregate chunk ends with its last raw value
/// repeated at the last window's timestamp: that sample is not emitted but
/// tells whether the next chunk starts after a reset. Resets are hidden from
/// the engine (a drop counts as a restart from zero), so `resets()` over
/// downsampled data sees none, as in Thanos.
#[derive(Default)]
pub struct CounterResets {
    started: bool,
    last_t: i64,
    last_v: f64,
    total: f64,
}

impl CounterResets {
    /// The samples of `ts`/`vs` (decoded in chunk order) as Thanos's
    /// iterator emits them, appended to `out`.
    pub fn apply(ts: &[i64], vs: &[f64], out: &mut Samples) {
        let mut resets = CounterResets::default();
        for (&t, &v) in ts.iter().zip(vs) {
            if let Some(total) = resets.next(t, v) {
                out.ts.push(t);
                out.vs.push(total);
            }
        }
    }

    /// The adjusted value to emit at `t`, if any.
    fn next(&mut self, t: i64, v: f64) -> Option<f64> {
        if v.is_nan() {
            return None;
        }
        if !self.started {
            self.started = true;
            (self.last_t, self.last_v, self.total) = (t, v, v);
            return Some(v);
        }
        if t > self.last_t {
            self.total += if v >= self.last_v { v - self.last_v } else { v };
            (self.last_t, self.last_v) = (t, v);
            return Some(self.total);
        }
        if t == self.last_t {
            self.last_v = v;
        }
        // Older than the last sample (overlapping chunks): skipped.
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_core::labels::Labels;

    fn xor(points: &[(i64, f64)]) -> Bytes {
        let (ts, vs): (Vec<i64>, Vec<f64>) = points.iter().copied().unzip();
        Bytes::from(encode(&ts, &vs).unwrap())
    }

    fn aggr(min_time: i64, max_time: i64, a: Aggregates) -> ChunkRef {
        ChunkRef { aggregates: Some(Box::new(a)), ..ChunkRef::raw(min_time, max_time, Bytes::new()) }
    }

    fn samples(chunks: &[ChunkRef]) -> Vec<(i64, f64)> {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        for c in chunks {
            assert!(c.aggregates.is_none() && !c.counter);
            decode_into(&c.data, &mut ts, &mut vs).unwrap();
        }
        ts.into_iter().zip(vs).collect()
    }

    fn series(chunks: Vec<ChunkRef>) -> Vec<StoreSeries> {
        vec![StoreSeries { labels: Labels::from_pairs([("a", "1")]), chunks }]
    }

    #[test]
    fn one_aggregate_is_read_as_it_is() {
        let a =
            Aggregates { min: Some(xor(&[(0, 1.0), (300, 2.0)])), max: Some(xor(&[(0, 9.0)])), ..Default::default() };
        let mut s = series(vec![aggr(0, 300, a)]);
        read(&mut s, &[Aggr::Min]).unwrap();
        assert_eq!(samples(&s[0].chunks), vec![(0, 1.0), (300, 2.0)]);
        assert_eq!((s[0].chunks[0].min_time, s[0].chunks[0].max_time), (0, 300));
    }

    #[test]
    fn count_and_sum_read_as_averages_and_raw_chunks_as_they_are() {
        let a = Aggregates {
            count: Some(xor(&[(0, 2.0), (300, 4.0)])),
            sum: Some(xor(&[(0, 3.0), (300, 10.0)])),
            ..Default::default()
        };
        let raw_chunk = raw(600, 660, encode(&[600, 660], &[7.0, 8.0]).unwrap());
        let mut s = series(vec![aggr(0, 300, a), raw_chunk]);
        read(&mut s, &[Aggr::Count, Aggr::Sum]).unwrap();
        assert_eq!(samples(&s[0].chunks), vec![(0, 1.5), (300, 2.5), (600, 7.0), (660, 8.0)]);
    }

    #[test]
    fn misaligned_count_and_sum_fail() {
        let a = Aggregates { count: Some(xor(&[(0, 2.0)])), sum: Some(xor(&[(1, 3.0)])), ..Default::default() };
        let e = read(&mut series(vec![aggr(0, 1, a)]), &[Aggr::Sum, Aggr::Count]).unwrap_err();
        assert_eq!(e.message(), "sum and count timestamps not aligned");
    }

    #[test]
    fn counters_keep_counting_across_resets_and_chunks() {
        // Chunk 1: windows at 100 and 200, the last raw value 5 repeated at 200.
        // Chunk 2 starts at 2: a reset between the chunks, so the total goes on
        // from 5 + 2. Chunk 3 is raw: a drop inside it is a reset too.
        let c1 = Aggregates { counter: Some(xor(&[(100, 1.0), (200, 6.0), (200, 5.0)])), ..Default::default() };
        let c2 = Aggregates { counter: Some(xor(&[(300, 2.0), (400, 4.0), (400, 4.0)])), ..Default::default() };
        let c3 = raw(500, 600, encode(&[500, 600], &[6.0, 1.0]).unwrap());
        let mut s = series(vec![aggr(100, 200, c1), aggr(300, 400, c2), c3]);
        read(&mut s, &[Aggr::Counter]).unwrap();
        assert_eq!(s[0].chunks.iter().map(|c| c.counter).collect::<Vec<_>>(), [true, true, false]);
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        for c in &s[0].chunks {
            decode_into(&c.data, &mut ts, &mut vs).unwrap();
        }
        let mut out = Samples::default();
        CounterResets::apply(&ts, &vs, &mut out);
        assert_eq!(out.ts, [100, 200, 300, 400, 500, 600]);
        assert_eq!(out.vs, [1.0, 6.0, 8.0, 10.0, 12.0, 13.0]);
    }

    #[test]
    fn nan_and_older_samples_are_skipped() {
        let mut r = CounterResets::default();
        assert_eq!(r.next(10, f64::NAN), None);
        assert_eq!(r.next(10, 3.0), Some(3.0));
        assert_eq!(r.next(5, 100.0), None);
        assert_eq!(r.next(20, 4.0), Some(4.0));
    }

    #[test]
    fn raw_series_are_not_touched() {
        let c = raw(0, 1, encode(&[0, 1], &[5.0, 1.0]).unwrap());
        let mut s = series(vec![c.clone()]);
        read(&mut s, &[Aggr::Counter]).unwrap();
        assert_eq!(s[0].chunks, vec![c]);
    }

    #[test]
    fn missing_aggregates_and_odd_combinations_fail() {
        let a = Aggregates { sum: Some(xor(&[(0, 1.0)])), ..Default::default() };
        let e = read(&mut series(vec![aggr(0, 0, a.clone())]), &[Aggr::Max]).unwrap_err();
        assert!(e.message().starts_with("no valid chunk found"), "{}", e.message());
        let e = read(&mut series(vec![aggr(0, 0, a)]), &[Aggr::Min, Aggr::Max]).unwrap_err();
        assert_eq!(e.message(), "unexpected result aggregate type [MIN MAX]");
    }

    #[test]
    fn aggregates_from_the_wire() {
        let chunk =
            |t: i32| Some(thanos_store::pb::thanos::Chunk { r#type: t, data: Bytes::from_static(b"x"), hash: 0 });
        let a = Aggregates::from_pb(AggrChunk { count: chunk(0), sum: chunk(0), ..Default::default() }).unwrap();
        assert_eq!((a.count.is_some(), a.sum.is_some(), a.max.is_some()), (true, true, false));
        assert!(Aggregates::from_pb(AggrChunk::default()).is_err());
        assert_eq!(
            Aggregates::from_pb(AggrChunk { max: chunk(2), ..Default::default() }).unwrap_err(),
            "aggregate chunks of encoding 2"
        );
    }
}
