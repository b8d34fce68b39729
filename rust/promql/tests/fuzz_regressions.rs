//! Queries the fuzzer (`rust/fuzz`, target `promql_eval`) found crashing the
//! engine, each with the answer it must give now. Their inputs are also in
//! `tests/fuzz/corpus/promql_eval/regression-*`.

use std::time::Duration;

use thanos_core::labels::Labels;
use thanos_core::ErrorKind;
use thanos_promql::engine::value::QueryValue;
use thanos_promql::engine::{Engine, EngineOpts};

fn engine() -> Engine {
    let opts = EngineOpts { max_samples: 50_000, timeout: Some(Duration::from_secs(10)), ..EngineOpts::default() };
    let mut e = Engine::new(opts);
    let ts: Vec<i64> = (0..=120).map(|i| i * 15_000).collect();
    let vs: Vec<f64> = ts.iter().map(|&t| (t / 15_000 % 2) as f64).collect();
    e.append(Labels::from_pairs([("__name__", "up"), ("job", "api")]), &ts, &vs).unwrap();
    e
}

fn too_many_samples(query: &str) {
    let err = engine().query(query, 900_000).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Execution, "{query}: {err}");
    assert!(err.message().contains("too many samples"), "{query}: {err}");
}

#[test]
fn round_without_a_step_argument_allocates_nothing_per_step() {
    // A vector of 1s over the 3.2 trillion steps of the subquery: 25 TB
    // asked for, and the process aborted. Nothing to round is nothing.
    let v = engine().query("round(missing)[100y:1ms]", 900_000).unwrap();
    assert!(matches!(&v, QueryValue::Matrix(m) if m.is_empty()), "{v:?}");
    let v = engine().query("round(up * 2.4)[1m:15s]", 900_000).unwrap();
    let QueryValue::Matrix(m) = v else { panic!("{v:?}") };
    assert_eq!(m[0].points.iter().map(|p| p.v).collect::<Vec<_>>(), [0.0, 2.0, 0.0, 2.0, 0.0]);
}

#[test]
fn absent_over_time_counts_its_points_before_making_them() {
    // One point per empty step: 3.2 trillion of them, and 66 million in
    // the second query, asked for at once.
    too_many_samples("absent_over_time(missing[1m])[100y:1ms]");
    too_many_samples("absent_over_time(up[1h:1h])[999999999999ms:15s] offset 5m @ -1");
    let v = engine().query("absent_over_time(up[1m])[2m:15s]", 900_000).unwrap();
    let QueryValue::Matrix(m) = v else { panic!("{v:?}") };
    assert!(m.is_empty(), "{m:?}");
    let v = engine().query("absent_over_time(up{job=\"db\"}[1m])[1m:30s]", 900_000).unwrap();
    let QueryValue::Matrix(m) = v else { panic!("{v:?}") };
    assert_eq!(m[0].labels.to_string(), r#"{job="db"}"#);
    assert_eq!(m[0].points.iter().map(|p| p.t).collect::<Vec<_>>(), [840_000, 870_000, 900_000]);
}

#[test]
fn subquery_steps_near_the_end_of_int64_wrap_as_in_go() {
    // `@` 1e17 s is int64's end: the subquery's first step overflowed
    // (a panic in debug builds; release builds wrapped, as Go does).
    let v = engine().query(r#"(-atanh(absent_over_time(up{le!~"0.1"} @ -1[15s:] @ 1e17)))"#, 900_000);
    assert!(v.is_ok(), "{v:?}");
}

#[test]
fn selector_bounds_near_the_ends_of_int64_wrap_as_in_go() {
    // `@` at int64's ends, alone or with an offset, a range or the lookback
    // past them: planning and reading the selector's time range overflowed
    // (a panic in debug builds). Prometheus computes the same bounds in
    // wrapping int64, and finds no data there.
    for query in [
        "up @ 9223372036854775 offset -292y",
        "up @ -9223372036854775",
        "rate(up[5m] @ -9223372036854775)",
        "up[1m:1m] @ -9223372036854775",
        "up @ -9223372036854775 offset 292y",
        "timestamp(up @ -9223372036854775 offset 292y)",
        "up[5m] @ -9223372036854775 offset 292y",
        "rate(up[292y] @ -9223372036854775)",
        "up[292y:1m] @ -9223372036854775 offset 292y",
        "max_over_time(up[1m:1m] @ 9223372036854775 offset -292y)",
    ] {
        for v in [engine().query(query, 900_000), engine().query_range(query, 0, 900_000, 60_000)] {
            match v {
                Ok(QueryValue::Vector(v)) => assert!(v.is_empty(), "{query}: {v:?}"),
                Ok(QueryValue::Matrix(m)) => assert!(m.iter().all(|s| s.points.is_empty()), "{query}: {m:?}"),
                // A range query refuses a range selector as its expression.
                Err(e) => assert_eq!(e.kind(), ErrorKind::BadData, "{query}: {e}"),
                Ok(other) => panic!("{query}: {other:?}"),
            }
        }
    }
}
