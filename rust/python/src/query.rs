//! The querier's data plane for Python: queries and metadata requests that
//! Python drives (it makes the gRPC calls) while Rust plans, decodes, merges,
//! deduplicates, evaluates and encodes. Store answers cross as the raw
//! messages grpcio received (kept, not copied); results leave as JSON or
//! serialized protobuf bytes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use prost::Message;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict};
use thanos_core::labels::Labels;
use thanos_core::{bail, Result};
use thanos_promql::engine::EngineOpts;
use thanos_promql::json::encode_data;
use thanos_promql::parser::parse_metric_selector;
use thanos_query::info::{self, EndpointInfo};
use thanos_query::metadata::{self, LabelsKind};
use thanos_query::proxy::{ProxySeries, STORE_BATCH_SIZE};
use thanos_query::querier::DistributedQuery;
use thanos_query::response::{SeriesStream, StoreSet};
use thanos_query::select::{RequestOpts, StoreInfo};
use thanos_query::storematch::store_matches;

use crate::errors::{detach, to_pyerr, Domain};
use crate::promql::{seconds_to_ms, step_to_ms};
use crate::store::to_pybytes;

/// A store as Python describes it: (label sets, min time ms, max time ms).
type PyStore = (Vec<Vec<(String, String)>>, i64, i64);

fn stores(list: Vec<PyStore>) -> Vec<StoreInfo> {
    list.into_iter()
        .map(|(sets, min_time, max_time)| StoreInfo {
            label_sets: sets.into_iter().map(Labels::from_pairs).collect(),
            min_time,
            max_time,
        })
        .collect()
}

/// One store's answer to a `Series` call, decoded message by message as they
/// arrive (the chunks stay slices of them), then handed to the query it
/// answers with `add_answer`.
#[pyclass(name = "SeriesAnswer", module = "thanos_rs._core", frozen)]
pub struct PySeriesAnswer {
    stream: Mutex<Option<SeriesStream>>,
}

#[pymethods]
impl PySeriesAnswer {
    #[new]
    fn new() -> Self {
        PySeriesAnswer { stream: Mutex::new(Some(SeriesStream::new())) }
    }

    /// Decodes the next raw `SeriesResponse` messages, with the GIL released.
    fn push(&self, py: Python<'_>, messages: Vec<PyBackedBytes>) -> PyResult<()> {
        detach(py, Domain::General, || {
            let mut guard = self.stream.lock().unwrap();
            let Some(stream) = guard.as_mut() else { return Ok(()) };
            messages.into_iter().try_for_each(|m| stream.push(Bytes::from_owner(m)))
        })
    }
}

impl PySeriesAnswer {
    fn take(&self) -> PyResult<StoreSet> {
        let stream = taken(&self.stream)
            .map_err(|_| PyRuntimeError::new_err("this answer has already been added to a query"))?;
        Ok(stream.finish())
    }
}

fn taken<T>(slot: &Mutex<Option<T>>) -> PyResult<T> {
    slot.lock().unwrap().take().ok_or_else(|| PyRuntimeError::new_err("this query has already been executed"))
}

fn with<T, R>(slot: &Mutex<Option<T>>, f: impl FnOnce(&mut T) -> R) -> PyResult<R> {
    let mut guard = slot.lock().unwrap();
    let inner = guard.as_mut().ok_or_else(|| PyRuntimeError::new_err("this query has already been executed"))?;
    Ok(f(inner))
}

/// A PromQL query over stores: `calls()` says which `Series` calls to make,
/// `add_answer()` takes each store's messages, `execute()` evaluates.
#[pyclass(name = "DistributedQuery", module = "thanos_rs._core", frozen)]
pub struct PyDistributedQuery {
    inner: Mutex<Option<DistributedQuery>>,
    cancel: Arc<AtomicBool>,
}

fn engine_opts(lookback_delta: f64, timeout: f64, max_samples: usize, default_eval_interval: f64) -> EngineOpts {
    EngineOpts {
        lookback_delta: seconds_to_ms(lookback_delta),
        max_samples,
        default_eval_interval: step_to_ms(default_eval_interval),
        // Beyond what a Duration holds (or NaN from a caller): no timeout.
        timeout: std::time::Duration::try_from_secs_f64(timeout.max(0.0)).ok(),
    }
}

#[pymethods]
impl PyDistributedQuery {
    /// An instant query at `time` (seconds).
    #[staticmethod]
    #[pyo3(signature = (expr, time, *, lookback_delta = 300.0, timeout = 120.0, max_samples = 50_000_000, default_evaluation_interval = 60.0, selector_labels = Vec::new()))]
    #[allow(clippy::too_many_arguments)]
    fn instant(
        py: Python<'_>,
        expr: &str,
        time: f64,
        lookback_delta: f64,
        timeout: f64,
        max_samples: usize,
        default_evaluation_interval: f64,
        selector_labels: Vec<(String, String)>,
    ) -> PyResult<Self> {
        let opts = engine_opts(lookback_delta, timeout, max_samples, default_evaluation_interval);
        let sel = Labels::from_pairs(selector_labels);
        let q = DistributedQuery::instant(opts, expr, seconds_to_ms(time), sel)
            .map_err(|e| to_pyerr(py, &e, Domain::PromQL))?;
        Ok(Self::wrap(q))
    }

    /// A range query (seconds), checked as Prometheus's API checks it.
    #[staticmethod]
    #[pyo3(signature = (expr, start, end, step, *, lookback_delta = 300.0, timeout = 120.0, max_samples = 50_000_000, default_evaluation_interval = 60.0, selector_labels = Vec::new()))]
    #[allow(clippy::too_many_arguments)]
    fn range(
        py: Python<'_>,
        expr: &str,
        start: f64,
        end: f64,
        step: f64,
        lookback_delta: f64,
        timeout: f64,
        max_samples: usize,
        default_evaluation_interval: f64,
        selector_labels: Vec<(String, String)>,
    ) -> PyResult<Self> {
        let opts = engine_opts(lookback_delta, timeout, max_samples, default_evaluation_interval);
        let sel = Labels::from_pairs(selector_labels);
        let (start, end, step) = (seconds_to_ms(start), seconds_to_ms(end), step_to_ms(step));
        let q =
            DistributedQuery::range(opts, expr, start, end, step, sel).map_err(|e| to_pyerr(py, &e, Domain::PromQL))?;
        Ok(Self::wrap(q))
    }

    /// The `Series` calls to make: `(select, store index, request bytes)`.
    #[pyo3(signature = (stores_, partial_response = true))]
    fn calls<'py>(
        &self,
        py: Python<'py>,
        stores_: Vec<PyStore>,
        partial_response: bool,
    ) -> PyResult<Vec<(usize, usize, Bound<'py, PyBytes>)>> {
        let stores = stores(stores_);
        let opts = RequestOpts { partial_response, skip_chunks: false, response_batch_size: STORE_BATCH_SIZE };
        let calls = with(&self.inner, |q| q.calls(&stores, opts))?;
        Ok(calls.into_iter().map(|c| (c.select, c.store, PyBytes::new(py, &c.request.encode_to_vec()))).collect())
    }

    /// One store's answer to a select.
    fn add_answer(&self, select: usize, answer: &PySeriesAnswer) -> PyResult<()> {
        let set = answer.take()?;
        with(&self.inner, |q| q.add_answer(select, set))
    }

    fn add_warning(&self, warning: String) -> PyResult<()> {
        with(&self.inner, |q| q.add_warning(warning))
    }

    /// Evaluates with the GIL released: `(data JSON bytes, warnings)`.
    /// `replica_labels` empty means no deduplication.
    fn execute<'py>(
        &self,
        py: Python<'py>,
        replica_labels: Vec<String>,
    ) -> PyResult<(Bound<'py, PyBytes>, Vec<String>)> {
        let q = taken(&self.inner)?;
        let cancel = self.cancel.clone();
        let (json, warnings) = detach(py, Domain::PromQL, move || {
            let (value, warnings) = q.exec(&replica_labels, Some(&cancel))?;
            Ok((encode_data(&value), warnings))
        })?;
        Ok((PyBytes::new(py, &json), warnings))
    }

    /// Stops a running `execute()` (it raises a `canceled` PromQLError).
    fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl PyDistributedQuery {
    fn wrap(q: DistributedQuery) -> Self {
        PyDistributedQuery { inner: Mutex::new(Some(q)), cancel: Arc::new(AtomicBool::new(false)) }
    }
}

/// `/api/v1/series` over stores.
#[pyclass(name = "SeriesQuery", module = "thanos_rs._core", frozen)]
pub struct PySeriesQuery {
    inner: Mutex<Option<metadata::SeriesQuery>>,
}

#[pymethods]
impl PySeriesQuery {
    /// `matches` are the `match[]` selectors; times in ms.
    #[new]
    #[pyo3(signature = (matches, start, end, partial_response = true))]
    fn new(py: Python<'_>, matches: Vec<String>, start: i64, end: i64, partial_response: bool) -> PyResult<Self> {
        let sets = metadata::parse_match_params(&matches).map_err(|e| to_pyerr(py, &e, Domain::General))?;
        Ok(PySeriesQuery { inner: Mutex::new(Some(metadata::SeriesQuery::new(start, end, sets, partial_response))) })
    }

    /// `(match index, store index, request bytes)`.
    fn calls<'py>(&self, py: Python<'py>, stores_: Vec<PyStore>) -> PyResult<Vec<(usize, usize, Bound<'py, PyBytes>)>> {
        let stores = stores(stores_);
        let calls = with(&self.inner, |q| q.calls(&stores))?;
        Ok(calls.into_iter().map(|(m, s, r)| (m, s, PyBytes::new(py, &r))).collect())
    }

    fn add_answer(&self, match_index: usize, answer: &PySeriesAnswer) -> PyResult<()> {
        let set = answer.take()?;
        with(&self.inner, |q| q.add_answer(match_index, set))
    }

    fn add_warning(&self, warning: String) -> PyResult<()> {
        with(&self.inner, |q| q.add_warning(warning))
    }

    /// `(data JSON bytes, warnings)`; at most `limit` series when it is not 0.
    #[pyo3(signature = (replica_labels, limit = 0))]
    fn execute<'py>(
        &self,
        py: Python<'py>,
        replica_labels: Vec<String>,
        limit: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, Vec<String>)> {
        let q = taken(&self.inner)?;
        let (json, warnings) = detach(py, Domain::General, move || {
            let (mut series, mut warnings) = q.finish(&replica_labels);
            metadata::truncate(&mut series, limit, &mut warnings);
            Ok((metadata::series_json(&series), warnings))
        })?;
        Ok((PyBytes::new(py, &json), warnings))
    }
}

/// `/api/v1/labels` (`name` None) or `/api/v1/label/<name>/values` over
/// stores, or the same requests to the querier's own StoreAPI.
#[pyclass(name = "LabelsQuery", module = "thanos_rs._core", frozen)]
pub struct PyLabelsQuery {
    inner: Mutex<Option<metadata::LabelsQuery>>,
}

#[pymethods]
impl PyLabelsQuery {
    #[new]
    #[pyo3(signature = (name, matches, start, end, partial_response = true))]
    fn new(
        py: Python<'_>,
        name: Option<String>,
        matches: Vec<String>,
        start: i64,
        end: i64,
        partial_response: bool,
    ) -> PyResult<Self> {
        let sets = metadata::parse_match_params(&matches).map_err(|e| to_pyerr(py, &e, Domain::General))?;
        let kind = name.map_or(LabelsKind::Names, LabelsKind::Values);
        Ok(Self::wrap(metadata::LabelsQuery::new(kind, start, end, sets, partial_response)))
    }

    /// From a serialized `LabelNamesRequest` (`values` false) or
    /// `LabelValuesRequest` sent to our StoreAPI.
    #[staticmethod]
    fn from_request(py: Python<'_>, values: bool, request: &[u8]) -> PyResult<Self> {
        let q = metadata::LabelsQuery::from_request(values, Bytes::copy_from_slice(request))
            .map_err(|e| to_pyerr(py, &e, Domain::General))?;
        Ok(Self::wrap(q))
    }

    #[getter]
    fn partial_response(&self) -> PyResult<bool> {
        with(&self.inner, |q| q.partial_response())
    }

    /// Whether it asks for label values (else names).
    #[getter]
    fn values(&self) -> PyResult<bool> {
        with(&self.inner, |q| matches!(q.kind(), LabelsKind::Values(_)))
    }

    /// `(store index, request bytes)`.
    fn calls<'py>(&self, py: Python<'py>, stores_: Vec<PyStore>) -> PyResult<Vec<(usize, Bound<'py, PyBytes>)>> {
        let stores = stores(stores_);
        let calls = with(&self.inner, |q| q.calls(&stores))?;
        Ok(calls.into_iter().map(|(s, r)| (s, PyBytes::new(py, &r))).collect())
    }

    fn add_answer(&self, py: Python<'_>, message: &[u8]) -> PyResult<()> {
        with(&self.inner, |q| q.add_answer(Bytes::copy_from_slice(message)))?
            .map_err(|e| to_pyerr(py, &e, Domain::General))
    }

    fn add_warning(&self, warning: String) -> PyResult<()> {
        with(&self.inner, |q| q.add_warning(warning))
    }

    /// `(data JSON bytes, warnings)` for the HTTP API, made with the GIL
    /// released; at most `limit` items when it is not 0.
    #[pyo3(signature = (limit = 0))]
    fn execute<'py>(&self, py: Python<'py>, limit: usize) -> PyResult<(Bound<'py, PyBytes>, Vec<String>)> {
        let q = taken(&self.inner)?;
        let (json, warnings) = detach(py, Domain::General, move || {
            let (mut items, mut warnings) = q.finish();
            metadata::truncate(&mut items, limit, &mut warnings);
            Ok((metadata::strings_json(&items), warnings))
        })?;
        Ok((PyBytes::new(py, &json), warnings))
    }

    /// The serialized response of our StoreAPI, made with the GIL released.
    fn response<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let q = taken(&self.inner)?;
        let response = detach(py, Domain::General, move || Ok(q.response()))?;
        Ok(PyBytes::new(py, &response))
    }
}

impl PyLabelsQuery {
    fn wrap(q: metadata::LabelsQuery) -> Self {
        PyLabelsQuery { inner: Mutex::new(Some(q)) }
    }
}

/// A `Series` call to the querier's own StoreAPI, passed on to its stores.
#[pyclass(name = "ProxySeries", module = "thanos_rs._core", frozen)]
pub struct PyProxySeries {
    inner: Mutex<Option<ProxySeries>>,
}

#[pymethods]
impl PyProxySeries {
    #[new]
    #[pyo3(signature = (request, selector_labels = Vec::new()))]
    fn new(py: Python<'_>, request: &[u8], selector_labels: Vec<(String, String)>) -> PyResult<Self> {
        let sel = Labels::from_pairs(selector_labels);
        let p =
            ProxySeries::new(Bytes::copy_from_slice(request), &sel).map_err(|e| to_pyerr(py, &e, Domain::General))?;
        Ok(PyProxySeries { inner: Mutex::new(Some(p)) })
    }

    #[getter]
    fn partial_response(&self) -> PyResult<bool> {
        with(&self.inner, |p| p.partial_response())
    }

    /// `(store index, request bytes)`.
    fn calls<'py>(&self, py: Python<'py>, stores_: Vec<PyStore>) -> PyResult<Vec<(usize, Bound<'py, PyBytes>)>> {
        let stores = stores(stores_);
        let calls = with(&self.inner, |p| p.calls(&stores))?;
        Ok(calls.into_iter().map(|(s, r)| (s, PyBytes::new(py, &r.encode_to_vec()))).collect())
    }

    /// Raw messages of call `input`'s answer, merged with the GIL released.
    fn push(&self, py: Python<'_>, input: usize, messages: Vec<PyBackedBytes>) -> PyResult<()> {
        let messages = messages.into_iter().map(Bytes::from_owner).collect();
        detach(py, Domain::General, || running(&self.inner, |p| p.push(input, messages))?)
    }

    /// Call `input` is over or failed.
    fn finish_input(&self, py: Python<'_>, input: usize) -> PyResult<()> {
        detach(py, Domain::General, || running(&self.inner, |p| p.finish_input(input)))
    }

    /// The serialized `SeriesResponse`s ready to send, in order; each call
    /// returns those that became ready since the last.
    fn take_ready<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        Ok(to_pybytes(py, with(&self.inner, |p| p.take_ready())?))
    }

    /// Whether call `input` should wait before pushing more: the merge
    /// waits on other calls and this one is far ahead.
    fn backlogged(&self, input: usize) -> PyResult<bool> {
        with(&self.inner, |p| p.backlogged(input))
    }

    fn add_warning(&self, warning: String) -> PyResult<()> {
        with(&self.inner, |p| p.add_warning(warning))
    }

    /// The rest of the answer once every call is over, warnings last.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let p = taken(&self.inner)?;
        let out = detach(py, Domain::General, move || Ok(p.finish()))?;
        Ok(to_pybytes(py, out))
    }
}

/// `f` on a call still running, for code without the GIL.
fn running<T, R>(slot: &Mutex<Option<T>>, f: impl FnOnce(&mut T) -> R) -> Result<R> {
    let mut guard = slot.lock().unwrap();
    let Some(inner) = guard.as_mut() else { bail!(Internal, "this call has already finished") };
    Ok(f(inner))
}

fn info_dict<'py>(py: Python<'py>, e: EndpointInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("component", e.component)?;
    let sets: Vec<Vec<(String, String)>> =
        e.label_sets.into_iter().map(|s| s.into_vec().into_iter().map(|l| (l.name, l.value)).collect()).collect();
    d.set_item("label_sets", sets)?;
    d.set_item("store", e.store)?;
    Ok(d)
}

/// An `Info` answer (`legacy`: of `thanos.Store/Info`) as
/// `{"component", "label_sets": [[(name, value)]], "store": (min, max) or None}`.
#[pyfunction]
#[pyo3(signature = (message, legacy = false))]
fn decode_info<'py>(py: Python<'py>, message: &[u8], legacy: bool) -> PyResult<Bound<'py, PyDict>> {
    let m = Bytes::copy_from_slice(message);
    let e = if legacy { info::decode_store_info(m) } else { info::decode_info(m) };
    info_dict(py, e.map_err(|e| to_pyerr(py, &e, Domain::General))?)
}

/// The querier's own Info answers, `(info, legacy store info)`, from its
/// healthy endpoints `(component, label sets, (min, max) or None)`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn encode_query_info<'py>(
    py: Python<'py>,
    endpoints: Vec<(String, Vec<Vec<(String, String)>>, Option<(i64, i64)>)>,
    selector_labels: Vec<(String, String)>,
) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
    let down: Vec<EndpointInfo> = endpoints
        .into_iter()
        .map(|(component, sets, store)| EndpointInfo {
            component,
            label_sets: sets.into_iter().map(Labels::from_pairs).collect(),
            store,
        })
        .collect();
    let info = info::query_info(&down, &Labels::from_pairs(selector_labels));
    let legacy = info::query_store_info(&info);
    (PyBytes::new(py, &info.encode_to_vec()), PyBytes::new(py, &legacy.encode_to_vec()))
}

/// `storeMatch[]`: for each address, whether the selectors admit that store
/// (all do when there are none). A selector that does not parse is a
/// `BadDataError`.
#[pyfunction]
fn match_store_addresses(py: Python<'_>, matches: Vec<String>, addresses: Vec<String>) -> PyResult<Vec<bool>> {
    let sets = matches
        .iter()
        .map(|m| parse_metric_selector(m).map_err(|e| to_pyerr(py, &e.into(), Domain::General)))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(addresses.iter().map(|a| store_matches(&sets, a)).collect())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySeriesAnswer>()?;
    m.add_class::<PyDistributedQuery>()?;
    m.add_class::<PySeriesQuery>()?;
    m.add_class::<PyLabelsQuery>()?;
    m.add_class::<PyProxySeries>()?;
    m.add_function(wrap_pyfunction!(decode_info, m)?)?;
    m.add_function(wrap_pyfunction!(encode_query_info, m)?)?;
    m.add_function(wrap_pyfunction!(match_store_addresses, m)?)?;
    Ok(())
}
