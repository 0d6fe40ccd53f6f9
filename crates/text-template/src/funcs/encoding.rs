//! Encodings and hashes: base64/base32, JSON (Go's `encoding/json`), sha*sum, adler32sum.

use base64::Engine as _;
use ring::digest;

use super::{FuncError, FuncMap, Sig, Ty, err, s};
use crate::gofmt;
use crate::gostr::{from_go_bytes, to_go_bytes};
use crate::value::{MAX_VALUE_DEPTH, Value};

pub(crate) fn register(m: &mut FuncMap) {
    let st = Ty::String;
    m.add("b64enc", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(to_go_bytes(s(&a[0]))),
        ))
    });
    m.add("b64dec", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(
            match base64::engine::general_purpose::STANDARD.decode(s(&a[0])) {
                Ok(b) => from_go_bytes(&b).into_owned(),
                Err(e) => go_base64_error(&e),
            },
        ))
    });
    m.add("b32enc", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(base32_encode(&to_go_bytes(s(&a[0])))))
    });
    m.add("b32dec", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(match base32_decode(s(&a[0])) {
            Ok(b) => from_go_bytes(&b).into_owned(),
            Err(e) => e,
        }))
    });
    m.add("toJson", Sig::fixed(&[Ty::Any]), |_, a| {
        Ok(Value::str(marshal(&a[0], true, None).unwrap_or_default()))
    });
    m.add("toPrettyJson", Sig::fixed(&[Ty::Any]), |_, a| {
        Ok(Value::str(
            marshal(&a[0], true, Some("  ")).unwrap_or_default(),
        ))
    });
    m.add("toRawJson", Sig::fixed(&[Ty::Any]), |_, a| {
        Ok(Value::str(marshal(&a[0], false, None).unwrap_or_default()))
    });
    m.add("mustToJson", Sig::fixed(&[Ty::Any]), |_, a| {
        marshal(&a[0], true, None).map(Value::str)
    });
    m.add("mustToPrettyJson", Sig::fixed(&[Ty::Any]), |_, a| {
        marshal(&a[0], true, Some("  ")).map(Value::str)
    });
    m.add("mustToRawJson", Sig::fixed(&[Ty::Any]), |_, a| {
        marshal(&a[0], false, None).map(Value::str)
    });
    m.add("mustFromJson", Sig::fixed(&[st]), |_, a| {
        serde_json::from_str::<serde_json::Value>(s(&a[0]))
            .map(|v| Value::from_json(&v))
            .map_err(|e| FuncError::new(json_error(&e, s(&a[0]))))
    });
    m.add("sha1sum", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(hex(digest::digest(
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            &to_go_bytes(s(&a[0])),
        )
        .as_ref())))
    });
    m.add("sha256sum", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(hex(digest::digest(
            &digest::SHA256,
            &to_go_bytes(s(&a[0])),
        )
        .as_ref())))
    });
    m.add("sha512sum", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(hex(digest::digest(
            &digest::SHA512,
            &to_go_bytes(s(&a[0])),
        )
        .as_ref())))
    });
    m.add("adler32sum", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(adler32(&to_go_bytes(s(&a[0]))).to_string()))
    });
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

pub(crate) fn go_base64_error(e: &base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(off, _)
        | base64::DecodeError::InvalidLastSymbol(off, _) => {
            format!("illegal base64 data at input byte {off}")
        }
        base64::DecodeError::InvalidLength(n) => format!("illegal base64 data at input byte {n}"),
        base64::DecodeError::InvalidPadding => "illegal base64 data at input byte 0".into(),
    }
}

const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base32_decode(s: &str) -> Result<Vec<u8>, String> {
    let clean: Vec<u8> = s.bytes().filter(|&b| b != b'\n' && b != b'\r').collect();
    if !clean.len().is_multiple_of(8) {
        return Err(format!(
            "illegal base32 data at input byte {}",
            clean.len() / 8 * 8
        ));
    }
    let mut out = Vec::new();
    for (ci, chunk) in clean.chunks(8).enumerate() {
        let mut n: u64 = 0;
        let mut count = 0;
        for (i, &c) in chunk.iter().enumerate() {
            if c == b'=' {
                break;
            }
            let Some(v) = B32.iter().position(|&x| x == c) else {
                return Err(format!("illegal base32 data at input byte {}", ci * 8 + i));
            };
            n |= (v as u64) << (35 - i * 5);
            count += 1;
        }
        let bytes = match count {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => 0,
        };
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[3..3 + bytes]);
    }
    Ok(out)
}

/// A Go-like message for a JSON syntax error.
pub(crate) fn json_error(e: &serde_json::Error, _input: &str) -> String {
    match e.classify() {
        serde_json::error::Category::Eof => "unexpected end of JSON input".into(),
        _ => {
            let msg = e.to_string();
            match msg.find(" at line") {
                Some(i) => msg[..i].to_string(),
                None => msg,
            }
        }
    }
}

/// `encoding/json` string escaping.
pub(crate) fn json_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `encoding/json`'s float format.
pub(crate) fn json_float(f: f64) -> Option<String> {
    if f.is_nan() || f.is_infinite() {
        return None;
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = gofmt::format_float(f, 'e', -1);
        // Go cleans e-09 to e-9.
        if let Some(i) = s.find("e-0") {
            return Some(format!("{}e-{}", &s[..i], &s[i + 3..]));
        }
        if let Some(i) = s.find("e+0") {
            return Some(format!("{}e+{}", &s[..i], &s[i + 3..]));
        }
        return Some(s);
    }
    Some(gofmt::format_float(f, 'f', -1))
}

/// Go's `json.Marshal` (or `MarshalIndent` with `indent`); `Err` on NaN/Inf like Go.
pub(crate) fn marshal(
    v: &Value,
    escape_html: bool,
    indent: Option<&str>,
) -> Result<String, FuncError> {
    let mut out = String::new();
    write_json(&mut out, v, escape_html, indent, 0)?;
    Ok(out)
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(ind);
        }
    }
}

fn write_json(
    out: &mut String,
    v: &Value,
    html: bool,
    indent: Option<&str>,
    depth: usize,
) -> Result<(), FuncError> {
    if depth > MAX_VALUE_DEPTH {
        return err("json: unsupported value: encountered a cycle");
    }
    // A list or map held many times over writes exponentially more than it holds.
    if let Err(l) = crate::budget::work(1).and_then(|()| crate::budget::room(out.len() as u64)) {
        return err(l.to_string());
    }
    match v {
        Value::Invalid | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Float(f) => match json_float(*f) {
            Some(s) => out.push_str(&s),
            None => {
                return err(format!(
                    "json: unsupported value: {}",
                    gofmt::format_float(*f, 'g', -1)
                ));
            }
        },
        Value::String(s) => json_string(out, s, html),
        Value::Bytes(b) => json_string(
            out,
            &base64::engine::general_purpose::STANDARD.encode(b),
            html,
        ),
        Value::List(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in l.items().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_json(out, x, html, indent, depth + 1)?;
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Map(m) => {
            let entries = m.entries();
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, x)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                json_string(out, k, html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(out, x, html, indent, depth + 1)?;
            }
            newline(out, indent, depth);
            out.push('}');
        }
        Value::Object(o) => write_json(out, &o.to_data(), html, indent, depth + 1)?,
    }
    Ok(())
}

/// Helm's `toJson`.
pub(crate) fn to_json(v: &Value, html: bool) -> String {
    marshal(v, html, None).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_like_go() {
        let v = Value::map([
            ("b", Value::Float(1e6)),
            ("a", Value::str("<x>")),
            (
                "c",
                Value::list(vec![Value::Float(1.5), Value::Nil, Value::Float(1e21)]),
            ),
        ]);
        assert_eq!(
            to_json(&v, true),
            r#"{"a":"\u003cx\u003e","b":1000000,"c":[1.5,null,1e+21]}"#
        );
        assert_eq!(marshal(&Value::Float(1e-7), true, None).unwrap(), "1e-7");
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(base32_encode(b"hello"), "NBSWY3DP");
        assert_eq!(base32_encode(b"hi"), "NBUQ====");
        assert_eq!(base32_decode("NBUQ====").unwrap(), b"hi");
    }

    #[test]
    fn adler() {
        assert_eq!(adler32(b"Wikipedia"), 300286872);
    }
}
