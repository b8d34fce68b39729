//! Sine, cosine and tangent as Go 1.19 computes them (portable Go on amd64):
//! `/usr/share/go-1.19/src/math/sin.go` and `tan.go` (Cephes polynomials on
//! an octant-reduced argument) and `trig_reduce.go` (Payne–Hanek reduction
//! with 4/π to 1280 bits for arguments of 2^29 and more).
//!
//! The C library reduces and rounds differently, so its results differ in the
//! last bit, and for huge arguments in many bits; Prometheus's are Go's.

use std::f64::consts::FRAC_PI_4;

use super::scale::FRAC_MASK;

/// π/4 in three parts whose multiples by the octant count stay exact (Cody and
/// Waite's reduction), for arguments below [`REDUCE_THRESHOLD`].
const PI4_A: f64 = 7.85398125648498535156e-1;
const PI4_B: f64 = 3.77489470793079817668e-8;
const PI4_C: f64 = 2.69515142907905952645e-15;
/// The double nearest 4/π.
const FOUR_OVER_PI: f64 = 1.2732395447351628;
/// From here on, the three-part reduction loses bits: use Payne–Hanek.
const REDUCE_THRESHOLD: f64 = (1u64 << 29) as f64;

/// Sine on [-π/4, π/4]: `z + z³ P(z²)`.
const SIN: [f64; 6] = [
    1.58962301576546568060e-10,
    -2.50507477628578072866e-8,
    2.75573136213857245213e-6,
    -1.98412698295895385996e-4,
    8.33333333332211858878e-3,
    -1.66666666666666307295e-1,
];
/// Cosine on [-π/4, π/4]: `1 - z²/2 + z⁴ Q(z²)`.
const COS: [f64; 6] = [
    -1.13585365213876817300e-11,
    2.08757008419747316778e-9,
    -2.75573141792967388112e-7,
    2.48015872888517045348e-5,
    -1.38888888888730564116e-3,
    4.16666666666665929218e-2,
];
/// Tangent on [-π/4, π/4]: `z + z³ P(z²) / Q(z²)` (Q's leading 1 implicit).
const TAN_P: [f64; 3] = [-1.30936939181383777646e4, 1.15351664838587416140e6, -1.79565251976484877988e7];
const TAN_Q: [f64; 4] =
    [1.36812963470692954678e4, -1.32089234440210967447e6, 2.50083801823357915839e7, -5.38695755929454629881e7];

/// The binary digits of 4/π, 64 to a word, with one leading word of integer
/// part (the value is 1.27…, so that word is 1).
const FOUR_OVER_PI_BITS: [u64; 20] = [
    0x0000000000000001,
    0x45f306dc9c882a53,
    0xf84eafa3ea69bb81,
    0xb6c52b3278872083,
    0xfca2c757bd778ac3,
    0x6e48dc74849ba5c0,
    0x0c925dd413a32439,
    0xfc3bd63962534e7d,
    0xd1046bea5d768909,
    0xd338e04d68befc82,
    0x7323ac7306a673e9,
    0x3908bf177bf25076,
    0x3ff12fffbc0b301f,
    0xde5e2316b414da3e,
    0xda6cfd9e4f96136e,
    0x9e8c7ecd3cbfd45a,
    0xea4f758fd7cbe2f6,
    0x7a0e73ef14a525d4,
    0xd7f6bf623f1aba10,
    0xac06608df8f6d757,
];

/// Shifts as Go defines them on unsigned words: by 64 or more gives 0.
#[inline]
fn shl(v: u64, n: u32) -> u64 {
    v.checked_shl(n).unwrap_or(0)
}

#[inline]
fn shr(v: u64, n: u32) -> u64 {
    v.checked_shr(n).unwrap_or(0)
}

/// Payne–Hanek: for `x >= π/4` (finite), the octant `j` (made even, 0..=6)
/// and the remainder `z` in radians, with `x = j π/4 + z` modulo 2π.
fn trig_reduce(x: f64) -> (u64, f64) {
    if x < FRAC_PI_4 {
        return (0, x);
    }
    // x = ix * 2^exp with ix an integer of 53 bits.
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1023 - 52;
    let ix = (bits & FRAC_MASK) | (1 << 52);
    // Three words of 4/π, starting where their product with ix has its
    // leading digit at 2^-61 (exp >= -53, so the index is not negative).
    let start = (exp + 61) as u32;
    let (word, shift) = ((start / 64) as usize, start % 64);
    let digits = &FOUR_OVER_PI_BITS[word..word + 4];
    let z0 = shl(digits[0], shift) | shr(digits[1], 64 - shift);
    let z1 = shl(digits[1], shift) | shr(digits[2], 64 - shift);
    let z2 = shl(digits[2], shift) | shr(digits[3], 64 - shift);
    // The upper two words of the product, modulo 2^128.
    let z2_hi = ((u128::from(z2) * u128::from(ix)) >> 64) as u64;
    let z1_prod = u128::from(z1) * u128::from(ix);
    let (z1_hi, z1_lo) = ((z1_prod >> 64) as u64, z1_prod as u64);
    let z0_lo = z0.wrapping_mul(ix);
    let (lo, carry) = z1_lo.overflowing_add(z2_hi);
    let hi = z0_lo.wrapping_add(z1_hi).wrapping_add(u64::from(carry));
    // The top three bits are the octant; the rest is the fraction of it.
    let mut j = hi >> 61;
    let hi = (hi << 3) | (lo >> 61);
    let lz = hi.leading_zeros();
    let biased_exp = 1023u64.wrapping_sub(u64::from(lz) + 1);
    // Drop the leading one, keep 52 bits, and put the exponent on top.
    let frac = (shl(hi, lz + 1) | shr(lo, 64u32.wrapping_sub(lz + 1))) >> 12;
    let mut z = f64::from_bits(frac | (biased_exp << 52));
    // An odd octant counts from its upper end.
    if j & 1 == 1 {
        j = (j + 1) & 7;
        z -= 1.0;
    }
    (j, z * FRAC_PI_4)
}

/// The octant (made even) and remainder of a non-negative finite `x`.
#[inline]
fn reduce(x: f64) -> (u64, f64) {
    if x >= REDUCE_THRESHOLD {
        return trig_reduce(x);
    }
    let mut j = (x * FOUR_OVER_PI) as u64;
    let mut y = j as f64;
    if j & 1 == 1 {
        j += 1;
        y += 1.0;
    }
    (j, ((x - y * PI4_A) - y * PI4_B) - y * PI4_C)
}

#[inline]
fn sin_poly(z: f64, zz: f64) -> f64 {
    let p = ((((SIN[0] * zz + SIN[1]) * zz + SIN[2]) * zz + SIN[3]) * zz + SIN[4]) * zz + SIN[5];
    z + z * zz * p
}

#[inline]
fn cos_poly(zz: f64) -> f64 {
    let q = ((((COS[0] * zz + COS[1]) * zz + COS[2]) * zz + COS[3]) * zz + COS[4]) * zz + COS[5];
    1.0 - 0.5 * zz + zz * zz * q
}

/// Go's `math.Sin`.
#[inline]
pub(crate) fn sin(x: f64) -> f64 {
    if x == 0.0 || x.is_nan() {
        return x;
    }
    if x.is_infinite() {
        return f64::NAN;
    }
    let (j, z) = reduce(x.abs());
    let mut negate = x < 0.0;
    let mut j = j & 7;
    if j > 3 {
        negate = !negate;
        j -= 4;
    }
    let zz = z * z;
    let y = if j == 1 || j == 2 { cos_poly(zz) } else { sin_poly(z, zz) };
    if negate {
        -y
    } else {
        y
    }
}

/// Go's `math.Cos`.
#[inline]
pub(crate) fn cos(x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let (j, z) = reduce(x.abs());
    let mut j = j & 7;
    let mut negate = false;
    if j > 3 {
        j -= 4;
        negate = true;
    }
    if j > 1 {
        negate = !negate;
    }
    let zz = z * z;
    let y = if j == 1 || j == 2 { sin_poly(z, zz) } else { cos_poly(zz) };
    if negate {
        -y
    } else {
        y
    }
}

/// Go's `math.Tan`.
#[inline]
pub(crate) fn tan(x: f64) -> f64 {
    if x == 0.0 || x.is_nan() {
        return x;
    }
    if x.is_infinite() {
        return f64::NAN;
    }
    let (j, z) = reduce(x.abs());
    let zz = z * z;
    let mut y = if zz > 1e-14 {
        let p = (TAN_P[0] * zz + TAN_P[1]) * zz + TAN_P[2];
        let q = (((zz + TAN_Q[0]) * zz + TAN_Q[1]) * zz + TAN_Q[2]) * zz + TAN_Q[3];
        z + z * (zz * p / q)
    } else {
        z
    };
    if j & 2 == 2 {
        y = -1.0 / y;
    }
    if x < 0.0 {
        -y
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::same;
    use super::*;

    #[test]
    fn constants() {
        assert_eq!(FOUR_OVER_PI, 2.0 * std::f64::consts::FRAC_2_PI);
        assert_eq!(PI4_A.to_bits(), 0x3fe9_21fb_4000_0000);
        assert_eq!(PI4_B.to_bits(), 0x3e64_442d_0000_0000);
        assert_eq!(PI4_C.to_bits(), 0x3ce8_4698_98cc_5170);
    }

    #[test]
    fn special_cases() {
        for f in [sin, tan] {
            assert!(same(f(0.0), 0.0));
            assert!(same(f(-0.0), -0.0));
        }
        for f in [sin, cos, tan] {
            assert!(f(f64::NAN).is_nan());
            assert!(f(f64::INFINITY).is_nan());
            assert!(f(f64::NEG_INFINITY).is_nan());
        }
        assert_eq!(cos(0.0), 1.0);
        assert_eq!(cos(-0.0), 1.0);
        assert!(same(sin(f64::from_bits(1)), f64::from_bits(1)));
        assert!(same(tan(-f64::from_bits(1)), -f64::from_bits(1)));
        assert_eq!(cos(f64::from_bits(1)), 1.0);
    }

    #[test]
    fn close_to_the_c_library() {
        let mut x = -1e4;
        while x < 1e4 {
            for (ours, libm) in [(sin(x), x.sin()), (cos(x), x.cos())] {
                assert!((ours - libm).abs() <= 2.0 * f64::EPSILON, "{x}: {ours} {libm}");
            }
            let (t, l) = (tan(x), x.tan());
            assert!((t - l).abs() <= 4.0 * f64::EPSILON * l.abs().max(1.0), "{x}: {t} {l}");
            x += 0.987_654_321;
        }
    }

    #[test]
    fn huge_arguments_use_payne_hanek() {
        // Correctly rounded values of sin and cos at these points, which the
        // reduction gets right.
        for x in [1e9, 1e15 + 0.5, 1e22, 1e300, f64::MAX, 2f64.powi(29), 3.0 * 2f64.powi(60)] {
            assert!((sin(x) - x.sin()).abs() <= 2.0 * f64::EPSILON, "{x}");
            assert!((cos(x) - x.cos()).abs() <= 2.0 * f64::EPSILON, "{x}");
            assert!((tan(x) - x.tan()).abs() <= 4.0 * f64::EPSILON * x.tan().abs().max(1.0), "{x}");
            assert!(same(sin(-x), -sin(x)) && same(cos(-x), cos(x)));
        }
        assert_eq!(trig_reduce(0.5), (0, 0.5));
    }
}
