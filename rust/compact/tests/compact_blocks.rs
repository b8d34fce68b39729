//! Compaction keeps every sample: promtool's 2 h blocks compacted into one
//! hold the same series with the same samples, which a Prometheus started on
//! the result counts; a block compacted with a copy of itself (the vertical
//! case, one sample per timestamp) is the block again.

#[path = "../../tsdb/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::prometheus::Prometheus;
use common::{copy_dir, promtool_backfill, small_dataset};
use thanos_compact::compact_blocks;
use thanos_core::chunkenc;
use thanos_core::labels::{Labels, MatchOp, Matcher};
use thanos_tsdb::Block;

/// Every series' samples (time, value bits) across `dirs`, overlaps counted once.
fn samples(dirs: &[PathBuf]) -> BTreeMap<Labels, BTreeMap<i64, u64>> {
    let mut out: BTreeMap<Labels, BTreeMap<i64, u64>> = BTreeMap::new();
    for d in dirs {
        let b = Block::open(d).unwrap();
        let all = Matcher::new(MatchOp::Equal, "", "").unwrap();
        for s in b.select(&[all], i64::MIN, i64::MAX).unwrap() {
            let s = s.unwrap();
            let entry = out.entry(s.labels).or_default();
            for c in &s.chunks {
                let (mut ts, mut vs) = (Vec::new(), Vec::new());
                chunkenc::decode_into(&c.data, &mut ts, &mut vs).unwrap();
                for (t, v) in ts.into_iter().zip(vs) {
                    entry.insert(t, v.to_bits());
                }
            }
        }
    }
    out
}

const ULID: &str = "01JDXKQ2Z6M3R8V5T9W0B4C7NZ";

fn backfill(tmp: &Path) -> Vec<PathBuf> {
    let blocks = promtool_backfill(&small_dataset(20, 7).openmetrics(), tmp);
    assert!(blocks.len() >= 4, "seven hours make four 2 h blocks");
    blocks
}

#[test]
fn compacting_keeps_every_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let sources = backfill(tmp.path());
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let meta = compact_blocks(&sources, &out, ULID).unwrap();

    let metas: Vec<_> = sources.iter().map(|d| Block::open(d).unwrap().meta().clone()).collect();
    assert_eq!(meta.min_time, metas[0].min_time);
    assert_eq!(meta.max_time, metas.last().unwrap().max_time);
    assert_eq!(meta.compaction.level, 2);
    assert_eq!(meta.compaction.parents.len(), sources.len());
    assert_eq!(meta.compaction.sources.len(), sources.len());
    assert_eq!(meta.stats.num_samples, metas.iter().map(|m| m.stats.num_samples).sum::<u64>());
    assert_eq!(meta.stats.num_series, 20);
    assert!(!meta.compaction.deletable);
    let compacted = out.join(ULID);
    assert_eq!(samples(std::slice::from_ref(&compacted)), samples(&sources));

    let prom = Prometheus::start(&out, &[]);
    let query = format!("/api/v1/query?query=sum(count_over_time(load[1d]))&time={}", meta.max_time / 1000 + 1);
    let (status, body) = prom.http("GET", &query, &[], &[]).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("\"{}\"", meta.stats.num_samples)), "{body}");
    prom.stop();
}

#[test]
fn overlapping_blocks_merge_one_sample_per_timestamp() {
    let tmp = tempfile::tempdir().unwrap();
    let sources = backfill(tmp.path());
    let copy = tmp.path().join("copy");
    copy_dir(&sources[1], &copy);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let inputs = vec![sources[1].clone(), copy, sources[2].clone()];
    let meta = compact_blocks(&inputs, &out, ULID).unwrap();
    assert_eq!(samples(&[out.join(ULID)]), samples(&[sources[1].clone(), sources[2].clone()]));
    let once: u64 = [&sources[1], &sources[2]].iter().map(|d| Block::open(d).unwrap().meta().stats.num_samples).sum();
    assert_eq!(meta.stats.num_samples, once, "the copy's samples are the same samples");
}

#[test]
fn no_sources_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(compact_blocks(&[], tmp.path(), ULID).is_err());
}

/// A block of `series` with one sample a minute from `offset` ms on, value
/// `base` plus the minute; written by our own writer.
fn replica_block(parent: &Path, ulid: &str, offset: i64, base: f64, gap: std::ops::Range<i64>) -> PathBuf {
    use thanos_tsdb::meta::{BlockMeta, BlockMetaCompaction};
    use thanos_tsdb::writer::BlockWriter;
    let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
    let (ts, vs): (Vec<i64>, Vec<f64>) =
        (0..120).filter(|m| !gap.contains(m)).map(|m| (m * 60_000 + offset, base + m as f64)).unzip();
    let mut chunks = Vec::new();
    thanos_tsdb::merge::encode_into(&ts, &vs, &mut chunks).unwrap();
    let mut w = BlockWriter::create(parent, ulid, ["__name__", "a", "job", "up"]).unwrap();
    w.add_series(&labels, &chunks).unwrap();
    let meta = BlockMeta {
        ulid: ulid.to_string(),
        min_time: 0,
        max_time: 120 * 60_000,
        stats: Default::default(),
        compaction: BlockMetaCompaction { level: 1, sources: vec![ulid.to_string()], ..Default::default() },
        version: 1,
        thanos: None,
    };
    w.finish(meta).unwrap();
    parent.join(ulid)
}

#[test]
fn penalty_dedup_merges_replicas_as_the_querier_does() {
    use thanos_compact::{compact_blocks_with, Dedup};
    use thanos_query::dedup::{dedup_replicas, Run};
    let tmp = tempfile::tempdir().unwrap();
    // Replica b scrapes 20 s after a, with other values; a misses minutes 30-49.
    let a = replica_block(tmp.path(), "01JDXKQ2Z6M3R8V5T9W0B4C7A0", 0, 0.0, 30..50);
    let b = replica_block(tmp.path(), "01JDXKQ2Z6M3R8V5T9W0B4C7B0", 20_000, 1000.0, 0..0);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let sources = vec![a.clone(), b.clone()];
    compact_blocks_with(&sources, &out, ULID, Dedup::Penalty).unwrap();
    let got = samples(&[out.join(ULID)]);
    let runs: Vec<(Vec<i64>, Vec<f64>)> = [&a, &b]
        .iter()
        .map(|d| {
            let s = samples(&[d.to_path_buf()]).into_values().next().unwrap();
            (s.keys().copied().collect(), s.values().map(|v| f64::from_bits(*v)).collect())
        })
        .collect();
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    let views: Vec<Run<'_>> = runs.iter().map(|(t, v)| Run { ts: t, vs: v }).collect();
    dedup_replicas(&views, false, &mut ts, &mut vs);
    let want: BTreeMap<i64, u64> = ts.into_iter().zip(vs.into_iter().map(f64::to_bits)).collect();
    assert_eq!(got.into_values().next().unwrap(), want);
    // Mostly replica a, b only across a's gap: about 120 samples, not 220.
    assert!(want.len() < 130 && want.values().any(|v| f64::from_bits(*v) >= 1000.0));
    // One-to-one keeps both replicas' samples, interleaved.
    let out2 = tmp.path().join("out2");
    std::fs::create_dir_all(&out2).unwrap();
    compact_blocks_with(&sources, &out2, ULID, Dedup::OneToOne).unwrap();
    assert_eq!(samples(&[out2.join(ULID)]).into_values().next().unwrap().len(), 220);
    assert!(Dedup::from_flag("chain").is_err());
}

#[test]
fn penalty_dedup_reads_a_replica_s_consecutive_blocks_as_one() {
    use thanos_compact::{compact_blocks_with, Dedup};
    let tmp = tempfile::tempdir().unwrap();
    // Replica a in two blocks of an hour each, b in one of two hours.
    let a1 = replica_block(tmp.path(), "01JDXKQ2Z6M3R8V5T9W0B4C7A1", 0, 0.0, 60..120);
    let a2 = replica_block(tmp.path(), "01JDXKQ2Z6M3R8V5T9W0B4C7A2", 0, 0.0, 0..60);
    let b = replica_block(tmp.path(), "01JDXKQ2Z6M3R8V5T9W0B4C7B1", 20_000, 1000.0, 0..0);
    let whole_a = replica_block(tmp.path(), "01JDXKQ2Z6M3R8V5T9W0B4C7A3", 0, 0.0, 120..120);
    let (split, whole) = (tmp.path().join("split"), tmp.path().join("whole"));
    for d in [&split, &whole] {
        std::fs::create_dir_all(d).unwrap();
    }
    compact_blocks_with(&[a1, a2, b.clone()], &split, ULID, Dedup::Penalty).unwrap();
    compact_blocks_with(&[whole_a, b], &whole, ULID, Dedup::Penalty).unwrap();
    assert_eq!(samples(&[split.join(ULID)]), samples(&[whole.join(ULID)]));
}
