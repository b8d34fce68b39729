//! Hyperbolic functions and their inverses as Go 1.19 computes them (portable
//! Go on amd64): `/usr/share/go-1.19/src/math/sinh.go` (Hart & Cheney's
//! rational approximation near zero, else through `Exp`), `tanh.go` (Cephes),
//! `asinh.go`, `acosh.go` and `atanh.go` (fdlibm's formulas through `Log`,
//! `Log1p` and `Sqrt`).
//!
//! They call Go's own [`exp`], [`ln`] and [`log1p`], whose last bits differ
//! from the C library's, so the results do too; Prometheus's are these.

use std::f64::consts::LN_2;

use super::exp_log::{exp, ln, log1p};

/// 2^-28 and 2^28: below and above these, the formulas simplify.
const NEAR_ZERO: f64 = 1.0 / (1u64 << 28) as f64;
const LARGE: f64 = (1u64 << 28) as f64;

/// sinh on [0, 0.5]: `x P(x²) / Q(x²)` (Hart & Cheney #2029).
const SINH_P: [f64; 4] = [
    -0.6307673640497716991184787251e+6,
    -0.8991272022039509355398013511e+5,
    -0.2894211355989563807284660366e+4,
    -0.2630563213397497062819489e+2,
];
const SINH_Q: [f64; 3] =
    [-0.6307673640497716991212077277e+6, 0.1521517378790019070696485176e+5, -0.173678953558233699533450911e+3];

/// tanh below 0.625: `x + x s P(s) / Q(s)` with `s = x²`.
const TANH_P: [f64; 3] = [-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3];
const TANH_Q: [f64; 3] = [1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3];
/// ln(2^127); tanh is ±1 beyond half of it.
const MAXLOG: f64 = 8.8029691931113054295988e+01;

/// Splits off a negative sign as Go does (`if x < 0 { x = -x }`), which keeps
/// -0 as it is: the odd functions then give -0 for it.
#[inline]
fn split_sign(x: f64) -> (bool, f64) {
    if x < 0.0 {
        (true, -x)
    } else {
        (false, x)
    }
}

/// Go's `math.Sinh`.
#[inline]
pub(crate) fn sinh(x: f64) -> f64 {
    let (negative, a) = split_sign(x);
    let r = if a > 21.0 {
        exp(a) * 0.5
    } else if a > 0.5 {
        let e = exp(a);
        (e - 1.0 / e) * 0.5
    } else {
        let sq = a * a;
        let num = (((SINH_P[3] * sq + SINH_P[2]) * sq + SINH_P[1]) * sq + SINH_P[0]) * a;
        num / (((sq + SINH_Q[2]) * sq + SINH_Q[1]) * sq + SINH_Q[0])
    };
    if negative {
        -r
    } else {
        r
    }
}

/// Go's `math.Cosh`.
#[inline]
pub(crate) fn cosh(x: f64) -> f64 {
    let a = x.abs();
    if a > 21.0 {
        return exp(a) * 0.5;
    }
    let e = exp(a);
    (e + 1.0 / e) * 0.5
}

/// Go's `math.Tanh`.
#[inline]
pub(crate) fn tanh(x: f64) -> f64 {
    let a = x.abs();
    if a > 0.5 * MAXLOG {
        return if x < 0.0 { -1.0 } else { 1.0 };
    }
    if a >= 0.625 {
        let s = exp(2.0 * a);
        let t = 1.0 - 2.0 / (s + 1.0);
        return if x < 0.0 { -t } else { t };
    }
    if x == 0.0 {
        return x;
    }
    let s = x * x;
    let p = (TANH_P[0] * s + TANH_P[1]) * s + TANH_P[2];
    let q = ((s + TANH_Q[0]) * s + TANH_Q[1]) * s + TANH_Q[2];
    x + x * s * p / q
}

/// Go's `math.Asinh`.
#[inline]
pub(crate) fn asinh(x: f64) -> f64 {
    if x.is_nan() || x.is_infinite() {
        return x;
    }
    let (negative, a) = split_sign(x);
    let r = if a > LARGE {
        ln(a) + LN_2
    } else if a > 2.0 {
        ln(2.0 * a + 1.0 / ((a * a + 1.0).sqrt() + a))
    } else if a < NEAR_ZERO {
        a
    } else {
        log1p(a + a * a / (1.0 + (1.0 + a * a).sqrt()))
    };
    if negative {
        -r
    } else {
        r
    }
}

/// Go's `math.Acosh`.
#[inline]
pub(crate) fn acosh(x: f64) -> f64 {
    if x < 1.0 || x.is_nan() {
        return f64::NAN;
    }
    if x == 1.0 {
        return 0.0;
    }
    if x >= LARGE {
        return ln(x) + LN_2;
    }
    if x > 2.0 {
        return ln(2.0 * x - 1.0 / (x + (x * x - 1.0).sqrt()));
    }
    let t = x - 1.0;
    log1p(t + (2.0 * t + t * t).sqrt())
}

/// Go's `math.Atanh`.
#[inline]
pub(crate) fn atanh(x: f64) -> f64 {
    if !(-1.0..=1.0).contains(&x) {
        // Also NaN.
        return f64::NAN;
    }
    if x == 1.0 {
        return f64::INFINITY;
    }
    if x == -1.0 {
        return f64::NEG_INFINITY;
    }
    let (negative, a) = split_sign(x);
    let r = if a < NEAR_ZERO {
        a
    } else if a < 0.5 {
        let twice = a + a;
        0.5 * log1p(twice + twice * a / (1.0 - a))
    } else {
        0.5 * log1p((a + a) / (1.0 - a))
    };
    if negative {
        -r
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::same;
    use super::*;

    #[test]
    fn special_cases() {
        let inf = f64::INFINITY;
        for f in [sinh, tanh, asinh, atanh] {
            assert!(same(f(0.0), 0.0));
            assert!(same(f(-0.0), -0.0));
            assert!(f(f64::NAN).is_nan());
            let tiny = f64::from_bits(1);
            assert!(same(f(tiny), tiny) && same(f(-tiny), -tiny));
        }
        assert_eq!(sinh(inf), inf);
        assert_eq!(sinh(-inf), -inf);
        assert_eq!(sinh(1000.0), inf);
        assert_eq!(cosh(0.0), 1.0);
        assert_eq!(cosh(-inf), inf);
        assert!(cosh(f64::NAN).is_nan());
        assert_eq!(tanh(inf), 1.0);
        assert_eq!(tanh(-inf), -1.0);
        assert_eq!(tanh(45.0), 1.0);
        assert_eq!(asinh(inf), inf);
        assert_eq!(asinh(-inf), -inf);
        assert_eq!(acosh(1.0), 0.0);
        assert_eq!(acosh(inf), inf);
        assert!(acosh(0.5).is_nan());
        assert!(acosh(f64::NAN).is_nan());
        assert!(acosh(-inf).is_nan());
        assert_eq!(atanh(1.0), inf);
        assert_eq!(atanh(-1.0), -inf);
        assert!(atanh(1.0000000000000002).is_nan());
        assert!(atanh(-inf).is_nan());
    }

    #[test]
    fn close_to_the_c_library() {
        for x in [1e-10, 3e-5, 0.3, 0.5, 0.6, 0.7, 1.0, 1.5, 2.0, 3.0, 20.0, 22.0, 300.0, 1e9, 1e300] {
            let close = |ours: f64, libm: f64| ours == libm || (ours - libm).abs() <= 4.0 * f64::EPSILON * libm.abs();
            for x in [x, -x] {
                assert!(close(sinh(x), x.sinh()), "sinh {x}");
                assert!(close(cosh(x), x.cosh()), "cosh {x}");
                assert!(close(tanh(x), x.tanh()), "tanh {x}");
                assert!(close(asinh(x), x.asinh()), "asinh {x}");
                if x > 1.0 {
                    assert!(close(acosh(x), x.acosh()), "acosh {x}");
                }
                if x.abs() < 1.0 {
                    assert!(close(atanh(x), x.atanh()), "atanh {x}");
                }
            }
        }
    }
}
