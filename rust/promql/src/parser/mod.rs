//! PromQL parsing: [`parse_expr`] turns a query into an [`ast::Expr`] with the
//! syntax, the checks and the error messages of Prometheus 2.42.

pub mod ast;
mod check;
pub mod duration;
pub mod functions;
pub mod lex;
pub mod literals;
mod parse;

use std::fmt;

pub use ast::{Expr, PosRange, ValueType};
pub use parse::{parse_expr, parse_metric_selector, MAX_DEPTH};

/// A parse error, printed as Prometheus prints them: `1:5: parse error: ...`,
/// with the line and the column (counted in bytes from 1) where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub pos: PosRange,
    pub msg: String,
    line: usize,
    col: usize,
}

impl ParseError {
    pub fn new(query: &str, pos: PosRange, msg: String) -> Self {
        let head = &query.as_bytes()[..pos.start.min(query.len())];
        let line = 1 + head.iter().filter(|&&b| b == b'\n').count();
        let last_break = head.iter().rposition(|&b| b == b'\n').map(|i| i as i64).unwrap_or(-1);
        let col = (pos.start as i64 - last_break) as usize;
        ParseError { pos, msg, line, col }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: parse error: {}", self.line, self.col, self.msg)
    }
}

impl From<ParseError> for thanos_core::Error {
    fn from(e: ParseError) -> Self {
        let at = thanos_core::ParsePosition { start: e.pos.start, end: e.pos.end, line: e.line, column: e.col };
        thanos_core::Error::parse(e.to_string(), at)
    }
}
