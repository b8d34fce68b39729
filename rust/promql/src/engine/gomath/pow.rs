//! `x ^ y` as Go 1.19's `math.Pow` computes it (portable Go on amd64):
//! `/usr/share/go-1.19/src/math/pow.go`. The integer part of the exponent is
//! applied by repeated squaring of the fraction of `x` with the powers of two
//! kept apart, the fractional part (folded into [-0.5, 0.5]) through Go's
//! `Exp(yf * Log(x))`, which on amd64 are the assembly routines of
//! [`super::exp_log`].
//!
//! The C library's `pow` is correctly rounded far more often, so it differs
//! from Prometheus in the last bit; `x ^ 0.5` is exactly `sqrt(x)` here.

use super::exp_log::{exp, ln};
use super::scale::{frexp, ldexp};

/// 2^63: integer parts from here on are even and over/underflow anyway.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// Whether `y` is an odd integer. Go converts the integer part to int64,
/// which on amd64 gives an even number for anything of 2^63 or more (and
/// every double of 2^53 or more is even anyway).
#[inline]
fn is_odd_int(y: f64) -> bool {
    y.fract() == 0.0 && y.abs() < TWO_63 && (y as i64) & 1 == 1
}

/// Go's `math.Pow`.
pub(crate) fn pow(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        return if y < 0.0 {
            if is_odd_int(y) {
                f64::INFINITY.copysign(x)
            } else {
                f64::INFINITY
            }
        } else if is_odd_int(y) {
            x
        } else {
            0.0
        };
    }
    if y.is_infinite() {
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if x.is_infinite() {
        if x < 0.0 {
            // (-Inf)^y = (-0)^-y
            return pow(1.0 / x, -y);
        }
        return if y < 0.0 { 0.0 } else { f64::INFINITY };
    }
    if y == 0.5 {
        return x.sqrt();
    }
    if y == -0.5 {
        return 1.0 / x.sqrt();
    }

    let ay = y.abs();
    let (mut yi, mut yf) = (ay.trunc(), ay.fract());
    if yf != 0.0 && x < 0.0 {
        return f64::NAN;
    }
    if yi >= TWO_63 {
        // A huge even exponent: overflow or underflow, but for x = -1.
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }

    // The answer is kept as a1 * 2^ae.
    let mut a1 = 1.0;
    let mut ae: i64 = 0;
    if yf != 0.0 {
        if yf > 0.5 {
            yf -= 1.0;
            yi += 1.0;
        }
        a1 = exp(yf * ln(x));
    }
    // Square x's fraction for each bit of the integer part, renormalising it
    // into [0.5, 1) and moving the powers of two into the exponent.
    let (mut x1, mut xe) = frexp(x);
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            // The exponent alone already over- or underflows: stop before
            // the shift below can overflow.
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    // For a negative exponent, invert before scaling.
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

#[cfg(test)]
mod tests {
    use super::super::tests::same;
    use super::*;

    #[test]
    fn special_cases() {
        let (inf, nan) = (f64::INFINITY, f64::NAN);
        assert_eq!(pow(nan, 0.0), 1.0);
        assert_eq!(pow(1.0, nan), 1.0);
        assert!(same(pow(nan, 1.0), nan));
        assert!(pow(nan, 2.0).is_nan() && pow(2.0, nan).is_nan());
        assert!(same(pow(-0.0, -3.0), -inf));
        assert_eq!(pow(-0.0, -2.0), inf);
        assert_eq!(pow(0.0, -0.5), inf);
        assert!(same(pow(-0.0, 3.0), -0.0));
        assert!(same(pow(-0.0, 2.0), 0.0));
        assert!(same(pow(-0.0, 1e300), 0.0));
        assert_eq!(pow(-1.0, inf), 1.0);
        assert_eq!(pow(-1.0, -inf), 1.0);
        assert_eq!(pow(0.5, inf), 0.0);
        assert_eq!(pow(0.5, -inf), inf);
        assert_eq!(pow(2.0, inf), inf);
        assert_eq!(pow(2.0, -inf), 0.0);
        assert_eq!(pow(inf, 0.5), inf);
        assert_eq!(pow(inf, -2.0), 0.0);
        assert!(same(pow(-inf, 3.0), -inf));
        assert_eq!(pow(-inf, 2.0), inf);
        assert!(same(pow(-inf, -3.0), -0.0));
        assert!(same(pow(-inf, -2.5), 0.0));
        assert!(pow(-2.0, 0.5).is_nan());
        assert!(pow(-8.0, 1.0 / 3.0).is_nan());
        assert_eq!(pow(-1.0, 1e300), 1.0);
        assert_eq!(pow(10.0, 1e300), inf);
        assert_eq!(pow(10.0, -1e300), 0.0);
        assert_eq!(pow(0.1, 1e300), 0.0);
        assert!(!is_odd_int(1e19) && is_odd_int(-3.0) && !is_odd_int(2.5) && is_odd_int(9007199254740991.0));
    }

    #[test]
    fn integer_exponents_by_squaring() {
        assert_eq!(pow(2.0, 10.0), 1024.0);
        assert_eq!(pow(2.0, -2.0), 0.25);
        assert_eq!(pow(-2.0, 3.0), -8.0);
        assert_eq!(pow(10.0, 400.0), f64::INFINITY);
        assert_eq!(pow(10.0, -400.0), 0.0);
        assert_eq!(pow(2.0, -1074.0), f64::from_bits(1));
        assert_eq!(pow(2.0, 1023.0), 2f64.powi(1023));
        assert_eq!(pow(f64::from_bits(1), 2.0), 0.0);
        assert_eq!(pow(1e-300, -2.0), f64::INFINITY);
        for x in [2.0, 1e9 + 0.123, 3.7, 1e-300] {
            assert_eq!(pow(x, 0.5), x.sqrt());
            assert_eq!(pow(x, -0.5), 1.0 / x.sqrt());
            assert_eq!(pow(x, 1.0), x);
        }
    }

    #[test]
    fn fractional_exponents_are_close_to_the_c_library() {
        // Exp(yf * Log(x)) carries Log's rounding error times yf ln(x) into
        // the result: up to a few dozen units in the last place for large x.
        for x in [0.001, 0.3, 2.0, 7.5, 1e10, 1e200] {
            for y in [0.37, -2.5, 3.3, 1.0 / 3.0, -0.7] {
                let (ours, libm) = (pow(x, y), x.powf(y));
                assert!(ours == libm || (ours - libm).abs() <= 1e-13 * libm, "{x} ^ {y}: {ours} {libm}");
            }
        }
    }

    #[test]
    fn fractional_exponents_end_in_the_go_digits() {
        if !super::super::exp_log::use_fma() {
            return;
        }
        // As Prometheus 2.42 answers on an AVX/FMA machine.
        assert_eq!(pow(1e200, 0.37), 1.0000000000000036e74);
        assert_eq!(pow(1e300, 0.37), 9.999999999999911e110);
        assert_eq!(pow(f64::from_bits(1), 0.37), 1.1406078106684814e-114);
        assert_eq!(pow(std::f64::consts::SQRT_2, 0.37), 1.136816973236014);
    }
}
