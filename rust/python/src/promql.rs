//! `thanos_rs.promql`: the engine over in-memory series, and the runner of
//! Prometheus's PromQL test scripts.

use std::sync::RwLock;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use thanos_core::labels::Labels;
use thanos_core::{Error, ErrorKind};
use thanos_promql::engine::{range_error, Engine, EngineOpts};
use thanos_promql::json::encode_data;
use thanos_promql::parser::duration;
use thanos_promql::promqltest::run_script;
use thanos_store::remote::decode_write_request;

use crate::errors::{detach, to_pyerr, Domain};

/// An engine with its own in-memory series. Queries return the JSON of the
/// Prometheus API's `data` object, as bytes. Times and durations in ms.
#[pyclass(name = "PromQLEngine", module = "thanos_rs._core", frozen)]
pub struct PyEngine {
    engine: RwLock<Engine>,
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (lookback_delta = 300_000))]
    fn new(lookback_delta: i64) -> Self {
        let opts = EngineOpts { lookback_delta, ..EngineOpts::default() };
        PyEngine { engine: RwLock::new(Engine::new(opts)) }
    }

    fn load_openmetrics(&self, py: Python<'_>, text: &str) -> PyResult<()> {
        detach(py, Domain::PromQL, || self.engine.write().unwrap().load_openmetrics(text))
    }

    /// Adds the samples of a remote-write body (a snappy-compressed
    /// `prometheus.WriteRequest`), values bit for bit (staleness markers
    /// included). Each series' samples must come after those already stored.
    fn load_remote_write(&self, py: Python<'_>, body: &[u8]) -> PyResult<()> {
        detach(py, Domain::PromQL, || {
            let request = decode_write_request(body)?;
            let mut engine = self.engine.write().unwrap();
            for series in request.timeseries {
                let labels = Labels::from_pairs(series.labels.into_iter().map(|l| (l.name, l.value)));
                let ts: Vec<i64> = series.samples.iter().map(|s| s.timestamp).collect();
                let vs: Vec<f64> = series.samples.iter().map(|s| s.value).collect();
                engine.append(labels, &ts, &vs)?;
            }
            Ok(())
        })
    }

    fn query<'py>(&self, py: Python<'py>, expr: &str, time: i64) -> PyResult<Bound<'py, PyBytes>> {
        let json = detach(py, Domain::PromQL, || {
            let value = self.engine.read().unwrap().query(expr, time)?;
            Ok(encode_data(&value))
        })?;
        Ok(PyBytes::new(py, &json))
    }

    fn query_range<'py>(
        &self,
        py: Python<'py>,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let json = detach(py, Domain::PromQL, || {
            let value = self.engine.read().unwrap().query_range(expr, start, end, step)?;
            Ok(encode_data(&value))
        })?;
        Ok(PyBytes::new(py, &json))
    }
}

/// Runs a PromQL test script; returns `(error, [(line, expr, failure or None)])`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn run_promql_test_script(
    py: Python<'_>,
    text: &str,
) -> PyResult<(Option<String>, Vec<(usize, String, Option<String>)>)> {
    let report = detach(py, Domain::PromQL, || Ok(run_script(text)))?;
    let evals = report.evals.into_iter().map(|e| (e.line, e.expr, e.failure)).collect();
    Ok((report.error, evals))
}

/// A duration in Prometheus's form (`5m`, `1h30m`, `0`), in ms; a text not in
/// that form is a `BadDataError` worded as Prometheus words it.
#[pyfunction]
fn parse_duration(py: Python<'_>, text: &str) -> PyResult<i64> {
    duration::parse_duration(text).map_err(|msg| to_pyerr(py, &Error::new(ErrorKind::BadData, msg), Domain::General))
}

/// What is wrong with a range query's `start`, `end` and `step`, in
/// Prometheus's order and words: `(parameter or None, message)`, or None
/// when nothing is. The API checks this before its other parameters.
#[pyfunction]
fn range_query_error(start: i64, end: i64, step: i64) -> Option<(Option<&'static str>, &'static str)> {
    range_error(start, end, step)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEngine>()?;
    m.add_function(wrap_pyfunction!(run_promql_test_script, m)?)?;
    m.add_function(wrap_pyfunction!(parse_duration, m)?)?;
    m.add_function(wrap_pyfunction!(range_query_error, m)?)?;
    Ok(())
}
