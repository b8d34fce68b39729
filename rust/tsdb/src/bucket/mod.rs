//! Blocks in object storage, read as Thanos's store gateway reads them
//! (`BucketStore` in `pkg/store/bucket.go`, `pkg/block/indexheader`): only
//! what a query needs is fetched, with ranged reads.
//!
//! - [`header`] keeps the part of a block's index that every query reads (the
//!   TOC, the symbol table and the postings offset table) in a local file;
//! - [`block`] answers select, label names and label values for one block,
//!   fetching postings lists, series entries and chunks as it goes;
//! - [`ranges`] merges nearby byte ranges into fewer reads;
//! - [`cache`] keeps postings lists and series entries read, under a budget.
//!
//! The object store itself is behind [`ObjectReader`], so that this crate
//! needs no client of its own.

pub mod block;
pub mod cache;
pub mod header;
pub mod ranges;

use std::ops::Range;

use bytes::Bytes;
use thanos_core::Result;

pub use block::{BucketBlock, ReadChunks, Selected};
pub use cache::IndexCache;

/// Reads objects of a bucket. Names are paths inside the bucket
/// (`<ULID>/index`); ranges are byte offsets, end exclusive, inside the object.
pub trait ObjectReader: Send + Sync {
    /// The whole object.
    fn get(&self, name: &str) -> Result<Bytes>;
    /// The bytes of each range, in the order asked.
    fn get_ranges(&self, name: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>>;
    /// The object's size in bytes.
    fn size(&self, name: &str) -> Result<u64>;
}
