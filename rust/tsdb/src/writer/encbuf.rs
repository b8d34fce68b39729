//! The writing side of [`crate::encoding`]: Go's integer encodings into a
//! byte buffer (`Encbuf` in Prometheus's `tsdb/encoding/encoding.go` at
//! v2.42.0): big-endian fixed-width integers, `uvarint`, zig-zag `varint`
//! and strings prefixed by their `uvarint` length.

/// A growable buffer that the index and chunk writers fill.
#[derive(Default)]
pub struct Encbuf {
    pub b: Vec<u8>,
}

impl Encbuf {
    pub fn reset(&mut self) {
        self.b.clear();
    }

    pub fn len(&self) -> usize {
        self.b.len()
    }

    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    pub fn put_be32(&mut self, v: u32) {
        self.b.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_be64(&mut self, v: u64) {
        self.b.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_byte(&mut self, v: u8) {
        self.b.push(v);
    }

    pub fn put_uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.b.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.b.push(v as u8);
    }

    /// Go's `binary.PutVarint`: zig-zag, so small negative numbers stay short.
    pub fn put_varint(&mut self, v: i64) {
        self.put_uvarint(((v << 1) ^ (v >> 63)) as u64);
    }

    pub fn put_uvarint_str(&mut self, s: &str) {
        self.put_uvarint(s.len() as u64);
        self.b.extend_from_slice(s.as_bytes());
    }

    /// Appends the CRC32 (Castagnoli) of the bytes from `from` on, big-endian,
    /// as every checksummed section of the TSDB files ends.
    pub fn put_crc_of(&mut self, from: usize) {
        let crc = crc32c::crc32c(&self.b[from..]);
        self.put_be32(crc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::Decbuf;
    use std::path::Path;

    #[test]
    fn reads_back_with_decbuf() {
        let mut e = Encbuf::default();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            e.put_uvarint(v);
        }
        for v in [0i64, -1, 1, -64, 64, i64::MIN, i64::MAX] {
            e.put_varint(v);
        }
        e.put_uvarint_str("héllo");
        e.put_be32(0xDEAD_BEEF);
        let b = e.b.clone();
        let mut d = Decbuf::new(Path::new("t"), &b, 0, b.len()).unwrap();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(d.uvarint().unwrap(), v);
        }
        for v in [0i64, -1, 1, -64, 64, i64::MIN, i64::MAX] {
            assert_eq!(d.varint().unwrap(), v);
        }
        assert_eq!(d.uvarint_str().unwrap(), "héllo");
        assert_eq!(d.be32().unwrap(), 0xDEAD_BEEF);
    }
}
