//! Sprig's string functions.

use super::{FuncMap, Sig, Ty, err, i, s};
use crate::exec::CallCtx;
use crate::gofmt;
use crate::value::{ElemType, List, Map, Value};

/// Sprig's `strval`: strings as is, `[]byte` as text, everything else as `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => crate::gostr::from_go_bytes(b).into_owned(),
        other => gofmt::sprint_value(other),
    }
}

/// Sprig's `strslice`: a list's items as strings (nil items dropped), or one string.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => match l.elem {
            ElemType::String => l.items().iter().map(strval).collect(),
            _ => l
                .items()
                .iter()
                .filter(|x| !x.is_nil())
                .map(strval)
                .collect(),
        },
        Value::Invalid | Value::Nil => vec![],
        Value::Object(o) if o.items().is_some() => {
            o.items().unwrap_or_default().iter().map(strval).collect()
        }
        other => vec![strval(other)],
    }
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_' || c == '\'');
        if c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '_') {
            prev_sep = true;
        } else if !c.is_ascii() {
            prev_sep = c.is_whitespace();
        }
    }
    out
}

fn untitle(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut ws = true;
    for c in s.chars() {
        if ws {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        ws = c.is_whitespace();
    }
    out
}

fn swapcase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut ws = true;
    for c in s.chars() {
        if c.is_uppercase() {
            out.extend(c.to_lowercase());
            ws = false;
        } else if c.is_lowercase() {
            if ws {
                out.extend(c.to_uppercase());
                ws = false;
            } else {
                out.extend(c.to_uppercase());
            }
        } else {
            ws = c.is_whitespace();
            out.push(c);
        }
    }
    out
}

fn initials(s: &str) -> String {
    s.split_whitespace()
        .filter_map(|w| w.chars().next())
        .collect()
}

/// goutils.WrapCustom.
fn wrap_custom(s: &str, width: i64, newline: &str, wrap_long: bool) -> String {
    let width = if width < 1 { 1 } else { width as usize };
    let newline = if newline.is_empty() { "\n" } else { newline };
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len();
    let mut offset = 0;
    let mut out = String::new();
    while len - offset > width {
        if chars[offset] == ' ' {
            offset += 1;
            continue;
        }
        let window: String = chars[offset..offset + width + 1].iter().collect();
        let space = window.rfind(' ').map(|b| window[..b].chars().count());
        if let Some(sp) = space.filter(|&sp| sp > 0) {
            out.extend(&chars[offset..offset + sp]);
            out.push_str(newline);
            offset += sp + 1;
        } else if wrap_long {
            out.extend(&chars[offset..offset + width]);
            out.push_str(newline);
            offset += width;
        } else {
            let rest: String = chars[offset + width..].iter().collect();
            match rest.find(' ') {
                Some(b) => {
                    let sp = width + rest[..b].chars().count();
                    out.extend(&chars[offset..offset + sp]);
                    out.push_str(newline);
                    offset += sp + 1;
                }
                None => {
                    out.extend(&chars[offset..]);
                    offset = len;
                }
            }
        }
    }
    out.extend(&chars[offset..]);
    out
}

fn abbreviate(s: &str, offset: i64, max_width: i64) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    if max_width < 4 || n <= max_width {
        return s.to_string();
    }
    let mut offset = offset.min(n);
    if n - offset < max_width - 3 {
        offset = n - (max_width - 3);
    }
    let abbr = "...";
    if offset <= 4 {
        let t: String = chars[..(max_width - 3) as usize].iter().collect();
        return t + abbr;
    }
    if max_width < 7 {
        return s.to_string();
    }
    if offset + max_width - 3 < n {
        let inner = abbreviate(
            &chars[offset as usize..].iter().collect::<String>(),
            0,
            max_width - 3,
        );
        return format!("{abbr}{inner}");
    }
    let t: String = chars[(n - (max_width - 3)) as usize..].iter().collect();
    format!("{abbr}{t}")
}

pub(crate) fn register(m: &mut FuncMap) {
    let st = Ty::String;
    let int = Ty::Int;
    let any = Ty::Any;
    m.add("hello", Sig::fixed(&[]), |_, _| Ok(Value::str("Hello!")));
    m.add("abbrev", Sig::fixed(&[int, st]), |_, a| {
        let w = i(&a[0]);
        Ok(Value::str(if w < 4 {
            s(&a[1]).to_string()
        } else {
            abbreviate(s(&a[1]), 0, w)
        }))
    });
    m.add("abbrevboth", Sig::fixed(&[int, int, st]), |_, a| {
        let (l, r) = (i(&a[0]), i(&a[1]));
        Ok(Value::str(if r < 4 || (l > 0 && r < 7) {
            s(&a[2]).to_string()
        } else {
            abbreviate(s(&a[2]), l, r)
        }))
    });
    m.add("trunc", Sig::fixed(&[int, st]), |_, a| {
        let c = i(&a[0]);
        let t = s(&a[1]);
        let n = t.len() as i64;
        let b = t.as_bytes();
        let r = if c < 0 && n + c > 0 {
            String::from_utf8_lossy(&b[(n + c) as usize..]).into_owned()
        } else if c >= 0 && n > c {
            String::from_utf8_lossy(&b[..c as usize]).into_owned()
        } else {
            t.to_string()
        };
        Ok(Value::str(r))
    });
    m.add("trim", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(s(&a[0]).trim()))
    });
    m.add("upper", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(s(&a[0]).to_uppercase()))
    });
    m.add("lower", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(s(&a[0]).to_lowercase()))
    });
    m.add("title", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(title(s(&a[0]))))
    });
    m.add("untitle", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(untitle(s(&a[0]))))
    });
    m.add("substr", Sig::fixed(&[int, int, st]), |_, a| {
        let (start, end, t) = (i(&a[0]), i(&a[1]), s(&a[2]));
        let b = t.as_bytes();
        let n = b.len() as i64;
        let r: &[u8] = if start < 0 {
            if end < 0 || end > n {
                b
            } else {
                &b[..end as usize]
            }
        } else if end < 0 || end > n {
            if start > n {
                return err(format!(
                    "runtime error: slice bounds out of range [{start}:{n}]"
                ));
            }
            &b[start as usize..]
        } else {
            if start > end {
                return err(format!(
                    "runtime error: slice bounds out of range [{start}:{end}]"
                ));
            }
            &b[start as usize..end as usize]
        };
        Ok(Value::str(String::from_utf8_lossy(r)))
    });
    m.add("repeat", Sig::fixed(&[int, st]), |_, a| {
        let n = i(&a[0]);
        if n < 0 {
            return err("strings: negative Repeat count");
        }
        let t = s(&a[1]);
        CallCtx::reserve((n as u64).saturating_mul(t.len() as u64))?;
        Ok(Value::str(t.repeat(n as usize)))
    });
    m.add("trimall", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::str(trim_set(s(&a[1]), s(&a[0]))))
    });
    m.add("trimAll", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::str(trim_set(s(&a[1]), s(&a[0]))))
    });
    m.add("trimSuffix", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::str(
            s(&a[1]).strip_suffix(s(&a[0])).unwrap_or(s(&a[1])),
        ))
    });
    m.add("trimPrefix", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::str(
            s(&a[1]).strip_prefix(s(&a[0])).unwrap_or(s(&a[1])),
        ))
    });
    m.add("nospace", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(
            s(&a[0])
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>(),
        ))
    });
    m.add("initials", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(initials(s(&a[0]))))
    });
    m.add("swapcase", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(swapcase(s(&a[0]))))
    });
    m.add("shuffle", Sig::fixed(&[st]), |cx, a| {
        let mut cs: Vec<char> = s(&a[0]).chars().collect();
        for k in (1..cs.len()).rev() {
            let j = cx.context().rand_below(k as u64 + 1) as usize;
            cs.swap(k, j);
        }
        Ok(Value::str(cs.into_iter().collect::<String>()))
    });
    m.add("snakecase", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(super::xstrings::to_lower_case(s(&a[0]), '_')))
    });
    m.add("kebabcase", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(super::xstrings::to_lower_case(s(&a[0]), '-')))
    });
    m.add("camelcase", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(super::xstrings::to_camel_case(s(&a[0]))))
    });
    m.add("wrap", Sig::fixed(&[int, st]), |_, a| {
        wrap_budget(s(&a[1]), i(&a[0]), "")?;
        Ok(Value::str(wrap_custom(s(&a[1]), i(&a[0]), "", false)))
    });
    m.add("wrapWith", Sig::fixed(&[int, st, st]), |_, a| {
        wrap_budget(s(&a[2]), i(&a[0]), s(&a[1]))?;
        Ok(Value::str(wrap_custom(s(&a[2]), i(&a[0]), s(&a[1]), true)))
    });
    m.add("contains", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::Bool(s(&a[1]).contains(s(&a[0]))))
    });
    m.add("hasPrefix", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::Bool(s(&a[1]).starts_with(s(&a[0]))))
    });
    m.add("hasSuffix", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::Bool(s(&a[1]).ends_with(s(&a[0]))))
    });
    m.add("quote", Sig::variadic(&[], any), |_, a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| gofmt::quote_go(&strval(v)))
            .collect();
        Ok(Value::str(parts.join(" ")))
    });
    m.add("squote", Sig::variadic(&[], any), |_, a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", strval(v)))
            .collect();
        Ok(Value::str(parts.join(" ")))
    });
    m.add("cat", Sig::variadic(&[], any), |_, a| {
        let parts: Vec<Value> = a.into_iter().filter(|v| !v.is_nil()).collect();
        let f = "%v ".repeat(parts.len());
        Ok(Value::str(gofmt::sprintf(f.trim(), &parts)))
    });
    m.add("indent", Sig::fixed(&[int, st]), |_, a| {
        let t = s(&a[1]);
        let pad = padding(i(&a[0]), t)?;
        Ok(Value::str(format!(
            "{pad}{}",
            t.replace('\n', &format!("\n{pad}"))
        )))
    });
    m.add("nindent", Sig::fixed(&[int, st]), |_, a| {
        let t = s(&a[1]);
        let pad = padding(i(&a[0]), t)?;
        Ok(Value::str(format!(
            "\n{pad}{}",
            t.replace('\n', &format!("\n{pad}"))
        )))
    });
    m.add("replace", Sig::fixed(&[st, st, st]), |_, a| {
        let (old, new, src) = (s(&a[0]), s(&a[1]), s(&a[2]));
        if old.is_empty() {
            let slots = src.chars().count() as u64 + 1;
            CallCtx::reserve((new.len() as u64).saturating_mul(slots) + src.len() as u64)?;
            let mut out = String::from(new);
            for c in src.chars() {
                out.push(c);
                out.push_str(new);
            }
            return Ok(Value::str(out));
        }
        if new.len() > old.len() {
            let hits = src.matches(old).count() as u64;
            let growth = (new.len() - old.len()) as u64;
            CallCtx::reserve(hits.saturating_mul(growth) + src.len() as u64)?;
        }
        Ok(Value::str(src.replace(old, new)))
    });
    m.add("plural", Sig::fixed(&[st, st, int]), |_, a| {
        Ok(if i(&a[2]) == 1 {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    m.add("toString", Sig::fixed(&[any]), |_, a| {
        Ok(Value::str(strval(&a[0])))
    });
    m.add("split", Sig::fixed(&[st, st]), |_, a| {
        let parts: Vec<&str> = go_split(s(&a[1]), s(&a[0]), -1);
        Ok(index_map(parts))
    });
    m.add("splitn", Sig::fixed(&[st, int, st]), |_, a| {
        let parts: Vec<&str> = go_split(s(&a[2]), s(&a[0]), i(&a[1]));
        Ok(index_map(parts))
    });
    m.add("splitList", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::string_list(go_split(s(&a[1]), s(&a[0]), -1)))
    });
    m.add("toStrings", Sig::fixed(&[any]), |_, a| {
        Ok(Value::string_list(strslice(&a[0])))
    });
    m.add("join", Sig::fixed(&[st, any]), |_, a| {
        let parts = strslice(&a[1]);
        let sep = s(&a[0]);
        let text: u64 = parts.iter().map(|p| p.len() as u64).sum();
        let seps = (sep.len() as u64).saturating_mul(parts.len().saturating_sub(1) as u64);
        CallCtx::reserve(text.saturating_add(seps))?;
        Ok(Value::str(parts.join(sep)))
    });
    m.add("sortAlpha", Sig::fixed(&[any]), |_, a| {
        let mut v = match &a[0] {
            Value::List(_) => strslice(&a[0]),
            Value::Object(o) if o.items().is_some() => strslice(&a[0]),
            other => vec![strval(other)],
        };
        v.sort();
        Ok(Value::string_list(v))
    });
    for (name, set) in [
        (
            "randAlphaNum",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        ),
        (
            "randAlpha",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        ),
        ("randNumeric", "0123456789"),
        ("randAscii", ""),
    ] {
        m.add(name, Sig::fixed(&[int]), move |cx, a| {
            let n = i(&a[0]);
            if n < 0 {
                return err(format!(
                    "Requested random string length {n} is less than 0."
                ));
            }
            CallCtx::reserve(n as u64)?;
            let chars: Vec<char> = if set.is_empty() {
                (32u8..127).map(char::from).collect()
            } else {
                set.chars().collect()
            };
            let out: String = (0..n)
                .map(|_| chars[cx.context().rand_below(chars.len() as u64) as usize])
                .collect();
            Ok(Value::str(out))
        });
    }
}

/// The padding `indent`/`nindent` put before each line of `text`, once the memory budget has
/// room for the result (Go would try to allocate whatever width it is given).
fn padding(width: i64, text: &str) -> Result<String, super::FuncError> {
    let width = width.max(0) as u64;
    let lines = text.matches('\n').count() as u64 + 1;
    CallCtx::reserve(
        width
            .saturating_mul(lines)
            .saturating_add(text.len() as u64 + 1),
    )?;
    Ok(" ".repeat(width as usize))
}

/// Checks that what `wrap`/`wrapWith` may produce fits the memory budget: at most one line
/// break per `width` characters (at least one per character), and reading the text costs work
/// in proportion to its length times the window it scans.
fn wrap_budget(text: &str, width: i64, newline: &str) -> Result<(), super::FuncError> {
    let n = text.len() as u64;
    let breaks = n / width.max(1) as u64 + 1;
    let newline = newline.len().max(1) as u64;
    CallCtx::reserve(n.saturating_add(breaks.saturating_mul(newline)))?;
    CallCtx::work(n.saturating_mul(breaks.min(n)) >> 12)
}

fn trim_set(s: &str, cutset: &str) -> String {
    s.trim_matches(|c| cutset.contains(c)).to_string()
}

/// Go's `strings.SplitN` (n < 0: all).
pub(crate) fn go_split<'a>(s: &'a str, sep: &str, n: i64) -> Vec<&'a str> {
    if n == 0 {
        return vec![];
    }
    if sep.is_empty() {
        let mut v: Vec<&str> = Vec::new();
        let mut idx: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
        idx.push(s.len());
        for w in idx.windows(2) {
            if n > 0 && v.len() as i64 == n - 1 {
                v.push(&s[w[0]..]);
                return v;
            }
            v.push(&s[w[0]..w[1]]);
        }
        return v;
    }
    if n < 0 {
        return s.split(sep).collect();
    }
    s.splitn(n as usize, sep).collect()
}

fn index_map(parts: Vec<&str>) -> Value {
    let mut m = Map::from_btree(
        parts
            .iter()
            .enumerate()
            .map(|(k, p)| (format!("_{k}"), Value::str(p)))
            .collect(),
    );
    m.string_values = true;
    Value::Map(m)
}

#[allow(dead_code)]
fn empty_string_list() -> Value {
    Value::List(List::typed(vec![], ElemType::String))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        use crate::funcs::xstrings::{to_camel_case, to_lower_case};
        assert_eq!(to_lower_case("FirstName", '_'), "first_name");
        assert_eq!(to_lower_case("HTTPServer", '-'), "http-server");
        assert_eq!(title("hello world-foo"), "Hello World-Foo");
        assert_eq!(to_camel_case("http_server"), "HttpServer");
    }

    #[test]
    fn wraps() {
        assert_eq!(
            wrap_custom("hello world foo", 5, "", false),
            "hello\nworld\nfoo"
        );
    }
}
