//! The table of contents that ends an index file (`tsdb/docs/format/index.md`,
//! section "TOC"; `NewTOCFromByteSlice` in `tsdb/index/index.go` at v2.42.0).

use std::path::Path;

use thanos_core::Result;

use crate::encoding::{corrupt, Decbuf, CRC_LEN};

/// Six 8-byte section offsets and their CRC32.
pub const TOC_LEN: usize = 6 * 8 + CRC_LEN;

/// Where each section of the index starts. Zero means the section is absent
/// (the format doc: "If a reference is zero, it indicates the respective
/// section does not exist").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Toc {
    pub symbols: u64,
    pub series: u64,
    /// The label indices and their offset table are written for old readers
    /// only; Prometheus 2.42 reads label values from the postings offset table.
    pub label_indices: u64,
    pub label_indices_table: u64,
    pub postings: u64,
    pub postings_table: u64,
}

impl Toc {
    /// Reads the TOC from the last [`TOC_LEN`] bytes of the index and checks that
    /// every offset lies inside the file.
    pub fn read(file: &Path, bytes: &[u8]) -> Result<Self> {
        if bytes.len() < TOC_LEN {
            return Err(corrupt(file, 0, format!("{} bytes are too few for the TOC of {TOC_LEN}", bytes.len())));
        }
        let start = bytes.len() - TOC_LEN;
        let mut d = Decbuf::new(file, bytes, start, bytes.len() - CRC_LEN)?;
        let want = u32::from_be_bytes(bytes[bytes.len() - CRC_LEN..].try_into().expect("4 bytes"));
        let got = crc32c::crc32c(&bytes[start..bytes.len() - CRC_LEN]);
        if want != got {
            return Err(corrupt(
                file,
                start,
                format!("TOC: checksum mismatch (stored {want:08x}, computed {got:08x})"),
            ));
        }
        let toc = Toc {
            symbols: d.be64()?,
            series: d.be64()?,
            label_indices: d.be64()?,
            label_indices_table: d.be64()?,
            postings: d.be64()?,
            postings_table: d.be64()?,
        };
        for (name, off) in [
            ("symbols", toc.symbols),
            ("series", toc.series),
            ("label indices", toc.label_indices),
            ("label offset table", toc.label_indices_table),
            ("postings", toc.postings),
            ("postings offset table", toc.postings_table),
        ] {
            if off >= start as u64 {
                return Err(corrupt(file, start, format!("TOC: {name} offset {off} is past the TOC")));
            }
        }
        Ok(toc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toc_bytes(offsets: [u64; 6], prefix: usize) -> Vec<u8> {
        let mut b = vec![0u8; prefix];
        let start = b.len();
        for o in offsets {
            b.extend_from_slice(&o.to_be_bytes());
        }
        let crc = crc32c::crc32c(&b[start..]);
        b.extend_from_slice(&crc.to_be_bytes());
        b
    }

    #[test]
    fn reads_offsets() {
        let b = toc_bytes([5, 10, 20, 30, 40, 50], 100);
        let toc = Toc::read(Path::new("index"), &b).unwrap();
        assert_eq!(toc.symbols, 5);
        assert_eq!(toc.postings_table, 50);
    }

    #[test]
    fn damage_is_an_error() {
        let mut b = toc_bytes([5, 10, 20, 30, 40, 50], 100);
        b[105] ^= 0x10;
        assert!(Toc::read(Path::new("index"), &b).unwrap_err().message().contains("checksum"));
        assert!(Toc::read(Path::new("index"), &b[..20]).is_err());
        let past = toc_bytes([5, 10, 20, 30, 40, 500], 100);
        let e = Toc::read(Path::new("index"), &past).unwrap_err();
        assert_eq!(e.message(), "index: offset 100: TOC: postings offset table offset 500 is past the TOC");
    }
}
