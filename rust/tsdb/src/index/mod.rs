//! The index file of a block, format v2 (`tsdb/docs/format/index.md`;
//! `tsdb/index/index.go` at v2.42.0): magic, version, then symbol table,
//! series, label indices, postings, the offset tables and the TOC.

pub mod postings;
pub mod postings_table;
pub mod series;
pub mod symbols;
pub mod toc;

use std::ops::Range;
use std::path::Path;

use thanos_core::labels::{Label, Labels};
use thanos_core::Result;

use crate::encoding::{corrupt, Decbuf};
use crate::mmap::MappedFile;
pub use postings::Postings;
use postings_table::PostingsTable;
pub use series::{ChunkMeta, LabelRefs};
use symbols::Symbols;
pub use toc::Toc;

/// `MagicIndex` in `tsdb/index/index.go`: the first 4 bytes of an index file.
pub const MAGIC_INDEX: u32 = 0xBAAA_D700;
/// The version Prometheus has written since 2.8 and the only one read here.
/// Version 1 (Prometheus 2.0 to 2.7) stores symbol offsets instead of
/// positions and no sorted postings offset table.
pub const FORMAT_V2: u8 = 2;
/// Magic and version.
const HEADER_LEN: usize = 5;

/// The name and value of the postings list that holds every series
/// (`allPostingsKey` in `tsdb/index/postings.go`).
pub const ALL_POSTINGS_KEY: (&str, &str) = ("", "");

/// Reads one mapped index file. Cheap to share between threads: every read
/// goes to the mapping.
#[derive(Debug)]
pub struct IndexReader {
    file: MappedFile,
    toc: Toc,
    symbols: Symbols,
    postings: PostingsTable,
}

impl IndexReader {
    /// Maps and checks `path`: magic, version, TOC, symbol table and postings
    /// offset table (with their checksums). Series entries and postings lists
    /// are checked when read.
    pub fn open(path: &Path) -> Result<Self> {
        Self::from_file(MappedFile::open(path)?)
    }

    pub fn from_file(file: MappedFile) -> Result<Self> {
        let (p, b) = (file.path(), file.bytes());
        let mut d = Decbuf::new(p, b, 0, b.len())?;
        let magic = d.be32().map_err(|e| e.context("index header"))?;
        if magic != MAGIC_INDEX {
            return Err(corrupt(p, 0, format!("invalid magic number {magic:08x}, want {MAGIC_INDEX:08x}")));
        }
        let version = d.byte().map_err(|e| e.context("index header"))?;
        if version != FORMAT_V2 {
            return Err(corrupt(p, 4, format!("unsupported index format version {version} (known: {FORMAT_V2})")));
        }
        let toc = Toc::read(p, b)?;
        let symbols = Symbols::read(p, b, toc.symbols as usize)?;
        let postings = PostingsTable::read(p, b, toc.postings_table as usize)?;
        if toc.series < HEADER_LEN as u64 {
            return Err(corrupt(p, 0, format!("TOC: series offset {} is inside the header", toc.series)));
        }
        Ok(IndexReader { file, toc, symbols, postings })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Size of the index file in bytes.
    pub fn size(&self) -> usize {
        self.file.len()
    }

    /// Heap this reader holds beside the mapping, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.symbols.heap_bytes() + self.postings.heap_bytes()
    }

    pub fn symbol(&self, r: u32) -> Result<&str> {
        self.symbols.lookup(self.file.path(), self.file.bytes(), r)
    }

    /// The reference of a symbol, if the index has it.
    pub fn symbol_ref(&self, sym: &str) -> Result<Option<u32>> {
        self.symbols.reverse_lookup(self.file.path(), self.file.bytes(), sym)
    }

    /// The series entry of `id`, checksum checked.
    fn series_entry(&self, id: u32) -> Result<Decbuf<'_>> {
        let off = u64::from(id) * series::SERIES_ALIGNMENT;
        if off < self.toc.series {
            return Err(corrupt(self.path(), off as usize, format!("series {id} is before the series section")));
        }
        Decbuf::at_uvarint_section(self.path(), self.file.bytes(), off as usize, "series")
    }

    /// The label references of series `id` and, when `chunks` is given, its chunk metas.
    pub fn series_refs(&self, id: u32, labels: &mut Vec<LabelRefs>, chunks: Option<&mut Vec<ChunkMeta>>) -> Result<()> {
        let mut d = self.series_entry(id)?;
        series::decode_series(&mut d, labels, chunks)
    }

    /// The labels and chunk metas of series `id` (Prometheus's `Reader.Series`).
    pub fn series(&self, id: u32, chunks: &mut Vec<ChunkMeta>) -> Result<Labels> {
        let mut refs = Vec::new();
        self.series_refs(id, &mut refs, Some(chunks))?;
        self.labels(&refs, u64::from(id) * series::SERIES_ALIGNMENT)
    }

    /// Resolves the label references of the series entry at offset `at` to a label set.
    pub fn labels(&self, refs: &[LabelRefs], at: u64) -> Result<Labels> {
        let mut out: Vec<Label> = Vec::with_capacity(refs.len());
        for r in refs {
            let name = self.symbol(r.name)?;
            // `Labels` requires names sorted and unique; the writer sorts them.
            if out.last().is_some_and(|l| l.name.as_str() >= name) {
                return Err(corrupt(self.path(), at as usize, format!("series labels are not sorted at {name:?}")));
            }
            out.push(Label { name: name.to_string(), value: self.symbol(r.value)?.to_string() });
        }
        Ok(Labels::from_sorted(out))
    }

    /// The series IDs that have `name` set to any of `values` (their union),
    /// Prometheus's `Reader.Postings`.
    pub fn postings(&self, name: &str, values: &[&str]) -> Result<Postings> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let (p, b) = (self.file.path(), self.file.bytes());
        let entries = self.postings.find(p, b, name, &sorted)?;
        let lists = entries.iter().map(|e| postings::read_postings(p, b, e.postings)).collect::<Result<Vec<_>>>()?;
        Ok(postings::merge(lists))
    }

    /// Where the postings lists of those of `values` that `name` has lie in
    /// the file, for a reader that holds only the index's header and fetches
    /// the lists itself (a block in object storage). Spans may run past their
    /// list into padding.
    pub fn postings_spans(&self, name: &str, values: &[&str]) -> Result<Vec<Range<usize>>> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let (p, b) = (self.file.path(), self.file.bytes());
        let entries = self.postings.find(p, b, name, &sorted)?;
        entries.iter().map(|e| self.span(e)).collect()
    }

    /// [`IndexReader::postings_spans`] of every value of `name`, with the value.
    pub fn label_value_spans(&self, name: &str) -> Result<Vec<(&str, Range<usize>)>> {
        let (p, b) = (self.file.path(), self.file.bytes());
        self.postings.entries(p, b, name)?.into_iter().map(|e| Ok((e.value, self.span(&e)?))).collect()
    }

    fn span(&self, e: &postings_table::Entry<'_>) -> Result<Range<usize>> {
        let end = self.postings.postings_end(self.file.path(), self.file.bytes(), e)?;
        Ok(e.postings..end.unwrap_or(self.toc.postings_table as usize))
    }

    pub fn toc(&self) -> &Toc {
        &self.toc
    }

    /// Every series of the block.
    pub fn all_postings(&self) -> Result<Postings> {
        let (name, value) = ALL_POSTINGS_KEY;
        self.postings(name, &[value])
    }

    /// The values of label `name`, sorted (from the postings offset table).
    pub fn label_values(&self, name: &str) -> Result<Vec<&str>> {
        Ok(self.postings.entries(self.file.path(), self.file.bytes(), name)?.into_iter().map(|e| e.value).collect())
    }

    /// The postings of each value of `name`, with the value, in value order.
    pub fn label_value_postings(&self, name: &str) -> Result<Vec<(&str, Postings)>> {
        let (p, b) = (self.file.path(), self.file.bytes());
        self.postings
            .entries(p, b, name)?
            .into_iter()
            .map(|e| Ok((e.value, postings::read_postings(p, b, e.postings)?)))
            .collect()
    }

    /// Every label name of the block, sorted.
    pub fn label_names(&self) -> Vec<&str> {
        self.postings.names().filter(|n| *n != ALL_POSTINGS_KEY.0).collect()
    }

    /// The label names that the series `ids` hold, sorted (`Reader.LabelNamesFor`).
    pub fn label_names_for(&self, ids: &[u32]) -> Result<Vec<&str>> {
        let mut name_refs = std::collections::BTreeSet::new();
        let mut refs = Vec::new();
        for &id in ids {
            self.series_refs(id, &mut refs, None)?;
            name_refs.extend(refs.iter().map(|r| r.name));
        }
        let mut names = name_refs.into_iter().map(|r| self.symbol(r)).collect::<Result<Vec<_>>>()?;
        names.sort_unstable();
        Ok(names)
    }
}

/// The matcher logic of [`crate::querier`] over an index file.
impl crate::querier::PostingsIndex for IndexReader {
    fn postings(&self, name: &str, values: &[&str]) -> Result<Postings> {
        IndexReader::postings(self, name, values)
    }

    fn all_postings(&self) -> Result<Postings> {
        IndexReader::all_postings(self)
    }

    fn label_values(&self, name: &str) -> Result<Vec<&str>> {
        IndexReader::label_values(self, name)
    }

    fn label_value_postings(&self, name: &str) -> Result<Vec<(&str, Postings)>> {
        IndexReader::label_value_postings(self, name)
    }

    fn label_names_for(&self, ids: &[u32]) -> Result<Vec<&str>> {
        IndexReader::label_names_for(self, ids)
    }

    fn label_names(&self) -> Vec<&str> {
        IndexReader::label_names(self)
    }
}
