//! Go's predefined template functions (`and`, `or`, `not`, `len`, `index`, `slice`, `eq`, …).

use std::sync::LazyLock;

use super::{FuncMap, FuncResult, Function, Sig, Ty, err};
use crate::gofmt;
use crate::value::{ElemType, List, Value};

static BUILTINS: LazyLock<FuncMap> = LazyLock::new(|| {
    let mut m = FuncMap::new();
    let r = Ty::Reflect;
    // and/or are evaluated by the executor (short-circuit); these bodies are never called.
    m.add("and", Sig::variadic(&[r], r), |_, a| {
        Ok(a.into_iter().next().unwrap_or_default())
    });
    m.add("or", Sig::variadic(&[r], r), |_, a| {
        Ok(a.into_iter().next().unwrap_or_default())
    });
    m.add("not", Sig::fixed(&[r]), |_, a| {
        Ok(Value::Bool(!a[0].truth()))
    });
    m.add("len", Sig::fixed(&[r]), |_, a| length(&a[0]));
    m.add("index", Sig::variadic(&[r], r), |_, a| {
        index(&a[0], &a[1..])
    });
    m.add("slice", Sig::variadic(&[r], r), |_, a| {
        slice(&a[0], &a[1..])
    });
    m.add("print", Sig::variadic(&[], Ty::Any), |_, a| {
        Ok(Value::str(gofmt::sprint(&a)))
    });
    m.add("println", Sig::variadic(&[], Ty::Any), |_, a| {
        Ok(Value::str(gofmt::sprintln(&a)))
    });
    m.add("printf", Sig::variadic(&[Ty::String], Ty::Any), |_, a| {
        Ok(Value::str(gofmt::sprintf(super::s(&a[0]), &a[1..])))
    });
    m.add("html", Sig::variadic(&[], Ty::Any), |_, a| {
        Ok(Value::str(html_escape(&eval_args(&a))))
    });
    m.add("js", Sig::variadic(&[], Ty::Any), |_, a| {
        Ok(Value::str(js_escape(&eval_args(&a))))
    });
    m.add("urlquery", Sig::variadic(&[], Ty::Any), |_, a| {
        Ok(Value::str(query_escape(&eval_args(&a))))
    });
    m.add("call", Sig::variadic(&[r], r), |_, a| {
        let f = &a[0];
        if f.is_nil() {
            return err("call of nil");
        }
        err(format!(
            "non-function {} of type {}",
            gofmt::sprint_value(f),
            f.type_name()
        ))
    });
    m.add("eq", Sig::variadic(&[r], r), |_, a| {
        eq(&a[0], &a[1..]).map(Value::Bool)
    });
    m.add("ne", Sig::fixed(&[r, r]), |_, a| {
        eq(&a[0], &a[1..]).map(|b| Value::Bool(!b))
    });
    m.add("lt", Sig::fixed(&[r, r]), |_, a| {
        lt(&a[0], &a[1]).map(Value::Bool)
    });
    m.add("le", Sig::fixed(&[r, r]), |_, a| {
        le(&a[0], &a[1]).map(Value::Bool)
    });
    m.add("gt", Sig::fixed(&[r, r]), |_, a| {
        le(&a[0], &a[1]).map(|b| Value::Bool(!b))
    });
    m.add("ge", Sig::fixed(&[r, r]), |_, a| {
        lt(&a[0], &a[1]).map(|b| Value::Bool(!b))
    });
    let mut out = FuncMap::new();
    for name in m.names() {
        if let Some(f) = m.get(name) {
            let mut f: Function = f.clone();
            f.builtin = true;
            out.insert(name, f);
        }
    }
    out
});

pub(crate) fn get(name: &str) -> Option<&'static Function> {
    BUILTINS.get(name)
}

pub(crate) fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(name)
}

fn eval_args(a: &[Value]) -> String {
    if a.len() == 1
        && let Value::String(s) = &a[0]
    {
        return s.to_string();
    }
    gofmt::sprint(a)
}

/// Go's `template.HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\0' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// Go's `template.JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            '"' => o.push_str("\\\""),
            '<' => o.push_str("\\u003C"),
            '>' => o.push_str("\\u003E"),
            '&' => o.push_str("\\u0026"),
            '=' => o.push_str("\\u003D"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) < 0x80 => o.push(c),
            c if !c.is_control() => o.push(c),
            c => o.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    o
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            b' ' => o.push('+'),
            b => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

fn length(v: &Value) -> FuncResult {
    let n = match v {
        Value::Nil => return err("len of nil pointer"),
        Value::Invalid => return err("reflect: call of reflect.Value.Type on zero Value"),
        Value::String(s) => crate::gostr::go_len(s),
        Value::Bytes(b) => b.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Object(o) => match o.len() {
            Some(n) => n,
            None => return err(format!("len of type {}", v.type_name())),
        },
        _ => return err(format!("len of type {}", v.type_name())),
    };
    Ok(Value::Int(n as i64))
}

fn index_arg(i: &Value, cap: usize) -> Result<usize, super::FuncError> {
    let x = match i {
        Value::Int(x) | Value::Int64(x) => *x,
        Value::Invalid | Value::Nil => return err("cannot index slice/array with nil"),
        other => {
            return err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ));
        }
    };
    if x < 0 || x as usize > cap {
        return err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> FuncResult {
    let mut item = match item {
        Value::Invalid | Value::Nil => return err("index of untyped nil"),
        v => v.clone(),
    };
    for ix in indexes {
        item = match &item {
            Value::Nil => return err("index of nil pointer"),
            Value::List(l) => {
                let x = index_arg(ix, l.len())?;
                match l.items().get(x) {
                    Some(v) => v.clone(),
                    None => return err("reflect: slice index out of range"),
                }
            }
            Value::String(s) => {
                let x = index_arg(ix, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Value::Int(*b as i64),
                    None => return err("reflect: string index out of range"),
                }
            }
            Value::Bytes(b) => {
                let x = index_arg(ix, b.len())?;
                match b.get(x) {
                    Some(b) => Value::Int(*b as i64),
                    None => return err("reflect: slice index out of range"),
                }
            }
            Value::Map(m) => match ix {
                Value::String(k) => match m.get(k) {
                    Some(v) => v,
                    None => {
                        if m.string_values {
                            Value::str("")
                        } else {
                            Value::Nil
                        }
                    }
                },
                Value::Invalid | Value::Nil => {
                    return err("value is nil; should be of type string");
                }
                other => {
                    return err(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    ));
                }
            },
            Value::Object(o) if o.items().is_some() => {
                let items = o.items().unwrap_or_default();
                let x = index_arg(ix, items.len())?;
                match items.get(x) {
                    Some(v) => v.clone(),
                    None => return err("reflect: slice index out of range"),
                }
            }
            other => return err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &Value, idx: &[Value]) -> FuncResult {
    if item.is_nil() {
        return err("slice of untyped nil");
    }
    if idx.len() > 3 {
        return err(format!("too many slice indexes: {}", idx.len()));
    }
    let cap = match item {
        Value::String(s) => {
            if idx.len() == 3 {
                return err("cannot 3-index slice a string");
            }
            s.len()
        }
        Value::List(l) => l.len(),
        _ => return err(format!("can't slice item of type {}", item.type_name())),
    };
    let mut ix = [0usize, cap, cap];
    for (i, v) in idx.iter().enumerate() {
        ix[i] = index_arg(v, cap)?;
    }
    if ix[0] > ix[1] {
        return err(format!("invalid slice index: {} > {}", ix[0], ix[1]));
    }
    match item {
        Value::String(s) => match s.get(ix[0]..ix[1]) {
            Some(sub) => Ok(Value::str(sub)),
            None => Ok(Value::str(String::from_utf8_lossy(
                &s.as_bytes()[ix[0]..ix[1]],
            ))),
        },
        Value::List(l) => Ok(Value::List(List::typed(
            l.items()[ix[0]..ix[1]].to_vec(),
            l.elem,
        ))),
        _ => unreachable!(),
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";
const BAD_COMPARISON: &str = "incompatible types for comparison";

/// Go's `eq`: true if `a` equals any of `bs`.
pub(crate) fn eq(a: &Value, bs: &[Value]) -> Result<bool, super::FuncError> {
    let a = if matches!(a, Value::Nil) {
        &Value::Invalid
    } else {
        a
    };
    if bs.is_empty() {
        return err("missing argument for comparison");
    }
    let k1 = basic_kind(a);
    for b in bs {
        let b = if matches!(b, Value::Nil) {
            &Value::Invalid
        } else {
            b
        };
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if !matches!(a, Value::Invalid) && !matches!(b, Value::Invalid) {
                return err(BAD_COMPARISON);
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Invalid, _) | (_, Value::Invalid) => a.is_nil() && b.is_nil(),
                (Value::List(_) | Value::Map(_) | Value::Bytes(_), _) => {
                    return err(format!(
                        "non-comparable type {}: {}",
                        gofmt::sprintf("%s", std::slice::from_ref(b)),
                        b.type_name()
                    ));
                }
                (_, Value::List(_) | Value::Map(_) | Value::Bytes(_)) => {
                    return err(format!(
                        "non-comparable type {}: {}",
                        gofmt::sprintf("%s", std::slice::from_ref(b)),
                        b.type_name()
                    ));
                }
                (Value::Object(x), Value::Object(y)) => std::sync::Arc::ptr_eq(x, y),
                _ => false,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(crate) fn lt(a: &Value, b: &Value) -> Result<bool, super::FuncError> {
    let k1 = basic_kind(a);
    if k1 == Kind::Invalid {
        return err(BAD_COMPARISON_TYPE);
    }
    let k2 = basic_kind(b);
    if k2 == Kind::Invalid {
        return err(BAD_COMPARISON_TYPE);
    }
    if k1 != k2 {
        return err(BAD_COMPARISON);
    }
    Ok(match (a, b) {
        (Value::Bool(_), _) => return err(BAD_COMPARISON_TYPE),
        (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        _ => false,
    })
}

fn le(a: &Value, b: &Value) -> Result<bool, super::FuncError> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

/// Used by Sprig for `[]string` results.
#[allow(dead_code)]
pub(crate) fn string_list(items: Vec<String>) -> Value {
    Value::List(List::typed(
        items.into_iter().map(Value::from).collect(),
        ElemType::String,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eq_rules() {
        assert!(eq(&Value::Int(1), &[Value::Int(2), Value::Int(1)]).unwrap());
        assert!(eq(&Value::Float(1.0), &[Value::Int(1)]).is_err());
        assert!(!eq(&Value::Nil, &[Value::str("x")]).unwrap());
        assert!(eq(&Value::Nil, &[Value::Invalid]).unwrap());
    }

    #[test]
    fn escapes() {
        assert_eq!(
            html_escape("<a href='x'>&"),
            "&lt;a href=&#39;x&#39;&gt;&amp;"
        );
        assert_eq!(js_escape("a'b<"), "a\\'b\\u003C");
        assert_eq!(query_escape("a b&c"), "a+b%26c");
    }
}
