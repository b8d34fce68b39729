//! thanos-tsdb: reads Prometheus 2.42's on-disk TSDB, the storage that a
//! sidecar shares with its Prometheus and that a store gateway serves.
//!
//! The formats are those of Prometheus's `tsdb/docs/format/*.md` at v2.42.0;
//! each module cites the section it reads. Files are memory-mapped; chunks
//! are handed out as the bytes on disk. Damaged files give
//! [`thanos_core::ErrorKind::CorruptBlock`] errors that name the file and the
//! offset; nothing here panics on file contents.
//!
//! - [`block`] opens a block directory and answers select, label names and label values;
//! - [`meta`] reads `meta.json`;
//! - [`index`] reads the index file (TOC, symbols, series, postings);
//! - [`chunks`] reads chunk segment files;
//! - [`tombstones`] reads deleted ranges;
//! - [`querier`] turns matchers into postings, as Prometheus's `tsdb/querier.go`;
//! - [`encoding`] and [`mmap`] hold the bounds-checked byte readers and the mappings.

pub mod block;
pub mod chunks;
pub mod encoding;
pub mod head;
pub mod head_chunks;
pub mod index;
pub mod meta;
pub mod mmap;
pub mod querier;
pub mod record;
pub mod tombstones;
pub mod wal;

pub use block::{Block, Chunk, Series, SeriesSet};
pub use chunks::{ChunkReader, RawChunk};
pub use head::{Head, HeadStats, HeapUsage};
pub use index::{ChunkMeta, IndexReader, Postings};
pub use meta::BlockMeta;
pub use tombstones::{Interval, Intervals, Tombstones};
