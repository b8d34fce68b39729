//! The fuzzing loop of one target: replay the seed corpus, then mutate corpus
//! inputs or generate fresh ones until the time is up, keeping the inputs that
//! reach new coverage and saving those that panic.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::coverage::{self, Seen};
use crate::guard;
use crate::mutate::mutate;
use crate::rng::Rng;
use crate::targets::Target;

pub struct Options {
    pub seconds: f64,
    /// Holds one folder of seeds per target.
    pub corpus: PathBuf,
    /// Crashing and slow inputs go to one folder per target in here.
    pub crashes: PathBuf,
    /// Where to write the inputs kept for new coverage, to grow the corpus.
    pub save: Option<PathBuf>,
    pub seed: u64,
}

/// An input slower than this is saved as `slow-*` and counted; it is not a
/// crash, but the evaluator's inputs run under a 100 ms timeout and the
/// decoders' take microseconds, so it means a loop that ignores a bound.
const SLOW: Duration = Duration::from_secs(1);

/// Files written per kind of failure and target: enough to compare a few,
/// not a disk filled by one bug hit a million times.
const MAX_SAVED: usize = 20;

pub struct Report {
    pub name: &'static str,
    pub execs: u64,
    pub seeds: usize,
    pub corpus: usize,
    pub covered: usize,
    /// Inputs that panicked, and the distinct places they panicked at.
    pub crashes: u64,
    pub unique_crashes: usize,
    pub slow: u64,
    pub elapsed: Duration,
}

impl Report {
    pub fn line(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        let coverage = if coverage::edges() == 0 {
            "unguided".to_string()
        } else {
            format!("edges {}/{}", self.covered, coverage::edges())
        };
        let places = if self.crashes > 0 { format!(" (at {} places)", self.unique_crashes) } else { String::new() };
        format!(
            "{:<14} {:>10} inputs in {:>5.1} s ({:>6.0}/s)  corpus {} -> {}  {}  slow {}  crashes {}{places}",
            self.name,
            self.execs,
            secs,
            self.execs as f64 / secs.max(1e-9),
            self.seeds,
            self.corpus,
            coverage,
            self.slow,
            self.crashes,
        )
    }
}

/// The last panic's place and message, recorded by the hook [`quiet_panics`]
/// installs instead of printing.
static LAST_PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);

/// Replaces the panic hook: a million panicking inputs would print a million
/// messages. The first of each place is printed by the loop.
pub fn quiet_panics() {
    panic::set_hook(Box::new(|info| {
        let place = info.location().map_or_else(|| "unknown".to_string(), |l| format!("{}:{}", l.file(), l.line()));
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some((place, msg));
    }));
}

struct Run<'a> {
    target: &'a Target,
    dir: PathBuf,
    seen: Seen,
    report: Report,
    places: HashSet<String>,
    saved_slow: usize,
}

impl Run<'_> {
    /// Runs one input; true when it reached new coverage without failing.
    fn exec(&mut self, input: &[u8]) -> bool {
        self.seen.reset();
        let started = Instant::now();
        let result = {
            let _running = guard::running(input);
            panic::catch_unwind(AssertUnwindSafe(|| (self.target.run)(input)))
        };
        let took = started.elapsed();
        self.report.execs += 1;
        if result.is_err() {
            self.crash(input);
            return false;
        }
        if took > SLOW {
            self.report.slow += 1;
            if self.saved_slow < MAX_SAVED {
                self.saved_slow += 1;
                let path = self.save("slow", input);
                eprintln!("{}: an input took {:.1} s: {}", self.target.name, took.as_secs_f64(), path.display());
            }
        }
        self.seen.merge()
    }

    fn crash(&mut self, input: &[u8]) {
        self.report.crashes += 1;
        let (place, msg) = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
        if self.places.len() < MAX_SAVED && self.places.insert(place.clone()) {
            let path = self.save("crash", input);
            eprintln!("{}: panic at {place}: {msg}\n    input: {}", self.target.name, path.display());
        }
        self.report.unique_crashes = self.places.len();
    }

    fn save(&self, kind: &str, input: &[u8]) -> PathBuf {
        let path = self.dir.join(format!("{kind}-{:016x}", fnv(input)));
        if let Err(e) = std::fs::create_dir_all(&self.dir).and_then(|()| std::fs::write(&path, input)) {
            eprintln!("cannot save {}: {e}", path.display());
        }
        path
    }
}

pub fn fuzz(target: &Target, opts: &Options) -> Report {
    let dir = opts.crashes.join(target.name);
    // The abort handler can only open a file, not create its folder.
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
    }
    guard::set_abort_path(&dir.join("abort"));
    let report = Report {
        name: target.name,
        execs: 0,
        seeds: 0,
        corpus: 0,
        covered: 0,
        crashes: 0,
        unique_crashes: 0,
        slow: 0,
        elapsed: Duration::ZERO,
    };
    let mut run = Run { target, dir, seen: Seen::new(), report, places: HashSet::new(), saved_slow: 0 };
    let started = Instant::now();
    let mut rng = Rng::new(opts.seed);

    let mut corpus = read_corpus(&opts.corpus.join(target.name));
    run.report.seeds = corpus.len();
    for input in &corpus {
        run.exec(input);
    }
    if corpus.is_empty() {
        corpus.push((target.generate)(&mut rng));
    }

    let deadline = started + Duration::from_secs_f64(opts.seconds);
    let mut input = Vec::new();
    while Instant::now() < deadline {
        // The clock is read once per batch: a decoder input runs in a few
        // microseconds, about what reading the clock costs.
        for _ in 0..32 {
            input.clear();
            if rng.one_in(8) {
                input.extend((target.generate)(&mut rng));
            } else {
                input.extend_from_slice(&corpus[rng.below(corpus.len())]);
                let other = corpus[rng.below(corpus.len())].clone();
                mutate(&mut rng, &mut input, &other, target.dictionary, target.max_len);
            }
            if run.exec(&input) {
                if let Some(save) = &opts.save {
                    let dir = save.join(target.name);
                    let path = dir.join(format!("{:016x}", fnv(&input)));
                    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &input)) {
                        eprintln!("cannot save {}: {e}", path.display());
                    }
                }
                corpus.push(input.clone());
            }
        }
    }
    run.report.corpus = corpus.len();
    run.report.covered = run.seen.covered;
    run.report.elapsed = started.elapsed();
    run.report
}

/// Runs each file once with the normal panic hook, to reproduce a crash.
pub fn replay(target: &Target, files: &[PathBuf]) -> bool {
    let mut ok = true;
    for f in files {
        let inputs = if f.is_dir() { read_corpus(f) } else { vec![read(f)] };
        let passed = inputs.iter().all(|input| panic::catch_unwind(|| (target.run)(input)).is_ok());
        println!("{}: {}", f.display(), if passed { "ok" } else { "PANICKED" });
        ok &= passed;
    }
    ok
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The files of a corpus folder in name order; none when it does not exist.
fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    paths.sort();
    paths.iter().map(|p| read(p)).collect()
}

/// FNV-1a, to name saved inputs by their content.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}
