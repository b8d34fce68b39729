//! Merges blocks into one (`LeveledCompactor.Compact` and `populateBlock` in
//! Prometheus's `tsdb/compact.go` at v2.42.0, which Thanos's compactor runs):
//! every series of every source, in label order; where sources overlap in time
//! (vertical compaction, as for the two replicas of an HA pair once their
//! replica label is gone) the chunks are merged with one sample kept per
//! timestamp, as `storage.NewCompactingChunkSeriesMerger` does; deleted
//! samples (tombstones) are dropped.
//!
//! With [`Dedup::Penalty`] (Thanos's `--deduplication.func=penalty`) a label
//! set found in several sources, the replicas of an HA pair once their
//! replica label is gone, is merged instead by the querier's deduplication
//! (`pkg/dedup`): one replica at a time, switching only across gaps, so
//! replicas whose scrapes do not line up become one series and not both
//! interleaved.
//!
//! The new block's history is Prometheus's: level one above its highest
//! source, the union of the sources' sources, and the sources as parents.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use thanos_core::chunkenc;
use thanos_core::labels::{MatchOp, Matcher};
use thanos_core::{bail, Result};
use thanos_query::dedup::{dedup_replicas, Run};
use thanos_tsdb::chunks::ENCODING_XOR;
use thanos_tsdb::merge::{encode_into, merge_chunks};
use thanos_tsdb::meta::{BlockDesc, BlockMeta, BlockMetaCompaction};
use thanos_tsdb::writer::BlockWriter;
use thanos_tsdb::{Block, Chunk, Series};

/// The `source` a block made by the compactor carries in its `thanos` section.
pub const COMPACTOR_SOURCE: &str = "compactor";

/// How the parts of a label set merge (`--deduplication.func`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dedup {
    /// One sample per timestamp (`""`, the default: Prometheus's compacting merger).
    OneToOne,
    /// Thanos's penalty algorithm (`"penalty"`), the querier's deduplication.
    Penalty,
}

impl Dedup {
    /// The value of `--deduplication.func`.
    pub fn from_flag(name: &str) -> Result<Self> {
        match name {
            "" => Ok(Dedup::OneToOne),
            "penalty" => Ok(Dedup::Penalty),
            _ => bail!(BadData, "unsupported deduplication func, got {name}"),
        }
    }
}

/// The parts of a label set (one per source block) merged by the penalty
/// algorithm; None when a part holds a chunk that is not XOR (left to the
/// one-to-one merge). Parts that follow one another in time are one replica
/// (a lane): so a plan of several blocks per replica is deduplicated across
/// their boundaries as the querier does, and folds one run per replica
/// rather than one per block.
fn penalty_merge(same: &[Series]) -> Result<Option<Vec<Chunk>>> {
    if same.iter().flat_map(|s| &s.chunks).any(|c| c.encoding != ENCODING_XOR) {
        return Ok(None);
    }
    let mut parts = Vec::with_capacity(same.len());
    for s in same {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        for c in &s.chunks {
            chunkenc::decode_into(&c.data, &mut ts, &mut vs)?;
        }
        let kept: (Vec<i64>, Vec<f64>) =
            ts.iter().zip(&vs).filter(|(t, _)| !s.deleted.contains(**t)).map(|(t, v)| (*t, *v)).unzip();
        if !kept.0.is_empty() {
            parts.push(kept);
        }
    }
    // Stable: of parts starting together, the earlier source takes the first lane.
    parts.sort_by_key(|(ts, _)| ts[0]);
    let mut lanes: Vec<(Vec<i64>, Vec<f64>)> = Vec::new();
    for (ts, vs) in parts {
        match lanes.iter_mut().find(|(lts, _)| lts.last().is_some_and(|&l| l < ts[0])) {
            Some((lts, lvs)) => {
                lts.extend_from_slice(&ts);
                lvs.extend_from_slice(&vs);
            }
            None => lanes.push((ts, vs)),
        }
    }
    let runs: Vec<Run<'_>> = lanes.iter().map(|(ts, vs)| Run { ts, vs }).collect();
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    dedup_replicas(&runs, false, &mut ts, &mut vs);
    let mut out = Vec::new();
    encode_into(&ts, &vs, &mut out)?;
    Ok(Some(out))
}

/// Every series of `block`, with all its chunks, in label order.
fn all_series(block: &Block) -> Result<Vec<Series>> {
    // The empty name and value select every series (`index.AllPostingsKey`).
    let all = Matcher::new(MatchOp::Equal, "", "")?;
    block.select(&[all], i64::MIN, i64::MAX)?.collect()
}

/// The meta of a block made of `sources`: their time range and history.
fn compacted_meta(ulid: &str, sources: &[&BlockMeta]) -> BlockMeta {
    let mut ancestors: BTreeSet<&str> = BTreeSet::new();
    for m in sources {
        ancestors.extend(m.compaction.sources.iter().map(String::as_str));
    }
    let thanos = sources.iter().find_map(|m| m.thanos.clone()).map(|mut t| {
        t.source = COMPACTOR_SOURCE.to_string();
        t.segment_files.clear();
        t.files.clear();
        t
    });
    BlockMeta {
        ulid: ulid.to_string(),
        min_time: sources.iter().map(|m| m.min_time).min().unwrap_or(0),
        max_time: sources.iter().map(|m| m.max_time).max().unwrap_or(0),
        stats: Default::default(),
        compaction: BlockMetaCompaction {
            level: sources.iter().map(|m| m.compaction.level).max().unwrap_or(0) + 1,
            sources: ancestors.into_iter().map(String::from).collect(),
            parents: sources
                .iter()
                .map(|m| BlockDesc { ulid: m.ulid.clone(), min_time: m.min_time, max_time: m.max_time })
                .collect(),
            ..Default::default()
        },
        version: 0,
        thanos,
    }
}

/// Compacts the blocks in `sources` into block `ulid` under `parent` and
/// returns its meta. A result without samples is written all the same and
/// marked `deletable`, as Prometheus marks it.
pub fn compact_blocks(sources: &[PathBuf], parent: &Path, ulid: &str) -> Result<BlockMeta> {
    compact_blocks_with(sources, parent, ulid, Dedup::OneToOne)
}

/// [`compact_blocks`] with the label sets of several sources merged by `dedup`.
pub fn compact_blocks_with(sources: &[PathBuf], parent: &Path, ulid: &str, dedup: Dedup) -> Result<BlockMeta> {
    if sources.is_empty() {
        bail!(BadData, "nothing to compact: no source blocks");
    }
    let blocks: Vec<Block> = sources.iter().map(|d| Block::open(d)).collect::<Result<_>>()?;
    let mut series: Vec<Series> = Vec::new();
    for b in &blocks {
        series.extend(all_series(b)?);
    }
    // Stable: a label set's parts stay in source order.
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    let symbols: BTreeSet<&str> =
        series.iter().flat_map(|s| s.labels.iter().flat_map(|l| [l.name.as_str(), l.value.as_str()])).collect();

    let mut w = BlockWriter::create(parent, ulid, symbols.iter().copied())?;
    let mut rest = series.as_slice();
    while let Some(first) = rest.first() {
        let n = rest.iter().take_while(|s| s.labels == first.labels).count();
        let (same, tail) = rest.split_at(n);
        let penalty = if dedup == Dedup::Penalty && n > 1 { penalty_merge(same)? } else { None };
        let merged = match penalty {
            Some(chunks) => chunks,
            None => merge_chunks(same.iter().map(|s| (s.chunks.clone(), s.deleted.clone())).collect())?,
        };
        w.add_series(&first.labels, &merged)?;
        rest = tail;
    }
    let metas: Vec<&BlockMeta> = blocks.iter().map(Block::meta).collect();
    let mut meta = compacted_meta(ulid, &metas);
    // Prometheus writes no block without samples; one marked deletable says
    // the same to anything that reads it.
    meta.compaction.deletable = series.is_empty();
    w.finish(meta)
}
