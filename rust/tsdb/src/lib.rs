//! thanos-tsdb: reads (and writes blocks of) Prometheus 2.42's on-disk TSDB, the storage that a
//! sidecar shares with its Prometheus and that a store gateway serves: the
//! persisted blocks, and the head that a running Prometheus keeps in its WAL
//! and head chunk files.
//!
//! The formats are those of Prometheus's `tsdb/docs/format/*.md` at v2.42.0;
//! each module cites the section it reads. Files are memory-mapped; chunks
//! are handed out as the bytes on disk. Damaged files give
//! [`thanos_core::ErrorKind::CorruptBlock`] errors that name the file and the
//! offset; nothing here panics on file contents.
//!
//! - [`db`] follows a whole data directory, its blocks and its head, and
//!   merges selections across them.
//!
//! Blocks:
//!
//! - [`block`] opens a block directory and answers select, label names and label values;
//! - [`meta`] reads `meta.json`;
//! - [`index`] reads the index file (TOC, symbols, series, postings);
//! - [`chunks`] reads chunk segment files;
//! - [`tombstones`] reads deleted ranges.
//!
//! The head, read while Prometheus writes it:
//!
//! - [`head`] builds the head in memory from `chunks_head/` and `wal/`, keeps
//!   it up to date with [`Head::refresh`], and answers as a block does;
//! - [`wal`] lists WAL segments and checkpoints and joins record fragments;
//! - [`record`] decodes the Series, Samples and Tombstones records;
//! - [`head_chunks`] reads the head chunk files.
//!
//! Writing (the compactor's):
//!
//! - [`writer`] writes a block directory as Prometheus does.
//!
//! Shared:
//!
//! - [`merge`] makes one series' chunks from several sources into one ordered list;
//! - [`querier`] turns matchers into postings, as Prometheus's `tsdb/querier.go`,
//!   over a block's index or the head's;
//! - [`encoding`] and [`mmap`] hold the bounds-checked byte readers and the mappings.

pub mod aggr;
pub mod block;
pub mod bucket;
pub mod chunks;
pub mod db;
pub mod encoding;
pub mod head;
pub mod head_chunks;
pub mod index;
pub mod merge;
pub mod meta;
pub mod mmap;
pub mod querier;
pub mod record;
pub mod tombstones;
pub mod wal;
pub mod writer;

pub use block::{Block, Chunk, Series, SeriesSet};
pub use chunks::{ChunkReader, RawChunk};
pub use db::{Db, MergedSeriesSet};
pub use head::{Head, HeadStats, HeapUsage};
pub use index::{ChunkMeta, IndexReader, Postings};
pub use merge::ChunkSeries;
pub use meta::BlockMeta;
pub use tombstones::{Interval, Intervals, Tombstones};
