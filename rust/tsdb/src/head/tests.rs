//! The head over files written here as Prometheus writes them: replay,
//! incremental reads, chunks that replace in-memory samples, duplicate
//! series references, tombstones, the minimum valid time, rebuilds and damage.
//! The tests against a real Prometheus are in `tests/prometheus_head.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use thanos_core::chunkenc;
use thanos_core::labels::{Labels, MatchOp, Matcher};

use super::*;
use crate::head_chunks::{write as chunk_write, FILE_HEADER_LEN};
use crate::record::{self, encode};
use crate::wal;
use crate::wal::tests::SegmentWriter;

type Samples = BTreeMap<Labels, Vec<(i64, f64)>>;

fn all() -> Vec<Matcher> {
    vec![Matcher::new(MatchOp::Regex, "a", ".+").unwrap()]
}

/// Every sample the head returns, deleted ones and those before the
/// minimum valid time left out, and checked to be in time order.
fn samples(h: &Head) -> Samples {
    let mut out = Samples::new();
    for s in h.select(&all(), i64::MIN, i64::MAX).unwrap() {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        for c in &s.chunks {
            chunkenc::decode_into(&c.data, &mut ts, &mut vs).unwrap();
        }
        assert!(ts.windows(2).all(|w| w[0] < w[1]), "{}: {ts:?}", s.labels);
        let kept = ts.into_iter().zip(vs).filter(|&(t, _)| !s.deleted.contains(t) && t >= h.min_valid_time());
        out.insert(s.labels.clone(), kept.collect());
    }
    out
}

fn lab(v: &str) -> Labels {
    Labels::from_pairs([("a", v)])
}

fn series_of(t: impl Iterator<Item = i64>) -> Vec<(i64, f64)> {
    t.map(|t| (t, t as f64 * 0.5)).collect()
}

struct Dir {
    tmp: tempfile::TempDir,
    seg: SegmentWriter,
    seg_index: u32,
}

impl Dir {
    fn new() -> Dir {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("wal")).unwrap();
        std::fs::create_dir_all(tmp.path().join("chunks_head")).unwrap();
        Dir { tmp, seg: SegmentWriter::default(), seg_index: 0 }
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    fn log(&mut self, rec: Vec<u8>) {
        self.seg.log(&rec, true);
    }

    /// Writes the segment being built, or its first `n` bytes.
    fn flush(&self, n: Option<usize>) {
        let b = &self.seg.bytes[..n.unwrap_or(self.seg.bytes.len())];
        std::fs::write(self.path().join("wal").join(wal::segment_name(self.seg_index)), b).unwrap();
    }

    /// Closes the segment and starts the next, as Prometheus's rotation does.
    fn next_segment(&mut self) {
        self.seg.close_page();
        self.flush(None);
        self.seg = SegmentWriter::default();
        self.seg_index += 1;
        self.flush(None);
    }

    fn samples(&mut self, s: &[(u64, i64, f64)]) {
        self.log(encode::samples(s));
    }

    /// A chunk file `seq` holding, for each series ref, a chunk of `samples`.
    fn chunk_file(&self, seq: u32, chunks: &[(u64, &[(i64, f64)])]) {
        let mut b = chunk_write::file(128 * 1024);
        let mut at = FILE_HEADER_LEN;
        for (r, s) in chunks {
            let ts: Vec<i64> = s.iter().map(|x| x.0).collect();
            let vs: Vec<f64> = s.iter().map(|x| x.1).collect();
            let data = chunkenc::encode(&ts, &vs).unwrap();
            at = chunk_write::record(&mut b, at, *r, ts[0], ts[ts.len() - 1], 1, &data);
        }
        std::fs::write(self.path().join("chunks_head").join(format!("{seq:06}")), b).unwrap();
    }
}

fn refs_samples(r: u64, s: &[(i64, f64)]) -> Vec<(u64, i64, f64)> {
    s.iter().map(|&(t, v)| (r, t, v)).collect()
}

#[test]
fn a_directory_without_head_files_is_an_empty_head() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = Head::open(tmp.path()).unwrap();
    assert_eq!((h.num_series(), h.min_time(), h.max_time()), (0, i64::MAX, i64::MIN));
    assert!(h.select(&all(), i64::MIN, i64::MAX).unwrap().is_empty());
    assert!(h.label_names(&[]).unwrap().is_empty());
    h.refresh().unwrap();
    // Prometheus starts: its first segment appears.
    let mut d = Dir { tmp, seg: SegmentWriter::default(), seg_index: 0 };
    std::fs::create_dir_all(d.path().join("wal")).unwrap();
    d.log(encode::series(&[(1, &[("a", "1")])]));
    d.samples(&[(1, 5, 1.0)]);
    d.flush(None);
    h.refresh().unwrap();
    assert_eq!(samples(&h)[&lab("1")], vec![(5, 1.0)]);
}

#[test]
fn a_head_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Head>();
}

#[test]
fn replays_then_follows_the_wal_and_the_chunk_files() {
    let mut d = Dir::new();
    let one = series_of((0..200).map(|i| i * 10));
    let two = series_of((0..50).map(|i| i * 10));
    d.log(encode::series(&[(1, &[("a", "1")]), (2, &[("a", "2")])]));
    d.samples(&refs_samples(1, &one));
    d.samples(&refs_samples(2, &two));
    d.flush(None);
    // The first 120 samples of series 1 are in a chunk file too.
    d.chunk_file(1, &[(1, &one[..120])]);

    let mut h = Head::open(d.path()).unwrap();
    assert_eq!(h.num_series(), 2);
    assert_eq!((h.min_time(), h.max_time()), (0, 1990));
    let want = Samples::from([(lab("1"), one.clone()), (lab("2"), two.clone())]);
    assert_eq!(samples(&h), want);
    let s1 = &h.select(&[Matcher::equal("a", "1")], 0, 5000).unwrap()[0];
    assert_eq!(s1.chunks[0].meta.chunk_ref, head_chunks::chunk_ref(1, 8));
    assert!(s1.chunks[1].meta.chunk_ref & MEMORY_CHUNK_REF != 0);
    // Only chunks that overlap the range.
    assert_eq!(h.select(&[Matcher::equal("a", "1")], 1300, 1400).unwrap()[0].chunks.len(), 1);
    assert!(h.select(&[Matcher::equal("a", "2")], 600, 700).unwrap().is_empty());

    // More samples, of which the reader first sees half a record.
    let more = series_of((200..400).map(|i| i * 10));
    let before = d.seg.bytes.len();
    d.samples(&refs_samples(1, &more));
    assert!(d.seg.bytes.len() - before > 1000, "the record must be long enough to cut");
    d.flush(Some(before + 1000));
    h.refresh().unwrap();
    assert_eq!(samples(&h), want);
    d.flush(None);
    h.refresh().unwrap();
    let mut one_all = one.clone();
    one_all.extend(&more);
    assert_eq!(samples(&h)[&lab("1")], one_all);
    assert_eq!(h.max_time(), 3990);

    // A chunk file with the next chunk of series 1: its in-memory samples go.
    d.chunk_file(2, &[(1, &one_all[120..240])]);
    h.refresh().unwrap();
    assert_eq!(samples(&h)[&lab("1")], one_all);
    let s1 = &h.select(&[Matcher::equal("a", "1")], i64::MIN, i64::MAX).unwrap()[0];
    assert_eq!(s1.chunks.iter().filter(|c| c.meta.chunk_ref & MEMORY_CHUNK_REF == 0).count(), 2);
    let in_memory: usize = s1
        .chunks
        .iter()
        .filter(|c| c.meta.chunk_ref & MEMORY_CHUNK_REF != 0)
        .map(|c| chunkenc::num_samples(&c.data).unwrap())
        .sum();
    assert_eq!(in_memory, 400 - 240);

    // A new segment: a series under a second reference, a tombstone, and
    // samples that are not newer than what series 1 holds (dropped).
    d.next_segment();
    d.log(encode::series(&[(7, &[("a", "1")]), (8, &[("a", "3")])]));
    d.samples(&[(7, 4000, 1.0), (1, 3000, 9.0), (8, 10, 2.0), (99, 5, 5.0)]);
    d.log(encode::tombstones(&[(2, 100, 200)]));
    d.log(vec![record::METADATA, 1, 2, 3]);
    d.flush(None);
    h.refresh().unwrap();
    let got = samples(&h);
    one_all.push((4000, 1.0));
    assert_eq!(got[&lab("1")], one_all);
    assert_eq!(got[&lab("2")], two.iter().copied().filter(|&(t, _)| !(100..=200).contains(&t)).collect::<Vec<_>>());
    assert_eq!(got[&lab("3")], vec![(10, 2.0)]);
    assert_eq!(h.num_series(), 3);
    let st = h.stats();
    assert_eq!((st.out_of_order_samples, st.unknown_refs, st.skipped_records.metadata), (1, 1, 1));
    assert_eq!(h.label_values("a", &[]).unwrap(), vec!["1", "2", "3"]);
    assert_eq!(h.label_names(&[Matcher::equal("a", "3")]).unwrap(), vec!["a"]);

    // A second open reads the same.
    assert_eq!(samples(&Head::open(d.path()).unwrap()), got);

    // The minimum valid time: series 2 and 3 end before it and go.
    h.set_min_valid_time(2500);
    assert_eq!(h.num_series(), 1);
    assert_eq!(h.label_values("a", &[]).unwrap(), vec!["1"]);
    let want1: Vec<(i64, f64)> = one_all.iter().copied().filter(|&(t, _)| t >= 2500).collect();
    assert_eq!(samples(&h)[&lab("1")], want1);
    assert_eq!(h.min_time(), 2500);
    // A sample for series 3 means Prometheus still has it: read again.
    d.samples(&[(8, 5000, 3.0)]);
    d.flush(None);
    h.refresh().unwrap();
    assert_eq!(h.stats().rebuilds, 1);
    assert_eq!(samples(&h)[&lab("3")], vec![(5000, 3.0)]);
    assert_eq!(samples(&h)[&lab("1")], want1);
}

#[test]
fn a_checkpoint_that_replaces_the_segment_being_read_rebuilds_the_head() {
    let mut d = Dir::new();
    d.log(encode::series(&[(1, &[("a", "1")])]));
    d.samples(&[(1, 10, 1.0), (1, 20, 2.0)]);
    d.flush(None);
    let mut h = Head::open(d.path()).unwrap();
    assert_eq!(samples(&h)[&lab("1")], vec![(10, 1.0), (20, 2.0)]);

    // Unread records in segment 0, then a checkpoint of it and its deletion.
    d.samples(&[(1, 30, 3.0)]);
    d.next_segment();
    d.samples(&[(1, 40, 4.0)]);
    d.flush(None);
    let mut cp = SegmentWriter::default();
    cp.log(&encode::series(&[(1, &[("a", "1")])]), false);
    cp.log(&encode::samples(&[(1, 20, 2.0), (1, 30, 3.0)]), false);
    cp.close_page();
    let cp_dir = d.path().join("wal").join("checkpoint.00000000");
    std::fs::create_dir(&cp_dir).unwrap();
    std::fs::write(cp_dir.join("00000000"), &cp.bytes).unwrap();
    std::fs::remove_file(d.path().join("wal").join("00000000")).unwrap();

    h.refresh().unwrap();
    assert_eq!(h.stats().rebuilds, 1);
    assert_eq!(samples(&h)[&lab("1")], vec![(20, 2.0), (30, 3.0), (40, 4.0)]);
    d.samples(&[(1, 50, 5.0)]);
    d.flush(None);
    h.refresh().unwrap();
    assert_eq!(samples(&h)[&lab("1")].len(), 4);
    assert_eq!(h.stats().rebuilds, 1);
}

#[test]
fn damage_is_an_error_that_leaves_the_head_as_it_was() {
    let mut d = Dir::new();
    d.log(encode::series(&[(1, &[("a", "1")])]));
    d.samples(&refs_samples(1, &series_of(0..100)));
    d.flush(None);
    let mut h = Head::open(d.path()).unwrap();
    let before = samples(&h);

    // A flipped byte in a segment that a newer one follows.
    d.samples(&refs_samples(1, &series_of(100..200)));
    let at = d.seg.bytes.len() - 10;
    d.next_segment();
    let seg0 = d.path().join("wal").join("00000000");
    let mut b = std::fs::read(&seg0).unwrap();
    b[at] ^= 0x40;
    std::fs::write(&seg0, &b).unwrap();
    let e = h.refresh().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CorruptBlock);
    assert!(e.message().contains("wal/00000000: offset "), "{}", e.message());
    assert_eq!(samples(&h), before);
    assert!(Head::open(d.path()).is_err());

    // Garbage in a finished chunk file: an error; in the newest, a stop.
    b[at] ^= 0x40;
    std::fs::write(&seg0, &b).unwrap();
    h.refresh().unwrap();
    let good = samples(&h);
    let garbage: Vec<u8> = (0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut f = chunk_write::file(0);
    f.extend_from_slice(&garbage);
    std::fs::write(d.path().join("chunks_head").join("000001"), &f).unwrap();
    h.refresh().unwrap();
    assert_eq!(samples(&h), good);
    d.chunk_file(2, &[(1, &series_of(0..10))]);
    let e = h.refresh().unwrap_err();
    assert!(e.message().contains("chunks_head/000001: offset 8"), "{}", e.message());
    assert_eq!(samples(&h), good);
    // A truncated newest segment is where reading stops.
    std::fs::remove_file(d.path().join("chunks_head").join("000001")).unwrap();
    d.samples(&refs_samples(1, &series_of(200..300)));
    d.flush(Some(d.seg.bytes.len() - 3));
    h.refresh().unwrap();
    assert_eq!(samples(&h), good);
}

#[test]
fn heap_per_series_is_small() {
    let mut d = Dir::new();
    let n = 2000u64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let series: Vec<(u64, Vec<(String, String)>)> = chunk
            .iter()
            .map(|&i| {
                let l = vec![
                    ("__name__".to_string(), "http_requests_total".to_string()),
                    ("a".to_string(), format!("{}", i % 7)),
                    ("instance".to_string(), format!("host-{i}:9100")),
                    ("job".to_string(), "api".to_string()),
                    ("pod".to_string(), format!("pod-{i}")),
                ];
                (i + 1, l)
            })
            .collect();
        let borrowed: Vec<Vec<(&str, &str)>> =
            series.iter().map(|(_, l)| l.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()).collect();
        let recs: Vec<(u64, &[(&str, &str)])> = series.iter().zip(&borrowed).map(|((r, _), l)| (*r, &l[..])).collect();
        d.log(encode::series(&recs));
    }
    d.flush(None);
    let h = Head::open(d.path()).unwrap();
    assert_eq!(h.num_series(), n as usize);
    let u = h.heap_usage();
    let per_series = u.series_state / n as usize;
    eprintln!("{per_series} bytes of state per series: {u:?}");
    assert!(per_series < 300, "{per_series} bytes per series: {u:?}");
}

#[test]
fn ids_are_compacted_when_most_series_are_gone() {
    let mut d = Dir::new();
    let n = 3000u64;
    let names: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let labels: Vec<[(&str, &str); 1]> = names.iter().map(|v| [("a", v.as_str())]).collect();
    let recs: Vec<(u64, &[(&str, &str)])> = labels.iter().enumerate().map(|(i, l)| (i as u64 + 1, &l[..])).collect();
    d.log(encode::series(&recs));
    // Series 1..=2500 end at 100, the others go on.
    let old: Vec<(u64, i64, f64)> = (1..=2500).map(|r| (r, 100, r as f64)).collect();
    d.samples(&old);
    let new: Vec<(u64, i64, f64)> = (2501..=n).map(|r| (r, 1000, r as f64)).collect();
    d.samples(&new);
    d.flush(None);
    let mut h = Head::open(d.path()).unwrap();
    assert_eq!(h.num_series(), 3000);
    h.set_min_valid_time(500);
    assert_eq!(h.num_series(), 500);
    assert_eq!(h.series.len(), 500, "IDs renumbered");
    // The renumbered series get their samples and answer their matchers.
    let more: Vec<(u64, i64, f64)> = (2501..=n).map(|r| (r, 2000, -(r as f64))).collect();
    d.samples(&more);
    d.flush(None);
    h.refresh().unwrap();
    let got = samples(&h);
    assert_eq!(got.len(), 500);
    for r in [2501u64, 2777, 3000] {
        let v = (r - 1).to_string();
        assert_eq!(got[&lab(&v)], vec![(1000, r as f64), (2000, -(r as f64))]);
        let sel = h.select(&[Matcher::equal("a", v.as_str())], 0, 5000).unwrap();
        assert_eq!(sel.len(), 1);
        assert_eq!(sel[0].labels, lab(&v));
    }
    assert_eq!(h.label_values("a", &[]).unwrap().len(), 500);
    assert_eq!(h.stats().rebuilds, 0);
}
