//! Sixteen XOR chunks at once with AVX-512.
//!
//! The scalar decoder is bound by instruction count once four chunks hide each
//! other's latency. Here each 512-bit register holds one field of eight chunks'
//! decoding states, so one instruction does the work of eight, and two such
//! groups run interleaved to hide the latency of the gathers. The arithmetic is
//! `State::next` transcribed lane-wise; the cases it handles out of line there
//! (a 64-bit delta of delta, a position past the end of the data) make
//! [`advance`] stop and hand the states back to the scalar code.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::bstream::PaddedStream;
use super::xor::State;

/// Chunks per vector.
pub const WIDTH: usize = 8;
/// Vectors of chunks decoded side by side.
pub const GROUPS: usize = 2;
/// Chunks per call of [`advance`].
pub const LANES: usize = WIDTH * GROUPS;

/// Whether this CPU has every instruction [`advance`] uses.
pub fn available() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512cd")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vbmi2")
}

/// One field of eight states.
#[derive(Clone, Copy)]
struct Lanes {
    pos: __m512i,
    t: __m512i,
    t_delta: __m512i,
    v: __m512i,
    sig: __m512i,
    trailing: __m512i,
    bad: __m512i,
}

/// Where the chunks of one call write their samples (not yet initialised:
/// see `batch::spare`), and where their data ends.
pub struct Outputs<'a> {
    pub ts: &'a mut [MaybeUninit<i64>],
    pub vs: &'a mut [MaybeUninit<f64>],
    /// Index in `ts`/`vs` of each chunk's sample 0.
    pub first: [usize; LANES],
    /// Bit position where each chunk's data ends.
    pub end: [usize; LANES],
}

/// Advances the states by up to `steps` samples each, writing sample `from + i`
/// of chunk `l` to `first[l] + from + i`. Returns how many steps it took: fewer
/// than asked when a chunk needs the scalar decoder for its next sample.
///
/// # Safety
/// The CPU must support the features [`available`] checks.
#[target_feature(enable = "avx512f,avx512cd,avx512bw,avx512vbmi2")]
pub unsafe fn advance(
    s: &PaddedStream,
    states: &mut [State; LANES],
    out: &mut Outputs<'_>,
    from: usize,
    steps: usize,
) -> usize {
    // The scatters below write `first[l] + from ..+ steps` without bounds checks.
    assert_eq!(out.ts.len(), out.vs.len());
    for l in 0..LANES {
        assert!(steps == 0 || out.first[l] + from + steps <= out.ts.len());
    }
    let buf = s.bytes();
    let base = buf.as_ptr() as *const i64;
    // Per 128-bit lane, reverse the bytes of each 64-bit half: big-endian loads.
    let bswap = _mm512_set_epi8(
        8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7,
    );
    // `DOD_LEN` and `DOD_SHIFT` of `xor.rs`, indexed by the count of leading ones.
    let dod_len = _mm512_set_epi64(0, 0, 0, 0, 24, 20, 16, 1);
    let dod_shift = _mm512_set_epi64(0, 0, 0, 0, 44, 47, 50, 0);
    let one = _mm512_set1_epi64(1);
    let c64 = _mm512_set1_epi64(64);

    let mut g: [Lanes; GROUPS] = std::array::from_fn(|k| load(&states[k * WIDTH..(k + 1) * WIDTH]));
    let ends: [__m512i; GROUPS] =
        std::array::from_fn(|k| _mm512_loadu_epi64(out.end[k * WIDTH..].as_ptr() as *const i64));
    let mut idx: [__m512i; GROUPS] = std::array::from_fn(|k| {
        _mm512_add_epi64(
            _mm512_loadu_epi64(out.first[k * WIDTH..].as_ptr() as *const i64),
            _mm512_set1_epi64(from as i64),
        )
    });
    let mut done = 0;
    'steps: while done < steps {
        let mut hi = [_mm512_setzero_si512(); GROUPS];
        let mut lo = [_mm512_setzero_si512(); GROUPS];
        let mut w = [_mm512_setzero_si512(); GROUPS];
        let mut ones = [_mm512_setzero_si512(); GROUPS];
        for k in 0..GROUPS {
            // Past its end a chunk is truncated or corrupt: the scalar code reports it.
            if _mm512_cmpgt_epu64_mask(g[k].pos, ends[k]) != 0 {
                break 'steps;
            }
            // The 128 bits from the byte holding `pos`: a sample spans at most
            // 7 + 24 + 13 + 64 bits of them. SAFETY: `pos` is inside the data, so
            // both loads fall within the padding after it.
            let byte = _mm512_srli_epi64::<3>(g[k].pos);
            hi[k] = _mm512_shuffle_epi8(unsafe { _mm512_i64gather_epi64::<1>(byte, base) }, bswap);
            let byte8 = _mm512_add_epi64(byte, _mm512_set1_epi64(8));
            lo[k] = _mm512_shuffle_epi8(unsafe { _mm512_i64gather_epi64::<1>(byte8, base) }, bswap);
            w[k] = _mm512_shldv_epi64(hi[k], lo[k], _mm512_and_si512(g[k].pos, _mm512_set1_epi64(7)));
            ones[k] = _mm512_lzcnt_epi64(_mm512_ternarylogic_epi64::<0x55>(w[k], w[k], w[k]));
            // A 64-bit delta of delta (bucket 1111) is left to the scalar code.
            if _mm512_cmpge_epu64_mask(ones[k], _mm512_set1_epi64(4)) != 0 {
                break 'steps;
            }
        }
        for k in 0..GROUPS {
            let st = &mut g[k];
            let (w, ones) = (w[k], ones[k]);
            // Delta of delta, as in `State::next`.
            let len = _mm512_permutexvar_epi64(ones, dod_len);
            let shift = _mm512_permutexvar_epi64(ones, dod_shift);
            let raw = _mm512_srlv_epi64(_mm512_sllv_epi64(w, _mm512_add_epi64(ones, one)), shift);
            let dod =
                _mm512_add_epi64(_mm512_srav_epi64(_mm512_sllv_epi64(_mm512_sub_epi64(raw, one), shift), shift), one);
            let dod = _mm512_maskz_mov_epi64(_mm512_test_epi64_mask(ones, ones), dod);
            st.t_delta = _mm512_add_epi64(st.t_delta, dod);
            st.t = _mm512_add_epi64(st.t, st.t_delta);
            // Value header, as in `State::read_value`.
            let header = _mm512_sllv_epi64(w, len);
            let changed = _mm512_cmplt_epi64_mask(header, _mm512_setzero_si512());
            let new_window = _mm512_cmpeq_epi64_mask(_mm512_srli_epi64::<62>(header), _mm512_set1_epi64(3));
            let leading = _mm512_and_si512(_mm512_srli_epi64::<57>(header), _mm512_set1_epi64(0x1f));
            let sig6 = _mm512_and_si512(_mm512_srli_epi64::<51>(header), _mm512_set1_epi64(0x3f));
            let sig = _mm512_add_epi64(_mm512_and_si512(_mm512_sub_epi64(sig6, one), _mm512_set1_epi64(63)), one);
            let trailing = _mm512_sub_epi64(_mm512_sub_epi64(c64, leading), sig);
            st.sig = _mm512_mask_mov_epi64(st.sig, new_window, sig);
            st.trailing =
                _mm512_mask_mov_epi64(st.trailing, new_window, _mm512_and_si512(trailing, _mm512_set1_epi64(63)));
            st.bad = _mm512_mask_or_epi64(st.bad, new_window, st.bad, trailing);
            let payload_len = _mm512_maskz_mov_epi64(changed, st.sig);
            let header_len = _mm512_add_epi64(
                _mm512_mask_add_epi64(one, changed, one, one),
                _mm512_maskz_mov_epi64(new_window, _mm512_set1_epi64(11)),
            );
            // The payload's offset from the loaded byte is at most 7 + 24 + 13.
            let skip = _mm512_add_epi64(len, header_len);
            let offset = _mm512_add_epi64(_mm512_and_si512(st.pos, _mm512_set1_epi64(7)), skip);
            let top = _mm512_shldv_epi64(hi[k], lo[k], offset);
            // A shift by 64 yields 0 here, which is what an unchanged value needs.
            let bits = _mm512_srlv_epi64(top, _mm512_sub_epi64(c64, payload_len));
            st.v = _mm512_xor_si512(st.v, _mm512_sllv_epi64(bits, st.trailing));
            st.pos = _mm512_add_epi64(st.pos, _mm512_add_epi64(skip, payload_len));
            // SAFETY: `idx` stays below `first[l] + from + steps`, asserted above.
            unsafe {
                _mm512_i64scatter_epi64::<8>(out.ts.as_mut_ptr().cast::<i64>(), idx[k], st.t);
                _mm512_i64scatter_epi64::<8>(out.vs.as_mut_ptr().cast::<i64>(), idx[k], st.v);
            }
            idx[k] = _mm512_add_epi64(idx[k], one);
        }
        done += 1;
    }
    for k in 0..GROUPS {
        store(&g[k], &mut states[k * WIDTH..(k + 1) * WIDTH]);
    }
    done
}

#[inline(always)]
fn load(states: &[State]) -> Lanes {
    let f = |get: &dyn Fn(&State) -> i64| {
        let a: [i64; WIDTH] = std::array::from_fn(|l| get(&states[l]));
        // SAFETY: `a` holds eight i64s, an unaligned 512-bit load reads exactly them.
        unsafe { _mm512_loadu_epi64(a.as_ptr()) }
    };
    Lanes {
        pos: f(&|s| s.pos as i64),
        t: f(&|s| s.t),
        t_delta: f(&|s| s.t_delta as i64),
        v: f(&|s| s.v as i64),
        sig: f(&|s| s.sig as i64),
        trailing: f(&|s| s.trailing as i64),
        bad: f(&|s| s.bad_window as i32 as i64),
    }
}

#[inline(always)]
fn store(lanes: &Lanes, states: &mut [State]) {
    let f = |v: __m512i| {
        let mut a = [0i64; WIDTH];
        // SAFETY: `a` has room for eight i64s.
        unsafe { _mm512_storeu_epi64(a.as_mut_ptr(), v) };
        a
    };
    let (pos, t, t_delta, v) = (f(lanes.pos), f(lanes.t), f(lanes.t_delta), f(lanes.v));
    let (sig, trailing, bad) = (f(lanes.sig), f(lanes.trailing), f(lanes.bad));
    for (l, st) in states.iter_mut().enumerate() {
        st.pos = pos[l] as usize;
        st.t = t[l];
        st.t_delta = t_delta[l] as u64;
        st.v = v[l] as u64;
        st.sig = sig[l] as u32;
        st.trailing = trailing[l] as u32;
        // Keep the sign bit that marks a bad window.
        st.bad_window |= (bad[l] >> 32) as u32 | bad[l] as u32;
    }
}
