//! The remote-read response readers of `rust/store/src/remote.rs`, and what
//! the sidecar and the querier do with what they read.
//!
//! Input: a `STREAMED_XOR_CHUNKS` body (frames of uvarint length, big-endian
//! CRC-32C and a `ChunkedReadResponse`), also tried as a snappy `SAMPLES`
//! response and a remote-write body. Frames must come out the same however
//! the body is cut into pieces. Every `SeriesResponse` the sidecar makes of
//! them is then decoded by the querier, merged, deduplicated and read, chunks
//! decoded: the path a corrupt Prometheus answer takes to a query. Frames are
//! also read in place as the sidecar does, which must agree with prost.

use prost::Message;
use thanos_core::labels::Labels;
use thanos_query::response::SeriesStream as StoreStream;
use thanos_query::series::{series_set, DedupOpts};
use thanos_store::pb::prometheus::{self, ChunkedReadResponse, ChunkedSeries};
use thanos_store::pb::thanos::{LabelMatcher, SeriesRequest};
use thanos_store::prometheus::SeriesStream;
use thanos_store::remote::{
    chunked_series, decode_write_request, ChunkedReader, ChunkedSeriesRef, DEFAULT_CHUNKED_READ_LIMIT,
};

use super::{chunkenc, words, Target};
use crate::mutate::varint;
use crate::rng::Rng;

pub const TARGET: Target = Target {
    name: "frames",
    run,
    generate,
    dictionary: &[
        b"\x00\x00\x00\x00",
        b"\x0a",
        b"\x12",
        b"\x1a",
        b"\x22",
        b"\x08\x01",
        b"\x18\x01",
        b"\xff\xff\xff\xff\x0f",
    ],
    max_len: 16384,
};

fn run(data: &[u8]) {
    let whole = read_frames(data, data.len().max(1));
    // Cut points from the data itself, so a run is repeatable.
    let piece = 1 + data.iter().fold(0usize, |a, &b| a.wrapping_mul(31).wrapping_add(b.into())) % 61;
    for cut in [1, piece] {
        let split = read_frames(data, cut);
        assert_eq!(
            whole.as_ref().map_err(|e| e.to_string()),
            split.as_ref().map_err(|e| e.to_string()),
            "frames differ when fed in pieces of {cut}"
        );
    }
    for payload in whole.iter().flatten() {
        read_in_place(payload);
    }
    read_in_place(data);
    sidecar_then_querier(data);
    let _ = decode_write_request(data);
}

/// The sidecar's in-place frame reader accepts what prost accepts, and reads
/// the same series out of it.
fn read_in_place(payload: &[u8]) {
    let Ok(decoded) = ChunkedReadResponse::decode(payload) else { return };
    let expected: Vec<ChunkedSeriesRef> = decoded.chunked_series.iter().map(Into::into).collect();
    assert_eq!(chunked_series(payload).expect("prost reads this frame"), expected);
}

fn read_frames(body: &[u8], piece: usize) -> thanos_core::Result<Vec<Vec<u8>>> {
    let mut r = ChunkedReader::new(DEFAULT_CHUNKED_READ_LIMIT);
    let mut out = Vec::new();
    for part in body.chunks(piece) {
        r.push(part);
        while let Some(p) = r.next_frame()? {
            out.push(p.to_vec());
        }
    }
    r.finish()?;
    Ok(out)
}

fn request() -> Vec<u8> {
    let m = LabelMatcher { r#type: 2, name: "__name__".into(), value: ".+".into() };
    SeriesRequest {
        min_time: i64::MIN,
        max_time: i64::MAX,
        matchers: vec![m],
        without_replica_labels: vec!["instance".into()],
        response_batch_size: 3,
        ..Default::default()
    }
    .encode_to_vec()
}

fn external() -> Labels {
    Labels::from_pairs([("cluster", "eu"), ("replica", "a")])
}

fn sidecar_then_querier(body: &[u8]) {
    let mut messages = Vec::new();
    let mut sidecar = SeriesStream::new(&request(), external(), i64::MIN).expect("a valid request");
    let streamed = sidecar.feed(body).and_then(|mut m| {
        m.extend(sidecar.finish()?);
        Ok(m)
    });
    messages.extend(streamed.unwrap_or_default());
    let mut sidecar = SeriesStream::new(&request(), external(), i64::MIN).expect("a valid request");
    messages.extend(sidecar.feed_samples(body).unwrap_or_default());

    let mut store = StoreStream::new();
    for m in messages {
        if store.push(m).is_err() {
            return;
        }
    }
    let set = store.finish();
    let opts = DedupOpts { replica_labels: vec!["replica".into()], counter: true };
    for series in series_set(set.series, &opts, i64::MIN, i64::MAX) {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        let _ = series.samples(i64::MIN, i64::MAX, &mut ts, &mut vs);
        let _ = series.samples(0, 1_700_000_000_000, &mut ts, &mut vs);
    }
}

/// A streamed body of generated frames, or a snappy SAMPLES response.
fn generate(rng: &mut Rng) -> Vec<u8> {
    if rng.one_in(4) {
        return samples_body(rng);
    }
    let mut body = Vec::new();
    for _ in 0..1 + rng.small(4) {
        let frame =
            ChunkedReadResponse { chunked_series: (0..rng.small(4)).map(|_| series(rng)).collect(), query_index: 0 };
        let payload = frame.encode_to_vec();
        let mut len = payload.len() as u64;
        let mut crc = crc32c::crc32c(&payload);
        match rng.below(12) {
            0 => len = rng.next_u64() >> rng.below(64),
            1 => crc ^= 1,
            _ => {}
        }
        body.extend(varint(len));
        body.extend(crc.to_be_bytes());
        body.extend(payload);
    }
    if rng.one_in(8) {
        body.truncate(rng.below(body.len() + 1));
    }
    body
}

fn labels(rng: &mut Rng) -> Vec<prometheus::Label> {
    (0..rng.small(5)).map(|_| prometheus::Label { name: words::name(rng), value: words::value(rng) }).collect()
}

fn series(rng: &mut Rng) -> ChunkedSeries {
    let chunks = (0..rng.small(5))
        .map(|_| {
            let data =
                chunkenc::split(&(chunkenc::TARGET.generate)(rng)).first().map(|c| c.to_vec()).unwrap_or_default();
            prometheus::Chunk {
                min_time_ms: words::time(rng),
                max_time_ms: words::time(rng),
                r#type: if rng.one_in(6) { rng.below(5) as i32 } else { 1 },
                data: data.into(),
            }
        })
        .collect();
    ChunkedSeries { labels: labels(rng), chunks }
}

fn samples_body(rng: &mut Rng) -> Vec<u8> {
    let timeseries = (0..rng.small(4))
        .map(|_| prometheus::TimeSeries {
            labels: labels(rng),
            samples: (0..rng.small(300))
                .map(|_| prometheus::Sample { value: f64::from_bits(rng.next_u64()), timestamp: words::time(rng) })
                .collect(),
        })
        .collect();
    let results =
        (0..if rng.one_in(8) { rng.small(3) } else { 1 }).map(|_| prometheus::QueryResult { timeseries: Vec::new() });
    let mut results: Vec<_> = results.collect();
    if let Some(first) = results.first_mut() {
        first.timeseries = timeseries;
    }
    let response = prometheus::ReadResponse { results };
    snap::raw::Encoder::new().compress_vec(&response.encode_to_vec()).expect("snappy takes any input up to 4 GiB")
}
