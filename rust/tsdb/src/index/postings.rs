//! Postings lists: the sorted series IDs that hold one label pair
//! (`tsdb/docs/format/index.md`, section "Postings"), and the set operations
//! that matchers combine them with (`Intersect`, `Merge` and `Without` in
//! `tsdb/index/postings.go` at v2.42.0).
//!
//! Prometheus chains lazy iterators; here a list is decoded into a sorted
//! `Vec<u32>` and the operations are merges over sorted slices. A series ID is
//! the series entry's offset divided by 16, so ascending IDs are the series in
//! label-set order, and every result keeps that order.

use std::path::Path;

use thanos_core::Result;

use crate::encoding::Decbuf;

/// Sorted, duplicate-free series IDs.
pub type Postings = Vec<u32>;

/// Decodes the postings list at `off`: `len <4b>`, `#entries <4b>`, the IDs as
/// 4-byte big-endian integers, CRC32.
pub fn read_postings(file: &Path, bytes: &[u8], off: usize) -> Result<Postings> {
    let mut d = Decbuf::at_section(file, bytes, off, "postings list")?;
    let n = d.be32()? as usize;
    if d.len() != n.saturating_mul(4) {
        return Err(d.error(format!("postings list: {n} entries need {} bytes, the section has {}", n * 4, d.len())));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let at = d.pos();
        let id = d.be32()?;
        // Intersections rely on order: an unsorted list would silently drop
        // series, so it is refused as damage instead.
        if out.last().is_some_and(|&last| last >= id) {
            return Err(crate::encoding::corrupt(file, at, "postings list is not strictly increasing"));
        }
        out.push(id);
    }
    Ok(out)
}

/// The IDs in every list; empty when `lists` is.
pub fn intersect(mut lists: Vec<Postings>) -> Postings {
    if lists.is_empty() {
        return Vec::new();
    }
    // Smallest first: each step can only shrink the result.
    lists.sort_by_key(|l| l.len());
    let mut lists = lists.into_iter();
    let mut acc = lists.next().unwrap_or_default();
    for l in lists {
        if acc.is_empty() {
            break;
        }
        acc = intersect_two(&acc, &l);
    }
    acc
}

/// `a ∩ b` where `a` is the shorter list: each element of `a` is searched for
/// in what is left of `b` (a gallop), which costs `|a| log |b|` when `b` is far
/// longer and stays linear when they are alike.
fn intersect_two(a: &[u32], b: &[u32]) -> Postings {
    let mut out = Vec::with_capacity(a.len());
    let mut rest = b;
    for &x in a {
        rest = &rest[gallop(rest, x)..];
        match rest.first() {
            None => break,
            Some(&y) if y == x => {
                out.push(x);
                rest = &rest[1..];
            }
            Some(_) => {}
        }
    }
    out
}

/// The index of the first element `>= x` in sorted `s`, probing 1, 2, 4, ...
/// ahead before a binary search, so that a near answer is found in a few steps.
fn gallop(s: &[u32], x: u32) -> usize {
    let mut step = 1;
    let mut lo = 0;
    while lo + step < s.len() && s[lo + step] < x {
        lo += step;
        step *= 2;
    }
    let hi = (lo + step + 1).min(s.len());
    lo + s[lo..hi].partition_point(|&y| y < x)
}

/// Whether the sorted lists share an ID.
pub fn intersects(a: &[u32], b: &[u32]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut rest = long;
    for &x in short {
        rest = &rest[gallop(rest, x)..];
        match rest.first() {
            None => return false,
            Some(&y) if y == x => return true,
            Some(_) => {}
        }
    }
    false
}

/// The IDs in any list, sorted and without duplicates.
pub fn merge(lists: Vec<Postings>) -> Postings {
    match lists.len() {
        0 => Vec::new(),
        1 => lists.into_iter().next().unwrap_or_default(),
        _ => {
            // The lists of one label's values are disjoint (a series has one
            // value per name), so a sort of the concatenation is a fast union.
            let mut all: Postings = lists.concat();
            all.sort_unstable();
            all.dedup();
            all
        }
    }
}

/// The IDs of `a` that are not in `b`.
pub fn without(a: &[u32], b: &[u32]) -> Postings {
    let mut out = Vec::with_capacity(a.len());
    let mut rest = b;
    for &x in a {
        rest = &rest[gallop(rest, x)..];
        if rest.first() != Some(&x) {
            out.push(x);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        assert_eq!(intersect(vec![vec![1, 3, 5, 7, 9], vec![3, 4, 5, 9, 10], vec![0, 3, 9]]), vec![3, 9]);
        assert_eq!(intersect(vec![]), Vec::<u32>::new());
        assert_eq!(intersect(vec![vec![1, 2], vec![]]), Vec::<u32>::new());
        let long: Vec<u32> = (0..1000).collect();
        assert_eq!(intersect(vec![long.clone(), vec![0, 500, 999, 1000]]), vec![0, 500, 999]);
        assert_eq!(merge(vec![vec![1, 4], vec![2, 3], vec![4, 5]]), vec![1, 2, 3, 4, 5]);
        assert_eq!(without(&[1, 2, 3, 4, 5], &[0, 2, 4, 6]), vec![1, 3, 5]);
        assert_eq!(without(&long, &long), Vec::<u32>::new());
        assert!(intersects(&[1, 5, 9], &long) && intersects(&long, &[999]));
        assert!(!intersects(&[1, 5, 9], &[2, 6, 10]) && !intersects(&[], &long));
    }

    #[test]
    fn gallop_finds_lower_bound() {
        let s = [1, 3, 5, 7, 9, 11, 13];
        for x in 0..15 {
            assert_eq!(gallop(&s, x), s.partition_point(|&y| y < x), "x={x}");
        }
        assert_eq!(gallop(&[], 3), 0);
    }

    fn list(ids: &[u32]) -> Vec<u8> {
        let mut body = (ids.len() as u32).to_be_bytes().to_vec();
        for id in ids {
            body.extend_from_slice(&id.to_be_bytes());
        }
        let mut b = (body.len() as u32).to_be_bytes().to_vec();
        b.extend_from_slice(&body);
        b.extend_from_slice(&crc32c::crc32c(&body).to_be_bytes());
        b
    }

    #[test]
    fn reads_lists_and_refuses_damage() {
        let f = Path::new("index");
        assert_eq!(read_postings(f, &list(&[1, 5, 9]), 0).unwrap(), vec![1, 5, 9]);
        let e = read_postings(f, &list(&[5, 1]), 0).unwrap_err();
        assert!(e.message().contains("not strictly increasing"), "{}", e.message());
        let mut b = list(&[1, 5, 9]);
        b[11] ^= 1;
        assert!(read_postings(f, &b, 0).is_err());
    }
}
