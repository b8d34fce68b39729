//! Object storage for Python: `thanos_rs.objstore.Bucket` wraps this class.
//! Python reads and checks the YAML config; the constructors here take its
//! typed values, one per provider. Every request runs with the GIL released.

use std::path::PathBuf;

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use thanos_core::{Error, ErrorKind};
use thanos_objstore::{AzureConfig, Bucket, BucketConfig, GcsConfig, Provider, S3Config};
use thanos_tsdb::BlockMeta;

use crate::errors::{detach, to_pyerr, Domain};

#[pyclass(name = "Bucket", module = "thanos_rs._core", frozen)]
pub struct PyBucket {
    inner: Bucket,
    type_name: &'static str,
}

impl PyBucket {
    /// The Rust client, for readers in Rust (the store gateway's blocks).
    pub(crate) fn bucket(&self) -> &Bucket {
        &self.inner
    }
}

fn open(py: Python<'_>, provider: Provider, prefix: String) -> PyResult<PyBucket> {
    let type_name = provider.type_name();
    let config = BucketConfig { provider, prefix };
    let inner = detach(py, Domain::General, || Bucket::new(&config))?;
    Ok(PyBucket { inner, type_name })
}

#[pymethods]
impl PyBucket {
    #[staticmethod]
    #[pyo3(signature = (*, directory, prefix))]
    fn filesystem(py: Python<'_>, directory: PathBuf, prefix: String) -> PyResult<Self> {
        open(py, Provider::Filesystem { directory }, prefix)
    }

    #[staticmethod]
    #[pyo3(signature = (*, bucket, endpoint, region, access_key, secret_key, session_token, insecure,
                        insecure_skip_verify, max_retries, prefix))]
    #[allow(clippy::too_many_arguments)]
    fn s3(
        py: Python<'_>,
        bucket: String,
        endpoint: String,
        region: String,
        access_key: String,
        secret_key: String,
        session_token: String,
        insecure: bool,
        insecure_skip_verify: bool,
        max_retries: Option<usize>,
        prefix: String,
    ) -> PyResult<Self> {
        let config = S3Config {
            bucket,
            endpoint,
            region,
            access_key,
            secret_key,
            session_token,
            insecure,
            insecure_skip_verify,
            max_retries,
        };
        open(py, Provider::S3(config), prefix)
    }

    #[staticmethod]
    #[pyo3(signature = (*, bucket, service_account, insecure_skip_verify, max_retries, prefix))]
    fn gcs(
        py: Python<'_>,
        bucket: String,
        service_account: String,
        insecure_skip_verify: bool,
        max_retries: Option<usize>,
        prefix: String,
    ) -> PyResult<Self> {
        open(py, Provider::Gcs(GcsConfig { bucket, service_account, insecure_skip_verify, max_retries }), prefix)
    }

    #[staticmethod]
    #[pyo3(signature = (*, storage_account, storage_account_key, container, endpoint, insecure_skip_verify,
                        max_retries, prefix))]
    #[allow(clippy::too_many_arguments)]
    fn azure(
        py: Python<'_>,
        storage_account: String,
        storage_account_key: String,
        container: String,
        endpoint: String,
        insecure_skip_verify: bool,
        max_retries: Option<usize>,
        prefix: String,
    ) -> PyResult<Self> {
        let config = AzureConfig {
            storage_account,
            storage_account_key,
            container,
            endpoint,
            insecure_skip_verify,
            max_retries,
        };
        open(py, Provider::Azure(config), prefix)
    }

    /// Thanos's `Bucket.Name()`: the bucket or container, `fs: <directory>`.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// `FILESYSTEM`, `S3`, `GCS` or `AZURE`.
    #[getter]
    fn r#type(&self) -> &'static str {
        self.type_name
    }

    #[pyo3(signature = (dir, recursive))]
    fn iter(&self, py: Python<'_>, dir: &str, recursive: bool) -> PyResult<Vec<String>> {
        detach(py, Domain::General, || self.inner.iter(dir, recursive))
    }

    fn get<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        let data = detach(py, Domain::General, || self.inner.get(name))?;
        Ok(PyBytes::new(py, &data))
    }

    fn get_range<'py>(&self, py: Python<'py>, name: &str, offset: u64, length: u64) -> PyResult<Bound<'py, PyBytes>> {
        let data = detach(py, Domain::General, || self.inner.get_range(name, offset..offset.saturating_add(length)))?;
        Ok(PyBytes::new(py, &data))
    }

    /// `ranges` as `(offset, length)` pairs; nearby ones are read together.
    fn get_ranges<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        ranges: Vec<(u64, u64)>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let ranges: Vec<_> = ranges.into_iter().map(|(off, len)| off..off.saturating_add(len)).collect();
        let parts = detach(py, Domain::General, || self.inner.get_ranges(name, &ranges))?;
        Ok(parts.iter().map(|p| PyBytes::new(py, p)).collect())
    }

    fn exists(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        detach(py, Domain::General, || self.inner.exists(name))
    }

    fn size(&self, py: Python<'_>, name: &str) -> PyResult<u64> {
        detach(py, Domain::General, || self.inner.size(name))
    }

    fn upload(&self, py: Python<'_>, name: &str, data: Bytes) -> PyResult<()> {
        detach(py, Domain::General, || self.inner.upload(name, data))
    }

    fn upload_file(&self, py: Python<'_>, name: &str, path: PathBuf) -> PyResult<()> {
        detach(py, Domain::General, || self.inner.upload_file(name, &path))
    }

    fn delete(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        detach(py, Domain::General, || self.inner.delete(name))
    }
}

/// Checks a block's `meta.json` (Prometheus's fields and Thanos's section) as
/// the TSDB reader does, and returns it as JSON with every default filled in.
/// `name` only names the object in errors (`CorruptBlockError`).
#[pyfunction]
fn parse_block_meta(py: Python<'_>, name: PathBuf, data: &[u8]) -> PyResult<String> {
    let meta = BlockMeta::parse(&name, data).map_err(|e| to_pyerr(py, &e, Domain::General))?;
    serde_json::to_string(&meta)
        .map_err(|e| to_pyerr(py, &Error::new(ErrorKind::Internal, format!("encode meta.json: {e}")), Domain::General))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBucket>()?;
    m.add_function(wrap_pyfunction!(parse_block_meta, m)?)?;
    Ok(())
}
