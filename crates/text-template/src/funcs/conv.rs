//! Sprig's defaults, reflection, type conversion, paths and URLs.

use super::strings::strval;
use super::{FuncMap, Sig, Ty, err, s};
use crate::value::Value;

/// Sprig's `empty`.
pub(crate) fn empty(v: &Value) -> bool {
    match v {
        Value::Invalid | Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) | Value::Int64(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(o) => o.len() == Some(0),
    }
}

/// spf13/cast `ToInt64`: numbers truncate, strings parse with base prefixes, failures are 0.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Float(f) => {
            if f.is_nan() {
                i64::MIN
            } else {
                *f as i64
            }
        }
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_int_base0(&trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

fn trim_zero_decimal(s: &str) -> String {
    if let Some(i) = s.find('.')
        && i > 0
        && s[i + 1..].chars().all(|c| c == '0')
        && !s[i + 1..].is_empty()
    {
        return s[..i].to_string();
    }
    s.to_string()
}

/// `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
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
        (10, lower.clone())
    };
    let clean: String = if radix != 10 || digits.contains('_') {
        digits.replace('_', "")
    } else {
        digits
    };
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(&clean, radix).ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// spf13/cast `ToFloat64`.
pub(crate) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// `strconv.ParseFloat(s, 64)` (decimal, `inf`, `nan`, hex floats not supported).
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.replace('_', "");
    let l = t.to_ascii_lowercase();
    match l.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            return Some(if l.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    t.parse::<f64>().ok()
}

fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            x => out.push(x),
        }
    }
    let j = out.join("/");
    if rooted {
        format!("/{j}")
    } else if j.is_empty() {
        ".".into()
    } else {
        j
    }
}

fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    match t.rfind('/') {
        Some(i) => t[i + 1..].to_string(),
        None => t.to_string(),
    }
}

fn path_dir(p: &str) -> String {
    let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    path_clean(&p[..i])
}

fn path_ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}

fn url_parse(u: &str) -> Result<Value, String> {
    let mut rest = u;
    let mut scheme = "";
    if let Some(i) = rest.find(':') {
        let cand = &rest[..i];
        if !cand.is_empty()
            && cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            scheme = cand;
            rest = &rest[i + 1..];
        }
    }
    let mut fragment = "";
    if let Some(i) = rest.find('#') {
        fragment = &rest[i + 1..];
        rest = &rest[..i];
    }
    let mut query = "";
    if let Some(i) = rest.find('?') {
        query = &rest[i + 1..];
        rest = &rest[..i];
    }
    let mut host = "";
    let mut userinfo = "";
    let mut opaque = "";
    let path;
    if let Some(r) = rest.strip_prefix("//") {
        let end = r.find('/').unwrap_or(r.len());
        let authority = &r[..end];
        path = &r[end..];
        match authority.rfind('@') {
            Some(i) => {
                userinfo = &authority[..i];
                host = &authority[i + 1..];
            }
            None => host = authority,
        }
    } else if !scheme.is_empty() && !rest.starts_with('/') {
        opaque = rest;
        path = "";
    } else {
        path = rest;
    }
    let hostname = if let Some(h) = host.strip_prefix('[') {
        h.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    Ok(Value::map([
        ("scheme", Value::str(scheme)),
        ("host", Value::str(host)),
        ("hostname", Value::str(hostname)),
        ("path", Value::str(path)),
        ("query", Value::str(query)),
        ("opaque", Value::str(opaque)),
        ("fragment", Value::str(fragment)),
        ("userinfo", Value::str(userinfo)),
    ]))
}

fn url_join(d: &Value) -> String {
    let get = |k: &str| match d {
        Value::Map(m) => m.get(k).map(|v| strval(&v)).unwrap_or_default(),
        _ => String::new(),
    };
    let mut out = String::new();
    let scheme = get("scheme");
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push(':');
    }
    let opaque = get("opaque");
    if !opaque.is_empty() {
        out.push_str(&opaque);
    } else {
        let host = get("host");
        let userinfo = get("userinfo");
        if !scheme.is_empty() || !host.is_empty() || !userinfo.is_empty() {
            if !host.is_empty() || !get("path").is_empty() || !userinfo.is_empty() {
                out.push_str("//");
            }
            if !userinfo.is_empty() {
                out.push_str(&userinfo);
                out.push('@');
            }
            out.push_str(&host);
        }
        let path = get("path");
        if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
            out.push('/');
        }
        out.push_str(&path);
    }
    let q = get("query");
    if !q.is_empty() {
        out.push('?');
        out.push_str(&q);
    }
    let f = get("fragment");
    if !f.is_empty() {
        out.push('#');
        out.push_str(&f);
    }
    out
}

pub(crate) fn register(m: &mut FuncMap) {
    let any = Ty::Any;
    let st = Ty::String;
    m.add("default", Sig::variadic(&[any], any), |_, a| {
        if a.len() < 2 || empty(&a[1]) {
            return Ok(a[0].clone());
        }
        Ok(a[1].clone())
    });
    m.add("empty", Sig::fixed(&[any]), |_, a| {
        Ok(Value::Bool(empty(&a[0])))
    });
    m.add("coalesce", Sig::variadic(&[], any), |_, a| {
        Ok(a.into_iter().find(|v| !empty(v)).unwrap_or(Value::Nil))
    });
    m.add("all", Sig::variadic(&[], any), |_, a| {
        Ok(Value::Bool(a.iter().all(|v| !empty(v))))
    });
    m.add("any", Sig::variadic(&[], any), |_, a| {
        Ok(Value::Bool(a.iter().any(|v| !empty(v))))
    });
    m.add("ternary", Sig::fixed(&[any, any, Ty::Bool]), |_, a| {
        Ok(if matches!(a[2], Value::Bool(true)) {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    m.add("typeOf", Sig::fixed(&[any]), |_, a| {
        Ok(Value::str(a[0].type_name()))
    });
    m.add("typeIs", Sig::fixed(&[st, any]), |_, a| {
        Ok(Value::Bool(s(&a[0]) == a[1].type_name()))
    });
    m.add("typeIsLike", Sig::fixed(&[st, any]), |_, a| {
        let t = a[1].type_name();
        Ok(Value::Bool(s(&a[0]) == t || s(&a[0]) == format!("*{t}")))
    });
    m.add("kindOf", Sig::fixed(&[any]), |_, a| {
        Ok(Value::str(a[0].kind_name()))
    });
    m.add("kindIs", Sig::fixed(&[st, any]), |_, a| {
        Ok(Value::Bool(s(&a[0]) == a[1].kind_name()))
    });
    m.add("deepEqual", Sig::fixed(&[any, any]), |_, a| {
        Ok(Value::Bool(deep_equal(&a[0], &a[1])))
    });
    m.add("atoi", Sig::fixed(&[st]), |_, a| {
        let t = s(&a[0]);
        let v = t
            .strip_prefix('+')
            .unwrap_or(t)
            .parse::<i64>()
            .ok()
            .filter(|_| !t.starts_with("+-"))
            .unwrap_or(0);
        Ok(Value::Int(v))
    });
    m.add("int64", Sig::fixed(&[any]), |_, a| {
        Ok(Value::Int64(to_int64(&a[0])))
    });
    m.add("int", Sig::fixed(&[any]), |_, a| {
        Ok(Value::Int(to_int64(&a[0])))
    });
    m.add("float64", Sig::fixed(&[any]), |_, a| {
        Ok(Value::Float(to_float64(&a[0])))
    });
    m.add("toDecimal", Sig::fixed(&[any]), |_, a| {
        Ok(Value::Int64(
            i64::from_str_radix(&strval(&a[0]), 8).unwrap_or(0),
        ))
    });
    m.add("base", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(path_base(s(&a[0]))))
    });
    m.add("dir", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(path_dir(s(&a[0]))))
    });
    m.add("clean", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(path_clean(s(&a[0]))))
    });
    m.add("ext", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(path_ext(s(&a[0]))))
    });
    m.add("isAbs", Sig::fixed(&[st]), |_, a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });
    m.add("osBase", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(path_base(s(&a[0]))))
    });
    m.add("osDir", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(path_dir(s(&a[0]))))
    });
    m.add("osClean", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(path_clean(s(&a[0]))))
    });
    m.add("osExt", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(path_ext(s(&a[0]))))
    });
    m.add("osIsAbs", Sig::fixed(&[st]), |_, a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });
    m.add("urlParse", Sig::fixed(&[st]), |_, a| {
        match url_parse(s(&a[0])) {
            Ok(v) => Ok(v),
            Err(e) => err(format!("unable to parse url: {e}")),
        }
    });
    m.add("urlJoin", Sig::fixed(&[Ty::Map]), |_, a| {
        Ok(Value::str(url_join(&a[0])))
    });
}

/// Go's `reflect.DeepEqual` over our values.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    deep_equal_at(a, b, 0)
}

fn deep_equal_at(a: &Value, b: &Value, depth: usize) -> bool {
    // Comparing values that hold one list many times takes exponential time: stop (unequal)
    // once the execution's steps are spent; the executor reports the limit. Values nested
    // deeper than the other walkers go compare unequal rather than exhaust the stack.
    if depth > crate::value::MAX_VALUE_DEPTH || !crate::budget::visit(0) {
        return false;
    }
    let deep_equal = |p: &Value, q: &Value| deep_equal_at(p, q, depth + 1);
    match (a, b) {
        (Value::Invalid | Value::Nil, Value::Invalid | Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.elem == y.elem
                && x.len() == y.len()
                && x.items()
                    .iter()
                    .zip(y.items())
                    .all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.ptr_eq(y) {
                return true;
            }
            let (ex, ey) = (x.entries(), y.entries());
            ex.len() == ey.len()
                && ex
                    .iter()
                    .zip(ey.iter())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && deep_equal(v1, v2))
        }
        (Value::Object(x), Value::Object(y)) => std::sync::Arc::ptr_eq(x, y),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(path_clean("a/../b/./c/"), "b/c");
        assert_eq!(path_base("/a/b.txt"), "b.txt");
        assert_eq!(path_dir("/a/b.txt"), "/a");
        assert_eq!(path_ext("a/b.tar.gz"), ".gz");
    }

    #[test]
    fn casts() {
        assert_eq!(to_int64(&Value::str("0x10")), 16);
        assert_eq!(to_int64(&Value::str("12.0")), 12);
        assert_eq!(to_int64(&Value::str("abc")), 0);
        assert_eq!(to_int64(&Value::Float(3.9)), 3);
    }
}
