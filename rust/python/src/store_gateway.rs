//! The store gateway's data plane for Python: Python syncs block metadata and
//! makes the gRPC replies; Rust opens the blocks (building their index
//! headers) and answers Series, LabelNames and LabelValues with ready
//! messages, reading the bucket with the GIL released.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use thanos_core::labels::Labels;
use thanos_store::bucket::{BucketSeries, BucketStore, Options, SERIES_BATCH_SIZE};
use thanos_store::info;
use thanos_store::limiter::Limits;
use thanos_tsdb::bucket::block::Segment;
use thanos_tsdb::bucket::cache::{ItemType, DEFAULT_MAX_BYTES};
use thanos_tsdb::bucket::{BucketBlock, ObjectReader};
use thanos_tsdb::BlockMeta;

use crate::errors::{detach, Domain};
use crate::objstore::PyBucket;
use crate::store::to_pybytes;

#[pyclass(name = "BucketStore", module = "thanos_rs._core", frozen)]
pub struct PyBucketStore {
    inner: Arc<BucketStore>,
}

#[pymethods]
impl PyBucketStore {
    /// A store with an index cache of `index_cache_size` bytes, limits per
    /// `Series` call (0: none), requests cut to `[min_time, max_time]` ms and
    /// chunks read `series_batch_size` series at a time.
    #[new]
    #[pyo3(signature = (*, index_cache_size=DEFAULT_MAX_BYTES, series_sample_limit=0, touched_series_limit=0,
                        min_time=i64::MIN, max_time=i64::MAX, series_batch_size=SERIES_BATCH_SIZE))]
    fn new(
        index_cache_size: u64,
        series_sample_limit: u64,
        touched_series_limit: u64,
        min_time: i64,
        max_time: i64,
        series_batch_size: usize,
    ) -> Self {
        let limits = Limits { samples: series_sample_limit, series: touched_series_limit };
        let options = Options { index_cache_bytes: index_cache_size, limits, min_time, max_time, series_batch_size };
        PyBucketStore { inner: Arc::new(BucketStore::new(options)) }
    }

    /// The index cache's budget and largest item kept, in bytes.
    fn index_cache_limits(&self) -> (u64, u64) {
        (self.inner.cache().max_bytes(), self.inner.cache().max_item_bytes())
    }

    /// The index cache's counters by item type (`Postings`, `Series`): a dict
    /// of `requests`, `hits`, `added`, `evicted`, `overflowed`, `items`, `bytes`.
    fn index_cache_stats(&self) -> HashMap<&'static str, HashMap<&'static str, u64>> {
        let cache = self.inner.cache();
        ItemType::ALL
            .iter()
            .map(|&kind| {
                let s = cache.stats(kind);
                let counters = [
                    ("requests", s.requests),
                    ("hits", s.hits),
                    ("added", s.added),
                    ("evicted", s.evicted),
                    ("overflowed", s.overflowed),
                    ("items", s.items),
                    ("bytes", s.bytes),
                ];
                (kind.name(), counters.into_iter().collect())
            })
            .collect()
    }

    /// Opens the block of `meta` (its `meta.json`) from `bucket`: its index of
    /// `index_size` bytes, its chunk `segments` as `(name, size)` in segment
    /// order. Its index header is built in, or reused from, `cache_dir`.
    #[allow(clippy::too_many_arguments)]
    fn add_block(
        &self,
        py: Python<'_>,
        bucket: &PyBucket,
        meta: &[u8],
        index_size: u64,
        segments: Vec<(String, u64)>,
        external_labels: Vec<(String, String)>,
        cache_dir: PathBuf,
    ) -> PyResult<()> {
        let reader: Arc<dyn ObjectReader> = Arc::new(bucket.bucket().clone());
        let store = Arc::clone(&self.inner);
        detach(py, Domain::General, move || {
            let meta = BlockMeta::parse(&cache_dir.join("meta.json"), meta)?;
            let segments = segments.into_iter().map(|(name, size)| Segment { name, size }).collect();
            let block = BucketBlock::open(reader, meta, index_size, segments, &cache_dir)?;
            store.add(Labels::from_pairs(external_labels), block);
            Ok(())
        })
    }

    /// Stops serving a block; True if it was served.
    fn remove_block(&self, ulid: &str) -> bool {
        self.inner.remove(ulid)
    }

    fn ulids(&self) -> Vec<String> {
        self.inner.ulids()
    }

    /// `(min_time, max_time)` of the blocks in ms, or None without blocks.
    fn time_range(&self) -> Option<(i64, i64)> {
        self.inner.time_range()
    }

    /// The external label sets of the blocks, as sorted `(name, value)` pairs.
    fn label_sets(&self) -> Vec<Vec<(String, String)>> {
        self.inner.label_sets().iter().map(|s| s.iter().map(|l| (l.name.clone(), l.value.clone())).collect()).collect()
    }

    /// Starts answering a `thanos.SeriesRequest`: reads the selected series
    /// from the bucket; `BucketSeries.next` encodes them.
    fn series(&self, py: Python<'_>, request: &[u8]) -> PyResult<PyBucketSeries> {
        let store = Arc::clone(&self.inner);
        let series = detach(py, Domain::General, move || store.series(request))?;
        Ok(PyBucketSeries { inner: Mutex::new(series) })
    }

    /// The encoded `LabelNamesResponse` of a `LabelNamesRequest`.
    fn label_names<'py>(&self, py: Python<'py>, request: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let store = Arc::clone(&self.inner);
        let answer = detach(py, Domain::General, move || store.label_names(request))?;
        Ok(PyBytes::new(py, &answer))
    }

    /// The encoded `LabelValuesResponse` of a `LabelValuesRequest`.
    fn label_values<'py>(&self, py: Python<'py>, request: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let store = Arc::clone(&self.inner);
        let answer = detach(py, Domain::General, move || store.label_values(request))?;
        Ok(PyBytes::new(py, &answer))
    }
}

/// One `Series` call of a store gateway, answered a piece at a time.
#[pyclass(name = "BucketSeries", module = "thanos_rs._core", frozen)]
pub struct PyBucketSeries {
    inner: Mutex<BucketSeries>,
}

#[pymethods]
impl PyBucketSeries {
    /// The next messages, about `budget` bytes of them; empty once all are sent.
    fn next<'py>(&self, py: Python<'py>, budget: usize) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let mut guard = self.inner.lock().expect("not poisoned");
        let series: &mut BucketSeries = &mut guard;
        let messages = detach(py, Domain::General, move || series.next_messages(budget))?;
        Ok(to_pybytes(py, messages))
    }
}

fn to_labels(sets: Vec<Vec<(String, String)>>) -> Vec<Labels> {
    sets.into_iter().map(Labels::from_pairs).collect()
}

/// `thanos.info.InfoResponse` of a store gateway.
#[pyfunction]
fn encode_store_gateway_info(
    py: Python<'_>,
    label_sets: Vec<Vec<(String, String)>>,
    min_time: i64,
    max_time: i64,
) -> Bound<'_, PyBytes> {
    PyBytes::new(py, &info::store_gateway_info(&to_labels(label_sets), min_time, max_time))
}

/// `thanos.InfoResponse` of a store gateway's legacy `Store/Info`.
#[pyfunction]
fn encode_store_gateway_store_info(
    py: Python<'_>,
    label_sets: Vec<Vec<(String, String)>>,
    min_time: i64,
    max_time: i64,
) -> Bound<'_, PyBytes> {
    PyBytes::new(py, &info::store_gateway_store_info(&to_labels(label_sets), min_time, max_time))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBucketStore>()?;
    m.add_class::<PyBucketSeries>()?;
    m.add_function(wrap_pyfunction!(encode_store_gateway_info, m)?)?;
    m.add_function(wrap_pyfunction!(encode_store_gateway_store_info, m)?)?;
    Ok(())
}
