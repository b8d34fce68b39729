//! The sidecar's data plane for Python: Python makes the label API calls to
//! Prometheus and the gRPC replies; Rust decides what to ask, reads remote
//! read (`remote_client`) or the data directory, and turns the answers into
//! ready StoreAPI messages. Bytes cross once per outgoing message, never per
//! series or sample.

use std::sync::Mutex;

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use thanos_core::labels::Labels;
use thanos_core::Result;
use thanos_store::info;
use thanos_store::prometheus::{LabelsQuery, SeriesStream};
use thanos_store::request::LabelsPlan;
use thanos_store::tsdb::{labels_response, TsdbSeries};
use thanos_tsdb::Db;

use crate::errors::{detach, to_pyerr, Domain};

/// Messages made without the GIL, as Python `bytes`: one copy each.
pub(crate) fn to_pybytes<M: AsRef<[u8]>>(py: Python<'_>, messages: Vec<M>) -> Vec<Bound<'_, PyBytes>> {
    messages.iter().map(|m| PyBytes::new(py, m.as_ref())).collect()
}

/// One `thanos.Store/Series` call answered from Prometheus: built from the raw
/// request, then read through a `RemoteReadClient`, or answered from the
/// series API when only labels are asked for.
#[pyclass(name = "SeriesStream", module = "thanos_rs._core", frozen)]
pub struct PySeriesStream {
    pub(crate) inner: Mutex<SeriesStream>,
}

impl PySeriesStream {
    /// Runs `f` on the stream with the GIL released and returns its messages.
    fn run<'py>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(&mut SeriesStream) -> Result<Vec<Bytes>> + Send,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let mut guard = self.inner.lock().unwrap();
        let stream: &mut SeriesStream = &mut guard;
        let messages = detach(py, Domain::General, move || f(stream))?;
        Ok(to_pybytes(py, messages))
    }
}

#[pymethods]
impl PySeriesStream {
    /// `external_labels` as `(name, value)` pairs; `min_time` the earliest time
    /// served, in ms. Raises `BadDataError` for a request to refuse.
    #[new]
    fn new(py: Python<'_>, request: &[u8], external_labels: Vec<(String, String)>, min_time: i64) -> PyResult<Self> {
        let stream = SeriesStream::new(request, Labels::from_pairs(external_labels), min_time)
            .map_err(|e| to_pyerr(py, &e, Domain::General))?;
        Ok(PySeriesStream { inner: Mutex::new(stream) })
    }

    /// False when an external-label matcher rules this Prometheus out.
    #[getter]
    fn matches(&self) -> bool {
        self.inner.lock().unwrap().matches()
    }

    #[getter]
    fn skip_chunks(&self) -> bool {
        self.inner.lock().unwrap().skip_chunks()
    }

    /// `(min_time, max_time)` in ms after clamping to what is served.
    #[getter]
    fn time_range(&self) -> (i64, i64) {
        self.inner.lock().unwrap().time_range()
    }

    /// Remote-read frames read so far.
    #[getter]
    fn frames(&self) -> u64 {
        self.inner.lock().unwrap().frames()
    }

    /// The query parameters of `GET /api/v1/series`, for `skip_chunks`.
    fn series_params(&self) -> Vec<(String, String)> {
        self.inner.lock().unwrap().series_params()
    }

    /// The JSON body of `/api/v1/series`, for `skip_chunks`.
    fn feed_series_json<'py>(&self, py: Python<'py>, body: &[u8]) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        self.run(py, |s| s.feed_series_json(body))
    }
}

/// One `thanos.Store/LabelNames` or `LabelValues` call answered from
/// Prometheus's label API.
#[pyclass(name = "PrometheusLabelsQuery", module = "thanos_rs._core", frozen)]
pub struct PyPrometheusLabelsQuery {
    inner: LabelsQuery,
}

#[pymethods]
impl PyPrometheusLabelsQuery {
    /// From a raw `LabelNamesRequest` (`values` false) or `LabelValuesRequest`.
    #[new]
    fn new(py: Python<'_>, values: bool, request: &[u8], external_labels: Vec<(String, String)>) -> PyResult<Self> {
        let external = Labels::from_pairs(external_labels);
        let q = if values {
            LabelsQuery::label_values(request, external)
        } else {
            LabelsQuery::label_names(request, external)
        };
        Ok(PyPrometheusLabelsQuery { inner: q.map_err(|e| to_pyerr(py, &e, Domain::General))? })
    }

    /// The encoded response when Prometheus need not be asked, else None.
    #[getter]
    fn answer<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.answer().map(|a| PyBytes::new(py, a))
    }

    /// The API path to GET.
    #[getter]
    fn path(&self) -> &str {
        self.inner.path()
    }

    #[getter]
    fn params(&self) -> Vec<(String, String)> {
        self.inner.params().to_vec()
    }

    /// The encoded response from Prometheus's JSON answer.
    fn response<'py>(&self, py: Python<'py>, body: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let message = detach(py, Domain::General, || self.inner.response(body))?;
        Ok(PyBytes::new(py, &message))
    }
}

/// A Prometheus data directory (`--tsdb.path`) that StoreAPI calls read
/// directly. Every call first looks for blocks that appeared or went.
#[pyclass(name = "Tsdb", module = "thanos_rs._core", frozen)]
pub struct PyTsdb {
    db: Mutex<Db>,
}

impl PyTsdb {
    /// Runs `f` on the reloaded directory with the GIL released.
    fn with_db<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Db) -> Result<T> + Send) -> PyResult<T> {
        detach(py, Domain::General, || {
            let mut db = self.db.lock().unwrap();
            db.reload()?;
            f(&db)
        })
    }
}

#[pymethods]
impl PyTsdb {
    /// Opens the data directory at `path`: raises `StoreError` when it cannot
    /// be read, `CorruptBlockError` for a damaged block.
    #[new]
    fn new(py: Python<'_>, path: &str) -> PyResult<Self> {
        let db = detach(py, Domain::General, || Db::open(std::path::Path::new(path)))?;
        Ok(PyTsdb { db: Mutex::new(db) })
    }

    /// The blocks' `(ulid, min_time, max_time)`, in ms, ordered by min time.
    fn blocks(&self, py: Python<'_>) -> PyResult<Vec<(String, i64, i64)>> {
        self.with_db(py, |db| {
            Ok(db.blocks().iter().map(|b| (b.meta().ulid.clone(), b.meta().min_time, b.meta().max_time)).collect())
        })
    }

    /// Starts a `thanos.Store/Series` call from its raw request; see
    /// `SeriesStream` for the arguments.
    fn series(
        &self,
        py: Python<'_>,
        request: &[u8],
        external_labels: Vec<(String, String)>,
        min_time: i64,
    ) -> PyResult<PyTsdbSeries> {
        let external = Labels::from_pairs(external_labels);
        let series = self.with_db(py, |db| TsdbSeries::new(request, external, min_time, db))?;
        Ok(PyTsdbSeries { inner: Mutex::new(series) })
    }

    /// The encoded answer of a raw `LabelNamesRequest` (`values` false) or
    /// `LabelValuesRequest`.
    fn labels<'py>(
        &self,
        py: Python<'py>,
        values: bool,
        request: &[u8],
        external_labels: Vec<(String, String)>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let external = Labels::from_pairs(external_labels);
        let plan = if values {
            LabelsPlan::label_values(request, external)
        } else {
            LabelsPlan::label_names(request, external)
        }
        .map_err(|e| to_pyerr(py, &e, Domain::General))?;
        let message = self.with_db(py, |db| labels_response(&plan, db))?;
        Ok(PyBytes::new(py, &message))
    }
}

/// One `thanos.Store/Series` call over a data directory, read in pieces.
#[pyclass(name = "TsdbSeries", module = "thanos_rs._core", frozen)]
pub struct PyTsdbSeries {
    inner: Mutex<TsdbSeries>,
}

#[pymethods]
impl PyTsdbSeries {
    /// The next `SeriesResponse` messages, about `budget` bytes of them;
    /// an empty list once the answer is complete.
    fn next<'py>(&self, py: Python<'py>, budget: usize) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let messages = detach(py, Domain::General, || self.inner.lock().unwrap().next_messages(budget))?;
        Ok(to_pybytes(py, messages))
    }
}

/// `thanos.info.InfoResponse` of a sidecar; `store` is `(min_time, max_time)`,
/// or None to withhold the StoreAPI while Prometheus is unreachable.
#[pyfunction]
fn encode_sidecar_info<'py>(
    py: Python<'py>,
    external_labels: Vec<(String, String)>,
    store: Option<(i64, i64)>,
) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &info::info_response(&Labels::from_pairs(external_labels), store))
}

/// `thanos.InfoResponse` of a sidecar's legacy `Store/Info`.
#[pyfunction]
fn encode_sidecar_store_info<'py>(
    py: Python<'py>,
    external_labels: Vec<(String, String)>,
    min_time: i64,
    max_time: i64,
) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &info::store_info_response(&Labels::from_pairs(external_labels), min_time, max_time))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySeriesStream>()?;
    m.add_class::<PyPrometheusLabelsQuery>()?;
    m.add_class::<PyTsdb>()?;
    m.add_class::<PyTsdbSeries>()?;
    m.add_function(wrap_pyfunction!(encode_sidecar_info, m)?)?;
    m.add_function(wrap_pyfunction!(encode_sidecar_store_info, m)?)?;
    Ok(())
}
