//! `thanos_rs.promql`: the engine over in-memory series, and the runner of
//! Prometheus's PromQL test scripts.

use std::sync::RwLock;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use thanos_core::labels::Labels;
use thanos_promql::engine::{Engine, EngineOpts};
use thanos_promql::json::encode_data;
use thanos_promql::promqltest::run_script;
use thanos_store::remote::decode_write_request;

use crate::errors::{detach, Domain};

/// Seconds as the HTTP API reads them, to milliseconds.
pub fn seconds_to_ms(t: f64) -> i64 {
    (t * 1000.0).round() as i64
}

/// A step in seconds to milliseconds, truncated as Prometheus converts a
/// float step through nanoseconds.
pub fn step_to_ms(step: f64) -> i64 {
    (step * 1e9) as i64 / 1_000_000
}

/// An engine with its own in-memory series. Queries return the JSON of the
/// Prometheus API's `data` object, as bytes.
#[pyclass(name = "PromQLEngine", module = "thanos_rs._core", frozen)]
pub struct PyEngine {
    engine: RwLock<Engine>,
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (lookback_delta = 300.0))]
    fn new(lookback_delta: f64) -> Self {
        let opts = EngineOpts { lookback_delta: seconds_to_ms(lookback_delta), ..EngineOpts::default() };
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

    fn query<'py>(&self, py: Python<'py>, expr: &str, time: f64) -> PyResult<Bound<'py, PyBytes>> {
        let json = detach(py, Domain::PromQL, || {
            let value = self.engine.read().unwrap().query(expr, seconds_to_ms(time))?;
            Ok(encode_data(&value))
        })?;
        Ok(PyBytes::new(py, &json))
    }

    fn query_range<'py>(
        &self,
        py: Python<'py>,
        expr: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let json = detach(py, Domain::PromQL, || {
            let engine = self.engine.read().unwrap();
            let value = engine.query_range(expr, seconds_to_ms(start), seconds_to_ms(end), step_to_ms(step))?;
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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEngine>()?;
    m.add_function(wrap_pyfunction!(run_promql_test_script, m)?)?;
    Ok(())
}
