//! The part of a block's index that every query reads, kept on local disk:
//! the header, the symbol table, the postings offset table and the TOC
//! (what Thanos's index-header holds, `pkg/block/indexheader`).
//!
//! It is kept as a sparse file of the index's size with those sections at
//! their own offsets and holes elsewhere, so that [`IndexReader`] reads it as
//! the index itself, with no format of our own. Only the sections take disk
//! space. Postings lists and series entries are not in it: they lie in the
//! holes, and [`super::BucketBlock`] fetches them from the bucket instead.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use thanos_core::{Error, ErrorKind, Result};

use super::ObjectReader;
use crate::index::toc::TOC_LEN;
use crate::index::{IndexReader, Toc};
use crate::mmap::MappedFile;

/// The header's name in a block's directory under the store's `--data-dir`.
pub const HEADER_FILENAME: &str = "index.sparse";
/// The index's magic number and version.
const HEAD_LEN: u64 = 5;

/// The header of `<ulid>/index` (of `index_size` bytes) in `dir`, built from
/// the bucket unless a complete one is there already.
pub fn open_or_build(reader: &dyn ObjectReader, ulid: &str, index_size: u64, dir: &Path) -> Result<IndexReader> {
    let path = dir.join(HEADER_FILENAME);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == index_size) {
        if let Ok(index) = IndexReader::open(&path) {
            return Ok(index);
        }
    }
    build(reader, &format!("{ulid}/index"), index_size, &path)?;
    IndexReader::open(&path)
}

fn build(reader: &dyn ObjectReader, name: &str, size: u64, path: &Path) -> Result<()> {
    if size < HEAD_LEN + TOC_LEN as u64 {
        return Err(Error::new(ErrorKind::CorruptBlock, format!("{name}: {size} bytes cannot hold an index")));
    }
    let io = |e: std::io::Error| Error::new(ErrorKind::Unavailable, format!("write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    let file = File::create(&tmp).map_err(io)?;
    file.set_len(size).map_err(io)?;
    let toc_at = size - TOC_LEN as u64;
    let ends = [0..HEAD_LEN, toc_at..size];
    write_ranges(reader, name, &file, &ends).map_err(|e| e.context(name))?;
    let toc = Toc::read(&tmp, MappedFile::open(&tmp)?.bytes())?;
    // Each section runs to the next one that is there (sections may be absent: offset 0).
    let next_after = |off: u64| {
        [toc.series, toc.label_indices, toc.label_indices_table, toc.postings, toc.postings_table, toc_at]
            .into_iter()
            .filter(|&o| o > off)
            .min()
            .unwrap_or(toc_at)
    };
    let sections = [toc.symbols..next_after(toc.symbols), toc.postings_table..toc_at];
    write_ranges(reader, name, &file, &sections).map_err(|e| e.context(name))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn write_ranges(reader: &dyn ObjectReader, name: &str, file: &File, ranges: &[std::ops::Range<u64>]) -> Result<()> {
    for (r, bytes) in ranges.iter().zip(reader.get_ranges(name, ranges)?) {
        if bytes.len() as u64 != r.end - r.start {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("asked for bytes {}..{}, got {}", r.start, r.end, bytes.len()),
            ));
        }
        file.write_all_at(&bytes, r.start)
            .map_err(|e| Error::new(ErrorKind::Unavailable, format!("write index header: {e}")))?;
    }
    Ok(())
}
