//! The PromQL engine of `rust/promql/src/engine`: a query parsed, planned and
//! evaluated, instant and range, over a small in-memory dataset, and its
//! result encoded as the HTTP API's JSON.
//!
//! Every input is bounded: 31 steps at most, 50,000 samples and 100 ms. A
//! query over the limits must fail with an error, not run on.

use std::sync::OnceLock;
use std::time::Duration;

use thanos_core::labels::Labels;
use thanos_promql::engine::{Engine, EngineOpts};
use thanos_promql::json::encode_data;

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
/// Prometheus's stale marker: a NaN with this payload.
const STALE: u64 = 0x7ff0_0000_0000_0002;

fn opts() -> EngineOpts {
    EngineOpts { max_samples: 50_000, timeout: Some(Duration::from_millis(100)), ..EngineOpts::default() }
}

/// The dataset, built once: a gauge per job and instance, a counter with a
/// reset, a gauge with NaN, infinities and a stale gap, and a classic
/// histogram's buckets.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut e = Engine::new(opts());
        let ts: Vec<i64> = (0..=END / SCRAPE).map(|i| i * SCRAPE).collect();
        let mut add = |pairs: &[(&str, &str)], f: &dyn Fn(usize) -> f64| {
            let vs: Vec<f64> = (0..ts.len()).map(f).collect();
            e.append(Labels::from_pairs(pairs.iter().copied()), &ts, &vs).expect("samples in order");
        };
        for (job, instance) in [("api", "0"), ("api", "1"), ("db", "0")] {
            add(&[("__name__", "up"), ("job", job), ("instance", instance)], &|i| (i % 7 != 0) as u8 as f64);
            for code in ["200", "500"] {
                add(
                    &[("__name__", "http_requests_total"), ("job", job), ("instance", instance), ("code", code)],
                    &|i| {
                        // A restart halfway through resets the counter.
                        (i % 60) as f64 * if code == "200" { 10.0 } else { 0.5 }
                    },
                );
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
            add(&[("__name__", "req_duration_seconds_bucket"), ("job", "api"), ("le", le)], &|i| {
                (i as f64 * 4.0 * share).floor()
            });
        }
        e
    })
}

fn run(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let e = engine();
    if let Ok(v) = e.query(query, END / 2) {
        encode_data(&v);
    }
    if let Ok(v) = e.query_range(query, 0, END, 60_000) {
        encode_data(&v);
    }
}
