//! The StoreAPI of a sidecar in front of one Prometheus (`pkg/store/prometheus.go`
//! at v0.26.0, with the `response_batch_size` and `without_replica_labels` of
//! Thanos main). Python does the I/O; this module decides what to ask
//! Prometheus and turns its answers into ready-to-send StoreAPI messages.
//!
//! A `Series` call becomes a remote read: [`SeriesStream`] decodes the request,
//! checks the external-label matchers, builds the read request and then, fed the
//! response body piece by piece, yields encoded `SeriesResponse`s. Chunk bytes
//! are passed through unchanged.

use bytes::Bytes;
use prost::Message;
use thanos_core::chunkenc;
use thanos_core::labels::{matches_external_labels, Labels, Matcher};
use thanos_core::{bail, Error, ErrorKind, Result};

use crate::labelpb;
use crate::pb::{prometheus, thanos};
use crate::promclient;
use crate::remote::{self, ChunkedReader, DEFAULT_CHUNKED_READ_LIMIT};
use crate::storepb;

/// Samples per chunk when re-encoding a SAMPLES response: Thanos's
/// `MaxSamplesPerChunk`, the size Prometheus's head cuts its chunks at.
pub const MAX_SAMPLES_PER_CHUNK: usize = 120;

fn decode<M: Message + Default>(what: &str, request: &[u8]) -> Result<M> {
    M::decode(request).map_err(|e| Error::new(ErrorKind::BadData, format!("unmarshal {what}: {e}")))
}

/// The first time the sidecar serves: Thanos v0.26 raises a request's min time
/// to it, keeping the step grid of the query hints when there are any.
fn clamp_min_time(min_time: i64, available: i64, hints: Option<&thanos::QueryHints>) -> i64 {
    if min_time >= available {
        return min_time;
    }
    let step = hints.map_or(0, |h| h.step_millis);
    if step <= 0 {
        return available;
    }
    // In i128: `available - min_time` spans up to the whole int64 range.
    let (min, avail, step) = (i128::from(min_time), i128::from(available), i128::from(step));
    let mut aligned = min + (avail - min) / step * step;
    if aligned != avail {
        aligned += step;
    }
    aligned.min(i128::from(i64::MAX)) as i64
}

/// The most series a batch reserves room for up front.
const BATCH_PREALLOCATION: usize = 1024;

/// Collects series into messages: one `SeriesResponse{series}` each (what a
/// v0.26 querier understands), or `SeriesResponse{batch}` of up to
/// `response_batch_size` series when a newer querier asks for it. A batch size
/// of 1 sends plain series, as Thanos main does. Any size is legal (an int64
/// in the request): past what it pre-allocates, a batch grows as series come,
/// so a huge size means everything in one message, never an allocation of
/// the size asked (Thanos main's batchableServer makes a slice of that
/// capacity up front, which panics on 2^62).
struct Batcher {
    size: usize,
    pending: Vec<thanos::Series>,
}

impl Batcher {
    fn new(size: i64) -> Self {
        let size = usize::try_from(size).unwrap_or(0);
        Batcher { size, pending: Vec::new() }
    }

    fn push(&mut self, series: thanos::Series, out: &mut Vec<Vec<u8>>) {
        if self.size <= 1 {
            let msg = thanos::SeriesResponse { result: Some(thanos::series_response::Result::Series(series)) };
            out.push(msg.encode_to_vec());
            return;
        }
        self.pending.push(series);
        if self.pending.len() >= self.size {
            self.flush(out);
        }
    }

    fn flush(&mut self, out: &mut Vec<Vec<u8>>) {
        if self.pending.is_empty() {
            return;
        }
        let series = std::mem::replace(&mut self.pending, Vec::with_capacity(self.size.min(BATCH_PREALLOCATION)));
        let batch = thanos::SeriesBatch { series };
        let msg = thanos::SeriesResponse { result: Some(thanos::series_response::Result::Batch(batch)) };
        out.push(msg.encode_to_vec());
    }
}

/// Prometheus numbers chunk encodings from UNKNOWN=0 (XOR=1, HISTOGRAM=2,
/// FLOAT_HISTOGRAM=3); the StoreAPI from XOR=0. Later Prometheus encodings have
/// no StoreAPI counterpart and cannot be served.
fn thanos_encoding(prometheus_type: i32) -> Result<i32> {
    match prometheus_type {
        1..=3 => Ok(prometheus_type - 1),
        other => bail!(CorruptFrame, "remote read sent a chunk of encoding {other}, which the StoreAPI cannot carry"),
    }
}

/// One `Series` call, from the request to the last message.
pub struct SeriesStream {
    external: Labels,
    without: Vec<String>,
    /// `None` when an external-label matcher fails: the answer is empty.
    matchers: Option<Vec<Matcher>>,
    min_time: i64,
    max_time: i64,
    skip_chunks: bool,
    batcher: Batcher,
    reader: ChunkedReader,
    frames: u64,
}

impl SeriesStream {
    /// Decodes a `thanos.SeriesRequest`. `min_time` is the earliest time the
    /// sidecar serves. Fails with `BadData` on a malformed request, an invalid
    /// matcher, or when no matcher is left once the external labels are taken out.
    pub fn new(request: &[u8], external: Labels, min_time: i64) -> Result<Self> {
        let req: thanos::SeriesRequest = decode("SeriesRequest", request)?;
        let matchers = matches_external_labels(&storepb::matchers_from_proto(&req.matchers)?, &external);
        if matchers.as_ref().is_some_and(|m| m.is_empty()) {
            bail!(BadData, "no matchers specified (excluding external labels)");
        }
        Ok(SeriesStream {
            external,
            without: req.without_replica_labels,
            matchers,
            min_time: clamp_min_time(req.min_time, min_time, req.query_hints.as_ref()),
            max_time: req.max_time,
            skip_chunks: req.skip_chunks,
            batcher: Batcher::new(req.response_batch_size),
            reader: ChunkedReader::new(DEFAULT_CHUNKED_READ_LIMIT),
            frames: 0,
        })
    }

    /// False when the external labels rule this Prometheus out.
    pub fn matches(&self) -> bool {
        self.matchers.is_some()
    }

    /// True when only labels are wanted: answered from `/api/v1/series`.
    pub fn skip_chunks(&self) -> bool {
        self.skip_chunks
    }

    /// The time range asked of Prometheus, after clamping.
    pub fn time_range(&self) -> (i64, i64) {
        (self.min_time, self.max_time)
    }

    /// Frames read so far from a streamed response.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    fn remaining_matchers(&self) -> &[Matcher] {
        self.matchers.as_deref().unwrap_or_default()
    }

    /// The snappy body of `POST /api/v1/read`.
    pub fn read_request(&self) -> Vec<u8> {
        let matchers = self.remaining_matchers().iter().map(storepb::to_prometheus).collect();
        remote::encode_read_request(self.min_time, self.max_time, matchers)
    }

    /// The query parameters of `GET /api/v1/series` for `skip_chunks`.
    pub fn series_params(&self) -> Vec<(String, String)> {
        vec![
            ("match[]".to_string(), storepb::selector(self.remaining_matchers())),
            ("start".to_string(), promclient::format_time(self.min_time)),
            ("end".to_string(), promclient::format_time(self.max_time)),
        ]
    }

    fn series(&self, labels: Vec<prometheus::Label>, chunks: Vec<thanos::AggrChunk>) -> thanos::Series {
        thanos::Series { labels: labelpb::extend_sorted(labels, &self.external, &self.without), chunks }
    }

    /// Takes the next piece of a streamed (`STREAMED_XOR_CHUNKS`) body and
    /// returns the messages of the frames it completes.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.reader.push(data);
        let mut out = Vec::new();
        while let Some(payload) = self.reader.next_frame()? {
            self.frames += 1;
            self.convert_frame(payload, &mut out)?;
        }
        Ok(out)
    }

    fn convert_frame(&mut self, payload: Bytes, out: &mut Vec<Vec<u8>>) -> Result<()> {
        let frame = prometheus::ChunkedReadResponse::decode(payload)
            .map_err(|e| Error::new(ErrorKind::CorruptFrame, format!("next proto: unmarshal frame: {e}")))?;
        // A frame carries one series, or one time slice of a long series; the
        // slices go out as they come and the querier joins them.
        for s in frame.chunked_series {
            let chunks = s
                .chunks
                .into_iter()
                .map(|c| {
                    let raw = thanos::Chunk { r#type: thanos_encoding(c.r#type)?, data: c.data, hash: 0 };
                    Ok(thanos::AggrChunk {
                        min_time: c.min_time_ms,
                        max_time: c.max_time_ms,
                        raw: Some(raw),
                        ..Default::default()
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let series = self.series(s.labels, chunks);
            self.batcher.push(series, out);
        }
        Ok(())
    }

    /// Ends the stream: checks that the body ended between frames and sends
    /// what is left of a batch.
    pub fn finish(&mut self) -> Result<Vec<Vec<u8>>> {
        self.reader.finish()?;
        let mut out = Vec::new();
        self.batcher.flush(&mut out);
        Ok(out)
    }

    /// Converts a whole SAMPLES response (what Prometheus before 2.13 answers):
    /// the samples of each series are re-encoded into XOR chunks of at most
    /// [`MAX_SAMPLES_PER_CHUNK`]. Series without samples are left out, as
    /// Thanos does (thanos-io/thanos#381).
    pub fn feed_samples(&mut self, body: &[u8]) -> Result<Vec<Vec<u8>>> {
        let response = remote::decode_read_response(body)?;
        let mut out = Vec::new();
        for ts in response.results.into_iter().flat_map(|r| r.timeseries) {
            let mut chunks = Vec::with_capacity(ts.samples.len().div_ceil(MAX_SAMPLES_PER_CHUNK));
            for part in ts.samples.chunks(MAX_SAMPLES_PER_CHUNK) {
                let times: Vec<i64> = part.iter().map(|s| s.timestamp).collect();
                let values: Vec<f64> = part.iter().map(|s| s.value).collect();
                let raw = thanos::Chunk {
                    r#type: thanos::chunk::Encoding::Xor as i32,
                    data: chunkenc::encode(&times, &values)?.into(),
                    hash: 0,
                };
                chunks.push(thanos::AggrChunk {
                    min_time: times[0],
                    max_time: times[times.len() - 1],
                    raw: Some(raw),
                    ..Default::default()
                });
            }
            if !chunks.is_empty() {
                let series = self.series(ts.labels, chunks);
                self.batcher.push(series, &mut out);
            }
        }
        self.batcher.flush(&mut out);
        Ok(out)
    }

    /// Converts the JSON answer of `/api/v1/series` for `skip_chunks`: labels only.
    pub fn feed_series_json(&mut self, body: &[u8]) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for labels in promclient::parse_series(body)? {
            let series = self.series(labels, Vec::new());
            self.batcher.push(series, &mut out);
        }
        self.batcher.flush(&mut out);
        Ok(out)
    }
}

/// Which label call a [`LabelsQuery`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelsMethod {
    Names,
    Values,
}

/// One `LabelNames` or `LabelValues` call: either answered at once (an
/// external-label matcher fails, or the values of an external label are asked
/// for) or by one GET on Prometheus's label API.
pub struct LabelsQuery {
    method: LabelsMethod,
    external: Labels,
    without: Vec<String>,
    answer: Option<Vec<u8>>,
    path: String,
    params: Vec<(String, String)>,
}

impl LabelsQuery {
    /// Decodes a `thanos.LabelNamesRequest`.
    pub fn label_names(request: &[u8], external: Labels) -> Result<Self> {
        let req: thanos::LabelNamesRequest = decode("LabelNamesRequest", request)?;
        let mut q = LabelsQuery::new(LabelsMethod::Names, external, req.without_replica_labels);
        q.plan("/api/v1/labels".to_string(), &req.matchers, req.start, req.end)?;
        Ok(q)
    }

    /// Decodes a `thanos.LabelValuesRequest`.
    pub fn label_values(request: &[u8], external: Labels) -> Result<Self> {
        let req: thanos::LabelValuesRequest = decode("LabelValuesRequest", request)?;
        if req.label.is_empty() {
            bail!(BadData, "label name parameter cannot be empty");
        }
        let mut q = LabelsQuery::new(LabelsMethod::Values, external, req.without_replica_labels);
        if q.without.contains(&req.label) {
            // The querier strips this label from every series: it has no values.
            q.answer = Some(q.encode(Vec::new()));
        } else if q.external.has(&req.label) {
            // An external label has one value on every series of this sidecar,
            // whatever the matchers and time range.
            q.answer = Some(q.encode(vec![q.external.get(&req.label).to_string()]));
        } else {
            let path = format!("/api/v1/label/{}/values", escape_path_segment(&req.label));
            q.plan(path, &req.matchers, req.start, req.end)?;
        }
        Ok(q)
    }

    fn new(method: LabelsMethod, external: Labels, without: Vec<String>) -> Self {
        LabelsQuery { method, external, without, answer: None, path: String::new(), params: Vec::new() }
    }

    fn plan(&mut self, path: String, matchers: &[thanos::LabelMatcher], start: i64, end: i64) -> Result<()> {
        match matches_external_labels(&storepb::matchers_from_proto(matchers)?, &self.external) {
            None => self.answer = Some(self.encode(Vec::new())),
            Some(rest) => {
                self.path = path;
                if !rest.is_empty() {
                    self.params.push(("match[]".to_string(), storepb::selector(&rest)));
                }
                self.params.push(("start".to_string(), promclient::format_time(start)));
                self.params.push(("end".to_string(), promclient::format_time(end)));
            }
        }
        Ok(())
    }

    /// The encoded response when Prometheus need not be asked.
    pub fn answer(&self) -> Option<&[u8]> {
        self.answer.as_deref()
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
        let mut strings = promclient::parse_strings(body)?;
        // Series carry the external labels too, so their names are known labels
        // whenever there is any series at all.
        if self.method == LabelsMethod::Names && !strings.is_empty() {
            strings.extend(self.external.iter().map(|l| l.name.clone()));
        }
        strings.retain(|s| !self.without.contains(s));
        strings.sort_unstable();
        strings.dedup();
        Ok(self.encode(strings))
    }

    fn encode(&self, strings: Vec<String>) -> Vec<u8> {
        match self.method {
            LabelsMethod::Names => thanos::LabelNamesResponse { names: strings, ..Default::default() }.encode_to_vec(),
            LabelsMethod::Values => {
                thanos::LabelValuesResponse { values: strings, ..Default::default() }.encode_to_vec()
            }
        }
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
    use super::*;

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

    fn decode_all(msgs: &[Vec<u8>]) -> Vec<thanos::series_response::Result> {
        msgs.iter().map(|m| thanos::SeriesResponse::decode(m.as_slice()).unwrap().result.unwrap()).collect()
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
    fn min_time_is_clamped_on_the_step_grid() {
        assert_eq!(clamp_min_time(100, 50, None), 100);
        assert_eq!(clamp_min_time(0, 50, None), 50);
        let hints = thanos::QueryHints { step_millis: 30, ..Default::default() };
        assert_eq!(clamp_min_time(0, 50, Some(&hints)), 60);
        assert_eq!(clamp_min_time(20, 50, Some(&hints)), 50);
        assert_eq!(clamp_min_time(i64::MIN, i64::MAX, Some(&hints)), i64::MAX);
        let req = request(vec![matcher(0, "__name__", "up")], |r| r.min_time = -10);
        assert_eq!(SeriesStream::new(&req, ext(), 7).unwrap().time_range(), (7, i64::MAX));
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
