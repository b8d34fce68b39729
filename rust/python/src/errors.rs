//! Turns core [`Error`]s into the exception classes of `thanos_rs.errors`.
//!
//! The classes are defined in Python (with their docstrings) and looked up by
//! name here, so this is the one place that maps kinds to classes.

use pyo3::prelude::*;
use thanos_core::{Error, ErrorKind};

/// Which family of exceptions a call raises.
#[derive(Clone, Copy)]
pub enum Domain {
    /// Classes chosen by the error's kind.
    General,
    /// The PromQL engine: every failure is a `PromQLError` carrying
    /// Prometheus's error type, as its API promises.
    PromQL,
}

fn class_name(kind: ErrorKind, domain: Domain) -> &'static str {
    match (domain, kind) {
        (_, ErrorKind::CorruptChunk) => "CorruptChunkError",
        (Domain::PromQL, _) => "PromQLError",
        (Domain::General, ErrorKind::BadData) => "BadDataError",
        (Domain::General, ErrorKind::CorruptFrame) => "CorruptFrameError",
        (Domain::General, ErrorKind::CorruptBlock) => "CorruptBlockError",
        (Domain::General, ErrorKind::Unavailable) => "StoreError",
        (Domain::General, ErrorKind::Bucket) => "BucketError",
        (Domain::General, ErrorKind::ObjectNotFound) => "ObjectNotFoundError",
        (Domain::General, ErrorKind::LimitExceeded) => "LimitExceededError",
        (Domain::General, _) => "ThanosRsError",
    }
}

pub fn to_pyerr(py: Python<'_>, err: &Error, domain: Domain) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = py.import("thanos_rs.errors")?;
        let exc = match err.position() {
            // Whatever it was parsing (a query, a `match[]`), and in either
            // domain: the class is a BadDataError and a PromQLError.
            Some(at) => {
                module.getattr("PromQLParseError")?.call1((err.message(), (at.start, at.end), at.line, at.column))?
            }
            None => {
                module.getattr(class_name(err.kind(), domain))?.call1((err.message(), err.kind().api_error_type()))?
            }
        };
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// `thanos_rs.errors.PrometheusError`: a call to Prometheus failed; `status`
/// is its answer's HTTP status, 0 when no answer came.
pub fn prometheus_error(py: Python<'_>, message: &str, status: u16) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = py.import("thanos_rs.errors")?.getattr("PrometheusError")?;
        Ok(PyErr::from_value(class.call1((message, status))?))
    };
    build().unwrap_or_else(|e| e)
}

/// Runs `f` with the GIL released, turning its errors and panics into Python
/// exceptions. Every long call of the bindings goes through here, so one grep
/// shows that nothing heavy holds the GIL.
pub fn detach<T: Send>(
    py: Python<'_>,
    domain: Domain,
    f: impl FnOnce() -> thanos_core::Result<T> + Send,
) -> PyResult<T> {
    let outcome = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(py, &e, domain)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let err = Error::new(ErrorKind::Internal, format!("internal error: {what}"));
            Err(to_pyerr(py, &err, domain))
        }
    }
}
