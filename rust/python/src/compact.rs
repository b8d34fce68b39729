//! The compactor's block work for Python: `thanos_rs.compact` plans, this
//! merges and downsamples. Runs with the GIL released.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use thanos_compact::Dedup;
use thanos_core::labels::Labels;
use thanos_core::{Error, ErrorKind};
use thanos_tsdb::meta::BlockMeta;

use crate::errors::{detach, to_pyerr, Domain};

/// Compacts the block directories `sources` into block `ulid` under
/// `parent`, label sets of several sources merged by `deduplication_func`
/// (Thanos's flag: "" or "penalty"); returns the new block's `meta.json`.
#[pyfunction]
#[pyo3(signature = (sources, parent, ulid, deduplication_func = ""))]
fn compact_blocks<'py>(
    py: Python<'py>,
    sources: Vec<PathBuf>,
    parent: PathBuf,
    ulid: String,
    deduplication_func: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let dedup = Dedup::from_flag(deduplication_func).map_err(|e| to_pyerr(py, &e, Domain::General))?;
    let meta = detach(py, Domain::General, || thanos_compact::compact_blocks_with(&sources, &parent, &ulid, dedup))?;
    meta_json(py, &meta)
}

/// Downsamples block directory `source` to `resolution` (ms) as block `ulid`
/// under `parent`; returns the new block's `meta.json` as written.
#[pyfunction]
fn downsample_block<'py>(
    py: Python<'py>,
    source: PathBuf,
    parent: PathBuf,
    ulid: String,
    resolution: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    let meta = detach(py, Domain::General, || thanos_compact::downsample_block(&source, &parent, &ulid, resolution))?;
    meta_json(py, &meta)
}

fn meta_json<'py>(py: Python<'py>, meta: &BlockMeta) -> PyResult<Bound<'py, PyBytes>> {
    let json = serde_json::to_vec(meta).map_err(|e| {
        to_pyerr(py, &Error::new(ErrorKind::Internal, format!("encode meta.json: {e}")), Domain::General)
    })?;
    Ok(PyBytes::new(py, &json))
}

/// Prometheus's hash of a label set, which names a compaction group
/// (`Thanos.GroupKey`: `<resolution>@<hash>`).
#[pyfunction]
fn labels_hash(labels: Vec<(String, String)>) -> u64 {
    Labels::from_pairs(labels).prometheus_hash()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compact_blocks, m)?)?;
    m.add_function(wrap_pyfunction!(downsample_block, m)?)?;
    m.add_function(wrap_pyfunction!(labels_hash, m)?)
}
