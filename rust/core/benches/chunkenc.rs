//! `cargo bench -p thanos-core --bench chunkenc`: XOR decode and encode speed on
//! the Prometheus-encoded anchor chunks, per kind of series. A plain timing loop
//! (best of several rounds) keeps this free of a benchmark framework; the
//! pytest-benchmark suite in `benches/` measures the same through Python.

use std::hint::black_box;
use std::time::Instant;

use thanos_core::chunkenc::batch::{decode_many_with, Kernel};
use thanos_core::chunkenc::{decode_into, encode};

#[path = "../tests/common/anchors.rs"]
mod anchors;
use anchors::chunks;

/// Best time of `rounds` runs of `f`, in nanoseconds.
fn best_of(rounds: usize, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let all = chunks();
    for (kind, range) in [("counter", 0..1000), ("gauge", 1000..2000), ("constant", 2000..3000)] {
        let set = &all[range];
        let (mut ts, mut vs) = (Vec::with_capacity(120_000), Vec::with_capacity(120_000));
        let mut per_kernel = String::new();
        for kernel in Kernel::available() {
            let ns = best_of(50, || {
                ts.clear();
                vs.clear();
                decode_many_with(kernel, black_box(set), &mut ts, &mut vs).unwrap();
            });
            per_kernel += &format!("  {kernel:?} {:5.2} ns ({:5.1} M/s)", ns / 120_000.0, 120_000.0 / ns * 1e3);
        }
        let single_ns = best_of(20, || {
            let (mut t, mut v) = (Vec::new(), Vec::new());
            for c in set {
                decode_into(black_box(c), &mut t, &mut v).unwrap();
            }
        });
        let samples = ts.len() as f64;
        let encode_ns = best_of(20, || {
            let mut start = 0;
            for _ in set {
                black_box(encode(&ts[start..start + 120], &vs[start..start + 120]).unwrap());
                start += 120;
            }
        });
        println!(
            "{kind:9} decode_many per sample:{per_kernel}\n          one chunk at a time {:5.2} ns   encode {:5.2} ns ({:5.1} M/s)",
            single_ns / samples,
            encode_ns / samples,
            samples / encode_ns * 1e3,
        );
    }
}
