//! Values as Helm builds them (`pkg/chartutil/coalesce.go`, `values.go`, and the `-f` merge of
//! `pkg/cli/values`): Go map semantics over [`text_template::Value`] maps, which are shared by
//! reference exactly like Go maps.

use text_template::{Map, Value};

use crate::chart::Chart;

/// The map inside, if `v` is a `map[string]interface{}`.
#[cfg(test)]
pub(crate) fn table(v: &Value) -> Option<&Map> {
    match v {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

/// A deep copy of a map value (`copystructure.Copy`); nil or non-maps give an empty map.
pub(crate) fn copy_map(v: &Value) -> Map {
    match v.deep_copy() {
        Value::Map(m) => m,
        _ => Map::new(),
    }
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

/// `chartutil.CoalesceValues` (merge = false) and `MergeValues` (merge = true).
pub(crate) fn coalesce_values(chart: &Chart, vals: &Value, merge: bool) -> Result<Map, String> {
    let dest = copy_map(vals);
    coalesce(chart, &dest, "", merge)?;
    Ok(dest)
}

fn coalesce(chart: &Chart, dest: &Map, prefix: &str, merge: bool) -> Result<(), String> {
    coalesce_chart_values(chart, dest, prefix, merge);
    coalesce_deps(chart, dest, prefix, merge)
}

fn coalesce_deps(chart: &Chart, dest: &Map, prefix: &str, merge: bool) -> Result<(), String> {
    for sub in &chart.dependencies {
        let name = sub.name();
        let dv = match dest.get(name) {
            None => {
                let m = Map::new();
                dest.insert(name, Value::Map(m.clone()));
                m
            }
            Some(Value::Map(m)) => m,
            Some(other) => {
                return Err(format!(
                    "type mismatch on {name}: %!t({}={})",
                    other.type_name(),
                    text_template::sprint_value(&other)
                ));
            }
        };
        let sub_prefix = concat_prefix(prefix, chart.name());
        coalesce_globals(&dv, dest, &sub_prefix);
        coalesce(sub, &dv, &sub_prefix, merge)?;
    }
    Ok(())
}

fn coalesce_globals(dest: &Map, src: &Map, prefix: &str) {
    let dg = match dest.get("global") {
        None => Map::new(),
        Some(Value::Map(m)) => m,
        Some(_) => return,
    };
    let sg = match src.get("global") {
        None => Map::new(),
        Some(Value::Map(m)) => m,
        Some(_) => return,
    };
    if dg.ptr_eq(&sg) {
        dest.insert("global", Value::Map(dg));
        return;
    }
    for (key, val) in sg.entries() {
        if let Value::Map(vm) = &val {
            // copyMap: a shallow copy, so nested tables stay shared as in Go.
            let vv = Map::from_btree(vm.read().clone());
            match dg.get(&key) {
                None => dg.insert(key, Value::Map(vv)),
                Some(Value::Map(destv)) => {
                    coalesce_tables(&vv, &destv, &concat_prefix(prefix, &key), true);
                    dg.insert(key, Value::Map(vv));
                }
                Some(_) => {}
            }
        } else if matches!(dg.get(&key), Some(Value::Map(_))) {
            // "key is table. Skipping"
        } else {
            dg.insert(key, val);
        }
    }
    dest.insert("global", Value::Map(dg));
}

fn coalesce_chart_values(chart: &Chart, v: &Map, prefix: &str, merge: bool) {
    let sub_prefix = concat_prefix(prefix, chart.name());
    let vc = copy_map(&chart.values);
    for (key, val) in vc.entries() {
        match v.get(&key) {
            Some(value) => {
                if value.is_nil_value() && !merge {
                    v.write().remove(&key);
                } else if let Value::Map(dest) = &value
                    && let Value::Map(src) = &val
                {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(dest, src, &concat_prefix(&sub_prefix, &key), merge);
                }
            }
            None => v.insert(key, val),
        }
    }
}

/// `coalesceTablesFullKey`: fills `dst` from `src` (dst wins); with `merge` false a nil in
/// `dst` deletes the key.
pub(crate) fn coalesce_tables(dst: &Map, src: &Map, prefix: &str, merge: bool) {
    if dst.ptr_eq(src) {
        return;
    }
    for (key, val) in src.entries() {
        let full = concat_prefix(prefix, &key);
        match dst.get(&key) {
            Some(dv) if !merge && dv.is_nil_value() => {
                dst.write().remove(&key);
            }
            None => dst.insert(key, val),
            Some(dv) => {
                if let (Value::Map(s), Value::Map(d)) = (&val, &dv) {
                    coalesce_tables(d, s, &full, merge);
                }
            }
        }
    }
}

/// `Values.Table`: the map at a dotted path.
pub(crate) fn table_at(v: &Map, path: &str) -> Option<Map> {
    let mut cur = v.clone();
    for part in path.split('.') {
        match cur.get(part) {
            Some(Value::Map(m)) => cur = m,
            _ => return None,
        }
    }
    Some(cur)
}

/// `Values.PathValue`: `Ok(value)` for a non-table leaf, `Err(())` for ErrNoValue.
pub(crate) fn path_value(v: &Map, path: &str) -> Result<Value, ()> {
    if path.is_empty() {
        return Err(());
    }
    let parts: Vec<&str> = path.split('.').collect();
    let (key, head) = parts.split_last().ok_or(())?;
    let t = if head.is_empty() {
        v.clone()
    } else {
        table_at(v, &head.join(".")).ok_or(())?
    };
    match t.get(key) {
        Some(Value::Map(_)) | None => Err(()),
        Some(x) => Ok(x),
    }
}

/// `pkg/cli/values` `mergeMaps`: later files win, maps merge recursively (new maps are made).
pub(crate) fn merge_maps(a: &Map, b: &Map) -> Map {
    let out = Map::from_btree(a.read().clone());
    for (k, v) in b.entries() {
        if let Value::Map(vm) = &v
            && let Some(Value::Map(bv)) = out.get(&k)
        {
            out.insert(k, Value::Map(merge_maps(&bv, vm)));
            continue;
        }
        out.insert(k, v);
    }
    out
}

trait NilExt {
    fn is_nil_value(&self) -> bool;
}

impl NilExt for Value {
    fn is_nil_value(&self) -> bool {
        matches!(self, Value::Nil | Value::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        Value::from_yaml(&yaml11::parse_value(s, &yaml11::Limits::default()).unwrap())
    }

    #[test]
    fn coalesce_tables_dst_wins_and_nil_deletes() {
        let dst = table(&y("a: 1\nb: null\nc: {x: 1}\n")).unwrap().clone();
        let src = table(&y("a: 2\nb: 3\nc: {x: 2, z: 3}\nd: 4\n"))
            .unwrap()
            .clone();
        coalesce_tables(&dst, &src, "", false);
        assert_eq!(
            text_template::to_json(&Value::Map(dst)),
            r#"{"a":1,"c":{"x":1,"z":3},"d":4}"#
        );
    }

    #[test]
    fn path_values() {
        let m = table(&y("a: {b: {c: true}}\nx: 1\n")).unwrap().clone();
        assert!(matches!(path_value(&m, "a.b.c"), Ok(Value::Bool(true))));
        assert!(path_value(&m, "a.b").is_err());
        assert!(path_value(&m, "x").is_ok());
        assert!(path_value(&m, "nope.c").is_err());
    }
}
