//! A quick timing of `Block::select` over all series of each block given:
//! `cargo run --release -p thanos-tsdb --example select_timing -- BLOCK_DIR...`
//!
//! Prints, per block, the series and chunk counts, the index bytes per series,
//! the reader's heap beside the mappings, the time to open, and the median of
//! 20 runs of `select({__name__=~".+"})` over the whole block (labels resolved,
//! every chunk sliced out of the mapping with its checksum checked, no decode).

use std::path::PathBuf;
use std::time::Instant;

use thanos_core::labels::{MatchOp, Matcher};
use thanos_tsdb::Block;

const RUNS: usize = 20;

fn main() {
    let dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        eprintln!("usage: select_timing BLOCK_DIR...");
        std::process::exit(2);
    }
    let all = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    for dir in dirs {
        let t0 = Instant::now();
        let block = Block::open(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let open = t0.elapsed();
        let mut times = Vec::with_capacity(RUNS);
        let (mut series, mut chunks, mut bytes) = (0, 0, 0);
        for _ in 0..RUNS {
            let t = Instant::now();
            (series, chunks, bytes) = (0, 0, 0);
            for s in block.select(&all, i64::MIN, i64::MAX).unwrap() {
                let s = s.unwrap();
                series += 1;
                chunks += s.chunks.len();
                bytes += s.chunks.iter().map(|c| c.data.len()).sum::<usize>();
            }
            times.push(t.elapsed());
        }
        times.sort();
        let median = times[RUNS / 2];
        let meta = block.meta();
        println!(
            "{}: {:.1} h, {series} series, {chunks} chunks ({bytes} bytes), {} samples",
            meta.ulid,
            (meta.max_time - meta.min_time) as f64 / 3.6e6,
            meta.stats.num_samples
        );
        println!(
            "  index {} bytes = {:.0} bytes/series; reader heap {} bytes; open {:.2} ms",
            block.index().size(),
            block.index().size() as f64 / series.max(1) as f64,
            block.index().heap_bytes(),
            open.as_secs_f64() * 1e3
        );
        println!(
            "  select all: median {:.3} ms ({:.2} us/series, {:.0} ns/chunk), min {:.3} ms",
            median.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e6 / series.max(1) as f64,
            median.as_secs_f64() * 1e9 / chunks.max(1) as f64,
            times[0].as_secs_f64() * 1e3
        );
    }
}
