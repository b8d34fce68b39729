//! Splitting a float into a fraction and a power of two and back, as Go 1.19's
//! `math.Frexp` and `math.Ldexp` do (`/usr/share/go-1.19/src/math/frexp.go`,
//! `ldexp.go`, and `normalize` in `bits.go`; amd64 has no assembly for them).
//!
//! `log2` and `^` (`math.Log2`, `math.Pow`) are built on these two, so their
//! rounding, in particular `ldexp`'s single rounding into the subnormal range,
//! has to be Go's for the answers to equal Prometheus's bit for bit.

/// Bits of the significand (without the implicit leading one).
pub(super) const FRAC_MASK: u64 = (1 << 52) - 1;
/// The biased exponent field, once shifted down by 52.
const EXP_MASK: u64 = 0x7ff;
const BIAS: i64 = 1023;
/// 2^52, which brings any subnormal into the normal range.
const TWO_52: f64 = 4_503_599_627_370_496.0;
/// 2^-53, the final factor for results in the subnormal range.
const TWO_M53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// Scales a subnormal up into the normal range, returning the power of two
/// taken away.
#[inline]
fn normalize(x: f64) -> (f64, i64) {
    if x.abs() < f64::MIN_POSITIVE {
        (x * TWO_52, -52)
    } else {
        (x, 0)
    }
}

/// The biased exponent field of `bits`.
#[inline]
fn exponent_field(bits: u64) -> i64 {
    ((bits >> 52) & EXP_MASK) as i64
}

/// `x = frac * 2^exp` with `|frac|` in [0.5, 1); zeros, infinities and NaN
/// come back unchanged with an exponent of 0.
#[inline]
pub(crate) fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let (x, shift) = normalize(x);
    let bits = x.to_bits();
    let exp = shift + exponent_field(bits) - BIAS + 1;
    // Keep sign and significand, and give the fraction the exponent of 0.5.
    let frac = f64::from_bits((bits & !(EXP_MASK << 52)) | (((BIAS - 1) as u64) << 52));
    (frac, exp)
}

/// `frac * 2^exp`, rounding once when the result is subnormal, and saturating
/// to a signed zero or infinity outside the representable range.
#[inline]
pub(crate) fn ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || !frac.is_finite() {
        return frac;
    }
    let (frac, shift) = normalize(frac);
    let bits = frac.to_bits();
    let exp = exp + shift + exponent_field(bits) - BIAS;
    if exp < -1075 {
        return 0f64.copysign(frac);
    }
    if exp > 1023 {
        return f64::INFINITY.copysign(frac);
    }
    // Below the normal range, build the value 2^53 times too large and let
    // the final multiplication round it into place.
    let (exp, factor) = if exp < -1022 { (exp + 53, TWO_M53) } else { (exp, 1.0) };
    factor * f64::from_bits((bits & !(EXP_MASK << 52)) | (((exp + BIAS) as u64) << 52))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_normalises_subnormals_and_keeps_specials() {
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(f64::from_bits(1)), (0.5, -1073));
        assert_eq!(frexp(f64::MAX).1, 1024);
        let (z, e) = frexp(-0.0);
        assert!(z == 0.0 && z.is_sign_negative() && e == 0);
        assert_eq!(frexp(f64::NEG_INFINITY), (f64::NEG_INFINITY, 0));
        assert!(frexp(f64::NAN).0.is_nan());
    }

    #[test]
    fn ldexp_rounds_once_and_saturates() {
        assert_eq!(ldexp(0.5, 4), 8.0);
        assert_eq!(ldexp(1.0, -1074), f64::from_bits(1));
        assert_eq!(ldexp(0.75, -1074), f64::from_bits(1)); // 1.5 ulp rounds to even
        assert_eq!(ldexp(0.5, -1074), 0.0); // a tie rounds to even: zero
        assert_eq!(ldexp(1.0, -1076), 0.0);
        assert!(ldexp(-1.0, -2000).is_sign_negative());
        assert_eq!(ldexp(1.0, 1024), f64::INFINITY);
        assert_eq!(ldexp(-1.0, 1024), f64::NEG_INFINITY);
        assert_eq!(ldexp(f64::from_bits(1), 1074), 1.0);
        assert_eq!(ldexp(0.5, 1024), 2f64.powi(1023));
        for x in [1.5, -7.25e-310, 3.0e300, 1e-320] {
            let (f, e) = frexp(x);
            assert_eq!(ldexp(f, e), x);
        }
    }
}
