//! Sprig's regular expression functions (RE2 semantics via the `regex` crate).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::{FuncError, FuncMap, Sig, Ty, err, i, s};
use crate::value::Value;

/// Compiled patterns kept across calls: charts call the same few patterns from helpers that
/// are included many times, and compiling (Unicode classes above all) costs far more than
/// matching. Bounded: cleared when full.
/// Shared (not cloned: a cloned `Regex` starts a new matching-cache pool).
fn compile(re: &str) -> Result<Arc<regex::Regex>, FuncError> {
    const MAX_CACHED: usize = 256;
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(re) {
        return Ok(r.clone());
    }
    let r = Arc::new(compile_uncached(re)?);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= MAX_CACHED {
        map.clear();
    }
    map.insert(re.to_owned(), r.clone());
    Ok(r)
}

fn compile_uncached(re: &str) -> Result<regex::Regex, FuncError> {
    regex::Regex::new(re)
        .or_else(|e| regex::Regex::new(&go_class_dashes(re)).map_err(|_| e))
        .or_else(|e| {
            err(format!(
                "error parsing regexp: {}",
                e.to_string().lines().last().unwrap_or("")
            ))
        })
}

/// RE2 (Perl flags) reads a `-` right after a class escape inside `[...]` (`[\w-.]`) as a
/// literal; the `regex` crate refuses it, so escape such dashes.
fn go_class_dashes(re: &str) -> String {
    let c: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len() + 4);
    let mut in_class = false;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\\' && i + 1 < c.len() {
            out.push(ch);
            out.push(c[i + 1]);
            let class_escape = "wWdDsS".contains(c[i + 1]);
            i += 2;
            if in_class && class_escape && c.get(i) == Some(&'-') && c.get(i + 1) != Some(&']') {
                out.push_str("\\-");
                i += 1;
            }
            continue;
        }
        if ch == '[' && !in_class {
            in_class = true;
            out.push(ch);
            i += 1;
            if c.get(i) == Some(&'^') {
                out.push('^');
                i += 1;
            }
            if c.get(i) == Some(&']') {
                out.push(']');
                i += 1;
            }
            continue;
        }
        if ch == ']' && in_class {
            in_class = false;
        }
        out.push(ch);
        i += 1;
    }
    out
}

fn both(m: &mut FuncMap, name: &str, sig: Sig, f: fn(&[Value]) -> super::FuncResult) {
    m.add(name, sig.clone(), move |_, a| f(&a));
    let must = format!("must{}{}", name[..1].to_uppercase(), &name[1..]);
    m.add(&must, sig, move |_, a| f(&a));
}

fn limit(n: i64) -> usize {
    if n < 0 { usize::MAX } else { n as usize }
}

pub(crate) fn register(m: &mut FuncMap) {
    let st = Ty::String;
    m.add("regexMatch", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::Bool(
            compile(s(&a[0]))
                .map(|r| r.is_match(s(&a[1])))
                .unwrap_or(false),
        ))
    });
    m.add("mustRegexMatch", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::Bool(compile(s(&a[0]))?.is_match(s(&a[1]))))
    });
    both(m, "regexFindAll", Sig::fixed(&[st, st, Ty::Int]), |a| {
        let re = compile(s(&a[0]))?;
        Ok(Value::string_list(
            re.find_iter(s(&a[1]))
                .take(limit(i(&a[2])))
                .map(|x| x.as_str()),
        ))
    });
    both(m, "regexFind", Sig::fixed(&[st, st]), |a| {
        Ok(Value::str(
            compile(s(&a[0]))?
                .find(s(&a[1]))
                .map(|x| x.as_str())
                .unwrap_or(""),
        ))
    });
    both(m, "regexReplaceAll", Sig::fixed(&[st, st, st]), |a| {
        Ok(Value::str(replace_all(
            &*compile(s(&a[0]))?,
            s(&a[1]),
            s(&a[2]),
            true,
        )?))
    });
    both(
        m,
        "regexReplaceAllLiteral",
        Sig::fixed(&[st, st, st]),
        |a| {
            Ok(Value::str(replace_all(
                &*compile(s(&a[0]))?,
                s(&a[1]),
                s(&a[2]),
                false,
            )?))
        },
    );
    both(m, "regexSplit", Sig::fixed(&[st, st, Ty::Int]), |a| {
        let re = compile(s(&a[0]))?;
        let n = i(&a[2]);
        if n == 0 {
            return Ok(Value::string_list(Vec::<String>::new()));
        }
        Ok(Value::string_list(go_split(&re, s(&a[1]), n)))
    });
    m.add("regexQuoteMeta", Sig::fixed(&[st]), |_, a| {
        let mut out = String::new();
        for c in s(&a[0]).chars() {
            if "\\.+*?()|[]{}^$".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        Ok(Value::str(out))
    });
}

/// `Regex::replace_all` (expanding `$name` in `rep` when `expand`), within the memory budget:
/// every match can add the whole replacement, and `$0$0…` doubles what each match adds, so
/// the result is checked as it grows rather than estimated.
fn replace_all(
    re: &regex::Regex,
    text: &str,
    rep: &str,
    expand: bool,
) -> Result<String, FuncError> {
    let mut out = String::new();
    let mut last = 0;
    // Each `$` of the replacement adds at most a group of the match, no longer than the match.
    let refs = if expand { rep.matches('$').count() } else { 0 };
    let mut next = |start: usize, end: usize, out: &mut String| {
        let most = out.len() + (start - last) + rep.len() + refs.saturating_mul(end - start);
        crate::exec::CallCtx::reserve(most as u64)?;
        // Expanding costs a step per reference: a million matches of a thousand `$0` each
        // reach the step limit and the deadline, not only the budget.
        crate::budget::work(refs as u64 + 1).map_err(|l| FuncError::new(l.to_string()))?;
        out.push_str(&text[last..start]);
        last = end;
        Ok::<_, FuncError>(())
    };
    if expand {
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get(0) else { continue };
            next(m.start(), m.end(), &mut out)?;
            caps.expand(rep, &mut out);
        }
    } else {
        for m in re.find_iter(text) {
            next(m.start(), m.end(), &mut out)?;
            out.push_str(rep);
        }
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// Go's `Regexp.FindAllStringIndex`: an empty match right after the previous match is skipped.
fn go_find_all(re: &regex::Regex, text: &str, n: i64) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut prev_end: Option<usize> = None;
    for m in re.find_iter(text) {
        if n >= 0 && out.len() as i64 >= n {
            break;
        }
        if m.start() == m.end() && prev_end == Some(m.start()) {
            continue;
        }
        out.push((m.start(), m.end()));
        prev_end = Some(m.end());
    }
    out
}

/// Go's `Regexp.Split`.
fn go_split<'a>(re: &regex::Regex, text: &'a str, n: i64) -> Vec<&'a str> {
    if !re.as_str().is_empty() && text.is_empty() {
        return vec![""];
    }
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for (s, e) in go_find_all(re, text, n) {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        end = s;
        if e != 0 {
            parts.push(&text[beg..end]);
        }
        beg = e;
    }
    if end != text.len() {
        parts.push(&text[beg..]);
    }
    parts
}

#[cfg(test)]
mod dash_tests {
    #[test]
    fn go_accepts_dash_after_class_escape() {
        let re = super::compile(r"^[\w-\.]+$").unwrap();
        assert!(re.is_match("my-master.1"));
        assert!(!re.is_match("a b"));
    }
}
