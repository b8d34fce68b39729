//! Protobuf's wire format (<https://protobuf.dev/programming-guides/encoding/>)
//! read and written by hand for the messages a store passes through without
//! looking inside: remote-read frames in, `SeriesResponse`s out. Their chunk
//! bytes are sliced and copied once; decoding into the generated structs and
//! encoding them again was most of the sidecar's Rust time in remote read.
//!
//! The reader accepts what prost's generated decoders accept for the same
//! message (checked by the `frames` fuzz target); like prost it refuses groups
//! nested deeper than [`MAX_GROUP_DEPTH`].

use thanos_core::{bail, Error, ErrorKind, Result};

/// How deep groups may nest: prost's recursion limit, so that a frame of
/// nested group keys cannot grow the skipping stack with its own length.
const MAX_GROUP_DEPTH: usize = 100;

/// The wire types of a field key (the low three bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireType {
    Varint,
    SixtyFourBit,
    LengthDelimited,
    StartGroup,
    EndGroup,
    ThirtyTwoBit,
}

/// The fields of one message, in the order they are on the wire.
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
}

impl<'a> Fields<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Fields { buf }
    }

    /// The next field's number and wire type, or `None` at the end of the
    /// message. The caller then reads its value with one of the methods
    /// below, or [`skip`](Self::skip)s it.
    pub(crate) fn next_key(&mut self) -> Result<Option<(u32, WireType)>> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint_raw()?;
        if key > u64::from(u32::MAX) {
            bail!(CorruptFrame, "invalid key value: {key}");
        }
        let wire_type = match key & 7 {
            0 => WireType::Varint,
            1 => WireType::SixtyFourBit,
            2 => WireType::LengthDelimited,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::ThirtyTwoBit,
            t => bail!(CorruptFrame, "invalid wire type value: {t}"),
        };
        let tag = (key >> 3) as u32;
        if tag == 0 {
            bail!(CorruptFrame, "invalid tag value: 0");
        }
        Ok(Some((tag, wire_type)))
    }

    /// A varint field's value.
    pub(crate) fn varint(&mut self, wire_type: WireType) -> Result<u64> {
        expect(WireType::Varint, wire_type)?;
        self.varint_raw()
    }

    /// A length-delimited field's bytes (a string, bytes or an embedded message).
    pub(crate) fn bytes(&mut self, wire_type: WireType) -> Result<&'a [u8]> {
        expect(WireType::LengthDelimited, wire_type)?;
        let len = self.varint_raw()?;
        self.take(len)
    }

    /// A string field's value, which must be UTF-8.
    pub(crate) fn string(&mut self, wire_type: WireType) -> Result<&'a str> {
        std::str::from_utf8(self.bytes(wire_type)?)
            .map_err(|_| Error::new(ErrorKind::CorruptFrame, "invalid string value: data is not UTF-8 encoded"))
    }

    /// Steps over the value of a field this reader does not know. Groups, a
    /// deprecated encoding nobody sends any more, are skipped to their end
    /// without recursion, up to [`MAX_GROUP_DEPTH`] deep.
    pub(crate) fn skip(&mut self, tag: u32, wire_type: WireType) -> Result<()> {
        let mut open = Vec::new();
        let (mut tag, mut wire_type) = (tag, wire_type);
        loop {
            match wire_type {
                WireType::Varint => drop(self.varint_raw()?),
                WireType::SixtyFourBit => drop(self.take(8)?),
                WireType::ThirtyTwoBit => drop(self.take(4)?),
                WireType::LengthDelimited => drop(self.bytes(wire_type)?),
                WireType::StartGroup if open.len() == MAX_GROUP_DEPTH => {
                    bail!(CorruptFrame, "recursion limit reached")
                }
                WireType::StartGroup => open.push(tag),
                WireType::EndGroup => {
                    if open.pop() != Some(tag) {
                        bail!(CorruptFrame, "unexpected end group tag");
                    }
                }
            }
            if open.is_empty() {
                return Ok(());
            }
            let Some(next) = self.next_key()? else { bail!(CorruptFrame, "buffer underflow") };
            (tag, wire_type) = next;
        }
    }

    /// An unsigned LEB128 varint of at most 10 bytes, the tenth carrying only
    /// the 64th bit.
    fn varint_raw(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for (i, &b) in self.buf.iter().enumerate().take(10) {
            if i == 9 && b > 1 {
                break;
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        bail!(CorruptFrame, "invalid varint")
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8]> {
        if len > self.buf.len() as u64 {
            bail!(CorruptFrame, "buffer underflow");
        }
        let (value, rest) = self.buf.split_at(len as usize);
        self.buf = rest;
        Ok(value)
    }
}

fn expect(expected: WireType, actual: WireType) -> Result<()> {
    if expected != actual {
        bail!(CorruptFrame, "invalid wire type: {actual:?} (expected {expected:?})");
    }
    Ok(())
}

/// The size of `value` as a varint.
pub(crate) const fn varint_len(value: u64) -> usize {
    // One byte per started group of seven bits (`| 1`: zero takes one byte).
    ((((value | 1).ilog2() + 1) * 9 + 64) / 64) as usize
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A field key: its number and wire type.
pub(crate) fn put_key(out: &mut Vec<u8>, tag: u32, wire_type: WireType) {
    put_varint(out, u64::from(tag) << 3 | wire_type as u64);
}

pub(crate) const fn key_len(tag: u32) -> usize {
    varint_len((tag as u64) << 3)
}

/// The size of a varint field (an int64 or an enum), left out when zero as
/// proto3 does with default values.
pub(crate) const fn varint_field_len(tag: u32, value: i64) -> usize {
    if value == 0 {
        0
    } else {
        key_len(tag) + varint_len(value as u64)
    }
}

pub(crate) fn put_varint_field(out: &mut Vec<u8>, tag: u32, value: i64) {
    if value != 0 {
        put_key(out, tag, WireType::Varint);
        put_varint(out, value as u64);
    }
}

/// The size of an embedded message, or a non-empty string or bytes field, of
/// `len` bytes.
pub(crate) const fn nested_len(tag: u32, len: usize) -> usize {
    key_len(tag) + varint_len(len as u64) + len
}

/// The size of a string or bytes field, left out when empty.
pub(crate) const fn bytes_field_len(tag: u32, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        nested_len(tag, len)
    }
}

pub(crate) fn put_bytes_field(out: &mut Vec<u8>, tag: u32, value: &[u8]) {
    if !value.is_empty() {
        put_nested_header(out, tag, value.len());
        out.extend_from_slice(value);
    }
}

/// The key and length of an embedded message, whose bytes follow.
pub(crate) fn put_nested_header(out: &mut Vec<u8>, tag: u32, len: usize) {
    put_key(out, tag, WireType::LengthDelimited);
    put_varint(out, len as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_length() {
        for shift in 0..64 {
            for value in [1u64 << shift, (1u64 << shift) - 1, (1u64 << shift) + 1, u64::MAX] {
                let mut out = Vec::new();
                put_varint(&mut out, value);
                assert_eq!(out.len(), varint_len(value), "{value}");
                assert_eq!(out.len(), prost::encoding::encoded_len_varint(value));
                assert_eq!(Fields::new(&out).varint_raw().unwrap(), value);
            }
        }
    }

    #[test]
    fn malformed_input_is_refused() {
        // An 11-byte varint, a 10th byte past the 64th bit, a varint cut short.
        for bad in [&[0xff; 11][..], &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], &[0x80]] {
            assert!(Fields::new(bad).varint_raw().is_err());
        }
        // Field 0, wire type 7, a length past the end, an unmatched end group.
        for bad in [&[0x00][..], &[0x0f], &[0x0a, 0x05, 0x00], &[0x0c]] {
            let mut f = Fields::new(bad);
            let res = f.next_key().and_then(|k| {
                let (tag, wt) = k.unwrap();
                f.skip(tag, wt)
            });
            assert!(res.is_err(), "{bad:?}");
        }
    }

    #[test]
    fn groups_are_skipped_to_their_end() {
        // Field 1 a group holding a varint and a nested group, then field 2.
        let msg = [0x0b, 0x08, 0x01, 0x13, 0x14, 0x0c, 0x10, 0x07];
        let mut f = Fields::new(&msg);
        let (tag, wt) = f.next_key().unwrap().unwrap();
        f.skip(tag, wt).unwrap();
        let (tag, wt) = f.next_key().unwrap().unwrap();
        assert_eq!((tag, f.varint(wt).unwrap()), (2, 7));
        assert!(f.next_key().unwrap().is_none());
    }

    #[test]
    fn groups_nest_at_most_as_deep_as_prost_allows() {
        let nested = |depth: usize| [vec![0x0b; depth], vec![0x0c; depth]].concat();
        for (depth, ok) in [(MAX_GROUP_DEPTH, true), (MAX_GROUP_DEPTH + 1, false), (100_000, false)] {
            let msg = nested(depth);
            let mut f = Fields::new(&msg);
            let (tag, wt) = f.next_key().unwrap().unwrap();
            assert_eq!(f.skip(tag, wt).is_ok(), ok, "depth {depth}");
        }
    }
}
