//! Values flowing through the evaluator and out of a query.

use std::collections::HashMap;
use std::sync::Arc;

use thanos_core::labels::Labels;

/// Prometheus's stale marker, a NaN with a payload no computation produces: a
/// series ended (`model/value/value.go`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// A value at a time: `t` in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub t: i64,
    pub v: f64,
}

/// A series in the evaluator: during a range evaluation its points sit on the
/// evaluation steps, in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: Arc<Labels>,
    pub points: Vec<Point>,
}

pub type Matrix = Vec<Series>;

/// What an expression evaluates to inside the engine: every instant-vector or
/// scalar expression is a matrix over the steps (a scalar is one series with
/// no labels), strings are strings.
#[derive(Clone, Debug)]
pub enum Value {
    Matrix(Matrix),
    String(String),
}

impl Value {
    pub fn into_matrix(self) -> Matrix {
        match self {
            Value::Matrix(m) => m,
            Value::String(_) => Matrix::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Arc<Labels>,
    pub t: i64,
    pub v: f64,
}

/// The result of a query, in the shapes of Prometheus's HTTP API.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryValue {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vec<Sample>),
    Matrix(Matrix),
}

impl QueryValue {
    pub fn result_type(&self) -> &'static str {
        match self {
            QueryValue::Scalar { .. } => "scalar",
            QueryValue::String { .. } => "string",
            QueryValue::Vector(_) => "vector",
            QueryValue::Matrix(_) => "matrix",
        }
    }
}

/// Merges series with equal label sets into one, as Prometheus's range
/// evaluation collects a step's samples by label set. Two of them with a point
/// at the same step is the error "vector cannot contain metrics with the same
/// labelset".
pub fn merge_same_labels(matrix: Matrix) -> Result<Matrix, thanos_core::Error> {
    let mut index: HashMap<Arc<Labels>, usize> = HashMap::with_capacity(matrix.len());
    let mut out: Matrix = Vec::with_capacity(matrix.len());
    let mut merged = false;
    for s in matrix {
        match index.get(&s.labels) {
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
            Some(&i) => {
                merged = true;
                out[i].points.extend(s.points);
            }
        }
    }
    if merged {
        for s in &mut out {
            s.points.sort_by_key(|p| p.t);
            if s.points.windows(2).any(|w| w[0].t == w[1].t) {
                return Err(same_labelset());
            }
        }
    }
    Ok(out)
}

pub fn same_labelset() -> thanos_core::Error {
    thanos_core::Error::new(thanos_core::ErrorKind::Execution, "vector cannot contain metrics with the same labelset")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(labels: &[(&str, &str)], ts: &[i64]) -> Series {
        Series {
            labels: Arc::new(Labels::from_pairs(labels.iter().copied())),
            points: ts.iter().map(|&t| Point { t, v: 1.0 }).collect(),
        }
    }

    #[test]
    fn disjoint_series_with_equal_labels_merge() {
        let m = merge_same_labels(vec![series(&[("a", "1")], &[0, 20]), series(&[("a", "1")], &[10])]).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].points.iter().map(|p| p.t).collect::<Vec<_>>(), vec![0, 10, 20]);
    }

    #[test]
    fn overlapping_ones_are_an_error() {
        let e = merge_same_labels(vec![series(&[("a", "1")], &[0, 20]), series(&[("a", "1")], &[20])]).unwrap_err();
        assert_eq!(e.message(), "vector cannot contain metrics with the same labelset");
    }

    #[test]
    fn stale_marker() {
        assert!(is_stale_nan(f64::from_bits(STALE_NAN_BITS)));
        assert!(!is_stale_nan(f64::NAN));
    }
}
