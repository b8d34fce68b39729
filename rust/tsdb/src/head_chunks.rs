//! The head's chunk files, `chunks_head/000001` and on: the chunks that
//! Prometheus has cut from its in-memory series and memory-maps instead of
//! holding (`tsdb/docs/format/head_chunks.md`; `ChunkDiskMapper` in
//! `tsdb/chunks/head_chunks.go` at v2.42.0).
//!
//! A file is `magic(0x0130BC91) <4b>`, `version(1) <1b>`, 3 bytes of padding,
//! then records of
//!
//! ```text
//! series ref <8b> | mint <8b> | maxt <8b> | encoding <1b> | len <uvarint> | data | CRC32 <4b>
//! ```
//!
//! the CRC covering everything before it in the record. A chunk is referred
//! to by the file's number in the upper 32 bits and the record's offset in the
//! lower 32 (`ChunkDiskMapperRef`).
//!
//! Prometheus preallocates a new file with zeros and writes it through a
//! 4 MiB buffer that reaches the file only when full or when the next file
//! is cut, so the newest file usually ends in zeros, or in the middle of a
//! record being written. [`read_chunks`] reads it up to the last whole
//! record with a valid CRC and says where to resume. In an older file, which
//! Prometheus has finished (it flushes a file before cutting the next), a
//! record that does not check is damage.

use std::path::{Path, PathBuf};

use thanos_core::Result;

use crate::encoding::{corrupt, Decbuf, CRC_LEN};
use crate::wal;

/// `MagicHeadChunks`: the first 4 bytes of a file.
pub const MAGIC_HEAD_CHUNKS: u32 = 0x0130_BC91;
/// `headChunksFormatV1`, the only format.
pub const HEAD_CHUNKS_FORMAT_V1: u8 = 1;
/// Magic, version and 3 bytes of padding.
pub const FILE_HEADER_LEN: usize = 8;
/// Series ref, mint, maxt and encoding: the fixed part of a record.
const RECORD_META_LEN: usize = 8 + 8 + 8 + 1;
/// The bit of the encoding byte that marks an out-of-order chunk
/// (`chunkenc.OutOfOrderMask`); those belong to the out-of-order head.
pub const OUT_OF_ORDER_MASK: u8 = 0b1000_0000;

/// A chunk record, as read from a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadChunkMeta {
    /// The head series the chunk belongs to (the WAL's series reference).
    pub series_ref: u64,
    /// File number and record offset, as [`chunk_ref`] packs them.
    pub chunk_ref: u64,
    pub min_time: i64,
    pub max_time: i64,
    pub encoding: u8,
}

/// The reference of the record at `offset` of file `seq`.
pub fn chunk_ref(seq: u32, offset: u32) -> u64 {
    (u64::from(seq) << 32) | u64::from(offset)
}

/// The file number and offset of a reference.
pub fn unpack_ref(r: u64) -> (u32, u32) {
    ((r >> 32) as u32, r as u32)
}

/// The chunk files of `dir` by number, ascending (`listChunkFiles`: files
/// whose name is a number). A missing directory has none.
pub fn list_files(dir: &Path) -> Result<Vec<(u32, PathBuf)>> {
    let entries = wal::read_dir_if_exists(dir)?.unwrap_or_default();
    let mut out: Vec<(u32, PathBuf)> =
        entries.into_iter().filter_map(|(name, _)| Some((wal::parse_index(&name)?, dir.join(name)))).collect();
    out.sort_unstable();
    Ok(out)
}

/// Reads the chunk records of file number `seq`, mapped as `bytes`, from
/// `start` (0, or where the previous read stopped) and passes each to `f`.
/// Returns where the next read starts.
///
/// `sealed` says that Prometheus has finished the file (a newer one exists):
/// then reading must reach the end of the data (the end of the file, or
/// zeros where the next record would be) and anything else is an error. In
/// the newest file reading stops before the first record that is not whole
/// and valid: it may be being written.
pub fn read_chunks(
    file: &Path,
    seq: u32,
    bytes: &[u8],
    start: usize,
    sealed: bool,
    mut f: impl FnMut(HeadChunkMeta),
) -> Result<usize> {
    let mut pos = start;
    if pos < FILE_HEADER_LEN {
        if let Some(stop) = check_header(file, bytes, sealed)? {
            return Ok(stop);
        }
        pos = FILE_HEADER_LEN;
    }
    if pos > bytes.len() {
        return Err(corrupt(file, pos, format!("read position is past the end of the file of {} bytes", bytes.len())));
    }
    // What to do with a record that cannot be read yet: wait in the newest
    // file, refuse in a finished one.
    let incomplete = |at: usize, what: String| if sealed { Err(corrupt(file, at, what)) } else { Ok(at) };
    loop {
        let rest = &bytes[pos..];
        if rest.len() < RECORD_META_LEN {
            if rest.iter().all(|&b| b == 0) {
                return Ok(pos);
            }
            return incomplete(pos, format!("{} bytes at the end of the file are too few for a chunk", rest.len()));
        }
        let mut d = Decbuf::new(file, bytes, pos, bytes.len())?;
        let series_ref = d.be64()?;
        let min_time = d.be64()? as i64;
        let max_time = d.be64()? as i64;
        // Series refs start at 1: zeros are the preallocated space after the
        // last record (the test `IterateAllChunks` makes).
        if series_ref == 0 && min_time == 0 && max_time == 0 {
            return Ok(pos);
        }
        let encoding = d.byte()?;
        let Ok(len) = d.uvarint() else {
            return incomplete(pos, "chunk length is cut off or overflows".to_string());
        };
        let data_start = d.pos();
        let data_end = usize::try_from(len).ok().and_then(|l| data_start.checked_add(l));
        let Some(crc_end) = data_end.and_then(|e| e.checked_add(CRC_LEN)).filter(|&e| e <= bytes.len()) else {
            return incomplete(
                pos,
                format!("chunk of {len} bytes runs past the end of the file of {} bytes", bytes.len()),
            );
        };
        let data_end = crc_end - CRC_LEN;
        let want = u32::from_be_bytes(bytes[data_end..crc_end].try_into().expect("4 bytes"));
        let got = crc32c::crc32c(&bytes[pos..data_end]);
        if want != got {
            return incomplete(pos, format!("chunk checksum mismatch (stored {want:08x}, computed {got:08x})"));
        }
        if min_time > max_time {
            return Err(corrupt(file, pos, format!("chunk [{min_time}, {max_time}] ends before it starts")));
        }
        let Ok(offset) = u32::try_from(pos) else {
            return Err(corrupt(file, pos, "chunk offset does not fit a chunk reference"));
        };
        f(HeadChunkMeta { series_ref, chunk_ref: chunk_ref(seq, offset), min_time, max_time, encoding });
        pos = crc_end;
    }
}

/// Checks the file header. `Some(0)` when the newest file has none yet.
fn check_header(file: &Path, bytes: &[u8], sealed: bool) -> Result<Option<usize>> {
    if bytes.len() < FILE_HEADER_LEN {
        // Prometheus writes the header before it renames a new file into
        // place; a short newest file is one it will delete on its next start
        // (`repairLastChunkFile`).
        if sealed {
            return Err(corrupt(file, 0, format!("{} bytes are too few for a head chunk file header", bytes.len())));
        }
        return Ok(Some(0));
    }
    let mut d = Decbuf::new(file, bytes, 0, bytes.len())?;
    let magic = d.be32()?;
    if magic == 0 && !sealed {
        return Ok(Some(0));
    }
    if magic != MAGIC_HEAD_CHUNKS {
        return Err(corrupt(file, 0, format!("invalid magic number {magic:08x}, want {MAGIC_HEAD_CHUNKS:08x}")));
    }
    let version = d.byte()?;
    if version != HEAD_CHUNKS_FORMAT_V1 {
        return Err(corrupt(file, 4, format!("unsupported head chunks format version {version}")));
    }
    Ok(None)
}

/// The encoding byte and data of the record at `offset`, which
/// [`read_chunks`] has read: bounds are checked again, the CRC is not.
pub fn chunk_at<'a>(file: &'a Path, bytes: &'a [u8], offset: u32) -> Result<(u8, &'a [u8])> {
    let mut d = Decbuf::new(file, bytes, offset as usize, bytes.len())?;
    d.skip(RECORD_META_LEN - 1)?;
    let encoding = d.byte()?;
    let len = d.uvarint()?;
    let len = usize::try_from(len).map_err(|_| d.error(format!("chunk length {len} too large")))?;
    Ok((encoding, d.bytes(len)?))
}

/// Writes chunk files as Prometheus's `ChunkDiskMapper` does; for tests.
#[cfg(test)]
pub(crate) mod write {
    use super::*;

    /// A file with its header and `prealloc` zero bytes in all.
    pub(crate) fn file(prealloc: usize) -> Vec<u8> {
        let mut b = MAGIC_HEAD_CHUNKS.to_be_bytes().to_vec();
        b.extend_from_slice(&[HEAD_CHUNKS_FORMAT_V1, 0, 0, 0]);
        b.resize(prealloc.max(FILE_HEADER_LEN), 0);
        b
    }

    /// Writes a record at `at` (growing the file if needed); returns its end.
    pub(crate) fn record(b: &mut Vec<u8>, at: usize, series: u64, mint: i64, maxt: i64, enc: u8, data: &[u8]) -> usize {
        let mut r = series.to_be_bytes().to_vec();
        r.extend_from_slice(&mint.to_be_bytes());
        r.extend_from_slice(&maxt.to_be_bytes());
        r.push(enc);
        crate::record::encode::uvarint(&mut r, data.len() as u64);
        r.extend_from_slice(data);
        let crc = crc32c::crc32c(&r);
        r.extend_from_slice(&crc.to_be_bytes());
        if b.len() < at + r.len() {
            b.resize(at + r.len(), 0);
        }
        b[at..at + r.len()].copy_from_slice(&r);
        at + r.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(b: &[u8], start: usize, sealed: bool) -> Result<(Vec<HeadChunkMeta>, usize)> {
        let mut out = Vec::new();
        let end = read_chunks(Path::new("chunks_head/000001"), 1, b, start, sealed, |c| out.push(c))?;
        Ok((out, end))
    }

    #[test]
    fn reads_records_up_to_the_zeros() {
        let mut b = write::file(4096);
        let mut at = FILE_HEADER_LEN;
        let mut ends = Vec::new();
        for i in 0..10u64 {
            at = write::record(
                &mut b,
                at,
                i + 1,
                i as i64 * 100,
                i as i64 * 100 + 99,
                1,
                &vec![i as u8; 30 + i as usize],
            );
            ends.push(at);
        }
        let (got, end) = read(&b, 0, true).unwrap();
        assert_eq!(got.len(), 10);
        assert_eq!(end, at);
        assert_eq!(got[3].series_ref, 4);
        assert_eq!((got[3].min_time, got[3].max_time), (300, 399));
        let (_, off) = unpack_ref(got[3].chunk_ref);
        assert_eq!(chunk_at(Path::new("f"), &b, off).unwrap(), (1, &[3u8; 33][..]));

        // The newest file, cut anywhere (a buffer flushed mid-record) or with a
        // record being written over its zeros: whole records only, then resume.
        for cut in FILE_HEADER_LEN..=at {
            let (got, end) = read(&b[..cut], 0, false).unwrap();
            let whole = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(got.len(), whole, "cut at {cut}");
            let mut torn = b.clone();
            torn[cut..].iter_mut().for_each(|x| *x = 0);
            let (got2, end2) = read(&torn, 0, false).unwrap();
            assert_eq!((got2.len(), end2), (whole, end), "torn at {cut}");
            let (rest, _) = read(&b, end, false).unwrap();
            assert_eq!(rest.len(), 10 - whole);
            // Finished, a cut record is damage.
            let last_end = if whole == 0 { FILE_HEADER_LEN } else { ends[whole - 1] };
            if b[last_end..cut].iter().any(|&x| x != 0) {
                assert!(read(&b[..cut], 0, true).is_err(), "cut at {cut}");
            }
        }
    }

    #[test]
    fn damage_in_a_finished_file_is_an_error() {
        let mut b = write::file(1024);
        let end = write::record(&mut b, FILE_HEADER_LEN, 1, 0, 10, 1, &[1, 2, 3]);
        write::record(&mut b, end, 2, 0, 10, 1, &[1, 2, 3]);
        let mut bad = b.clone();
        bad[end + 30] ^= 4;
        let e = read(&bad, 0, true).unwrap_err();
        assert!(e.message().contains(&format!("offset {end}: chunk checksum mismatch")), "{}", e.message());
        // In the newest file it is where reading stops.
        assert_eq!(read(&bad, 0, false).unwrap().1, end);
        let mut bad = b.clone();
        bad[0] = 9;
        assert!(read(&bad, 0, false).unwrap_err().message().contains("invalid magic"));
        assert_eq!(read(&[0; 3], 0, false).unwrap(), (vec![], 0));
        assert!(read(&[0; 3], 0, true).is_err());
        // Garbage: an error or nothing, never a panic.
        let mut rng = 99u64;
        let garbage: Vec<u8> = (0..5000)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect();
        let mut g = write::file(0);
        g.extend_from_slice(&garbage);
        assert!(read(&g, 0, true).is_err());
        assert_eq!(read(&g, 0, false).unwrap(), (vec![], FILE_HEADER_LEN));
    }
}
