//! Queries as deep as their text makes them: the parser, the type checks, the
//! planner, the evaluator and the tree's drop run on a small thread stack
//! without overflowing, up to the depth limit, and past it answer an error.

use thanos_core::labels::Labels;
use thanos_core::ErrorKind;
use thanos_promql::engine::value::QueryValue;
use thanos_promql::engine::{Engine, EngineOpts};
use thanos_promql::parser::{parse_expr, MAX_DEPTH};

/// Much less than the 8 MiB of a main thread: without stack-safe recursion a
/// few thousand levels of evaluation would not fit.
const SMALL_STACK: usize = 256 * 1024;

fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new().stack_size(SMALL_STACK).spawn(f).unwrap().join().unwrap()
}

fn engine() -> Engine {
    let mut e = Engine::new(EngineOpts::default());
    let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
    e.append(labels, &[0, 60_000], &[1.0, 1.0]).unwrap();
    e
}

fn chain(operand: &str, op: &str, n: usize) -> String {
    vec![operand; n].join(op)
}

#[test]
fn a_chain_of_nine_thousand_operands_evaluates_as_in_prometheus() {
    let v = on_small_stack(|| engine().query(&chain("1", "+", 9000), 60_000).unwrap());
    assert!(matches!(v, QueryValue::Scalar { v, .. } if v == 9000.0));
    let v = on_small_stack(|| engine().query(&chain("up", " or ", 9000), 60_000).unwrap());
    assert!(matches!(v, QueryValue::Vector(s) if s.len() == 1));
    // Right-deep and nested forms go through the parser's recursion instead.
    let v = on_small_stack(|| engine().query(&chain("1", "^", 9000), 60_000).unwrap());
    assert!(matches!(v, QueryValue::Scalar { v, .. } if v == 1.0));
    let calls = format!("{}up{}", "abs(".repeat(3000), ")".repeat(3000));
    let v = on_small_stack(move || engine().query_range(&calls, 0, 60_000, 15_000).unwrap());
    assert!(matches!(v, QueryValue::Matrix(m) if m.len() == 1 && m[0].points.len() == 5));
    let nested = format!("{}up{}", "(".repeat(5000), ")".repeat(5000));
    let v = on_small_stack(move || engine().query_range(&nested, 0, 60_000, 15_000).unwrap());
    assert!(matches!(v, QueryValue::Matrix(m) if m.len() == 1 && m[0].points.len() == 5));
}

#[test]
fn deeper_than_the_limit_is_a_parse_error_not_a_crash() {
    for q in [
        chain("1", "+", MAX_DEPTH + 2),
        chain("1", "^", MAX_DEPTH + 2),
        format!("{}1{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1)),
        format!("{}{}", "-".repeat(MAX_DEPTH + 1), "1"),
        // A tree built and then refused, and one abandoned half way: both
        // are dropped without recursion.
        chain("up", " or ", 200_000),
        chain("1", "+", 200_000) + "+",
    ] {
        let e = on_small_stack(move || parse_expr(&q).unwrap_err());
        assert!(e.to_string().contains("levels deep") || e.to_string().contains("unexpected"), "{e}");
    }
    let err = on_small_stack(|| engine().query(&chain("1", "+", MAX_DEPTH + 2), 0).unwrap_err());
    assert_eq!(err.kind(), ErrorKind::BadData);
}
