//! Read-only memory mappings of block files, as Prometheus opens them
//! (`tsdb/fileutil/mmap.go`): the bytes stay in the page cache, not on the heap.
//!
//! The head's files are mapped too, while Prometheus writes them. A WAL
//! segment only grows: bytes are appended and never rewritten (a repaired
//! segment is a new file renamed over the old one). A head chunk file is
//! preallocated with zeros and written in place from its start, so a mapping
//! can see a record that is being written; its readers check each record's
//! CRC before handing out its bytes, and Prometheus never writes those bytes
//! again. A mapping covers the file's length when it was made; what is
//! appended later is seen through a new mapping.

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
    /// The inode of the file mapped, to notice a file replaced under its name.
    ino: u64,
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
        Self::map(path, &file)
    }

    /// Like [`MappedFile::open`], but `None` when there is no file at `path`
    /// (a head file that Prometheus deleted since it was listed).
    pub fn open_if_exists(path: &Path) -> Result<Option<Self>> {
        match File::open(path) {
            Ok(file) => Self::map(path, &file).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::new(ErrorKind::Unavailable, format!("open {}: {e}", path.display()))),
        }
    }

    fn map(path: &Path, file: &File) -> Result<Self> {
        let io = |e: std::io::Error| Error::new(ErrorKind::Unavailable, format!("open {}: {e}", path.display()));
        let metadata = file.metadata().map_err(io)?;
        let len = metadata.len();
        let map = if len == 0 {
            Bytes::new()
        } else {
            // SAFETY: the mapping is read-only and Prometheus never rewrites the
            // files of a written block: a block changes by being replaced with a
            // new directory and the old one unlinked, which leaves this mapping
            // valid until it is dropped. Truncating a block file in place (which
            // no Prometheus version does) would fault on access, as it would in
            // Prometheus itself. The head's files are only appended to, or
            // written in place over their preallocated zeros (see the module
            // docs), never truncated.
            Bytes::from_owner(unsafe { Mmap::map(file) }.map_err(io)?)
        };
        Ok(MappedFile { path: path.to_path_buf(), ino: inode(&metadata), map })
    }

    /// The inode number of the mapped file (0 where there is none), to notice
    /// a file replaced under the same name.
    pub fn ino(&self) -> u64 {
        self.ino
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

/// The inode number of a file (0 where there is none).
#[cfg(unix)]
pub(crate) fn inode(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(m)
}

#[cfg(not(unix))]
pub(crate) fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MappedFile({}, {} bytes)", self.path.display(), self.len())
    }
}
