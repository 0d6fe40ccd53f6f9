//! Helm's own template functions (pkg/engine/funcs.go and engine.go of Helm 3.17).

use super::{FuncError, FuncMap, Sig, Ty, err, s};
use crate::exec::{CallCtx, TextError};
use crate::gofmt;
use crate::value::{Map, Value};

/// Helm's recursion bound for `include` of one name.
const RECURSION_MAX: usize = 1000;

/// Reads YAML text within what is left of the memory budget. Running out is the execution's
/// limit, not a parse error the template could look at in `.Error`.
fn parse_yaml(text: &str) -> Result<Result<Value, String>, FuncError> {
    let limits = yaml11::Limits {
        // The values read, then their conversion: about twice what the reader counts.
        max_value_bytes: usize::try_from(crate::budget::remaining() / 2).unwrap_or(usize::MAX),
        ..yaml11::Limits::default()
    };
    match yaml11::parse_value(text, &limits) {
        Ok(v) => Ok(Ok(Value::from_yaml(&v))),
        Err(yaml11::Error::TooManyBytes { .. }) => Err(FuncError::new(
            crate::budget::trip(crate::Limit::MemoryBytes(crate::budget::max_bytes())).to_string(),
        )),
        Err(e) => Ok(Err(format!("error converting YAML to JSON: {e}"))),
    }
}

/// Reads JSON text once the memory budget has room for what it can become: a value per two
/// bytes of input at most, in serde's model and then in ours.
fn parse_json(text: &str) -> Result<Result<serde_json::Value, serde_json::Error>, FuncError> {
    const BYTES_PER_INPUT_BYTE: u64 = 32;
    CallCtx::reserve((text.len() as u64).saturating_mul(BYTES_PER_INPUT_BYTE))?;
    Ok(serde_json::from_str::<serde_json::Value>(text))
}

pub(crate) fn register(m: &mut FuncMap) {
    let any = Ty::Any;
    let st = Ty::String;
    m.add("toYaml", Sig::fixed(&[any]), |_, a| {
        Ok(Value::str(crate::to_yaml(&a[0])))
    });
    m.add("mustToYaml", Sig::fixed(&[any]), |_, a| {
        Ok(Value::str(crate::to_yaml(&a[0])))
    });
    m.add("toYamlPretty", Sig::fixed(&[any]), |_, a| {
        Ok(Value::str(
            crate::yaml::to_yaml_pretty(&a[0]).trim_end_matches('\n'),
        ))
    });
    m.add("fromYaml", Sig::fixed(&[st]), |_, a| {
        Ok(match parse_yaml(s(&a[0]))? {
            Ok(Value::Map(mm)) => Value::Map(mm),
            Ok(Value::Nil) => Value::Map(Map::new()),
            Ok(other) => Value::map([(
                "Error",
                Value::str(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                )),
            )]),
            Err(e) => Value::map([("Error", Value::str(e))]),
        })
    });
    m.add("fromYamlArray", Sig::fixed(&[st]), |_, a| {
        Ok(match parse_yaml(s(&a[0]))? {
            Ok(Value::List(l)) => Value::List(l),
            Ok(Value::Nil) => Value::list(vec![]),
            Ok(other) => Value::list(vec![Value::str(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
            Err(e) => Value::list(vec![Value::str(e)]),
        })
    });
    m.add("fromJson", Sig::fixed(&[st]), |_, a| {
        Ok(match parse_json(s(&a[0]))? {
            Ok(serde_json::Value::Object(o)) => Value::from_json(&serde_json::Value::Object(o)),
            Ok(serde_json::Value::Null) => Value::Map(Map::new()),
            Ok(other) => Value::map([(
                "Error",
                Value::str(format!(
                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&Value::from_json(&other))
                )),
            )]),
            Err(e) => Value::map([(
                "Error",
                Value::str(super::encoding::json_error(&e, s(&a[0]))),
            )]),
        })
    });
    m.add("fromJsonArray", Sig::fixed(&[st]), |_, a| {
        Ok(match parse_json(s(&a[0]))? {
            Ok(serde_json::Value::Array(v)) => Value::from_json(&serde_json::Value::Array(v)),
            Ok(serde_json::Value::Null) => Value::list(vec![]),
            Ok(other) => Value::list(vec![Value::str(format!(
                "json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&Value::from_json(&other))
            ))]),
            Err(e) => Value::list(vec![Value::str(super::encoding::json_error(&e, s(&a[0])))]),
        })
    });
    m.add("toToml", Sig::fixed(&[any]), |_, a| {
        Ok(Value::str(to_toml(&a[0])))
    });
    m.add("fromToml", Sig::fixed(&[st]), |_, _| {
        Ok(Value::map([(
            "Error",
            Value::str("fromToml is not supported by the native renderer"),
        )]))
    });
    m.add("include", Sig::fixed(&[st, any]), |cx, a| {
        let name = s(&a[0]).to_string();
        {
            let counts = cx.context().include_counts();
            let n = counts.entry(name.clone()).or_insert(0);
            if *n > RECURSION_MAX {
                return err(format!("rendering template has a nested reference name: {name}: unable to execute template"));
            }
            *n += 1;
        }
        let r = cx.execute_template(&name, &a[1]);
        if let Some(n) = cx.context().include_counts().get_mut(&name) {
            *n = n.saturating_sub(1);
        }
        r.map(Value::str)
    });
    m.add("tpl", Sig::fixed(&[st, any]), |cx, a| {
        let text = s(&a[0]);
        match cx.execute_text(text, &a[1]) {
            Ok(out) => Ok(Value::str(out.replace("<no value>", ""))),
            Err(TextError::Parse(e)) => err(format!(
                "cannot parse template {}: {e}",
                gofmt::quote_go(text)
            )),
            Err(TextError::Exec(e)) => err(format!(
                "error during tpl function execution for {}: {e}",
                gofmt::quote_go(text)
            )),
        }
    });
    m.add("required", Sig::fixed(&[st, any]), |_, a| {
        let missing = match &a[1] {
            Value::Invalid | Value::Nil => true,
            Value::String(v) => v.is_empty(),
            _ => false,
        };
        if missing {
            return err(format!("HELM_ERR_START{}HELM_ERR_END", s(&a[0])));
        }
        Ok(a[1].clone())
    });
    m.add("fail", Sig::fixed(&[st]), |_, a| {
        err(format!("HELM_ERR_START{}HELM_ERR_END", s(&a[0])))
    });
    m.add("lookup", Sig::fixed(&[st, st, st, st]), |_, _| {
        Ok(Value::Map(Map::new()))
    });
    m.add("getHostByName", Sig::fixed(&[st]), |_, _| {
        Ok(Value::str(""))
    });
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Float(_) | Value::Int(_) | Value::Int64(_) => "number",
        Value::Bool(_) => "bool",
        Value::List(_) => "array",
        Value::Map(_) => "object",
        _ => "null",
    }
}

/// BurntSushi/toml's encoder, for the common shapes (tables of scalars, arrays, sub-tables).
fn to_toml(v: &Value) -> String {
    fn key(k: &str) -> String {
        if !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            k.to_string()
        } else {
            gofmt::quote_go(k)
        }
    }
    fn scalar(v: &Value) -> Option<String> {
        // Lists nest (and may hold themselves through `set`); the budget ends the walk.
        if !crate::budget::visit(0) {
            return None;
        }
        Some(match v {
            Value::Bool(b) => b.to_string(),
            Value::Int(i) | Value::Int64(i) => i.to_string(),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    format!("{f:.1}")
                } else {
                    gofmt::format_float(*f, 'g', -1)
                }
            }
            Value::String(s) => gofmt::quote_go(s),
            Value::List(l) => {
                let parts: Option<Vec<String>> = l.items().iter().map(scalar).collect();
                format!("[{}]", parts?.join(", "))
            }
            _ => return None,
        })
    }
    fn table(out: &mut String, m: &Map, path: &str, indent: usize) {
        // A map may hold itself (`set $m "a" $m`): Go's encoder would recurse until the stack
        // runs out; here the depth and the budget end it.
        if indent > crate::value::MAX_VALUE_DEPTH || !crate::budget::visit(out.len() + path.len()) {
            return;
        }
        let entries = m.entries();
        let pad = "  ".repeat(indent);
        for (k, v) in &entries {
            if let Some(s) = scalar(v) {
                out.push_str(&format!("{pad}{} = {s}\n", key(k)));
            }
        }
        for (k, v) in &entries {
            if let Value::Map(sub) = v {
                let p = if path.is_empty() {
                    key(k)
                } else {
                    format!("{path}.{}", key(k))
                };
                out.push_str(&format!("\n{pad}[{p}]\n"));
                table(out, sub, &p, indent + 1);
            }
        }
    }
    let mut out = String::new();
    if let Value::Map(m) = v {
        table(&mut out, m, "", 0);
    }
    out
}
