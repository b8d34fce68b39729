//! Bounds-checked readers for the integers and strings of the TSDB files,
//! the counterpart of Prometheus's `tsdb/encoding/encoding.go` (`Decbuf`) at v2.42.0.
//!
//! Every read checks the length left, so a truncated or damaged file gives a
//! [`ErrorKind::CorruptBlock`] error naming the file and the offset at which
//! reading failed, never a panic or a read past the mapping.
//!
//! The integer encodings are Go's: big-endian fixed-width integers, `uvarint`
//! (`encoding/binary.Uvarint`, 7 bits a byte, low group first, at most 10 bytes)
//! and `varint` (the zig-zag form of the same). Checksums are CRC32 with the
//! Castagnoli polynomial, stored big-endian after the bytes they cover
//! (`tsdb/docs/format/index.md`: "The checksum is always calculated over those
//! `len` bytes").

use std::path::Path;

use thanos_core::{Error, ErrorKind, Result};

/// Go's `binary.MaxVarintLen64`: a 64-bit uvarint takes at most 10 bytes.
const MAX_VARINT_LEN64: usize = 10;

/// The size of a CRC32 checksum in the files.
pub const CRC_LEN: usize = 4;

/// An error about `file` at byte `offset`.
pub fn corrupt(file: &Path, offset: usize, what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::CorruptBlock, format!("{}: offset {offset}: {what}", file.display()))
}

/// A cursor over `bytes[pos..end]` of a mapped file. Offsets in errors are
/// absolute positions in the file, so they can be checked with a hex dump.
#[derive(Clone)]
pub struct Decbuf<'a> {
    file: &'a Path,
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Decbuf<'a> {
    /// A cursor over `bytes[start..end]`; errors when the range is not inside `bytes`.
    pub fn new(file: &'a Path, bytes: &'a [u8], start: usize, end: usize) -> Result<Self> {
        if start > end || end > bytes.len() {
            return Err(corrupt(
                file,
                start,
                format!("range {start}..{end} is outside the file of {} bytes", bytes.len()),
            ));
        }
        Ok(Decbuf { file, bytes, pos: start, end })
    }

    /// Prometheus's `NewDecbufAt`: the section at `off` starts with its length as
    /// 4 big-endian bytes, then that many bytes, then their CRC32. Returns a
    /// cursor over the contents after checking the checksum.
    pub fn at_section(file: &'a Path, bytes: &'a [u8], off: usize, what: &str) -> Result<Self> {
        let mut head = Decbuf::new(file, bytes, off, bytes.len())?;
        let len = head.be32().map_err(|e| e.context(what))? as usize;
        Self::checked(file, bytes, head.pos, len, what)
    }

    /// Prometheus's `NewDecbufUvarintAt`: like [`Decbuf::at_section`], with the
    /// length as a uvarint (the form of series entries).
    pub fn at_uvarint_section(file: &'a Path, bytes: &'a [u8], off: usize, what: &str) -> Result<Self> {
        let mut head = Decbuf::new(file, bytes, off, bytes.len())?;
        let len = head.uvarint().map_err(|e| e.context(what))?;
        let len = usize::try_from(len).map_err(|_| corrupt(file, off, format!("{what}: length {len} too large")))?;
        Self::checked(file, bytes, head.pos, len, what)
    }

    /// The `len` bytes at `start`, followed by their CRC32.
    fn checked(file: &'a Path, bytes: &'a [u8], start: usize, len: usize, what: &str) -> Result<Self> {
        let end = start.checked_add(len).filter(|&e| e.checked_add(CRC_LEN).is_some_and(|x| x <= bytes.len()));
        let Some(end) = end else {
            return Err(corrupt(
                file,
                start,
                format!("{what}: {len} bytes and a checksum do not fit in the file of {} bytes", bytes.len()),
            ));
        };
        let want = u32::from_be_bytes(bytes[end..end + CRC_LEN].try_into().expect("4 bytes"));
        let got = crc32c::crc32c(&bytes[start..end]);
        if want != got {
            return Err(corrupt(
                file,
                start,
                format!("{what}: checksum mismatch (stored {want:08x}, computed {got:08x})"),
            ));
        }
        Ok(Decbuf { file, bytes, pos: start, end })
    }

    /// The absolute offset of the next byte.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes left.
    pub fn len(&self) -> usize {
        self.end - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.end
    }

    /// The whole mapped file, for readers that follow offsets out of this section.
    pub fn file_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// An error at the current position.
    pub fn error(&self, what: impl std::fmt::Display) -> Error {
        corrupt(self.file, self.pos, what)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.len() {
            return Err(self.error(format!("need {n} bytes, {} left", self.len())));
        }
        let b = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    pub fn byte(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub fn be32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.bytes(4)?.try_into().expect("4 bytes")))
    }

    pub fn be64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.bytes(8)?.try_into().expect("8 bytes")))
    }

    /// Go's `binary.Uvarint`, with its overflow rule: the tenth byte may only be 0 or 1.
    pub fn uvarint(&mut self) -> Result<u64> {
        let start = self.pos;
        let mut x: u64 = 0;
        let mut shift = 0u32;
        for i in 0..MAX_VARINT_LEN64 {
            if self.pos == self.end {
                self.pos = start;
                return Err(self.error("uvarint runs past the end of the section"));
            }
            let b = self.bytes[self.pos];
            self.pos += 1;
            if b < 0x80 {
                if i == MAX_VARINT_LEN64 - 1 && b > 1 {
                    break;
                }
                return Ok(x | (u64::from(b) << shift));
            }
            x |= u64::from(b & 0x7f) << shift;
            shift += 7;
        }
        self.pos = start;
        Err(self.error("uvarint overflows 64 bits"))
    }

    /// A uvarint that must fit 32 bits (symbol references, counts).
    pub fn uvarint32(&mut self) -> Result<u32> {
        let start = self.pos;
        let v = self.uvarint()?;
        u32::try_from(v).map_err(|_| corrupt(self.file, start, format!("uvarint {v} overflows 32 bits")))
    }

    /// A zig-zag encoded signed varint (Go's `binary.Varint`).
    pub fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A byte string prefixed with its length as a uvarint.
    pub fn uvarint_bytes(&mut self) -> Result<&'a [u8]> {
        let start = self.pos;
        let n = self.uvarint()?;
        if n > self.len() as u64 {
            self.pos = start;
            return Err(self.error(format!("string of {n} bytes runs past the end of the section")));
        }
        self.bytes(n as usize)
    }

    /// A UTF-8 string prefixed with its length as a uvarint.
    pub fn uvarint_str(&mut self) -> Result<&'a str> {
        let start = self.pos;
        let b = self.uvarint_bytes()?;
        std::str::from_utf8(b).map_err(|e| corrupt(self.file, start, format!("string is not UTF-8: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Decbuf<'_> {
        Decbuf::new(Path::new("f"), b, 0, b.len()).unwrap()
    }

    #[test]
    fn varints_follow_go() {
        let mut d = dec(&[0x01, 0xac, 0x02, 0x03, 0x04]);
        assert_eq!(d.uvarint().unwrap(), 1);
        assert_eq!(d.uvarint().unwrap(), 300);
        assert_eq!(d.varint().unwrap(), -2);
        assert_eq!(d.varint().unwrap(), 2);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(dec(&max).uvarint().unwrap(), u64::MAX);
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(dec(&over).uvarint().unwrap_err().message().contains("overflows"));
    }

    #[test]
    fn short_reads_are_errors_with_offsets() {
        let mut d = dec(&[0x00, 0x80]);
        d.byte().unwrap();
        let e = d.uvarint().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CorruptBlock);
        assert_eq!(e.message(), "f: offset 1: uvarint runs past the end of the section");
        assert!(dec(&[5, b'a']).uvarint_bytes().is_err());
        assert!(dec(&[1, 2, 3]).be32().is_err());
        assert!(dec(&[1, 0xff]).uvarint_str().unwrap_err().message().contains("UTF-8"));
    }

    #[test]
    fn sections_check_length_and_checksum() {
        let body = b"hello";
        let mut file = (body.len() as u32).to_be_bytes().to_vec();
        file.extend_from_slice(body);
        file.extend_from_slice(&crc32c::crc32c(body).to_be_bytes());
        let mut d = Decbuf::at_section(Path::new("f"), &file, 0, "s").unwrap();
        assert_eq!(d.bytes(5).unwrap(), body);
        assert!(d.is_empty());

        let mut bad = file.clone();
        bad[6] ^= 1;
        let e = Decbuf::at_section(Path::new("f"), &bad, 0, "s").err().unwrap();
        assert!(e.message().contains("checksum mismatch"), "{}", e.message());
        let e = Decbuf::at_section(Path::new("f"), &file[..file.len() - 1], 0, "s").err().unwrap();
        assert!(e.message().contains("do not fit"), "{}", e.message());
        assert!(Decbuf::at_section(Path::new("f"), &file, file.len() + 3, "s").is_err());
    }
}
