//! The PromQL engine of `rust/promql/src/engine`, and the querier of
//! `rust/query` in front of it: a query parsed, planned and evaluated,
//! instant and range, over a small dataset, and its result encoded as the
//! HTTP API's JSON.
//!
//! The dataset is held twice: in the engine's `MemStorage`, and as XOR chunks
//! of two identical replicas (cut at different sample counts) that the
//! querier fetches, merges, deduplicates and decodes. Both must give the same
//! JSON: the querier's data path must not change an answer.
//!
//! Every input is bounded: 31 steps at most, 50,000 samples and 100 ms.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use thanos_core::chunkenc::encode;
use thanos_core::labels::{matches_all, Labels};
use thanos_core::{ErrorKind, Result};
use thanos_promql::engine::value::QueryValue;
use thanos_promql::engine::{Engine, EngineOpts};
use thanos_promql::json::encode_data;
use thanos_query::querier::DistributedQuery;
use thanos_query::response::{ChunkRef, StoreSeries, StoreSet};
use thanos_query::select::{RequestOpts, StoreInfo};
use thanos_store::storepb::matchers_from_proto;

use super::{promql_gen, Target};
use crate::rng::Rng;

pub const TARGET: Target = Target {
    name: "promql_eval",
    run,
    generate: |rng: &mut Rng| promql_gen::query(rng).into_bytes(),
    dictionary: promql_gen::DICTIONARY,
    max_len: 1024,
};

/// Thirty minutes of 15-second scrapes: 121 samples per series.
const END: i64 = 1_800_000;
const SCRAPE: i64 = 15_000;
const STEP: i64 = 60_000;
/// Prometheus's stale marker: a NaN with this payload.
const STALE: u64 = 0x7ff0_0000_0000_0002;
const REPLICA: &str = "replica";
/// Samples per chunk of each replica: Prometheus's 120, and a smaller cut so
/// that the replicas' chunks do not line up.
const CHUNK_SAMPLES: [usize; 2] = [120, 50];

fn opts() -> EngineOpts {
    EngineOpts { max_samples: 50_000, timeout: Some(Duration::from_millis(100)), ..EngineOpts::default() }
}

struct Data {
    engine: Engine,
    /// Both replicas' series, sorted by labels, as one store answers them.
    store: Vec<StoreSeries>,
}

/// A gauge per job and instance, a counter with a reset, a gauge with NaN,
/// infinities and a stale gap, and a classic histogram's buckets.
fn series() -> Vec<(Labels, Vec<f64>)> {
    let n = (END / SCRAPE + 1) as usize;
    let mut out = Vec::new();
    let mut add = |pairs: &[(&str, &str)], f: &dyn Fn(usize) -> f64| {
        out.push((Labels::from_pairs(pairs.iter().copied()), (0..n).map(f).collect()));
    };
    for (job, instance) in [("api", "0"), ("api", "1"), ("db", "0")] {
        add(&[("__name__", "up"), ("job", job), ("instance", instance)], &|i| (i % 7 != 0) as u8 as f64);
        for (code, rate) in [("200", 10.0), ("500", 0.5)] {
            let labels = [("__name__", "http_requests_total"), ("job", job), ("instance", instance), ("code", code)];
            // A restart halfway through resets the counter.
            add(&labels, &|i| (i % 60) as f64 * rate);
        }
    }
    add(&[("__name__", "temperature"), ("job", "db")], &|i| match i % 40 {
        5 => f64::NAN,
        9 => f64::INFINITY,
        10 => f64::NEG_INFINITY,
        20..=22 => f64::from_bits(STALE),
        _ => 20.0 + (i as f64 * 0.7).sin() * 5.0,
    });
    for (le, share) in [("0.1", 0.3), ("0.5", 0.7), ("1", 0.9), ("+Inf", 1.0)] {
        let labels = [("__name__", "req_duration_seconds_bucket"), ("job", "api"), ("le", le)];
        add(&labels, &|i| (i as f64 * 4.0 * share).floor());
    }
    out
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let ts: Vec<i64> = (0..=END / SCRAPE).map(|i| i * SCRAPE).collect();
        let mut engine = Engine::new(opts());
        let mut store = Vec::new();
        for (labels, vs) in series() {
            engine.append(labels.clone(), &ts, &vs).expect("samples in order");
            for (r, per_chunk) in CHUNK_SAMPLES.into_iter().enumerate() {
                let mut b = labels.builder();
                b.set(REPLICA, format!("r{r}"));
                let chunks = ts
                    .chunks(per_chunk)
                    .zip(vs.chunks(per_chunk))
                    .map(|(t, v)| {
                        ChunkRef::raw(t[0], t[t.len() - 1], Bytes::from(encode(t, v).expect("at most 120 samples")))
                    })
                    .collect();
                store.push(StoreSeries { labels: b.build(), chunks });
            }
        }
        store.sort_by(|a, b| a.labels.cmp(&b.labels));
        Data { engine, store }
    })
}

/// The query through the querier: the store answers each select with its
/// series that match, whatever the time range (the querier cuts).
fn through_querier(q: Result<DistributedQuery>) -> Result<QueryValue> {
    let mut q = q?;
    let stores = [StoreInfo { label_sets: vec![], min_time: i64::MIN, max_time: i64::MAX }];
    let opts =
        RequestOpts { partial_response: false, skip_chunks: false, response_batch_size: 0, max_resolution_window: 0 };
    for call in q.calls(&stores, opts) {
        let matchers = matchers_from_proto(&call.request.matchers)?;
        let series = data().store.iter().filter(|s| matches_all(&matchers, &s.labels)).cloned().collect();
        q.add_answer(call.select, StoreSet { series, warnings: vec![] });
    }
    q.exec(&[REPLICA.to_string()], None).map(|(v, _, _)| v)
}

/// Both answers must be the same JSON, or the same error. A timeout is
/// left out: whether 100 ms suffice depends on the machine's load.
fn compare(query: &str, kind: &str, engine: Result<QueryValue>, querier: Result<QueryValue>) {
    let timed_out = |r: &Result<QueryValue>| r.as_ref().is_err_and(|e| e.kind() == ErrorKind::Timeout);
    if timed_out(&engine) || timed_out(&querier) {
        return;
    }
    let json = |r: Result<QueryValue>| r.map(|v| String::from_utf8_lossy(&encode_data(&v)).into_owned());
    let (a, b) = (json(engine), json(querier));
    let (a, b) = (a.map_err(|e| e.to_string()), b.map_err(|e| e.to_string()));
    assert_eq!(a, b, "{kind} query {query:?}: the engine's answer (left) and the querier's differ");
}

fn run(input: &[u8]) {
    let Ok(query) = std::str::from_utf8(input) else {
        return;
    };
    let d = data();
    let t = END / 2;
    // The replica label is the querier's to strip: a query naming it sees the
    // replicas in the store but nothing in the engine, so it is not compared.
    let compared = !query.contains(REPLICA);
    let engine = d.engine.query(query, t);
    if compared {
        let querier = through_querier(DistributedQuery::instant(opts(), query, t, Labels::new()));
        compare(query, "instant", engine, querier);
    }
    let engine = d.engine.query_range(query, 0, END, STEP);
    if compared {
        let querier = through_querier(DistributedQuery::range(opts(), query, 0, END, STEP, Labels::new()));
        compare(query, "range", engine, querier);
    }
}
