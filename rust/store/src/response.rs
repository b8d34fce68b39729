//! The `SeriesResponse` messages a store sends (`proto/store/storepb/rpc.proto`),
//! written straight from the label strings and chunk bytes they carry: one
//! series per message for a v0.26 querier, or `SeriesBatch`es of
//! `response_batch_size` series for Thanos main's (its `batchableServer`).
//! The bytes are those prost writes for the same `SeriesResponse` (tested
//! below), without building one.

use bytes::Bytes;

use crate::wire::{
    bytes_field_len, nested_len, put_bytes_field, put_nested_header, put_varint_field, varint_field_len,
};

// Field numbers of `proto/store/storepb/{rpc,types}.proto` and `labelpb`.
const RESPONSE_SERIES: u32 = 1;
const RESPONSE_BATCH: u32 = 4;
const BATCH_SERIES: u32 = 1;
const SERIES_LABELS: u32 = 1;
const SERIES_CHUNKS: u32 = 2;
const LABEL_NAME: u32 = 1;
const LABEL_VALUE: u32 = 2;
const AGGR_MIN_TIME: u32 = 1;
const AGGR_MAX_TIME: u32 = 2;
const AGGR_RAW: u32 = 3;
/// `count`; then `sum`, `min`, `max` and `counter` follow in the order of
/// Thanos's aggregate chunk (`downsample.AggrType`).
const AGGR_COUNT: u32 = 4;
const CHUNK_TYPE: u32 = 1;
const CHUNK_DATA: u32 = 2;

/// The StoreAPI's number of the XOR encoding, which every aggregate has.
const XOR: i32 = 0;

/// The XOR chunks of a downsampled chunk's aggregates that a request asked
/// for, in Thanos's order: count, sum, min, max, counter.
pub type Aggregates<'a> = [Option<&'a [u8]>; 5];

/// A chunk to send, borrowed from where it was read: sent as the `raw`
/// chunk, or, for a downsampled block's chunk, as its `aggregates`.
#[derive(Clone, Copy, Debug)]
pub struct RawChunk<'a> {
    pub min_time: i64,
    pub max_time: i64,
    /// The StoreAPI's encoding number ([`crate::storepb::chunk_encoding`]).
    pub encoding: i32,
    pub data: &'a [u8],
    pub aggregates: Option<Aggregates<'a>>,
}

fn chunk_len(encoding: i32, data: &[u8]) -> usize {
    varint_field_len(CHUNK_TYPE, encoding.into()) + bytes_field_len(CHUNK_DATA, data.len())
}

fn write_chunk(out: &mut Vec<u8>, field: u32, encoding: i32, data: &[u8]) {
    put_nested_header(out, field, chunk_len(encoding, data));
    put_varint_field(out, CHUNK_TYPE, encoding.into());
    put_bytes_field(out, CHUNK_DATA, data);
}

impl<'a> RawChunk<'a> {
    /// A chunk as stored, sent as `raw`.
    pub fn raw(min_time: i64, max_time: i64, encoding: i32, data: &'a [u8]) -> Self {
        RawChunk { min_time, max_time, encoding, data, aggregates: None }
    }

    /// The chunks this sends, each with its `AggrChunk` field.
    fn parts(&self) -> impl Iterator<Item = (u32, i32, &'a [u8])> + '_ {
        let raw = self.aggregates.is_none().then_some((AGGR_RAW, self.encoding, self.data));
        let aggregates = self
            .aggregates
            .iter()
            .flat_map(|a| a.iter().enumerate().filter_map(|(i, d)| d.map(|d| (AGGR_COUNT + i as u32, XOR, d))));
        raw.into_iter().chain(aggregates)
    }

    fn aggr_len(&self) -> usize {
        varint_field_len(AGGR_MIN_TIME, self.min_time)
            + varint_field_len(AGGR_MAX_TIME, self.max_time)
            + self.parts().map(|(field, e, d)| nested_len(field, chunk_len(e, d))).sum::<usize>()
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_nested_header(out, SERIES_CHUNKS, self.aggr_len());
        put_varint_field(out, AGGR_MIN_TIME, self.min_time);
        put_varint_field(out, AGGR_MAX_TIME, self.max_time);
        for (field, e, d) in self.parts() {
            write_chunk(out, field, e, d);
        }
    }
}

fn label_len(name: &str, value: &str) -> usize {
    bytes_field_len(LABEL_NAME, name.len()) + bytes_field_len(LABEL_VALUE, value.len())
}

/// The size of a `Series` message.
fn series_len(labels: &[(&str, &str)], chunks: &[RawChunk<'_>]) -> usize {
    let labels: usize = labels.iter().map(|(n, v)| nested_len(SERIES_LABELS, label_len(n, v))).sum();
    labels + chunks.iter().map(|c| nested_len(SERIES_CHUNKS, c.aggr_len())).sum::<usize>()
}

fn write_series(out: &mut Vec<u8>, labels: &[(&str, &str)], chunks: &[RawChunk<'_>]) {
    for (name, value) in labels {
        put_nested_header(out, SERIES_LABELS, label_len(name, value));
        put_bytes_field(out, LABEL_NAME, name.as_bytes());
        put_bytes_field(out, LABEL_VALUE, value.as_bytes());
    }
    for c in chunks {
        c.write(out);
    }
}

/// Collects series into messages: one `SeriesResponse{series}` each (what a
/// v0.26 querier understands), or `SeriesResponse{batch}` of up to
/// `response_batch_size` series when a newer querier asks for it. A batch size
/// of 1 sends plain series, as Thanos main does. Any size is legal (an int64
/// in the request): a batch grows as series come, so a huge size means
/// everything in one message, never an allocation of the size asked (Thanos
/// main's batchableServer makes a slice of that capacity up front, which
/// panics on 2^62).
pub(crate) struct Batcher {
    size: usize,
    /// The batch being filled: [`HEADER_ROOM`] bytes, then its `series` fields.
    pending: Vec<u8>,
    count: usize,
}

/// Room for a batch's header, kept in front of its series so that the batch
/// is sent from where it was written: the field key and a length varint.
const HEADER_ROOM: usize = 1 + 10;

fn batch_buffer(capacity: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(capacity.max(HEADER_ROOM));
    buf.resize(HEADER_ROOM, 0);
    buf
}

impl Batcher {
    pub(crate) fn new(size: i64) -> Self {
        let size = usize::try_from(size).unwrap_or(0);
        Batcher { size, pending: batch_buffer(0), count: 0 }
    }

    /// Adds a series of `labels` (sorted by name) and `chunks` (by time).
    pub(crate) fn push(&mut self, labels: &[(&str, &str)], chunks: &[RawChunk<'_>], out: &mut Vec<Bytes>) {
        let len = series_len(labels, chunks);
        if self.size <= 1 {
            let mut msg = Vec::with_capacity(nested_len(RESPONSE_SERIES, len));
            put_nested_header(&mut msg, RESPONSE_SERIES, len);
            write_series(&mut msg, labels, chunks);
            out.push(msg.into());
            return;
        }
        put_nested_header(&mut self.pending, BATCH_SERIES, len);
        write_series(&mut self.pending, labels, chunks);
        self.count += 1;
        if self.count >= self.size {
            self.flush(out);
        }
    }

    /// Sends the batch being filled, if any.
    pub(crate) fn flush(&mut self, out: &mut Vec<Bytes>) {
        if self.count == 0 {
            return;
        }
        let mut header = Vec::with_capacity(HEADER_ROOM);
        put_nested_header(&mut header, RESPONSE_BATCH, self.pending.len() - HEADER_ROOM);
        // The next batch is about as large as this one.
        let next = batch_buffer(self.pending.capacity());
        let mut batch = std::mem::replace(&mut self.pending, next);
        let start = HEADER_ROOM - header.len();
        batch[start..HEADER_ROOM].copy_from_slice(&header);
        self.count = 0;
        out.push(Bytes::from(batch).slice(start..));
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::pb::thanos;

    fn prost_series(labels: &[(&str, &str)], chunks: &[RawChunk<'_>]) -> thanos::Series {
        thanos::Series {
            labels: labels.iter().map(|(n, v)| thanos::Label { name: n.to_string(), value: v.to_string() }).collect(),
            chunks: chunks
                .iter()
                .map(|c| {
                    let chunk = |e: i32, d: &[u8]| Some(thanos::Chunk { r#type: e, data: d.to_vec().into(), hash: 0 });
                    let sub = |i: usize| c.aggregates.and_then(|a| a[i]).and_then(|d| chunk(0, d));
                    thanos::AggrChunk {
                        min_time: c.min_time,
                        max_time: c.max_time,
                        raw: if c.aggregates.is_none() { chunk(c.encoding, c.data) } else { None },
                        count: sub(0),
                        sum: sub(1),
                        min: sub(2),
                        max: sub(3),
                        counter: sub(4),
                    }
                })
                .collect(),
        }
    }

    /// A series' labels and chunks.
    type Case = (Vec<(&'static str, &'static str)>, Vec<RawChunk<'static>>);

    /// Series with the values proto3 leaves out (zero times, the XOR encoding
    /// 0, empty strings and data), negative times (ten-byte varints) and
    /// lengths on both sides of a varint byte.
    fn cases() -> Vec<Case> {
        static BIG: [u8; 300] = [7; 300];
        let chunk = RawChunk::raw;
        let aggr = |parts| RawChunk { aggregates: Some(parts), ..RawChunk::raw(7, 9, 0, &[]) };
        vec![
            (vec![], vec![]),
            (vec![("__name__", "up"), ("job", "")], vec![chunk(0, 0, 0, &[])]),
            (vec![("", "v")], vec![chunk(-1, i64::MIN, 2, &BIG[..127]), chunk(5, i64::MAX, 1, &BIG[..128])]),
            (vec![("a", "1"), ("b", "2")], vec![chunk(1_700_000_000_000, 1_700_000_007_200, 0, &BIG)]),
            // Downsampled: some aggregates, none, all.
            (vec![("a", "1")], vec![aggr([Some(&BIG[..3]), Some(&[]), None, None, Some(&BIG[..200])])]),
            (vec![("a", "2")], vec![aggr([None; 5]), aggr([Some(&BIG[..1]); 5])]),
        ]
    }

    #[test]
    fn series_are_written_as_prost_writes_them() {
        for size in [0, 1, 2, 3, 64, i64::MAX] {
            let mut batcher = Batcher::new(size);
            let mut ours = Vec::new();
            for (labels, chunks) in cases() {
                batcher.push(&labels, &chunks, &mut ours);
            }
            batcher.flush(&mut ours);

            let series: Vec<_> = cases().iter().map(|(l, c)| prost_series(l, c)).collect();
            let result = |s: Vec<thanos::Series>| {
                if size <= 1 {
                    thanos::series_response::Result::Series(s.into_iter().next().unwrap())
                } else {
                    thanos::series_response::Result::Batch(thanos::SeriesBatch { series: s })
                }
            };
            let per_message = if size <= 1 { 1 } else { size.min(100) as usize };
            let expected: Vec<Bytes> = series
                .chunks(per_message)
                .map(|s| thanos::SeriesResponse { result: Some(result(s.to_vec())) }.encode_to_vec().into())
                .collect();
            assert_eq!(ours, expected, "batch size {size}");
        }
    }

    #[test]
    fn nothing_pending_sends_nothing() {
        let mut out = Vec::new();
        Batcher::new(64).flush(&mut out);
        assert!(out.is_empty());
    }
}
