//! thanos-promql: PromQL parsing and evaluation with Prometheus 2.42 semantics.
//!
//! - [`parser`]: lexer, parser, syntax tree and type checks;
//! - [`engine`]: planning and evaluation of queries over a storage;
//! - [`json`]: results in the Prometheus HTTP API's JSON;
//! - [`openmetrics`]: loading OpenMetrics text into an in-memory engine;
//! - [`promqltest`]: a runner for Prometheus's PromQL test scripts.

pub mod engine;
pub mod gofmt;
pub mod json;
pub mod openmetrics;
pub mod parser;
pub mod promqltest;
mod stack;
