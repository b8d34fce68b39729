//! The head of a real Prometheus 2.42, read from its data directory while it
//! runs: samples sent by remote write come back exactly (timestamps and value
//! bits) after an open and after each refresh, across a restart, with
//! tombstones from the admin API, and across head compactions that cut
//! blocks, checkpoint the WAL and delete head chunk files (blocks and head
//! then hold every sample once); the head answers as the block Prometheus's
//! snapshot makes of it; refreshes run while Prometheus is being written to;
//! damaged copies of the files give errors or clean stops; the heap per
//! series is measured.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::prometheus::{wait_for, Prometheus};
use common::{copy_dir, Rng};
use thanos_core::chunkenc;
use thanos_core::labels::{Labels, MatchOp, Matcher};
use thanos_core::ErrorKind;
use thanos_tsdb::head::MEMORY_CHUNK_REF;
use thanos_tsdb::{Block, Head, Series};

type Samples = BTreeMap<Labels, Vec<(i64, f64)>>;
/// Series with samples, as one remote-write request carries them.
type Request = Vec<(Labels, Vec<(i64, f64)>)>;

/// Aligned to 2 minutes, plus a few ms.
const T0: i64 = 1_700_000_040_000 + 7;
const STEP: i64 = 15_000;

fn all() -> Vec<Matcher> {
    vec![Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()]
}

/// Decodes selected series; deleted samples left out. Each series' samples
/// must be strictly increasing: a sample given twice is a failure.
fn decode(series: impl IntoIterator<Item = Series>, into: &mut Samples) {
    for s in series {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        for c in &s.chunks {
            assert_eq!(c.encoding, 1, "{}", s.labels);
            chunkenc::decode_into(&c.data, &mut ts, &mut vs).unwrap();
        }
        let out = into.entry(s.labels.clone()).or_default();
        out.extend(ts.into_iter().zip(vs).filter(|&(t, _)| !s.deleted.contains(t)));
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "{}: samples out of order or twice", s.labels);
    }
}

fn head_samples(h: &Head) -> Samples {
    let mut out = Samples::new();
    decode(h.select(&all(), i64::MIN, i64::MAX).unwrap(), &mut out);
    out
}

/// The same, value bits compared, with a readable difference.
fn assert_same(got: &Samples, want: &Samples, what: &str) {
    let bits = |s: &Samples| -> BTreeMap<String, Vec<(i64, u64)>> {
        s.iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(l, v)| (l.to_string(), v.iter().map(|&(t, v)| (t, v.to_bits())).collect()))
            .collect()
    };
    let (g, w) = (bits(got), bits(want));
    if g != w {
        let names: Vec<&String> = g.keys().chain(w.keys()).collect();
        for n in names {
            let (a, b) = (g.get(n), w.get(n));
            if a != b {
                let (la, lb) = (a.map_or(0, Vec::len), b.map_or(0, Vec::len));
                let first = a.into_iter().flatten().zip(b.into_iter().flatten()).position(|(x, y)| x != y);
                panic!("{what}: {n}: {la} samples, want {lb}; first difference at {first:?}\ngot  {a:?}\nwant {b:?}");
            }
        }
    }
}

/// Values that stress the XOR encoding: NaNs (Go's and a stale marker),
/// infinities, signed zeros, denormals.
const SPECIAL: [u64; 8] = [
    0x7FF8_0000_0000_0001,
    0x7FF0_0000_0000_0002,
    0x7FF0_0000_0000_0000,
    0x8000_0000_0000_0000,
    0,
    1,
    0x3FB9_9999_9999_999A,
    0xFFF0_0000_0000_0000,
];

/// The data sent: series by labels, and each one's samples so far.
struct Feed {
    rng: Rng,
    written: Samples,
}

impl Feed {
    fn new() -> Feed {
        Feed { rng: Rng::new(11), written: Samples::new() }
    }

    fn labels(i: usize) -> Labels {
        let instance = format!("host-{i}:9100");
        let job = ["api", "db", "web"][i % 3];
        if i % 10 == 9 {
            Labels::from_pairs([("__name__", "special"), ("instance", instance.as_str())])
        } else {
            Labels::from_pairs([("__name__", "load"), ("instance", instance.as_str()), ("job", job)])
        }
    }

    /// Sends samples `k` in `ks` (time `T0 + k * STEP`, with jitter) of
    /// series `is`, in a few requests.
    fn send(&mut self, p: &Prometheus, is: std::ops::Range<usize>, ks: std::ops::Range<i64>) {
        let mut batch = Vec::new();
        for i in is {
            let l = Feed::labels(i);
            let samples: Vec<(i64, f64)> = ks
                .clone()
                .map(|k| {
                    let t = T0 + k * STEP + (i as i64 * 37 + k * 11) % 1000;
                    let v = if l.get("__name__") == "special" && k % 3 == 0 {
                        f64::from_bits(SPECIAL[(k as usize / 3 + i) % SPECIAL.len()])
                    } else {
                        (self.rng.unit() * 1000.0).round() / 8.0
                    };
                    (t, v)
                })
                .collect();
            self.written.entry(l.clone()).or_default().extend(&samples);
            batch.push((l, samples));
            if batch.len() == 16 {
                p.remote_write(&batch);
                batch.clear();
            }
        }
        if !batch.is_empty() {
            p.remote_write(&batch);
        }
    }
}

fn without(s: &Samples, deleted: impl Fn(&Labels, i64) -> bool) -> Samples {
    s.iter().map(|(l, v)| (l.clone(), v.iter().copied().filter(|&(t, _)| !deleted(l, t)).collect())).collect()
}

fn segments(data: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(data.join("wal")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

fn file_chunks(h: &Head) -> usize {
    let sel = h.select(&all(), i64::MIN, i64::MAX).unwrap();
    sel.iter().flat_map(|s| &s.chunks).filter(|c| c.meta.chunk_ref & MEMORY_CHUNK_REF == 0).count()
}

#[test]
fn head_follows_a_running_prometheus_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let p = Prometheus::start(&data, &[]);
    let mut feed = Feed::new();
    feed.send(&p, 0..40, 0..200);

    let mut h = Head::open(&data).unwrap();
    assert_same(&head_samples(&h), &feed.written, "after open");
    assert_eq!(h.num_series(), 40);
    let last = |s: &Samples| s.values().flat_map(|v| v.last()).map(|x| x.0).max().unwrap();
    assert_eq!((h.min_time(), h.max_time()), (T0, last(&feed.written)));

    // More samples and new series, read by a refresh, the newest one included.
    feed.send(&p, 0..40, 200..260);
    feed.send(&p, 40..50, 230..260);
    h.refresh().unwrap();
    assert_same(&head_samples(&h), &feed.written, "after a refresh");
    assert_eq!(h.num_series(), 50);
    assert_eq!(h.max_time(), last(&feed.written));
    // Selection by matchers and time, label names and values as written.
    let api = [Matcher::equal("job", "api")];
    let (from, to) = (T0 + 100 * STEP, T0 + 110 * STEP);
    let sel = h.select(&api, from, to).unwrap();
    // i % 3 == 0 below 40, but not 9 and 39 (special).
    assert_eq!(sel.len(), 12);
    for s in &sel {
        assert_eq!(s.labels.get("job"), "api");
        assert!(s.chunks.iter().all(|c| c.meta.max_time >= from && c.meta.min_time <= to));
    }
    assert_eq!(h.label_values("job", &[]).unwrap(), vec!["api", "db", "web"]);
    assert_eq!(h.label_names(&[]).unwrap(), vec!["__name__", "instance", "job"]);
    assert_eq!(h.label_names(&[Matcher::equal("__name__", "special")]).unwrap(), vec!["__name__", "instance"]);
    assert_eq!(h.label_values("instance", &[Matcher::equal("__name__", "special")]).unwrap().len(), 5);
    assert_eq!(h.skipped_records().total(), 0);

    // Tombstones from the admin API.
    let (del_from, del_to) = (T0 + 20 * STEP, T0 + 40 * STEP);
    p.delete_series(r#"load{job="db"}"#, del_from, del_to);
    let deleted = |l: &Labels, t: i64| l.get("job") == "db" && (del_from..=del_to).contains(&t);
    h.refresh().unwrap();
    assert_same(&head_samples(&h), &without(&feed.written, deleted), "after delete_series");
    // The series that had samples in the range have it as deleted; those
    // that started after it have nothing (Prometheus logs an empty range).
    let db = h.select(&[Matcher::equal("job", "db")], i64::MIN, i64::MAX).unwrap();
    for s in &db {
        let had = feed.written[&s.labels].iter().any(|&(t, _)| deleted(&s.labels, t));
        assert_eq!(!s.deleted.is_empty(), had, "{}", s.labels);
    }

    // A clean stop closes the segment and flushes the chunk file; a restart
    // replays and writes a new segment.
    p.stop();
    h.refresh().unwrap();
    assert_same(&head_samples(&h), &without(&feed.written, deleted), "after the stop");
    assert!(file_chunks(&h) > 0, "the chunks Prometheus cut are in chunks_head after it stopped");
    let p = Prometheus::start(&data, &[]);
    feed.send(&p, 0..50, 260..400);
    h.refresh().unwrap();
    let want = without(&feed.written, deleted);
    assert_same(&head_samples(&h), &want, "after the restart");
    assert!(segments(&data).contains(&"00000001".to_string()), "{:?}", segments(&data));
    assert_eq!(h.stats().rebuilds, 0);
    assert_eq!(h.stats().out_of_order_samples, 0);
    assert_same(&head_samples(&Head::open(&data).unwrap()), &want, "a second open");

    // Prometheus's snapshot writes its head as a block: the head and that
    // block answer alike.
    let (status, body) = p.http("POST", "/api/v1/admin/tsdb/snapshot", &[], &[]).unwrap();
    assert_eq!(status, 200, "{body}");
    let snapshots = data.join("snapshots");
    let snapshot = std::fs::read_dir(&snapshots).unwrap().next().unwrap().unwrap().path();
    let block = blocks(&snapshot).pop().expect("a block of the head in the snapshot");
    same_as_block(&h, &block, &want);
    p.stop();

    damaged_copies(&data, tmp.path(), &want);
}

fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
    Matcher::new(op, name, value).unwrap()
}

/// Each kind of matcher, alone and combined, those that match the empty
/// string (which select series without the label), labels no series has.
fn matcher_sets() -> Vec<Vec<Matcher>> {
    use MatchOp::*;
    vec![
        vec![m(Equal, "__name__", "load")],
        vec![m(Equal, "job", "api")],
        vec![m(NotEqual, "job", "api")],
        vec![m(Equal, "job", "")],
        vec![m(Regex, "job", "a.*|db")],
        vec![m(NotRegex, "job", "a.*")],
        vec![m(Regex, "job", "|web")],
        vec![m(Regex, "job", ".+"), m(NotEqual, "job", "db")],
        vec![m(Regex, "instance", "host-1.*"), m(NotEqual, "__name__", "special")],
        vec![m(Equal, "nonexistent", "")],
        vec![m(Equal, "nonexistent", "x")],
        vec![m(NotEqual, "nonexistent", "x")],
        vec![m(Regex, "__name__", ".+")],
        vec![m(NotRegex, "job", ".*")],
    ]
}

/// The head answers as a block with the same data: the same series in the
/// same order with the same samples, the same label names and values.
fn same_as_block(h: &Head, b: &Block, want: &Samples) {
    let mut from_block = Samples::new();
    decode(b.select(&all(), i64::MIN, i64::MAX).unwrap().map(Result::unwrap), &mut from_block);
    assert_same(&from_block, want, "the snapshot block");
    for ms in matcher_sets() {
        let what = format!("{ms:?}");
        let hs = h.select(&ms, i64::MIN, i64::MAX).unwrap();
        let bs: Vec<Series> = b.select(&ms, i64::MIN, i64::MAX).unwrap().map(Result::unwrap).collect();
        let labels = |v: &[Series]| v.iter().map(|s| s.labels.clone()).collect::<Vec<_>>();
        assert_eq!(labels(&hs), labels(&bs), "{what}");
        let (mut hs_samples, mut bs_samples) = (Samples::new(), Samples::new());
        decode(hs, &mut hs_samples);
        decode(bs, &mut bs_samples);
        assert_same(&hs_samples, &bs_samples, &what);
        assert_eq!(h.label_names(&ms).unwrap(), b.label_names(&ms).unwrap(), "{what}");
        for name in ["job", "instance", "__name__", "nonexistent"] {
            assert_eq!(h.label_values(name, &ms).unwrap(), b.label_values(name, &ms).unwrap(), "{name} {what}");
        }
    }
    assert_eq!(h.label_names(&[]).unwrap(), b.label_names(&[]).unwrap());
    for name in ["job", "instance", "__name__", "nonexistent", ""] {
        assert_eq!(h.label_values(name, &[]).unwrap(), b.label_values(name, &[]).unwrap(), "{name}");
    }
}

/// Damaged copies of a data directory Prometheus wrote: errors or clean
/// stops, never a panic or a wrong sample.
fn damaged_copies(data: &Path, tmp: &Path, want: &Samples) {
    let fresh = |name: &str| -> PathBuf {
        let d = tmp.join(name);
        copy_dir(data, &d);
        d
    };
    let segs = segments(data);
    let numbered: Vec<&String> = segs.iter().filter(|s| s.bytes().all(|b| b.is_ascii_digit())).collect();
    assert!(numbered.len() >= 2, "{segs:?}");
    let sealed = format!("wal/{}", numbered[0]);
    let newest = format!("wal/{}", numbered[numbered.len() - 1]);

    // A flipped byte in the data of the first record of a sealed segment.
    let d = fresh("flipped");
    let f = d.join(&sealed);
    let mut b = std::fs::read(&f).unwrap();
    let len = u16::from_be_bytes([b[1], b[2]]) as usize;
    b[7 + len / 2] ^= 0x10;
    std::fs::write(&f, &b).unwrap();
    let e = Head::open(&d).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CorruptBlock);
    assert!(e.message().contains(&format!("{sealed}: offset 0: fragment checksum mismatch")), "{}", e.message());

    // A sealed segment cut short in the middle of a record.
    let d = fresh("cut-sealed");
    let f = d.join(&sealed);
    let b = std::fs::read(&f).unwrap();
    std::fs::write(&f, &b[..b.iter().rposition(|&x| x != 0).unwrap() - 3]).unwrap();
    let e = Head::open(&d).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CorruptBlock, "{}", e.message());

    // The newest segment as a reader can find it while Prometheus writes it:
    // cut at 80 places, records split across pages included. What it holds
    // whole is read; the rest is read by a refresh once it is all there.
    let d = fresh("cut-newest");
    let f = d.join(&newest);
    let full = std::fs::read(&f).unwrap();
    let bits = |v: &[(i64, f64)]| -> Vec<(i64, u64)> { v.iter().map(|&(t, v)| (t, v.to_bits())).collect() };
    for cut in (0..full.len()).step_by(full.len() / 80 + 1) {
        std::fs::write(&f, &full[..cut]).unwrap();
        let mut h = Head::open(&d).unwrap();
        for (l, v) in &head_samples(&h) {
            assert!(bits(&want[l]).starts_with(&bits(v)), "cut at {cut}: {l}: a prefix of what was written");
        }
        std::fs::write(&f, &full).unwrap();
        h.refresh().unwrap();
        assert_same(&head_samples(&h), want, &format!("cut at {cut}, then whole"));
    }

    // Garbage as the newest chunk file: a stop. As an older one: an error.
    let d = fresh("garbage-chunks");
    let garbage: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let mut files: Vec<u32> = std::fs::read_dir(d.join("chunks_head"))
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().unwrap().parse().ok())
        .collect();
    files.sort();
    let next = files.last().copied().unwrap_or(0) + 1;
    let mut g = vec![0x01, 0x30, 0xBC, 0x91, 1, 0, 0, 0];
    g.extend_from_slice(&garbage);
    std::fs::write(d.join("chunks_head").join(format!("{next:06}")), &g).unwrap();
    assert_same(&head_samples(&Head::open(&d).unwrap()), want, "garbage newest chunk file");
    std::fs::write(d.join("chunks_head").join(format!("{:06}", next + 1)), &g[..8]).unwrap();
    let e = Head::open(&d).unwrap_err();
    assert!(e.message().contains(&format!("chunks_head/{next:06}")), "{}", e.message());
    // Garbage in place of a whole chunk file with chunks: an error.
    if let Some(first) = files.first() {
        let d = fresh("garbage-old-chunks");
        std::fs::write(d.join("chunks_head").join(format!("{first:06}")), &garbage).unwrap();
        assert!(Head::open(&d).is_err());
    }
}

/// Blocks of `data`, opened, in time order.
fn blocks(data: &Path) -> Vec<Block> {
    let mut out: Vec<Block> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().path())
        // Not a block being written (`<ulid>.tmp-for-creation`) or deleted.
        .filter(|p| p.join("meta.json").exists() && !p.file_name().unwrap().to_string_lossy().contains('.'))
        .map(|p| Block::open(&p).unwrap())
        .collect();
    out.sort_by_key(|b| b.meta().min_time);
    out
}

#[test]
fn head_and_blocks_give_every_sample_once_across_compactions() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // Blocks of 2 minutes: the head compacts once it spans more than 3.
    let p = Prometheus::start(&data, &["--storage.tsdb.min-block-duration=2m", "--storage.tsdb.max-block-duration=2m"]);
    let mut feed = Feed::new();
    // 500 ms apart: 240 samples per 2 minutes, so that Prometheus cuts
    // chunks at 120 samples inside a block's range, and the file cut at a
    // truncation brings chunks of the head to chunks_head.
    const K: i64 = 240;
    let send = |feed: &mut Feed, from: i64, to: i64| {
        // Slices of 30 s, so that no request reaches 1 minute behind the head.
        let mut k = from;
        while k < to {
            let e = (k + 60).min(to);
            feed.send_step(&p, 0..30, k..e, 500);
            k = e;
        }
    };
    send(&mut feed, 0, K);
    let mut h = Head::open(&data).unwrap();
    assert_same(&head_samples(&h), &feed.written, "before any compaction");

    // Each round adds 2 minutes: one head compaction, then one WAL
    // truncation, which starts a segment and, from the fourth on, every
    // other time checkpoints the older two thirds of the segments but the
    // newest, and deletes them (`truncateWAL`): at rounds 4 and 6.
    let mut saw_chunk_files = false;
    let mut checked = 0;
    // Blocks and head (from the newest block's end) hold every sample once.
    let mut check = |h: &mut Head, feed: &Feed, what: &str| {
        let bs = blocks(&data);
        let mvt = bs.last().map_or(i64::MIN, |b| b.meta().max_time);
        h.set_min_valid_time(mvt);
        let mut got = Samples::new();
        for b in &bs {
            decode(b.select(&all(), i64::MIN, i64::MAX).unwrap().map(Result::unwrap), &mut got);
        }
        decode(h.select(&all(), i64::MIN, i64::MAX).unwrap(), &mut got);
        assert_same(&got, &feed.written, what);
        assert!(h.min_time() >= mvt, "{what}: head min time {} before {mvt}", h.min_time());
        checked += 1;
    };
    for round in 1..=6 {
        // Not read from round 4 to the checkpoint of round 6: then the
        // segment the head was reading (3) is gone, and the head is rebuilt
        // from the checkpoint.
        let read = !(round == 4 || round == 5);
        let n_blocks = blocks(&data).len();
        send(&mut feed, round * K, round * K + K / 2);
        if read && round != 6 {
            // The first chunk cut in a round cuts a new chunk file, and the
            // previous one, flushed, holds chunks that are still in the head.
            h.refresh().unwrap();
            saw_chunk_files |= file_chunks(&h) > 0;
            check(&mut h, &feed, &format!("round {round}, half way"));
        }
        send(&mut feed, round * K + K / 2, (round + 1) * K);
        wait_for(30, "a head compaction", || blocks(&data).len() > n_blocks);
        let newest = format!("{round:08}");
        wait_for(30, "a WAL truncation", || segments(&data).contains(&newest));
        if round == 4 || round == 6 {
            let cp = format!("checkpoint.{:08}", round - 3);
            let gone = format!("{:08}", round - 3);
            wait_for(30, "a checkpoint", || {
                let s = segments(&data);
                s.contains(&cp) && !s.contains(&gone)
            });
        }
        if read {
            h.refresh().unwrap();
            check(&mut h, &feed, &format!("round {round}"));
        }
        assert_eq!(h.stats().rebuilds, u64::from(round == 6), "round {round}: {:?}", segments(&data));
    }
    assert_eq!(checked, 7);
    assert!(saw_chunk_files, "no chunk from chunks_head was read");

    // A fresh open with the newest block's end reads the same head.
    let bs = blocks(&data);
    let mvt = bs.last().unwrap().meta().max_time;
    let mut fresh = Head::open(&data).unwrap();
    fresh.set_min_valid_time(mvt);
    assert_same(&head_samples(&fresh), &head_samples(&h), "a fresh open");
    eprintln!("stats after compactions: {:?}; WAL: {:?}", h.stats(), segments(&data));
    p.stop();
}

impl Feed {
    /// Like [`Feed::send`] with another step.
    fn send_step(&mut self, p: &Prometheus, is: std::ops::Range<usize>, ks: std::ops::Range<i64>, step: i64) {
        let mut batch = Vec::new();
        for i in is {
            let l = Feed::labels(i);
            let samples: Vec<(i64, f64)> =
                ks.clone().map(|k| (T0 + k * step + (i as i64 * 7) % 100, (self.rng.unit() * 100.0).round())).collect();
            self.written.entry(l.clone()).or_default().extend(&samples);
            batch.push((l, samples));
        }
        p.remote_write(&batch);
    }
}

#[test]
fn heap_per_series_of_a_real_head() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let p = Prometheus::start(&data, &[]);
    // 20,000 series of 6 labels, as a fleet's: 2 of them unique per series.
    let n = 20_000;
    let mut written = Samples::new();
    let mut batch = Vec::new();
    for i in 0..n {
        let (instance, pod) = (format!("10.0.{}.{}:9100", i / 250, i % 250), format!("api-{i:05}-x7k2p"));
        let l = Labels::from_pairs([
            ("__name__", ["http_requests_total", "http_request_duration_seconds_count"][i % 2]),
            ("code", ["200", "404", "500"][i % 3]),
            ("instance", instance.as_str()),
            ("job", ["api", "web", "db", "cache"][i % 4]),
            ("namespace", "prod"),
            ("pod", pod.as_str()),
        ]);
        let samples = vec![(T0, i as f64), (T0 + STEP, i as f64 + 0.5)];
        written.insert(l.clone(), samples.clone());
        batch.push((l, samples));
        if batch.len() == 2000 {
            p.remote_write(&batch);
            batch.clear();
        }
    }
    let h = Head::open(&data).unwrap();
    p.stop();
    assert_same(&head_samples(&h), &written, "20,000 series");
    let u = h.heap_usage();
    let per_series = u.series_state / n;
    eprintln!(
        "{n} series: {per_series} bytes of state per series; label strings {} bytes ({} per series), \
         in-memory chunks {} bytes ({} per series)",
        u.label_strings,
        u.label_strings / n,
        u.chunk_bytes,
        u.chunk_bytes / n
    );
    assert!(per_series < 300, "{per_series} bytes of state per series: {u:?}");
}

#[test]
fn head_keeps_up_with_a_prometheus_being_written_and_compacted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let p = Prometheus::start(&data, &["--storage.tsdb.min-block-duration=2m", "--storage.tsdb.max-block-duration=2m"]);
    // 40 series, 500 ms apart, sent 30 s at a time: requests of 2,400
    // samples with random values, so that records span WAL pages and the
    // head is read while their first fragments are on disk and their last
    // ones are not. 24 requests: 12 minutes, several compactions.
    let mut rng = Rng::new(5);
    let mut planned: Vec<Request> = Vec::new();
    for r in 0..24i64 {
        let batch = (0..40)
            .map(|i| {
                let samples = (r * 60..(r + 1) * 60).map(|k| (T0 + k * 500 + i as i64, rng.unit() * 1e6)).collect();
                (Feed::labels(i), samples)
            })
            .collect();
        planned.push(batch);
    }
    let mut all_planned = Samples::new();
    for batch in &planned {
        for (l, s) in batch {
            all_planned.entry(l.clone()).or_default().extend(s);
        }
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut h = Head::open(&data).unwrap();
    let mut refreshes = 0;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for batch in &planned {
                p.remote_write(batch);
                std::thread::sleep(std::time::Duration::from_millis(30));
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        // Until the writer is done: each state read is, for every series,
        // the samples planned from the newest block's end on, up to some
        // point, with nothing missing and nothing twice.
        loop {
            let finished = done.load(std::sync::atomic::Ordering::SeqCst);
            h.refresh().unwrap();
            refreshes += 1;
            h.set_min_valid_time(blocks(&data).last().map_or(i64::MIN, |b| b.meta().max_time));
            // A listing made while a block is renamed into place can miss it;
            // the minimum valid time never goes back.
            let mvt = h.min_valid_time();
            for (l, got) in head_samples(&h) {
                let want: Vec<(i64, u64)> =
                    all_planned[&l].iter().filter(|&&(t, _)| t >= mvt).map(|&(t, v)| (t, v.to_bits())).collect();
                let got: Vec<(i64, u64)> = got.iter().map(|&(t, v)| (t, v.to_bits())).collect();
                let at = got.iter().zip(&want).position(|(a, b)| a != b);
                assert!(
                    want.starts_with(&got),
                    "refresh {refreshes}: {l}: {} samples not a prefix of the {} planned from {mvt}: first \
                     difference at {at:?}: got {:?}, want {:?}; {:?}",
                    got.len(),
                    want.len(),
                    at.map(|i| got[i]).or(got.get(want.len()).copied()),
                    at.map(|i| want[i]),
                    h
                );
            }
            if finished {
                break;
            }
        }
    });
    // The last state, once Prometheus has stopped (a compaction could be
    // renaming a block into place): blocks and head hold every sample once.
    p.stop();
    h.refresh().unwrap();
    let bs = blocks(&data);
    h.set_min_valid_time(bs.last().map_or(i64::MIN, |b| b.meta().max_time));
    let mut got = Samples::new();
    for b in &bs {
        decode(b.select(&all(), i64::MIN, i64::MAX).unwrap().map(Result::unwrap), &mut got);
    }
    decode(h.select(&all(), i64::MIN, i64::MAX).unwrap(), &mut got);
    assert_same(&got, &all_planned, "blocks and head after the writes");
    eprintln!("{refreshes} refreshes while writing; {} blocks; {:?}; WAL {:?}", bs.len(), h.stats(), segments(&data));
    assert!(bs.len() >= 3, "{} blocks", bs.len());
}
