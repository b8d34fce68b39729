//! A written block read back by this crate's reader: series, chunks, label
//! names and values, stats and meta.json. (tests/block_writer.rs compares
//! with the blocks Prometheus itself writes.)

use super::*;
use crate::merge::encode_into;
use thanos_core::labels::{MatchOp, Matcher};

fn chunks(from: i64, n: i64) -> Vec<Chunk> {
    let ts: Vec<i64> = (0..n).map(|i| from + i * 15_000).collect();
    let vs: Vec<f64> = ts.iter().map(|t| (*t % 7) as f64).collect();
    let mut out = Vec::new();
    encode_into(&ts, &vs, &mut out).unwrap();
    out
}

fn meta(ulid: &str) -> BlockMeta {
    BlockMeta {
        ulid: ulid.into(),
        min_time: 0,
        max_time: 7_200_000,
        stats: Default::default(),
        compaction: Default::default(),
        version: 0,
        thanos: Some(Default::default()),
    }
}

#[test]
fn a_written_block_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let series = [
        (Labels::from_pairs([("__name__", "up"), ("job", "a")]), chunks(0, 300)),
        (Labels::from_pairs([("__name__", "up"), ("job", "b")]), chunks(1000, 10)),
        (Labels::from_pairs([("__name__", "x"), ("job", "a"), ("zone", "é")]), chunks(5, 121)),
    ];
    let mut symbols: Vec<&str> =
        series.iter().flat_map(|(l, _)| l.iter().flat_map(|l| [l.name.as_str(), l.value.as_str()])).collect();
    symbols.sort();
    symbols.dedup();
    let mut w = BlockWriter::with_segment_size(dir.path(), "01JDXKQ2Z6M3R8V5T9W0B4C7N0", symbols, 400).unwrap();
    for (labels, cs) in &series {
        w.add_series(labels, cs).unwrap();
    }
    w.add_series(&Labels::from_pairs([("__name__", "zz")]), &[]).unwrap();
    let written = w.finish(meta("01JDXKQ2Z6M3R8V5T9W0B4C7N0")).unwrap();
    assert_eq!((written.stats.num_series, written.stats.num_chunks, written.stats.num_samples), (3, 6, 431));
    assert!(written.thanos.as_ref().unwrap().segment_files.len() > 1, "small segments were cut");

    let block = crate::Block::open(&dir.path().join("01JDXKQ2Z6M3R8V5T9W0B4C7N0")).unwrap();
    assert_eq!(block.meta(), &written);
    let any = Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap();
    let got: Vec<_> = block.select(&[any], i64::MIN, i64::MAX).unwrap().map(|s| s.unwrap()).collect();
    assert_eq!(got.len(), 3);
    for (s, (labels, cs)) in got.iter().zip(&series) {
        assert_eq!(&s.labels, labels);
        let bytes: Vec<_> = s.chunks.iter().map(|c| (c.meta.min_time, c.meta.max_time, c.data.clone())).collect();
        let want: Vec<_> = cs.iter().map(|c| (c.meta.min_time, c.meta.max_time, c.data.clone())).collect();
        assert_eq!(bytes, want);
    }
    assert_eq!(block.label_names(&[]).unwrap(), ["__name__", "job", "zone"]);
    assert_eq!(block.label_values("job", &[]).unwrap(), ["a", "b"]);
    let job_b = Matcher::new(MatchOp::Equal, "job", "b").unwrap();
    assert_eq!(block.select(&[job_b], 0, i64::MAX).unwrap().count(), 1);
    assert!(block.tombstones().get(0).is_empty());
}

#[test]
fn out_of_order_series_and_unknown_symbols_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::create(dir.path(), "01JDXKQ2Z6M3R8V5T9W0B4C7N1", ["__name__", "a", "b"]).unwrap();
    w.add_series(&Labels::from_pairs([("__name__", "b")]), &chunks(0, 1)).unwrap();
    let err = w.add_series(&Labels::from_pairs([("__name__", "a")]), &chunks(0, 1)).unwrap_err();
    assert!(err.to_string().contains("out-of-order series"), "{err}");
    let err = w.add_series(&Labels::from_pairs([("__name__", "c")]), &chunks(0, 1)).unwrap_err();
    assert!(err.to_string().contains("symbol entry for \"c\" does not exist"), "{err}");
    assert!(BlockWriter::create(dir.path(), "01JDXKQ2Z6M3R8V5T9W0B4C7N2", ["b", "a"]).is_err());
}
