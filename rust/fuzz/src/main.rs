//! thanos-fuzz: an in-process fuzzer for thanos_rs that runs on stable Rust.
//!
//! ```text
//! thanos-fuzz <target>|all [--seconds N] [--corpus DIR] [--seed S] [--save DIR] [--crashes DIR]
//! thanos-fuzz <target> --run FILE|DIR...    run inputs once, panics printed
//! thanos-fuzz seeds [--corpus DIR]          write the seed corpus from tests/testdata
//! thanos-fuzz list
//! ```
//!
//! Built by `scripts/fuzz.sh`, the project's crates carry SanitizerCoverage
//! guards and the loop keeps inputs that reach new edges (see `coverage.rs`);
//! built plainly it mutates the seeds and generates inputs without guidance.
//! Exits 1 when any input panicked (saved under the crashes folder); an abort
//! or a hang ends the process at once, also with a failure and the input saved.

mod alloc;
mod coverage;
mod guard;
mod mutate;
mod rng;
mod runner;
mod seeds;
mod targets;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use runner::Options;

#[global_allocator]
static ALLOC: alloc::Capped = alloc::Capped;

/// One input running this long ends the run as a hang: a hundred times the
/// evaluator's timeout, far beyond any decoder input.
const HANG: Duration = Duration::from_secs(10);

/// The repository root, for the default folders: the binary may be started
/// from anywhere.
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Args {
    command: String,
    seconds: f64,
    corpus: PathBuf,
    crashes: PathBuf,
    save: Option<PathBuf>,
    seed: Option<u64>,
    run: Vec<PathBuf>,
}

fn usage() -> String {
    let names: Vec<&str> = targets::ALL.iter().map(|t| t.name).collect();
    format!(
        "usage: thanos-fuzz <target>|all [--seconds N] [--corpus DIR] [--seed S] [--save DIR] [--crashes DIR]\n\
         \x20      thanos-fuzz <target> --run FILE|DIR...\n\
         \x20      thanos-fuzz seeds [--corpus DIR]\n\
         targets: {}",
        names.join(", ")
    )
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or_else(usage)?;
    let mut a = Args {
        command,
        seconds: 10.0,
        corpus: repo_root().join("tests/fuzz/corpus"),
        crashes: repo_root().join("target/fuzz/crashes"),
        save: None,
        seed: None,
        run: Vec::new(),
    };
    while let Some(flag) = args.next() {
        if flag == "--run" {
            a.run.extend(args.by_ref().map(PathBuf::from));
            break;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        match flag.as_str() {
            "--seconds" => a.seconds = value.parse().map_err(|e| format!("--seconds {value}: {e}"))?,
            "--seed" => a.seed = Some(value.parse().map_err(|e| format!("--seed {value}: {e}"))?),
            "--corpus" => a.corpus = value.into(),
            "--crashes" => a.crashes = value.into(),
            "--save" => a.save = Some(value.into()),
            _ => return Err(format!("unknown flag {flag}\n{}", usage())),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    match args.command.as_str() {
        "list" => {
            for t in &targets::ALL {
                println!("{}", t.name);
            }
            return ExitCode::SUCCESS;
        }
        "seeds" => {
            return match seeds::write_all(&repo_root(), &args.corpus) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("writing seeds: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    let chosen: Vec<&targets::Target> = if args.command == "all" {
        targets::ALL.iter().collect()
    } else if let Some(t) = targets::find(&args.command) {
        vec![t]
    } else {
        eprintln!("unknown target {}\n{}", args.command, usage());
        return ExitCode::from(2);
    };

    if !args.run.is_empty() {
        let [target] = chosen[..] else {
            eprintln!("--run needs one target");
            return ExitCode::from(2);
        };
        return if runner::replay(target, &args.run) { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }

    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let guidance = match coverage::edges() {
        0 => "unguided: no coverage instrumentation (build with scripts/fuzz.sh for it)".to_string(),
        n => format!("coverage-guided: {n} edges instrumented"),
    };
    println!("thanos-fuzz: seed {seed}, {} s per target, {guidance}", args.seconds);
    runner::quiet_panics();
    guard::install(HANG);

    let mut failed = false;
    for (i, t) in chosen.into_iter().enumerate() {
        let opts = Options {
            seconds: args.seconds,
            corpus: args.corpus.clone(),
            crashes: args.crashes.clone(),
            save: args.save.clone(),
            seed: seed.wrapping_add(i as u64),
        };
        let report = runner::fuzz(t, &opts);
        println!("{}", report.line());
        failed |= report.crashes > 0;
    }
    if failed {
        eprintln!("thanos-fuzz: inputs panicked; they are saved under {}", args.crashes.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
