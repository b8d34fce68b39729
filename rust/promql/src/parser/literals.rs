//! Number and string literals as Prometheus reads and prints them.

/// Parses a number token: first as a Go integer literal with base prefix (so
/// `0x1F` is 31 and, as in Prometheus 2.42, `010` is octal 8), then as a float
/// (`1e3`, `.5`, `Inf`, `NaN`). `None` when neither reads it.
pub fn parse_number(s: &str) -> Result<f64, String> {
    if let Some(i) = parse_go_int(s) {
        return Ok(i as f64);
    }
    match parse_go_float(s) {
        Some(v) if v.is_infinite() && !s.to_ascii_lowercase().contains("inf") => {
            Err(format!("strconv.ParseFloat: parsing {}: value out of range", super::lex::go_quote(s)))
        }
        Some(v) => Ok(v),
        None => Err(format!("strconv.ParseFloat: parsing {}: invalid syntax", super::lex::go_quote(s))),
    }
}

fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower)
    };
    // Go allows underscores between digits only after a base prefix.
    let digits = if radix != 10 { digits.replace('_', "") } else { digits };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(&digits, radix).ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// Go's `strconv.ParseFloat`, without hexadecimal floats.
pub fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        let v = if body == "nan" { f64::NAN } else { f64::INFINITY };
        return Some(if lower.starts_with('-') { -v } else { v });
    }
    if body.starts_with("0x") {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Go's `fmt.Sprint(float64)`: the shortest representation, in exponent form when
/// the exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`), `+Inf`, `NaN`.
pub fn format_go_float(v: f64) -> String {
    crate::gofmt::format_g(v)
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`, as label values and scalar
/// results are written: positional notation with the shortest digits.
pub fn format_api_float(v: f64) -> String {
    crate::gofmt::format_f(v)
}

/// Unquotes a string token (`"..."`, `'...'` or a raw `` `...` ``), as
/// Prometheus's `strutil.Unquote`: Go escapes in quoted strings, none in raw ones.
pub fn unquote(s: &str) -> Result<String, String> {
    let syntax = || "invalid syntax".to_string();
    let quote = s.chars().next().ok_or_else(syntax)?;
    if s.len() < 2 || !s.ends_with(quote) {
        return Err(syntax());
    }
    let body = &s[1..s.len() - 1];
    match quote {
        '`' => {
            if body.contains('`') {
                return Err(syntax());
            }
            Ok(body.to_string())
        }
        '"' | '\'' => unescape(body, quote),
        _ => Err(syntax()),
    }
}

fn unescape(body: &str, quote: char) -> Result<String, String> {
    let syntax = || "invalid syntax".to_string();
    let mut out = String::with_capacity(body.len());
    let mut bytes: Vec<u8> = Vec::new();
    let mut chars = body.chars().peekable();
    // Octal and \x escapes produce raw bytes, which may form UTF-8 together.
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.clear();
        }
    };
    while let Some(c) = chars.next() {
        if c == quote || c == '\n' {
            return Err(syntax());
        }
        if c != '\\' {
            flush(&mut bytes, &mut out);
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or_else(syntax)?;
        let mut take_hex = |n: usize| -> Result<u32, String> {
            let mut v = 0u32;
            for _ in 0..n {
                let d = chars.next().and_then(|c| c.to_digit(16)).ok_or_else(syntax)?;
                v = v * 16 + d;
            }
            Ok(v)
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '\'' | '"' => out.push(e),
            'x' => {
                let v = take_hex(2)?;
                bytes.push(v as u8);
                continue;
            }
            'u' | 'U' => {
                let v = take_hex(if e == 'u' { 4 } else { 8 })?;
                flush(&mut bytes, &mut out);
                out.push(char::from_u32(v).ok_or_else(syntax)?);
                continue;
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap();
                for _ in 0..2 {
                    v = v * 8 + chars.next().and_then(|c| c.to_digit(8)).ok_or_else(syntax)?;
                }
                if v > 255 {
                    return Err(syntax());
                }
                bytes.push(v as u8);
                continue;
            }
            _ => return Err(syntax()),
        }
        flush(&mut bytes, &mut out);
    }
    flush(&mut bytes, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1"), Ok(1.0));
        assert_eq!(parse_number("0x1F"), Ok(31.0));
        assert_eq!(parse_number("010"), Ok(8.0));
        assert_eq!(parse_number("1e3"), Ok(1000.0));
        assert_eq!(parse_number(".5"), Ok(0.5));
        assert_eq!(parse_number("2."), Ok(2.0));
        assert_eq!(parse_number("Inf"), Ok(f64::INFINITY));
        assert_eq!(parse_number("-inf"), Ok(f64::NEG_INFINITY));
        assert!(parse_number("NaN").unwrap().is_nan());
        assert_eq!(parse_number("12345678901234567890123"), Ok(1.2345678901234568e22));
        assert_eq!(parse_number("09"), Ok(9.0)); // not octal: falls back to float
        assert!(parse_number("x").is_err());
        assert!(parse_number("1e999").unwrap_err().ends_with("value out of range"));
    }

    #[test]
    fn go_float_printing() {
        assert_eq!(format_go_float(1.0), "1");
        assert_eq!(format_go_float(100000.0), "100000");
        assert_eq!(format_go_float(1000000.0), "1e+06");
        assert_eq!(format_go_float(1234567.0), "1.234567e+06");
        assert_eq!(format_go_float(0.0001), "0.0001");
        assert_eq!(format_go_float(0.00001), "1e-05");
        assert_eq!(format_go_float(-2.5), "-2.5");
        assert_eq!(format_go_float(f64::INFINITY), "+Inf");
        assert_eq!(format_api_float(1e21), "1000000000000000000000");
        assert_eq!(format_api_float(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\"b\n""#).unwrap(), "a\"b\n");
        assert_eq!(unquote(r"'it\'s'").unwrap(), "it's");
        assert_eq!(unquote(r"`raw\n`").unwrap(), "raw\\n");
        assert_eq!(unquote(r#""\u00e9\x41\101""#).unwrap(), "éAA");
        assert_eq!(unquote(r#""\xc3\xa9""#).unwrap(), "é");
        assert!(unquote(r#""\q""#).is_err());
    }
}
