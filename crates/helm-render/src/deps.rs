//! Dependencies as Helm processes them (`pkg/chartutil/dependencies.go`): aliases, `condition`
//! and `tags`, removal of disabled subcharts, and `import-values`.

use text_template::{Map, Value};

use crate::chart::Chart;
use crate::semver::is_compatible_range;
use crate::values::{coalesce_tables, coalesce_values, path_value, table_at};

/// `action.CheckDependencies`: every declared dependency must be present in `charts/`.
pub(crate) fn check_dependencies(c: &Chart) -> Result<(), String> {
    let missing: Vec<&str> = c
        .metadata
        .dependencies
        .iter()
        .filter(|r| !c.dependencies.iter().any(|d| d.name() == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "found in Chart.yaml, but missing in charts/ directory: {}",
            missing.join(", ")
        ))
    }
}

/// `chartutil.ProcessDependenciesWithMerge`.
pub(crate) fn process_dependencies(c: &mut Chart, user: &Value) -> Result<(), String> {
    process_enabled(c, user, "")?;
    process_import_values(c)
}

fn process_enabled(c: &mut Chart, v: &Value, path: &str) -> Result<(), String> {
    if !c.metadata.dependencies_declared {
        return Ok(());
    }
    let existing = std::mem::take(&mut c.dependencies);
    let mut chart_deps: Vec<Chart> = existing
        .iter()
        .filter(|e| {
            !c.metadata
                .dependencies
                .iter()
                .any(|r| e.name() == r.name && is_compatible_range(&r.version, &e.metadata.version))
        })
        .cloned()
        .collect();
    for req in &mut c.metadata.dependencies {
        if let Some(found) = existing.iter().find(|e| {
            e.name() == req.name && is_compatible_range(&req.version, &e.metadata.version)
        }) {
            let mut copy = found.clone();
            if !req.alias.is_empty() {
                copy.metadata.name = req.alias.clone();
            }
            chart_deps.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    c.dependencies = chart_deps;
    for r in &mut c.metadata.dependencies {
        r.enabled = true;
    }
    let cvals = coalesce_values(c, v, false)?;
    process_tags(c, &cvals);
    process_conditions(c, &cvals, path);
    let removed: Vec<String> = c
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    c.dependencies
        .retain(|d| !removed.iter().any(|n| n == d.name()));
    let cvals = Value::Map(cvals);
    for t in &mut c.dependencies {
        let sub = format!("{path}{}.", t.name());
        process_enabled(t, &cvals, &sub)?;
    }
    c.metadata
        .dependencies
        .retain(|r| !removed.contains(&r.name));
    c.metadata.dependencies_declared = !c.metadata.dependencies.is_empty();
    Ok(())
}

fn process_tags(c: &mut Chart, cvals: &Map) {
    let Some(vt) = table_at(cvals, "tags") else {
        return;
    };
    for r in &mut c.metadata.dependencies {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            if let Some(Value::Bool(b)) = vt.get(k) {
                if b {
                    has_true = true;
                } else {
                    has_false = true;
                }
            }
        }
        r.enabled = has_true || !has_false;
    }
}

fn process_conditions(c: &mut Chart, cvals: &Map, path: &str) {
    for r in &mut c.metadata.dependencies {
        for cond in r.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            if let Ok(Value::Bool(b)) = path_value(cvals, &format!("{path}{cond}")) {
                r.enabled = b;
                break;
            }
        }
    }
}

fn path_to_map(path: &str, data: Map) -> Map {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for p in path.split('.').rev() {
        cur = Map::from_btree([(p.to_string(), Value::Map(cur))].into_iter().collect());
    }
    cur
}

fn process_import_values(c: &mut Chart) -> Result<(), String> {
    for d in &mut c.dependencies {
        process_import_values(d)?;
    }
    if !c.metadata.dependencies_declared {
        return Ok(());
    }
    let cvals = coalesce_values(c, &Value::Nil, true)?;
    let b = Map::new();
    for r in &mut c.metadata.dependencies {
        let mut out = Vec::new();
        for riv in &r.import_values {
            match riv {
                Value::Map(iv) => {
                    let s = |k: &str| match iv.get(k) {
                        Some(Value::String(s)) => s.to_string(),
                        _ => String::new(),
                    };
                    let (child, parent) = (s("child"), s("parent"));
                    out.push(Value::map([
                        ("child", Value::str(&child)),
                        ("parent", Value::str(&parent)),
                    ]));
                    let Some(vv) = table_at(&cvals, &format!("{}.{child}", r.name)) else {
                        continue;
                    };
                    coalesce_tables(&b, &path_to_map(&parent, vv), "", true);
                }
                Value::String(iv) => {
                    let child = format!("exports.{iv}");
                    out.push(Value::map([
                        ("child", Value::str(&child)),
                        ("parent", Value::str(".")),
                    ]));
                    let Some(vm) = table_at(&cvals, &format!("{}.{child}", r.name)) else {
                        continue;
                    };
                    coalesce_tables(&b, &vm, "", true);
                }
                _ => {}
            }
        }
        r.import_values = out;
    }
    // Helm deep-copies before merging what was imported (the imports share maps with
    // `cvals`). With nothing imported the copy would be all there is, and nothing else holds
    // `cvals`; every later reader deep-copies `c.values` itself.
    let cvals = if b.is_empty() {
        cvals
    } else {
        let cvals = crate::values::copy_map(&Value::Map(cvals));
        coalesce_tables(&cvals, &b, "", true);
        cvals
    };
    c.values = Value::Map(cvals);
    Ok(())
}
