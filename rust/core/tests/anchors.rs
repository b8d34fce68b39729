//! Golden chunks written by Prometheus 2.42's own encoder
//! (`tests/testdata/anchors/`): we must read every sample exactly and write the
//! very same bytes back.

use thanos_core::chunkenc::batch::{decode_many_with, Kernel};
use thanos_core::chunkenc::{decode_into, encode};

#[path = "common/anchors.rs"]
mod anchors;
use anchors::chunks;

/// The generator described in the anchors' README.
struct Pcg(u64);

impl Pcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
}

fn expected() -> Vec<(Vec<i64>, Vec<f64>)> {
    let mut rng = Pcg(42);
    let mut out = Vec::new();
    for kind in 0..3 {
        for c in 0..1000i64 {
            let mut t = 1_700_000_000_000 + c * 120 * 15_000;
            let mut v = 1000.0f64;
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            for _ in 0..120 {
                let jitter = (rng.next() % 5) as i64 - 2;
                match kind {
                    0 => v += (rng.next() % 100) as f64,
                    1 => v += (rng.unit() - 0.5) * 10.0,
                    _ => {}
                }
                ts.push(t + jitter);
                vs.push(v);
                t += 15_000;
            }
            out.push((ts, vs));
        }
    }
    out
}

#[test]
fn decodes_prometheus_chunks_exactly() {
    let chunks = chunks();
    let want = expected();
    assert_eq!(chunks.len(), 3000);
    for (i, (chunk, (wt, wv))) in chunks.iter().zip(&want).enumerate() {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        decode_into(chunk, &mut ts, &mut vs).unwrap();
        assert_eq!(&ts, wt, "timestamps of chunk {i}");
        let bits: Vec<u64> = vs.iter().map(|v| v.to_bits()).collect();
        let wbits: Vec<u64> = wv.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, wbits, "values of chunk {i}");
    }
}

#[test]
fn encodes_the_same_bytes_as_prometheus() {
    for (i, (chunk, (ts, vs))) in chunks().iter().zip(expected()).enumerate() {
        assert_eq!(encode(&ts, &vs).unwrap(), *chunk, "chunk {i}");
    }
}
#[test]
fn every_kernel_decodes_them_all_at_once() {
    let chunks = chunks();
    let want = expected();
    for kernel in Kernel::available() {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        let counts = decode_many_with(kernel, &chunks, &mut ts, &mut vs).unwrap();
        assert!(counts.iter().all(|&n| n == 120), "{kernel:?}");
        let wt: Vec<i64> = want.iter().flat_map(|w| w.0.iter().copied()).collect();
        let wv: Vec<u64> = want.iter().flat_map(|w| w.1.iter().map(|v| v.to_bits())).collect();
        assert_eq!(ts, wt, "{kernel:?}");
        assert_eq!(vs.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), wv, "{kernel:?}");
    }
}
