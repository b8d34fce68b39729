//! Byte ranges of one object, merged when the gap between them is small:
//! fewer, larger reads cost less than many small ones on object storage
//! (Thanos's `gapBasedPartitioner`, `pkg/store/bucket.go`).

use std::ops::Range;

use bytes::Bytes;
use thanos_core::Result;

use super::ObjectReader;

/// Ranges closer than this are read as one: Thanos's default
/// `partitionerMaxGapSize` for postings, series and chunks (512 KiB).
pub const MAX_GAP: u64 = 512 * 1024;

/// The bytes read for a set of ranges of one object.
pub struct Fetched {
    /// Read parts, by start offset, not overlapping.
    parts: Vec<(u64, Bytes)>,
}

impl Fetched {
    /// Reads `wanted` (any order, may overlap) from `name`, merging ranges
    /// whose gap is at most `max_gap`.
    pub fn read(reader: &dyn ObjectReader, name: &str, wanted: &[Range<u64>], max_gap: u64) -> Result<Self> {
        let merged = merge(wanted, max_gap);
        let bytes = if merged.is_empty() { Vec::new() } else { reader.get_ranges(name, &merged)? };
        Ok(Fetched { parts: merged.iter().map(|r| r.start).zip(bytes).collect() })
    }

    /// The bytes read from `at` to the end of the part holding `at`, and the
    /// part's start offset; `None` when `at` was not read.
    pub fn from(&self, at: u64) -> Option<(u64, &Bytes)> {
        let i = self.parts.partition_point(|(start, _)| *start <= at).checked_sub(1)?;
        let (start, bytes) = &self.parts[i];
        (at < start + bytes.len() as u64).then_some((*start, bytes))
    }
}

/// `ranges` sorted and merged where they overlap or lie within `max_gap` of each other.
pub fn merge(ranges: &[Range<u64>], max_gap: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.iter().filter(|r| r.start < r.end).cloned().collect();
    sorted.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(max_gap) => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearby_and_overlapping_ranges_merge() {
        assert_eq!(merge(&[10..20, 0..5, 22..30, 100..110, 15..18], 2), vec![0..5, 10..30, 100..110]);
        assert_eq!(merge(&[0..5, 6..8], 0), vec![0..5, 6..8]);
        assert_eq!(merge(&[0..5, 5..8, 3..3], 0), vec![0..8]);
        assert!(merge(&[], 10).is_empty());
    }
}
