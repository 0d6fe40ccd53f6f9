//! Sprig's list functions.

use super::conv::{deep_equal, empty};
use super::{FuncError, FuncMap, FuncResult, Sig, Ty, err, i};
use crate::value::{List, Value};

fn items(v: &Value, what: &str) -> Result<Option<List>, FuncError> {
    match v {
        Value::List(l) => Ok(Some(l.clone())),
        Value::Object(o) if o.items().is_some() => Ok(Some(List::typed(
            o.items().unwrap_or_default(),
            crate::value::ElemType::String,
        ))),
        Value::Invalid | Value::Nil => Ok(None),
        other => err(format!("Cannot {what} on type {}", other.type_name())),
    }
}

const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

fn need(v: &Value, what: &str) -> Result<List, FuncError> {
    match items(v, what)? {
        Some(l) => Ok(l),
        None => err(NIL_DEREF),
    }
}

fn list(v: Vec<Value>) -> Value {
    Value::list(v)
}

/// Registers `name` and `mustName` with the same body (Sprig's non-must variants panic with
/// the same error, which Go reports identically).
fn both(m: &mut FuncMap, name: &str, sig: Sig, f: fn(&[Value]) -> FuncResult) {
    m.add(name, sig.clone(), move |_, a| f(&a));
    let must = format!("must{}{}", name[..1].to_uppercase(), &name[1..]);
    m.add(&must, sig, move |_, a| f(&a));
}

pub(crate) fn register(m: &mut FuncMap) {
    let any = Ty::Any;
    m.add("list", Sig::variadic(&[], any), |_, a| Ok(list(a)));
    m.add("tuple", Sig::variadic(&[], any), |_, a| Ok(list(a)));
    for name in ["push", "append"] {
        both(m, name, Sig::fixed(&[any, any]), |a| {
            let l = need(&a[0], "push")?;
            let mut v = l.to_vec();
            v.push(a[1].clone());
            Ok(list(v))
        });
    }
    both(m, "prepend", Sig::fixed(&[any, any]), |a| {
        let l = need(&a[0], "prepend")?;
        let mut v = vec![a[1].clone()];
        v.extend(l.to_vec());
        Ok(list(v))
    });
    both(m, "first", Sig::fixed(&[any]), |a| {
        match items(&a[0], "find first")? {
            None => err(NIL_DEREF),
            Some(l) => Ok(l.items().first().cloned().unwrap_or(Value::Nil)),
        }
    });
    both(m, "last", Sig::fixed(&[any]), |a| {
        match items(&a[0], "find last")? {
            None => err(NIL_DEREF),
            Some(l) => Ok(l.items().last().cloned().unwrap_or(Value::Nil)),
        }
    });
    both(m, "rest", Sig::fixed(&[any]), |a| {
        match items(&a[0], "find rest")? {
            None => err(NIL_DEREF),
            Some(l) if l.is_empty() => Ok(Value::Nil),
            Some(l) => Ok(list(l.items()[1..].to_vec())),
        }
    });
    both(m, "initial", Sig::fixed(&[any]), |a| {
        match items(&a[0], "find initial")? {
            None => err(NIL_DEREF),
            Some(l) if l.is_empty() => Ok(Value::Nil),
            Some(l) => Ok(list(l.items()[..l.len() - 1].to_vec())),
        }
    });
    both(m, "reverse", Sig::fixed(&[any]), |a| {
        let l = need(&a[0], "find reverse")?;
        let mut v = l.to_vec();
        v.reverse();
        Ok(list(v))
    });
    both(m, "uniq", Sig::fixed(&[any]), |a| {
        let l = need(&a[0], "find uniq")?;
        let mut v: Vec<Value> = Vec::new();
        for x in l.items() {
            // Quadratic: once the steps are spent, stop (the executor reports the limit).
            if crate::budget::exceeded().is_some() {
                break;
            }
            if !v.iter().any(|y| deep_equal(x, y)) {
                v.push(x.clone());
            }
        }
        Ok(list(v))
    });
    both(m, "without", Sig::variadic(&[any], any), |a| {
        let l = need(&a[0], "find without")?;
        Ok(list(
            l.items()
                .iter()
                .take_while(|_| crate::budget::exceeded().is_none())
                .filter(|x| !a[1..].iter().any(|y| deep_equal(x, y)))
                .cloned()
                .collect(),
        ))
    });
    both(m, "has", Sig::fixed(&[any, any]), |a| {
        match items(&a[1], "find has")? {
            None => Ok(Value::Bool(false)),
            Some(l) => Ok(Value::Bool(l.items().iter().any(|x| deep_equal(x, &a[0])))),
        }
    });
    both(m, "compact", Sig::fixed(&[any]), |a| {
        let l = need(&a[0], "compact")?;
        Ok(list(
            l.items().iter().filter(|x| !empty(x)).cloned().collect(),
        ))
    });
    both(m, "slice", Sig::variadic(&[any], any), |a| {
        let l = match &a[0] {
            Value::List(l) => l.clone(),
            Value::Object(o) if o.items().is_some() => need(&a[0], "slice")?,
            Value::Invalid | Value::Nil => return err(NIL_DEREF),
            other => {
                return err(format!(
                    "list should be type of slice or array but {}",
                    other.kind_name()
                ));
            }
        };
        let n = l.len();
        if n == 0 {
            return Ok(Value::Nil);
        }
        let lo = a.get(1).map(super::conv::to_int64).unwrap_or(0);
        let hi = a.get(2).map(super::conv::to_int64).unwrap_or(n as i64);
        if lo < 0 || hi < lo || hi as usize > n {
            return err("reflect.Value.Slice: slice index out of bounds");
        }
        Ok(list(l.items()[lo as usize..hi as usize].to_vec()))
    });
    m.add("concat", Sig::variadic(&[], any), |_, a| {
        let mut v = Vec::new();
        for x in &a {
            match items(x, "concat")? {
                Some(l) => v.extend(l.to_vec()),
                None => return err("Cannot concat type <nil> as list"),
            }
        }
        Ok(list(v))
    });
    both(m, "chunk", Sig::fixed(&[Ty::Int, any]), |a| {
        let size = i(&a[0]);
        let l = need(&a[1], "chunk")?;
        if size <= 0 {
            return err("runtime error: integer divide by zero");
        }
        Ok(list(
            l.items()
                .chunks(size as usize)
                .map(|c| list(c.to_vec()))
                .collect(),
        ))
    });
    m.add("dig", Sig::variadic(&[], any), |_, a| {
        if a.len() < 3 {
            return err("dig needs at least three arguments");
        }
        let dict = match &a[a.len() - 1] {
            Value::Map(mm) => mm.clone(),
            other => {
                return err(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    other.type_name()
                ));
            }
        };
        let default = a[a.len() - 2].clone();
        let mut keys = Vec::new();
        for k in &a[..a.len() - 2] {
            match k {
                Value::String(s) => keys.push(s.to_string()),
                other => {
                    return err(format!(
                        "interface conversion: interface {{}} is {}, not string",
                        other.type_name()
                    ));
                }
            }
        }
        let mut cur = dict;
        for (n, k) in keys.iter().enumerate() {
            match cur.get(k) {
                None => return Ok(default),
                Some(v) if n + 1 == keys.len() => return Ok(v),
                Some(Value::Map(next)) => cur = next,
                Some(other) => {
                    return err(format!(
                        "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                        other.type_name()
                    ));
                }
            }
        }
        Ok(default)
    });
}
