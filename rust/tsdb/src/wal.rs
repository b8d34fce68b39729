//! The write-ahead log of the head, `wal/` in a Prometheus data directory
//! (`tsdb/docs/format/wal.md`; `tsdb/wlog/wlog.go`, `reader.go`,
//! `live_reader.go` and `checkpoint.go` at v2.42.0).
//!
//! The log is a sequence of segment files named by their index in 8 digits
//! (`wal/00000012`). A checkpoint, `wal/checkpoint.00000011/`, holds segments
//! of the same format that stand for every segment up to index 11: replay
//! reads the newest checkpoint, then the segments after it.
//!
//! A segment is written in pages of 32 KiB. A record is cut into fragments
//! so that none crosses a page: each fragment starts with a 7-byte header,
//!
//! ```text
//! type <1b> | length <2b, BE> | CRC32-Castagnoli of the data <4b, BE> | data
//! ```
//!
//! where the low 3 bits of the type say whether the fragment is a whole
//! record (1), the first (2), a middle (3) or the last (4) piece of one, and
//! bit 3 says the record's bytes are snappy-compressed (the pieces are joined,
//! then decompressed). A type byte of 0 means that the rest of the page is
//! zeros: a page is padded when no header fits in what is left of it, and
//! when a segment is closed.
//!
//! Prometheus writes the page it fills to the file at each commit, so a
//! reader of the newest segment can find a record's first fragments without
//! its last one yet. [`RecordReader::read`] stops before such a record and
//! says where to resume; in a segment that is no longer written to it is
//! damage, as are a bad checksum and a fragment out of sequence.

use std::path::{Path, PathBuf};

use thanos_core::{Error, ErrorKind, Result};

use crate::encoding::corrupt;

/// Pages are written whole except the last one of the newest segment.
pub const PAGE_SIZE: usize = 32 * 1024;
/// Type, length and checksum of a fragment.
pub const FRAGMENT_HEADER_LEN: usize = 7;
/// Bit 3 of the type byte: the record is snappy-compressed.
const SNAPPY_FLAG: u8 = 1 << 3;
/// The low 3 bits of the type byte: which piece of a record the fragment is.
const PIECE_MASK: u8 = SNAPPY_FLAG - 1;
const CHECKPOINT_PREFIX: &str = "checkpoint.";
/// A snappy block expands at most about 21 times (a 3-byte copy of 64 bytes);
/// a longer claim is damage, refused before allocating it.
const MAX_SNAPPY_EXPANSION: usize = 22;

/// Which piece of a record a fragment holds (`recType` in `wlog.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    /// The rest of the page is zeros.
    PageEnd,
    Full,
    First,
    Middle,
    Last,
}

impl Piece {
    fn from_type_byte(b: u8) -> Option<Piece> {
        match b & PIECE_MASK {
            0 => Some(Piece::PageEnd),
            1 => Some(Piece::Full),
            2 => Some(Piece::First),
            3 => Some(Piece::Middle),
            4 => Some(Piece::Last),
            _ => None,
        }
    }
}

/// The file name of segment `index` (`SegmentName`).
pub fn segment_name(index: u32) -> String {
    format!("{index:08}")
}

/// What a WAL directory holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalDir {
    /// The newest checkpoint: the index of the last segment it stands for,
    /// and its directory.
    pub checkpoint: Option<(u32, PathBuf)>,
    /// The indices of the segment files, ascending.
    pub segments: Vec<u32>,
}

impl WalDir {
    /// Lists `dir` as Prometheus does (`listSegments`, `listCheckpoints`):
    /// files whose name is a number are segments, directories named
    /// `checkpoint.<number>` are checkpoints (an unfinished one ends in
    /// `.tmp` and is not). A missing directory is an empty WAL.
    pub fn list(dir: &Path) -> Result<WalDir> {
        let mut out = WalDir::default();
        let Some(entries) = read_dir_if_exists(dir)? else {
            return Ok(out);
        };
        for (name, is_dir) in entries {
            if let Some(n) = name.strip_prefix(CHECKPOINT_PREFIX).and_then(parse_index) {
                if is_dir && out.checkpoint.as_ref().is_none_or(|(c, _)| n > *c) {
                    out.checkpoint = Some((n, dir.join(&name)));
                }
            } else if let Some(n) = parse_index(&name) {
                if !is_dir {
                    out.segments.push(n);
                }
            }
        }
        out.segments.sort_unstable();
        Ok(out)
    }

    /// The segments of a checkpoint directory, ascending.
    pub fn checkpoint_segments(dir: &Path) -> Result<Option<Vec<u32>>> {
        let Some(entries) = read_dir_if_exists(dir)? else {
            return Ok(None);
        };
        let mut segments: Vec<u32> =
            entries.into_iter().filter(|(_, is_dir)| !is_dir).filter_map(|(n, _)| parse_index(&n)).collect();
        segments.sort_unstable();
        Ok(Some(segments))
    }
}

/// A segment, checkpoint or head chunk file number: decimal digits only.
pub(crate) fn parse_index(name: &str) -> Option<u32> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// The names of the entries of `dir` and whether each is a directory; `None`
/// when `dir` does not exist.
pub(crate) fn read_dir_if_exists(dir: &Path) -> Result<Option<Vec<(String, bool)>>> {
    let io = |e: std::io::Error| Error::new(ErrorKind::Unavailable, format!("read {}: {e}", dir.display()));
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(e)),
        };
        let Ok(name) = entry.file_name().into_string() else { continue };
        // Files deleted between the listing and this call are skipped.
        let Ok(kind) = entry.file_type() else { continue };
        out.push((name, kind.is_dir()));
    }
    Ok(Some(out))
}

/// Joins fragments into records. Its buffers are reused from record to record.
#[derive(Default)]
pub struct RecordReader {
    plain: Vec<u8>,
    compressed: Vec<u8>,
    decompressed: Vec<u8>,
}

/// A record being joined from its fragments.
struct Partial {
    /// Offset of its first fragment.
    start: usize,
    compressed: bool,
}

impl RecordReader {
    /// Reads the records of a segment file, `bytes`, from offset `start` (the
    /// beginning of a record or of page padding), and passes each, decompressed,
    /// to `f` with the offset of its first fragment. Returns the offset after
    /// the last whole record read, or after the padding that follows it: where
    /// the next read of the same segment starts.
    ///
    /// `sealed` says that nothing more will be written to the segment (a newer
    /// one exists, or it belongs to a checkpoint). Reading stops at the end of
    /// the bytes; a record cut off there is left for the next read of an
    /// unsealed segment, and is damage in a sealed one.
    pub fn read(
        &mut self,
        file: &Path,
        bytes: &[u8],
        start: usize,
        sealed: bool,
        mut f: impl FnMut(&[u8], usize) -> Result<()>,
    ) -> Result<usize> {
        if start > bytes.len() {
            return Err(corrupt(
                file,
                start,
                format!("read position is past the end of the file of {} bytes", bytes.len()),
            ));
        }
        let mut pos = start;
        let mut partial: Option<Partial> = None;
        self.plain.clear();
        self.compressed.clear();
        // Where to resume when reading stops at `at`: there, or at the first
        // fragment of the record being joined.
        let stop = |partial: &Option<Partial>, at: usize| partial.as_ref().map_or(at, |p| p.start);
        loop {
            if pos == bytes.len() {
                return match &partial {
                    Some(p) if sealed => Err(corrupt(
                        file,
                        p.start,
                        "record is cut off by the end of a segment that is no longer written to",
                    )),
                    _ => Ok(stop(&partial, pos)),
                };
            }
            let type_byte = bytes[pos];
            let Some(piece) = Piece::from_type_byte(type_byte) else {
                return Err(corrupt(file, pos, format!("unknown fragment type {}", type_byte & PIECE_MASK)));
            };
            if piece == Piece::PageEnd {
                let page_end = (pos / PAGE_SIZE + 1) * PAGE_SIZE;
                let end = page_end.min(bytes.len());
                if let Some(i) = bytes[pos..end].iter().position(|&b| b != 0) {
                    return Err(corrupt(file, pos + i, "non-zero byte in the padding at the end of a page"));
                }
                if end < page_end && !sealed {
                    // The padding may still be being written.
                    return Ok(stop(&partial, pos));
                }
                pos = end;
                continue;
            }
            if bytes.len() - pos < FRAGMENT_HEADER_LEN {
                if sealed {
                    return Err(corrupt(file, pos, "fragment header is cut off by the end of the segment"));
                }
                return Ok(stop(&partial, pos));
            }
            let len = u16::from_be_bytes([bytes[pos + 1], bytes[pos + 2]]) as usize;
            let crc = u32::from_be_bytes([bytes[pos + 3], bytes[pos + 4], bytes[pos + 5], bytes[pos + 6]]);
            if len > PAGE_SIZE - FRAGMENT_HEADER_LEN {
                return Err(corrupt(file, pos, format!("fragment of {len} bytes does not fit in a page")));
            }
            let data_start = pos + FRAGMENT_HEADER_LEN;
            let data_end = data_start + len;
            if data_end > bytes.len() {
                if sealed {
                    return Err(corrupt(file, pos, "fragment is cut off by the end of the segment"));
                }
                return Ok(stop(&partial, pos));
            }
            let data = &bytes[data_start..data_end];
            let got = crc32c::crc32c(data);
            if got != crc {
                return Err(corrupt(
                    file,
                    pos,
                    format!("fragment checksum mismatch (stored {crc:08x}, computed {got:08x})"),
                ));
            }
            let compressed = type_byte & SNAPPY_FLAG != 0;
            match (piece, &partial) {
                (Piece::Full | Piece::First, None) => {
                    partial = Some(Partial { start: pos, compressed });
                }
                (Piece::Full | Piece::First, Some(p)) => {
                    return Err(corrupt(
                        file,
                        pos,
                        format!("{piece:?} fragment inside the record that starts at offset {}", p.start),
                    ));
                }
                (Piece::Middle | Piece::Last, None) => {
                    return Err(corrupt(file, pos, format!("{piece:?} fragment without a first one")));
                }
                (Piece::Middle | Piece::Last, Some(p)) => {
                    if p.compressed != compressed {
                        return Err(corrupt(file, pos, "fragments of one record disagree on compression"));
                    }
                }
                (Piece::PageEnd, _) => unreachable!("handled above"),
            }
            if compressed {
                self.compressed.extend_from_slice(data);
            } else {
                self.plain.extend_from_slice(data);
            }
            pos = data_end;
            if matches!(piece, Piece::Full | Piece::Last) {
                let p = partial.take().expect("set above");
                let record: &[u8] = if p.compressed {
                    self.decompress(file, p.start)?;
                    &self.decompressed
                } else {
                    &self.plain
                };
                f(record, p.start)?;
                self.plain.clear();
                self.compressed.clear();
            }
        }
    }

    /// Decompresses the joined snappy block of the record at `at`.
    fn decompress(&mut self, file: &Path, at: usize) -> Result<()> {
        let input = &self.compressed;
        if input.is_empty() {
            // Prometheus decodes a flagged record only when it has bytes.
            self.decompressed.clear();
            return Ok(());
        }
        let claimed = snap::raw::decompress_len(input)
            .map_err(|e| corrupt(file, at, format!("snappy-compressed record: {e}")))?;
        if claimed > input.len().saturating_mul(MAX_SNAPPY_EXPANSION) + 16 {
            return Err(corrupt(
                file,
                at,
                format!("snappy block of {} bytes claims to hold {claimed} bytes", input.len()),
            ));
        }
        self.decompressed.resize(claimed, 0);
        let n = snap::raw::Decoder::new()
            .decompress(input, &mut self.decompressed)
            .map_err(|e| corrupt(file, at, format!("snappy-compressed record: {e}")))?;
        self.decompressed.truncate(n);
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes records as Prometheus's `WL.log` does: fragments filling pages,
    /// pages padded when a header no longer fits, optional snappy.
    #[derive(Default)]
    pub(crate) struct SegmentWriter {
        pub bytes: Vec<u8>,
    }

    impl SegmentWriter {
        pub(crate) fn log(&mut self, rec: &[u8], compress: bool) {
            let mut rec = rec.to_vec();
            let mut flag = 0;
            if compress {
                let c = snap::raw::Encoder::new().compress_vec(&rec).unwrap();
                if c.len() < rec.len() {
                    rec = c;
                    flag = SNAPPY_FLAG;
                }
            }
            let mut rest = &rec[..];
            let mut first = true;
            loop {
                let in_page = self.bytes.len() % PAGE_SIZE;
                if PAGE_SIZE - in_page < FRAGMENT_HEADER_LEN {
                    self.bytes.resize(self.bytes.len() + PAGE_SIZE - in_page, 0);
                    continue;
                }
                let room = PAGE_SIZE - in_page - FRAGMENT_HEADER_LEN;
                let n = rest.len().min(room);
                let last = n == rest.len();
                let piece = match (first, last) {
                    (true, true) => 1,
                    (true, false) => 2,
                    (false, false) => 3,
                    (false, true) => 4,
                };
                self.bytes.push(piece | flag);
                self.bytes.extend_from_slice(&(n as u16).to_be_bytes());
                self.bytes.extend_from_slice(&crc32c::crc32c(&rest[..n]).to_be_bytes());
                self.bytes.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                first = false;
                if last {
                    break;
                }
            }
        }

        /// Pads the current page with zeros, as closing a segment does.
        pub(crate) fn close_page(&mut self) {
            let in_page = self.bytes.len() % PAGE_SIZE;
            if in_page != 0 {
                self.bytes.resize(self.bytes.len() + PAGE_SIZE - in_page, 0);
            }
        }
    }

    /// Records with their offsets, and where reading stopped.
    type Read = (Vec<(Vec<u8>, usize)>, usize);

    fn read_all(bytes: &[u8], start: usize, sealed: bool) -> Result<Read> {
        let mut out = Vec::new();
        let end = RecordReader::default().read(Path::new("wal/00000001"), bytes, start, sealed, |r, at| {
            out.push((r.to_vec(), at));
            Ok(())
        })?;
        Ok((out, end))
    }

    fn records() -> Vec<Vec<u8>> {
        // Small ones, one spanning several pages, and an empty one.
        let mut recs: Vec<Vec<u8>> = (0..50u32).map(|i| vec![i as u8; (i as usize * 37) % 900 + 1]).collect();
        recs.push((0..100_000u32).map(|i| (i % 251) as u8).collect());
        recs.push(Vec::new());
        recs.push(vec![7; 20]);
        recs
    }

    #[test]
    fn reads_what_prometheus_writes() {
        for compress in [false, true] {
            let mut w = SegmentWriter::default();
            for r in records() {
                w.log(&r, compress);
            }
            w.close_page();
            let (got, end) = read_all(&w.bytes, 0, true).unwrap();
            assert_eq!(end, w.bytes.len());
            let got: Vec<Vec<u8>> = got.into_iter().map(|(r, _)| r).collect();
            assert_eq!(got, records());
        }
    }

    #[test]
    fn an_unsealed_segment_is_read_up_to_the_last_whole_record_at_any_length() {
        let mut w = SegmentWriter::default();
        let mut ends = Vec::new();
        for r in records() {
            w.log(&r, true);
            ends.push(w.bytes.len());
        }
        let all = records();
        // Every prefix: the records that end inside it are read, and reading
        // resumes at the first one that does not.
        for cut in (0..=w.bytes.len()).step_by(97).chain([w.bytes.len()]) {
            let (got, end) = read_all(&w.bytes[..cut], 0, false).unwrap();
            let whole = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(got.len(), whole, "cut at {cut}");
            // The resume point is after the last record read, or after the
            // page padding that follows it.
            let last_end = if whole == 0 { 0 } else { ends[whole - 1] };
            assert!(last_end <= end && end <= cut, "cut at {cut}: {last_end} <= {end}");
            assert!(w.bytes[last_end..end].iter().all(|&b| b == 0), "cut at {cut}");
            // Resuming from there on the whole file reads the rest.
            let (rest, _) = read_all(&w.bytes, end, false).unwrap();
            assert_eq!(rest.len(), all.len() - whole, "cut at {cut}");
            if whole < all.len() {
                assert_eq!(rest[0].0, all[whole]);
            }
            // Sealed, a record cut off is damage.
            let sealed = read_all(&w.bytes[..cut], 0, true);
            if w.bytes[last_end..cut].iter().all(|&b| b == 0) {
                assert!(sealed.is_ok(), "cut at {cut}");
            } else {
                let e = sealed.unwrap_err();
                assert_eq!(e.kind(), ErrorKind::CorruptBlock);
                assert!(e.message().starts_with("wal/00000001: offset "), "{}", e.message());
            }
        }
    }

    #[test]
    fn damage_is_an_error_naming_the_offset() {
        let mut w = SegmentWriter::default();
        for r in records() {
            w.log(&r, false);
        }
        w.close_page();
        let mut rng = 12345u64;
        for _ in 0..300 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let at = (rng % w.bytes.len() as u64) as usize;
            let mut bad = w.bytes.clone();
            bad[at] ^= 1 << ((rng >> 40) % 8);
            // Either an error or the same records (a flipped padding bit is
            // an error too); never a panic.
            if let Ok((got, _)) = read_all(&bad, 0, true) {
                let got: Vec<Vec<u8>> = got.into_iter().map(|(r, _)| r).collect();
                assert_ne!(got, records(), "flip at {at} went unnoticed");
            }
        }
        let mut bad = w.bytes.clone();
        bad[7] ^= 0xff;
        let e = read_all(&bad, 0, true).unwrap_err();
        assert!(e.message().contains("offset 0: fragment checksum mismatch"), "{}", e.message());
        // A last fragment without a first.
        let mut bad = w.bytes.clone();
        bad[0] = 4;
        assert!(read_all(&bad, 0, false).unwrap_err().message().contains("without a first"));
    }

    #[test]
    fn lists_segments_and_the_newest_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for n in ["00000003", "00000004", "00000005", "00000004.repair", "x"] {
            std::fs::write(d.join(n), b"").unwrap();
        }
        for n in ["checkpoint.00000002", "checkpoint.00000001", "checkpoint.00000004.tmp"] {
            std::fs::create_dir(d.join(n)).unwrap();
        }
        let l = WalDir::list(d).unwrap();
        assert_eq!(l.segments, vec![3, 4, 5]);
        assert_eq!(l.checkpoint, Some((2, d.join("checkpoint.00000002"))));
        assert_eq!(WalDir::list(&d.join("missing")).unwrap(), WalDir::default());
        assert_eq!(segment_name(12), "00000012");
    }
}
