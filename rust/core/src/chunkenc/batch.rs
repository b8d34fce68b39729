//! Decoding many XOR chunks at once, several side by side.
//!
//! Within one chunk every sample's position depends on the previous sample's
//! bits, a chain of some thirty cycles that no reordering can shorten. Chunks are
//! independent of each other, though, so [`decode_many`] interleaves the samples
//! of `LANES` chunks: the processor works on one chain while another waits,
//! which is what lifts decoding from latency-bound to throughput-bound.
//!
//! Memory matters as much as instructions once a batch outgrows the caches
//! (30,000 chunks of 120 samples: 17 MB in, 58 MB out). So the output is sized
//! once from the chunk headers and written exactly once, never zeroed first,
//! and the chunks are copied into the padded stream a group at a time, not
//! all at once, so that what the decoder reads stays in the L1 cache.

use std::mem::MaybeUninit;
use std::ops::Range;

#[cfg(target_arch = "x86_64")]
use super::avx512;
use super::bstream::PaddedStream;
use super::xor::{checked_num_samples, State, HEADER_LEN};
use crate::error::{Error, Result};

/// Chunks decoded side by side. Four chains keep a core busy; more would spill
/// the lanes' state out of the registers.
const LANES: usize = 4;

/// Where one chunk's stream lies in the group's [`PaddedStream`], and how many
/// samples it holds.
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
    let samples = checked_num_samples(chunk)?;
    let mut stream = PaddedStream::default();
    let (start, end) = stream.push(&chunk[HEADER_LEN..]);
    let (out_t, out_v) = spare(ts, vs, samples);
    decode_one(&stream, &Job { start, end, samples }, out_t, out_v)?;
    // SAFETY: `decode_one` returned Ok, so it wrote all `samples` slots.
    unsafe { commit(ts, vs, samples) };
    Ok(samples)
}

/// `n` slots past the ends of `ts` and `vs`, not yet part of them and not
/// initialised. The decoders write every slot of a chunk they decode; filling
/// the slots with zeros first (as `Vec::resize` does) was a whole extra pass
/// over the output, 10 % of the time of decoding 30,000 chunks through Python
/// (perf, `__memset_avx2_unaligned_erms`).
fn spare<'a>(
    ts: &'a mut Vec<i64>,
    vs: &'a mut Vec<f64>,
    n: usize,
) -> (&'a mut [MaybeUninit<i64>], &'a mut [MaybeUninit<f64>]) {
    ts.reserve(n);
    vs.reserve(n);
    (&mut ts.spare_capacity_mut()[..n], &mut vs.spare_capacity_mut()[..n])
}

/// Makes the `n` slots [`spare`] handed out part of `ts` and `vs`.
///
/// # Safety
/// All `n` slots of both must have been written since.
unsafe fn commit(ts: &mut Vec<i64>, vs: &mut Vec<f64>, n: usize) {
    // SAFETY: the caller wrote the slots, and `spare` reserved them.
    unsafe {
        ts.set_len(ts.len() + n);
        vs.set_len(vs.len() + n);
    }
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
    /// The chunks of the group being decoded (see [`Plan::load`]).
    stream: PaddedStream,
    /// The samples of each chunk, from its header.
    samples: Vec<usize>,
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
        Decoder { kernel, stream: PaddedStream::default(), samples: Vec::new(), offsets: Vec::new(), order: Vec::new() }
    }

    /// The samples of each chunk of the last [`Decoder::decode`].
    pub fn counts(&self) -> impl Iterator<Item = usize> + '_ {
        self.samples.iter().copied()
    }

    /// Decodes every chunk, in order, onto the ends of `ts` and `vs`, as
    /// [`decode_many`] does.
    pub fn decode<C: AsRef<[u8]>>(&mut self, chunks: &[C], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
        self.samples.clear();
        for (i, chunk) in chunks.iter().enumerate() {
            let samples = checked_num_samples(chunk.as_ref()).map_err(|e| e.context(format!("chunk {i}")))?;
            self.samples.push(samples);
        }
        let total = plan(&self.samples, &mut self.offsets, &mut self.order);
        let (out_t, out_v) = spare(ts, vs, total);
        let p = Plan { chunks, samples: &self.samples, offs: &self.offsets, order: &self.order };
        let s = &mut self.stream;
        match self.kernel {
            Kernel::Portable => decode_jobs(&p, s, out_t, out_v),
            // SAFETY: `Kernel::available` checked the CPU features of both.
            #[cfg(target_arch = "x86_64")]
            Kernel::Bmi2 => unsafe { decode_jobs_bmi2(&p, s, out_t, out_v) },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { decode_jobs_avx512(&p, s, out_t, out_v) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!(),
        }?;
        // SAFETY: the offsets tile `0..total` with one range per chunk; every
        // chunk with samples is in `order` once, and the decoders returned Ok,
        // so each wrote its whole range (`decode_one`, `decode_four`,
        // `decode_sixteen`: the first two samples, then the lockstep up to the
        // shortest lane, then `decode_rest` from there to each chunk's end).
        unsafe { commit(ts, vs, total) };
        Ok(())
    }
}

/// The chunks of one decode, where their samples go (the output holds them in
/// chunk order), and the order to decode them in.
struct Plan<'a, C> {
    chunks: &'a [C],
    samples: &'a [usize],
    offs: &'a [usize],
    order: &'a [usize],
}

impl<C: AsRef<[u8]>> Plan<'_, C> {
    /// Copies the bit streams of the chunks of `group` into `s`, one after the
    /// other with their padding, and says where each lies. A group's streams
    /// take a few kilobytes and stay in the L1 cache while it is decoded;
    /// copying all chunks of a call at once went through a buffer as large as
    /// the input (17 MB for 30,000 chunks), grown by doubling: 12 % of the time
    /// in `memmove` and a tenth in the kernel's clearing of fresh pages (perf).
    #[inline(always)]
    fn load<const N: usize>(&self, s: &mut PaddedStream, group: [usize; N]) -> [Job; N] {
        s.clear();
        group.map(|i| {
            // `checked_num_samples` made sure the header is there.
            let (start, end) = s.push(&self.chunks[i].as_ref()[HEADER_LEN..]);
            Job { start, end, samples: self.samples[i] }
        })
    }

    /// Asks for the bytes of the chunks of `next` to be brought into the cache
    /// while the current group decodes. Chunks are scattered objects (one
    /// Python `bytes` each, or one protobuf field each), so the hardware
    /// prefetcher cannot guess the next one; without this, copying a group into
    /// the stream waited on memory, 9 % of the time of decoding 30,000
    /// distinct chunks through Python (perf, `__memmove_avx_unaligned_erms`).
    #[inline(always)]
    fn prefetch(&self, next: &[usize]) {
        #[cfg(target_arch = "x86_64")]
        for &i in next {
            let bytes = self.chunks[i].as_ref();
            let (first, end) = (bytes.as_ptr() as usize & !63, bytes.as_ptr() as usize + bytes.len());
            for line in (first..end).step_by(64) {
                // SAFETY: a prefetch only hints; it never faults or reads into
                // the program, whatever the address.
                unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line as *const i8) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = next;
    }

    /// Where chunk `i`'s samples go.
    #[inline(always)]
    fn range(&self, i: usize) -> Range<usize> {
        self.offs[i]..self.offs[i] + self.samples[i]
    }
}

/// Fills `offs` and `order` and returns the total of samples. The order is the
/// chunks longest first: chunks side by side advance in lockstep as far as the
/// shortest of them goes and finish one at a time, so neighbours of about the
/// same length keep most samples in the lockstep; chunks of mixed lengths (a
/// series' last chunk, a block's first) would otherwise leave much of the work
/// to the one-lane tail.
fn plan(samples: &[usize], offs: &mut Vec<usize>, order: &mut Vec<usize>) -> usize {
    offs.clear();
    let mut at = 0;
    for &n in samples {
        offs.push(at);
        at += n;
    }
    order.clear();
    order.extend((0..samples.len()).filter(|&i| samples[i] > 0));
    order.sort_by_key(|&i| std::cmp::Reverse(samples[i]));
    at
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1,bmi2,lzcnt,movbe")]
unsafe fn decode_jobs_bmi2<C: AsRef<[u8]>>(
    p: &Plan<'_, C>,
    s: &mut PaddedStream,
    ts: &mut [MaybeUninit<i64>],
    vs: &mut [MaybeUninit<f64>],
) -> Result<()> {
    decode_jobs(p, s, ts, vs)
}

/// Sixteen chunks at a time through [`avx512::advance`], the rest four at a
/// time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1,bmi2,lzcnt,movbe")]
unsafe fn decode_jobs_avx512<C: AsRef<[u8]>>(
    p: &Plan<'_, C>,
    s: &mut PaddedStream,
    ts: &mut [MaybeUninit<i64>],
    vs: &mut [MaybeUninit<f64>],
) -> Result<()> {
    let mut groups = p.order.chunks_exact(avx512::LANES);
    let mut next = p.order.chunks(avx512::LANES).skip(1);
    for group in &mut groups {
        let group: [usize; avx512::LANES] = group.try_into().unwrap();
        let jobs = p.load(s, group);
        p.prefetch(next.next().unwrap_or_default());
        let first = group.map(|i| p.offs[i]);
        // SAFETY: the caller checked the CPU features.
        unsafe { decode_sixteen(s, &jobs, first, ts, vs) }
            .map_err(|(l, e)| e.context(format!("chunk {}", group[l])))?;
    }
    decode_fours(p, s, groups.remainder(), ts, vs)
}

/// Sixteen chunks whose streams are in `s`, chunk `l`'s samples going to
/// `first[l]..`.
///
/// # Safety
/// The CPU must have the features `avx512::available` checks.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn decode_sixteen(
    s: &PaddedStream,
    lane_jobs: &[Job; avx512::LANES],
    first: [usize; avx512::LANES],
    ts: &mut [MaybeUninit<i64>],
    vs: &mut [MaybeUninit<f64>],
) -> Result<(), (usize, Error)> {
    let mut states = lane_jobs.map(|j| State::new(j.start));
    for (l, (st, job)) in states.iter_mut().zip(lane_jobs).enumerate() {
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
                out.ts[first[l] + from].write(st.t);
                out.vs[first[l] + from].write(f64::from_bits(st.v));
            }
            from += 1;
        }
    }
    let from = from.max(2);
    for (l, (st, job)) in states.into_iter().zip(lane_jobs).enumerate() {
        let at = first[l]..first[l] + job.samples;
        decode_rest(st, s, job, from, &mut out.ts[at.clone()], &mut out.vs[at]).map_err(|e| (l, e))?;
    }
    Ok(())
}

#[inline(always)]
fn decode_jobs<C: AsRef<[u8]>>(
    p: &Plan<'_, C>,
    s: &mut PaddedStream,
    ts: &mut [MaybeUninit<i64>],
    vs: &mut [MaybeUninit<f64>],
) -> Result<()> {
    decode_fours(p, s, p.order, ts, vs)
}

/// The chunks of `order`, four at a time, then the last ones one by one.
#[inline(always)]
fn decode_fours<C: AsRef<[u8]>>(
    p: &Plan<'_, C>,
    s: &mut PaddedStream,
    order: &[usize],
    ts: &mut [MaybeUninit<i64>],
    vs: &mut [MaybeUninit<f64>],
) -> Result<()> {
    let mut groups = order.chunks_exact(LANES);
    let mut next = order.chunks(LANES).skip(1);
    for group in &mut groups {
        let group: [usize; LANES] = group.try_into().unwrap();
        let jobs = p.load(s, group);
        p.prefetch(next.next().unwrap_or_default());
        // Distinct chunks with samples: their output ranges never overlap.
        let t = ts.get_disjoint_mut(group.map(|i| p.range(i))).expect("chunk outputs are disjoint");
        let v = vs.get_disjoint_mut(group.map(|i| p.range(i))).expect("chunk outputs are disjoint");
        decode_four(s, &jobs, t, v).map_err(|(l, e)| e.context(format!("chunk {}", group[l])))?;
    }
    for &i in groups.remainder() {
        let [job] = p.load(s, [i]);
        decode_one(s, &job, &mut ts[p.range(i)], &mut vs[p.range(i)]).map_err(|e| e.context(format!("chunk {i}")))?;
    }
    Ok(())
}

/// One chunk, alone.
#[inline(always)]
fn decode_one(s: &PaddedStream, job: &Job, ts: &mut [MaybeUninit<i64>], vs: &mut [MaybeUninit<f64>]) -> Result<()> {
    let mut st = State::new(job.start);
    decode_head(&mut st, s, ts, vs)?;
    decode_rest(st, s, job, 2, ts, vs)
}

/// The first two samples, which are varints: decoded one by one.
#[inline(never)]
fn decode_head(
    st: &mut State,
    s: &PaddedStream,
    ts: &mut [MaybeUninit<i64>],
    vs: &mut [MaybeUninit<f64>],
) -> Result<()> {
    for i in 0..ts.len().min(2) {
        if i == 0 {
            st.first(s)?;
        } else {
            st.second(s)?;
        }
        ts[i].write(st.t);
        vs[i].write(f64::from_bits(st.v));
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
fn decode_rest(
    mut st: State,
    s: &PaddedStream,
    job: &Job,
    from: usize,
    ts: &mut [MaybeUninit<i64>],
    vs: &mut [MaybeUninit<f64>],
) -> Result<()> {
    for (t, v) in ts.iter_mut().zip(vs.iter_mut()).skip(from) {
        st.next(s, job.end);
        t.write(st.t);
        v.write(f64::from_bits(st.v));
    }
    st.finish(job.end, job.samples)
}

/// Four chunks side by side, each into its own output. An error comes with
/// the lane of the chunk that caused it.
#[inline(always)]
fn decode_four(
    s: &PaddedStream,
    jobs: &[Job; LANES],
    ts: [&mut [MaybeUninit<i64>]; LANES],
    vs: [&mut [MaybeUninit<f64>]; LANES],
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
            t0c[i].write(a.t);
            v0c[i].write(f64::from_bits(a.v));
            t1c[i].write(b.t);
            v1c[i].write(f64::from_bits(b.v));
            t2c[i].write(c.t);
            v2c[i].write(f64::from_bits(c.v));
            t3c[i].write(d.t);
            v3c[i].write(f64::from_bits(d.v));
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

    /// The output is sized from the headers before decoding, so a header that
    /// claims more samples than the chunk holds must be an error naming the
    /// chunk, with nothing written; one that claims fewer gives the first
    /// samples, as Prometheus's iterator stops at the count. (Up to three
    /// samples more than encoded can come out of the zero bits that pad the
    /// last byte, as they do from Prometheus's iterator; the claims here are at
    /// least four more.)
    #[test]
    fn a_lying_header_is_an_error_or_a_prefix() {
        let (good, ts, vs) = chunk(120, 7);
        let with_count = |n: u16| {
            let mut c = good.clone();
            c[..2].copy_from_slice(&n.to_be_bytes());
            c
        };
        for claim in [124, 125, 200, 479, 480, 1000, u16::MAX] {
            let mut chunks = vec![good.clone(); 21];
            chunks[9] = with_count(claim);
            for kernel in Kernel::available() {
                let (mut t, mut v) = (vec![1], vec![1.0]);
                let err = decode_many_with(kernel, &chunks, &mut t, &mut v).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::CorruptChunk, "{kernel:?} claim {claim}");
                assert!(err.message().starts_with("chunk 9: XOR chunk truncated"), "{kernel:?}: {}", err.message());
                assert_eq!((t, v), (vec![1], vec![1.0]));
            }
            assert_eq!(
                decode_into(&chunks[9], &mut Vec::new(), &mut Vec::new()).unwrap_err().kind(),
                ErrorKind::CorruptChunk
            );
        }
        for claim in [0, 1, 2, 3, 119] {
            let chunks = vec![with_count(claim); 18];
            let (counts, t, v) = decode_all_ways(&chunks).unwrap();
            assert_eq!(counts, vec![claim as usize; 18]);
            let n = claim as usize;
            assert_eq!(&t[..n], &ts[..n]);
            assert_eq!(v[..n], vs[..n].iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
    }

    /// Claims a chunk's bytes cannot hold are refused before any output is
    /// reserved: 200,000 chunks of 12 bytes claiming 65,535 samples each would
    /// otherwise ask for 13.1 billion samples (210 GB) first.
    #[test]
    fn impossible_claims_fail_before_allocating() {
        let tiny = [[0xff, 0xff].as_slice(), &[0; 10]].concat();
        let chunks = vec![tiny; 200_000];
        let (mut t, mut v) = (Vec::new(), Vec::new());
        let err = decode_many(&chunks, &mut t, &mut v).unwrap_err();
        assert!(err.message().starts_with("chunk 0: XOR chunk truncated"), "{}", err.message());
        assert_eq!((t.capacity(), v.capacity()), (0, 0));
    }

    /// The densest chunks there are (equal timestamps and values: two bits a
    /// sample) pass the header check at every length.
    #[test]
    fn the_densest_chunks_pass_the_header_check() {
        for n in 0..70 {
            let chunks = vec![encode(&vec![0; n], &vec![0.0; n]).unwrap(); 17];
            let (counts, _, _) = decode_all_ways(&chunks).unwrap();
            assert_eq!(counts, vec![n; 17]);
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
