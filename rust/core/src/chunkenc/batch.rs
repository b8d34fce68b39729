//! Decoding many XOR chunks at once, several side by side.
//!
//! Within one chunk every sample's position depends on the previous sample's
//! bits, a chain of some thirty cycles that no reordering can shorten. Chunks are
//! independent of each other, though, so [`decode_many`] interleaves the samples
//! of `LANES` chunks: the processor works on one chain while another waits,
//! which is what lifts decoding from latency-bound to throughput-bound.

#[cfg(target_arch = "x86_64")]
use super::avx512;
use super::bstream::PaddedStream;
use super::xor::{num_samples, State, HEADER_LEN};
use crate::error::{Error, Result};

/// Chunks decoded side by side. Four chains keep a core busy; more would spill
/// the lanes' state out of the registers.
const LANES: usize = 4;

/// Where one chunk's stream lies and where its samples go.
#[derive(Clone, Copy)]
struct Job {
    start: usize,
    end: usize,
    samples: usize,
}

/// A compiled variant of the decoder. All give the same results; they differ in
/// the instructions they need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Plain x86-64 (or any other architecture): four chunks side by side.
    Portable,
    /// The same with BMI2's flag-free shifts, LZCNT and MOVBE's byte-swapping
    /// loads, which shorten both the instruction count and the chain.
    Bmi2,
    /// Sixteen chunks side by side in AVX-512 registers (see `avx512.rs`).
    Avx512,
}

impl Kernel {
    /// The kernels this CPU can run, fastest last.
    pub fn available() -> Vec<Kernel> {
        let mut out = vec![Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("bmi2")
                && std::is_x86_feature_detected!("lzcnt")
                && std::is_x86_feature_detected!("movbe")
            {
                out.push(Kernel::Bmi2);
                if avx512::available() {
                    out.push(Kernel::Avx512);
                }
            }
        }
        out
    }

    /// The fastest kernel this CPU can run, detected once.
    pub fn best() -> Kernel {
        static BEST: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| *Kernel::available().last().unwrap())
    }
}

/// Decodes every chunk, in order, onto the ends of `ts` and `vs`, and returns the
/// number of samples of each. On error both vectors are left as they were; the
/// error names the chunk.
pub fn decode_many<C: AsRef<[u8]>>(chunks: &[C], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<Vec<usize>> {
    decode_many_with(Kernel::best(), chunks, ts, vs)
}

/// Decodes one chunk onto the ends of `ts` and `vs` and returns how many samples
/// it added. On error both vectors are left as they were.
pub fn decode_into(chunk: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<usize> {
    let samples = num_samples(chunk)?;
    let mut stream = PaddedStream::default();
    let (start, end) = stream.push(&chunk[HEADER_LEN..]);
    let job = Job { start, end, samples };
    let (t0, v0) = (ts.len(), vs.len());
    ts.resize(t0 + samples, 0);
    vs.resize(v0 + samples, 0.0);
    let (out_t, out_v) = (&mut ts[t0..], &mut vs[v0..]);
    let mut st = State::new(start);
    let result =
        decode_head(&mut st, &stream, out_t, out_v).and_then(|()| decode_rest(st, &stream, &job, 2, out_t, out_v));
    if result.is_err() {
        ts.truncate(t0);
        vs.truncate(v0);
    }
    result.map(|()| samples)
}

/// [`decode_many`] with a chosen kernel, which must be one of
/// [`Kernel::available`] (it panics otherwise). For tests and benchmarks.
pub fn decode_many_with<C: AsRef<[u8]>>(
    kernel: Kernel,
    chunks: &[C],
    ts: &mut Vec<i64>,
    vs: &mut Vec<f64>,
) -> Result<Vec<usize>> {
    let mut d = Decoder::with_kernel(kernel);
    d.decode(chunks, ts, vs)?;
    Ok(d.counts().collect())
}

/// [`decode_many`] with its buffers kept between calls: the querier decodes a
/// series' few chunks at a time, thousands of times per query, and would
/// otherwise allocate and free the same buffers each time.
pub struct Decoder {
    kernel: Kernel,
    stream: PaddedStream,
    jobs: Vec<Job>,
    /// Where each chunk's samples go, and the order chunks are decoded in.
    offsets: Vec<usize>,
    order: Vec<usize>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(Kernel::best())
    }
}

impl Decoder {
    /// A decoder using `kernel`, which must be one of [`Kernel::available`] (it
    /// panics otherwise).
    pub fn with_kernel(kernel: Kernel) -> Self {
        assert!(Kernel::available().contains(&kernel), "{kernel:?} does not run on this CPU");
        Decoder::new(kernel)
    }

    fn new(kernel: Kernel) -> Self {
        Decoder { kernel, stream: PaddedStream::default(), jobs: Vec::new(), offsets: Vec::new(), order: Vec::new() }
    }

    /// The samples of each chunk of the last [`Decoder::decode`].
    pub fn counts(&self) -> impl Iterator<Item = usize> + '_ {
        self.jobs.iter().map(|j| j.samples)
    }

    /// Decodes every chunk, in order, onto the ends of `ts` and `vs`, as
    /// [`decode_many`] does.
    pub fn decode<C: AsRef<[u8]>>(&mut self, chunks: &[C], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
        self.stream.clear();
        self.jobs.clear();
        for (i, chunk) in chunks.iter().enumerate() {
            let chunk = chunk.as_ref();
            let samples = num_samples(chunk).map_err(|e| e.context(format!("chunk {i}")))?;
            let (start, end) = self.stream.push(&chunk[HEADER_LEN..]);
            self.jobs.push(Job { start, end, samples });
        }
        let total: usize = self.jobs.iter().map(|j| j.samples).sum();
        let (t0, v0) = (ts.len(), vs.len());
        ts.resize(t0 + total, 0);
        vs.resize(v0 + total, 0.0);
        let (out_t, out_v) = (&mut ts[t0..], &mut vs[v0..]);
        plan(&self.jobs, &mut self.offsets, &mut self.order);
        let p = Plan { s: &self.stream, jobs: &self.jobs, offs: &self.offsets, order: &self.order };
        let result = match self.kernel {
            Kernel::Portable => decode_jobs(&p, out_t, out_v),
            // SAFETY: `Kernel::available` checked the CPU features of both.
            #[cfg(target_arch = "x86_64")]
            Kernel::Bmi2 => unsafe { decode_jobs_bmi2(&p, out_t, out_v) },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { decode_jobs_avx512(&p, out_t, out_v) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!(),
        };
        if result.is_err() {
            ts.truncate(t0);
            vs.truncate(v0);
        }
        result
    }
}

/// The chunks of one decode: their streams, where their samples go (the
/// output holds them in chunk order), and the order to decode them in.
struct Plan<'a> {
    s: &'a PaddedStream,
    jobs: &'a [Job],
    offs: &'a [usize],
    order: &'a [usize],
}

/// Fills `offs` and `order`: the chunks longest first. Chunks side by side
/// advance in lockstep as far as the shortest of them goes and finish one at a
/// time, so neighbours of about the same length keep most samples in the
/// lockstep; chunks of mixed lengths (a series' last chunk, a block's first)
/// would otherwise leave much of the work to the one-lane tail.
fn plan(jobs: &[Job], offs: &mut Vec<usize>, order: &mut Vec<usize>) {
    offs.clear();
    let mut at = 0;
    for j in jobs {
        offs.push(at);
        at += j.samples;
    }
    order.clear();
    order.extend((0..jobs.len()).filter(|&i| jobs[i].samples > 0));
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].samples));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1,bmi2,lzcnt,movbe")]
unsafe fn decode_jobs_bmi2(p: &Plan<'_>, ts: &mut [i64], vs: &mut [f64]) -> Result<()> {
    decode_jobs(p, ts, vs)
}

/// Sixteen chunks at a time through [`avx512::advance`], the rest four at a
/// time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1,bmi2,lzcnt,movbe")]
unsafe fn decode_jobs_avx512(p: &Plan<'_>, ts: &mut [i64], vs: &mut [f64]) -> Result<()> {
    let mut groups = p.order.chunks_exact(avx512::LANES);
    for group in &mut groups {
        let group: [usize; avx512::LANES] = group.try_into().unwrap();
        // SAFETY: the caller checked the CPU features.
        unsafe { decode_sixteen(p, group, ts, vs) }.map_err(|(l, e)| e.context(format!("chunk {}", group[l])))?;
    }
    decode_fours(p, groups.remainder(), ts, vs)
}

/// # Safety
/// The CPU must have the features `avx512::available` checks.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn decode_sixteen(
    p: &Plan<'_>,
    group: [usize; avx512::LANES],
    ts: &mut [i64],
    vs: &mut [f64],
) -> Result<(), (usize, Error)> {
    let s = p.s;
    let lane_jobs = group.map(|i| p.jobs[i]);
    let first = group.map(|i| p.offs[i]);
    let mut states = lane_jobs.map(|j| State::new(j.start));
    for (l, (st, job)) in states.iter_mut().zip(&lane_jobs).enumerate() {
        let at = first[l]..first[l] + job.samples;
        decode_head(st, s, &mut ts[at.clone()], &mut vs[at]).map_err(|e| (l, e))?;
    }
    let common = lane_jobs.iter().map(|j| j.samples).min().unwrap_or(0);
    let mut out = avx512::Outputs { ts, vs, first, end: lane_jobs.map(|j| j.end) };
    let mut from = 2;
    while from < common {
        // SAFETY: the caller checked the CPU features.
        from += unsafe { avx512::advance(s, &mut states, &mut out, from, common - from) };
        if from < common {
            // A lane needs the scalar decoder for this sample (a 64-bit delta
            // of delta, or damage): step every lane once and go on together.
            for (l, st) in states.iter_mut().enumerate() {
                st.next(s, lane_jobs[l].end);
                (out.ts[first[l] + from], out.vs[first[l] + from]) = (st.t, f64::from_bits(st.v));
            }
            from += 1;
        }
    }
    let from = from.max(2);
    for (l, (st, job)) in states.into_iter().zip(&lane_jobs).enumerate() {
        let at = first[l]..first[l] + job.samples;
        decode_rest(st, s, job, from, &mut out.ts[at.clone()], &mut out.vs[at]).map_err(|e| (l, e))?;
    }
    Ok(())
}

#[inline(always)]
fn decode_jobs(p: &Plan<'_>, ts: &mut [i64], vs: &mut [f64]) -> Result<()> {
    decode_fours(p, p.order, ts, vs)
}

/// The chunks of `order`, four at a time, then the last ones one by one.
#[inline(always)]
fn decode_fours(p: &Plan<'_>, order: &[usize], ts: &mut [i64], vs: &mut [f64]) -> Result<()> {
    let (s, jobs) = (p.s, p.jobs);
    let range = |i: usize| p.offs[i]..p.offs[i] + jobs[i].samples;
    let mut groups = order.chunks_exact(LANES);
    for group in &mut groups {
        let group: [usize; LANES] = group.try_into().unwrap();
        // Distinct chunks with samples: their output ranges never overlap.
        let t = ts.get_disjoint_mut(group.map(range)).expect("chunk outputs are disjoint");
        let v = vs.get_disjoint_mut(group.map(range)).expect("chunk outputs are disjoint");
        decode_four(s, &group.map(|i| jobs[i]), t, v).map_err(|(l, e)| e.context(format!("chunk {}", group[l])))?;
    }
    for &i in groups.remainder() {
        let (jt, jv) = (&mut ts[range(i)], &mut vs[range(i)]);
        let mut st = State::new(jobs[i].start);
        decode_head(&mut st, s, jt, jv)
            .and_then(|()| decode_rest(st, s, &jobs[i], 2, jt, jv))
            .map_err(|e| e.context(format!("chunk {i}")))?;
    }
    Ok(())
}

/// The first two samples, which are varints: decoded one by one.
#[inline(never)]
fn decode_head(st: &mut State, s: &PaddedStream, ts: &mut [i64], vs: &mut [f64]) -> Result<()> {
    for i in 0..ts.len().min(2) {
        if i == 0 {
            st.first(s)?;
        } else {
            st.second(s)?;
        }
        (ts[i], vs[i]) = (st.t, f64::from_bits(st.v));
    }
    Ok(())
}

/// Samples `from..` of one chunk, then the final checks. `st` comes by value so
/// that it lives in registers.
///
/// Nothing is checked per sample: a truncated chunk reads on into padding (reads
/// past the buffer are clamped, see `PaddedStream`), and since positions only
/// grow, the final check that the last sample ended inside the data catches it.
#[inline(always)]
fn decode_rest(mut st: State, s: &PaddedStream, job: &Job, from: usize, ts: &mut [i64], vs: &mut [f64]) -> Result<()> {
    for (t, v) in ts.iter_mut().zip(vs.iter_mut()).skip(from) {
        st.next(s, job.end);
        (*t, *v) = (st.t, f64::from_bits(st.v));
    }
    st.finish(job.end, job.samples)
}

/// Four chunks side by side, each into its own output. An error comes with
/// the lane of the chunk that caused it.
#[inline(always)]
fn decode_four(
    s: &PaddedStream,
    jobs: &[Job; LANES],
    ts: [&mut [i64]; LANES],
    vs: [&mut [f64]; LANES],
) -> Result<(), (usize, Error)> {
    let [t0, t1, t2, t3] = ts;
    let [v0, v1, v2, v3] = vs;
    let mut lanes = jobs.map(|j| State::new(j.start));
    let outs = [(&mut *t0, &mut *v0), (&mut *t1, &mut *v1), (&mut *t2, &mut *v2), (&mut *t3, &mut *v3)];
    for (l, (st, (t, v))) in lanes.iter_mut().zip(outs).enumerate() {
        decode_head(st, s, t, v).map_err(|e| (l, e))?;
    }
    // Separate locals, not an array: the compiler then keeps the four states in
    // registers (an array version measured 10-15 % slower).
    let [mut a, mut b, mut c, mut d] = lanes;
    let common = jobs.iter().map(|j| j.samples).min().unwrap_or(0);
    if common > 2 {
        // Cut the outputs to the common length so indexing needs no checks.
        let (t0c, t1c, t2c, t3c) = (&mut t0[..common], &mut t1[..common], &mut t2[..common], &mut t3[..common]);
        let (v0c, v1c, v2c, v3c) = (&mut v0[..common], &mut v1[..common], &mut v2[..common], &mut v3[..common]);
        for i in 2..common {
            a.next(s, jobs[0].end);
            b.next(s, jobs[1].end);
            c.next(s, jobs[2].end);
            d.next(s, jobs[3].end);
            (t0c[i], v0c[i]) = (a.t, f64::from_bits(a.v));
            (t1c[i], v1c[i]) = (b.t, f64::from_bits(b.v));
            (t2c[i], v2c[i]) = (c.t, f64::from_bits(c.v));
            (t3c[i], v3c[i]) = (d.t, f64::from_bits(d.v));
        }
    }
    let from = common.max(2);
    let outs = [(t0, v0), (t1, v1), (t2, v2), (t3, v3)];
    for (l, ((st, job), (t, v))) in [a, b, c, d].into_iter().zip(jobs).zip(outs).enumerate() {
        decode_rest(st, s, job, from, t, v).map_err(|e| (l, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::chunkenc::xor::{encode, XorIterator};
    use crate::ErrorKind;

    fn chunk(n: usize, seed: u64) -> (Vec<u8>, Vec<i64>, Vec<f64>) {
        let ts: Vec<i64> = (0..n as i64).map(|i| i * 15_000 + ((i as u64 * seed) % 7) as i64).collect();
        let vs: Vec<f64> = (0..n).map(|i| (i as f64 * seed as f64).sqrt()).collect();
        (encode(&ts, &vs).unwrap(), ts, vs)
    }

    /// Decodes with every kernel and checks they agree with each other and with the
    /// sample-by-sample iterator: the same samples, or all an error.
    fn decode_all_ways(chunks: &[Vec<u8>]) -> Result<(Vec<usize>, Vec<i64>, Vec<u64>)> {
        let reference: Result<(Vec<usize>, Vec<i64>, Vec<u64>)> = (|| {
            let (mut counts, mut ts, mut vs) = (Vec::new(), Vec::new(), Vec::new());
            for c in chunks {
                let samples: Vec<(i64, f64)> = XorIterator::new(c)?.collect::<Result<_>>()?;
                counts.push(samples.len());
                ts.extend(samples.iter().map(|s| s.0));
                vs.extend(samples.iter().map(|s| s.1.to_bits()));
            }
            Ok((counts, ts, vs))
        })();
        for kernel in Kernel::available() {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            let got = decode_many_with(kernel, chunks, &mut ts, &mut vs)
                .map(|counts| (counts, ts, vs.iter().map(|v| v.to_bits()).collect::<Vec<_>>()));
            match (&reference, &got) {
                (Ok(want), Ok(got)) => assert_eq!(want, got, "{kernel:?}"),
                (Err(_), Err(e)) => assert_eq!(e.kind(), ErrorKind::CorruptChunk, "{kernel:?}"),
                _ => panic!("{kernel:?} disagrees with the iterator: {got:?} versus {reference:?}"),
            }
        }
        reference
    }

    #[test]
    fn uneven_chunks_in_and_out_of_groups() {
        // 0, 1 and 2 samples, lengths that differ within a group, remainders.
        let sizes = [120, 0, 1, 2, 7, 120, 300, 3, 65, 64, 5, 120, 120, 120, 119, 121, 120, 120, 1000, 9, 120];
        let made: Vec<_> = sizes.iter().enumerate().map(|(i, &n)| chunk(n, i as u64 + 3)).collect();
        let chunks: Vec<Vec<u8>> = made.iter().map(|(c, _, _)| c.clone()).collect();
        let (counts, ts, vs) = decode_all_ways(&chunks).unwrap();
        assert_eq!(counts, sizes);
        assert_eq!(ts, made.iter().flat_map(|m| m.1.clone()).collect::<Vec<_>>());
        let want: Vec<u64> = made.iter().flat_map(|m| m.2.iter().map(|v| v.to_bits())).collect();
        assert_eq!(vs, want);
        // Samples go after what the vectors already hold.
        let (mut ts, mut vs) = (vec![-1], vec![-1.0]);
        decode_many(&chunks, &mut ts, &mut vs).unwrap();
        assert_eq!((ts[0], vs[0], ts.len()), (-1, -1.0, 1 + sizes.iter().sum::<usize>()));
    }

    #[test]
    fn a_corrupt_chunk_is_named_and_nothing_is_kept() {
        let good = chunk(120, 5).0;
        let bad = good[..good.len() / 2].to_vec();
        for at in [2, 5, 17, 20] {
            let mut chunks = vec![good.clone(); 21];
            chunks[at] = bad.clone();
            for kernel in Kernel::available() {
                let (mut ts, mut vs) = (vec![1], vec![1.0]);
                let err = decode_many_with(kernel, &chunks, &mut ts, &mut vs).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::CorruptChunk);
                assert!(err.message().starts_with(&format!("chunk {at}: ")), "{kernel:?}: {}", err.message());
                assert_eq!((ts, vs), (vec![1], vec![1.0]));
            }
        }
    }

    /// Timestamps that exercise every delta-of-delta bucket, the 64-bit one too.
    fn timestamps() -> impl Strategy<Value = Vec<i64>> {
        let step = prop_oneof![
            4 => Just(15_000i64),
            4 => 14_990i64..15_010,
            1 => -70_000i64..600_000,
            1 => any::<i64>().prop_map(|x| x >> 8),
        ];
        (any::<i64>(), prop::collection::vec(step, 0..300)).prop_map(|(start, steps)| {
            let mut t = start >> 4;
            std::iter::once(t)
                .chain(steps.into_iter().map(|d| {
                    t = t.wrapping_add(d);
                    t
                }))
                .collect()
        })
    }

    /// Values that exercise every window case: repeats, counters, noise, specials.
    fn values(n: usize) -> impl Strategy<Value = Vec<f64>> {
        let v = prop_oneof![
            3 => Just(1.0f64),
            3 => (0u32..100).prop_map(|x| x as f64),
            3 => any::<f64>(),
            1 => prop_oneof![
                Just(f64::NAN),
                Just(f64::from_bits(0x7ff0_0000_0000_0002)),
                Just(f64::INFINITY),
                Just(f64::NEG_INFINITY),
                Just(-0.0),
            ],
        ];
        prop::collection::vec(v, n).prop_map(|vs| {
            // Turn runs into counters and random walks, as real series look.
            let mut acc = 0.0;
            vs.into_iter()
                .map(|x| {
                    if x.is_finite() && x.fract() == 0.0 && x < 100.0 {
                        acc += x;
                        acc
                    } else {
                        x
                    }
                })
                .collect()
        })
    }

    fn series() -> impl Strategy<Value = (Vec<i64>, Vec<f64>)> {
        timestamps().prop_flat_map(|ts| {
            let n = ts.len();
            (Just(ts), values(n))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_kernel_round_trips(batch in prop::collection::vec(series(), 1..40)) {
            let chunks: Vec<Vec<u8>> = batch.iter().map(|(t, v)| encode(t, v).unwrap()).collect();
            let (counts, ts, vs) = decode_all_ways(&chunks).unwrap();
            prop_assert_eq!(counts, batch.iter().map(|b| b.0.len()).collect::<Vec<_>>());
            prop_assert_eq!(ts, batch.iter().flat_map(|b| b.0.clone()).collect::<Vec<_>>());
            let want: Vec<u64> = batch.iter().flat_map(|b| b.1.iter().map(|v| v.to_bits())).collect();
            prop_assert_eq!(vs, want);
        }

        #[test]
        fn every_kernel_agrees_on_damaged_chunks(
            batch in prop::collection::vec(series(), 16..20),
            flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut chunks: Vec<Vec<u8>> = batch.iter().map(|(t, v)| encode(t, v).unwrap()).collect();
            let victim = cut.index(chunks.len());
            let c = &mut chunks[victim];
            for (at, bit) in flips {
                let i = at.index(c.len());
                // Keep the sample count: damage the bits, not the header.
                if i >= 2 {
                    c[i] ^= 1 << bit;
                }
            }
            let _ = decode_all_ways(&chunks);
            let len = chunks[victim].len();
            chunks[victim].truncate(cut.index(len + 1).max(2));
            let _ = decode_all_ways(&chunks);
        }
    }
}
