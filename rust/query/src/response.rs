//! A store's answer to a `Series` call, decoded from the raw messages grpcio
//! hands over: series with their chunks (slices of the messages, not copies)
//! and the warnings the store sent.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use prost::Message;
use thanos_core::labels::{Label, Labels};
use thanos_core::{Error, ErrorKind, Result};
use thanos_store::pb::thanos::{chunk, series_response, AggrChunk, Series, SeriesResponse};

use crate::downsampled::Aggregates;

/// A chunk and the time range it covers: raw samples (XOR), or Thanos's
/// downsampled aggregates until [`crate::downsampled::read`] reads them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChunkRef {
    pub min_time: i64,
    pub max_time: i64,
    /// The XOR chunk; empty while `aggregates` holds the samples.
    pub data: Bytes,
    pub aggregates: Option<Box<Aggregates>>,
    /// `data` is a Thanos counter aggregate: the samples of its series are
    /// read through [`crate::downsampled::CounterResets`].
    pub counter: bool,
}

impl ChunkRef {
    pub fn raw(min_time: i64, max_time: i64, data: Bytes) -> Self {
        ChunkRef { min_time, max_time, data, aggregates: None, counter: false }
    }
}

/// One series of a store with all its chunks, sorted by time.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreSeries {
    pub labels: Labels,
    pub chunks: Vec<ChunkRef>,
}

/// Everything a store answered: series sorted by labels, each once.
#[derive(Clone, Debug, Default)]
pub struct StoreSet {
    pub series: Vec<StoreSeries>,
    pub warnings: Vec<String>,
}

/// Collects the messages of one `Series` stream, in either shape: one series
/// per message (Thanos v0.26) or `SeriesBatch`es. A series split over several
/// consecutive messages is joined.
///
/// A series with a chunk we cannot read (a native histogram, a chunk of an
/// unknown encoding) is left out with a warning: the store's other series
/// still count.
#[derive(Default)]
pub struct SeriesStream {
    set: StoreSet,
    sorted: bool,
    /// Series left out, by the reason: how many, and the first one's labels.
    skipped: BTreeMap<String, (usize, Labels)>,
    skipped_labels: BTreeSet<Labels>,
}

impl SeriesStream {
    pub fn new() -> Self {
        SeriesStream { sorted: true, ..Default::default() }
    }

    /// Adds one serialized `SeriesResponse`.
    pub fn push(&mut self, message: Bytes) -> Result<()> {
        let resp = SeriesResponse::decode(message)
            .map_err(|e| Error::new(ErrorKind::CorruptFrame, format!("decode SeriesResponse: {e}")))?;
        match resp.result {
            Some(series_response::Result::Series(s)) => self.push_series(s)?,
            Some(series_response::Result::Batch(b)) => {
                for s in b.series {
                    self.push_series(s)?;
                }
            }
            Some(series_response::Result::Warning(w)) => self.set.warnings.push(w),
            // Hints describe what the store read (blocks, for a store gateway).
            Some(series_response::Result::Hints(_)) | None => {}
        }
        Ok(())
    }

    fn push_series(&mut self, s: Series) -> Result<()> {
        let labels = labels_from_pb(s.labels);
        let mut chunks = Vec::with_capacity(s.chunks.len());
        for c in s.chunks {
            match chunk_ref(c) {
                Ok(c) => chunks.push(c),
                Err(reason) => {
                    self.skip(labels, reason);
                    return Ok(());
                }
            }
        }
        match self.set.series.last_mut() {
            Some(last) if last.labels == labels => {
                last.chunks.extend(chunks);
                return Ok(());
            }
            Some(last) if last.labels > labels => self.sorted = false,
            _ => {}
        }
        self.set.series.push(StoreSeries { labels, chunks });
        Ok(())
    }

    fn skip(&mut self, labels: Labels, reason: String) {
        let entry = self.skipped.entry(reason).or_insert_with(|| (0, labels.clone()));
        entry.0 += 1;
        self.skipped_labels.insert(labels);
    }

    /// The labels of the last series received, which its next message may
    /// continue; `None` before the first.
    pub fn open_labels(&self) -> Option<&Labels> {
        self.set.series.last().map(|s| &s.labels)
    }

    /// Whether every series so far came in label order.
    pub fn is_sorted(&self) -> bool {
        self.sorted
    }

    /// Takes the series no later message can add to: all but the last one
    /// (its next part may come in the next message), or all of them at the
    /// `end`. In the order received, left-out series dropped, chunks sorted.
    pub fn take_closed(&mut self, end: bool) -> Vec<StoreSeries> {
        let n = if end { self.set.series.len() } else { self.set.series.len().saturating_sub(1) };
        let mut closed: Vec<StoreSeries> = self.set.series.drain(..n).collect();
        if !self.skipped_labels.is_empty() {
            closed.retain(|s| !self.skipped_labels.contains(&s.labels));
        }
        closed.iter_mut().for_each(|s| sort_chunks(&mut s.chunks));
        closed
    }

    /// The store's warnings, then one per kind of series left out. For the end
    /// of the stream.
    pub fn take_warnings(&mut self) -> Vec<String> {
        let mut warnings = std::mem::take(&mut self.set.warnings);
        for (reason, (n, first)) in std::mem::take(&mut self.skipped) {
            warnings.push(format!("{n} series left out: thanos_rs cannot read {reason} (e.g. {first})"));
        }
        warnings
    }

    /// The series sorted by labels, each once, with chunks in time order.
    /// Stores send sorted streams; an unsorted one is sorted here rather than
    /// trusted.
    pub fn finish(mut self) -> StoreSet {
        let mut series = self.take_closed(true);
        if !self.sorted {
            sort_and_join(&mut series);
        }
        StoreSet { series, warnings: self.take_warnings() }
    }
}

/// A chunk as the querier keeps it; `Err` says why its series is left out.
fn chunk_ref(c: AggrChunk) -> std::result::Result<ChunkRef, String> {
    let (min_time, max_time) = (c.min_time, c.max_time);
    match c.raw {
        Some(raw) if raw.r#type == chunk::Encoding::Xor as i32 => Ok(ChunkRef::raw(min_time, max_time, raw.data)),
        Some(raw) => Err(match chunk::Encoding::try_from(raw.r#type) {
            Ok(e) => format!("{} chunks", e.as_str_name()),
            Err(_) => format!("chunks of unknown encoding {}", raw.r#type),
        }),
        None => Aggregates::from_pb(c)
            .map(|a| ChunkRef { aggregates: Some(Box::new(a)), ..ChunkRef::raw(min_time, max_time, Bytes::new()) }),
    }
}

/// Sorts series by labels and joins those with equal labels.
pub(crate) fn sort_and_join(series: &mut Vec<StoreSeries>) {
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    series.dedup_by(|b, a| {
        if a.labels == b.labels {
            a.chunks.append(&mut b.chunks);
            sort_chunks(&mut a.chunks);
            true
        } else {
            false
        }
    });
}

/// Puts a series' chunks in Thanos's order, (min time, max time, bytes), and
/// keeps identical chunks once: the same chunk served twice counts once.
pub(crate) fn sort_chunks(chunks: &mut Vec<ChunkRef>) {
    if !chunks.is_sorted() {
        chunks.sort();
    }
    chunks.dedup();
}

/// Labels as stores send them: sorted by name. Sorted again when they are not,
/// so that a sloppy store cannot break the merge.
pub fn labels_from_pb(labels: Vec<thanos_store::pb::thanos::Label>) -> Labels {
    let ordered = labels.windows(2).all(|w| w[0].name < w[1].name) && labels.iter().all(|l| !l.value.is_empty());
    if ordered {
        Labels::from_sorted(labels.into_iter().map(|l| Label { name: l.name, value: l.value }).collect())
    } else {
        Labels::from_pairs(labels.into_iter().map(|l| (l.name, l.value)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use thanos_store::pb::thanos::{AggrChunk, Chunk, SeriesBatch};

    pub fn pb_series(labels: &[(&str, &str)], chunks: &[(i64, i64, &[u8])]) -> Series {
        Series {
            labels: labels
                .iter()
                .map(|(n, v)| thanos_store::pb::thanos::Label { name: n.to_string(), value: v.to_string() })
                .collect(),
            chunks: chunks
                .iter()
                .map(|&(min_time, max_time, data)| AggrChunk {
                    min_time,
                    max_time,
                    raw: Some(Chunk { r#type: 0, data: Bytes::copy_from_slice(data), hash: 0 }),
                    ..Default::default()
                })
                .collect(),
        }
    }

    pub fn message(result: series_response::Result) -> Bytes {
        SeriesResponse { result: Some(result) }.encode_to_vec().into()
    }

    #[test]
    fn joins_a_series_split_over_messages_and_keeps_warnings() {
        let mut s = SeriesStream::new();
        s.push(message(series_response::Result::Series(pb_series(&[("a", "1")], &[(0, 9, b"x")])))).unwrap();
        s.push(message(series_response::Result::Series(pb_series(&[("a", "1")], &[(10, 19, b"y")])))).unwrap();
        s.push(message(series_response::Result::Warning("careful".into()))).unwrap();
        let batch = SeriesBatch { series: vec![pb_series(&[("a", "2")], &[(0, 9, b"z")])] };
        s.push(message(series_response::Result::Batch(batch))).unwrap();
        let set = s.finish();
        assert_eq!(set.warnings, vec!["careful"]);
        assert_eq!(set.series.len(), 2);
        assert_eq!(set.series[0].chunks.len(), 2);
        assert_eq!(set.series[1].labels, Labels::from_pairs([("a", "2")]));
    }

    #[test]
    fn unsorted_streams_are_sorted_and_joined() {
        let mut s = SeriesStream::new();
        for (v, t) in [("2", 0), ("1", 0), ("2", 10)] {
            let msg = message(series_response::Result::Series(pb_series(&[("a", v)], &[(t, t + 9, b"c")])));
            s.push(msg).unwrap();
        }
        let set = s.finish();
        let names: Vec<_> = set.series.iter().map(|s| (s.labels.get("a").to_string(), s.chunks.len())).collect();
        assert_eq!(names, vec![("1".to_string(), 1), ("2".to_string(), 2)]);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut s = SeriesStream::new();
        let err = s.push(Bytes::from_static(b"\x0a\xff\xff\xff")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CorruptFrame);
    }

    #[test]
    fn series_with_unreadable_chunks_are_left_out_with_a_warning() {
        let mut s = SeriesStream::new();
        let push = |s: &mut SeriesStream, series: Series| s.push(message(series_response::Result::Series(series)));
        let mut histogram = pb_series(&[("a", "1")], &[(0, 1, b"c")]);
        histogram.chunks[0].raw.as_mut().unwrap().r#type = chunk::Encoding::Histogram as i32;
        push(&mut s, histogram.clone()).unwrap();
        histogram.labels[0].value = "2".into();
        push(&mut s, histogram).unwrap();
        push(&mut s, pb_series(&[("a", "3")], &[(0, 1, b"c")])).unwrap();
        let mut empty = pb_series(&[("a", "4")], &[(0, 1, b"c")]);
        empty.chunks[0].raw = None;
        push(&mut s, empty).unwrap();
        // Its next part is readable, but the series is out all the same.
        push(&mut s, pb_series(&[("a", "4")], &[(2, 3, b"c")])).unwrap();
        let set = s.finish();
        assert_eq!(set.series.len(), 1);
        assert_eq!(set.series[0].labels, Labels::from_pairs([("a", "3")]));
        assert_eq!(
            set.warnings,
            [
                r#"2 series left out: thanos_rs cannot read HISTOGRAM chunks (e.g. {a="1"})"#,
                r#"1 series left out: thanos_rs cannot read chunks with neither raw samples nor aggregates (e.g. {a="4"})"#,
            ]
        );
    }

    #[test]
    fn unsorted_labels_from_a_store_are_sorted() {
        let s = pb_series(&[("b", "1"), ("a", "2")], &[]);
        assert_eq!(labels_from_pb(s.labels).to_string(), r#"{a="2", b="1"}"#);
    }
}
