//! Blocks written by [`BlockWriter`] are the blocks Prometheus 2.42 writes:
//! rewriting each block promtool backfilled, series by series, gives the same
//! index and chunk files byte for byte; promtool analyzes the rewritten
//! blocks, and a Prometheus started on them answers with every sample.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::prometheus::Prometheus;
use common::{open_blocks, promtool_backfill, small_dataset};
use thanos_core::labels::{MatchOp, Matcher};
use thanos_tsdb::meta::{BlockMeta, BlockMetaCompaction};
use thanos_tsdb::writer::BlockWriter;
use thanos_tsdb::{Block, Series};

fn all_series(b: &Block) -> Vec<Series> {
    let any = Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap();
    b.select(&[any], i64::MIN, i64::MAX).unwrap().map(|s| s.unwrap()).collect()
}

/// Writes `source`'s series again as block `ulid` under `out`.
fn rewrite(source: &Block, ulid: &str, out: &Path) -> (BlockMeta, PathBuf) {
    let series = all_series(source);
    let symbols: BTreeSet<String> =
        series.iter().flat_map(|s| s.labels.iter().flat_map(|l| [l.name.clone(), l.value.clone()])).collect();
    let mut w = BlockWriter::create(out, ulid, symbols.iter().map(String::as_str)).unwrap();
    for s in &series {
        w.add_series(&s.labels, &s.chunks).unwrap();
    }
    let m = source.meta();
    let meta = BlockMeta {
        ulid: ulid.to_string(),
        min_time: m.min_time,
        max_time: m.max_time,
        stats: Default::default(),
        compaction: BlockMetaCompaction { level: 1, sources: vec![ulid.to_string()], ..Default::default() },
        version: 0,
        thanos: None,
    };
    (w.finish(meta).unwrap(), out.join(ulid))
}

fn ulid(i: usize) -> String {
    format!("01JDXKQ2Z6M3R8V5T9W0B4C7N{i}")
}

#[test]
fn rewritten_blocks_equal_prometheus_own_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let sources = open_blocks(&promtool_backfill(&small_dataset(40, 5).openmetrics(), tmp.path()));
    assert!(sources.len() >= 3, "the data spans several 2 h blocks");
    let out = tmp.path().join("rewritten");
    std::fs::create_dir_all(&out).unwrap();
    for (i, source) in sources.iter().enumerate() {
        let (meta, dir) = rewrite(source, &ulid(i), &out);
        assert_eq!(meta.stats, source.meta().stats, "samples, series and chunks are counted as Prometheus counts them");
        for file in ["index", "chunks/000001", "tombstones"] {
            let (ours, theirs) =
                (std::fs::read(dir.join(file)).unwrap(), std::fs::read(source.dir().join(file)).unwrap());
            let first = ours.iter().zip(&theirs).position(|(a, b)| a != b);
            let toc = &theirs[theirs.len().saturating_sub(52)..];
            assert!(
                ours == theirs,
                "{file} of block {i} differs from Prometheus's ({} vs {} bytes), first at {first:?}; their TOC {toc:?}; ours {:?} theirs {:?}",
                ours.len(),
                theirs.len(),
                first.map(|f| &ours[f.saturating_sub(8)..(f + 24).min(ours.len())]),
                first.map(|f| &theirs[f.saturating_sub(8)..(f + 24).min(theirs.len())]),
            );
        }
        let back = Block::open(&dir).unwrap();
        assert_eq!(back.meta(), &meta);
        assert_eq!(all_series(&back), all_series(source));
        assert!(!out.join(format!("{}.tmp-for-creation", ulid(i))).exists());
    }
}

#[test]
fn promtool_and_prometheus_read_written_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let sources = open_blocks(&promtool_backfill(&small_dataset(10, 4).openmetrics(), tmp.path()));
    let data = tmp.path().join("ours");
    std::fs::create_dir_all(&data).unwrap();
    for (i, source) in sources.iter().enumerate() {
        rewrite(source, &ulid(i), &data);
    }
    let out = Command::new("promtool").args(["tsdb", "analyze"]).arg(&data).arg(ulid(0)).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "promtool tsdb analyze failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Series: 10"), "{text}");

    let samples: u64 = sources.iter().map(|b| b.meta().stats.num_samples).sum();
    let prom = Prometheus::start(&data, &[]);
    let (mint, maxt) = (sources[0].meta().min_time, sources.last().unwrap().meta().max_time);
    // max_time is exclusive: the last sample is before it.
    let query = format!("/api/v1/query?query=sum(count_over_time(load[1d]))&time={}", maxt / 1000 + 1);
    let (status, body) = prom.http("GET", &query, &[], &[]).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("\"{samples}\"")), "Prometheus counts {samples} samples in our blocks: {body}");
    assert!(mint < maxt);
    prom.stop();
}
