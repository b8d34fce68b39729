//! Downsampling keeps the data's totals: promtool's blocks compacted into
//! one and downsampled to 5 minutes hold, per series, windows whose counts
//! add up to the raw samples, whose sums add up to the raw sum, whose min
//! and max bound them; a second pass to 1 hour keeps the same totals.

#[path = "../../tsdb/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{promtool_backfill, small_dataset};
use thanos_compact::downsample::{RES_1H, RES_5M};
use thanos_compact::{compact_blocks, downsample_block};
use thanos_core::chunkenc;
use thanos_core::labels::{Labels, MatchOp, Matcher};
use thanos_tsdb::aggr::{self, AggrType, ENCODING_AGGR};
use thanos_tsdb::Block;

/// Per series: (count, sum, min, max) of the raw samples, or of the windows.
type Totals = BTreeMap<Labels, (f64, f64, f64, f64)>;

fn decode(data: &[u8]) -> Vec<f64> {
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    chunkenc::decode_into(data, &mut ts, &mut vs).unwrap();
    vs
}

fn totals(dir: &Path) -> Totals {
    let b = Block::open(dir).unwrap();
    let all = Matcher::new(MatchOp::Equal, "", "").unwrap();
    let mut out = Totals::new();
    for s in b.select(&[all], i64::MIN, i64::MAX).unwrap() {
        let s = s.unwrap();
        let e = out.entry(s.labels).or_insert((0.0, 0.0, f64::MAX, f64::MIN));
        for c in &s.chunks {
            let get = |t| decode(aggr::get(&c.data, t).unwrap().unwrap().1);
            let (count, sum, min, max) = if c.encoding == ENCODING_AGGR {
                let count: f64 = get(AggrType::Count).iter().sum();
                let sum: f64 = get(AggrType::Sum).iter().sum();
                (
                    count,
                    sum,
                    get(AggrType::Min).into_iter().fold(f64::MAX, f64::min),
                    get(AggrType::Max).into_iter().fold(f64::MIN, f64::max),
                )
            } else {
                let vs = decode(&c.data);
                (
                    vs.len() as f64,
                    vs.iter().sum(),
                    vs.iter().copied().fold(f64::MAX, f64::min),
                    vs.iter().copied().fold(f64::MIN, f64::max),
                )
            };
            *e = (e.0 + count, e.1 + sum, e.2.min(min), e.3.max(max));
        }
    }
    out
}

fn assert_same(a: &Totals, b: &Totals) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, x) in a {
        let y = b[k];
        assert_eq!((x.0, x.2, x.3), (y.0, y.2, y.3), "{k}");
        assert!((x.1 - y.1).abs() <= 1e-9 * x.1.abs().max(1.0), "{k}: sum {} vs {}", x.1, y.1);
    }
}

#[test]
fn downsampled_blocks_keep_counts_sums_and_extremes() {
    let tmp = tempfile::tempdir().unwrap();
    let sources = promtool_backfill(&small_dataset(10, 12).openmetrics(), tmp.path());
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    compact_blocks(&sources, &out, "01JDXKQ2Z6M3R8V5T9W0B4C7NZ").unwrap();
    let raw = out.join("01JDXKQ2Z6M3R8V5T9W0B4C7NZ");

    let five = downsample_block(&raw, &out, "01JDXKQ2Z6M3R8V5T9W0B4C7P0", RES_5M).unwrap();
    let raw_meta = Block::open(&raw).unwrap().meta().clone();
    assert_eq!(five.thanos.as_ref().map(|t| t.downsample.resolution), Some(RES_5M));
    assert_eq!((five.min_time, five.max_time), (raw_meta.min_time, raw_meta.max_time));
    assert_eq!(five.compaction.sources, raw_meta.compaction.sources);
    assert_eq!(five.stats.num_series, raw_meta.stats.num_series);
    // Twelve hours of 5 m windows per series, give or take the ends.
    assert!((five.stats.num_samples as i64 - 10 * 144).abs() <= 20, "{}", five.stats.num_samples);
    let want = totals(&raw);
    assert_same(&want, &totals(&out.join("01JDXKQ2Z6M3R8V5T9W0B4C7P0")));

    let hour = downsample_block(&out.join("01JDXKQ2Z6M3R8V5T9W0B4C7P0"), &out, "01JDXKQ2Z6M3R8V5T9W0B4C7P1", RES_1H);
    assert_eq!(hour.unwrap().thanos.unwrap().downsample.resolution, RES_1H);
    assert_same(&want, &totals(&out.join("01JDXKQ2Z6M3R8V5T9W0B4C7P1")));
    // Not back to a finer resolution.
    assert!(
        downsample_block(&out.join("01JDXKQ2Z6M3R8V5T9W0B4C7P1"), &out, "01JDXKQ2Z6M3R8V5T9W0B4C7P2", RES_5M).is_err()
    );
}
