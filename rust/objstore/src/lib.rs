//! Object storage for thanos_rs: Thanos's buckets (`thanos-io/objstore`) on
//! the `object_store` crate, with a blocking API for callers that are not
//! async (Python's threads with the GIL released, the TSDB readers).

mod bucket;
mod config;
mod local;
mod reader;
mod runtime;

pub use bucket::{Bucket, DIR_DELIM};
pub use config::{AzureConfig, BucketConfig, GcsConfig, Provider, S3Config};
