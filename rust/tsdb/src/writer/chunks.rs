//! Writes chunk segment files, `chunks/000001` and on (`tsdb/docs/format/chunks.md`;
//! `Writer` in `tsdb/chunks/chunks.go` at v2.42.0): an 8-byte header, then
//! each chunk as `len <uvarint> | encoding <1b> | data | CRC32(encoding, data)`.
//! A chunk's reference is its segment's index in the block (from 0; the file
//! names count from 1) in the upper 32 bits and its offset in the lower 32.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use thanos_core::{Error, ErrorKind, Result};

use crate::chunks::{CHUNKS_FORMAT_V1, MAGIC_CHUNKS, SEGMENT_HEADER_LEN};
use crate::writer::encbuf::Encbuf;

/// `DefaultChunkSegmentSize`: a segment is cut before it would pass 512 MiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 512 * 1024 * 1024;

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("write {}: {e}", path.display()))
}

/// Appends chunks to the segment files of one block's `chunks/` directory.
pub struct ChunkWriter {
    dir: PathBuf,
    segment_size: u64,
    /// The open segment: its sequence number (from 1), file and size so far.
    current: Option<(u32, BufWriter<File>, u64)>,
    buf: Encbuf,
    /// The segment files written, by name.
    pub segments: Vec<String>,
}

impl ChunkWriter {
    /// Creates `dir` (the block's `chunks/`); segments are cut at `segment_size` bytes.
    pub fn create(dir: &Path, segment_size: u64) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        Ok(ChunkWriter {
            dir: dir.to_path_buf(),
            segment_size,
            current: None,
            buf: Encbuf::default(),
            segments: vec![],
        })
    }

    /// Writes one chunk and returns its reference.
    pub fn write(&mut self, encoding: u8, data: &[u8]) -> Result<u64> {
        self.buf.reset();
        self.buf.put_uvarint(data.len() as u64);
        let crc_from = self.buf.len();
        self.buf.put_byte(encoding);
        self.buf.b.extend_from_slice(data);
        self.buf.put_crc_of(crc_from);
        let len = self.buf.len() as u64;
        let cut = match &self.current {
            None => true,
            // A chunk larger than a segment still gets a segment of its own.
            Some((_, _, size)) => *size > SEGMENT_HEADER_LEN as u64 && size + len > self.segment_size,
        };
        if cut {
            self.cut()?;
        }
        let (seq, file, size) = self.current.as_mut().expect("cut opens a segment");
        let offset = *size;
        if offset > u32::MAX as u64 {
            return Err(Error::new(ErrorKind::Internal, format!("chunk offset {offset} exceeds 4 bytes")));
        }
        file.write_all(&self.buf.b).map_err(|e| io_err(&self.dir, e))?;
        *size += len;
        Ok((u64::from(*seq - 1) << 32) | offset)
    }

    fn cut(&mut self) -> Result<()> {
        let seq = match self.current.take() {
            Some((seq, file, _)) => {
                Self::close_segment(&self.dir, file)?;
                seq + 1
            }
            None => 1,
        };
        let name = format!("{seq:06}");
        let path = self.dir.join(&name);
        let mut file = BufWriter::new(File::create(&path).map_err(|e| io_err(&path, e))?);
        let mut header = MAGIC_CHUNKS.to_be_bytes().to_vec();
        header.push(CHUNKS_FORMAT_V1);
        header.resize(SEGMENT_HEADER_LEN, 0);
        file.write_all(&header).map_err(|e| io_err(&path, e))?;
        self.segments.push(name);
        self.current = Some((seq, file, SEGMENT_HEADER_LEN as u64));
        Ok(())
    }

    fn close_segment(dir: &Path, file: BufWriter<File>) -> Result<()> {
        let file = file.into_inner().map_err(|e| io_err(dir, e.into_error()))?;
        file.sync_all().map_err(|e| io_err(dir, e))
    }

    /// Flushes and syncs the last segment. A block without chunks has an
    /// empty `chunks/` directory, as Prometheus leaves it.
    pub fn close(mut self) -> Result<Vec<String>> {
        if let Some((_, file, _)) = self.current.take() {
            Self::close_segment(&self.dir, file)?;
        }
        Ok(self.segments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::ChunkReader;

    #[test]
    fn chunks_read_back_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ChunkWriter::create(&dir.path().join("chunks"), 64).unwrap();
        let data: Vec<Vec<u8>> =
            (0..5u8).map(|i| vec![0, i, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, i]).collect();
        let refs: Vec<u64> = data.iter().map(|d| w.write(1, d).unwrap()).collect();
        assert_eq!(w.close().unwrap(), ["000001", "000002", "000003"]);
        assert_eq!(refs[0], 8, "the first chunk follows the segment header of segment 0");
        assert_eq!(refs[4] >> 32, 2);
        let r = ChunkReader::open(&dir.path().join("chunks")).unwrap();
        for (chunk_ref, d) in refs.iter().zip(&data) {
            let c = r.chunk(*chunk_ref).unwrap();
            assert_eq!((c.encoding, c.data.as_ref()), (1, d.as_slice()));
        }
    }
}
