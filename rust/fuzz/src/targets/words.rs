//! Label names, values and matcher patterns for the generators: the few that
//! carry meaning (the metric name, the external and replica labels the
//! targets configure, `le`) and the odd ones (empty, not UTF-8 safe in a
//! path, regexes that match everything or nothing).

use crate::rng::Rng;

pub const NAMES: &[&str] = &["__name__", "job", "instance", "cluster", "replica", "le", "a", "", "__meta", "x y"];

pub const VALUES: &[&str] =
    &["up", "http_requests_total", "api", "eu", "a", "b", "0.5", "+Inf", "", "\u{e9}", "a/b?c#d", "%2F", "\\", "\""];

pub const PATTERNS: &[&str] =
    &[".*", ".+", "a|b", "", "(", "[", "x{2,}", "(?i)UP", "\\d+", "a**", "(a|b)*c", "\\p{L}", ".{0,1000}"];

pub fn name(rng: &mut Rng) -> String {
    if rng.one_in(8) {
        return random_string(rng);
    }
    rng.pick(NAMES).to_string()
}

pub fn value(rng: &mut Rng) -> String {
    if rng.one_in(8) {
        return random_string(rng);
    }
    rng.pick(VALUES).to_string()
}

pub fn pattern(rng: &mut Rng) -> String {
    if rng.one_in(8) {
        return random_string(rng);
    }
    rng.pick(PATTERNS).to_string()
}

fn random_string(rng: &mut Rng) -> String {
    let n = rng.small(12);
    (0..n).map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?')).collect()
}

/// A timestamp in ms: ordinary, at the ends of int64, or around zero.
pub fn time(rng: &mut Rng) -> i64 {
    match rng.below(6) {
        0 => i64::MIN,
        1 => i64::MAX,
        2 => rng.next_u64() as i64,
        3 => rng.below(1000) as i64 - 500,
        _ => 1_700_000_000_000 + rng.below(86_400_000) as i64,
    }
}

/// A count or size field: small, negative, or huge.
pub fn count(rng: &mut Rng) -> i64 {
    match rng.below(5) {
        0 => -(rng.below(3) as i64),
        1 => i64::MAX - rng.below(2) as i64,
        2 => 1 << rng.below(63),
        _ => rng.below(300) as i64,
    }
}
