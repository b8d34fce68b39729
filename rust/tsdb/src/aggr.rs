//! Thanos's aggregate chunk (`AggrChunk`, `pkg/compact/downsample/aggr.go`
//! at v0.26), the chunk of downsampled blocks: for each of the five
//! aggregates in order (count, sum, min, max, counter) a uvarint length,
//! then, unless it is zero (the aggregate is unset), the aggregate's own
//! chunk: its encoding byte and that many bytes. Its encoding byte in the
//! segment file is 0xff, the highest, so it never collides with Prometheus's.

use std::path::Path;

use thanos_core::{Error, ErrorKind, Result};

use crate::encoding::Decbuf;
use crate::writer::encbuf::Encbuf;

/// `downsample.ChunkEncAggr`.
pub const ENCODING_AGGR: u8 = 0xff;

/// `downsample.AggrType`, in the order the chunk holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggrType {
    Count = 0,
    Sum = 1,
    Min = 2,
    Max = 3,
    Counter = 4,
}

impl AggrType {
    pub const ALL: [AggrType; 5] = [AggrType::Count, AggrType::Sum, AggrType::Min, AggrType::Max, AggrType::Counter];

    pub fn as_str(self) -> &'static str {
        ["count", "sum", "min", "max", "counter"][self as usize]
    }
}

/// One aggregate's chunk: its encoding and bytes.
pub type SubChunk<'a> = (u8, &'a [u8]);

/// An aggregate chunk of the aggregates in `chunks`, by [`AggrType`] index.
pub fn encode(chunks: &[Option<SubChunk<'_>>; 5]) -> Vec<u8> {
    let mut b = Encbuf::default();
    for c in chunks {
        match c {
            None => b.put_uvarint(0),
            Some((encoding, data)) => {
                b.put_uvarint(data.len() as u64);
                b.put_byte(*encoding);
                b.b.extend_from_slice(data);
            }
        }
    }
    b.b
}

/// The chunk of aggregate `t`, or None when it is unset.
pub fn get(chunk: &[u8], t: AggrType) -> Result<Option<SubChunk<'_>>> {
    let what = Path::new("aggregate chunk");
    let mut d = Decbuf::new(what, chunk, 0, chunk.len())?;
    for i in AggrType::ALL {
        let len = usize::try_from(d.uvarint()?)
            .map_err(|_| Error::new(ErrorKind::CorruptChunk, "aggregate chunk: invalid size"))?;
        let sub = if len == 0 {
            None
        } else {
            let encoding = d.byte()?;
            Some((encoding, d.bytes(len)?))
        };
        if i == t {
            return Ok(sub);
        }
    }
    unreachable!("the loop returns at t")
}

/// The samples of an aggregate chunk, as Thanos counts them (`NumSamples`):
/// those of its count aggregate, none when that is unset or unreadable.
pub fn num_samples(chunk: &[u8]) -> u64 {
    match get(chunk, AggrType::Count) {
        Ok(Some((_, data))) if data.len() >= 2 => u64::from(u16::from_be_bytes([data[0], data[1]])),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_round_trip_and_unset_ones_read_as_none() {
        let count = [0u8, 2, 9, 9];
        let max = [0u8, 1, 7];
        let chunk = encode(&[Some((1, &count)), None, None, Some((1, &max)), None]);
        // Lengths exclude the encoding byte: 4, 0, 0, 3, 0.
        assert_eq!(chunk, [4, 1, 0, 2, 9, 9, 0, 0, 3, 1, 0, 1, 7, 0]);
        assert_eq!(get(&chunk, AggrType::Count).unwrap(), Some((1, &count[..])));
        assert_eq!(get(&chunk, AggrType::Sum).unwrap(), None);
        assert_eq!(get(&chunk, AggrType::Max).unwrap(), Some((1, &max[..])));
        assert_eq!(get(&chunk, AggrType::Counter).unwrap(), None);
        assert_eq!(num_samples(&chunk), 2);
    }

    #[test]
    fn a_truncated_chunk_is_an_error_not_a_panic() {
        let chunk = encode(&[Some((1, &[0, 1, 5])), None, None, None, None]);
        for cut in 0..chunk.len() {
            let _ = get(&chunk[..cut], AggrType::Counter);
        }
        assert!(get(&chunk[..3], AggrType::Count).is_err());
    }
}
