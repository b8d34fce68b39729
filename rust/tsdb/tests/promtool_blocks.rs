//! Blocks written by Prometheus 2.42's promtool from an OpenMetrics text are
//! read back exactly: every series, every timestamp, every value's bits; and
//! select, label names and label values agree with a brute-force filter over
//! all series of each block.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::{
    exact_ts, open_blocks, open_bucket_block, promtool_backfill, Dataset, DirBucket, Expected, Rng, GO_NAN_BITS,
};
use thanos_core::chunkenc;
use thanos_core::labels::{matches_all, Labels, MatchOp, Matcher};
use thanos_core::ErrorKind;
use thanos_tsdb::bucket::header::HEADER_FILENAME;
use thanos_tsdb::chunks::ENCODING_XOR;
use thanos_tsdb::{Block, ChunkMeta, Series};

const HOUR: i64 = 3_600_000;
/// Not on a 2 h boundary, so the first and last blocks are partial.
const START: i64 = 1_700_000_123_456;
const HOURS: i64 = 6;
const INTERVAL: i64 = 30_000;

/// Scrape times from `from` to `to` (ms), every [`INTERVAL`] with up to ±1 s of
/// jitter, strictly ascending and exact through the OpenMetrics parser.
fn times(rng: &mut Rng, from: i64, to: i64) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    let mut t = from;
    while t < to {
        let mut ts = exact_ts(t + rng.below(2000) as i64 - 1000);
        if let Some(&last) = out.last() {
            if ts <= last {
                ts = exact_ts(last + 1);
            }
        }
        out.push(ts);
        t += INTERVAL;
    }
    out
}

/// Values that stress the XOR encoding and the text round trip.
const SPECIAL: [f64; 10] =
    [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 5e-324, 1e300, -1e-300, 0.1, 123456789.123];

/// A fleet over six hours: counters with resets, gauges with special values,
/// label sets that vary (labels present on some series only, escaped and
/// multi-line values), series with gaps and series alive for an hour only.
fn dataset() -> Dataset {
    let mut rng = Rng::new(7);
    let mut ds = Dataset::default();
    let end = START + HOURS * HOUR;
    for job in ["api", "web", "db"] {
        for i in 0..4 {
            let instance = format!("host-{i}:9100");
            for code in ["200", "404", "500"] {
                let ts = times(&mut rng, START, end);
                let mut v = rng.unit() * 1000.0;
                let samples: Vec<(i64, f64)> = ts
                    .iter()
                    .map(|&t| {
                        // A counter that resets now and then.
                        v = if rng.below(200) == 0 { rng.unit() * 3.0 } else { v + (rng.below(50) as f64) * 0.5 };
                        (t, v)
                    })
                    .collect();
                let mut labels = vec![("job", job), ("instance", instance.as_str()), ("code", code)];
                if job == "web" {
                    labels.push(("path", if i % 2 == 0 { "/" } else { "/login" }));
                }
                ds.add("http_requests", "counter", "http_requests_total", &labels, &samples);
            }
        }
    }
    // Gauges: some with a zone, some without; every special value appears.
    for (k, zone) in ["eu1", "eu2", "us1", ""].iter().enumerate() {
        for sensor in 0..3 {
            let ts = times(&mut rng, START, end);
            let samples: Vec<(i64, f64)> = ts
                .iter()
                .enumerate()
                .map(|(n, &t)| {
                    let v = if n % 37 == 5 {
                        SPECIAL[(n / 37 + k + sensor) % SPECIAL.len()]
                    } else {
                        rng.unit() * 60.0 - 20.0
                    };
                    (t, v)
                })
                .collect();
            let sensor = format!("s{sensor}");
            let mut labels = vec![("sensor", sensor.as_str())];
            if !zone.is_empty() {
                labels.push(("zone", zone));
            }
            ds.add("temperature", "gauge", "temperature", &labels, &samples);
        }
    }
    // Label values that need escaping, and one with a newline, which `.` in a
    // regex does not match in Prometheus 2.42.
    for (n, note) in ["quote \" back \\ é", "line\nbreak", "plain"].iter().enumerate() {
        let ts = times(&mut rng, START + n as i64 * HOUR, end);
        let samples: Vec<(i64, f64)> = ts.iter().map(|&t| (t, rng.below(10) as f64)).collect();
        ds.add("notes", "gauge", "notes", &[("note", note)], &samples);
    }
    // Gaps: one hour missing in the middle, spanning a block boundary.
    for g in 0..3 {
        let gap_from = START + (2 + g) * HOUR - 20 * 60_000;
        let ts: Vec<i64> =
            times(&mut rng, START, end).into_iter().filter(|&t| t < gap_from || t >= gap_from + HOUR).collect();
        let samples: Vec<(i64, f64)> = ts.iter().map(|&t| (t, rng.unit())).collect();
        let id = g.to_string();
        ds.add("gappy", "gauge", "gappy", &[("id", id.as_str()), ("job", "batch")], &samples);
    }
    // Alive for about an hour only: absent from most blocks.
    for h in 0..HOURS {
        let ts = times(&mut rng, START + h * HOUR + 600_000, START + h * HOUR + 4_200_000);
        let samples: Vec<(i64, f64)> = ts.iter().map(|&t| (t, (h * 1000) as f64 + rng.unit())).collect();
        let run = format!("run-{h}");
        ds.add("batch_progress", "gauge", "batch_progress", &[("run", run.as_str()), ("job", "batch")], &samples);
    }
    ds
}

fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
    Matcher::new(op, name, value).unwrap()
}

/// Matcher sets for the comparison: each kind of matcher alone and combined,
/// matchers that match the empty string, labels that no series has.
fn matcher_sets() -> Vec<Vec<Matcher>> {
    use MatchOp::*;
    vec![
        vec![m(Equal, "__name__", "http_requests_total")],
        vec![m(Equal, "job", "api"), m(Equal, "code", "500")],
        vec![m(NotEqual, "job", "api")],
        vec![m(Regex, "__name__", "http.*"), m(NotEqual, "code", "500")],
        vec![m(Regex, "code", "2..|5..")],
        vec![m(Regex, "code", "200|404")],
        vec![m(NotRegex, "code", "2..")],
        vec![m(Equal, "code", "")],
        vec![m(Regex, "zone", "|eu.*")],
        vec![m(NotEqual, "zone", "")],
        vec![m(Regex, "zone", ".+"), m(NotEqual, "zone", "eu1")],
        vec![m(Regex, "instance", "host-1:.*"), m(NotRegex, "__name__", "temp.*")],
        vec![m(Equal, "nonexistent", "")],
        vec![m(Equal, "nonexistent", "x")],
        vec![m(NotEqual, "nonexistent", "x")],
        vec![m(Regex, "__name__", "(?i)TEMP.*")],
        vec![m(Regex, "note", ".*")],
        vec![m(Regex, "note", ".+")],
        vec![m(Equal, "note", "line\nbreak")],
        vec![m(Regex, "path", "/|/login"), m(Regex, "instance", "host-[02].*")],
        vec![m(Equal, "job", "batch"), m(NotRegex, "run", "run-[0-2]")],
        vec![m(NotRegex, "job", ".*")],
        vec![m(Regex, "job", ".*")],
        vec![m(Equal, "__name__", "gappy"), m(Equal, "id", "1")],
    ]
}

/// Every series of a block: ID, labels, chunk metas (from the postings list of
/// all series).
fn all_series(b: &Block) -> Vec<(u32, Labels, Vec<ChunkMeta>)> {
    let ix = b.index();
    ix.all_postings()
        .unwrap()
        .into_iter()
        .map(|id| {
            let mut chunks = Vec::new();
            let labels = ix.series(id, &mut chunks).unwrap();
            (id, labels, chunks)
        })
        .collect()
}

/// Decodes every XOR chunk of every series that `select` returns.
fn read_block(b: &Block) -> BTreeMap<Labels, Vec<(i64, f64)>> {
    let mut out = BTreeMap::new();
    let all = [m(MatchOp::Regex, "__name__", ".+")];
    for s in b.select(&all, i64::MIN, i64::MAX).unwrap() {
        let s = s.unwrap();
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        for c in &s.chunks {
            assert_eq!(c.encoding, ENCODING_XOR);
            let n = chunkenc::decode_into(&c.data, &mut ts, &mut vs).unwrap();
            assert!(n > 0);
            // The metas in the index agree with the chunk's samples.
            assert_eq!((c.meta.min_time, c.meta.max_time), (ts[ts.len() - n], ts[ts.len() - 1]));
        }
        assert!(s.deleted.is_empty());
        assert!(out.insert(s.labels, ts.into_iter().zip(vs).collect::<Vec<_>>()).is_none());
    }
    out
}

fn same_samples(labels: &Labels, got: &[(i64, f64)], want: &[(i64, f64)]) {
    assert_eq!(got.len(), want.len(), "{labels}: sample count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let want_bits = if w.1.is_nan() { GO_NAN_BITS } else { w.1.to_bits() };
        assert_eq!(g.0, w.0, "{labels}: timestamp of sample {i}");
        assert_eq!(g.1.to_bits(), want_bits, "{labels}: value of sample {i} at {}: {} vs {}", g.0, g.1, w.1);
    }
}

#[test]
fn promtool_blocks_read_back_exactly() {
    let ds = dataset();
    let tmp = tempfile::tempdir().unwrap();
    let dirs = promtool_backfill(&ds.openmetrics(), tmp.path());
    let blocks = open_blocks(&dirs);
    // 6 h from an unaligned start: four 2 h blocks.
    assert_eq!(blocks.len(), 4, "{dirs:?}");

    let mut got: Expected = BTreeMap::new();
    for b in &blocks {
        let series = read_block(b);
        let meta = b.meta();
        assert_eq!(meta.stats.num_series, series.len() as u64, "{}", meta.ulid);
        assert_eq!(meta.stats.num_samples, series.values().map(|v| v.len() as u64).sum::<u64>(), "{}", meta.ulid);
        assert_eq!(meta.compaction.level, 1);
        for (labels, samples) in series {
            assert!(samples.iter().all(|s| s.0 >= meta.min_time && s.0 < meta.max_time), "{labels} outside block");
            got.entry(labels).or_default().extend(samples);
        }
    }
    assert_eq!(got.keys().collect::<Vec<_>>(), ds.expected.keys().collect::<Vec<_>>());
    for (labels, want) in &ds.expected {
        same_samples(labels, &got[labels], want);
    }
    let total: usize = ds.expected.values().map(Vec::len).sum();
    eprintln!("{} series, {total} samples in {} blocks read back exactly", ds.expected.len(), blocks.len());
}

#[test]
fn select_equals_brute_force() {
    let ds = dataset();
    let tmp = tempfile::tempdir().unwrap();
    let blocks = open_blocks(&promtool_backfill(&ds.openmetrics(), tmp.path()));
    let mut checked = 0;
    for b in &blocks {
        let all = all_series(b);
        let (lo, hi) = (b.meta().min_time, b.meta().max_time);
        let ranges = [
            (i64::MIN, i64::MAX),
            (lo, hi - 1),
            (lo + 1_800_000, lo + 1_800_000), // one instant
            (lo + 600_000, lo + 3_000_000),
            (hi, hi + HOUR),     // after the block
            (lo - HOUR, lo - 1), // before it
        ];
        for ms in matcher_sets() {
            for &(mint, maxt) in &ranges {
                let want: Vec<(u32, Labels, Vec<ChunkMeta>)> = all
                    .iter()
                    .filter(|(_, l, _)| matches_all(&ms, l))
                    .map(|(id, l, c)| {
                        (
                            *id,
                            l.clone(),
                            c.iter().filter(|c| c.max_time >= mint && c.min_time <= maxt).copied().collect(),
                        )
                    })
                    .filter(|(_, _, c): &(u32, Labels, Vec<ChunkMeta>)| !c.is_empty())
                    .collect();
                let got: Vec<(u32, Labels, Vec<ChunkMeta>)> = b
                    .select(&ms, mint, maxt)
                    .unwrap()
                    .map(|s| {
                        let s = s.unwrap();
                        (s.id, s.labels, s.chunks.iter().map(|c| c.meta).collect())
                    })
                    .collect();
                let names = |v: &[(u32, Labels, Vec<ChunkMeta>)]| v.iter().map(|s| s.1.to_string()).collect::<Vec<_>>();
                assert_eq!(names(&got), names(&want), "{ms:?} in [{mint}, {maxt}]");
                assert_eq!(got, want, "{ms:?} in [{mint}, {maxt}]");
                checked += 1;
            }
            // Label names and values of the selected series, whatever the time.
            let matching: Vec<&Labels> = all.iter().map(|s| &s.1).filter(|l| matches_all(&ms, l)).collect();
            let want_names: BTreeSet<String> = matching.iter().flat_map(|l| l.iter().map(|l| l.name.clone())).collect();
            assert_eq!(b.label_names(&ms).unwrap(), want_names.into_iter().collect::<Vec<_>>(), "{ms:?}");
            for name in ["__name__", "job", "zone", "note", "nonexistent"] {
                let want: BTreeSet<String> =
                    matching.iter().filter(|l| l.has(name)).map(|l| l.get(name).to_string()).collect();
                assert_eq!(b.label_values(name, &ms).unwrap(), want.into_iter().collect::<Vec<_>>(), "{name} {ms:?}");
            }
        }
        // No matchers select nothing, as in Prometheus.
        assert_eq!(b.select(&[], i64::MIN, i64::MAX).unwrap().count(), 0);
        // Without matchers, names and values are those of every series.
        let names: BTreeSet<String> = all.iter().flat_map(|s| s.1.iter().map(|l| l.name.clone())).collect();
        assert_eq!(b.label_names(&[]).unwrap(), names.iter().cloned().collect::<Vec<_>>());
        for name in &names {
            let values: BTreeSet<String> =
                all.iter().filter(|s| s.1.has(name)).map(|s| s.1.get(name).to_string()).collect();
            assert_eq!(b.label_values(name, &[]).unwrap(), values.into_iter().collect::<Vec<_>>(), "{name}");
        }
    }
    eprintln!("{checked} selections compared over {} blocks", blocks.len());
}

#[test]
fn bucket_blocks_answer_as_local_blocks() {
    // The blocks as a store gateway sees them: in a bucket (here a local
    // folder read with ranged reads), the index's header cached apart.
    let ds = dataset();
    let tmp = tempfile::tempdir().unwrap();
    let dirs = promtool_backfill(&ds.openmetrics(), tmp.path());
    let bucket = Arc::new(DirBucket::new(&tmp.path().join("data")));
    let cache = tmp.path().join("cache");
    for (i, dir) in dirs.iter().enumerate() {
        let local = Block::open(dir).unwrap();
        let mut remote = open_bucket_block(Arc::clone(&bucket), dir, &cache).unwrap();
        if i % 2 == 1 {
            // Guesses too small for any entry or chunk: each is read again, whole.
            remote.set_read_guesses(3, 2);
        }
        let header = cache.join(&local.meta().ulid).join(HEADER_FILENAME);
        let (header, index) = (std::fs::read(&header).unwrap(), std::fs::read(dir.join("index")).unwrap());
        assert_eq!(header.len(), index.len());
        // The series and postings lists were never read into it: holes.
        let toc = local.index().toc();
        let lists = toc.series as usize..toc.postings_table as usize;
        assert!(header[lists.clone()].iter().all(|&b| b == 0) && index[lists].iter().any(|&b| b != 0));
        assert_eq!(header[toc.postings_table as usize..], index[toc.postings_table as usize..]);
        let (lo, hi) = (local.meta().min_time, local.meta().max_time);
        for ms in matcher_sets() {
            for (mint, maxt) in [(i64::MIN, i64::MAX), (lo + 600_000, lo + 3_000_000), (hi, hi + HOUR)] {
                let want: Vec<Series> = local.select(&ms, mint, maxt).unwrap().map(Result::unwrap).collect();
                let got = remote.select(&ms, mint, maxt).unwrap();
                assert_eq!(got, want, "{ms:?} in [{mint}, {maxt}]");
            }
            assert_eq!(remote.label_names(&ms).unwrap(), local.label_names(&ms).unwrap(), "{ms:?}");
            for name in ["__name__", "job", "zone", "note", "nonexistent"] {
                assert_eq!(remote.label_values(name, &ms).unwrap(), local.label_values(name, &ms).unwrap());
            }
        }
        assert_eq!(remote.label_names(&[]).unwrap(), local.label_names(&[]).unwrap());
        // A second open reuses the header: it reads nothing.
        let before = bucket.reads.load(Ordering::Relaxed);
        open_bucket_block(Arc::clone(&bucket), dir, &cache).unwrap();
        assert_eq!(bucket.reads.load(Ordering::Relaxed), before);
    }
    // One select reads the postings, the series and the chunks in a few merged ranges.
    let remote = open_bucket_block(Arc::clone(&bucket), &dirs[1], &cache).unwrap();
    let before = bucket.reads.load(Ordering::Relaxed);
    let every = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    let all = remote.select(&every, i64::MIN, i64::MAX).unwrap();
    assert_eq!(all.len() as u64, remote.meta().stats.num_series);
    let reads = bucket.reads.load(Ordering::Relaxed) - before;
    assert!(reads <= 6, "{reads} reads for one select");
}

#[test]
fn damaged_bucket_blocks_are_errors() {
    let ds = dataset();
    let tmp = tempfile::tempdir().unwrap();
    let dirs = promtool_backfill(&ds.openmetrics(), tmp.path());
    let bucket = Arc::new(DirBucket::new(&tmp.path().join("data")));
    let cache = tmp.path().join("cache");
    let every = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    // Chunks cut short after the block was opened: the select fails, clearly.
    let block = open_bucket_block(Arc::clone(&bucket), &dirs[0], &cache).unwrap();
    let segment = dirs[0].join("chunks").join("000001");
    let len = std::fs::metadata(&segment).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&segment).unwrap().set_len(len / 2).unwrap();
    let e = block.select(&every, i64::MIN, i64::MAX).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.message().contains("000001"), "{e}");
    // An index with a damaged TOC cannot be opened.
    let index = dirs[1].join("index");
    let mut bytes = std::fs::read(&index).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(&index, bytes).unwrap();
    let Err(e) = open_bucket_block(Arc::clone(&bucket), &dirs[1], &cache) else { panic!("opened") };
    assert_eq!(e.kind(), ErrorKind::CorruptBlock, "{e}");
    assert!(e.message().contains("TOC: checksum mismatch"), "{e}");
}
