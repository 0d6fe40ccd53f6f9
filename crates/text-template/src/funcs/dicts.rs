//! Sprig's dictionary functions.

use super::conv::empty;
use super::strings::strval;
use super::{FuncMap, Sig, Ty, s};
use crate::budget::MAP_ENTRY_BYTES;
use crate::exec::CallCtx;
use crate::value::{MAX_VALUE_DEPTH, Map, Value};

/// mergo's `Merge` (and `WithOverride`) over maps (dario.cat/mergo v1.0.1, as Sprig v3.3.0
/// uses it): nested maps merge; other values fill in only where the destination is missing or
/// empty, unless `overwrite`; a nil source value is skipped unless `overwrite`. A source map
/// that lands in the destination is the source map itself, not a copy: Go stores the
/// reference, so the nulls inside it stay and later `set`s through either reach both.
pub(crate) fn merge_into(dst: &Map, src: &Map, overwrite: bool, depth: usize) {
    if depth > MAX_VALUE_DEPTH || dst.ptr_eq(src) {
        return;
    }
    for (k, sv) in src.entries() {
        if !crate::budget::visit(0) {
            return;
        }
        if sv.is_nil() {
            if overwrite {
                dst.insert(k, Value::Nil);
            }
            continue;
        }
        let dv = dst.get(&k);
        if let (Value::Map(sm), Some(Value::Map(dm))) = (&sv, &dv) {
            merge_into(dm, sm, overwrite, depth + 1);
            // mergo replaces a destination map only when it is still empty after the merge.
            if !dm.is_empty() {
                continue;
            }
        }
        let dst_set = dv.as_ref().is_some_and(|d| !empty(d));
        if overwrite || !dst_set {
            if dv.is_none() && crate::budget::charge(MAP_ENTRY_BYTES + k.len() as u64).is_err() {
                return;
            }
            dst.insert(k, sv);
        }
    }
}

pub(crate) fn register(m: &mut FuncMap) {
    let any = Ty::Any;
    let map = Ty::Map;
    let st = Ty::String;
    m.add("dict", Sig::variadic(&[], any), |_, a| {
        let d = Map::new();
        let mut it = a.chunks(2);
        for pair in &mut it {
            let k = strval(&pair[0]);
            let v = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
            d.insert(k, v);
        }
        Ok(Value::Map(d))
    });
    m.add("get", Sig::fixed(&[map, st]), |_, a| {
        Ok(match &a[0] {
            Value::Map(d) => d.get(s(&a[1])).unwrap_or_else(|| Value::str("")),
            _ => Value::str(""),
        })
    });
    m.add("set", Sig::fixed(&[map, st, any]), |_, a| {
        let d = match &a[0] {
            Value::Map(d) => d.clone(),
            _ => return super::err("assignment to entry in nil map"),
        };
        // A map grows in place: `set` in a loop adds an entry per call.
        if d.get(s(&a[1])).is_none() {
            CallCtx::charge(MAP_ENTRY_BYTES + s(&a[1]).len() as u64)?;
        }
        d.insert(s(&a[1]), a[2].clone());
        Ok(Value::Map(d))
    });
    m.add("unset", Sig::fixed(&[map, st]), |_, a| {
        if let Value::Map(d) = &a[0] {
            d.write().remove(s(&a[1]));
        }
        Ok(a[0].clone())
    });
    m.add("hasKey", Sig::fixed(&[map, st]), |_, a| {
        Ok(Value::Bool(
            matches!(&a[0], Value::Map(d) if d.get(s(&a[1])).is_some()),
        ))
    });
    m.add("pluck", Sig::variadic(&[st], map), |_, a| {
        let k = s(&a[0]).to_string();
        Ok(Value::list(
            a[1..]
                .iter()
                .filter_map(|d| {
                    if let Value::Map(d) = d {
                        d.get(&k)
                    } else {
                        None
                    }
                })
                .collect(),
        ))
    });
    m.add("keys", Sig::variadic(&[], map), |_, a| {
        let mut ks = Vec::new();
        for d in &a {
            if let Value::Map(d) = d {
                ks.extend(d.read().keys().cloned());
            }
        }
        Ok(Value::string_list(ks))
    });
    m.add("values", Sig::fixed(&[map]), |_, a| {
        Ok(Value::list(match &a[0] {
            Value::Map(d) => d.read().values().cloned().collect(),
            _ => vec![],
        }))
    });
    m.add("pick", Sig::variadic(&[map], st), |_, a| {
        let out = Map::new();
        if let Value::Map(d) = &a[0] {
            for k in &a[1..] {
                if let Some(v) = d.get(s(k)) {
                    out.insert(s(k), v);
                }
            }
        }
        Ok(Value::Map(out))
    });
    m.add("omit", Sig::variadic(&[map], st), |_, a| {
        let out = Map::new();
        if let Value::Map(d) = &a[0] {
            for (k, v) in d.entries() {
                if !a[1..].iter().any(|x| s(x) == k) {
                    out.insert(k, v);
                }
            }
        }
        Ok(Value::Map(out))
    });
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        m.add(name, Sig::variadic(&[map], map), move |_, a| {
            let dst = match &a[0] {
                Value::Map(d) => d.clone(),
                _ => Map::new(),
            };
            for src in &a[1..] {
                if let Value::Map(sm) = src {
                    merge_into(&dst, sm, overwrite, 0);
                }
            }
            Ok(Value::Map(dst))
        });
    }
    m.add("deepCopy", Sig::fixed(&[any]), |_, a| Ok(a[0].deep_copy()));
    m.add("mustDeepCopy", Sig::fixed(&[any]), |_, a| {
        if a[0].is_nil() {
            return super::err("copy: Must not be nil");
        }
        Ok(a[0].deep_copy())
    });
}
