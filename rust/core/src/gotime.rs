//! Times as Go's `encoding/json` writes a `time.Time`: RFC 3339 with
//! nanoseconds, trailing zeros of the fraction dropped (`time.RFC3339Nano`).
//! Prometheus's API uses it for rules' `lastEvaluation`, alerts' `activeAt`
//! and targets' `lastScrape`; the zero `time.Time` is `0001-01-01T00:00:00Z`.

use crate::{bail, Result};

/// Seconds from 0001-01-01 to 1970-01-01: the zero `time.Time` in Unix seconds.
pub const ZERO_TIME_SECONDS: i64 = -62_135_596_800;

/// Days from 1970-01-01 to the date (proleptic Gregorian), Hinnant's
/// `days_from_civil`.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01, Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `seconds` and `nanos` since the epoch, in UTC, as Go's RFC3339Nano.
pub fn format_rfc3339_nano(seconds: i64, nanos: i32) -> String {
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let s = seconds.rem_euclid(86_400);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

fn digits(s: &str, what: &str) -> Result<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        bail!(BadData, "cannot parse {what} {s:?} as RFC 3339 time");
    }
    Ok(s.parse().unwrap_or(i64::MAX))
}

/// `(seconds, nanos)` since the epoch of an RFC 3339 time with any offset
/// (`Z`, `+02:00`) and up to nine fraction digits, as Go's `time.Parse`
/// reads `time.RFC3339Nano`.
pub fn parse_rfc3339(s: &str) -> Result<(i64, i32)> {
    let bad = || crate::Error::new(crate::ErrorKind::BadData, format!("cannot parse {s:?} as RFC 3339 time"));
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (year, month, day) = (digits(&s[0..4], "year")?, digits(&s[5..7], "month")?, digits(&s[8..10], "day")?);
    let (hour, minute, second) =
        (digits(&s[11..13], "hour")?, digits(&s[14..16], "minute")?, digits(&s[17..19], "second")?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    let mut rest = &s[19..];
    let mut nanos = 0i32;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 9 {
            return Err(bad());
        }
        nanos = (digits(&frac[..n], "fraction")? * 10i64.pow(9 - n as u32)) as i32;
        rest = &frac[n..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(std::str::from_utf8(&[*h1, *h2]).map_err(|_| bad())?, "offset")?;
            let m = digits(std::str::from_utf8(&[*m1, *m2]).map_err(|_| bad())?, "offset")?;
            let o = h * 3600 + m * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month as u32, day as u32);
    Ok((days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_go_does() {
        assert_eq!(format_rfc3339_nano(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339_nano(ZERO_TIME_SECONDS, 0), "0001-01-01T00:00:00Z");
        assert_eq!(format_rfc3339_nano(1_764_694_800, 120_000_000), "2025-12-02T17:00:00.12Z");
        assert_eq!(format_rfc3339_nano(951_825_599, 1), "2000-02-29T11:59:59.000000001Z");
    }

    #[test]
    fn parses_offsets_and_fractions() {
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z").unwrap(), (ZERO_TIME_SECONDS, 0));
        assert_eq!(parse_rfc3339("2025-12-02T18:00:00.12+01:00").unwrap(), (1_764_694_800, 120_000_000));
        assert_eq!(parse_rfc3339("2025-12-02T16:30:00.000000001-00:30").unwrap(), (1_764_694_800, 1));
        for bad in ["", "2025-12-02", "2025-13-02T00:00:00Z", "2025-12-02T00:00:00", "2025-12-02T00:00:00.Z"] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips_over_centuries() {
        for seconds in (ZERO_TIME_SECONDS..253_402_300_799).step_by(7_777_777) {
            let text = format_rfc3339_nano(seconds, 5000);
            assert_eq!(parse_rfc3339(&text).unwrap(), (seconds, 5000), "{text}");
        }
    }
}
