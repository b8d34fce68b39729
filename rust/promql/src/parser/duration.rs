//! Prometheus durations (`model.ParseDuration` and `model.Duration.String`):
//! integer amounts of y, w, d, h, m, s and ms, in that order.

const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

/// Parses a duration into milliseconds, with Prometheus's error wording.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let invalid = || format!("not a valid duration string: {}", super::lex::go_quote(s));
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut rest = s;
    let mut total: i64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let amount: i64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        // "ms" before "m", so that "5ms" is not five minutes and an "s".
        let pos = UNITS[next_unit..]
            .iter()
            .position(|(u, _)| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")))
            .ok_or_else(invalid)?;
        let (unit, ms) = UNITS[next_unit + pos];
        rest = &rest[unit.len()..];
        next_unit += pos + 1;
        total = amount
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "duration out of range".to_string())?;
    }
    Ok(total)
}

/// Formats milliseconds as Prometheus does: `1h30m`, `5m`, `1d`, `0s`.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    if rest < 0 {
        out.push('-');
        rest = -rest;
    }
    for (unit, size) in UNITS {
        let n = rest / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            rest -= n * size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("1ms"), Ok(1));
        assert_eq!(parse_duration("2y1w"), Ok(2 * 365 * 86_400_000 + 7 * 86_400_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("1m5m").unwrap_err(), r#"not a valid duration string: "1m5m""#);
        assert!(parse_duration("1.5h").is_err());
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("1e3s").is_err());
    }

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_duration(300_000), "5m");
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(86_400_000 + 1), "1d1ms");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(7 * 86_400_000), "1w");
    }
}
