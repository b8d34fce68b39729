//! Ranged reads of a FILESYSTEM bucket done in the calling thread, without
//! the runtime: the `object_store` crate reads local files on tokio's
//! blocking threads, so every buffer of a store gateway's query was
//! allocated on one thread and freed on another, and the allocator kept tens
//! of MiB per query; it is also one hop less per read.
//!
//! The ranges are slices of a read-only mapping of the object, not copies:
//! a query of a month of 1 h data read about 10 MB of chunks a call into
//! fresh buffers, and zeroing and filling them was a fifth of the store
//! gateway's CPU. The mapping lives as long as a slice of it does, and an
//! object is never written in place: `object_store` writes a new object to a
//! staging file and renames it over the name, and deleting one unlinks it,
//! which leaves a mapping valid.

use std::ops::Range;
use std::path::Path;

use bytes::Bytes;
use thanos_core::{Error, ErrorKind, Result};
use thanos_tsdb::mmap::MappedFile;

/// Bytes `ranges` of the file `name` under `root`, in the order asked.
pub fn get_ranges(root: &Path, name: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
    let fail = |what: String| Error::new(ErrorKind::Bucket, format!("get ranges {name}: {what}"));
    let file = MappedFile::open_if_exists(&root.join(name))
        .map_err(|e| fail(e.message().to_string()))?
        .ok_or_else(|| Error::new(ErrorKind::ObjectNotFound, format!("get ranges {name}: object not found")))?;
    let size = file.len() as u64;
    ranges
        .iter()
        .map(|r| {
            if r.start > r.end || r.end > size {
                return Err(fail(format!("range {}..{} is outside the object's {size} bytes", r.start, r.end)));
            }
            Ok(file.share(&file.bytes()[r.start as usize..r.end as usize]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_come_back_in_the_order_asked_and_outlive_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("obj"), b"0123456789").unwrap();
        let got = get_ranges(dir.path(), "obj", &[7..10, 0..2, 4..4]).unwrap();
        // Deleting the object leaves what was read readable (the mapping lives on).
        std::fs::remove_file(dir.path().join("obj")).unwrap();
        assert_eq!(got, [&b"789"[..], b"01", b""]);
    }

    #[test]
    fn a_missing_object_and_a_range_past_its_end_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let e = get_ranges(dir.path(), "nothing", std::slice::from_ref(&(0..1))).unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::ObjectNotFound, "get ranges nothing: object not found"));
        std::fs::write(dir.path().join("obj"), b"abc").unwrap();
        let e = get_ranges(dir.path(), "obj", std::slice::from_ref(&(1..4))).unwrap_err();
        assert_eq!(e.message(), "get ranges obj: range 1..4 is outside the object's 3 bytes");
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        assert_eq!(get_ranges(dir.path(), "empty", std::slice::from_ref(&(0..0))).unwrap(), [Bytes::new()]);
    }
}
