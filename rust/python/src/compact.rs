//! The compactor's block work for Python: `thanos_rs.compact` plans, this
//! merges and downsamples, and writes blocks of given chunks. Runs with the
//! GIL released.

use std::collections::BTreeSet;
use std::path::PathBuf;

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;
use thanos_compact::Dedup;
use thanos_core::labels::Labels;
use thanos_core::{Error, ErrorKind};
use thanos_tsdb::block::Chunk;
use thanos_tsdb::chunks::ENCODING_XOR;
use thanos_tsdb::index::ChunkMeta;
use thanos_tsdb::meta::{BlockMeta, BlockMetaCompaction};
use thanos_tsdb::writer::BlockWriter;

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

/// A series as Python gives it: label pairs, and XOR chunks as
/// `(min_time, max_time, bytes)`.
type SeriesChunks = (Vec<(String, String)>, Vec<(i64, i64, PyBackedBytes)>);

/// Writes block `ulid` under `parent` from `series`: each its label pairs and
/// its XOR chunks `(min_time, max_time, bytes)` in time order, the series in
/// any order; returns the `meta.json` written (level 1, its own source, no
/// Thanos section). For tools and tests that need blocks of synthetic data,
/// as Thanos's thanosbench makes them.
#[pyfunction]
fn write_block<'py>(
    py: Python<'py>,
    parent: PathBuf,
    ulid: String,
    series: Vec<SeriesChunks>,
) -> PyResult<Bound<'py, PyBytes>> {
    let meta = detach(py, Domain::General, move || {
        let mut series: Vec<(Labels, Vec<Chunk>)> = series
            .into_iter()
            .map(|(labels, chunks)| {
                let chunks = chunks
                    .into_iter()
                    .map(|(min_time, max_time, data)| Chunk {
                        meta: ChunkMeta { chunk_ref: 0, min_time, max_time },
                        encoding: ENCODING_XOR,
                        data: Bytes::from_owner(data),
                    })
                    .collect();
                (Labels::from_pairs(labels), chunks)
            })
            .collect();
        series.sort_by(|a, b| a.0.cmp(&b.0));
        let symbols: BTreeSet<&str> =
            series.iter().flat_map(|(l, _)| l.iter().flat_map(|l| [l.name.as_str(), l.value.as_str()])).collect();
        let mut writer = BlockWriter::create(&parent, &ulid, symbols.iter().copied())?;
        let (mut min_time, mut max_time) = (i64::MAX, i64::MIN);
        for (labels, chunks) in &series {
            for c in chunks {
                min_time = min_time.min(c.meta.min_time);
                max_time = max_time.max(c.meta.max_time);
            }
            writer.add_series(labels, chunks)?;
        }
        if min_time > max_time {
            return Err(Error::new(ErrorKind::BadData, "a block needs at least one chunk"));
        }
        writer.finish(BlockMeta {
            ulid: ulid.clone(),
            min_time,
            // The block's range is half-open.
            max_time: max_time + 1,
            stats: Default::default(),
            compaction: BlockMetaCompaction { level: 1, sources: vec![ulid.clone()], ..Default::default() },
            version: 0,
            thanos: None,
        })
    })?;
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
    m.add_function(wrap_pyfunction!(write_block, m)?)?;
    m.add_function(wrap_pyfunction!(labels_hash, m)?)
}
