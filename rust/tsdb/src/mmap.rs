//! Read-only memory mappings of block files, as Prometheus opens them
//! (`tsdb/fileutil/mmap.go`): the bytes stay in the page cache, not on the heap.

use std::fs::File;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use memmap2::Mmap;
use thanos_core::{Error, ErrorKind, Result};

/// A file mapped read-only. The mapping lives as long as the value or any
/// [`MappedFile::share`]d slice of it, so a chunk being sent keeps its file
/// readable even once the value (and the file) are gone.
pub struct MappedFile {
    path: PathBuf,
    /// Owns the `Mmap`; empty for an empty file (a zero-length mapping is
    /// refused by mmap(2)).
    map: Bytes,
}

impl MappedFile {
    /// Maps `path`. A file that cannot be opened is an `Unavailable` error
    /// (the directory is not readable), not a corrupt block.
    pub fn open(path: &Path) -> Result<Self> {
        let io = |e: std::io::Error| Error::new(ErrorKind::Unavailable, format!("open {}: {e}", path.display()));
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let map = if len == 0 {
            Bytes::new()
        } else {
            // SAFETY: the mapping is read-only and Prometheus never rewrites the
            // files of a written block: a block changes by being replaced with a
            // new directory and the old one unlinked, which leaves this mapping
            // valid until it is dropped. Truncating a block file in place (which
            // no Prometheus version does) would fault on access, as it would in
            // Prometheus itself.
            Bytes::from_owner(unsafe { Mmap::map(&file) }.map_err(io)?)
        };
        Ok(MappedFile { path: path.to_path_buf(), map })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// `part`, a slice of [`MappedFile::bytes`], as a handle that keeps the
    /// mapping alive without copying.
    ///
    /// # Panics
    /// When `part` is not inside this file's bytes (a bug of the caller).
    pub fn share(&self, part: &[u8]) -> Bytes {
        self.map.slice_ref(part)
    }

    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MappedFile({}, {} bytes)", self.path.display(), self.len())
    }
}
