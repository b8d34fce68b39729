//! Bit streams, most significant bit first, as Prometheus's `tsdb/chunkenc/bstream.go`
//! lays them out: the first bit of the stream is the top bit of the first byte, and
//! the last byte is padded with zero bits.
//!
//! One quirk matters for byte-exact chunks: Go's `writeByte` always appends the
//! next byte, so a stream whose last write was whole bytes starting on a byte
//! boundary ends with an extra all-zero byte (every one-sample chunk does).
//! [`BitWriter`] reproduces it.

/// Appends bits to a byte vector. Bits gather in a 64-bit accumulator and reach the
/// vector eight bytes at a time, so a sample costs a few shifts, not a push per bit.
#[derive(Clone, Debug, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    /// Bits held in `acc`, counted from its top; always below 64.
    pending: u32,
    /// The last write was whole bytes from a byte boundary (see the module docs).
    empty_tail_byte: bool,
}

impl BitWriter {
    pub fn with_capacity(bytes: usize) -> Self {
        BitWriter { bytes: Vec::with_capacity(bytes), acc: 0, pending: 0, empty_tail_byte: false }
    }

    /// Writes the low `n` bits of `value`, `n` in `1..=64`.
    #[inline]
    pub fn write_bits(&mut self, value: u64, n: u32) {
        debug_assert!((1..=64).contains(&n));
        let value = if n == 64 { value } else { value & ((1u64 << n) - 1) };
        self.empty_tail_byte = n.is_multiple_of(8) && self.pending.is_multiple_of(8);
        let free = 64 - self.pending;
        if n < free {
            self.acc |= value << (free - n);
            self.pending += n;
        } else {
            // Fill the accumulator, flush it, and keep the bits that did not fit.
            let spill = n - free;
            self.acc |= value >> spill;
            self.bytes.extend_from_slice(&self.acc.to_be_bytes());
            self.acc = if spill == 0 { 0 } else { value << (64 - spill) };
            self.pending = spill;
        }
    }

    #[inline]
    pub fn write_bit(&mut self, bit: bool) {
        self.write_bits(bit as u64, 1);
    }

    /// Writes whole bytes at the current bit position (they need not be aligned).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_bits(b as u64, 8);
        }
    }

    /// The number of bits written so far.
    pub fn bit_len(&self) -> usize {
        self.bytes.len() * 8 + self.pending as usize
    }

    /// Appends the stream, padded to a whole byte, to `out`.
    pub fn copy_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes);
        let tail = self.pending.div_ceil(8) as usize;
        out.extend_from_slice(&self.acc.to_be_bytes()[..tail]);
        if self.empty_tail_byte {
            out.push(0);
        }
    }
}

/// Zero bytes a [`PaddedStream`] keeps after each piece of data. A sample of an
/// XOR chunk spans at most 4+64 bits of timestamp and 13+64 of value (145 bits,
/// 19 bytes), and a read loads 9 bytes from where it starts: 32 bytes cover every
/// read a sample that starts inside the data can make, so decoders check bounds
/// once per sample instead of once per field.
pub const PADDING: usize = 32;

/// Bit streams copied one after the other into a buffer, each followed by
/// [`PADDING`] zero bytes, and read by absolute bit position. Copying costs a
/// fraction of a nanosecond per sample and saves a bounds check on every load;
/// several streams in one buffer let a decoder work on them side by side.
#[derive(Clone, Debug)]
pub struct PaddedStream {
    /// Always at least `PADDING` bytes: it starts with a padding block, so a
    /// clamped read (see `load9`) is in bounds even before the first push.
    buf: Vec<u8>,
}

impl Default for PaddedStream {
    fn default() -> Self {
        PaddedStream { buf: vec![0; PADDING] }
    }
}

impl PaddedStream {
    pub fn clear(&mut self) {
        self.buf.truncate(PADDING);
    }

    /// Appends `data` and its padding; returns the bit positions of its start and
    /// end.
    pub fn push(&mut self, data: &[u8]) -> (usize, usize) {
        let start = self.buf.len() * 8;
        self.buf.reserve(data.len() + PADDING);
        self.buf.extend_from_slice(data);
        self.buf.resize(self.buf.len() + PADDING, 0);
        (start, start + data.len() * 8)
    }

    /// The buffer, for decoders that load from it themselves (see `avx512`).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The 64 bits starting at bit `pos`, top-aligned.
    #[inline(always)]
    pub fn peek64(&self, pos: usize) -> u64 {
        let shift = (pos & 7) as u32;
        let (word, next) = self.load9(pos >> 3);
        // With shift 0 the second term is `next >> 8`, which is zero: no branch.
        (word << shift) | (next as u64 >> (8 - shift))
    }

    /// At least the top 57 bits at `pos` are right; one load instead of two.
    #[inline(always)]
    pub fn peek57(&self, pos: usize) -> u64 {
        self.load9(pos >> 3).0 << (pos & 7)
    }

    /// [`PaddedStream::peek64`] kept out of line, for reads a decoder rarely needs.
    #[cold]
    #[inline(never)]
    pub fn peek64_cold(&self, pos: usize) -> u64 {
        self.peek64(pos)
    }

    /// `n` bits at `pos`, `n` in `0..=64`, in the low bits of the result.
    #[inline(always)]
    pub fn bits_at(&self, pos: usize, n: u32) -> u64 {
        top_bits(self.peek64(pos), n)
    }

    /// `peek57` without the clamp.
    ///
    /// # Safety
    /// `pos` must lie at most `(PADDING - 9) * 8` bits past the end of a pushed
    /// stream.
    #[inline(always)]
    pub unsafe fn peek57_unchecked(&self, pos: usize) -> u64 {
        debug_assert!((pos >> 3) + 9 <= self.buf.len());
        unsafe { u64::from_be_bytes(self.buf.as_ptr().add(pos >> 3).cast::<[u8; 8]>().read_unaligned()) << (pos & 7) }
    }

    /// The big-endian word at `byte` and the byte after it. Positions past the
    /// buffer are clamped to its last nine bytes: decoders only read there after
    /// running off the end of a corrupt chunk, which they then report, and a
    /// conditional move is cheaper than a bounds check on the hot path.
    #[inline(always)]
    fn load9(&self, byte: usize) -> (u64, u8) {
        let byte = byte.min(self.buf.len() - 9);
        // SAFETY: `buf` never holds fewer than PADDING (> 9) bytes, so after the
        // clamp the nine bytes at `byte` are inside it.
        unsafe {
            let p = self.buf.as_ptr().add(byte);
            (u64::from_be_bytes(p.cast::<[u8; 8]>().read_unaligned()), *p.add(8))
        }
    }
}

/// The top `n` bits of `word`, `n` in `0..=64`, without branching on the ends.
#[inline(always)]
pub fn top_bits(word: u64, n: u32) -> u64 {
    ((word as u128) >> (64 - n)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_msb_first_and_pads_with_zeros() {
        let mut w = BitWriter::default();
        w.write_bit(true);
        w.write_bits(0b01, 2);
        w.write_bits(0xABCD, 16);
        let mut out = Vec::new();
        w.copy_to(&mut out);
        // 1 01 1010101111001101 then five zero bits of padding.
        assert_eq!(out, vec![0b1011_0101, 0b0111_1001, 0b1010_0000]);
        assert_eq!(w.bit_len(), 19);
    }

    #[test]
    fn whole_bytes_from_a_boundary_leave_an_empty_byte_like_go() {
        let mut w = BitWriter::default();
        w.write_bytes(&[0xAB]);
        let mut out = Vec::new();
        w.copy_to(&mut out);
        assert_eq!(out, vec![0xAB, 0]);

        // Ending on a boundary through single bits leaves no extra byte.
        let mut w = BitWriter::default();
        w.write_bits(0xA, 4);
        w.write_bits(0xB, 4);
        let mut out = Vec::new();
        w.copy_to(&mut out);
        assert_eq!(out, vec![0xAB]);
    }

    #[test]
    fn round_trips_every_width_at_every_offset() {
        for offset in 0..8u32 {
            for n in 1..=64u32 {
                let value = 0xDEAD_BEEF_0123_4567u64.rotate_left(n);
                let mut w = BitWriter::default();
                if offset > 0 {
                    w.write_bits(0, offset);
                }
                w.write_bits(value, n);
                w.write_bits(0b101, 3);
                let mut out = Vec::new();
                w.copy_to(&mut out);
                let mut r = PaddedStream::default();
                r.push(&[0xAA]);
                let (pos, _) = r.push(&out);
                let mask = if n == 64 { u64::MAX } else { (1 << n) - 1 };
                let pos = pos + offset as usize;
                assert_eq!(r.bits_at(pos, n), value & mask, "offset {offset} width {n}");
                assert_eq!(r.bits_at(pos + n as usize, 3), 0b101);
                assert_eq!(r.bits_at(pos, 0), 0);
                assert_eq!(r.peek57(pos) >> 7, r.peek64(pos) >> 7);
            }
        }
    }

    #[test]
    fn padding_reads_as_zeros() {
        let mut r = PaddedStream::default();
        let (start, end) = r.push(&[0xFF]);
        assert_eq!(end - start, 8);
        assert_eq!(r.bits_at(start, 8), 0xFF);
        assert_eq!(r.bits_at(end, 64), 0);
        assert_eq!(r.bits_at(start + 4, 8), 0xF0);
        // Far past the end: clamped, never out of bounds.
        let _ = r.peek64(1 << 40);
    }
}
