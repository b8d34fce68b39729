//! Prometheus remote read on the client side (`storage/remote/chunked.go` and
//! `codec.go` at v2.42.0): the snappy-compressed request, the incremental reader
//! of a streamed response's frames, and the decoder of the older one-shot
//! SAMPLES response. Also the decoder of a remote-write body, which loads test
//! data into an engine exactly as a Prometheus receiving the same body stores it.

use std::io::Read;

use prost::Message;
use thanos_core::{bail, Error, ErrorKind, Result};

use crate::pb::prometheus::{
    read_request::ResponseType, ChunkedSeries, LabelMatcher, Query, ReadRequest, ReadResponse, WriteRequest,
};
use crate::wire::Fields;

/// The largest frame payload accepted, in bytes: Prometheus's
/// `DefaultChunkedReadLimit` (5e7), which Thanos passes to its chunked reader.
/// A frame holds one series (or a time slice of one), cut near 1 MiB by
/// Prometheus's `--storage.remote.read-max-bytes-in-frame`, so only a damaged
/// length field gets anywhere near this.
pub const DEFAULT_CHUNKED_READ_LIMIT: u64 = 50_000_000;

/// A uvarint is at most 10 bytes for a 64-bit value (`binary.MaxVarintLen64`).
const MAX_UVARINT_LEN: usize = 10;
/// The big-endian CRC-32C that follows the length of every frame.
const CRC_LEN: usize = 4;

/// The body of `POST /api/v1/read`: a `ReadRequest` with one query, accepting
/// streamed XOR chunks first and whole samples as the fallback older servers
/// answer with, compressed with snappy's block format (not the framed one).
pub fn encode_read_request(start_ms: i64, end_ms: i64, matchers: Vec<LabelMatcher>) -> Vec<u8> {
    let request = ReadRequest {
        queries: vec![Query { start_timestamp_ms: start_ms, end_timestamp_ms: end_ms, matchers, hints: None }],
        accepted_response_types: vec![ResponseType::StreamedXorChunks as i32, ResponseType::Samples as i32],
    };
    snap::raw::Encoder::new().compress_vec(&request.encode_to_vec()).expect("snappy takes any input up to 4 GiB")
}

/// Splits a streamed remote-read body into frame payloads, whatever the sizes of
/// the pieces it is fed in: `uvarint(len) | crc32c(payload) as u32 BE | payload`.
///
/// The body is read straight into one buffer and payloads are handed out as
/// slices of it. Bytes are kept only until the frame they belong to is read,
/// so the buffer stays at about one frame and one read however long the body is.
#[derive(Debug)]
pub struct ChunkedReader {
    /// `buf[start..end]` is read and not yet handed out; after `end` is room.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    limit: u64,
}

impl ChunkedReader {
    pub fn new(limit: u64) -> Self {
        ChunkedReader { buf: Vec::new(), start: 0, end: 0, limit }
    }

    /// Appends the next piece of the body.
    pub fn push(&mut self, data: &[u8]) {
        self.room(data.len()).copy_from_slice(data);
        self.end += data.len();
    }

    /// Reads the next piece of the body from `r`, at most `max` bytes, with
    /// one `read` call; returns its size, 0 at the end of the body.
    pub fn read_from(&mut self, r: &mut impl Read, max: usize) -> std::io::Result<usize> {
        let n = r.read(self.room(max))?;
        self.end += n;
        Ok(n)
    }

    /// `n` bytes of room after what is buffered.
    fn room(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() - self.end < n && self.start > 0 {
            // The unread bytes (part of one frame) move to the front.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < n {
            // Doubling: a frame of many reads is not moved at each of them.
            self.buf.resize((self.end + n).max(2 * self.buf.len()), 0);
        }
        &mut self.buf[self.end..self.end + n]
    }

    /// The next complete frame's payload, checked against its CRC, or `None`
    /// until more of the body arrives.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>> {
        let data = &self.buf[self.start..self.end];
        let Some((size, len_bytes)) = uvarint(data)? else {
            return Ok(None);
        };
        // Checked before waiting for the payload, so a damaged length fails at
        // once instead of buffering up to the limit.
        if size > self.limit {
            bail!(
                CorruptFrame,
                "chunkedReader: message size exceeded the limit {} bytes; got: {} bytes",
                self.limit,
                size
            );
        }
        let total = len_bytes + CRC_LEN + size as usize;
        if data.len() < total {
            return Ok(None);
        }
        let crc = u32::from_be_bytes(data[len_bytes..len_bytes + CRC_LEN].try_into().expect("four bytes"));
        let payload = self.start + len_bytes + CRC_LEN..self.start + total;
        self.start += total;
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        let payload = &self.buf[payload];
        if crc32c::crc32c(payload) != crc {
            bail!(CorruptFrame, "chunkedReader: corrupted frame; checksum mismatch");
        }
        Ok(Some(payload))
    }

    /// Checks that the body ended on a frame boundary.
    pub fn finish(&self) -> Result<()> {
        if self.start != self.end {
            bail!(CorruptFrame, "chunkedReader: unexpected EOF: the body ends inside a frame");
        }
        Ok(())
    }
}

// Field numbers of `proto/prompb/{remote,types}.proto`.
const RESPONSE_CHUNKED_SERIES: u32 = 1;
const RESPONSE_QUERY_INDEX: u32 = 2;
const SERIES_LABELS: u32 = 1;
const SERIES_CHUNKS: u32 = 2;
const LABEL_NAME: u32 = 1;
const LABEL_VALUE: u32 = 2;
const CHUNK_MIN_TIME: u32 = 1;
const CHUNK_MAX_TIME: u32 = 2;
const CHUNK_TYPE: u32 = 3;
const CHUNK_DATA: u32 = 4;

/// One series of a streamed frame (`prometheus.ChunkedSeries`), borrowed
/// from the frame's bytes.
#[derive(Debug, Default, PartialEq)]
pub struct ChunkedSeriesRef<'a> {
    /// (name, value), sorted by name as Prometheus sends them.
    pub labels: Vec<(&'a str, &'a str)>,
    pub chunks: Vec<ChunkRef<'a>>,
}

impl<'a> From<&'a ChunkedSeries> for ChunkedSeriesRef<'a> {
    /// The same series read by prost, for comparisons.
    fn from(s: &'a ChunkedSeries) -> Self {
        ChunkedSeriesRef {
            labels: s.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect(),
            chunks: s
                .chunks
                .iter()
                .map(|c| ChunkRef {
                    min_time_ms: c.min_time_ms,
                    max_time_ms: c.max_time_ms,
                    r#type: c.r#type,
                    data: &c.data,
                })
                .collect(),
        }
    }
}

/// A `prometheus.Chunk`, its data borrowed from the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ChunkRef<'a> {
    pub min_time_ms: i64,
    pub max_time_ms: i64,
    /// Prometheus's encoding number (XOR is 1).
    pub r#type: i32,
    pub data: &'a [u8],
}

/// The series of a frame's `ChunkedReadResponse`, read in place: what
/// `ChunkedReadResponse::decode` reads, without copying a label or a chunk.
pub fn chunked_series(payload: &[u8]) -> Result<Vec<ChunkedSeriesRef<'_>>> {
    let mut out = Vec::new();
    let mut fields = Fields::new(payload);
    while let Some((tag, wire_type)) = fields.next_key()? {
        match tag {
            RESPONSE_CHUNKED_SERIES => out.push(series_ref(fields.bytes(wire_type)?)?),
            RESPONSE_QUERY_INDEX => drop(fields.varint(wire_type)?),
            _ => fields.skip(tag, wire_type)?,
        }
    }
    Ok(out)
}

fn series_ref(message: &[u8]) -> Result<ChunkedSeriesRef<'_>> {
    let mut series = ChunkedSeriesRef::default();
    let mut fields = Fields::new(message);
    while let Some((tag, wire_type)) = fields.next_key()? {
        match tag {
            SERIES_LABELS => series.labels.push(label_ref(fields.bytes(wire_type)?)?),
            SERIES_CHUNKS => series.chunks.push(chunk_ref(fields.bytes(wire_type)?)?),
            _ => fields.skip(tag, wire_type)?,
        }
    }
    Ok(series)
}

fn label_ref(message: &[u8]) -> Result<(&str, &str)> {
    let (mut name, mut value) = ("", "");
    let mut fields = Fields::new(message);
    while let Some((tag, wire_type)) = fields.next_key()? {
        match tag {
            LABEL_NAME => name = fields.string(wire_type)?,
            LABEL_VALUE => value = fields.string(wire_type)?,
            _ => fields.skip(tag, wire_type)?,
        }
    }
    Ok((name, value))
}

fn chunk_ref(message: &[u8]) -> Result<ChunkRef<'_>> {
    let mut chunk = ChunkRef::default();
    let mut fields = Fields::new(message);
    while let Some((tag, wire_type)) = fields.next_key()? {
        // Integers are varints cast as protobuf's decoders cast them.
        match tag {
            CHUNK_MIN_TIME => chunk.min_time_ms = fields.varint(wire_type)? as i64,
            CHUNK_MAX_TIME => chunk.max_time_ms = fields.varint(wire_type)? as i64,
            CHUNK_TYPE => chunk.r#type = fields.varint(wire_type)? as i32,
            CHUNK_DATA => chunk.data = fields.bytes(wire_type)?,
            _ => fields.skip(tag, wire_type)?,
        }
    }
    Ok(chunk)
}

/// Reads an unsigned LEB128 varint from the start of `buf`: its value and length,
/// or `None` if `buf` ends before the varint does.
fn uvarint(buf: &[u8]) -> Result<Option<(u64, usize)>> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().enumerate() {
        // The tenth byte may only carry the 64th bit.
        if i == MAX_UVARINT_LEN - 1 && b > 1 {
            bail!(CorruptFrame, "chunkedReader: frame length varint overflows a 64-bit integer");
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(Some((value, i + 1)));
        }
    }
    Ok(None)
}

/// Snappy's block format cannot expand a byte into more than this many: its
/// longest output per input byte is a 3-byte copy of 64 bytes.
const MAX_SNAPPY_EXPANSION: usize = 22;

/// Decompresses a snappy block. The block starts with the length it claims to
/// decompress to, and `snap` allocates that much up front: a 10-byte body
/// claiming 4 GiB would get it (found by fuzzing). A claim that the input is
/// too short to expand to is refused before any allocation.
fn decompress(body: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let claimed = snap::raw::decompress_len(body).map_err(|e| e.to_string())?;
    if claimed > body.len().saturating_mul(MAX_SNAPPY_EXPANSION) {
        return Err(format!("snappy block of {} bytes claims to hold {claimed} bytes", body.len()));
    }
    snap::raw::Decoder::new().decompress_vec(body).map_err(|e| e.to_string())
}

/// Decodes a SAMPLES response body: a snappy block holding a `ReadResponse` with
/// exactly one result, as one query was asked.
pub fn decode_read_response(body: &[u8]) -> Result<ReadResponse> {
    let raw = decompress(body).map_err(|e| Error::new(ErrorKind::CorruptFrame, format!("decompress response: {e}")))?;
    let response = ReadResponse::decode(raw.as_slice())
        .map_err(|e| Error::new(ErrorKind::CorruptFrame, format!("unmarshal response: {e}")))?;
    if response.results.len() != 1 {
        bail!(CorruptFrame, "unexpected result size {}", response.results.len());
    }
    Ok(response)
}

/// Decodes a remote-write body (`POST /api/v1/write`): a snappy block holding a
/// `WriteRequest`. Values keep their bits, staleness markers included.
pub fn decode_write_request(body: &[u8]) -> Result<WriteRequest> {
    let raw = decompress(body).map_err(|e| Error::new(ErrorKind::BadData, format!("decompress write request: {e}")))?;
    WriteRequest::decode(raw.as_slice())
        .map_err(|e| Error::new(ErrorKind::BadData, format!("unmarshal write request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::prometheus::ChunkedReadResponse;

    const GOLDEN: &[u8] = include_bytes!("../../../tests/testdata/golden/prom242-remote-read.frames");

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut n = payload.len() as u64;
        while n >= 0x80 {
            out.push(n as u8 | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(&crc32c::crc32c(payload).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// Feeds `body` in pieces of `piece` bytes and collects every payload.
    fn read_all(body: &[u8], piece: usize) -> Result<Vec<Vec<u8>>> {
        let mut reader = ChunkedReader::new(DEFAULT_CHUNKED_READ_LIMIT);
        let mut out = Vec::new();
        for part in body.chunks(piece) {
            reader.push(part);
            while let Some(p) = reader.next_frame()? {
                out.push(p.to_vec());
            }
        }
        reader.finish()?;
        Ok(out)
    }

    #[test]
    fn golden_body_reads_the_same_at_every_split() {
        let whole = read_all(GOLDEN, GOLDEN.len()).unwrap();
        // The recorder asked Prometheus 2.42 for five series of up to 600 samples.
        let series: Vec<_> =
            whole.iter().flat_map(|p| ChunkedReadResponse::decode(&p[..]).unwrap().chunked_series).collect();
        assert_eq!(series.len(), 5);
        assert!(series.iter().all(|s| !s.chunks.is_empty() && s.chunks.iter().all(|c| c.r#type == 1)));
        // Two pieces, split at every byte.
        for cut in 0..=GOLDEN.len() {
            let mut reader = ChunkedReader::new(DEFAULT_CHUNKED_READ_LIMIT);
            let mut got = Vec::new();
            for part in [&GOLDEN[..cut], &GOLDEN[cut..]] {
                reader.push(part);
                while let Some(p) = reader.next_frame().unwrap() {
                    got.push(p.to_vec());
                }
            }
            reader.finish().unwrap();
            assert_eq!(got, whole, "split at {cut}");
        }
        // Many small pieces.
        for piece in [1, 2, 3, 7, 64, 1000] {
            assert_eq!(read_all(GOLDEN, piece).unwrap(), whole, "pieces of {piece}");
        }
    }

    #[test]
    fn frames_are_read_in_place_as_prost_reads_them() {
        for payload in read_all(GOLDEN, GOLDEN.len()).unwrap() {
            let decoded = ChunkedReadResponse::decode(&payload[..]).unwrap();
            let expected: Vec<ChunkedSeriesRef> = decoded.chunked_series.iter().map(Into::into).collect();
            assert_eq!(chunked_series(&payload).unwrap(), expected);
        }
        // Unknown fields of every wire type (a group among them) are skipped,
        // a repeated scalar keeps its last value, query_index is read past.
        let payload = [
            0x0a, 0x19, // chunked_series, 25 bytes
            0x0a, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'1', // label a="1"
            0x12, 0x06, 0x08, 0x05, 0x08, 0x07, 0x18, 0x01, // chunk min 5 then 7, type 1
            0x1b, 0x08, 0x01, 0x1c, // field 3: a group holding a varint
            0x25, 0, 0, 0, 0, // field 4: fixed32
            0x10, 0x03, // query_index 3
            0x19, 0, 0, 0, 0, 0, 0, 0, 0, // field 3: fixed64
        ];
        let decoded = ChunkedReadResponse::decode(&payload[..]).unwrap();
        let expected: Vec<ChunkedSeriesRef> = decoded.chunked_series.iter().map(Into::into).collect();
        let ours = chunked_series(&payload).unwrap();
        assert_eq!(ours, expected);
        assert_eq!(ours[0].chunks[0].min_time_ms, 7);
        // What prost refuses: query_index as bytes, a label name not UTF-8.
        for bad in [&[0x12, 0x00][..], &[0x0a, 0x04, 0x0a, 0x02, 0x0a, 0x01, 0xff]] {
            assert!(ChunkedReadResponse::decode(bad).is_err());
            assert!(chunked_series(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_flipped_bit_is_a_checksum_error() {
        let mut body = frame(b"payload");
        *body.last_mut().unwrap() ^= 1;
        let err = read_all(&body, body.len()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CorruptFrame);
        assert_eq!(err.message(), "chunkedReader: corrupted frame; checksum mismatch");
    }

    #[test]
    fn an_oversized_length_fails_before_the_payload_arrives() {
        let mut reader = ChunkedReader::new(100);
        reader.push(&frame(&[0u8; 101])[..3]);
        let err = reader.next_frame().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CorruptFrame);
        assert_eq!(err.message(), "chunkedReader: message size exceeded the limit 100 bytes; got: 101 bytes");
    }

    #[test]
    fn a_truncated_body_is_an_error_at_the_end() {
        let body = frame(b"some payload");
        let err = read_all(&body[..body.len() - 1], 5).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CorruptFrame);
        assert!(err.message().contains("unexpected EOF"), "{}", err.message());
        // An empty body is a clean end: no series.
        assert!(read_all(&[], 1).unwrap().is_empty());
    }

    #[test]
    fn overlong_varints_are_rejected() {
        let mut reader = ChunkedReader::new(u64::MAX);
        reader.push(&[0xff; 11]);
        assert_eq!(reader.next_frame().unwrap_err().kind(), ErrorKind::CorruptFrame);
        // u64::MAX itself is ten bytes ending in 0x01, and is merely over the limit.
        let mut max = vec![0xff; 9];
        max.push(0x01);
        assert_eq!(uvarint(&max).unwrap(), Some((u64::MAX, 10)));
    }

    #[test]
    fn read_request_round_trips_through_snappy() {
        let m = LabelMatcher { r#type: 2, name: "__name__".into(), value: "up|down".into() };
        let body = encode_read_request(-5, 10, vec![m.clone()]);
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        let req = ReadRequest::decode(raw.as_slice()).unwrap();
        assert_eq!(req.accepted_response_types, [1, 0]);
        assert_eq!(req.queries.len(), 1);
        let q = &req.queries[0];
        assert_eq!((q.start_timestamp_ms, q.end_timestamp_ms), (-5, 10));
        assert_eq!(q.matchers, [m]);
    }

    #[test]
    fn write_requests_decode_with_their_value_bits() {
        use crate::pb::prometheus::{Label, Sample, TimeSeries};
        let stale = f64::from_bits(0x7ff0_0000_0000_0002);
        let series = TimeSeries {
            labels: vec![Label { name: "__name__".into(), value: "up".into() }],
            samples: vec![Sample { value: 1.0, timestamp: 5 }, Sample { value: stale, timestamp: 20 }],
        };
        let body = WriteRequest { timeseries: vec![series.clone()] }.encode_to_vec();
        let req = decode_write_request(&snap::raw::Encoder::new().compress_vec(&body).unwrap()).unwrap();
        assert_eq!(req.timeseries[0].labels, series.labels);
        assert_eq!(req.timeseries[0].samples[1].value.to_bits(), 0x7ff0_0000_0000_0002);
        assert_eq!(decode_write_request(b"not snappy").unwrap_err().kind(), ErrorKind::BadData);
    }

    #[test]
    fn a_snappy_length_beyond_what_the_body_can_hold_is_refused_before_allocating() {
        // Found by fuzzing: 71 bytes whose snappy header claims 774,906,247
        // bytes, which `snap` allocated (zeroed) before finding the body short.
        let body = include_bytes!("../../../tests/fuzz/corpus/frames/regression-snappy-length");
        let err = decode_read_response(body).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CorruptFrame);
        assert_eq!(err.message(), "decompress response: snappy block of 71 bytes claims to hold 774906247 bytes");
        assert_eq!(decode_write_request(body).unwrap_err().kind(), ErrorKind::BadData);
        // The densest block snappy writes still decodes: 64-byte copies of 3 bytes.
        let zeros = vec![0u8; 1 << 20];
        let dense = snap::raw::Encoder::new().compress_vec(&zeros).unwrap();
        assert!(dense.len() * MAX_SNAPPY_EXPANSION > zeros.len(), "{} bytes", dense.len());
        assert_eq!(decompress(&dense).unwrap(), zeros);
    }

    #[test]
    fn sampled_responses_need_exactly_one_result() {
        let empty = snap::raw::Encoder::new().compress_vec(&ReadResponse::default().encode_to_vec()).unwrap();
        assert_eq!(decode_read_response(&empty).unwrap_err().message(), "unexpected result size 0");
        assert!(decode_read_response(b"not snappy").unwrap_err().message().starts_with("decompress response"));
    }
}
