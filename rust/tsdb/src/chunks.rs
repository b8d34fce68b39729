//! Chunk segment files, `chunks/000001` and on (`tsdb/docs/format/chunks.md`;
//! `Reader` in `tsdb/chunks/chunks.go` at v2.42.0). A chunk is handed out as
//! the bytes on disk, sliced out of the mapping, never decoded here.

use std::ops::Range;
use std::path::Path;

use bytes::Bytes;
use thanos_core::{Error, ErrorKind, Result};

use crate::encoding::{corrupt, Decbuf, CRC_LEN};
use crate::mmap::MappedFile;

/// `MagicChunks`: the first 4 bytes of a segment file.
pub const MAGIC_CHUNKS: u32 = 0x85BD_40DD;
/// `chunksFormatV1`, the only segment format.
pub const CHUNKS_FORMAT_V1: u8 = 1;
/// Magic, version and 3 bytes of padding.
pub const SEGMENT_HEADER_LEN: usize = 8;

/// Chunk encodings (`tsdb/chunkenc/chunk.go`).
pub const ENCODING_XOR: u8 = 1;
pub const ENCODING_HISTOGRAM: u8 = 2;

/// A chunk as stored: its encoding byte and its data, a shared slice of the
/// mapping (no copy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawChunk {
    pub encoding: u8,
    pub data: Bytes,
}

/// The mapped segment files of a block's `chunks/` directory.
#[derive(Debug)]
pub struct ChunkReader {
    segments: Vec<MappedFile>,
}

impl ChunkReader {
    /// Maps every file of `dir` whose name is a number, in name order, as
    /// Prometheus's `sequenceFiles` lists them: a chunk ref's segment index is
    /// the position in that list. Checks each header.
    pub fn open(dir: &Path) -> Result<Self> {
        let io = |e: std::io::Error| Error::new(ErrorKind::Unavailable, format!("read {}: {e}", dir.display()));
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            if name.to_str().is_some_and(|n| n.parse::<u64>().is_ok()) {
                names.push(name);
            }
        }
        names.sort();
        let segments = names.iter().map(|n| MappedFile::open(&dir.join(n))).collect::<Result<Vec<_>>>()?;
        for s in &segments {
            let mut d = Decbuf::new(s.path(), s.bytes(), 0, s.len())?;
            let magic = d.be32().map_err(|e| e.context("segment header"))?;
            if magic != MAGIC_CHUNKS {
                return Err(corrupt(s.path(), 0, format!("invalid magic number {magic:08x}, want {MAGIC_CHUNKS:08x}")));
            }
            let version = d.byte().map_err(|e| e.context("segment header"))?;
            if version != CHUNKS_FORMAT_V1 {
                return Err(corrupt(s.path(), 4, format!("unsupported chunks format version {version}")));
            }
            d.skip(3).map_err(|e| e.context("segment header"))?;
        }
        Ok(ChunkReader { segments })
    }

    /// Total size of the segment files in bytes.
    pub fn size(&self) -> usize {
        self.segments.iter().map(MappedFile::len).sum()
    }

    /// The chunk at `chunk_ref`: `len <uvarint>`, `encoding <1 byte>`, `data`,
    /// and a CRC32 over encoding and data, which is checked.
    pub fn chunk(&self, chunk_ref: u64) -> Result<RawChunk> {
        let (segment, offset) = ((chunk_ref >> 32) as usize, (chunk_ref & 0xFFFF_FFFF) as usize);
        let Some(s) = self.segments.get(segment) else {
            return Err(Error::new(
                ErrorKind::CorruptBlock,
                format!(
                    "chunk ref {chunk_ref:#x}: segment index {segment} out of range ({} segment files)",
                    self.segments.len()
                ),
            ));
        };
        let (p, b) = (s.path(), s.bytes());
        if offset < SEGMENT_HEADER_LEN {
            return Err(corrupt(p, offset, format!("chunk ref {chunk_ref:#x} points into the segment header")));
        }
        let (encoding, data) = parse_chunk(p, b, offset, 0)?;
        Ok(RawChunk { encoding, data: s.share(&b[data]) })
    }
}

/// The chunk at `offset` of a segment file, in `b`, which holds the file's
/// bytes from `base` on: `len <uvarint>`, `encoding <1 byte>`, `data`, and a
/// CRC32 over encoding and data, which is checked. Returns the encoding and
/// where the data lies in `b`. A chunk that runs past the end of `b` is an
/// error; so is one past the file's end when `b` reaches it.
pub fn parse_chunk(p: &Path, b: &[u8], offset: usize, base: usize) -> Result<(u8, Range<usize>)> {
    let at = offset.checked_sub(base).ok_or_else(|| corrupt(p, offset, "chunk before the bytes read"))?;
    let mut d = Decbuf::new(p, b, at, b.len()).map_err(|_| corrupt(p, offset, "chunk past the bytes read"))?;
    let len = d.uvarint()?;
    let start = d.pos();
    // Encoding byte + data + CRC must lie inside the bytes.
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| start.checked_add(1 + l))
        .filter(|&e| e.checked_add(CRC_LEN).is_some_and(|x| x <= b.len()));
    let Some(end) = end else {
        return Err(corrupt(
            p,
            offset,
            format!("chunk of {len} data bytes runs past the end of the {} bytes read", b.len()),
        ));
    };
    let want = u32::from_be_bytes(b[end..end + CRC_LEN].try_into().expect("4 bytes"));
    let got = crc32c::crc32c(&b[start..end]);
    if want != got {
        return Err(corrupt(p, offset, format!("chunk checksum mismatch (stored {want:08x}, computed {got:08x})")));
    }
    Ok((b[start], start + 1..end))
}
