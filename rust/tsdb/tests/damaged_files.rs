//! Damaged block files give errors, never a panic and never a wrong answer:
//! every byte of a promtool-written index and chunk segment is flipped in
//! turn, and every file is cut at every length; each read either fails with a
//! `CorruptBlock` error or returns exactly what the intact block returns (a
//! flip in padding or in the legacy label index sections, which Prometheus
//! 2.42 does not read either).

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use common::{copy_dir, promtool_backfill, small_dataset};
use thanos_core::labels::{MatchOp, Matcher};
use thanos_core::{ErrorKind, Result};
use thanos_tsdb::Block;

/// A chunk as read: min time, max time, encoding, bytes.
type StoredChunk = (i64, i64, u8, Vec<u8>);

/// Everything a StoreAPI would read from a block, as plain data.
#[derive(Debug, PartialEq)]
struct Snapshot {
    series: Vec<(String, Vec<StoredChunk>)>,
    names: Vec<String>,
    values: Vec<Vec<String>>,
    filtered: Vec<String>,
}

fn snapshot(dir: &Path) -> Result<Snapshot> {
    let b = Block::open(dir)?;
    let all = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    let mut series = Vec::new();
    for s in b.select(&all, i64::MIN, i64::MAX)? {
        let s = s?;
        let chunks = s.chunks.iter().map(|c| (c.meta.min_time, c.meta.max_time, c.encoding, c.data.to_vec())).collect();
        series.push((s.labels.to_string(), chunks));
    }
    let names = b.label_names(&[])?;
    let values = names.iter().map(|n| b.label_values(n, &[])).collect::<Result<Vec<_>>>()?;
    let odd = [Matcher::equal("job", "odd")];
    let mut filtered = b.label_values("instance", &odd)?;
    filtered.extend(b.label_names(&odd)?);
    // Every postings list: the series of each label pair.
    for (n, vs) in names.iter().zip(&values) {
        for v in vs {
            for s in b.select(&[Matcher::equal(n.as_str(), v.as_str())], i64::MIN, i64::MAX)? {
                filtered.push(s?.labels.to_string());
            }
        }
    }
    // A matcher that matches "" starts from the list of all series.
    for s in b.select(&[Matcher::equal("nonexistent", "")], i64::MIN, i64::MAX)? {
        filtered.push(s?.labels.to_string());
    }
    Ok(Snapshot { series, names, values, filtered })
}

/// Reads the damaged block in `dir`: an error of the right kind, or `intact`.
fn check(dir: &Path, intact: &Snapshot, what: &str) -> bool {
    match catch_unwind(AssertUnwindSafe(|| snapshot(dir))) {
        Err(_) => panic!("{what}: panicked"),
        Ok(Ok(s)) => {
            assert_eq!(&s, intact, "{what}: a damaged file gave a different answer");
            false
        }
        Ok(Err(e)) => {
            assert_eq!(e.kind(), ErrorKind::CorruptBlock, "{what}: {}", e.message());
            true
        }
    }
}

fn intact_block(tmp: &Path) -> (std::path::PathBuf, Snapshot) {
    let dirs = promtool_backfill(&small_dataset(6, 1).openmetrics(), tmp);
    assert_eq!(dirs.len(), 1);
    let intact = snapshot(&dirs[0]).unwrap();
    assert_eq!(intact.series.len(), 6);
    (dirs[0].clone(), intact)
}

/// Flips each byte of `file` (relative to the block) with each mask; returns
/// the offsets of the flips that changed nothing read, and the flip count.
fn flip_every_byte(block: &Path, work: &Path, file: &str, intact: &Snapshot) -> (Vec<usize>, usize) {
    let original = std::fs::read(block.join(file)).unwrap();
    let (mut harmless, mut total) = (Vec::new(), 0);
    for i in 0..original.len() {
        for mask in [0x01u8, 0x80] {
            let mut bytes = original.clone();
            bytes[i] ^= mask;
            std::fs::write(work.join(file), &bytes).unwrap();
            if !check(work, intact, &format!("{file}: byte {i} ^ {mask:#x}")) {
                harmless.push(i);
            }
            total += 1;
        }
    }
    std::fs::write(work.join(file), &original).unwrap();
    (harmless, total)
}

/// The index offsets whose damage nothing reads: the legacy label indices
/// and label offset table (`tsdb/docs/format/index.md`: "This is no longer
/// used"), and zero padding (series entries are 16-byte aligned).
fn unread_index_byte(index: &[u8], i: usize) -> bool {
    let toc = &index[index.len() - 52..];
    let at = |k: usize| u64::from_be_bytes(toc[k * 8..k * 8 + 8].try_into().unwrap()) as usize;
    let (label_indices, label_table, postings, postings_table) = (at(2), at(3), at(4), at(5));
    (label_indices..postings).contains(&i) || (label_table..postings_table).contains(&i) || index[i] == 0
}

fn cut_at_every_length(block: &Path, work: &Path, file: &str, intact: &Snapshot) {
    let original = std::fs::read(block.join(file)).unwrap();
    for len in 0..original.len() {
        std::fs::write(work.join(file), &original[..len]).unwrap();
        assert!(check(work, intact, &format!("{file}: cut to {len} bytes")), "{file}: cut to {len} bytes was read");
    }
    std::fs::write(work.join(file), &original).unwrap();
}

#[test]
fn flipped_bytes_are_errors_or_harmless() {
    let tmp = tempfile::tempdir().unwrap();
    let (block, intact) = intact_block(tmp.path());
    let work = tmp.path().join("work");
    copy_dir(&block, &work);
    let index = std::fs::read(block.join("index")).unwrap();
    let (harmless, total) = flip_every_byte(&block, &work, "index", &intact);
    eprintln!("index: {} of {total} flips detected, the rest in bytes nothing reads", total - harmless.len());
    for i in harmless {
        assert!(unread_index_byte(&index, i), "index: a flip at {i} went unnoticed");
    }
    let (harmless, total) = flip_every_byte(&block, &work, "chunks/000001", &intact);
    eprintln!("chunks/000001: {} of {total} flips detected", total - harmless.len());
    // Only the 3 padding bytes of the segment header are not checked
    // (`tsdb/docs/format/chunks.md`).
    assert!(harmless.iter().all(|i| (5..8).contains(i)), "{harmless:?}");
}

#[test]
fn cut_files_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (block, intact) = intact_block(tmp.path());
    let work = tmp.path().join("work");
    copy_dir(&block, &work);
    for file in ["index", "chunks/000001"] {
        cut_at_every_length(&block, &work, file, &intact);
    }
    // meta.json has no checksum, but a cut one is not JSON.
    let meta = std::fs::read(block.join("meta.json")).unwrap();
    for len in 0..meta.len() - 1 {
        std::fs::write(work.join("meta.json"), &meta[..len]).unwrap();
        assert!(check(&work, &intact, &format!("meta.json cut to {len}")));
    }
}

#[test]
fn errors_name_the_file_and_the_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let (block, _) = intact_block(tmp.path());
    let work = tmp.path().join("work");
    copy_dir(&block, &work);
    let index = std::fs::read(block.join("index")).unwrap();

    let mut v1 = index.clone();
    v1[4] = 1;
    std::fs::write(work.join("index"), &v1).unwrap();
    let e = Block::open(&work).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CorruptBlock);
    assert_eq!(
        e.message(),
        format!("{}: offset 4: unsupported index format version 1 (known: 2)", work.join("index").display())
    );

    // A damaged series entry: found on select, with the entry's offset.
    std::fs::write(work.join("index"), &index).unwrap();
    let b = Block::open(&work).unwrap();
    let first_series = b.index().all_postings().unwrap()[0] as usize * 16;
    drop(b);
    let mut bad = index.clone();
    bad[first_series + 3] ^= 0x55;
    std::fs::write(work.join("index"), &bad).unwrap();
    let b = Block::open(&work).unwrap();
    let all = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    let e = b.select(&all, i64::MIN, i64::MAX).unwrap().find_map(|s| s.err()).unwrap();
    assert!(e.message().starts_with(&format!("{}: offset ", work.join("index").display())), "{}", e.message());
    assert!(e.message().contains("series: checksum mismatch"), "{}", e.message());
}
