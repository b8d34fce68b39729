//! The XOR ("Gorilla") float chunk, byte for byte as Prometheus 2.42 writes it
//! (`tsdb/chunkenc/xor.go` at v2.42.0; layout in `tsdb/docs/format/chunks.md`).
//!
//! ```text
//! chunk   := num_samples:u16be  bitstream  zero padding to a byte
//! sample0 := t0:varint(zigzag)  v0:64 bits
//! sample1 := Δt1:uvarint        value
//! sampleN := dod                value          (dod = Δtn − Δtn−1)
//! dod     := 0 | 10 s14 | 110 s17 | 1110 s20 | 1111 s64
//! value   := 0                                 (same bits as before)
//!          | 10 bits[64−L−T]                   (XOR fits the previous window)
//!          | 11 L:5 sig:6 bits[sig]            (new window, sig 0 means 64)
//! ```
//!
//! Arithmetic on timestamps wraps, as Go's unsigned conversions do, so any i64
//! sequence round-trips, including negative and huge jumps.

use super::bstream::{BitWriter, PaddedStream};
use crate::error::{Error, ErrorKind, Result};

/// A chunk holds at most this many samples: the count is a 16-bit field.
pub const MAX_SAMPLES: usize = u16::MAX as usize;

/// Bytes before the bit stream: the big-endian sample count.
pub(crate) const HEADER_LEN: usize = 2;

/// `L` sentinel meaning "no window yet", so the first changed value always opens
/// one. Prometheus's appender starts from the same 0xff.
const NO_WINDOW: u32 = 0xff;

/// Leading zeros are stored in 5 bits, so counts of 32 and more are clamped to 31.
const MAX_LEADING: u32 = 31;

pub(crate) fn corrupt(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::CorruptChunk, msg)
}

/// The number of samples a chunk says it holds, without decoding it.
pub fn num_samples(chunk: &[u8]) -> Result<usize> {
    match chunk {
        [hi, lo, ..] => Ok(u16::from_be_bytes([*hi, *lo]) as usize),
        _ => Err(corrupt(format!("XOR chunk of {} bytes has no sample count", chunk.len()))),
    }
}

/// The sample count of a chunk, checked against its length. Decoders size
/// their output from the count before decoding, so a count the bytes cannot
/// hold is refused here: a corrupt header would otherwise have a batch of
/// small chunks claiming 65,535 samples each allocate gigabytes before the
/// decode ran off the end. The fewest bits `n` samples take: sample 0 is a
/// varint of at least a byte and 64 bits of value (72), sample 1 a one-byte
/// varint and a one-bit value (9), every later one a bit of delta of delta and
/// a bit of value. So a chunk yields at most four samples per byte, and output
/// (16 bytes a sample) stays within 64 times the input.
pub(crate) fn checked_num_samples(chunk: &[u8]) -> Result<usize> {
    let n = num_samples(chunk)?;
    let min_bits = match n {
        0 => 0,
        1 => 72,
        _ => 81 + 2 * (n - 2),
    };
    if min_bits > (chunk.len() - HEADER_LEN) * 8 {
        return Err(truncated(n));
    }
    Ok(n)
}

/// True when `n` bits of two's complement hold `x`, with the asymmetric range
/// Prometheus uses: `-(2^(n-1) - 1) ..= 2^(n-1)`.
#[inline]
fn fits(x: i64, n: u32) -> bool {
    let half = 1i64 << (n - 1);
    -(half - 1) <= x && x <= half
}

/// Builds one XOR chunk sample by sample, like Prometheus's `xorAppender`.
#[derive(Clone, Debug)]
pub struct XorAppender {
    stream: BitWriter,
    num: usize,
    t: i64,
    t_delta: u64,
    v: u64,
    leading: u32,
    trailing: u32,
}

impl Default for XorAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl XorAppender {
    pub fn new() -> Self {
        XorAppender {
            stream: BitWriter::with_capacity(128),
            num: 0,
            t: 0,
            t_delta: 0,
            v: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    pub fn num_samples(&self) -> usize {
        self.num
    }

    /// Appends a sample. Timestamps are taken as given (Prometheus never appends
    /// out of order, but the format itself accepts any sequence).
    pub fn append(&mut self, t: i64, v: f64) -> Result<()> {
        if self.num == MAX_SAMPLES {
            return Err(Error::new(
                ErrorKind::BadData,
                format!("XOR chunk is full: it holds at most {MAX_SAMPLES} samples"),
            ));
        }
        let bits = v.to_bits();
        match self.num {
            0 => {
                let mut buf = [0u8; 10];
                let n = put_uvarint(&mut buf, zigzag(t));
                self.stream.write_bytes(&buf[..n]);
                self.stream.write_bits(bits, 64);
            }
            1 => {
                self.t_delta = t.wrapping_sub(self.t) as u64;
                let mut buf = [0u8; 10];
                let n = put_uvarint(&mut buf, self.t_delta);
                self.stream.write_bytes(&buf[..n]);
                self.write_value(bits);
            }
            _ => {
                let t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                // Prometheus timestamps are milliseconds where Gorilla had seconds,
                // hence the wider buckets than the paper's 7/9/12 bits.
                if dod == 0 {
                    self.stream.write_bit(false);
                } else if fits(dod, 14) {
                    self.stream.write_bits(0b10, 2);
                    self.stream.write_bits(dod as u64, 14);
                } else if fits(dod, 17) {
                    self.stream.write_bits(0b110, 3);
                    self.stream.write_bits(dod as u64, 17);
                } else if fits(dod, 20) {
                    self.stream.write_bits(0b1110, 4);
                    self.stream.write_bits(dod as u64, 20);
                } else {
                    self.stream.write_bits(0b1111, 4);
                    self.stream.write_bits(dod as u64, 64);
                }
                self.t_delta = t_delta;
                self.write_value(bits);
            }
        }
        self.t = t;
        self.v = bits;
        self.num += 1;
        Ok(())
    }

    fn write_value(&mut self, bits: u64) {
        let delta = bits ^ self.v;
        if delta == 0 {
            self.stream.write_bit(false);
            return;
        }
        let leading = delta.leading_zeros().min(MAX_LEADING);
        let trailing = delta.trailing_zeros();
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            self.stream.write_bits(0b10, 2);
            self.stream.write_bits(delta >> self.trailing, 64 - self.leading - self.trailing);
        } else {
            self.leading = leading;
            self.trailing = trailing;
            let sig = 64 - leading - trailing;
            self.stream.write_bits(0b11, 2);
            self.stream.write_bits(leading as u64, 5);
            // 64 significant bits do not fit in 6; 0 stands for 64 because a
            // window is only opened for a non-zero XOR.
            self.stream.write_bits((sig & 0x3f) as u64, 6);
            self.stream.write_bits(delta >> trailing, sig);
        }
    }

    /// The chunk bytes: the sample count, then the padded bit stream.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.stream.bit_len().div_ceil(8));
        out.extend_from_slice(&(self.num as u16).to_be_bytes());
        self.stream.copy_to(&mut out);
        out
    }
}

/// Encodes one chunk from equal-length timestamp and value slices.
pub fn encode(ts: &[i64], vs: &[f64]) -> Result<Vec<u8>> {
    if ts.len() != vs.len() {
        return Err(Error::new(ErrorKind::BadData, format!("{} timestamps but {} values", ts.len(), vs.len())));
    }
    let mut app = XorAppender::new();
    for (&t, &v) in ts.iter().zip(vs) {
        app.append(t, v)?;
    }
    Ok(app.bytes())
}

fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

fn put_uvarint(buf: &mut [u8; 10], mut x: u64) -> usize {
    let mut i = 0;
    while x >= 0x80 {
        buf[i] = x as u8 | 0x80;
        x >>= 7;
        i += 1;
    }
    buf[i] = x as u8;
    i + 1
}

fn truncated(samples: usize) -> Error {
    corrupt(format!("XOR chunk truncated: its {samples} samples run past the end of the data"))
}

/// The delta-of-delta buckets `0`, `10`, `110` and `1110`, indexed by their count
/// of one bits: total length (prefix and payload), and `64 - payload width`, the
/// shift that brings the top-aligned payload down. Prometheus timestamps are
/// milliseconds where Gorilla had seconds, hence wider payloads than the paper's
/// 7/9/12 bits: 14, 17 and 20.
const DOD_LEN: [u32; 4] = [1, 16, 20, 24];
const DOD_SHIFT: [u32; 4] = [0, 50, 47, 44];

/// The decoding state of one chunk between samples: the shape of Prometheus's
/// `xorIterator`, with values kept as raw bits so NaN payloads (stale markers)
/// survive untouched.
#[derive(Clone, Copy, Debug)]
pub(crate) struct State {
    /// Bit position of the next sample in its [`PaddedStream`].
    pub pos: usize,
    pub t: i64,
    pub t_delta: u64,
    pub v: u64,
    /// The value window: significant bits and trailing zeros. Before the first
    /// window they read as 64 and 0, as Prometheus's zeroed iterator does.
    pub sig: u32,
    pub trailing: u32,
    /// Has its top bit set once a value window claimed more than 64 bits: no
    /// encoder writes that, so the chunk is corrupt.
    pub bad_window: u32,
}

impl State {
    pub fn new(pos: usize) -> Self {
        State { pos, t: 0, t_delta: 0, v: 0, sig: 64, trailing: 0, bad_window: 0 }
    }

    /// Reads a Go-style uvarint. Like `encoding/binary`, more than ten bytes, or a
    /// tenth byte above 1, overflow 64 bits and are an error.
    fn uvarint(&mut self, s: &PaddedStream) -> Result<u64> {
        let mut x = 0u64;
        for i in 0..10 {
            let b = s.bits_at(self.pos, 8);
            self.pos += 8;
            if i == 9 && b > 1 {
                break;
            }
            x |= (b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(x);
            }
        }
        Err(corrupt("XOR chunk: varint overflows a 64-bit integer"))
    }

    /// Sample 0: a zig-zag varint timestamp and the raw value bits.
    pub fn first(&mut self, s: &PaddedStream) -> Result<()> {
        let u = self.uvarint(s)?;
        self.t = (u >> 1) as i64 ^ -((u & 1) as i64);
        self.v = s.bits_at(self.pos, 64);
        self.pos += 64;
        Ok(())
    }

    /// Sample 1: an unsigned varint delta and a value.
    pub fn second(&mut self, s: &PaddedStream) -> Result<()> {
        self.t_delta = self.uvarint(s)?;
        self.t = self.t.wrapping_add(self.t_delta as i64);
        let header = s.peek57(self.pos);
        self.read_value(s, header, 0);
        Ok(())
    }

    /// Every later sample: a delta of delta, then a value.
    ///
    /// Branch-free but for rare cases (a 64-bit delta of delta, a value payload
    /// crossing a word). Jittery scrapes move timestamps between buckets from
    /// sample to sample and counters hop between value windows, so branches on
    /// either would mispredict often. What chains one sample to the next is only
    /// the next position, computed from a single load.
    #[inline(always)]
    pub fn next(&mut self, s: &PaddedStream, end: usize) {
        if self.pos > end {
            return;
        }
        let w = unsafe { s.peek57_unchecked(self.pos) };
        let ones = (!w).leading_zeros();
        let (dod, dod_len, header) = if ones < 4 {
            let (len, shift) = (DOD_LEN[ones as usize], DOD_SHIFT[ones as usize]);
            let raw = (w << (ones + 1)) >> shift;
            // Two's complement in the payload's width, except that Prometheus's
            // positive range reaches 2^(width-1) inclusive (and it never writes
            // -2^(width-1)): sign-extending `raw - 1` and adding 1 does both.
            let dod = (((raw.wrapping_sub(1) << shift) as i64) >> shift).wrapping_add(1);
            // At most 24 bits of timestamp: the 13 value-header bits are in `w`.
            (if ones == 0 { 0 } else { dod }, len, w << len)
        } else {
            let dod = s.bits_at(self.pos + 4, 64) as i64;
            (dod, 68, s.peek57(self.pos + 68))
        };
        self.t_delta = self.t_delta.wrapping_add(dod as u64);
        self.t = self.t.wrapping_add(self.t_delta as i64);
        self.read_value(s, header, dod_len);
    }

    /// Reads a value whose control bits are at the top of `header`, `skip` bits
    /// after `self.pos`: `0` unchanged, `10` and the window's bits, or `11`, 5 bits
    /// of leading zeros, 6 of significant bits (0 means 64) and those bits.
    #[inline(always)]
    fn read_value(&mut self, s: &PaddedStream, header: u64, skip: u32) {
        let changed = (header >> 63) as u32;
        let new_window = header >> 62 == 0b11;
        let leading = ((header >> 57) & 0x1f) as i32;
        let sig = ((((header >> 51) & 0x3f) as u32).wrapping_sub(1) & 63) + 1;
        let trailing = 64 - leading - sig as i32;
        // A branch, not conditional moves: new windows are rare enough (a fifth
        // of a counter's samples, a tenth of a gauge's) that the extra
        // instructions of a branch-free select cost more than the mispredictions.
        if new_window {
            self.sig = sig;
            self.trailing = trailing as u32 & 63;
            // A negative `trailing` is a window wider than 64 bits: corrupt.
            self.bad_window |= trailing as u32;
        }
        let len = if changed == 1 { self.sig } else { 0 };
        let header_len = 1 + changed + if new_window { 11 } else { 0 };
        let payload_pos = self.pos + (skip + header_len) as usize;
        self.pos = payload_pos + len as usize;
        // One load unless the payload crosses the word it starts in.
        let word = if (payload_pos & 7) as u32 + len <= 57 {
            unsafe { s.peek57_unchecked(payload_pos) }
        } else {
            s.peek64_cold(payload_pos)
        };
        // A zero-length payload shifts by 64, which wraps to 0: mask it away.
        let bits = word.wrapping_shr(64 - len) & 0u64.wrapping_sub(changed as u64);
        self.v ^= bits << self.trailing;
    }

    /// Checks the samples decoded so far: well formed and inside `end`.
    pub fn finish(&self, end: usize, total: usize) -> Result<()> {
        if self.bad_window >> 31 != 0 {
            return Err(corrupt("XOR chunk: a value window spans more than 64 bits"));
        }
        if self.pos > end {
            return Err(truncated(total));
        }
        Ok(())
    }
}

/// Decodes a chunk sample by sample, like Prometheus's `xorIterator`. Each sample
/// is checked before it is returned; [`super::decode_many`] decodes whole chunks
/// several times faster.
#[derive(Clone, Debug)]
pub struct XorIterator {
    stream: PaddedStream,
    st: State,
    end: usize,
    total: usize,
    read: usize,
    failed: bool,
}

impl XorIterator {
    pub fn new(chunk: &[u8]) -> Result<Self> {
        let total = num_samples(chunk)?;
        let mut stream = PaddedStream::default();
        let (start, end) = stream.push(&chunk[HEADER_LEN..]);
        Ok(XorIterator { stream, st: State::new(start), end, total, read: 0, failed: false })
    }

    /// The sample count from the chunk header.
    pub fn num_samples(&self) -> usize {
        self.total
    }

    fn step(&mut self) -> Result<(i64, f64)> {
        if self.st.pos > self.end {
            return Err(truncated(self.total));
        }
        match self.read {
            0 => self.st.first(&self.stream)?,
            1 => self.st.second(&self.stream)?,
            _ => self.st.next(&self.stream, self.end),
        }
        self.read += 1;
        self.st.finish(self.end, self.total)?;
        Ok((self.st.t, f64::from_bits(self.st.v)))
    }
}

impl Iterator for XorIterator {
    type Item = Result<(i64, f64)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.read >= self.total {
            return None;
        }
        let sample = self.step();
        self.failed = sample.is_err();
        Some(sample)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::decode_into;

    fn round_trip(ts: &[i64], vs: &[f64]) {
        let chunk = encode(ts, vs).unwrap();
        assert_eq!(num_samples(&chunk).unwrap(), ts.len());
        let (mut dt, mut dv) = (Vec::new(), Vec::new());
        assert_eq!(decode_into(&chunk, &mut dt, &mut dv).unwrap(), ts.len());
        assert_eq!(dt, ts);
        let bits: Vec<u64> = dv.iter().map(|v| v.to_bits()).collect();
        let want: Vec<u64> = vs.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, want);
        let iterated: Vec<(i64, u64)> =
            XorIterator::new(&chunk).unwrap().map(|s| s.map(|(t, v)| (t, v.to_bits())).unwrap()).collect();
        assert_eq!(iterated, ts.iter().copied().zip(want).collect::<Vec<_>>());
    }

    #[test]
    fn empty_chunk_is_two_zero_bytes() {
        assert_eq!(encode(&[], &[]).unwrap(), vec![0, 0]);
        round_trip(&[], &[]);
    }

    #[test]
    fn one_sample_is_varint_and_raw_bits() {
        let chunk = encode(&[1], &[1.0]).unwrap();
        // count 1, zigzag(1) = 2, then 1.0 as 0x3ff0000000000000, then the empty
        // byte Go's bstream leaves after whole-byte writes.
        assert_eq!(chunk, vec![0, 1, 2, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn dod_bucket_edges() {
        let mut dods = vec![0i64, 1, -1];
        for n in [14u32, 17, 20] {
            let half = 1i64 << (n - 1);
            dods.extend([half, half + 1, -(half - 1), -half, -(half + 1)]);
        }
        dods.extend([i64::MAX / 4, i64::MIN / 4]);
        for dod in dods {
            let ts = [1000, 2000, 3000 + dod, 4000 + 2 * dod];
            round_trip(&ts, &[1.0, 2.0, 3.0, 4.0]);
        }
    }

    #[test]
    fn special_values_keep_their_bits() {
        let stale = f64::from_bits(0x7ff0_0000_0000_0002);
        let vs = [f64::NAN, stale, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, stale, 1e-300, f64::MAX];
        let ts: Vec<i64> = (0..vs.len() as i64).map(|i| i * 15_000).collect();
        round_trip(&ts, &vs);
    }

    #[test]
    fn timestamps_may_jump_anywhere() {
        round_trip(&[i64::MIN, i64::MAX, 0, -5, i64::MAX, i64::MIN], &[1.0; 6]);
    }

    #[test]
    fn full_chunk_refuses_more() {
        let ts: Vec<i64> = (0..MAX_SAMPLES as i64).collect();
        let vs = vec![1.5; MAX_SAMPLES];
        round_trip(&ts, &vs);
        let mut app = XorAppender::new();
        for (&t, &v) in ts.iter().zip(&vs) {
            app.append(t, v).unwrap();
        }
        assert_eq!(app.append(MAX_SAMPLES as i64, 1.0).unwrap_err().kind(), ErrorKind::BadData);
    }

    #[test]
    fn every_truncation_errors() {
        let ts: Vec<i64> = (0..120).map(|i| i * 15_000 + (i * 7919) % 5).collect();
        let vs: Vec<f64> = (0..120).map(|i| (i as f64 * 1.37).sin() * 100.0).collect();
        let chunk = encode(&ts, &vs).unwrap();
        for len in 0..chunk.len() {
            let (mut dt, mut dv) = (Vec::new(), Vec::new());
            let err = decode_into(&chunk[..len], &mut dt, &mut dv).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::CorruptChunk, "length {len}");
            assert!(dt.is_empty() && dv.is_empty());
        }
    }

    #[test]
    fn impossible_window_is_an_error() {
        // Two samples; the second opens a window of 31 leading and 63 significant bits.
        let mut w = BitWriter::default();
        w.write_bytes(&[0, 2]); // sample count
        w.write_bytes(&[0]); // t0 = 0
        w.write_bits(0, 64); // v0 = 0.0
        w.write_bytes(&[1]); // Δt1 = 1
        w.write_bits(0b11, 2);
        w.write_bits(31, 5);
        w.write_bits(63, 6);
        w.write_bits(u64::MAX, 63);
        let mut chunk = Vec::new();
        w.copy_to(&mut chunk);
        let err = decode_into(&chunk, &mut Vec::new(), &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CorruptChunk);
    }
}
