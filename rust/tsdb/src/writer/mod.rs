//! Writes a block directory that Prometheus 2.42, promtool and Thanos read:
//! `index` (format v2), `chunks/000001...`, an empty `tombstones` and
//! `meta.json`, first under `<ulid>.tmp-for-creation` and renamed into place
//! when complete, as Prometheus's `LeveledCompactor.write` does
//! (`tsdb/compact.go` at v2.42.0), so that a crash never leaves a half block
//! under a block's name.
//!
//! - [`index`] writes the index file;
//! - [`chunks`] writes the chunk segments;
//! - [`encbuf`] holds the integer encodings they share.

pub mod chunks;
pub mod encbuf;
pub mod index;

use std::path::{Path, PathBuf};

use thanos_core::labels::Labels;
use thanos_core::{Error, ErrorKind, Result};

use crate::aggr::{self, ENCODING_AGGR};
use crate::block::Chunk;
use crate::index::ChunkMeta;
use crate::meta::{BlockMeta, BlockStats, META_FILENAME, META_VERSION_1};
use crate::tombstones::{MAGIC_TOMBSTONE, TOMBSTONES_FILENAME};
use crate::writer::chunks::{ChunkWriter, DEFAULT_SEGMENT_SIZE};
use crate::writer::index::IndexWriter;

/// The suffix of a block directory being written (`tmpForCreationBlockDirSuffix`).
pub const TMP_FOR_CREATION_SUFFIX: &str = ".tmp-for-creation";

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("write {}: {e}", path.display()))
}

/// Writes one block: series in label order, each with its chunks in time order.
pub struct BlockWriter {
    parent: PathBuf,
    tmp: PathBuf,
    index: IndexWriter,
    chunks: ChunkWriter,
    stats: BlockStats,
    metas: Vec<ChunkMeta>,
}

impl BlockWriter {
    /// Starts the block `ulid` in `parent`. `symbols` are every label name and
    /// value of the series to come, sorted and unique.
    pub fn create<'a>(parent: &Path, ulid: &str, symbols: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        Self::with_segment_size(parent, ulid, symbols, DEFAULT_SEGMENT_SIZE)
    }

    /// [`BlockWriter::create`] with chunk segments cut at `segment_size` bytes.
    pub fn with_segment_size<'a>(
        parent: &Path,
        ulid: &str,
        symbols: impl IntoIterator<Item = &'a str>,
        segment_size: u64,
    ) -> Result<Self> {
        let tmp = parent.join(format!("{ulid}{TMP_FOR_CREATION_SUFFIX}"));
        if tmp.exists() {
            // Left by a writer that did not finish.
            std::fs::remove_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
        let chunks = ChunkWriter::create(&tmp.join("chunks"), segment_size)?;
        let index = IndexWriter::create(&tmp.join("index"), symbols)?;
        Ok(BlockWriter {
            parent: parent.to_path_buf(),
            tmp,
            index,
            chunks,
            stats: BlockStats::default(),
            metas: Vec::new(),
        })
    }

    /// Adds a series after every series whose labels sort before its own.
    /// A series without chunks is left out, as Prometheus's compactor leaves it.
    pub fn add_series(&mut self, labels: &Labels, chunks: &[Chunk]) -> Result<()> {
        if chunks.is_empty() {
            return Ok(());
        }
        self.metas.clear();
        for c in chunks {
            let chunk_ref = self.chunks.write(c.encoding, &c.data)?;
            self.metas.push(ChunkMeta { chunk_ref, min_time: c.meta.min_time, max_time: c.meta.max_time });
            self.stats.num_samples += if c.encoding == ENCODING_AGGR {
                aggr::num_samples(&c.data)
            } else {
                // XOR and histogram chunks start with their sample count, 2 bytes big-endian.
                c.data.get(..2).map_or(0, |n| u64::from(u16::from_be_bytes([n[0], n[1]])))
            };
        }
        self.index.add_series(labels, &self.metas)?;
        self.stats.num_series += 1;
        self.stats.num_chunks += chunks.len() as u64;
        Ok(())
    }

    /// Finishes the files, writes `meta` (its stats and version filled in
    /// here) and moves the block into place. Returns the meta written.
    pub fn finish(self, mut meta: BlockMeta) -> Result<BlockMeta> {
        let segments = self.chunks.close()?;
        self.index.finish()?;
        let tombstones = self.tmp.join(TOMBSTONES_FILENAME);
        // No deletions: magic, version 1, and the CRC32 of no entries (0).
        let mut empty = MAGIC_TOMBSTONE.to_be_bytes().to_vec();
        empty.extend_from_slice(&[1, 0, 0, 0, 0]);
        std::fs::write(&tombstones, empty).map_err(|e| io_err(&tombstones, e))?;
        meta.stats = self.stats;
        meta.version = META_VERSION_1;
        if let Some(thanos) = meta.thanos.as_mut() {
            thanos.segment_files = segments;
        }
        write_meta(&self.tmp, &meta)?;
        sync_dir(&self.tmp)?;
        let dir = self.parent.join(&meta.ulid);
        std::fs::rename(&self.tmp, &dir).map_err(|e| io_err(&dir, e))?;
        sync_dir(&self.parent)?;
        Ok(meta)
    }
}

/// `meta.json` as Go's `json.MarshalIndent(meta, "", "\t")` writes it.
pub fn write_meta(dir: &Path, meta: &BlockMeta) -> Result<()> {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"\t"));
    serde::Serialize::serialize(meta, &mut ser)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("encode meta.json: {e}")))?;
    let path = dir.join(META_FILENAME);
    let tmp = dir.join(format!("{META_FILENAME}.tmp"));
    std::fs::write(&tmp, &out).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_err(dir, e))
}

#[cfg(test)]
mod tests;
