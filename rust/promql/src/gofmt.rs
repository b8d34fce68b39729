//! Go's `strconv.FormatFloat` with the shortest digits (precision -1), which
//! Prometheus uses for sample values, label values and messages. Go 1.17 and
//! later find those digits with Ryū, which breaks a tie between two equally
//! short candidates towards the even digit (`177929019881384.125` is
//! `...384.12`); Rust's own formatting rounds such ties up. The `ryu` crate
//! implements the same algorithm, so its digits are Go's; this module lays
//! them out as Go's `'f'`, `'e'` and `'g'` formats do.

use std::io::Write;

/// The shortest round-tripping decimal of a finite, non-zero `v`: its
/// digits (no leading or trailing zeros) and the position of the decimal
/// point, so that `v = 0.d1d2d3... * 10^point`.
struct Decimal {
    negative: bool,
    digits: [u8; 17],
    len: usize,
    point: i32,
}

impl Decimal {
    fn of(v: f64) -> Decimal {
        let mut buf = ryu::Buffer::new();
        // Whatever layout ryu picks (`1.5`, `0.001`, `1e-7`, `1.2e21`), read
        // back its digits and exponent.
        let text = buf.format_finite(v);
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exp) = match text.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i32>().unwrap()),
            None => (text, 0),
        };
        let mut d = Decimal { negative, digits: [0; 17], len: 0, point: 0 };
        let mut before_point = 0i32;
        let mut seen_point = false;
        let mut leading = true;
        for c in mantissa.bytes() {
            if c == b'.' {
                seen_point = true;
                continue;
            }
            if !seen_point {
                before_point += 1;
            }
            if leading && c == b'0' {
                before_point -= 1;
                continue;
            }
            leading = false;
            d.digits[d.len] = c;
            d.len += 1;
        }
        while d.len > 0 && d.digits[d.len - 1] == b'0' {
            d.len -= 1;
        }
        d.point = before_point + exp;
        d
    }

    fn write_f(&self, out: &mut Vec<u8>) {
        if self.negative {
            out.push(b'-');
        }
        let digits = &self.digits[..self.len];
        let n = self.len as i32;
        if self.point <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-self.point) as usize));
            out.extend_from_slice(digits);
        } else if self.point >= n {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', (self.point - n) as usize));
        } else {
            out.extend_from_slice(&digits[..self.point as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[self.point as usize..]);
        }
    }

    fn write_e(&self, out: &mut Vec<u8>) {
        if self.negative {
            out.push(b'-');
        }
        out.push(self.digits[0]);
        if self.len > 1 {
            out.push(b'.');
            out.extend_from_slice(&self.digits[1..self.len]);
        }
        let exp = self.point - 1;
        // Go writes the exponent with its sign and at least two digits.
        write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs()).unwrap();
    }
}

/// `NaN`, `+Inf`, `-Inf`, or the zeros (`0`, `-0`, or `0e+00` in the
/// exponent form); false for the other values.
fn write_special(out: &mut Vec<u8>, v: f64, exponent_form: bool) -> bool {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if v == 0.0 {
        if v.is_sign_negative() {
            out.push(b'-');
        }
        out.extend_from_slice(if exponent_form { b"0e+00" } else { b"0" });
    } else {
        return false;
    }
    true
}

/// Appends `strconv.FormatFloat(v, 'f', -1, 64)`.
pub fn append_f(out: &mut Vec<u8>, v: f64) {
    if !write_special(out, v, false) {
        Decimal::of(v).write_f(out);
    }
}

/// Appends `strconv.FormatFloat(v, 'e', -1, 64)`.
pub fn append_e(out: &mut Vec<u8>, v: f64) {
    if !write_special(out, v, true) {
        Decimal::of(v).write_e(out);
    }
}

fn to_string(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::with_capacity(24);
    f(&mut out);
    String::from_utf8(out).unwrap()
}

/// `strconv.FormatFloat(v, 'f', -1, 64)`.
pub fn format_f(v: f64) -> String {
    to_string(|out| append_f(out, v))
}

/// `strconv.FormatFloat(v, 'e', -1, 64)`.
pub fn format_e(v: f64) -> String {
    to_string(|out| append_e(out, v))
}

/// `strconv.FormatFloat(v, 'g', -1, 64)`, which is also `fmt.Sprint(v)`: the
/// exponent form when the exponent is below -4 or at least 6 (`1e+06`).
pub fn format_g(v: f64) -> String {
    to_string(|out| {
        if !write_special(out, v, false) {
            let d = Decimal::of(v);
            if (-4..6).contains(&(d.point - 1)) {
                d.write_f(out);
            } else {
                d.write_e(out);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_as_go() {
        assert_eq!(format_f(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_f(1e21), "1000000000000000000000");
        assert_eq!(format_f(1e-7), "0.0000001");
        assert_eq!(format_f(-123.5), "-123.5");
        assert_eq!(format_f(120.0), "120");
        assert_eq!(format_f(-0.0), "-0");
        assert_eq!(format_e(1e-7), "1e-07");
        assert_eq!(format_e(-2.5e-7), "-2.5e-07");
        assert_eq!(format_e(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(format_e(5e-324), "5e-324");
        assert_eq!(format_e(1e21), "1e+21");
        assert_eq!(format_g(1e6), "1e+06");
        assert_eq!(format_g(1234567.0), "1.234567e+06");
        assert_eq!(format_g(100000.0), "100000");
        assert_eq!(format_g(0.0001), "0.0001");
        assert_eq!(format_g(0.00001), "1e-05");
        assert_eq!(format_g(f64::INFINITY), "+Inf");
    }

    #[test]
    // The literals are the exact binary values, halfway between their two
    // shortest decimals: more digits than either.
    #[allow(clippy::excessive_precision)]
    fn ties_between_shortest_candidates_go_to_the_even_digit() {
        // Exactly halfway between two 17-digit decimals (printed by Go 1.19).
        assert_eq!(format_f(177929019881384.125), "177929019881384.12");
        assert_eq!(format_f(3452681320828.78125), "3452681320828.7812");
    }

    #[test]
    fn round_trips() {
        let mut x = 0.1f64;
        for _ in 0..2000 {
            x = x * 1.37 + 1e-3;
            for v in [x, -x, 1.0 / x] {
                assert_eq!(format_f(v).parse::<f64>().unwrap(), v);
                assert_eq!(format_e(v).parse::<f64>().unwrap(), v);
            }
        }
    }
}
