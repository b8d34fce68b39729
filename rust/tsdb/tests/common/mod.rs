//! What the integration tests share: a deterministic OpenMetrics data set,
//! Prometheus 2.42's `promtool` to turn it into blocks, and brute-force
//! readers to compare the selection against.

#![allow(dead_code)] // Each test binary uses a part.

pub mod prometheus;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use thanos_core::labels::Labels;
use thanos_tsdb::Block;

/// The samples of each series, as written: timestamps in ms, values as f64.
pub type Expected = BTreeMap<Labels, Vec<(i64, f64)>>;

/// `math.NaN()` in Go, which `strconv.ParseFloat("NaN")` returns and the
/// OpenMetrics parser stores: not Rust's `f64::NAN` (0x7FF8000000000000).
pub const GO_NAN_BITS: u64 = 0x7FF8_0000_0000_0001;

/// A small xorshift generator: the data must be the same on every run, and a
/// dependency for it is not worth it.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An OpenMetrics text being written, with the samples it holds.
#[derive(Default)]
pub struct Dataset {
    /// Family name -> (type, sample lines).
    families: BTreeMap<String, (String, Vec<String>)>,
    pub expected: Expected,
}

impl Dataset {
    /// Adds one series' samples (time ascending) under `family` of `kind`.
    pub fn add(&mut self, family: &str, kind: &str, name: &str, labels: &[(&str, &str)], samples: &[(i64, f64)]) {
        let rendered: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        let entry = self.families.entry(family.to_string()).or_insert_with(|| (kind.to_string(), Vec::new()));
        for &(t, v) in samples {
            entry.1.push(format!("{name}{{{}}} {} {}", rendered.join(","), format_value(v), format_ts(t)));
        }
        let mut pairs: Vec<(&str, &str)> = labels.to_vec();
        pairs.push(("__name__", name));
        let key = Labels::from_pairs(pairs);
        assert!(self.expected.insert(key, samples.to_vec()).is_none(), "series added twice");
    }

    pub fn openmetrics(&self) -> String {
        let mut out = String::new();
        for (family, (kind, lines)) in &self.families {
            out.push_str(&format!("# TYPE {family} {kind}\n"));
            for l in lines {
                out.push_str(l);
                out.push('\n');
            }
        }
        out.push_str("# EOF\n");
        out
    }
}

/// OpenMetrics label value escaping: backslash, double quote, newline.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A value as OpenMetrics spells it; Rust's shortest round-trip form parses to
/// the same bits with Go's `strconv.ParseFloat`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:?}")
    }
}

/// A timestamp in seconds with 3 decimals.
pub fn format_ts(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// The millisecond timestamp Prometheus's OpenMetrics parser reads from
/// `format_ts(ms)`: it parses seconds as a float and truncates `ts * 1000`.
pub fn parsed_ts(ms: i64) -> i64 {
    (format_ts(ms).parse::<f64>().unwrap() * 1000.0) as i64
}

/// A timestamp near `ms` that survives the parser's float arithmetic intact.
pub fn exact_ts(mut ms: i64) -> i64 {
    while parsed_ts(ms) != ms {
        ms += 1;
    }
    ms
}

/// Runs Prometheus 2.42's `promtool tsdb create-blocks-from openmetrics`, the
/// invocation of `tests/support/prometheus.py` (`backfill_file`). promtool is
/// required: scripts/setup.sh installs it, and a missing one fails the test.
pub fn promtool_backfill(text: &str, dir: &Path) -> Vec<PathBuf> {
    let source = dir.join("input.om");
    let data = dir.join("data");
    std::fs::write(&source, text).unwrap();
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&source)
        .arg(&data)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run promtool ({e}): Prometheus 2.42's promtool must be on PATH (scripts/setup.sh installs it)"
            )
        });
    assert!(
        out.status.success(),
        "promtool failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut blocks: Vec<PathBuf> =
        std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("meta.json").exists()).collect();
    blocks.sort();
    blocks
}

/// Opens the blocks in time order.
pub fn open_blocks(dirs: &[PathBuf]) -> Vec<Block> {
    let mut blocks: Vec<Block> = dirs.iter().map(|d| Block::open(d).unwrap()).collect();
    blocks.sort_by_key(|b| b.meta().min_time);
    blocks
}

/// Copies a block directory (files and the `chunks/` folder).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A small data set: `n` gauges over `hours` at one sample a minute.
pub fn small_dataset(n: usize, hours: i64) -> Dataset {
    let mut rng = Rng::new(3);
    let mut ds = Dataset::default();
    let start = 1_700_000_000_000;
    for i in 0..n {
        let samples: Vec<(i64, f64)> =
            (0..hours * 60).map(|k| (start + k * 60_000 + rng.below(1000) as i64, rng.unit() * 100.0)).collect();
        let instance = format!("host-{i}");
        let job = if i % 2 == 0 { "even" } else { "odd" };
        ds.add("load", "gauge", "load", &[("instance", instance.as_str()), ("job", job)], &samples);
    }
    ds
}

/// A bucket laid out in a local directory, read through [`ObjectReader`] as
/// a store gateway reads object storage; counts the reads it serves.
pub struct DirBucket {
    pub root: PathBuf,
    pub reads: std::sync::atomic::AtomicUsize,
}

impl DirBucket {
    pub fn new(root: &Path) -> Self {
        DirBucket { root: root.to_path_buf(), reads: Default::default() }
    }

    fn io(&self, name: &str, e: std::io::Error) -> thanos_core::Error {
        thanos_core::Error::new(thanos_core::ErrorKind::Unavailable, format!("{name}: {e}"))
    }
}

impl thanos_tsdb::bucket::ObjectReader for DirBucket {
    fn get(&self, name: &str) -> thanos_core::Result<bytes::Bytes> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::fs::read(self.root.join(name)).map(Into::into).map_err(|e| self.io(name, e))
    }

    fn get_ranges(&self, name: &str, ranges: &[std::ops::Range<u64>]) -> thanos_core::Result<Vec<bytes::Bytes>> {
        use std::os::unix::fs::FileExt;
        self.reads.fetch_add(ranges.len(), std::sync::atomic::Ordering::Relaxed);
        let file = std::fs::File::open(self.root.join(name)).map_err(|e| self.io(name, e))?;
        ranges
            .iter()
            .map(|r| {
                let mut buf = vec![0; (r.end - r.start) as usize];
                file.read_exact_at(&mut buf, r.start).map_err(|e| self.io(name, e))?;
                Ok(buf.into())
            })
            .collect()
    }

    fn size(&self, name: &str) -> thanos_core::Result<u64> {
        std::fs::metadata(self.root.join(name)).map(|m| m.len()).map_err(|e| self.io(name, e))
    }
}

/// The block in `dir` (a bucket's `<ULID>/` folder) as a store gateway opens
/// it, its header kept under `cache`.
pub fn open_bucket_block(
    bucket: std::sync::Arc<DirBucket>,
    dir: &Path,
    cache: &Path,
) -> thanos_core::Result<thanos_tsdb::bucket::BucketBlock> {
    use thanos_tsdb::bucket::block::Segment;
    use thanos_tsdb::bucket::ObjectReader;
    let ulid = dir.file_name().unwrap().to_str().unwrap().to_string();
    let meta = thanos_tsdb::BlockMeta::read(dir).unwrap();
    let index_size = bucket.size(&format!("{ulid}/index")).unwrap();
    let mut names: Vec<String> =
        std::fs::read_dir(dir.join("chunks")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let segments = names
        .into_iter()
        .map(|n| {
            let name = format!("{ulid}/chunks/{n}");
            Segment { size: bucket.size(&name).unwrap(), name }
        })
        .collect();
    thanos_tsdb::bucket::BucketBlock::open(bucket, meta, index_size, segments, &cache.join(&ulid))
}
