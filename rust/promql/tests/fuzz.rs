//! Random inputs for the parser and the evaluator: whatever comes in, the
//! engine answers or returns an error, never panics and never runs on past its
//! deadline.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use thanos_core::labels::Labels;
use thanos_promql::engine::{Engine, EngineOpts};
use thanos_promql::parser::parse_expr;

const TOKENS: &[&str] = &[
    "sum",
    "avg",
    "count",
    "min",
    "max",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "stddev",
    "group",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "and",
    "or",
    "unless",
    "atan2",
    "@",
    "start()",
    "end()",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "=",
    "!=",
    "=~",
    "!~",
    "==",
    "<",
    ">",
    "<=",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "rate",
    "irate",
    "increase",
    "delta",
    "deriv",
    "holt_winters",
    "predict_linear",
    "sum_over_time",
    "quantile_over_time",
    "absent",
    "absent_over_time",
    "label_replace",
    "label_join",
    "scalar",
    "vector",
    "time",
    "timestamp",
    "histogram_quantile",
    "sort",
    "round",
    "clamp",
    "abs",
    "a",
    "b",
    "le",
    "job",
    "\"x\"",
    "\"(\"",
    "'y'",
    "`z`",
    "0",
    "1",
    "-1",
    "0.5",
    "1e3",
    "0x10",
    "Inf",
    "NaN",
    "1m",
    "5m",
    "1h",
    "1ms",
    "100y",
    "#",
];

/// A small database: two metrics over 20 minutes with a stale gap.
fn engine() -> Engine {
    let opts = EngineOpts { max_samples: 200_000, timeout: Some(Duration::from_millis(500)), ..EngineOpts::default() };
    let mut e = Engine::new(opts);
    for (name, job) in [("a", "x"), ("a", "y"), ("b", "x"), ("b", "z")] {
        let labels = Labels::from_pairs([("__name__", name), ("job", job), ("le", "0.5")]);
        let ts: Vec<i64> = (0..80).map(|i| i * 15_000).collect();
        let vs: Vec<f64> = (0..80)
            .map(|i| if i == 40 { f64::from_bits(0x7ff0_0000_0000_0002) } else { (i * 7 % 13) as f64 })
            .collect();
        e.append(labels, &ts, &vs).unwrap();
    }
    e
}

/// Parses, and evaluates what parses, timing both.
fn exercise(engine: &Engine, text: &str) {
    let started = Instant::now();
    let parsed = parse_expr(text);
    assert!(started.elapsed() < Duration::from_secs(1), "parsing {text:?} took {:?}", started.elapsed());
    if parsed.is_err() {
        return;
    }
    let started = Instant::now();
    let _ = engine.query(text, 600_000);
    let _ = engine.query_range(text, 0, 1_200_000, 60_000);
    // The engine's deadline is 500 ms per query; allow for scheduling.
    assert!(started.elapsed() < Duration::from_secs(3), "evaluating {text:?} took {:?}", started.elapsed());
}

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 1..24).prop_map(|t| t.join(" "))
}

fn mutated_valid() -> impl Strategy<Value = String> {
    const VALID: &[&str] = &[
        "sum by (job) (rate(a[5m]))",
        "histogram_quantile(0.9, sum by (le) (rate(b[5m])))",
        "max_over_time(deriv(a[5m])[10m:1m] offset 1m) @ 600",
        "a / on (job) group_left b > bool 2",
        "label_replace(a, \"x\", \"$1\", \"job\", \"(.*)\")",
        "topk(2, a) or absent(b{job=\"q\"})",
        "quantile_over_time(0.3, a[1h:30s]) - holt_winters(b[10m], 0.5, 0.5)",
    ];
    (
        prop::sample::select(VALID),
        prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(TOKENS), 0u8..3), 1..4),
    )
        .prop_map(|(base, edits)| {
            let mut s = base.to_string();
            for (at, token, kind) in edits {
                let mut i = at.index(s.len() + 1);
                while !s.is_char_boundary(i) {
                    i -= 1;
                }
                match kind {
                    0 => s.insert_str(i, token),
                    1 => {
                        let end = (i + token.len()).min(s.len());
                        let end = (end..=s.len()).find(|&e| s.is_char_boundary(e)).unwrap();
                        s.replace_range(i..end, "");
                    }
                    _ => s.insert_str(i, &format!(" {token} ")),
                }
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(text in "\\PC{0,60}") {
        exercise(&engine(), &text);
    }

    #[test]
    fn token_sequences(text in token_soup()) {
        exercise(&engine(), &text);
    }

    #[test]
    fn mutations_of_valid_queries(text in mutated_valid()) {
        exercise(&engine(), &text);
    }
}

#[test]
fn huge_subqueries_stop_at_the_limits() {
    let e = engine();
    for q in ["sum_over_time(a[100y:1ms])", "rate(vector(1)[100y:1ms])", "count_over_time(vector(time())[10y:1ms])"] {
        let started = Instant::now();
        let err = e.query(q, 600_000).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "{q}: {:?}", started.elapsed());
        let msg = err.to_string();
        assert!(msg.contains("too many samples") || msg.contains("timed out"), "{q}: {msg}");
    }
}
