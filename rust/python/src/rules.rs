//! The Rules API for Python: the sidecar's `thanos.Rules/Rules` answers
//! written from Prometheus's `/api/v1/rules`, and the querier's merge of the
//! endpoints' answers into Prometheus's `/api/v1/rules` and `/api/v1/alerts`.

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;
use thanos_core::labels::Labels;
use thanos_core::{Error, ErrorKind};
use thanos_query::rules::{self, Kind};
use thanos_store::rules as sidecar;

use crate::errors::{detach, to_pyerr, Domain};
use crate::store::to_pybytes;

/// Prometheus's `type` parameter that a `RulesRequest` asks for: `"alert"`,
/// `"record"`, or None for every rule.
#[pyfunction]
fn sidecar_rules_type(py: Python<'_>, request: &[u8]) -> PyResult<Option<&'static str>> {
    sidecar::request_type(request).map_err(|e| to_pyerr(py, &e, Domain::General))
}

/// The `RulesResponse` messages of a `/api/v1/rules` body, one per group,
/// with the external labels (sorted by name) added.
#[pyfunction]
fn encode_sidecar_rules<'py>(
    py: Python<'py>,
    body: &[u8],
    external_labels: Vec<(String, String)>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let external = Labels::from_pairs(external_labels);
    let messages = detach(py, Domain::General, || sidecar::responses(body, &external))?;
    Ok(to_pybytes(py, messages))
}

fn kind(name: &str) -> thanos_core::Result<Kind> {
    match name {
        "" => Ok(Kind::All),
        "alert" => Ok(Kind::Alert),
        "record" => Ok(Kind::Record),
        _ => Err(Error::new(ErrorKind::BadData, format!("not supported value {name:?}"))),
    }
}

/// The `RulesRequest` the querier sends for a `type` of `""`, `"alert"` or
/// `"record"`.
#[pyfunction]
fn encode_rules_request<'py>(py: Python<'py>, kind_name: &str) -> PyResult<Bound<'py, PyBytes>> {
    let k = kind(kind_name).map_err(|e| to_pyerr(py, &e, Domain::General))?;
    Ok(PyBytes::new(py, &k.request()))
}

/// The endpoints' `RulesResponse` messages merged and deduplicated by
/// `replica_labels`: the `data` JSON of `/api/v1/rules`, or of
/// `/api/v1/alerts` with `alerts`, and the endpoints' warnings.
/// `rule_names`, `groups` and `files` are Prometheus's `rule_name[]`,
/// `rule_group[]` and `file[]`.
#[pyfunction]
#[pyo3(signature = (messages, kind_name, replica_labels, alerts=false, rule_names=vec![], groups=vec![], files=vec![]))]
#[allow(clippy::too_many_arguments)]
fn merge_rules<'py>(
    py: Python<'py>,
    messages: Vec<PyBackedBytes>,
    kind_name: &str,
    replica_labels: Vec<String>,
    alerts: bool,
    rule_names: Vec<String>,
    groups: Vec<String>,
    files: Vec<String>,
) -> PyResult<(Bound<'py, PyBytes>, Vec<String>)> {
    let (data, warnings) = detach(py, Domain::General, || {
        let mut merged = rules::merge(messages.iter().map(|m| m.as_ref()), kind(kind_name)?, &replica_labels)?;
        rules::Filter { rule_names, groups, files }.apply(&mut merged);
        let data = if alerts { rules::alerts_json(&merged.groups) } else { rules::rules_json(&merged.groups) };
        Ok((data, merged.warnings))
    })?;
    Ok((PyBytes::new(py, &data), warnings))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sidecar_rules_type, m)?)?;
    m.add_function(wrap_pyfunction!(encode_sidecar_rules, m)?)?;
    m.add_function(wrap_pyfunction!(encode_rules_request, m)?)?;
    m.add_function(wrap_pyfunction!(merge_rules, m)?)?;
    Ok(())
}
