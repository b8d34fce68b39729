//! The StoreAPI of a sidecar in front of one Prometheus (`pkg/store/prometheus.go`
//! at v0.26.0, with the `response_batch_size` and `without_replica_labels` of
//! Thanos main). This module decides what to ask Prometheus and turns its
//! answers into ready-to-send StoreAPI messages; [`crate::remote_client`] reads
//! the remote-read answers, Python makes the label API calls.
//!
//! A `Series` call becomes a remote read: [`SeriesStream`] decodes the request,
//! checks the external-label matchers, builds the read request and then, fed the
//! response body piece by piece, yields encoded `SeriesResponse`s. Chunk bytes
//! are passed through unchanged.

use std::io::Read;

use bytes::Bytes;
use thanos_core::chunkenc;
use thanos_core::labels::Labels;
use thanos_core::{bail, Error, ErrorKind, Result};

use crate::pb::thanos;
use crate::promclient;
use crate::remote::{self, ChunkedReader, DEFAULT_CHUNKED_READ_LIMIT};
use crate::request::{LabelsMethod, LabelsPlan, SeriesPlan};
use crate::response::RawChunk;
use crate::storepb;

/// Samples per chunk when re-encoding a SAMPLES response: Thanos's
/// `MaxSamplesPerChunk`, the size Prometheus's head cuts its chunks at.
pub const MAX_SAMPLES_PER_CHUNK: usize = thanos_tsdb::merge::SAMPLES_PER_CHUNK;

fn thanos_encoding(prometheus_type: i32) -> Result<i32> {
    let Some(t) = storepb::chunk_encoding(prometheus_type) else {
        bail!(CorruptFrame, "remote read sent a chunk of encoding {prometheus_type}, which the StoreAPI cannot carry");
    };
    Ok(t)
}

/// One `Series` call, from the request to the last message.
pub struct SeriesStream {
    plan: SeriesPlan,
    reader: ChunkedReader,
    frames: u64,
}

impl SeriesStream {
    /// Decodes a `thanos.SeriesRequest` ([`SeriesPlan::new`]).
    pub fn new(request: &[u8], external: Labels, min_time: i64) -> Result<Self> {
        let plan = SeriesPlan::new(request, external, min_time)?;
        Ok(SeriesStream { plan, reader: ChunkedReader::new(DEFAULT_CHUNKED_READ_LIMIT), frames: 0 })
    }

    /// False when the external labels rule this Prometheus out.
    pub fn matches(&self) -> bool {
        self.plan.matches()
    }

    /// True when only labels are wanted: answered from `/api/v1/series`.
    pub fn skip_chunks(&self) -> bool {
        self.plan.skip_chunks
    }

    /// The time range asked of Prometheus, after clamping.
    pub fn time_range(&self) -> (i64, i64) {
        (self.plan.min_time, self.plan.max_time)
    }

    /// Frames read so far from a streamed response.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The snappy body of `POST /api/v1/read`.
    pub fn read_request(&self) -> Vec<u8> {
        let matchers = self.plan.matchers().iter().map(storepb::to_prometheus).collect();
        remote::encode_read_request(self.plan.min_time, self.plan.max_time, matchers)
    }

    /// The query parameters of `GET /api/v1/series` for `skip_chunks`.
    pub fn series_params(&self) -> Vec<(String, String)> {
        vec![
            ("match[]".to_string(), storepb::selector(self.plan.matchers())),
            ("start".to_string(), promclient::format_time(self.plan.min_time)),
            ("end".to_string(), promclient::format_time(self.plan.max_time)),
        ]
    }

    /// Takes the next piece of a streamed (`STREAMED_XOR_CHUNKS`) body and
    /// returns the messages of the frames it completes.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<Bytes>> {
        self.reader.push(data);
        let mut out = Vec::new();
        self.convert_frames(&mut out)?;
        Ok(out)
    }

    /// Reads the next piece of a streamed body from `body`, at most `max`
    /// bytes with one `read` call; returns its size, 0 at the end of the body.
    /// [`convert_frames`](Self::convert_frames) then makes its messages.
    pub fn read_from(&mut self, body: &mut impl Read, max: usize) -> std::io::Result<usize> {
        self.reader.read_from(body, max)
    }

    /// Appends the messages of the frames read and not yet converted to `out`.
    pub fn convert_frames(&mut self, out: &mut Vec<Bytes>) -> Result<()> {
        while let Some(payload) = self.reader.next_frame()? {
            self.frames += 1;
            convert_frame(&mut self.plan, payload, out)?;
        }
        Ok(())
    }

    /// Ends the stream: checks that the body ended between frames and sends
    /// what is left of a batch.
    pub fn finish(&mut self) -> Result<Vec<Bytes>> {
        self.reader.finish()?;
        let mut out = Vec::new();
        self.plan.flush(&mut out);
        Ok(out)
    }

    /// Converts a whole SAMPLES response (what Prometheus before 2.13 answers):
    /// the samples of each series are re-encoded into XOR chunks of at most
    /// [`MAX_SAMPLES_PER_CHUNK`]. Series without samples are left out, as
    /// Thanos does (thanos-io/thanos#381).
    pub fn feed_samples(&mut self, body: &[u8]) -> Result<Vec<Bytes>> {
        let response = remote::decode_read_response(body)?;
        let mut out = Vec::new();
        for ts in response.results.into_iter().flat_map(|r| r.timeseries) {
            let mut data = Vec::with_capacity(ts.samples.len().div_ceil(MAX_SAMPLES_PER_CHUNK));
            for part in ts.samples.chunks(MAX_SAMPLES_PER_CHUNK) {
                let times: Vec<i64> = part.iter().map(|s| s.timestamp).collect();
                let values: Vec<f64> = part.iter().map(|s| s.value).collect();
                data.push((times[0], times[times.len() - 1], chunkenc::encode(&times, &values)?));
            }
            if !data.is_empty() {
                let chunks: Vec<RawChunk> = data
                    .iter()
                    .map(|(min_time, max_time, bytes)| {
                        RawChunk::raw(*min_time, *max_time, thanos::chunk::Encoding::Xor as i32, bytes)
                    })
                    .collect();
                self.plan.push(ts.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())), &chunks, &mut out);
            }
        }
        self.plan.flush(&mut out);
        Ok(out)
    }

    /// Converts the JSON answer of `/api/v1/series` for `skip_chunks`: labels only.
    pub fn feed_series_json(&mut self, body: &[u8]) -> Result<Vec<Bytes>> {
        let mut out = Vec::new();
        for labels in promclient::parse_series(body)? {
            self.plan.push(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())), &[], &mut out);
        }
        self.plan.flush(&mut out);
        Ok(out)
    }
}

/// The messages of one frame's series.
fn convert_frame(plan: &mut SeriesPlan, payload: &[u8], out: &mut Vec<Bytes>) -> Result<()> {
    let frame = remote::chunked_series(payload)
        .map_err(|e| Error::new(ErrorKind::CorruptFrame, format!("next proto: unmarshal frame: {}", e.message())))?;
    // A frame carries one series, or one time slice of a long series; the
    // slices go out as they come and the querier joins them.
    for s in frame {
        let chunks = s
            .chunks
            .iter()
            .map(|c| Ok(RawChunk::raw(c.min_time_ms, c.max_time_ms, thanos_encoding(c.r#type)?, c.data)))
            .collect::<Result<Vec<_>>>()?;
        plan.push(s.labels, &chunks, out);
    }
    Ok(())
}

/// One `LabelNames` or `LabelValues` call answered by one GET on
/// Prometheus's label API, unless its [`LabelsPlan`] has the answer.
pub struct LabelsQuery {
    plan: LabelsPlan,
    path: String,
    params: Vec<(String, String)>,
}

impl LabelsQuery {
    /// Decodes a `thanos.LabelNamesRequest`.
    pub fn label_names(request: &[u8], external: Labels) -> Result<Self> {
        Ok(LabelsQuery::new(LabelsPlan::label_names(request, external)?))
    }

    /// Decodes a `thanos.LabelValuesRequest`.
    pub fn label_values(request: &[u8], external: Labels) -> Result<Self> {
        Ok(LabelsQuery::new(LabelsPlan::label_values(request, external)?))
    }

    fn new(plan: LabelsPlan) -> Self {
        let path = match plan.method {
            LabelsMethod::Names => "/api/v1/labels".to_string(),
            LabelsMethod::Values => format!("/api/v1/label/{}/values", escape_path_segment(&plan.label)),
        };
        let mut params = Vec::new();
        if !plan.matchers.is_empty() {
            params.push(("match[]".to_string(), storepb::selector(&plan.matchers)));
        }
        params.push(("start".to_string(), promclient::format_time(plan.start)));
        params.push(("end".to_string(), promclient::format_time(plan.end)));
        LabelsQuery { plan, path, params }
    }

    /// The encoded response when Prometheus need not be asked.
    pub fn answer(&self) -> Option<&[u8]> {
        self.plan.answer()
    }

    /// The API path to GET, e.g. `/api/v1/labels`.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The encoded response, from the JSON body Prometheus answered with.
    pub fn response(&self, body: &[u8]) -> Result<Vec<u8>> {
        Ok(self.plan.finish(promclient::parse_strings(body)?))
    }
}

/// Percent-encodes everything but unreserved characters, so that a label name
/// can only ever name a label in the URL path.
fn escape_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::pb::prometheus;

    const GOLDEN: &[u8] = include_bytes!("../../../tests/testdata/golden/prom242-remote-read.frames");

    fn ext() -> Labels {
        Labels::from_pairs([("cluster", "eu1"), ("replica", "0")])
    }

    fn matcher(t: i32, name: &str, value: &str) -> thanos::LabelMatcher {
        thanos::LabelMatcher { r#type: t, name: name.into(), value: value.into() }
    }

    fn request(matchers: Vec<thanos::LabelMatcher>, f: impl FnOnce(&mut thanos::SeriesRequest)) -> Vec<u8> {
        let mut req = thanos::SeriesRequest { min_time: 0, max_time: i64::MAX, matchers, ..Default::default() };
        f(&mut req);
        req.encode_to_vec()
    }

    fn all_series(req: &[u8]) -> SeriesStream {
        SeriesStream::new(req, ext(), i64::MIN).unwrap()
    }

    fn decode_all(msgs: &[Bytes]) -> Vec<thanos::series_response::Result> {
        msgs.iter().map(|m| thanos::SeriesResponse::decode(&m[..]).unwrap().result.unwrap()).collect()
    }

    #[test]
    fn a_request_with_only_external_label_matchers_is_invalid() {
        let req = request(vec![matcher(0, "cluster", "eu1")], |_| {});
        let e = SeriesStream::new(&req, ext(), 0).err().unwrap();
        assert_eq!((e.kind(), e.message()), (ErrorKind::BadData, "no matchers specified (excluding external labels)"));
        // A mismatching one, though, is just an empty answer.
        let req = request(vec![matcher(0, "cluster", "us1")], |_| {});
        assert!(!SeriesStream::new(&req, ext(), 0).unwrap().matches());
        let e = SeriesStream::new(b"\xff\xff", ext(), 0).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::BadData);
    }

    #[test]
    fn golden_frames_become_one_series_per_message() {
        let req = request(vec![matcher(2, "__name__", ".+")], |_| {});
        let mut stream = all_series(&req);
        let mut msgs = stream.feed(GOLDEN).unwrap();
        msgs.extend(stream.finish().unwrap());
        assert_eq!(stream.frames(), 5);
        let frames: Vec<_> = remote_series(GOLDEN);
        let results = decode_all(&msgs);
        assert_eq!(results.len(), frames.len());
        for (r, want) in results.iter().zip(&frames) {
            let thanos::series_response::Result::Series(s) = r else { panic!("not a series: {r:?}") };
            let names: Vec<&str> = s.labels.iter().map(|l| l.name.as_str()).collect();
            assert!(names.windows(2).all(|w| w[0] < w[1]), "unsorted {names:?}");
            assert_eq!(labelpb_value(s, "cluster"), "eu1");
            assert_eq!(labelpb_value(s, "__name__"), want.labels[0].value);
            assert_eq!(s.chunks.len(), want.chunks.len());
            for (c, w) in s.chunks.iter().zip(&want.chunks) {
                let raw = c.raw.as_ref().unwrap();
                assert_eq!(raw.r#type, thanos::chunk::Encoding::Xor as i32);
                assert_eq!(raw.data, w.data, "chunk bytes must pass through unchanged");
                assert_eq!((c.min_time, c.max_time), (w.min_time_ms, w.max_time_ms));
            }
        }
    }

    fn remote_series(body: &[u8]) -> Vec<prometheus::ChunkedSeries> {
        let mut reader = ChunkedReader::new(DEFAULT_CHUNKED_READ_LIMIT);
        reader.push(body);
        let mut out = Vec::new();
        while let Some(p) = reader.next_frame().unwrap() {
            out.extend(prometheus::ChunkedReadResponse::decode(p).unwrap().chunked_series);
        }
        out
    }

    fn labelpb_value<'a>(s: &'a thanos::Series, name: &str) -> &'a str {
        s.labels.iter().find(|l| l.name == name).map_or("", |l| l.value.as_str())
    }

    #[test]
    fn messages_do_not_depend_on_how_the_body_is_cut() {
        for batch in [0, 2] {
            let req = request(vec![matcher(2, "__name__", ".+")], |r| r.response_batch_size = batch);
            let mut whole = all_series(&req);
            let mut want = whole.feed(GOLDEN).unwrap();
            want.extend(whole.finish().unwrap());
            for piece in [1, 5, 100, 4096] {
                let mut stream = all_series(&req);
                let mut got = Vec::new();
                for part in GOLDEN.chunks(piece) {
                    got.extend(stream.feed(part).unwrap());
                }
                got.extend(stream.finish().unwrap());
                assert_eq!(got, want, "batch {batch}, pieces of {piece}");
            }
            for cut in (0..GOLDEN.len()).step_by(7) {
                let mut stream = all_series(&req);
                let mut got = stream.feed(&GOLDEN[..cut]).unwrap();
                got.extend(stream.feed(&GOLDEN[cut..]).unwrap());
                got.extend(stream.finish().unwrap());
                assert_eq!(got, want, "batch {batch}, cut at {cut}");
            }
        }
    }

    #[test]
    fn batches_hold_up_to_the_asked_size() {
        let req = request(vec![matcher(2, "__name__", ".+")], |r| r.response_batch_size = 2);
        let mut stream = all_series(&req);
        let mut msgs = stream.feed(GOLDEN).unwrap();
        msgs.extend(stream.finish().unwrap());
        let sizes: Vec<usize> = decode_all(&msgs)
            .into_iter()
            .map(|r| match r {
                thanos::series_response::Result::Batch(b) => b.series.len(),
                other => panic!("not a batch: {other:?}"),
            })
            .collect();
        assert_eq!(sizes, [2, 2, 1]);
        // Any int64 is a legal size: 2^62 once overflowed the pre-allocation.
        let req = request(vec![matcher(2, "__name__", ".+")], |r| r.response_batch_size = 1 << 62);
        let mut stream = all_series(&req);
        let mut msgs = stream.feed(GOLDEN).unwrap();
        msgs.extend(stream.finish().unwrap());
        assert!(matches!(&decode_all(&msgs)[..], [thanos::series_response::Result::Batch(b)] if b.series.len() == 5));
        // A batch size of 1 is the unbatched form.
        let req = request(vec![matcher(2, "__name__", ".+")], |r| r.response_batch_size = 1);
        let mut stream = all_series(&req);
        let msgs = stream.feed(GOLDEN).unwrap();
        assert!(decode_all(&msgs).iter().all(|r| matches!(r, thanos::series_response::Result::Series(_))));
    }

    #[test]
    fn without_replica_labels_are_left_out() {
        let req = request(vec![matcher(2, "__name__", ".+")], |r| r.without_replica_labels = vec!["replica".into()]);
        let mut stream = all_series(&req);
        for r in decode_all(&stream.feed(GOLDEN).unwrap()) {
            let thanos::series_response::Result::Series(s) = r else { panic!() };
            assert_eq!(labelpb_value(&s, "replica"), "");
            assert_eq!(labelpb_value(&s, "cluster"), "eu1");
        }
    }

    #[test]
    fn unknown_chunk_encodings_and_bad_frames_are_errors() {
        assert_eq!(thanos_encoding(1).unwrap(), 0);
        assert_eq!(thanos_encoding(0).unwrap_err().kind(), ErrorKind::CorruptFrame);
        let req = request(vec![matcher(0, "__name__", "up")], |_| {});
        let mut stream = all_series(&req);
        let payload = b"\xff\xff\xff";
        let mut body = vec![payload.len() as u8];
        body.extend_from_slice(&crc32c::crc32c(payload).to_be_bytes());
        body.extend_from_slice(payload);
        let e = stream.feed(&body).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CorruptFrame);
        assert!(e.message().starts_with("next proto: unmarshal frame"), "{}", e.message());
    }

    #[test]
    fn samples_are_rechunked_by_120() {
        let labels = vec![prometheus::Label { name: "__name__".into(), value: "m".into() }];
        let samples: Vec<prometheus::Sample> =
            (0..250).map(|i| prometheus::Sample { timestamp: i * 15_000, value: i as f64 }).collect();
        let empty = prometheus::TimeSeries { labels: labels.clone(), samples: vec![] };
        let full = prometheus::TimeSeries { labels, samples };
        let response =
            prometheus::ReadResponse { results: vec![prometheus::QueryResult { timeseries: vec![empty, full] }] };
        let body = snap::raw::Encoder::new().compress_vec(&response.encode_to_vec()).unwrap();
        let req = request(vec![matcher(0, "__name__", "m")], |_| {});
        let msgs = all_series(&req).feed_samples(&body).unwrap();
        let results = decode_all(&msgs);
        assert_eq!(results.len(), 1, "the series without samples is skipped");
        let thanos::series_response::Result::Series(s) = &results[0] else { panic!() };
        let counts: Vec<usize> =
            s.chunks.iter().map(|c| chunkenc::num_samples(&c.raw.as_ref().unwrap().data).unwrap()).collect();
        assert_eq!(counts, [120, 120, 10]);
        assert_eq!((s.chunks[2].min_time, s.chunks[2].max_time), (240 * 15_000, 249 * 15_000));
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        chunkenc::decode_into(&s.chunks[1].raw.as_ref().unwrap().data, &mut ts, &mut vs).unwrap();
        assert_eq!((ts[0], vs[119]), (120 * 15_000, 239.0));
    }

    #[test]
    fn skip_chunks_series_come_from_json() {
        let req = request(vec![matcher(0, "job", "a")], |r| r.skip_chunks = true);
        let mut stream = all_series(&req);
        assert!(stream.skip_chunks());
        let params = stream.series_params();
        assert_eq!(params[0], ("match[]".to_string(), r#"{job="a"}"#.to_string()));
        let body = br#"{"status":"success","data":[{"__name__":"up","job":"a","replica":"own"}]}"#;
        let results = decode_all(&stream.feed_series_json(body).unwrap());
        let thanos::series_response::Result::Series(s) = &results[0] else { panic!() };
        assert!(s.chunks.is_empty());
        let pairs: Vec<(&str, &str)> = s.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect();
        assert_eq!(pairs, [("__name__", "up"), ("cluster", "eu1"), ("job", "a"), ("replica", "0")]);
    }

    fn names(msg: &[u8]) -> Vec<String> {
        thanos::LabelNamesResponse::decode(msg).unwrap().names
    }

    fn values(msg: &[u8]) -> Vec<String> {
        thanos::LabelValuesResponse::decode(msg).unwrap().values
    }

    #[test]
    fn label_names_add_the_external_names() {
        let req = thanos::LabelNamesRequest {
            start: 1000,
            end: 2500,
            matchers: vec![matcher(0, "cluster", "eu1"), matcher(0, "job", "a")],
            ..Default::default()
        };
        let q = LabelsQuery::label_names(&req.encode_to_vec(), ext()).unwrap();
        assert!(q.answer().is_none());
        assert_eq!(q.path(), "/api/v1/labels");
        let p: Vec<(&str, &str)> = q.params().iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(p, [("match[]", r#"{job="a"}"#), ("start", "1"), ("end", "2.5")]);
        let got = names(&q.response(br#"{"status":"success","data":["job","__name__","replica"]}"#).unwrap());
        assert_eq!(got, ["__name__", "cluster", "job", "replica"]);
        // No labels at all: no external names either.
        assert!(names(&q.response(br#"{"status":"success","data":[]}"#).unwrap()).is_empty());
        // A mismatching external label answers at once.
        let req = thanos::LabelNamesRequest { matchers: vec![matcher(0, "cluster", "us1")], ..Default::default() };
        let q = LabelsQuery::label_names(&req.encode_to_vec(), ext()).unwrap();
        assert!(names(q.answer().unwrap()).is_empty());
    }

    #[test]
    fn label_values_of_external_labels_short_cut() {
        let req = thanos::LabelValuesRequest {
            label: "cluster".into(),
            matchers: vec![matcher(0, "cluster", "nope")],
            ..Default::default()
        };
        let q = LabelsQuery::label_values(&req.encode_to_vec(), ext()).unwrap();
        assert_eq!(values(q.answer().unwrap()), ["eu1"]);
        let req = thanos::LabelValuesRequest {
            label: "replica".into(),
            without_replica_labels: vec!["replica".into()],
            ..Default::default()
        };
        assert!(values(LabelsQuery::label_values(&req.encode_to_vec(), ext()).unwrap().answer().unwrap()).is_empty());
        let req = thanos::LabelValuesRequest { label: "a/../b".into(), ..Default::default() };
        let q = LabelsQuery::label_values(&req.encode_to_vec(), ext()).unwrap();
        assert_eq!(q.path(), "/api/v1/label/a%2F..%2Fb/values");
        assert_eq!(values(&q.response(br#"{"status":"success","data":["y","x"]}"#).unwrap()), ["x", "y"]);
        let empty = thanos::LabelValuesRequest::default().encode_to_vec();
        let e = LabelsQuery::label_values(&empty, ext()).err().unwrap();
        assert_eq!((e.kind(), e.message()), (ErrorKind::BadData, "label name parameter cannot be empty"));
    }
}
