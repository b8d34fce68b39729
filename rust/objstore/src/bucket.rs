//! A bucket with Thanos's `objstore.Bucket` operations, blocking, over the
//! `object_store` crate's providers.

use std::io::Read;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Once};

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart};
use thanos_core::{Error, ErrorKind, Result};

use crate::config::{AzureConfig, BucketConfig, GcsConfig, Provider, S3Config};
use crate::runtime::block_on;

/// Thanos's directory delimiter (`objstore.DirDelim`).
pub const DIR_DELIM: &str = "/";

/// Files up to this size are uploaded in one request, larger ones in parts of
/// this size. S3 takes parts of 5 MiB to 5 GiB and at most 10,000 of them
/// (AWS's "Amazon S3 multipart upload limits"), so 16 MiB parts allow objects
/// of 156 GiB, far above Prometheus's 512 MiB chunk segments, while a
/// sidecar holds at most `UPLOAD_PARTS_IN_FLIGHT` of them in memory.
const PART_SIZE: usize = 16 << 20;
const UPLOAD_PARTS_IN_FLIGHT: usize = 4;

/// The blocking client of one bucket. Cheap to clone; every clone shares the
/// provider's connection pool.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    name: String,
    /// A FILESYSTEM bucket's root (with its prefix): ranged reads go
    /// straight to the files ([`crate::local`]).
    local: Option<PathBuf>,
}

impl Bucket {
    /// Connects nothing yet: providers check their options here and open
    /// connections on the first request.
    pub fn new(config: &BucketConfig) -> Result<Self> {
        let (store, name): (Arc<dyn ObjectStore>, String) = match &config.provider {
            Provider::Filesystem { directory } => {
                // Thanos's filesystem bucket creates directories as objects
                // are written; the crate wants the root to exist already.
                std::fs::create_dir_all(directory).map_err(|e| {
                    Error::new(ErrorKind::Bucket, format!("create directory {}: {e}", directory.display()))
                })?;
                let fs = LocalFileSystem::new_with_prefix(directory)
                    .map_err(|e| config_error("FILESYSTEM", e))?
                    // Deleting the last object of a directory removes the
                    // directory, as Thanos's filesystem bucket does, so that
                    // a deleted block leaves nothing for Iter to list.
                    .with_automatic_cleanup(true);
                (Arc::new(fs), format!("fs: {}", directory.display()))
            }
            Provider::S3(s3) => (s3_store(s3)?, s3.bucket.clone()),
            Provider::Gcs(gcs) => (gcs_store(gcs)?, gcs.bucket.clone()),
            Provider::Azure(azure) => (azure_store(azure)?, azure.container.clone()),
        };
        let prefix = config.prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { store } else { Arc::new(PrefixStore::new(store, object_path(prefix)?)) };
        let local = match &config.provider {
            Provider::Filesystem { directory } => Some(directory.join(object_path(prefix)?.as_ref())),
            _ => None,
        };
        Ok(Bucket { store, name, local })
    }

    /// Thanos's `Bucket.Name()`: the bucket or container, or `fs: <directory>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Thanos's `Iter`: the names directly under `dir`, directories with a
    /// trailing `/`; with `recursive`, every object under `dir` at any depth.
    /// Names are relative to the bucket (they start with `dir`) and sorted; a
    /// directory that does not exist has no names.
    pub fn iter(&self, dir: &str, recursive: bool) -> Result<Vec<String>> {
        let dir = dir.trim_end_matches(DIR_DELIM);
        let prefix = if dir.is_empty() { None } else { Some(object_path(dir)?) };
        let mut names: Vec<String> = if recursive {
            block_on(self.store.list(prefix.as_ref()).map_ok(|meta| meta.location.to_string()).try_collect())
                .map_err(|e| bucket_error("iter", dir, e))?
        } else {
            let listing =
                block_on(self.store.list_with_delimiter(prefix.as_ref())).map_err(|e| bucket_error("iter", dir, e))?;
            let dirs = listing.common_prefixes.into_iter().map(|p| format!("{p}{DIR_DELIM}"));
            listing.objects.into_iter().map(|meta| meta.location.to_string()).chain(dirs).collect()
        };
        names.sort_unstable();
        Ok(names)
    }

    /// The whole object.
    pub fn get(&self, name: &str) -> Result<Bytes> {
        let path = object_path(name)?;
        block_on(async { self.store.get(&path).await?.bytes().await }).map_err(|e| bucket_error("get", name, e))
    }

    /// Bytes `range` of the object; the range must lie inside it.
    pub fn get_range(&self, name: &str, range: Range<u64>) -> Result<Bytes> {
        let path = object_path(name)?;
        block_on(self.store.get_range(&path, range)).map_err(|e| bucket_error("get range", name, e))
    }

    /// Several ranges of one object, in the order asked. Ranges less than the
    /// crate's `OBJECT_STORE_COALESCE_DEFAULT` (1 MiB) apart are fetched by one
    /// request and split, as a store gateway's postings and series reads are.
    pub fn get_ranges(&self, name: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let path = object_path(name)?;
        if let Some(root) = &self.local {
            return crate::local::get_ranges(root, path.as_ref(), ranges);
        }
        block_on(self.store.get_ranges(&path, ranges)).map_err(|e| bucket_error("get ranges", name, e))
    }

    /// Whether the object exists; a failing bucket is an error, not `false`.
    pub fn exists(&self, name: &str) -> Result<bool> {
        match self.size(name) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::ObjectNotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The object's size in bytes (Thanos's `Attributes().Size`).
    pub fn size(&self, name: &str) -> Result<u64> {
        let path = object_path(name)?;
        block_on(self.store.head(&path)).map(|meta| meta.size).map_err(|e| bucket_error("size", name, e))
    }

    /// Writes the object whole, replacing any object of that name.
    pub fn upload(&self, name: &str, data: Bytes) -> Result<()> {
        let path = object_path(name)?;
        block_on(self.store.put(&path, PutPayload::from_bytes(data)))
            .map(drop)
            .map_err(|e| bucket_error("upload", name, e))
    }

    /// Uploads a local file, reading it as it goes: in one request up to
    /// [`PART_SIZE`], as a multipart upload above.
    pub fn upload_file(&self, name: &str, file: &std::path::Path) -> Result<()> {
        let local_error =
            |e: std::io::Error| Error::new(ErrorKind::Bucket, format!("upload {name}: read {}: {e}", file.display()));
        let mut reader = std::fs::File::open(file).map_err(local_error)?;
        let size = reader.metadata().map_err(local_error)?.len();
        if size <= PART_SIZE as u64 {
            let mut data = Vec::with_capacity(size as usize);
            reader.read_to_end(&mut data).map_err(local_error)?;
            return self.upload(name, Bytes::from(data));
        }
        let path = object_path(name)?;
        // One future for the whole upload: the writer spawns a task per part
        // on the runtime it runs in. The file is read with blocking calls,
        // which hold up only this caller's thread: `block_on` polls the
        // future here, and the parts' requests run on the runtime's workers.
        block_on(async {
            let upload = self.store.put_multipart(&path).await.map_err(|e| bucket_error("upload", name, e))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            let mut buf = vec![0; 1 << 20];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => {
                        // Abort, so that the bucket keeps no parts of a file it
                        // will never complete; the read error is what matters.
                        let _ = writer.abort().await;
                        return Err(local_error(e));
                    }
                };
                writer.wait_for_capacity(UPLOAD_PARTS_IN_FLIGHT).await.map_err(|e| bucket_error("upload", name, e))?;
                writer.write(&buf[..n]);
            }
            writer.finish().await.map(drop).map_err(|e| bucket_error("upload", name, e))
        })
    }

    /// Removes the object; a missing object is an `ObjectNotFound` error, as
    /// in Thanos's providers.
    pub fn delete(&self, name: &str) -> Result<()> {
        let path = object_path(name)?;
        // Stores whose delete succeeds on a missing object (S3) say nothing,
        // so ask first: deletion is rare and a race here is harmless.
        block_on(async {
            self.store.head(&path).await?;
            self.store.delete(&path).await
        })
        .map_err(|e| bucket_error("delete", name, e))
    }
}

/// An object name as the crate's path, which refuses empty segments, `.` and
/// `..`: none appears in Thanos's layout, and each would name another object.
fn object_path(name: &str) -> Result<ObjectPath> {
    ObjectPath::parse(name).map_err(|e| Error::new(ErrorKind::BadData, format!("invalid object name {name:?}: {e}")))
}

/// A failed request, named by the operation and the object.
fn bucket_error(op: &str, name: &str, err: object_store::Error) -> Error {
    // Iter of the bucket's root has no name to show.
    let what = if name.is_empty() { op.to_string() } else { format!("{op} {name}") };
    match err {
        object_store::Error::NotFound { .. } => {
            Error::new(ErrorKind::ObjectNotFound, format!("{what}: object not found"))
        }
        other => Error::new(ErrorKind::Bucket, format!("{what}: {}", with_causes(&other))),
    }
}

/// The error and the errors under it: the crate's messages stop at "error
/// sending request", and why (a refused certificate, a reset connection) is
/// in its sources. None of them holds a credential: those travel in headers.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

fn config_error(provider: &str, err: object_store::Error) -> Error {
    Error::new(ErrorKind::Bucket, format!("create {provider} client: {err}"))
}

fn client_options(insecure_skip_verify: bool) -> ClientOptions {
    install_crypto_provider();
    ClientOptions::new().with_allow_invalid_certificates(insecure_skip_verify)
}

/// reqwest is built without a crypto provider of its own (Cargo.toml) and
/// takes the process's default: ring, made the default here before the first
/// client. Another part of the process may have installed one already, which
/// then serves as well.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn retry(max_retries: Option<usize>) -> RetryConfig {
    let default = RetryConfig::default();
    RetryConfig { max_retries: max_retries.unwrap_or(default.max_retries), ..default }
}

fn s3_store(c: &S3Config) -> Result<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&c.bucket)
        .with_region(if c.region.is_empty() { "us-east-1" } else { &c.region })
        .with_client_options(client_options(c.insecure_skip_verify))
        .with_retry(retry(c.max_retries))
        .with_allow_http(c.insecure);
    // AWS's own endpoints are left to the crate, which addresses buckets as
    // AWS wants (virtual-hosted style); any other server gets path-style
    // requests, which every S3-compatible server understands.
    if !is_aws_endpoint(&c.endpoint) {
        let scheme = if c.insecure { "http" } else { "https" };
        builder = builder.with_endpoint(format!("{scheme}://{}", c.endpoint));
    }
    if !c.access_key.is_empty() {
        builder = builder.with_access_key_id(&c.access_key).with_secret_access_key(&c.secret_key);
    }
    if !c.session_token.is_empty() {
        builder = builder.with_token(&c.session_token);
    }
    Ok(Arc::new(builder.build().map_err(|e| config_error("S3", e))?))
}

/// `s3.amazonaws.com` or a regional `s3.<region>.amazonaws.com` (also
/// `s3-<region>`, `s3.dualstack.<region>`).
fn is_aws_endpoint(endpoint: &str) -> bool {
    endpoint.starts_with("s3") && endpoint.ends_with(".amazonaws.com")
}

fn gcs_store(c: &GcsConfig) -> Result<Arc<dyn ObjectStore>> {
    let mut builder = GoogleCloudStorageBuilder::new()
        .with_bucket_name(&c.bucket)
        .with_client_options(client_options(c.insecure_skip_verify))
        .with_retry(retry(c.max_retries));
    if !c.service_account.is_empty() {
        builder = builder.with_service_account_key(&c.service_account);
    }
    Ok(Arc::new(builder.build().map_err(|e| config_error("GCS", e))?))
}

fn azure_store(c: &AzureConfig) -> Result<Arc<dyn ObjectStore>> {
    let mut builder = MicrosoftAzureBuilder::new()
        .with_account(&c.storage_account)
        .with_container_name(&c.container)
        .with_client_options(client_options(c.insecure_skip_verify))
        .with_retry(retry(c.max_retries));
    if !c.storage_account_key.is_empty() {
        builder = builder.with_access_key(&c.storage_account_key);
    }
    if !c.endpoint.is_empty() {
        builder = builder.with_endpoint(format!("https://{}.{}", c.storage_account, c.endpoint));
    }
    Ok(Arc::new(builder.build().map_err(|e| config_error("AZURE", e))?))
}
