//! Bindings of the Metadata, Targets and Exemplars APIs: the sidecar's
//! conversions of Prometheus's HTTP answers into the gRPC messages
//! (`thanos_store::{metricmeta, targets, exemplars}`), and the querier's
//! requests and merges of the gathered answers
//! (`thanos_query::{metricmeta, targets, exemplars}`). Python moves bytes.

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;
use thanos_core::labels::Labels;
use thanos_query::{exemplars as qexemplars, metricmeta as qmeta, targets as qtargets};
use thanos_store::{exemplars, metricmeta, targets};

use crate::errors::{to_pyerr, Domain};

type Params = Vec<(String, String)>;
type Merged<'py> = (Bound<'py, PyBytes>, Vec<String>);

fn general<T>(py: Python<'_>, r: thanos_core::Result<T>) -> PyResult<T> {
    r.map_err(|e| to_pyerr(py, &e, Domain::General))
}

/// `/api/v1/metadata` parameters of a `MetricMetadataRequest`.
#[pyfunction]
fn sidecar_metadata_params(py: Python<'_>, request: &[u8]) -> PyResult<Params> {
    general(py, metricmeta::params(request))
}

/// Prometheus's `/api/v1/metadata` answer as a `MetricMetadataResponse`.
#[pyfunction]
fn sidecar_metadata_response<'py>(py: Python<'py>, body: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &general(py, metricmeta::response(body))?))
}

/// `/api/v1/targets` parameters of a `TargetsRequest`.
#[pyfunction]
fn sidecar_targets_params(py: Python<'_>, request: &[u8]) -> PyResult<Params> {
    general(py, targets::params(request))
}

/// Prometheus's `/api/v1/targets` answer as a `TargetsResponse`, external labels added.
#[pyfunction]
fn sidecar_targets_response<'py>(
    py: Python<'py>,
    body: &[u8],
    external_labels: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyBytes>> {
    let ext = Labels::from_pairs(external_labels);
    Ok(PyBytes::new(py, &general(py, targets::response(body, &ext))?))
}

/// `/api/v1/query_exemplars` parameters of an `ExemplarsRequest`.
#[pyfunction]
fn sidecar_exemplars_params(py: Python<'_>, request: &[u8]) -> PyResult<Params> {
    general(py, exemplars::params(request))
}

/// Prometheus's `/api/v1/query_exemplars` answer as `ExemplarsResponse`s, one
/// per series, external labels added.
#[pyfunction]
fn sidecar_exemplars_responses<'py>(
    py: Python<'py>,
    body: &[u8],
    external_labels: Vec<(String, String)>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let ext = Labels::from_pairs(external_labels);
    let messages = general(py, exemplars::responses(body, &ext))?;
    Ok(messages.iter().map(|m| PyBytes::new(py, m)).collect())
}

fn merged<'py>(py: Python<'py>, r: thanos_core::Result<(Vec<u8>, Vec<String>)>) -> PyResult<Merged<'py>> {
    let (json, warnings) = general(py, r)?;
    Ok((PyBytes::new(py, &json), warnings))
}

/// The querier's `MetricMetadataRequest`.
#[pyfunction]
fn encode_metadata_request<'py>(
    py: Python<'py>,
    metric: &str,
    limit: i32,
    partial_response: bool,
) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &qmeta::encode_request(metric, limit, partial_response))
}

/// The endpoints' `MetricMetadataResponse`s merged: `(data JSON, warnings)`.
#[pyfunction]
fn merge_metadata<'py>(py: Python<'py>, answers: Vec<Vec<PyBackedBytes>>, limit: i32) -> PyResult<Merged<'py>> {
    merged(py, qmeta::merge(&answers, limit))
}

/// The querier's `TargetsRequest` for `state`, or None when `state` is not
/// one of `any`, `active`, `dropped` (any case) or empty.
#[pyfunction]
fn encode_targets_request<'py>(py: Python<'py>, state: &str, partial_response: bool) -> Option<Bound<'py, PyBytes>> {
    qtargets::encode_request(state, partial_response).map(|r| PyBytes::new(py, &r))
}

/// The endpoints' `TargetsResponse`s merged and deduplicated: `(data JSON, warnings)`.
#[pyfunction]
fn merge_targets<'py>(
    py: Python<'py>,
    answers: Vec<Vec<PyBackedBytes>>,
    replica_labels: Vec<String>,
) -> PyResult<Merged<'py>> {
    merged(py, qtargets::merge(&answers, &replica_labels))
}

/// The `ExemplarsRequest` for each endpoint (by its label sets), None where
/// it is not asked; None for a query without selectors.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn exemplars_requests<'py>(
    py: Python<'py>,
    query: &str,
    start: i64,
    end: i64,
    partial_response: bool,
    selector_labels: Vec<(String, String)>,
    endpoints: Vec<Vec<Vec<(String, String)>>>,
) -> PyResult<Option<Vec<Option<Bound<'py, PyBytes>>>>> {
    let sel = Labels::from_pairs(selector_labels);
    let endpoints: Vec<Vec<Labels>> =
        endpoints.into_iter().map(|sets| sets.into_iter().map(Labels::from_pairs).collect()).collect();
    let requests = general(py, qexemplars::requests(query, start, end, partial_response, &sel, &endpoints))?;
    Ok(requests.map(|rs| rs.into_iter().map(|r| r.map(|r| PyBytes::new(py, &r))).collect()))
}

/// The endpoints' `ExemplarsResponse`s merged and deduplicated: `(data JSON, warnings)`.
#[pyfunction]
fn merge_exemplars<'py>(
    py: Python<'py>,
    answers: Vec<Vec<PyBackedBytes>>,
    replica_labels: Vec<String>,
) -> PyResult<Merged<'py>> {
    merged(py, qexemplars::merge(&answers, &replica_labels))
}

/// Whether a request to the querier's own `api` service (`rules`, `targets`,
/// `metadata`) asks for partial response.
#[pyfunction]
fn proxy_request_partial(py: Python<'_>, api: &str, request: &[u8]) -> PyResult<bool> {
    general(
        py,
        match api {
            "rules" => thanos_query::rules::request_partial_response(request),
            "targets" => qtargets::request_partial(request),
            _ => qmeta::request_partial(request),
        },
    )
}

/// A response of `api` (`rules`, `targets`, `metadata`, `exemplars`) carrying a warning.
#[pyfunction]
fn proxy_warning<'py>(py: Python<'py>, api: &str, text: &str) -> Bound<'py, PyBytes> {
    let message = match api {
        "rules" => thanos_query::rules::warning_message(text),
        "targets" => qtargets::warning(text),
        "exemplars" => qexemplars::warning(text),
        _ => qmeta::warning(text),
    };
    PyBytes::new(py, &message)
}

/// For the querier's own Exemplars service: `(partial response, requests)`,
/// the requests as [`exemplars_requests`] gives them.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn exemplars_proxy_requests<'py>(
    py: Python<'py>,
    request: &[u8],
    selector_labels: Vec<(String, String)>,
    endpoints: Vec<Vec<Vec<(String, String)>>>,
) -> PyResult<(bool, Option<Vec<Option<Bound<'py, PyBytes>>>>)> {
    let sel = Labels::from_pairs(selector_labels);
    let endpoints: Vec<Vec<Labels>> =
        endpoints.into_iter().map(|sets| sets.into_iter().map(Labels::from_pairs).collect()).collect();
    let (partial, requests) = general(py, qexemplars::proxy_requests(request, &sel, &endpoints))?;
    Ok((partial, requests.map(|rs| rs.into_iter().map(|r| r.map(|r| PyBytes::new(py, &r))).collect())))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sidecar_metadata_params, m)?)?;
    m.add_function(wrap_pyfunction!(sidecar_metadata_response, m)?)?;
    m.add_function(wrap_pyfunction!(sidecar_targets_params, m)?)?;
    m.add_function(wrap_pyfunction!(sidecar_targets_response, m)?)?;
    m.add_function(wrap_pyfunction!(sidecar_exemplars_params, m)?)?;
    m.add_function(wrap_pyfunction!(sidecar_exemplars_responses, m)?)?;
    m.add_function(wrap_pyfunction!(encode_metadata_request, m)?)?;
    m.add_function(wrap_pyfunction!(merge_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(encode_targets_request, m)?)?;
    m.add_function(wrap_pyfunction!(merge_targets, m)?)?;
    m.add_function(wrap_pyfunction!(exemplars_requests, m)?)?;
    m.add_function(wrap_pyfunction!(merge_exemplars, m)?)?;
    m.add_function(wrap_pyfunction!(proxy_request_partial, m)?)?;
    m.add_function(wrap_pyfunction!(proxy_warning, m)?)?;
    m.add_function(wrap_pyfunction!(exemplars_proxy_requests, m)?)?;
    Ok(())
}
