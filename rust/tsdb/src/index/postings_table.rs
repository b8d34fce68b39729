//! The postings offset table (`tsdb/docs/format/index.md`, section "Postings
//! Offset Table"): one entry per label pair, sorted by name then value, each
//! pointing at the pair's postings list. It is also the only list of a label's
//! values that Prometheus 2.42 reads (the label indices are legacy).
//!
//! As Prometheus does at open (`newReader` in `tsdb/index/index.go`), every
//! label name is kept in memory with one entry in [`SAMPLE_EVERY`] of its
//! values; a value is found by a binary search over those samples and a short
//! walk through the table in the mapping.

use std::collections::BTreeMap;
use std::path::Path;

use thanos_core::Result;

use crate::encoding::{corrupt, Decbuf};

/// One value in 32 is kept in memory, Prometheus's `symbolFactor`: a lookup
/// walks at most 31 entries, and the heap is a few bytes per 32 values.
pub const SAMPLE_EVERY: usize = 32;

/// The values of one label name in the table.
#[derive(Debug)]
struct NameEntries {
    /// Absolute offset of the name's first entry.
    first: usize,
    /// How many values (entries) the name has.
    count: usize,
    /// Offsets of entries 0, 32, 64, ... of this name.
    samples: Vec<usize>,
}

/// One entry of the table.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// Absolute offset of the postings list.
    pub postings: usize,
    /// Absolute offset of the entry after this one in the table.
    next: usize,
}

/// The in-memory part of a postings offset table.
#[derive(Debug)]
pub struct PostingsTable {
    names: BTreeMap<String, NameEntries>,
    /// Absolute offset just past the last entry.
    end: usize,
}

/// Reads the entry at `d`'s position: `n = 2 <1b>`, name, value, offset.
fn read_entry<'a>(d: &mut Decbuf<'a>) -> Result<Entry<'a>> {
    let at = d.pos();
    let keys = d.uvarint()?;
    if keys != 2 {
        return Err(d.error(format!("postings offset table: entry has {keys} keys, want 2")));
    }
    let name = d.uvarint_str()?;
    let value = d.uvarint_str()?;
    let off = d.uvarint()?;
    let postings = usize::try_from(off)
        .ok()
        .filter(|&o| o < d.file_bytes().len())
        .ok_or_else(|| d.error(format!("postings offset {off} of entry at {at} is past the end of the file")))?;
    Ok(Entry { name, value, postings, next: d.pos() })
}

impl PostingsTable {
    /// Reads the table at `off`, checking its checksum, the entry count and the
    /// sort order (lookups depend on it).
    pub fn read(file: &Path, bytes: &[u8], off: usize) -> Result<Self> {
        let mut d = Decbuf::at_section(file, bytes, off, "postings offset table")?;
        let count = d.be32()?;
        let mut names: BTreeMap<String, NameEntries> = BTreeMap::new();
        let mut prev: Option<(&str, &str)> = None;
        let mut current: Option<(&str, NameEntries)> = None;
        for _ in 0..count {
            let at = d.pos();
            let e = read_entry(&mut d)?;
            if prev.is_some_and(|p| p >= (e.name, e.value)) {
                return Err(corrupt(file, at, "postings offset table: entries are not sorted and unique"));
            }
            prev = Some((e.name, e.value));
            match &mut current {
                Some((name, entries)) if *name == e.name => {
                    if entries.count % SAMPLE_EVERY == 0 {
                        entries.samples.push(at);
                    }
                    entries.count += 1;
                }
                _ => {
                    if let Some((name, entries)) = current.take() {
                        names.insert(name.to_string(), entries);
                    }
                    current = Some((e.name, NameEntries { first: at, count: 1, samples: vec![at] }));
                }
            }
        }
        if let Some((name, entries)) = current {
            names.insert(name.to_string(), entries);
        }
        if !d.is_empty() {
            return Err(d.error(format!("postings offset table: {} bytes after {count} entries", d.len())));
        }
        Ok(PostingsTable { names, end: d.pos() })
    }

    /// Label names, sorted; the empty name (the all-postings key) included.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(String::as_str)
    }

    pub fn has_name(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// The entries of `name` in table order (values ascending).
    pub fn entries<'a>(&self, file: &'a Path, bytes: &'a [u8], name: &str) -> Result<Vec<Entry<'a>>> {
        let Some(n) = self.names.get(name) else { return Ok(Vec::new()) };
        let mut d = Decbuf::new(file, bytes, n.first, bytes.len())?;
        (0..n.count).map(|_| read_entry(&mut d)).collect()
    }

    /// Where the postings list of `entry` ends at the latest: where the list of
    /// the next entry starts, since Prometheus writes the lists in table order
    /// (`writePostings` in `tsdb/index/index.go`); `None` for the last entry,
    /// whose list ends before the table. The span may hold alignment padding
    /// after the list.
    pub fn postings_end(&self, file: &Path, bytes: &[u8], entry: &Entry<'_>) -> Result<Option<usize>> {
        if entry.next >= self.end {
            return Ok(None);
        }
        Ok(Some(read_entry(&mut Decbuf::new(file, bytes, entry.next, self.end)?)?.postings))
    }

    /// The entries of those of `values` that `name` has, in the order of
    /// `values`, which must be sorted ascending.
    pub fn find<'a>(&self, file: &'a Path, bytes: &'a [u8], name: &str, values: &[&str]) -> Result<Vec<Entry<'a>>> {
        let Some(n) = self.names.get(name) else { return Ok(Vec::new()) };
        let mut out = Vec::with_capacity(values.len());
        for value in values {
            // The last sample at or before `value`, then a walk of at most one block.
            let mut lo = 0;
            let mut hi = n.samples.len();
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let e = read_entry(&mut Decbuf::new(file, bytes, n.samples[mid], bytes.len())?)?;
                if e.value <= *value {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if lo == 0 {
                continue; // Before the first value.
            }
            let block = lo - 1;
            let in_block = (n.count - block * SAMPLE_EVERY).min(SAMPLE_EVERY);
            let mut d = Decbuf::new(file, bytes, n.samples[block], bytes.len())?;
            for _ in 0..in_block {
                let e = read_entry(&mut d)?;
                if e.value == *value {
                    out.push(e);
                    break;
                }
                if e.value > *value {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Heap held by the in-memory part, roughly, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.names
            .iter()
            .map(|(k, v)| k.capacity() + std::mem::size_of::<NameEntries>() + v.samples.capacity() * 8 + 48)
            .sum()
    }
}
