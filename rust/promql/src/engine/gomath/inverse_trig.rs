//! Inverse trigonometric functions as Go 1.19 computes them (portable Go on
//! amd64): `/usr/share/go-1.19/src/math/atan.go` (Cephes' rational
//! approximation after reduction to [0, 0.66]), `asin.go` (through the
//! arctangent) and `atan2.go` (quadrants and IEEE special cases).
//!
//! These are not fdlibm's algorithms, so the C library's results differ in
//! the last bit; Prometheus's `asin`, `acos`, `atan` and `atan2` are Go's.

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};

/// The double nearest 3π/4.
const THREE_PI_4: f64 = 2.356194490192345;
/// π/2 minus the double nearest it.
const MOREBITS: f64 = 6.123233995736765886130e-17;
/// tan(3π/8): above it, atan(x) = π/2 - atan(1/x).
const TAN_3PI_8: f64 = 2.41421356237309504880;

const P: [f64; 5] = [
    -8.750608600031904122785e-01,
    -1.615753718733365076637e+01,
    -7.500855792314704667340e+01,
    -1.228866684490136173410e+02,
    -6.485021904942025371773e+01,
];
/// The denominator's coefficients after its implicit leading 1.
const Q: [f64; 5] = [
    2.485846490142306297962e+01,
    1.650270098316988542046e+02,
    4.328810604912902668951e+02,
    4.853903996359136964868e+02,
    1.945506571482613964425e+02,
];

/// atan on [0, 0.66]: `x + x z P(z) / Q(z)` with `z = x²`.
#[inline]
fn atan_core(x: f64) -> f64 {
    let z = x * x;
    let p = (((P[0] * z + P[1]) * z + P[2]) * z + P[3]) * z + P[4];
    let q = ((((z + Q[0]) * z + Q[1]) * z + Q[2]) * z + Q[3]) * z + Q[4];
    let z = z * p / q;
    x * z + x
}

/// atan of a non-negative `x`, reduced into [0, 0.66] around 0, π/4 or π/2.
#[inline]
fn atan_positive(x: f64) -> f64 {
    if x <= 0.66 {
        return atan_core(x);
    }
    if x > TAN_3PI_8 {
        return FRAC_PI_2 - atan_core(1.0 / x) + MOREBITS;
    }
    FRAC_PI_4 + atan_core((x - 1.0) / (x + 1.0)) + 0.5 * MOREBITS
}

/// Go's `math.Atan`.
#[inline]
pub(crate) fn atan(x: f64) -> f64 {
    if x == 0.0 {
        return x;
    }
    if x > 0.0 {
        atan_positive(x)
    } else {
        -atan_positive(-x)
    }
}

/// Go's `math.Asin`: `atan(x / sqrt(1 - x²))`, or near ±1 its complement.
#[inline]
pub(crate) fn asin(x: f64) -> f64 {
    if x == 0.0 {
        return x;
    }
    let a = x.abs();
    if a > 1.0 {
        return f64::NAN;
    }
    let c = (1.0 - a * a).sqrt();
    let r = if a > 0.7 { FRAC_PI_2 - atan_positive(c / a) } else { atan_positive(a / c) };
    if x < 0.0 {
        -r
    } else {
        r
    }
}

/// Go's `math.Acos`: π/2 - asin(x).
#[inline]
pub(crate) fn acos(x: f64) -> f64 {
    FRAC_PI_2 - asin(x)
}

/// Go's `math.Atan2(y, x)`, the PromQL operator `y atan2 x`.
#[inline]
pub(crate) fn atan2(y: f64, x: f64) -> f64 {
    if y.is_nan() || x.is_nan() {
        return f64::NAN;
    }
    if y == 0.0 {
        return if x >= 0.0 && x.is_sign_positive() { 0f64.copysign(y) } else { PI.copysign(y) };
    }
    if x == 0.0 {
        return FRAC_PI_2.copysign(y);
    }
    if x.is_infinite() {
        let angle = match (x > 0.0, y.is_infinite()) {
            (true, true) => FRAC_PI_4,
            (true, false) => 0.0,
            (false, true) => THREE_PI_4,
            (false, false) => PI,
        };
        return angle.copysign(y);
    }
    if y.is_infinite() {
        return FRAC_PI_2.copysign(y);
    }
    let q = atan(y / x);
    if x < 0.0 {
        if q <= 0.0 {
            q + PI
        } else {
            q - PI
        }
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::same;
    use super::*;

    #[test]
    fn constants() {
        assert_eq!(THREE_PI_4.to_bits(), 0x4002_d97c_7f33_21d2);
        assert_eq!(MOREBITS.to_bits(), 0x3c91_a626_3314_5c07);
    }

    #[test]
    fn special_cases() {
        for f in [atan, asin] {
            assert!(same(f(0.0), 0.0));
            assert!(same(f(-0.0), -0.0));
            assert!(f(f64::NAN).is_nan());
            assert!(same(f(f64::from_bits(1)), f64::from_bits(1)));
        }
        assert_eq!(atan(f64::INFINITY), FRAC_PI_2);
        assert_eq!(atan(f64::NEG_INFINITY), -FRAC_PI_2);
        assert_eq!(atan(1.0), FRAC_PI_4);
        assert_eq!(asin(1.0), FRAC_PI_2);
        assert_eq!(asin(-1.0), -FRAC_PI_2);
        assert!(asin(1.0000000000000002).is_nan());
        assert!(asin(f64::INFINITY).is_nan());
        assert_eq!(acos(1.0), 0.0);
        assert_eq!(acos(-1.0), PI);
        assert_eq!(acos(0.0), FRAC_PI_2);
        assert!(acos(2.0).is_nan());
        assert!(acos(f64::NAN).is_nan());
    }

    #[test]
    fn atan2_special_cases() {
        let inf = f64::INFINITY;
        assert!(atan2(f64::NAN, 1.0).is_nan());
        assert!(atan2(1.0, f64::NAN).is_nan());
        assert!(same(atan2(0.0, 1.0), 0.0));
        assert!(same(atan2(-0.0, 1.0), -0.0));
        assert!(same(atan2(0.0, 0.0), 0.0));
        assert!(same(atan2(-0.0, 0.0), -0.0));
        assert_eq!(atan2(0.0, -0.0), PI);
        assert_eq!(atan2(-0.0, -0.0), -PI);
        assert_eq!(atan2(-0.0, -1.0), -PI);
        assert_eq!(atan2(1.0, 0.0), FRAC_PI_2);
        assert_eq!(atan2(-1.0, -0.0), -FRAC_PI_2);
        assert_eq!(atan2(inf, inf), FRAC_PI_4);
        assert_eq!(atan2(-inf, inf), -FRAC_PI_4);
        assert_eq!(atan2(inf, -inf), THREE_PI_4);
        assert_eq!(atan2(-inf, -inf), -THREE_PI_4);
        assert!(same(atan2(-5.0, inf), -0.0));
        assert_eq!(atan2(5.0, -inf), PI);
        assert_eq!(atan2(inf, 5.0), FRAC_PI_2);
        assert_eq!(atan2(-inf, -5.0), -FRAC_PI_2);
        assert_eq!(atan2(1.0, -1.0), 3.0 * FRAC_PI_4);
        assert_eq!(atan2(-1.0, -1.0), -THREE_PI_4);
    }

    #[test]
    fn close_to_the_c_library() {
        let mut x = -1.0;
        while x <= 1.0 {
            assert!((asin(x) - x.asin()).abs() <= 2.0 * f64::EPSILON, "{x}");
            assert!((acos(x) - x.acos()).abs() <= 4.0 * f64::EPSILON, "{x}");
            x += 0.001_234_5;
        }
        for x in [1e-300, 1e-8, 0.3, 0.66, 0.7, 2.0, 2.5, 1e8, 1e300] {
            for x in [x, -x] {
                assert!((atan(x) - x.atan()).abs() <= 2.0 * f64::EPSILON * x.atan().abs(), "{x}");
                assert!((atan2(x, 0.7) - x.atan2(0.7)).abs() <= 2.0 * f64::EPSILON * 4.0, "{x}");
                assert!((atan2(0.7, x) - 0.7f64.atan2(x)).abs() <= 2.0 * f64::EPSILON * 4.0, "{x}");
            }
        }
    }
}
