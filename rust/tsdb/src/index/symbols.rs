//! The symbol table of an index (`tsdb/docs/format/index.md`, section "Symbol
//! Table"): every label name and value once, sorted, referenced from the series
//! entries by their position in the table (index format v2; v1 used offsets).

use std::cmp::Ordering;
use std::path::Path;

use thanos_core::Result;

use crate::encoding::{corrupt, Decbuf};

/// The decoded offsets of a symbol table inside a mapped index file.
///
/// Prometheus (`Symbols` in `tsdb/index/index.go`) keeps one offset in 32 and
/// walks up to 31 strings on each lookup. We keep every offset: 4 bytes of heap
/// per symbol buys a lookup without a walk, and a series read is a lookup per
/// label name and value.
#[derive(Debug)]
pub struct Symbols {
    /// Absolute file offset of each symbol's length prefix.
    offsets: Vec<u32>,
}

impl Symbols {
    /// Reads the table at `off`, checking its checksum and every length prefix.
    pub fn read(file: &Path, bytes: &[u8], off: usize) -> Result<Self> {
        let mut d = Decbuf::at_section(file, bytes, off, "symbol table")?;
        let count = d.be32()? as usize;
        // Each symbol takes at least its one-byte length prefix: a count above
        // the bytes left is damage, and must not size an allocation.
        if count > d.len() {
            return Err(d.error(format!("symbol table: {count} symbols cannot fit in {} bytes", d.len())));
        }
        let mut offsets = Vec::with_capacity(count);
        let mut prev: Option<&[u8]> = None;
        for _ in 0..count {
            let at = d.pos();
            let at32 = u32::try_from(at).map_err(|_| corrupt(file, at, "symbol table reaches past 4 GiB"))?;
            let sym = d.uvarint_bytes()?;
            // Sorted order is what makes reverse lookups (binary search) correct.
            if prev.is_some_and(|p| p >= sym) {
                return Err(corrupt(file, at, "symbol table: symbols are not sorted and unique"));
            }
            prev = Some(sym);
            offsets.push(at32);
        }
        Ok(Symbols { offsets })
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The heap this table holds, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * std::mem::size_of::<u32>()
    }

    /// The symbol with reference `r`.
    pub fn lookup<'a>(&self, file: &'a Path, bytes: &'a [u8], r: u32) -> Result<&'a str> {
        let Some(&off) = self.offsets.get(r as usize) else {
            return Err(corrupt(file, 0, format!("unknown symbol reference {r} (the table has {})", self.len())));
        };
        Decbuf::new(file, bytes, off as usize, bytes.len())?.uvarint_str()
    }

    /// The reference of `sym`, if the table holds it.
    pub fn reverse_lookup(&self, file: &Path, bytes: &[u8], sym: &str) -> Result<Option<u32>> {
        let mut lo = 0usize;
        let mut hi = self.offsets.len();
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let s = Decbuf::new(file, bytes, self.offsets[mid] as usize, bytes.len())?.uvarint_bytes()?;
            match s.cmp(sym.as_bytes()) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(Some(mid as u32)),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(syms: &[&str]) -> Vec<u8> {
        let mut body = (syms.len() as u32).to_be_bytes().to_vec();
        for s in syms {
            body.push(s.len() as u8);
            body.extend_from_slice(s.as_bytes());
        }
        let mut b = vec![0xAA; 3];
        b.extend_from_slice(&(body.len() as u32).to_be_bytes());
        b.extend_from_slice(&body);
        b.extend_from_slice(&crc32c::crc32c(&body).to_be_bytes());
        b
    }

    #[test]
    fn lookups_both_ways() {
        let b = table(&["", "__name__", "a", "job", "up"]);
        let f = Path::new("index");
        let s = Symbols::read(f, &b, 3).unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(s.lookup(f, &b, 3).unwrap(), "job");
        assert_eq!(s.lookup(f, &b, 0).unwrap(), "");
        assert!(s.lookup(f, &b, 5).is_err());
        assert_eq!(s.reverse_lookup(f, &b, "up").unwrap(), Some(4));
        assert_eq!(s.reverse_lookup(f, &b, "__name__").unwrap(), Some(1));
        assert_eq!(s.reverse_lookup(f, &b, "b").unwrap(), None);
    }

    #[test]
    fn damage_is_an_error() {
        let f = Path::new("index");
        let unsorted = table(&["b", "a"]);
        assert!(Symbols::read(f, &unsorted, 3).unwrap_err().message().contains("not sorted"));
        let mut b = table(&["a", "b"]);
        b[9] ^= 0x40;
        assert!(Symbols::read(f, &b, 3).unwrap_err().message().contains("checksum"));
    }
}
