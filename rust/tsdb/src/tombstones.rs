//! A block's `tombstones` file: time ranges deleted from series
//! (`tsdb/tombstones/tombstones.go` at v2.42.0).
//!
//! The layout is `magic(0x0130BA30) <4b>`, `version(1) <1b>`, then entries of
//! `series ref <uvarint64>`, `mint <varint64>`, `maxt <varint64>`, then a CRC32
//! over the entries (the version byte excluded). `tsdb/docs/format/tombstones.md`
//! still describes a trailing 8-byte offset that the code no longer writes;
//! this follows the code (`WriteFile` and `ReadTombstones`).

use std::collections::HashMap;
use std::path::Path;

use thanos_core::Result;

use crate::encoding::{corrupt, Decbuf, CRC_LEN};
use crate::mmap::MappedFile;

pub const TOMBSTONES_FILENAME: &str = "tombstones";
/// `MagicTombstone`: the first 4 bytes of the file.
pub const MAGIC_TOMBSTONE: u32 = 0x0130_BA30;
/// `tombstoneFormatV1`.
pub const TOMBSTONE_FORMAT_V1: u8 = 1;
const HEADER_LEN: usize = 5;

/// A closed time range `[mint, maxt]`, ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub mint: i64,
    pub maxt: i64,
}

impl Interval {
    pub fn contains(&self, t: i64) -> bool {
        self.mint <= t && t <= self.maxt
    }

    /// Whether one interval of `ivs` covers all of `self` (`IsSubrange`).
    pub fn is_subrange(&self, ivs: &Intervals) -> bool {
        ivs.0.iter().any(|r| r.contains(self.mint) && r.contains(self.maxt))
    }
}

/// Sorted, non-overlapping, non-adjacent intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Intervals(pub Vec<Interval>);

impl Intervals {
    /// Adds `n`, merging it with the intervals it overlaps or touches
    /// (`Intervals.Add`: times are discrete, so [1,2] and [3,4] merge).
    pub fn add(&mut self, n: Interval) {
        let v = &mut self.0;
        // First interval that ends at or after n.mint - 1, i.e. may touch n.
        let lo = v.partition_point(|r| r.maxt < n.mint.saturating_sub(1));
        // First interval that starts after n.maxt + 1, i.e. is beyond n.
        let hi = lo + v[lo..].partition_point(|r| r.mint <= n.maxt.saturating_add(1));
        if lo == hi {
            v.insert(lo, n);
            return;
        }
        let merged = Interval { mint: n.mint.min(v[lo].mint), maxt: n.maxt.max(v[hi - 1].maxt) };
        v.splice(lo..hi, [merged]);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `t` is deleted.
    pub fn contains(&self, t: i64) -> bool {
        self.0.iter().any(|r| r.contains(t))
    }
}

/// Deleted intervals by series ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tombstones {
    by_series: HashMap<u64, Intervals>,
}

impl Tombstones {
    /// Reads `dir/tombstones`; a block without the file has no deletions (as in
    /// `ReadTombstones`).
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(TOMBSTONES_FILENAME);
        if !path.exists() {
            return Ok(Tombstones::default());
        }
        let file = MappedFile::open(&path)?;
        Self::parse(file.path(), file.bytes())
    }

    pub fn parse(path: &Path, b: &[u8]) -> Result<Self> {
        if b.len() < HEADER_LEN + CRC_LEN {
            return Err(corrupt(path, 0, format!("{} bytes are too few for a tombstones file", b.len())));
        }
        let mut d = Decbuf::new(path, b, 0, b.len() - CRC_LEN)?;
        let magic = d.be32()?;
        if magic != MAGIC_TOMBSTONE {
            return Err(corrupt(path, 0, format!("invalid magic number {magic:08x}, want {MAGIC_TOMBSTONE:08x}")));
        }
        let version = d.byte()?;
        if version != TOMBSTONE_FORMAT_V1 {
            return Err(corrupt(path, 4, format!("unsupported tombstones format version {version}")));
        }
        let want = u32::from_be_bytes(b[b.len() - CRC_LEN..].try_into().expect("4 bytes"));
        let got = crc32c::crc32c(&b[HEADER_LEN..b.len() - CRC_LEN]);
        if want != got {
            return Err(corrupt(
                path,
                HEADER_LEN,
                format!("checksum mismatch (stored {want:08x}, computed {got:08x})"),
            ));
        }
        let mut t = Tombstones::default();
        while !d.is_empty() {
            let at = d.pos();
            let series = d.uvarint()?;
            let mint = d.varint()?;
            let maxt = d.varint()?;
            if mint > maxt {
                return Err(corrupt(path, at, format!("tombstone [{mint}, {maxt}] ends before it starts")));
            }
            t.add(series, Interval { mint, maxt });
        }
        Ok(t)
    }

    pub fn add(&mut self, series: u64, iv: Interval) {
        self.by_series.entry(series).or_default().add(iv);
    }

    /// The deleted intervals of a series; empty when it has none.
    pub fn get(&self, series: u64) -> Intervals {
        self.by_series.get(&series).cloned().unwrap_or_default()
    }

    /// The number of intervals (`Total`).
    pub fn total(&self) -> usize {
        self.by_series.values().map(|i| i.0.len()).sum()
    }

    /// Encodes as Prometheus's `WriteFile` does, for tests and tools.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = vec![TOMBSTONE_FORMAT_V1];
        let mut ids: Vec<_> = self.by_series.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            for iv in &self.by_series[&id].0 {
                put_uvarint(&mut body, id);
                put_uvarint(&mut body, ((iv.mint << 1) ^ (iv.mint >> 63)) as u64);
                put_uvarint(&mut body, ((iv.maxt << 1) ^ (iv.maxt >> 63)) as u64);
            }
        }
        let mut out = MAGIC_TOMBSTONE.to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32c::crc32c(&body[1..]).to_be_bytes());
        out
    }
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ivs(v: &[(i64, i64)]) -> Intervals {
        Intervals(v.iter().map(|&(mint, maxt)| Interval { mint, maxt }).collect())
    }

    #[test]
    fn add_merges_like_prometheus() {
        let mut i = Intervals::default();
        i.add(Interval { mint: 10, maxt: 20 });
        i.add(Interval { mint: 30, maxt: 40 });
        assert_eq!(i, ivs(&[(10, 20), (30, 40)]));
        i.add(Interval { mint: 21, maxt: 25 }); // adjacent: merges
        assert_eq!(i, ivs(&[(10, 25), (30, 40)]));
        i.add(Interval { mint: 0, maxt: 5 });
        assert_eq!(i, ivs(&[(0, 5), (10, 25), (30, 40)]));
        i.add(Interval { mint: 4, maxt: 35 });
        assert_eq!(i, ivs(&[(0, 40)]));
        i.add(Interval { mint: i64::MIN, maxt: -10 });
        i.add(Interval { mint: 50, maxt: i64::MAX });
        assert_eq!(i, ivs(&[(i64::MIN, -10), (0, 40), (50, i64::MAX)]));
        assert!(Interval { mint: 1, maxt: 39 }.is_subrange(&i));
        assert!(!Interval { mint: 39, maxt: 45 }.is_subrange(&i));
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let mut t = Tombstones::default();
        t.add(3, Interval { mint: -5, maxt: 100 });
        t.add(3, Interval { mint: 200, maxt: 300 });
        t.add(77, Interval { mint: 0, maxt: 0 });
        let b = t.encode();
        let back = Tombstones::parse(Path::new("tombstones"), &b).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.total(), 3);
        assert_eq!(back.get(3), ivs(&[(-5, 100), (200, 300)]));
        assert!(back.get(4).is_empty());
        for i in 0..b.len() {
            let mut bad = b.clone();
            bad[i] ^= 0x21;
            assert!(Tombstones::parse(Path::new("tombstones"), &bad).is_err(), "flip at {i}");
        }
        for cut in 0..b.len() {
            assert!(Tombstones::parse(Path::new("tombstones"), &b[..cut]).is_err(), "cut at {cut}");
        }
    }
}
