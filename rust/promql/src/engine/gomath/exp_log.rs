//! Exponential and logarithms as Go 1.19 computes them on amd64, the platform
//! of Debian's Prometheus 2.42:
//!
//! - [`exp`] follows the assembly of `/usr/share/go-1.19/src/math/exp_amd64.s`
//!   (Shibata's method: reduce by multiples of ln 2, a degree-8 Taylor
//!   polynomial on a sixteenth of the remainder, then four squarings), in
//!   both its variants: plain SSE2, or fused multiply-adds when the CPU has
//!   AVX and FMA, chosen at run time as Go's `useFMA` (`exp_amd64.go`) does;
//! - [`ln`] follows `log_amd64.s` (same folder): the FreeBSD polynomial of
//!   `log.go`, but with the fraction taken straight from the bits (so
//!   subnormals get a wrong exponent, as in Go) and its own order of
//!   operations;
//! - [`log10`], [`log2`] (`log10.go`) and [`log1p`] (`log1p.go`) are Go's
//!   portable code on top of those.
//!
//! The C library's `exp` and `log` are correctly rounded more often, but
//! Prometheus's answers are Go's, last bit included.

use std::f64::consts::{FRAC_1_SQRT_2, LOG10_E, LOG2_E};

use super::scale::{frexp, FRAC_MASK};

const SIGN: u64 = 1 << 63;
const INF_BITS: u64 = 0x7ff0_0000_0000_0000;
const NEG_INF_BITS: u64 = 0xfff0_0000_0000_0000;

// ---- exp ----

/// Above this, `exp` overflows.
const EXP_OVERFLOW: f64 = 7.09782712893384e+02;
/// ln 2 split in two: a head with trailing zero bits, so that `k * LN2_HEAD`
/// is exact for the `k` that matter, and the rest.
const LN2_HEAD: f64 = 0.69314718055966295651160180568695068359375;
const LN2_TAIL: f64 = 0.28235290563031577122588448175013436025525412068e-12;
/// The Taylor coefficients 1/n! for n = 3..8 (1/2 and 1 are written inline).
const INV_FACT3: f64 = 1.6666666666666666667e-1;
const INV_FACT4: f64 = 4.1666666666666666667e-2;
const INV_FACT5: f64 = 8.3333333333333333333e-3;
const INV_FACT6: f64 = 1.3888888888888888889e-3;
const INV_FACT7: f64 = 1.9841269841269841270e-4;
const INV_FACT8: f64 = 2.4801587301587301587e-5;

/// 1.5 * 2^52: adding and subtracting it rounds anything below 2^51 in
/// magnitude to an integer, in the rounding mode in force (nearest-even).
const ROUNDER: f64 = 6_755_399_441_055_744.0;

/// `CVTSD2SI` into a 32-bit register: rounds to nearest, ties to even (the
/// default MXCSR mode), and gives `i32::MIN`, the "integer indefinite", for
/// NaN and out-of-range values.
#[inline]
fn round_to_i32(v: f64) -> i32 {
    let r = (v + ROUNDER) - ROUNDER;
    if (-2_147_483_648.0..2_147_483_648.0).contains(&r) {
        r as i32
    } else {
        i32::MIN
    }
}

/// Go's `useFMA`: the fused variant of `exp` runs when the CPU has both AVX
/// and FMA (never off x86-64, where Go has other code anyway).
#[inline]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(super) fn use_fma() -> bool {
    #[cfg(test)]
    if tests::UNFUSED.with(std::cell::Cell::get) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `e^r` for the remainder `r = x - k ln 2`, without fused operations:
/// `e^(r/16) - 1` from the Taylor polynomial by Horner's rule, doubled four
/// times through `(e^a - 1)(e^a - 1 + 2) = e^(2a) - 1`, plus 1.
#[inline]
fn exp_reduced(x: f64, k: f64) -> f64 {
    let mut r = x - LN2_HEAD * k;
    r -= LN2_TAIL * k;
    r *= 0.0625;
    let mut p = INV_FACT8 * r + INV_FACT7;
    p = p * r + INV_FACT6;
    p = p * r + INV_FACT5;
    p = p * r + INV_FACT4;
    p = p * r + INV_FACT3;
    p = p * r + 0.5;
    p = p * r + 1.0;
    let mut em1 = r * p;
    for _ in 0..4 {
        em1 *= em1 + 2.0;
    }
    em1 + 1.0
}

/// The same computation with the fused multiply-adds of Go's AVX/FMA path:
/// the reduction, every Horner step and the last squaring (which also adds
/// the final 1) round once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn exp_reduced_fma(x: f64, k: f64) -> f64 {
    let mut r = (-k).mul_add(LN2_HEAD, x);
    r = (-k).mul_add(LN2_TAIL, r);
    r *= 0.0625;
    let mut p = INV_FACT8.mul_add(r, INV_FACT7);
    p = p.mul_add(r, INV_FACT6);
    p = p.mul_add(r, INV_FACT5);
    p = p.mul_add(r, INV_FACT4);
    p = p.mul_add(r, INV_FACT3);
    p = p.mul_add(r, 0.5);
    p = p.mul_add(r, 1.0);
    let mut em1 = r * p;
    for _ in 0..3 {
        em1 *= em1 + 2.0;
    }
    em1.mul_add(em1 + 2.0, 1.0)
}

/// `m * 2^k`, with the assembly's limits: a biased exponent of 0x7ff or more
/// overflows to +Inf even when `m < 1` would bring it back, below -52 it is 0,
/// and in between it scales in two steps, rounding once into the subnormals.
#[inline]
fn scale_by_power_of_two(m: f64, k: i32) -> f64 {
    let biased = k + 0x3ff;
    if biased <= 0 {
        if biased < -52 {
            return 0.0;
        }
        let up = m * f64::from_bits(((biased + 0x3fe) as u64) << 52);
        return up * f64::MIN_POSITIVE;
    }
    if biased >= 0x7ff {
        return f64::INFINITY;
    }
    m * f64::from_bits((biased as u64) << 52)
}

/// Go's `math.Exp` on amd64.
#[inline]
pub(crate) fn exp(x: f64) -> f64 {
    let bits = x.to_bits();
    if bits & !SIGN >= INF_BITS {
        // -Inf gives 0; +Inf and NaN come back as they are.
        return if bits == NEG_INF_BITS { 0.0 } else { x };
    }
    if x > EXP_OVERFLOW {
        return f64::INFINITY;
    }
    let k = round_to_i32(LOG2_E * x);
    let kf = k as f64;
    #[cfg(target_arch = "x86_64")]
    let m = if use_fma() {
        // SAFETY: the CPU has FMA (and AVX), checked just above.
        unsafe { exp_reduced_fma(x, kf) }
    } else {
        exp_reduced(x, kf)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let m = exp_reduced(x, kf);
    scale_by_power_of_two(m, k)
}

// ---- log ----

/// sqrt(2)/2: fractions at or below it are doubled, so that `f = 2^k x - 1`
/// falls in [sqrt(2)/2 - 1, sqrt(2) - 1].
const HALF_SQRT2: f64 = FRAC_1_SQRT_2;
/// ln 2 split in two: `k * LN2_HI` is exact for every exponent `k`.
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
/// The FreeBSD (fdlibm) coefficients of the series in `s = f / (2 + f)`.
const LG1: f64 = 6.666666666666735130e-01;
const LG2: f64 = 3.999999999940941908e-01;
const LG3: f64 = 2.857142874366239149e-01;
const LG4: f64 = 2.222219843214978396e-01;
const LG5: f64 = 1.818357216161805012e-01;
const LG6: f64 = 1.531383769920937332e-01;
const LG7: f64 = 1.479819860511658591e-01;
const HALF_BITS: u64 = 0x3fe0_0000_0000_0000;

/// Go's `math.Log` on amd64.
#[inline]
pub(crate) fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    if bits & !SIGN == 0 {
        return f64::NEG_INFINITY;
    }
    if bits & SIGN != 0 {
        return f64::NAN;
    }
    if bits >= INF_BITS {
        return x;
    }
    // The fraction in [0.5, 1) and exponent straight from the bits: a
    // subnormal is read as if its exponent field were that of 2^-1022.
    let f1 = f64::from_bits((bits & FRAC_MASK) | HALF_BITS);
    let k = (((bits >> 52) & 0x7ff) as i32 - 0x3fe) as f64;
    // The assembly compares with "not less than", so a fraction equal to
    // sqrt(2)/2 is doubled too; it adds 0 or 1 and multiplies by 1 or 2.
    let below = f64::from(u8::from(f1 <= HALF_SQRT2));
    let k = k - below;
    let f = f1 * (below + 1.0) - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (((LG7 * s4 + LG5) * s4 + LG3) * s4 + LG1);
    let t2 = s4 * ((LG6 * s4 + LG4) * s4 + LG2);
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

/// Go's `math.Log10`: the natural logarithm times the double nearest 1/ln 10.
#[inline]
pub(crate) fn log10(x: f64) -> f64 {
    ln(x) * LOG10_E
}

/// Go's `math.Log2`: exact for powers of two, else the logarithm of the
/// fraction (in [0.5, 1)) in base 2 plus the exponent.
#[inline]
pub(crate) fn log2(x: f64) -> f64 {
    let (frac, exp) = frexp(x);
    if frac == 0.5 {
        return (exp - 1) as f64;
    }
    ln(frac) * LOG2_E + exp as f64
}

// ---- log1p ----

/// sqrt(2) - 1 and sqrt(2)/2 - 1 as Go's decimal constants round them (one
/// unit in the last place off the values their comments name).
const SQRT2_M1: f64 = 4.142135623730950488017e-01;
const HALF_SQRT2_M1: f64 = -2.928932188134524755992e-01;
/// 2^-29 and 2^-54: below these, `x - x²/2` and `x` are exact enough.
const SMALL: f64 = 1.0 / (1u64 << 29) as f64;
const TINY: f64 = 1.0 / (1u64 << 54) as f64;
const TWO_53: f64 = (1u64 << 53) as f64;
/// The significand bits of sqrt(2).
const SQRT2_FRAC_BITS: u64 = 0x0006_a09e_667f_3bcd;
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;

/// Go's `math.Log1p` (fdlibm's `log1p`), used by `asinh`, `acosh`, `atanh`.
pub(crate) fn log1p(x: f64) -> f64 {
    if x < -1.0 || x.is_nan() {
        return f64::NAN;
    }
    if x == -1.0 {
        return f64::NEG_INFINITY;
    }
    if x == f64::INFINITY {
        return f64::INFINITY;
    }
    let absx = x.abs();
    let mut f = 0.0;
    let mut iu: u64 = 0;
    let mut k: i64 = 1;
    if absx < SQRT2_M1 {
        if absx < SMALL {
            if absx < TINY {
                return x;
            }
            return x - x * x * 0.5;
        }
        if x > HALF_SQRT2_M1 {
            // No reduction: log1p(x) directly from f = x.
            k = 0;
            f = x;
            iu = 1;
        }
    }
    let mut c = 0.0;
    if k != 0 {
        let mut u;
        if absx < TWO_53 {
            u = 1.0 + x;
            iu = u.to_bits();
            k = (iu >> 52) as i64 - 1023;
            // What rounding 1 + x lost, relative to u.
            c = if k > 0 { 1.0 - (u - x) } else { x - (u - 1.0) };
            c /= u;
        } else {
            u = x;
            iu = u.to_bits();
            k = (iu >> 52) as i64 - 1023;
        }
        iu &= FRAC_MASK;
        if iu < SQRT2_FRAC_BITS {
            u = f64::from_bits(iu | ONE_BITS);
        } else {
            k += 1;
            u = f64::from_bits(iu | HALF_BITS);
            iu = ((1u64 << 52) - iu) >> 2;
        }
        f = u - 1.0;
    }
    let hfsq = 0.5 * f * f;
    let kf = k as f64;
    if iu == 0 {
        // f is zero or a few units in the last place from it: a short series.
        if f == 0.0 {
            if k == 0 {
                return 0.0;
            }
            c += kf * LN2_LO;
            return kf * LN2_HI + c;
        }
        let r = hfsq * (1.0 - 0.66666666666666666 * f);
        if k == 0 {
            return f - r;
        }
        return kf * LN2_HI - ((r - (kf * LN2_LO + c)) - f);
    }
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * (LG1 + z * (LG2 + z * (LG3 + z * (LG4 + z * (LG5 + z * (LG6 + z * LG7))))));
    if k == 0 {
        return f - (hfsq - s * (hfsq + r));
    }
    kf * LN2_HI - ((hfsq - (s * (hfsq + r) + (kf * LN2_LO + c))) - f)
}

#[cfg(test)]
pub(super) mod tests {
    use std::cell::Cell;

    use super::super::tests::same;
    use super::*;

    thread_local! {
        /// Makes this thread's `exp` take Go's path for CPUs without FMA.
        pub(in super::super) static UNFUSED: Cell<bool> = const { Cell::new(false) };
    }

    #[test]
    fn constants_are_the_doubles_go_folds() {
        // Go folds 1/Ln10 and 1/Ln2 exactly, then rounds once.
        assert_eq!(LOG10_E.to_bits(), 0x3fdb_cb7b_1526_e50e);
        assert_eq!(LOG2_E.to_bits(), 0x3ff7_1547_652b_82fe);
        assert_eq!(LN2_HI.to_bits(), 0x3fe6_2e42_fee0_0000);
        assert_eq!(LN2_LO.to_bits(), 0x3dea_39ef_3579_3c76);
        assert_eq!(LG1.to_bits(), 0x3fe5_5555_5555_5593);
        assert_eq!(LG7.to_bits(), 0x3fc2_f112_df3e_5244);
        assert_eq!(HALF_SQRT2.to_bits(), 0x3fe6_a09e_667f_3bcd);
        assert_eq!(SQRT2_M1.to_bits(), 0x3fda_8279_99fc_ef32);
        assert_eq!(HALF_SQRT2_M1.to_bits(), 0xbfd2_bec3_3301_8867);
    }

    #[test]
    fn exp_special_cases() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert_eq!(exp(1.0), std::f64::consts::E);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
        // Go overflows once x log2(e) rounds to 1024, short of the real limit.
        assert!(exp(709.43).is_finite());
        assert_eq!(exp(709.44), f64::INFINITY);
        assert_eq!(exp(709.7), f64::INFINITY);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(1e300), f64::INFINITY);
        assert_eq!(exp(-1e300), 0.0);
        assert_eq!(exp(-746.0), 0.0);
        assert_eq!(exp(-745.0), f64::from_bits(1));
        assert_eq!(exp(-740.0), 4.2e-322);
        assert!(exp(-708.5) > 0.0 && exp(-708.5) < f64::MIN_POSITIVE);
        assert_eq!(exp(5e-324), 1.0);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn exp_variants_agree_to_an_ulp() {
        if use_fma() {
            let mut x = -745.0;
            while x < 709.0 {
                let k = round_to_i32(LOG2_E * x) as f64;
                // SAFETY: FMA checked above.
                let (a, b) = (exp_reduced(x, k), unsafe { exp_reduced_fma(x, k) });
                assert!((a - b).abs() <= 2.0 * f64::EPSILON * a, "{x}: {a} {b}");
                x += 0.123_456_7;
            }
        }
    }

    #[test]
    fn exp_ends_in_the_go_digits() {
        // Values Prometheus 2.42 gives on an AVX/FMA machine.
        if use_fma() {
            assert_eq!(exp(0.5), 1.6487212707001282);
            assert_eq!(exp(-1.0), 0.36787944117144233);
            assert_eq!(exp(709.43), 1.2633808701860083e308);
            assert_eq!(exp(-708.5), 2.006132305331306e-308);
        }
    }

    #[test]
    fn rounding_to_i32_is_cvtsd2si() {
        assert_eq!(round_to_i32(2.5), 2);
        assert_eq!(round_to_i32(3.5), 4);
        assert_eq!(round_to_i32(-2.5), -2);
        assert_eq!(round_to_i32(-1e300), i32::MIN);
        assert_eq!(round_to_i32(3e9), i32::MIN);
        assert_eq!(round_to_i32(f64::NAN), i32::MIN);
        assert_eq!(round_to_i32(2147483647.4), i32::MAX);
        assert_eq!(round_to_i32(2147483647.5), i32::MIN);
        assert_eq!(round_to_i32(-2147483648.5), i32::MIN);
        assert_eq!(round_to_i32(-2147483647.5), -2147483648);
        assert_eq!(round_to_i32(-0.5), 0);
        assert_eq!(round_to_i32(1023.5), 1024);
    }

    #[test]
    fn log_special_cases() {
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan());
        assert!(ln(f64::NEG_INFINITY).is_nan());
        assert!(ln(f64::NAN).is_nan());
        assert!(ln(-f64::NAN).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(std::f64::consts::E), 1.0);
        assert_eq!(ln(f64::MAX), 709.782712893384);
        // Subnormals are read with the exponent of 2^-1022, as Go's assembly
        // does: Prometheus gives -709.09 for ln(5e-324), not -744.44.
        assert_eq!(ln(f64::from_bits(1)), -709.0895657128241);
        assert_eq!(ln(f64::MIN_POSITIVE), -708.3964185322641);
    }

    #[test]
    fn log_doubles_a_fraction_equal_to_half_sqrt2() {
        // sqrt(2) has the fraction sqrt(2)/2: taken as k = 0, f = sqrt(2) - 1.
        let x = std::f64::consts::SQRT_2;
        assert_eq!(ln(x), 0.3465735902799727);
    }

    #[test]
    fn log10_and_log2() {
        assert_eq!(log10(1000.0), 3.0);
        assert_eq!(log10(1e300), 300.0);
        assert_eq!(log10(f64::from_bits(1)), -307.9536855642528);
        assert_eq!(log10(0.0), f64::NEG_INFINITY);
        assert!(log10(-1.0).is_nan());
        assert_eq!(log2(8.0), 3.0);
        assert_eq!(log2(std::f64::consts::SQRT_2), 0.5000000000000001);
        assert_eq!(log2(f64::MAX), 1024.0);
        assert_eq!(log2(f64::from_bits(1)), -1074.0);
        assert_eq!(log2(0.0), f64::NEG_INFINITY);
        assert_eq!(log2(f64::INFINITY), f64::INFINITY);
        assert!(log2(-2.0).is_nan());
        assert!(log2(f64::NAN).is_nan());
    }

    #[test]
    fn log1p_special_cases() {
        assert!(same(log1p(-0.0), -0.0));
        assert!(same(log1p(0.0), 0.0));
        assert_eq!(log1p(-1.0), f64::NEG_INFINITY);
        assert!(log1p(-1.5).is_nan());
        assert!(log1p(f64::NEG_INFINITY).is_nan());
        assert!(log1p(f64::NAN).is_nan());
        assert_eq!(log1p(f64::INFINITY), f64::INFINITY);
        assert_eq!(log1p(1e-300), 1e-300);
        assert_eq!(log1p(f64::from_bits(1)), f64::from_bits(1));
        assert_eq!(log1p(1e300), 690.7755278982137);
        for x in [1e-10, 0.3, -0.3, 1.0, 7.5, 1e10, 1e17] {
            assert!((log1p(x) - x.ln_1p()).abs() <= 2.0 * f64::EPSILON * x.ln_1p().abs(), "{x}");
        }
    }
}
