//! Ranged reads of a FILESYSTEM bucket done in the calling thread with
//! `pread`, without the runtime: the `object_store` crate reads local files on
//! tokio's blocking threads, so every buffer of a store gateway's query was
//! allocated on one thread and freed on another, and the allocator kept tens
//! of MiB per query; it is also one hop less per read.

use std::fs::File;
use std::io::ErrorKind as IoKind;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;

use bytes::Bytes;
use thanos_core::{Error, ErrorKind, Result};

/// Bytes `ranges` of the file `name` under `root`, in the order asked.
pub fn get_ranges(root: &Path, name: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
    let fail = |what: String| Error::new(ErrorKind::Bucket, format!("get ranges {name}: {what}"));
    let file = File::open(root.join(name)).map_err(|e| match e.kind() {
        IoKind::NotFound => Error::new(ErrorKind::ObjectNotFound, format!("get ranges {name}: object not found")),
        _ => fail(e.to_string()),
    })?;
    let size = file.metadata().map_err(|e| fail(e.to_string()))?.len();
    ranges
        .iter()
        .map(|r| {
            if r.start > r.end || r.end > size {
                return Err(fail(format!("range {}..{} is outside the object's {size} bytes", r.start, r.end)));
            }
            let mut buf = vec![0; (r.end - r.start) as usize];
            file.read_exact_at(&mut buf, r.start).map_err(|e| fail(e.to_string()))?;
            Ok(Bytes::from(buf))
        })
        .collect()
}
