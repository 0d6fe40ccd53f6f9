//! Scalar resolution: what a scalar's text means, as go-yaml v2 decides it.
//!
//! go-yaml v2 (`resolve.go`) looks at the first byte of a plain scalar to pick a candidate type,
//! then tries a fixed table (null, booleans, `.inf`, `.nan`, `<<`), Go's `strconv.ParseInt` with
//! base prefixes after removing every `_`, `strconv.ParseUint`, and a YAML-style float pattern.
//! Whatever does not match is a string. Quoted and block scalars are strings unless tagged.
//! Explicit tags (`!!int "3"`) are resolved the same way and must agree with the tag.

use crate::{Number, Value};

/// Long form of the `!!` handle's prefix.
pub(crate) const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// What a scalar resolves to before it becomes a [`Value`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer that fits in `u64` but not in `i64`; go-yaml keeps it as `uint64`.
    UInt(u64),
    Float(f64),
    /// A timestamp-looking plain scalar; go-yaml hands it to `interface{}` as its text.
    Timestamp,
    /// The `<<` merge key.
    Merge,
    /// A `!!binary` scalar: the text is base64 to decode with [`decode_binary`].
    Binary,
    /// The text itself.
    Str,
}

impl Resolved {
    /// The value, taking the scalar's text when it resolved to a string.
    pub(crate) fn into_value(self, text: impl Into<String>) -> Value {
        match self {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Number(Number::Int(i)),
            Resolved::UInt(u) => Value::Number(Number::Float(u as f64)),
            Resolved::Float(f) => Value::Number(Number::Float(f)),
            Resolved::Timestamp | Resolved::Merge | Resolved::Binary | Resolved::Str => {
                Value::String(text.into())
            }
        }
    }

    /// The short tag name go-yaml reports in its messages.
    fn short_tag(self) -> &'static str {
        match self {
            Resolved::Null => "!!null",
            Resolved::Bool(_) => "!!bool",
            Resolved::Int(_) | Resolved::UInt(_) => "!!int",
            Resolved::Float(_) => "!!float",
            Resolved::Timestamp => "!!timestamp",
            Resolved::Merge => "!!merge",
            Resolved::Binary => "!!binary",
            Resolved::Str => "!!str",
        }
    }
}

/// Whether an untagged plain scalar resolves to null.
pub(crate) fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// Resolves an untagged plain scalar.
pub(crate) fn resolve_plain(s: &str) -> Resolved {
    resolve_untyped(s, true)
}

/// The core of go-yaml v2's `resolve`: the first byte picks the candidates.
fn resolve_untyped(s: &str, timestamps: bool) -> Resolved {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return Resolved::Null;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' | b'<' => {
            table(s).unwrap_or(Resolved::Str)
        }
        b'.' => table(s)
            .or_else(|| go_parse_float(s).map(Resolved::Float))
            .unwrap_or(Resolved::Str),
        b'+' | b'-' | b'0'..=b'9' => {
            if let Some(r) = table(s) {
                return r;
            }
            if timestamps && looks_like_timestamp(s) {
                return Resolved::Timestamp;
            }
            number(s).unwrap_or(Resolved::Str)
        }
        _ => Resolved::Str,
    }
}

/// go-yaml's lookup table of exact spellings.
fn table(s: &str) -> Option<Resolved> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Resolved::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "<<" => Resolved::Merge,
        _ => return None,
    })
}

/// Integers and floats for scalars starting with a sign or a digit.
fn number(s: &str) -> Option<Resolved> {
    // go-yaml removes every underscore before trying the number parsers.
    let stripped;
    let plain = if s.contains('_') {
        stripped = s.replace('_', "");
        stripped.as_str()
    } else {
        s
    };
    if let Some(i) = go_parse_int(plain) {
        return Some(Resolved::Int(i));
    }
    if let Some(u) = go_parse_uint(plain) {
        return Some(if let Ok(i) = i64::try_from(u) {
            Resolved::Int(i)
        } else {
            Resolved::UInt(u)
        });
    }
    if yaml_style_float(plain) {
        // Go's ParseFloat fails with ErrRange on overflow, and go-yaml then keeps the string.
        if let Ok(f) = plain.parse::<f64>()
            && f.is_finite()
        {
            return Some(Resolved::Float(f));
        }
    }
    None
}

/// `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b` or a leading-`0` octal.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = go_parse_uint(digits)?;
    if neg {
        if magnitude <= i64::MAX as u64 + 1 {
            Some((magnitude as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseUint(s, 0, 64)`: no sign, base from the prefix.
fn go_parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let (radix, digits) = if b.first() == Some(&b'0') && b.len() > 1 {
        match b[1] {
            b'x' | b'X' if b.len() >= 3 => (16, &s[2..]),
            b'o' | b'O' if b.len() >= 3 => (8, &s[2..]),
            b'b' | b'B' if b.len() >= 3 => (2, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.bytes().all(|c| (c as char).is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for a scalar starting with `.`: digits may be separated
/// by single underscores; an overflow is an error.
fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 1; // the leading '.'
    // Digits with single underscores between digits.
    let digits = |i: &mut usize| -> Option<usize> {
        let start = *i;
        let mut last_digit = false;
        while *i < b.len() {
            match b[*i] {
                b'0'..=b'9' => last_digit = true,
                b'_' if last_digit && b.get(*i + 1).is_some_and(u8::is_ascii_digit) => {
                    last_digit = false
                }
                b'_' => return None,
                _ => break,
            }
            *i += 1;
        }
        Some(*i - start)
    };
    if digits(&mut i)? == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i)? == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let f: f64 = s.replace('_', "").parse().ok()?;
    f.is_finite().then_some(f)
}

/// go-yaml's quick timestamp test followed by the layouts it accepts: `2006-1-2`,
/// `2006-1-2 15:4:5.999999999`, and `2006-1-2T15:4:5.999999999Z07:00` (also with `t`).
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    parse_timestamp(b).is_some()
}

fn parse_timestamp(b: &[u8]) -> Option<()> {
    let mut i = 5;
    let num = |i: &mut usize, max_len: usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && *i - start < max_len && b[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i == start {
            return None;
        }
        std::str::from_utf8(&b[start..*i]).ok()?.parse().ok()
    };
    let year: u32 = std::str::from_utf8(&b[..4]).ok()?.parse().ok()?;
    let month = num(&mut i, 2)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let day = num(&mut i, 2)?;
    let days = crate::civil::days_in_month(i64::from(year), month);
    if day == 0 || day > days {
        return None;
    }
    if i == b.len() {
        return Some(());
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    i += 1;
    let hour = num(&mut i, 2)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let minute = num(&mut i, 2)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let second = num(&mut i, 2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if !zoned {
        return (i == b.len()).then_some(());
    }
    match b.get(i)? {
        b'Z' => i += 1,
        b'+' | b'-' => {
            i += 1;
            let h = num(&mut i, 2)?;
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            let m = num(&mut i, 2)?;
            if h > 23 || m > 59 {
                return None;
            }
        }
        _ => return None,
    }
    (i == b.len()).then_some(())
}

/// Resolves a scalar that carries an explicit tag (already expanded to its long form).
///
/// `!!str` keeps the text and `!!binary` asks for base64 decoding ([`Resolved::Binary`]).
/// Tags outside the YAML types (`!foo`, `!`, `!!map` on a scalar) keep the text, as go-yaml
/// does. `!!int`, `!!float`, `!!bool`, `!!null` and `!!timestamp` must agree with what the
/// text resolves to.
pub(crate) fn resolve_tagged(tag: &str, text: &str) -> Result<Resolved, String> {
    let Some(name) = tag.strip_prefix(YAML_TAG_PREFIX) else {
        return Ok(Resolved::Str);
    };
    let want = match name {
        "binary" => return Ok(Resolved::Binary),
        "bool" | "int" | "float" | "null" | "timestamp" => name,
        _ => return Ok(Resolved::Str),
    };
    let got = resolve_untyped(text, want == "timestamp");
    let ok = match (want, got) {
        ("bool", Resolved::Bool(_))
        | ("int", Resolved::Int(_) | Resolved::UInt(_))
        | ("float", Resolved::Float(_))
        | ("null", Resolved::Null)
        | ("timestamp", Resolved::Timestamp) => Some(got),
        ("float", Resolved::Int(i)) => Some(Resolved::Float(i as f64)),
        _ => None,
    };
    ok.ok_or_else(|| {
        format!(
            "cannot decode {} `{}` as a !!{}",
            got.short_tag(),
            text,
            want
        )
    })
}

/// Decodes a `!!binary` scalar as go-yaml does (`base64.StdEncoding`, line breaks ignored);
/// bytes that are not UTF-8 become U+FFFD, as Go's JSON encoding of the string would.
pub(crate) fn decode_binary(text: &str) -> Result<String, String> {
    const INVALID: &str = "!!binary value contains invalid base64 data";
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !matches!(c, b'\r' | b'\n'))
        .collect();
    if !digits.len().is_multiple_of(4) {
        return Err(INVALID.into());
    }
    let sextet = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(digits.len() / 4 * 3);
    let quads = digits.chunks_exact(4);
    let last = quads.len().saturating_sub(1);
    for (i, quad) in quads.enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i != last) {
            return Err(INVALID.into());
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | sextet(c).ok_or(INVALID)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The string form sigs.k8s.io/yaml gives a float used as a mapping key: Go's
/// `strconv.FormatFloat(f, 'g', -1, 32)`, with `.inf`, `-.inf` and `.nan` for the specials.
pub(crate) fn float_key(f: f64) -> String {
    let f = f as f32;
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    // Rust's `{:e}` gives the shortest digits that read back as the same f32.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> Value {
        resolve_plain(s).into_value(s)
    }

    #[test]
    fn nulls() {
        for s in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(plain(s), Value::Null, "{s:?}");
        }
        assert_eq!(plain("nULL"), Value::from("nULL"));
    }

    #[test]
    fn yaml11_booleans() {
        for s in [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
        ] {
            assert_eq!(plain(s), Value::Bool(true), "{s:?}");
        }
        for s in [
            "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
        ] {
            assert_eq!(plain(s), Value::Bool(false), "{s:?}");
        }
        for s in ["yES", "oN", "tRUE", "enabled", "t", "f"] {
            assert_eq!(plain(s), Value::from(s), "{s:?}");
        }
    }

    #[test]
    fn integers_with_go_prefixes() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("-0", 0),
            ("+12", 12),
            ("-12", -12),
            ("0755", 493),
            ("-0755", -493),
            ("0o17", 15),
            ("0O17", 15),
            ("0x1F", 31),
            ("0X1f", 31),
            ("-0x10", -16),
            ("0b101", 5),
            ("-0b11", -3),
            ("1_000", 1000),
            ("0x_ff", 255),
            ("1__0", 10),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for (s, want) in cases {
            assert_eq!(plain(s), Value::from(*want), "{s:?}");
        }
    }

    #[test]
    fn integers_past_i64_become_floats() {
        assert_eq!(
            plain("9223372036854775808"),
            Value::from(9223372036854775808.0f64)
        );
        assert_eq!(
            plain("0xFFFFFFFFFFFFFFFF"),
            Value::from(18446744073709551615.0f64)
        );
        assert_eq!(
            plain("123456789012345678901234567890"),
            Value::from(1.2345678901234568e29f64)
        );
        // Too big for u64 and not decimal: go-yaml gives up and keeps the text.
        assert_eq!(
            plain("0x1FFFFFFFFFFFFFFFF"),
            Value::from("0x1FFFFFFFFFFFFFFFF")
        );
    }

    #[test]
    fn not_quite_octal_is_a_float() {
        // ParseInt("08", 0) fails as octal; the float pattern then matches.
        assert_eq!(plain("08"), Value::from(8.0f64));
        assert_eq!(plain("0_9"), Value::from(9.0f64));
        assert_eq!(plain("0x"), Value::from("0x"));
        assert_eq!(plain("0b"), Value::from("0b"));
        assert_eq!(plain("0b2"), Value::from("0b2"));
    }

    #[test]
    fn floats() {
        let cases: &[(&str, f64)] = &[
            ("1.5", 1.5),
            ("-1.5", -1.5),
            ("+1.5", 1.5),
            ("1.", 1.0),
            (".5", 0.5),
            ("-.5", -0.5),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("1_000.5", 1000.5),
            ("6.02e+23", 6.02e23),
            (".5e1", 5.0),
            (".5_5", 0.55),
            (".inf", f64::INFINITY),
            ("-.Inf", f64::NEG_INFINITY),
            ("+.INF", f64::INFINITY),
        ];
        for (s, want) in cases {
            assert_eq!(plain(s), Value::from(*want), "{s:?}");
        }
        assert!(matches!(plain(".nan"), Value::Number(Number::Float(f)) if f.is_nan()));
        assert!(matches!(plain(".NaN"), Value::Number(Number::Float(f)) if f.is_nan()));
    }

    #[test]
    fn things_that_stay_strings() {
        for s in [
            "1e400",
            ".5e400",
            "1.2.3",
            "-",
            "+",
            ".",
            "._5",
            ".5_",
            "1e",
            "e3",
            "0x1p3",
            "inf",
            "nan",
            ".infinity",
            "1:20",
            "190:20:30",
            "3d",
            "v1",
            "<<<",
            "12 monkeys",
        ] {
            assert_eq!(plain(s), Value::from(s), "{s:?}");
        }
    }

    #[test]
    fn timestamps_stay_strings() {
        for s in [
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10",
            "2024-01-01T00:00:00Z",
        ] {
            assert_eq!(resolve_plain(s), Resolved::Timestamp, "{s:?}");
            assert_eq!(plain(s), Value::from(s));
        }
        assert_eq!(resolve_plain("2001-13-14"), Resolved::Str);
        assert_eq!(resolve_plain("2001-02-30"), Resolved::Str);
    }

    #[test]
    fn merge_key() {
        assert_eq!(resolve_plain("<<"), Resolved::Merge);
    }

    #[test]
    fn explicit_tags() {
        let t = |name: &str, text: &str| {
            resolve_tagged(&format!("{YAML_TAG_PREFIX}{name}"), text).map(|r| r.into_value(text))
        };
        assert_eq!(t("str", "123"), Ok(Value::from("123")));
        assert_eq!(t("int", "0x10"), Ok(Value::from(16i64)));
        assert_eq!(t("float", "3"), Ok(Value::from(3.0f64)));
        assert_eq!(t("bool", "yes"), Ok(Value::Bool(true)));
        assert_eq!(t("null", ""), Ok(Value::Null));
        assert_eq!(t("timestamp", "2001-01-01"), Ok(Value::from("2001-01-01")));
        assert_eq!(
            resolve_tagged(&format!("{YAML_TAG_PREFIX}binary"), "x"),
            Ok(Resolved::Binary)
        );
        assert_eq!(t("map", "x"), Ok(Value::from("x")));
        assert_eq!(
            t("int", "abc"),
            Err("cannot decode !!str `abc` as a !!int".into())
        );
        assert_eq!(
            t("bool", "1"),
            Err("cannot decode !!int `1` as a !!bool".into())
        );
        assert_eq!(
            t("float", "18446744073709551615"),
            Err("cannot decode !!int `18446744073709551615` as a !!float".into())
        );
        assert_eq!(resolve_tagged("!foo", "12"), Ok(Resolved::Str));
        assert_eq!(resolve_tagged("!", "12"), Ok(Resolved::Str));
    }

    #[test]
    fn binary_is_standard_base64() {
        assert_eq!(decode_binary("aGVsbG8="), Ok("hello".into()));
        assert_eq!(decode_binary("aGVs\nbG8h"), Ok("hello!".into()));
        assert_eq!(decode_binary("aA=="), Ok("h".into()));
        assert_eq!(decode_binary(""), Ok("".into()));
        assert_eq!(decode_binary("/w=="), Ok("\u{fffd}".into()));
        for bad in ["aGk", "aG=k", "a===", "aA==aA==", "a-k="] {
            assert!(decode_binary(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn float_keys_format_like_go_float32_g() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (-2.25, "-2.25"),
            (1000.0, "1000"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (std::f64::consts::PI, "3.1415927"),
            (1e21, "1e+21"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e39, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (f64::NAN, ".nan"),
        ];
        for (f, want) in cases {
            assert_eq!(float_key(*f), *want, "{f}");
        }
    }
}
