//! Series entries of an index (`tsdb/docs/format/index.md`, section "Series";
//! `Decoder.Series` in `tsdb/index/index.go` at v2.42.0): the label pairs as
//! symbol references, then the chunk metas with delta-encoded times and refs.

use thanos_core::Result;

use crate::encoding::Decbuf;

/// Series entries are 16-byte aligned and a series ID is its entry's offset / 16
/// (index format v2), so IDs fit 32 bits for index files up to 64 GiB.
pub const SERIES_ALIGNMENT: u64 = 16;

/// Where a chunk lives and which samples it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkMeta {
    /// Segment file index in the upper 32 bits, byte offset in the lower 32
    /// (`tsdb/docs/format/chunks.md`; `BlockChunkRef` in `tsdb/chunks/chunks.go`).
    pub chunk_ref: u64,
    /// Time of the first sample, ms.
    pub min_time: i64,
    /// Time of the last sample, ms (inclusive).
    pub max_time: i64,
}

/// The symbol references of one label pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelRefs {
    pub name: u32,
    pub value: u32,
}

/// Decodes the label references of the entry in `d` into `labels` and, unless
/// `chunks` is `None`, its chunk metas.
pub fn decode_series(
    d: &mut Decbuf<'_>,
    labels: &mut Vec<LabelRefs>,
    chunks: Option<&mut Vec<ChunkMeta>>,
) -> Result<()> {
    labels.clear();
    let n = d.uvarint()?;
    // Two bytes at least per pair: a count beyond that is damage, and must not
    // size an allocation.
    if n > d.len() as u64 / 2 {
        return Err(d.error(format!("series: {n} labels cannot fit in {} bytes", d.len())));
    }
    for _ in 0..n {
        let name = d.uvarint32()?;
        let value = d.uvarint32()?;
        labels.push(LabelRefs { name, value });
    }
    let Some(chunks) = chunks else { return Ok(()) };
    chunks.clear();
    let k = d.uvarint()?;
    if k > d.len() as u64 / 3 {
        return Err(d.error(format!("series: {k} chunks cannot fit in {} bytes", d.len())));
    }
    if k == 0 {
        return Ok(());
    }
    // The first chunk: mint as a varint, maxt - mint, ref; then each chunk's
    // mint as a delta to the previous maxt, its length, and a signed ref delta.
    let overflow = |d: &Decbuf<'_>| d.error("series: chunk meta overflows 64 bits");
    let mut mint = d.varint()?;
    let mut maxt = add_u(mint, d.uvarint()?).ok_or_else(|| overflow(d))?;
    let mut chunk_ref = d.uvarint()?;
    chunks.push(ChunkMeta { chunk_ref, min_time: mint, max_time: maxt });
    for _ in 1..k {
        mint = add_u(maxt, d.uvarint()?).ok_or_else(|| overflow(d))?;
        maxt = add_u(mint, d.uvarint()?).ok_or_else(|| overflow(d))?;
        chunk_ref = chunk_ref.checked_add_signed(d.varint()?).ok_or_else(|| overflow(d))?;
        chunks.push(ChunkMeta { chunk_ref, min_time: mint, max_time: maxt });
    }
    if !d.is_empty() {
        return Err(d.error(format!("series: {} bytes left after the chunk metas", d.len())));
    }
    Ok(())
}

/// `base + delta` for a delta stored unsigned, `None` on overflow.
fn add_u(base: i64, delta: u64) -> Option<i64> {
    base.checked_add(i64::try_from(delta).ok()?)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn uvarint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn varint(out: &mut Vec<u8>, v: i64) {
        uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
    }

    #[test]
    fn decodes_deltas() {
        let mut b = Vec::new();
        uvarint(&mut b, 2);
        for r in [1, 4, 2, 3] {
            uvarint(&mut b, r);
        }
        uvarint(&mut b, 3);
        varint(&mut b, -1000); // mint
        uvarint(&mut b, 500); // maxt - mint
        uvarint(&mut b, 8); // ref
        uvarint(&mut b, 1); // mint - prev maxt
        uvarint(&mut b, 99);
        varint(&mut b, 200);
        uvarint(&mut b, 10);
        uvarint(&mut b, 0);
        varint(&mut b, 4294967296 - 208); // into the next segment file
        let mut d = Decbuf::new(Path::new("index"), &b, 0, b.len()).unwrap();
        let (mut l, mut c) = (Vec::new(), Vec::new());
        decode_series(&mut d, &mut l, Some(&mut c)).unwrap();
        assert_eq!(l, vec![LabelRefs { name: 1, value: 4 }, LabelRefs { name: 2, value: 3 }]);
        assert_eq!(
            c,
            vec![
                ChunkMeta { chunk_ref: 8, min_time: -1000, max_time: -500 },
                ChunkMeta { chunk_ref: 208, min_time: -499, max_time: -400 },
                ChunkMeta { chunk_ref: 1 << 32, min_time: -390, max_time: -390 },
            ]
        );
        // Every truncation is an error.
        for cut in 0..b.len() {
            let mut d = Decbuf::new(Path::new("index"), &b, 0, cut).unwrap();
            assert!(decode_series(&mut d, &mut l, Some(&mut c)).is_err(), "cut at {cut}");
        }
    }
}
