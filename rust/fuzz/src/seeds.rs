//! `thanos-fuzz seeds`: writes the seed corpus, `tests/fuzz/corpus/<target>/`,
//! from the project's recorded data, so that it can be regenerated and
//! reviewed rather than being opaque bytes:
//!
//! - chunkenc: chunks of Prometheus 2.42 (the counter, gauge and constant of
//!   `tests/testdata/anchors`, the special values of the golden remote read),
//!   alone and seventeen together;
//! - frames: the golden remote-read body of Prometheus 2.42, its first frame,
//!   and the same series as a SAMPLES response;
//! - store_request: requests as Thanos queriers send them;
//! - promql_parse, promql_eval: the queries of Prometheus's test scripts
//!   (`tests/testdata/promql`), one in four.
//!
//! Files written by the fuzzer for bugs it found (`regression-*`) are kept.

use std::io;
use std::path::Path;

use prost::Message;
use thanos_core::chunkenc::decode_into;
use thanos_store::pb::prometheus::{self, ChunkedReadResponse};
use thanos_store::pb::thanos::{self, LabelMatcher, LabelNamesRequest, LabelValuesRequest, QueryHints, SeriesRequest};
use thanos_store::remote::{ChunkedReader, DEFAULT_CHUNKED_READ_LIMIT};

use crate::targets::chunkenc;

/// Every k-th query of the test scripts: a few hundred would mostly repeat
/// the same shapes, and the corpus is kept small.
const QUERY_STRIDE: usize = 4;

pub fn write_all(root: &Path, corpus: &Path) -> io::Result<()> {
    let anchors = std::fs::read(root.join("tests/testdata/anchors/prom242-xor-chunks.bin"))?;
    let golden = std::fs::read(root.join("tests/testdata/golden/prom242-remote-read.frames"))?;
    let frames = golden_frames(&golden);

    let w = Writer { dir: corpus.join("chunkenc") };
    w.clear()?;
    let anchor: Vec<Vec<u8>> = anchor_chunks(&anchors);
    for (name, i) in [("counter", 0), ("gauge", 1000), ("constant", 2000)] {
        w.put(&format!("prom242-{name}"), &chunkenc::join(&[anchor[i].clone()]))?;
    }
    let golden_chunks: Vec<Vec<u8>> = frames
        .iter()
        .flat_map(|f| f.chunked_series.iter().flat_map(|s| s.chunks.iter().map(|c| c.data.to_vec())))
        .collect();
    for (i, c) in golden_chunks.iter().take(4).enumerate() {
        w.put(&format!("prom242-golden-{i}"), &chunkenc::join(std::slice::from_ref(c)))?;
    }
    // Seventeen chunks: a group of sixteen for the AVX-512 kernel and one more.
    let mixed: Vec<Vec<u8>> = (0..17).map(|i| anchor[(i * 177) % anchor.len()].clone()).collect();
    w.put("prom242-seventeen", &chunkenc::join(&mixed))?;
    for n in [0usize, 1, 2, 3] {
        let ts: Vec<i64> = (0..n as i64).map(|i| i * 15_000).collect();
        let vs: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let c = thanos_core::chunkenc::encode(&ts, &vs).expect("a few samples");
        w.put(&format!("samples-{n}"), &chunkenc::join(&[c]))?;
    }

    let w = Writer { dir: corpus.join("frames") };
    w.clear()?;
    w.put("prom242-remote-read", &golden)?;
    let first_len = first_frame_len(&golden);
    w.put("prom242-first-frame", &golden[..first_len])?;
    w.put("prom242-as-samples", &samples_body(&frames))?;

    let w = Writer { dir: corpus.join("store_request") };
    w.clear()?;
    for (name, req) in requests() {
        w.put(name, &req)?;
    }

    let queries = test_queries(&root.join("tests/testdata/promql"))?;
    for target in ["promql_parse", "promql_eval"] {
        let w = Writer { dir: corpus.join(target) };
        w.clear()?;
        for (i, q) in queries.iter().enumerate().step_by(QUERY_STRIDE) {
            w.put(&format!("prom242-test-{i:03}"), q.as_bytes())?;
        }
    }
    Ok(())
}

struct Writer {
    dir: std::path::PathBuf,
}

impl Writer {
    /// Removes the seeds written before, keeping the regression inputs.
    fn clear(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        for e in std::fs::read_dir(&self.dir)? {
            let path = e?.path();
            let keep = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("regression-"));
            if !keep {
                std::fs::remove_file(path)?;
            }
        }
        Ok(())
    }

    fn put(&self, name: &str, data: &[u8]) -> io::Result<()> {
        std::fs::write(self.dir.join(format!("seed-{name}")), data)
    }
}

/// The anchor file: a big-endian u32 length before each chunk.
fn anchor_chunks(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 4 {
        let n = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        out.push(rest[4..4 + n].to_vec());
        rest = &rest[4 + n..];
    }
    out
}

fn golden_frames(body: &[u8]) -> Vec<ChunkedReadResponse> {
    let mut r = ChunkedReader::new(DEFAULT_CHUNKED_READ_LIMIT);
    r.push(body);
    let mut out = Vec::new();
    while let Some(p) = r.next_frame().expect("the golden body reads") {
        out.push(ChunkedReadResponse::decode(p).expect("golden frames decode"));
    }
    out
}

fn first_frame_len(body: &[u8]) -> usize {
    let mut r = ChunkedReader::new(DEFAULT_CHUNKED_READ_LIMIT);
    r.push(body);
    let payload = r.next_frame().expect("the golden body reads").expect("a first frame");
    // Its length varint, its CRC and the payload.
    crate::mutate::varint(payload.len() as u64).len() + 4 + payload.len()
}

/// The golden series as the older SAMPLES response: decoded, one query result.
fn samples_body(frames: &[ChunkedReadResponse]) -> Vec<u8> {
    let timeseries = frames
        .iter()
        .flat_map(|f| &f.chunked_series)
        .map(|s| {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            for c in &s.chunks {
                decode_into(&c.data, &mut ts, &mut vs).expect("golden chunks decode");
            }
            let samples = ts.iter().zip(&vs).map(|(&timestamp, &value)| prometheus::Sample { value, timestamp });
            prometheus::TimeSeries { labels: s.labels.clone(), samples: samples.take(50).collect() }
        })
        .collect();
    let response = prometheus::ReadResponse { results: vec![prometheus::QueryResult { timeseries }] };
    snap::raw::Encoder::new().compress_vec(&response.encode_to_vec()).expect("snappy takes any input up to 4 GiB")
}

fn matcher(t: i32, name: &str, value: &str) -> LabelMatcher {
    LabelMatcher { r#type: t, name: name.into(), value: value.into() }
}

/// Requests shaped like a Thanos v0.26 querier's (and a newer one's batches
/// and replica labels).
fn requests() -> Vec<(&'static str, Vec<u8>)> {
    let rate = SeriesRequest {
        min_time: 1_700_000_000_000,
        max_time: 1_700_003_600_000,
        matchers: vec![matcher(0, "__name__", "http_requests_total"), matcher(2, "job", "api|db")],
        max_resolution_window: 0,
        partial_response_strategy: 0,
        query_hints: Some(QueryHints {
            step_millis: 60_000,
            func: Some(thanos::Func { name: "rate".into() }),
            grouping: None,
            range: Some(thanos::Range { millis: 300_000 }),
        }),
        ..Default::default()
    };
    let batched = SeriesRequest {
        matchers: vec![matcher(0, "__name__", "up"), matcher(0, "cluster", "eu")],
        without_replica_labels: vec!["replica".into()],
        response_batch_size: 256,
        ..rate.clone()
    };
    let skip = SeriesRequest {
        min_time: 0,
        max_time: i64::MAX,
        matchers: vec![matcher(3, "job", ""), matcher(1, "__name__", "")],
        skip_chunks: true,
        partial_response_disabled: true,
        ..Default::default()
    };
    let names = LabelNamesRequest {
        start: 1_700_000_000_000,
        end: 1_700_003_600_000,
        matchers: vec![matcher(0, "job", "api")],
        ..Default::default()
    };
    let values = LabelValuesRequest {
        label: "instance".into(),
        start: 1_700_000_000_000,
        end: 1_700_003_600_000,
        matchers: vec![matcher(2, "__name__", "up|http_.*")],
        without_replica_labels: vec!["replica".into()],
        ..Default::default()
    };
    let external = LabelValuesRequest { label: "cluster".into(), ..values.clone() };
    vec![
        ("series-rate", rate.encode_to_vec()),
        ("series-batched", batched.encode_to_vec()),
        ("series-skip-chunks", skip.encode_to_vec()),
        ("label-names", names.encode_to_vec()),
        ("label-values", values.encode_to_vec()),
        ("label-values-external", external.encode_to_vec()),
    ]
}

/// The expressions of the `eval` lines: `eval[_fail|_ordered] instant at <t> <expr>`.
fn test_queries(dir: &Path) -> io::Result<Vec<String>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "test"));
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(f)?.lines() {
            if !line.starts_with("eval") {
                continue;
            }
            let mut parts = line.splitn(5, ' ');
            if let (Some(_), Some(_), Some("at"), Some(_), Some(expr)) =
                (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
            {
                if !out.iter().any(|q| q == expr) {
                    out.push(expr.to_string());
                }
            }
        }
    }
    Ok(out)
}
