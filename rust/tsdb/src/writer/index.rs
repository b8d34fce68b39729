//! Writes an index file in format v2 (`tsdb/docs/format/index.md`; `Writer`
//! in `tsdb/index/index.go` at v2.42.0), section by section as Prometheus
//! does: the symbol table, the series (16-byte aligned), one label index per
//! label name, the postings lists (4-byte aligned; the list of every series
//! first, under the empty name and value), the label index table, the postings
//! offset table, and the table of contents.
//!
//! Symbols are given up front, sorted, as Prometheus's compactor gathers them
//! before the first series. Series come in label order. The postings are kept
//! in memory until the end, 4 bytes per label of every series; Prometheus
//! spills them to temporary files instead, which matters only for blocks of
//! many millions of series.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use thanos_core::labels::Labels;
use thanos_core::{bail, Error, ErrorKind, Result};

use crate::index::series::SERIES_ALIGNMENT;
use crate::index::{ChunkMeta, FORMAT_V2, MAGIC_INDEX};
use crate::writer::encbuf::Encbuf;

/// Postings lists and label indices are 4-byte aligned.
const POSTINGS_ALIGNMENT: u64 = 4;

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("write {}: {e}", path.display()))
}

/// Writes one index file.
pub struct IndexWriter {
    path: PathBuf,
    f: BufWriter<File>,
    pos: u64,
    buf: Encbuf,
    symbols: HashMap<String, u32>,
    /// `(name ref, value ref)` to the IDs of the series that have the pair.
    postings: BTreeMap<(u32, u32), Vec<u32>>,
    all: Vec<u32>,
    last_series: Option<Labels>,
    toc: [u64; 6],
}

impl IndexWriter {
    /// Creates the file and writes the header and the symbol table of
    /// `symbols`, which must be sorted and unique and hold every label name
    /// and value of the series to come (the empty string is added).
    pub fn create<'a>(path: &Path, symbols: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let f = BufWriter::with_capacity(1 << 20, File::create(path).map_err(|e| io_err(path, e))?);
        let mut w = IndexWriter {
            path: path.to_path_buf(),
            f,
            pos: 0,
            buf: Encbuf::default(),
            symbols: HashMap::new(),
            postings: BTreeMap::new(),
            all: Vec::new(),
            last_series: None,
            toc: [0; 6],
        };
        w.buf.put_be32(MAGIC_INDEX);
        w.buf.put_byte(FORMAT_V2);
        w.flush_buf()?;
        w.write_symbols(symbols)?;
        Ok(w)
    }

    fn flush_buf(&mut self) -> Result<()> {
        self.f.write_all(&self.buf.b).map_err(|e| io_err(&self.path, e))?;
        self.pos += self.buf.len() as u64;
        self.buf.reset();
        Ok(())
    }

    fn pad(&mut self, alignment: u64) -> Result<()> {
        let n = (alignment - self.pos % alignment) % alignment;
        self.buf.b.resize(self.buf.len() + n as usize, 0);
        self.flush_buf()
    }

    /// A section: `len <4b> | contents | CRC32(contents)`, `contents` written
    /// into the buffer by `fill`.
    fn section(&mut self, fill: impl FnOnce(&mut Encbuf)) -> Result<()> {
        self.buf.put_be32(0);
        fill(&mut self.buf);
        let len = self.buf.len() - 4;
        if len > u32::MAX as usize {
            bail!(Internal, "index section of {len} bytes exceeds 4 GiB");
        }
        self.buf.b[..4].copy_from_slice(&(len as u32).to_be_bytes());
        self.buf.put_crc_of(4);
        self.flush_buf()
    }

    fn write_symbols<'a>(&mut self, symbols: impl IntoIterator<Item = &'a str>) -> Result<()> {
        self.toc[0] = self.pos;
        // Prometheus's tables start with the empty string, the name and value
        // of the all-postings key (`index.AllPostingsKey`), which the head's
        // and the compactor's symbols include.
        let mut list: Vec<&str> = vec![""];
        for s in symbols.into_iter().skip_while(|s| s.is_empty()) {
            if list.last().is_some_and(|last| *last >= s) {
                bail!(Internal, "symbol {s:?} out of order");
            }
            list.push(s);
        }
        self.section(|b| {
            b.put_be32(list.len() as u32);
            for s in &list {
                b.put_uvarint_str(s);
            }
        })?;
        self.symbols = list.iter().enumerate().map(|(i, s)| (s.to_string(), i as u32)).collect();
        self.toc[1] = self.pos;
        Ok(())
    }

    fn symbol(&self, s: &str) -> Result<u32> {
        match self.symbols.get(s) {
            Some(r) => Ok(*r),
            None => bail!(Internal, "symbol entry for {s:?} does not exist"),
        }
    }

    /// Adds a series, after every series whose labels sort before its own,
    /// with its chunks in time order. Returns its ID (offset / 16).
    pub fn add_series(&mut self, labels: &Labels, chunks: &[ChunkMeta]) -> Result<u32> {
        if self.last_series.as_ref().is_some_and(|last| last >= labels) {
            bail!(Internal, "out-of-order series added with label set {labels}");
        }
        self.pad(SERIES_ALIGNMENT)?;
        let id = self.pos / SERIES_ALIGNMENT;
        if id > u64::from(u32::MAX) {
            bail!(Internal, "series offset {} exceeds 4 bytes", self.pos);
        }
        let id = id as u32;
        let mut body = Encbuf::default();
        body.put_uvarint(labels.len() as u64);
        for l in labels.iter() {
            let (name, value) = (self.symbol(&l.name)?, self.symbol(&l.value)?);
            body.put_uvarint(u64::from(name));
            body.put_uvarint(u64::from(value));
            self.postings.entry((name, value)).or_default().push(id);
        }
        body.put_uvarint(chunks.len() as u64);
        if let Some(first) = chunks.first() {
            body.put_varint(first.min_time);
            body.put_uvarint((first.max_time - first.min_time) as u64);
            body.put_uvarint(first.chunk_ref);
            let (mut t0, mut ref0) = (first.max_time, first.chunk_ref as i64);
            for c in &chunks[1..] {
                body.put_uvarint((c.min_time - t0) as u64);
                body.put_uvarint((c.max_time - c.min_time) as u64);
                body.put_varint(c.chunk_ref as i64 - ref0);
                (t0, ref0) = (c.max_time, c.chunk_ref as i64);
            }
        }
        self.buf.put_uvarint(body.len() as u64);
        body.put_crc_of(0);
        self.buf.b.extend_from_slice(&body.b);
        self.flush_buf()?;
        self.all.push(id);
        self.last_series = Some(labels.clone());
        Ok(id)
    }

    /// Writes the sections after the series and the table of contents.
    pub fn finish(mut self) -> Result<u64> {
        // Label indices: per name (in symbol order, which is name order), its
        // values' symbol references.
        self.toc[2] = self.pos;
        let mut by_name: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (name, value) in self.postings.keys() {
            by_name.entry(*name).or_default().push(*value);
        }
        let mut label_indices = Vec::with_capacity(by_name.len());
        for (name, values) in &by_name {
            self.pad(POSTINGS_ALIGNMENT)?;
            label_indices.push((*name, self.pos));
            self.section(|b| {
                b.put_be32(1);
                b.put_be32(values.len() as u32);
                for v in values {
                    b.put_be32(*v);
                }
            })?;
        }

        self.pad(POSTINGS_ALIGNMENT)?;
        self.toc[4] = self.pos;
        let postings = std::mem::take(&mut self.postings);
        let all = std::mem::take(&mut self.all);
        let lists = std::iter::once((None, &all)).chain(postings.iter().map(|(k, v)| (Some(*k), v)));
        let mut offsets = Vec::with_capacity(postings.len() + 1);
        for (key, ids) in lists {
            self.pad(POSTINGS_ALIGNMENT)?;
            offsets.push((key, self.pos));
            self.section(|b| {
                b.put_be32(ids.len() as u32);
                for id in ids {
                    b.put_be32(*id);
                }
            })?;
        }

        let symbols = std::mem::take(&mut self.symbols);
        let names: HashMap<u32, &str> = symbols.iter().map(|(s, r)| (*r, s.as_str())).collect();
        let sym = |r: u32| names[&r];
        self.toc[3] = self.pos;
        self.section(|b| {
            b.put_be32(label_indices.len() as u32);
            for (name, offset) in &label_indices {
                b.put_uvarint(1);
                b.put_uvarint_str(sym(*name));
                b.put_uvarint(*offset);
            }
        })?;

        self.toc[5] = self.pos;
        self.section(|b| {
            b.put_be32(offsets.len() as u32);
            for (key, offset) in &offsets {
                let (name, value) = key.map_or(("", ""), |(n, v)| (sym(n), sym(v)));
                b.put_uvarint(2);
                b.put_uvarint_str(name);
                b.put_uvarint_str(value);
                b.put_uvarint(*offset);
            }
        })?;

        for off in self.toc {
            self.buf.put_be64(off);
        }
        self.buf.put_crc_of(0);
        self.flush_buf()?;
        let path = self.path.clone();
        let file = self.f.into_inner().map_err(|e| io_err(&path, e.into_error()))?;
        file.sync_all().map_err(|e| io_err(&path, e))?;
        Ok(self.pos)
    }
}
