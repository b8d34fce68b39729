//! The PromQL parser of `rust/promql/src/parser`: lexer, parser and type
//! checks, and the printer. A query that parses must print as a query that
//! parses again, to the same type. Not necessarily to the same text: like
//! Prometheus 2.42's, the printer writes `+Inf` for infinity, so `-Inf ^ 2`
//! prints as `-+Inf ^ 2`, which parses as a unary plus more.

use thanos_promql::parser::{parse_expr, parse_metric_selector};

use super::{promql_gen, Target};
use crate::rng::Rng;

pub const TARGET: Target = Target {
    name: "promql_parse",
    run,
    generate: |rng: &mut Rng| promql_gen::query(rng).into_bytes(),
    dictionary: promql_gen::DICTIONARY,
    max_len: 2048,
};

fn run(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_metric_selector(query);
    let Ok(expr) = parse_expr(query) else {
        return;
    };
    let _ = expr.value_type();
    let printed = expr.to_string();
    let again = parse_expr(&printed).unwrap_or_else(|e| panic!("{query:?} printed as {printed:?}, which fails: {e}"));
    assert_eq!(again.value_type(), expr.value_type(), "{query:?} printed as {printed:?} changes type");
}
