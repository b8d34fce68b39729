//! The XOR chunk decoders of `rust/core/src/chunkenc`: the sample iterator,
//! `decode_into`, and the batch decoder with every kernel this CPU runs.
//!
//! Input: chunks, each a big-endian u16 length and that many bytes (the last
//! takes what is left if the length runs past the end). Beyond not
//! panicking, the decoders must agree with each other sample for sample and
//! on which chunks are corrupt, leave the output vectors as they were on an
//! error, and what they decode must survive re-encoding.

use thanos_core::chunkenc::batch::{decode_many_with, Decoder, Kernel};
use thanos_core::chunkenc::{decode_into, encode, num_samples, XorIterator};

use super::Target;
use crate::rng::Rng;

pub const TARGET: Target = Target {
    name: "chunkenc",
    run,
    generate,
    dictionary: &[b"\x00\x00", b"\x00\x01", b"\x00\x02", b"\x00\x78", b"\xff\xff", b"\x0f", b"\xf0", b"\xff"],
    // Sixteen chunks of 120 samples and some (the AVX-512 kernel's group)
    // fit; longer inputs only slow the loop down.
    max_len: 8192,
};

/// Samples as comparable bits: NaN payloads (stale markers) must survive.
type Samples = Vec<(i64, u64)>;

pub fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let body = &rest[2..];
        let n = n.min(body.len());
        chunks.push(&body[..n]);
        rest = &body[n..];
    }
    chunks
}

pub fn join(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(&(c.len() as u16).to_be_bytes());
        out.extend_from_slice(c);
    }
    out
}

fn run(data: &[u8]) {
    let chunks = split(data);
    let singles: Vec<Option<Samples>> = chunks.iter().map(|c| decode_one(c)).collect();
    let all_ok = singles.iter().all(Option::is_some);
    let expected: Samples = singles.iter().flatten().flatten().copied().collect();

    for kernel in Kernel::available() {
        let (mut ts, mut vs) = (vec![7], vec![7.0]);
        match decode_many_with(kernel, &chunks, &mut ts, &mut vs) {
            Ok(counts) => {
                assert!(all_ok, "{kernel:?} decoded chunks that decode_into refused");
                let want: Vec<usize> = singles.iter().map(|s| s.as_ref().map_or(0, Vec::len)).collect();
                assert_eq!(counts, want, "{kernel:?} counts");
                assert_eq!(bits(&ts[1..], &vs[1..]), expected, "{kernel:?} samples");
            }
            Err(_) => {
                assert!(!all_ok, "{kernel:?} refused chunks that decode_into decoded");
                assert_eq!((ts, vs), (vec![7], vec![7.0]), "{kernel:?} left output behind on an error");
            }
        }
        // A reused decoder must not carry anything over from the previous call.
        let mut d = Decoder::with_kernel(kernel);
        let reversed: Vec<&[u8]> = chunks.iter().rev().copied().collect();
        let _ = d.decode(&reversed, &mut Vec::new(), &mut Vec::new());
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        if d.decode(&chunks, &mut ts, &mut vs).is_ok() {
            assert_eq!(bits(&ts, &vs), expected, "{kernel:?} reused decoder");
        }
    }
}

/// Decodes one chunk with the iterator and with `decode_into`, checks they
/// agree, and re-encodes what they read.
fn decode_one(chunk: &[u8]) -> Option<Samples> {
    let header = num_samples(chunk).ok();
    let iterated: Option<Samples> =
        XorIterator::new(chunk).and_then(|it| it.map(|s| s.map(|(t, v)| (t, v.to_bits()))).collect()).ok();
    let (mut ts, mut vs) = (vec![7], vec![7.0]);
    let decoded = match decode_into(chunk, &mut ts, &mut vs) {
        Ok(n) => {
            assert_eq!(Some(n), header, "decode_into count");
            Some(bits(&ts[1..], &vs[1..]))
        }
        Err(_) => {
            assert_eq!((ts, vs), (vec![7], vec![7.0]), "decode_into left output behind on an error");
            None
        }
    };
    assert_eq!(iterated, decoded, "XorIterator and decode_into disagree");
    if let Some(samples) = &decoded {
        let (ts, vs): (Vec<i64>, Vec<f64>) = samples.iter().map(|&(t, v)| (t, f64::from_bits(v))).unzip();
        let again = encode(&ts, &vs).expect("a decoded chunk re-encodes");
        let (mut ts2, mut vs2) = (Vec::new(), Vec::new());
        decode_into(&again, &mut ts2, &mut vs2).expect("a re-encoded chunk decodes");
        assert_eq!(&bits(&ts2, &vs2), samples, "samples changed through re-encoding");
    }
    decoded
}

fn bits(ts: &[i64], vs: &[f64]) -> Samples {
    ts.iter().zip(vs).map(|(&t, v)| (t, v.to_bits())).collect()
}

/// A few chunks encoded from generated samples (scrape-like times with
/// jitter, counters, gauges, special values, huge jumps), sometimes damaged.
fn generate(rng: &mut Rng) -> Vec<u8> {
    let n_chunks = 1 + rng.small(20);
    let mut chunks = Vec::with_capacity(n_chunks);
    for _ in 0..n_chunks {
        let n = rng.small(130);
        let mut t: i64 = match rng.below(4) {
            0 => 0,
            1 => 1_700_000_000_000,
            2 => rng.next_u64() as i64,
            _ => i64::MIN + rng.below(1000) as i64,
        };
        let mut v = 0.0f64;
        let (mut ts, mut vs) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            ts.push(t);
            vs.push(v);
            let step: i64 = match rng.below(8) {
                0 => rng.next_u64() as i64,
                1 => -(rng.below(100_000) as i64),
                2 => 1 << rng.below(63),
                _ => 15_000 + rng.below(5) as i64 - 2,
            };
            t = t.wrapping_add(step);
            v = match rng.below(10) {
                0 => f64::from_bits(rng.next_u64()),
                1 => *rng.pick(&[
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    -0.0,
                    f64::from_bits(0x7ff0_0000_0000_0002),
                ]),
                2..=5 => v + rng.below(100) as f64,
                _ => v,
            };
        }
        let mut c = encode(&ts, &vs).expect("at most 130 samples");
        if rng.one_in(4) && !c.is_empty() {
            // Damage: a wrong count, a flipped bit or a cut.
            match rng.below(3) {
                0 => c[rng.below(2)] ^= 1 << rng.below(8),
                1 => {
                    let i = rng.below(c.len() * 8);
                    c[i / 8] ^= 1 << (i % 8);
                }
                _ => c.truncate(rng.below(c.len())),
            }
        }
        chunks.push(c);
    }
    join(&chunks)
}
