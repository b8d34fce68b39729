//! The querier's data plane for Python: queries and metadata requests that
//! Python drives (it makes the gRPC calls) while Rust plans, decodes, merges,
//! deduplicates, evaluates and encodes. Store answers cross as the raw
//! messages grpcio received (kept, not copied); results leave as JSON or
//! serialized protobuf bytes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict};
use thanos_core::labels::Labels;
use thanos_promql::engine::EngineOpts;
use thanos_promql::json::encode_data;
use thanos_promql::parser::parse_metric_selector;
use thanos_query::info::{self, EndpointInfo};
use thanos_query::metadata::{self, LabelsKind, LabelsQuery, SeriesQuery};
use thanos_query::proxy::{ProxySeries, STORE_BATCH_SIZE};
use thanos_query::querier::DistributedQuery;
use thanos_query::response::{SeriesStream, StoreSet};
use thanos_query::select::{RequestOpts, StoreInfo};
use thanos_query::storematch::store_matches;

use crate::errors::{detach, to_pyerr, Domain};
use crate::fanout::{FanOut, Pending, PyCall, PyStore};
use crate::store::to_pybytes;

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
        let stream = self.stream.lock().unwrap().take();
        let stream = stream.ok_or_else(|| PyRuntimeError::new_err("this answer has already been added to a query"))?;
        Ok(stream.finish())
    }
}

/// A PromQL query with the choices its calls carry.
pub struct PromQLRequest {
    query: DistributedQuery,
    partial_response: bool,
    /// ms; 0 reads raw data only.
    max_source_resolution: i64,
}

impl FanOut for PromQLRequest {
    fn partial_response(&self) -> bool {
        self.partial_response
    }

    /// One group per select.
    fn calls(&mut self, stores: &[StoreInfo]) -> Vec<(usize, usize, Vec<u8>)> {
        let opts = RequestOpts {
            partial_response: self.partial_response,
            skip_chunks: false,
            response_batch_size: STORE_BATCH_SIZE,
            max_resolution_window: self.max_source_resolution,
        };
        let calls = self.query.calls(stores, opts);
        calls.into_iter().map(|c| (c.select, c.store, c.request.encode_to_vec())).collect()
    }

    fn add_warning(&mut self, warning: String) {
        self.query.add_warning(warning)
    }
}

/// One group per `match[]` (as combined).
impl FanOut for SeriesQuery {
    fn partial_response(&self) -> bool {
        SeriesQuery::partial_response(self)
    }

    fn calls(&mut self, stores: &[StoreInfo]) -> Vec<(usize, usize, Vec<u8>)> {
        SeriesQuery::calls(self, stores)
    }

    fn add_warning(&mut self, warning: String) {
        SeriesQuery::add_warning(self, warning)
    }
}

/// One group: every store at once.
impl FanOut for LabelsQuery {
    fn partial_response(&self) -> bool {
        LabelsQuery::partial_response(self)
    }

    fn calls(&mut self, stores: &[StoreInfo]) -> Vec<(usize, usize, Vec<u8>)> {
        LabelsQuery::calls(self, stores).into_iter().map(|(store, request)| (0, store, request)).collect()
    }

    fn add_warning(&mut self, warning: String) {
        LabelsQuery::add_warning(self, warning)
    }
}

/// One group, every store at once: the streaming merge waits on all of them.
impl FanOut for ProxySeries {
    fn partial_response(&self) -> bool {
        ProxySeries::partial_response(self)
    }

    fn calls(&mut self, stores: &[StoreInfo]) -> Vec<(usize, usize, Vec<u8>)> {
        let calls = ProxySeries::calls(self, stores);
        calls.into_iter().map(|(store, request)| (0, store, request.encode_to_vec())).collect()
    }

    fn add_warning(&mut self, warning: String) {
        ProxySeries::add_warning(self, warning)
    }
}

/// A PromQL query over stores: `calls()` says which `Series` calls to make,
/// `add_answer()` takes each store's messages, `execute()` evaluates.
#[pyclass(name = "DistributedQuery", module = "thanos_rs._core", frozen)]
pub struct PyDistributedQuery {
    inner: Pending<PromQLRequest>,
    cancel: Arc<AtomicBool>,
}

/// The engine's options; every duration in ms. A negative timeout has run out.
fn engine_opts(lookback_delta: i64, timeout: i64, max_samples: usize, default_eval_interval: i64) -> EngineOpts {
    EngineOpts {
        lookback_delta,
        max_samples,
        default_eval_interval,
        timeout: Some(Duration::from_millis(timeout.max(0).unsigned_abs())),
    }
}

#[pymethods]
impl PyDistributedQuery {
    /// An instant query at `time`.
    #[staticmethod]
    #[pyo3(signature = (expr, time, *, partial_response = true, lookback_delta = 300_000, timeout = 120_000, max_samples = 50_000_000, default_evaluation_interval = 60_000, selector_labels = Vec::new(), max_source_resolution = 0))]
    #[allow(clippy::too_many_arguments)]
    fn instant(
        py: Python<'_>,
        expr: &str,
        time: i64,
        partial_response: bool,
        lookback_delta: i64,
        timeout: i64,
        max_samples: usize,
        default_evaluation_interval: i64,
        selector_labels: Vec<(String, String)>,
        max_source_resolution: i64,
    ) -> PyResult<Self> {
        let opts = engine_opts(lookback_delta, timeout, max_samples, default_evaluation_interval);
        let sel = Labels::from_pairs(selector_labels);
        let q = DistributedQuery::instant(opts, expr, time, sel).map_err(|e| to_pyerr(py, &e, Domain::PromQL))?;
        Ok(Self::wrap(q, partial_response, max_source_resolution))
    }

    /// A range query, checked as Prometheus's API checks it.
    #[staticmethod]
    #[pyo3(signature = (expr, start, end, step, *, partial_response = true, lookback_delta = 300_000, timeout = 120_000, max_samples = 50_000_000, default_evaluation_interval = 60_000, selector_labels = Vec::new(), max_source_resolution = 0))]
    #[allow(clippy::too_many_arguments)]
    fn range(
        py: Python<'_>,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
        partial_response: bool,
        lookback_delta: i64,
        timeout: i64,
        max_samples: usize,
        default_evaluation_interval: i64,
        selector_labels: Vec<(String, String)>,
        max_source_resolution: i64,
    ) -> PyResult<Self> {
        let opts = engine_opts(lookback_delta, timeout, max_samples, default_evaluation_interval);
        let sel = Labels::from_pairs(selector_labels);
        let q =
            DistributedQuery::range(opts, expr, start, end, step, sel).map_err(|e| to_pyerr(py, &e, Domain::PromQL))?;
        Ok(Self::wrap(q, partial_response, max_source_resolution))
    }

    #[getter]
    fn partial_response(&self) -> PyResult<bool> {
        self.inner.partial_response()
    }

    /// The `Series` calls to make, one group per select.
    fn calls<'py>(&self, py: Python<'py>, stores: Vec<PyStore>) -> PyResult<Vec<PyCall<'py>>> {
        self.inner.calls(py, stores)
    }

    /// One store's answer to a select.
    fn add_answer(&self, select: usize, answer: &PySeriesAnswer) -> PyResult<()> {
        let set = answer.take()?;
        self.inner.with(|r| r.query.add_answer(select, set))
    }

    fn add_warning(&self, warning: String) -> PyResult<()> {
        self.inner.add_warning(warning)
    }

    /// Evaluates with the GIL released: `(data JSON bytes, warnings,
    /// stats)`, the stats in seconds and samples (see `ExecStats`).
    /// `replica_labels` empty means no deduplication.
    fn execute<'py>(
        &self,
        py: Python<'py>,
        replica_labels: Vec<String>,
    ) -> PyResult<(Bound<'py, PyBytes>, Vec<String>, Bound<'py, PyDict>)> {
        let q = self.inner.take()?.query;
        let cancel = self.cancel.clone();
        let (json, warnings, stats) = detach(py, Domain::PromQL, move || {
            let (value, warnings, stats) = q.exec(&replica_labels, Some(&cancel))?;
            Ok((encode_data(&value), warnings, stats))
        })?;
        let d = PyDict::new(py);
        d.set_item("merge", stats.merge.as_secs_f64())?;
        d.set_item("inner_eval", stats.eval.inner_eval.as_secs_f64())?;
        d.set_item("result_sort", stats.eval.result_sort.as_secs_f64())?;
        d.set_item("total_samples", stats.eval.total_samples)?;
        d.set_item("peak_samples", stats.eval.peak_samples)?;
        Ok((PyBytes::new(py, &json), warnings, d))
    }

    /// Stops a running `execute()` (it raises a `canceled` PromQLError).
    fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl PyDistributedQuery {
    fn wrap(query: DistributedQuery, partial_response: bool, max_source_resolution: i64) -> Self {
        let request = PromQLRequest { query, partial_response, max_source_resolution };
        PyDistributedQuery { inner: Pending::new(request), cancel: Arc::new(AtomicBool::new(false)) }
    }
}

/// `/api/v1/series` over stores.
#[pyclass(name = "SeriesQuery", module = "thanos_rs._core", frozen)]
pub struct PySeriesQuery {
    inner: Pending<SeriesQuery>,
}

#[pymethods]
impl PySeriesQuery {
    /// `matches` are the `match[]` selectors.
    #[new]
    #[pyo3(signature = (matches, start, end, partial_response = true))]
    fn new(py: Python<'_>, matches: Vec<String>, start: i64, end: i64, partial_response: bool) -> PyResult<Self> {
        let sets = metadata::parse_match_params(&matches).map_err(|e| to_pyerr(py, &e, Domain::General))?;
        Ok(PySeriesQuery { inner: Pending::new(SeriesQuery::new(start, end, sets, partial_response)) })
    }

    #[getter]
    fn partial_response(&self) -> PyResult<bool> {
        self.inner.partial_response()
    }

    /// One group per `match[]`.
    fn calls<'py>(&self, py: Python<'py>, stores: Vec<PyStore>) -> PyResult<Vec<PyCall<'py>>> {
        self.inner.calls(py, stores)
    }

    fn add_answer(&self, match_index: usize, answer: &PySeriesAnswer) -> PyResult<()> {
        let set = answer.take()?;
        self.inner.with(|q| q.add_answer(match_index, set))
    }

    fn add_warning(&self, warning: String) -> PyResult<()> {
        self.inner.add_warning(warning)
    }

    /// `(data JSON bytes, warnings)`; at most `limit` series when it is not 0.
    #[pyo3(signature = (replica_labels, limit = 0))]
    fn execute<'py>(
        &self,
        py: Python<'py>,
        replica_labels: Vec<String>,
        limit: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, Vec<String>)> {
        let q = self.inner.take()?;
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
    inner: Pending<LabelsQuery>,
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
        Ok(PyLabelsQuery { inner: Pending::new(LabelsQuery::new(kind, start, end, sets, partial_response)) })
    }

    /// From a serialized `LabelNamesRequest` (`values` false) or
    /// `LabelValuesRequest` sent to our StoreAPI.
    #[staticmethod]
    fn from_request(py: Python<'_>, values: bool, request: &[u8]) -> PyResult<Self> {
        let q = LabelsQuery::from_request(values, Bytes::copy_from_slice(request))
            .map_err(|e| to_pyerr(py, &e, Domain::General))?;
        Ok(PyLabelsQuery { inner: Pending::new(q) })
    }

    #[getter]
    fn partial_response(&self) -> PyResult<bool> {
        self.inner.partial_response()
    }

    /// Whether it asks for label values (else names).
    #[getter]
    fn values(&self) -> PyResult<bool> {
        self.inner.with(|q| matches!(q.kind(), LabelsKind::Values(_)))
    }

    /// One group: every store at once.
    fn calls<'py>(&self, py: Python<'py>, stores: Vec<PyStore>) -> PyResult<Vec<PyCall<'py>>> {
        self.inner.calls(py, stores)
    }

    fn add_answer(&self, py: Python<'_>, message: &[u8]) -> PyResult<()> {
        self.inner
            .with(|q| q.add_answer(Bytes::copy_from_slice(message)))?
            .map_err(|e| to_pyerr(py, &e, Domain::General))
    }

    fn add_warning(&self, warning: String) -> PyResult<()> {
        self.inner.add_warning(warning)
    }

    /// `(data JSON bytes, warnings)` for the HTTP API, made with the GIL
    /// released; at most `limit` items when it is not 0.
    #[pyo3(signature = (limit = 0))]
    fn execute<'py>(&self, py: Python<'py>, limit: usize) -> PyResult<(Bound<'py, PyBytes>, Vec<String>)> {
        let q = self.inner.take()?;
        let (json, warnings) = detach(py, Domain::General, move || {
            let (mut items, mut warnings) = q.finish();
            metadata::truncate(&mut items, limit, &mut warnings);
            Ok((metadata::strings_json(&items), warnings))
        })?;
        Ok((PyBytes::new(py, &json), warnings))
    }

    /// The serialized response of our StoreAPI, made with the GIL released.
    fn response<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let q = self.inner.take()?;
        let response = detach(py, Domain::General, move || Ok(q.response()))?;
        Ok(PyBytes::new(py, &response))
    }
}

/// A `Series` call to the querier's own StoreAPI, passed on to its stores.
#[pyclass(name = "ProxySeries", module = "thanos_rs._core", frozen)]
pub struct PyProxySeries {
    inner: Pending<ProxySeries>,
}

#[pymethods]
impl PyProxySeries {
    #[new]
    #[pyo3(signature = (request, selector_labels = Vec::new()))]
    fn new(py: Python<'_>, request: &[u8], selector_labels: Vec<(String, String)>) -> PyResult<Self> {
        let sel = Labels::from_pairs(selector_labels);
        let p =
            ProxySeries::new(Bytes::copy_from_slice(request), &sel).map_err(|e| to_pyerr(py, &e, Domain::General))?;
        Ok(PyProxySeries { inner: Pending::new(p) })
    }

    #[getter]
    fn partial_response(&self) -> PyResult<bool> {
        self.inner.partial_response()
    }

    /// One group; the answer to the `k`-th call is input `k`.
    fn calls<'py>(&self, py: Python<'py>, stores: Vec<PyStore>) -> PyResult<Vec<PyCall<'py>>> {
        self.inner.calls(py, stores)
    }

    /// Raw messages of call `input`'s answer, merged with the GIL released.
    fn push(&self, py: Python<'_>, input: usize, messages: Vec<PyBackedBytes>) -> PyResult<()> {
        let messages = messages.into_iter().map(Bytes::from_owner).collect();
        detach(py, Domain::General, || self.inner.running(|p| p.push(input, messages))?)
    }

    /// Call `input` is over or failed.
    fn finish_input(&self, py: Python<'_>, input: usize) -> PyResult<()> {
        detach(py, Domain::General, || self.inner.running(|p| p.finish_input(input)))
    }

    /// The serialized `SeriesResponse`s ready to send, in order; each call
    /// returns those that became ready since the last.
    fn take_ready<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        Ok(to_pybytes(py, self.inner.with(|p| p.take_ready())?))
    }

    /// Whether call `input` should wait before pushing more: the merge
    /// waits on other calls and this one is far ahead.
    fn backlogged(&self, input: usize) -> PyResult<bool> {
        self.inner.with(|p| p.backlogged(input))
    }

    fn add_warning(&self, warning: String) -> PyResult<()> {
        self.inner.add_warning(warning)
    }

    /// The rest of the answer once every call is over, warnings last.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let p = self.inner.take()?;
        let out = detach(py, Domain::General, move || Ok(p.finish()))?;
        Ok(to_pybytes(py, out))
    }
}

fn info_dict<'py>(py: Python<'py>, e: EndpointInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("component", e.component)?;
    let sets: Vec<Vec<(String, String)>> =
        e.label_sets.into_iter().map(|s| s.into_vec().into_iter().map(|l| (l.name, l.value)).collect()).collect();
    d.set_item("label_sets", sets)?;
    d.set_item("store", e.store)?;
    d.set_item("apis", e.apis)?;
    Ok(d)
}

/// An `Info` answer (`legacy`: of `thanos.Store/Info`) as
/// `{"component", "label_sets": [[(name, value)]], "store": (min, max) or None,
/// "apis": ["rules", "targets", "metadata", "exemplars"] (those announced)}`.
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
            apis: Vec::new(),
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
