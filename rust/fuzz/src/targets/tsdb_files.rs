//! The readers of a Prometheus data directory's files in `rust/tsdb`, which
//! the sidecar reads while Prometheus writes them: WAL segments and their
//! records, head chunk files, tombstones, and an index's TOC, symbol table
//! and postings offset table.
//!
//! Input: the bytes of one file, read as each of those. Beyond not
//! panicking, a read that stops early (the newest file, still being written)
//! must say where to resume inside the file, and a sealed file must read as
//! far as an unsealed one or fail.

use std::path::Path;

use thanos_tsdb::index::postings_table::PostingsTable;
use thanos_tsdb::index::symbols::Symbols;
use thanos_tsdb::index::toc::Toc;
use thanos_tsdb::wal::RecordReader;
use thanos_tsdb::{head_chunks, record, Tombstones};

use super::Target;
use crate::rng::Rng;

pub const TARGET: Target = Target {
    name: "tsdb_files",
    run,
    generate,
    dictionary: &[
        // WAL fragment types (full, first, middle, last; snappy flag 0x08) and record types.
        b"\x01",
        b"\x02",
        b"\x03",
        b"\x04",
        b"\x09",
        b"\x0a",
        // Head chunk file, tombstones and index magics.
        b"\x01\x30\xbc\x91\x01\x00\x00\x00",
        b"\x01\x30\xba\x30\x01",
        b"\xba\xaa\xd7\x00\x02",
    ],
    // A few WAL pages (32 KiB each).
    max_len: 1 << 17,
};

fn run(data: &[u8]) {
    let file = Path::new("fuzz-input");
    let mut ends = Vec::new();
    for sealed in [false, true] {
        let end = RecordReader::default().read(file, data, 0, sealed, |rec, offset| {
            let _ = record::decode(file, offset, rec);
            Ok(())
        });
        if let Ok(end) = end {
            assert!(end <= data.len(), "WAL read resumes at {end}, past the {} bytes", data.len());
            ends.push(end);
        }
        if let Ok(end) = head_chunks::read_chunks(file, 1, data, 0, sealed, |_| {}) {
            assert!(end <= data.len(), "chunk file read resumes at {end}, past the {} bytes", data.len());
        }
    }
    if let [unsealed, sealed] = ends[..] {
        assert!(sealed >= unsealed, "sealed read stopped at {sealed}, before the unsealed one at {unsealed}");
    }
    let _ = record::decode(file, 0, data);
    let _ = Tombstones::parse(file, data);
    if let Ok(toc) = Toc::read(file, data) {
        let _ = Symbols::read(file, data, usize::try_from(toc.symbols).unwrap_or(usize::MAX));
        let _ = PostingsTable::read(file, data, usize::try_from(toc.postings_table).unwrap_or(usize::MAX));
    }
}

/// A WAL page of full-record fragments around random payloads: the header
/// (type, big-endian length, CRC-32C) right, so that the records are decoded.
fn generate(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let mut payload = vec![*rng.pick(&[1u8, 2, 3, 4, 5])];
        payload.extend((0..rng.small(64)).map(|_| rng.next_u64() as u8));
        out.push(1);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(&crc32c::crc32c(&payload).to_be_bytes());
        out.extend_from_slice(&payload);
    }
    out
}
