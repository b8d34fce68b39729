//! The sidecar's remote-read client for Python: Rust sends `POST /api/v1/read`
//! and reads the answer, so that its bytes never cross into Python; only the
//! finished `SeriesResponse` messages do, a batch per call.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use thanos_store::remote_client::{ReadBody, ReadClient, ReadError};

use crate::errors::{detach, prometheus_error, to_pyerr, Domain};
use crate::store::{to_pybytes, PySeriesStream};

/// Runs `f` with the GIL released; its `ReadError` becomes a `PrometheusError`
/// (HTTP failures, with their status) or the class of its kind.
fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, ReadError> + Send) -> PyResult<T> {
    match detach(py, Domain::General, || Ok(f()))? {
        Ok(v) => Ok(v),
        Err(ReadError::Http { status, message }) => Err(prometheus_error(py, &message, status)),
        Err(ReadError::Data(e)) => Err(to_pyerr(py, &e, Domain::General)),
    }
}

/// Remote read from one Prometheus, its connections kept between calls.
#[pyclass(name = "RemoteReadClient", module = "thanos_rs._core", frozen)]
pub struct PyRemoteReadClient {
    inner: ReadClient,
}

#[pymethods]
impl PyRemoteReadClient {
    /// `url` is Prometheus's base URL (`--prometheus.url`), http or https.
    #[new]
    fn new(url: &str, user_agent: &str) -> Self {
        PyRemoteReadClient { inner: ReadClient::new(url, user_agent) }
    }

    /// Asks Prometheus for what `stream`'s request selects; returns once the
    /// answer's headers are in. Raises `PrometheusError` when Prometheus cannot
    /// be reached (status 0) or answers with an error status.
    fn read(&self, py: Python<'_>, stream: Py<PySeriesStream>) -> PyResult<PyRemoteReadSeries> {
        let request = stream.get().inner.lock().unwrap().read_request();
        let body = run(py, || self.inner.read(&request))?;
        Ok(PyRemoteReadSeries { streamed: body.streamed(), stream, body: Mutex::new(body) })
    }
}

/// The answer of one remote read, turned into the `SeriesResponse` messages
/// of its `SeriesStream` as they are asked for. Dropping it before the end
/// closes the connection to Prometheus.
#[pyclass(name = "RemoteReadSeries", module = "thanos_rs._core", frozen)]
pub struct PyRemoteReadSeries {
    stream: Py<PySeriesStream>,
    body: Mutex<ReadBody>,
    streamed: bool,
}

#[pymethods]
impl PyRemoteReadSeries {
    /// True for a streamed answer, False for a one-piece SAMPLES answer
    /// (Prometheus before 2.13).
    #[getter]
    fn streamed(&self) -> bool {
        self.streamed
    }

    /// The next messages, about `budget` bytes of them (fewer when Prometheus
    /// sends slowly); an empty list once the answer is complete.
    fn next<'py>(&self, py: Python<'py>, budget: usize) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let messages = run(py, || {
            let mut stream = self.stream.get().inner.lock().unwrap();
            self.body.lock().unwrap().next_messages(&mut stream, budget)
        })?;
        Ok(to_pybytes(py, messages))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRemoteReadClient>()?;
    m.add_class::<PyRemoteReadSeries>()?;
    Ok(())
}
