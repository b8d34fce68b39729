//! A bucket's configuration: the typed values of Thanos's objstore YAML
//! (`client.BucketConfig` in thanos-io/objstore, with one struct per provider
//! under `providers/`). Python reads the YAML and checks its fields; these
//! types only carry what the providers of the `object_store` crate take.
//!
//! None of them derives `Debug`: the secrets in them must not reach a log or an
//! error message by a stray `{:?}`.

use std::path::PathBuf;

/// `type: S3`: Amazon S3 or any server that speaks its protocol.
#[derive(Clone, Default)]
pub struct S3Config {
    pub bucket: String,
    /// `host[:port]` without a scheme, as Thanos takes it (`s3.amazonaws.com`,
    /// `127.0.0.1:9000`); `insecure` chooses `http` over `https`.
    pub endpoint: String,
    /// Empty: `us-east-1`, the region S3 signs for when none is known.
    pub region: String,
    /// Empty with `secret_key`: credentials from the environment (AWS's
    /// variables, the instance's role), as Thanos falls back to them.
    pub access_key: String,
    pub secret_key: String,
    pub session_token: String,
    pub insecure: bool,
    /// `http_config.insecure_skip_verify`: accept any TLS certificate.
    pub insecure_skip_verify: bool,
    /// `max_retries`: how often a failed request is tried again; `None`
    /// keeps the crate's 10, which is also Thanos's S3 default.
    pub max_retries: Option<usize>,
}

/// `type: GCS`.
#[derive(Clone, Default)]
pub struct GcsConfig {
    pub bucket: String,
    /// The service account's JSON key (its content, not a path); empty for
    /// Google's application default credentials.
    pub service_account: String,
    pub insecure_skip_verify: bool,
    /// `max_retries`: how often a failed request is tried again; `None`
    /// keeps the crate's 10, which is also Thanos's S3 default.
    pub max_retries: Option<usize>,
}

/// `type: AZURE`.
#[derive(Clone, Default)]
pub struct AzureConfig {
    pub storage_account: String,
    pub storage_account_key: String,
    pub container: String,
    /// The blob service's domain (Thanos's default `blob.core.windows.net`);
    /// the account name is put in front of it.
    pub endpoint: String,
    pub insecure_skip_verify: bool,
    /// `max_retries`: how often a failed request is tried again; `None`
    /// keeps the crate's 10, which is also Thanos's S3 default.
    pub max_retries: Option<usize>,
}

/// Which object storage a bucket is in.
#[derive(Clone)]
pub enum Provider {
    /// `type: FILESYSTEM`: objects are files under `directory`; for tests and
    /// single-machine setups, as in Thanos.
    Filesystem {
        directory: PathBuf,
    },
    S3(S3Config),
    Gcs(GcsConfig),
    Azure(AzureConfig),
}

impl Provider {
    /// Thanos's `ObjProvider` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Provider::Filesystem { .. } => "FILESYSTEM",
            Provider::S3(_) => "S3",
            Provider::Gcs(_) => "GCS",
            Provider::Azure(_) => "AZURE",
        }
    }
}

/// A whole objstore config: the provider and the top-level `prefix`, a
/// directory of the bucket that every name is relative to.
#[derive(Clone)]
pub struct BucketConfig {
    pub provider: Provider,
    pub prefix: String,
}
