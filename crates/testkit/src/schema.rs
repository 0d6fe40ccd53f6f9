//! A small JSON Schema (draft-07 subset) validator for the request-body schemas in
//! `tests/data/github/rest/schemas`: `type`, `required`, `properties`, `additionalProperties`,
//! `enum`, `const`, `minLength`/`maxLength` (in characters), `minItems`/`maxItems`, `items`,
//! `minimum`/`maximum`, `anyOf`, `oneOf`, `allOf`. Annotations (`format`, `default`,
//! `example(s)`, `title`, `description`) are ignored, as draft-07 allows.

use serde_json::Value;

/// Validates `instance` against `schema`; each error names the JSON pointer it concerns.
pub fn validate(schema: &Value, instance: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, instance, "", &mut errors);
    errors
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => true,
    }
}

fn check(schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            errors.push(format!("{at}: not allowed"));
        }
        return;
    };
    let here = if at.is_empty() { "/" } else { at };
    if let Some(ty) = s.get("type") {
        let ok = match ty {
            Value::String(t) => type_matches(t, v),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| type_matches(t, v)),
            _ => true,
        };
        if !ok {
            errors.push(format!("{here}: expected type {ty}, got {v}"));
            return;
        }
    }
    if let Some(Value::Array(allowed)) = s.get("enum")
        && !allowed.contains(v)
    {
        errors.push(format!(
            "{here}: {v} is not one of {}",
            Value::Array(allowed.clone())
        ));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        errors.push(format!("{here}: expected {c}"));
    }
    if let Value::String(text) = v {
        let n = text.chars().count() as u64;
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
            && n > max
        {
            errors.push(format!("{here}: length {n} exceeds maxLength {max}"));
        }
        if let Some(min) = s.get("minLength").and_then(Value::as_u64)
            && n < min
        {
            errors.push(format!("{here}: length {n} below minLength {min}"));
        }
    }
    if let Some(x) = v.as_f64() {
        if let Some(max) = s.get("maximum").and_then(Value::as_f64)
            && x > max
        {
            errors.push(format!("{here}: {x} exceeds maximum {max}"));
        }
        if let Some(min) = s.get("minimum").and_then(Value::as_f64)
            && x < min
        {
            errors.push(format!("{here}: {x} below minimum {min}"));
        }
    }
    if let Value::Array(items) = v {
        let n = items.len() as u64;
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
            && n > max
        {
            errors.push(format!("{here}: {n} items exceed maxItems {max}"));
        }
        if let Some(min) = s.get("minItems").and_then(Value::as_u64)
            && n < min
        {
            errors.push(format!("{here}: {n} items below minItems {min}"));
        }
        if let Some(item_schema) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(item_schema, item, &format!("{at}/{i}"), errors);
            }
        }
    }
    if let Value::Object(map) = v {
        if let Some(Value::Array(required)) = s.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    errors.push(format!("{here}: missing required property {name:?}"));
                }
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (key, value) in map {
            let child = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
            match props.and_then(|p| p.get(key)) {
                Some(prop_schema) => check(prop_schema, value, &child, errors),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{here}: unexpected property {key:?}"))
                    }
                    Some(extra @ Value::Object(_)) => check(extra, value, &child, errors),
                    _ => {}
                },
            }
        }
    }
    if let Some(Value::Array(all)) = s.get("allOf") {
        for sub in all {
            check(sub, v, at, errors);
        }
    }
    if let Some(Value::Array(any)) = s.get("anyOf")
        && !any.iter().any(|sub| validate_at(sub, v, at).is_empty())
    {
        errors.push(format!("{here}: matches none of anyOf"));
    }
    if let Some(Value::Array(one)) = s.get("oneOf") {
        let n = one
            .iter()
            .filter(|sub| validate_at(sub, v, at).is_empty())
            .count();
        if n != 1 {
            errors.push(format!("{here}: matches {n} of oneOf, expected exactly 1"));
        }
    }
}

fn validate_at(schema: &Value, v: &Value, at: &str) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, v, at, &mut errors);
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn core_keywords() {
        let schema = json!({
            "type": "object",
            "required": ["state"],
            "properties": {
                "state": {"type": "string", "enum": ["a", "b"]},
                "d": {"type": ["string", "null"], "maxLength": 3},
                "n": {"type": "integer"},
                "list": {"type": "array", "maxItems": 2, "items": {"type": "object", "required": ["x"]}}
            },
            "additionalProperties": false
        });
        assert!(validate(&schema, &json!({"state": "a", "d": null, "n": 3})).is_empty());
        assert!(validate(&schema, &json!({"state": "a", "d": "ééé"})).is_empty());
        let errs = validate(
            &schema,
            &json!({"state": "c", "d": "long", "n": 1.5, "list": [{}, {"x": 1}, {"x": 2}], "zz": 1}),
        );
        assert_eq!(errs.len(), 6, "{errs:#?}");
        assert!(
            validate(&schema, &json!({}))
                .iter()
                .any(|e| e.contains("state"))
        );
    }

    #[test]
    fn any_of_and_one_of() {
        let schema = json!({"anyOf": [
            {"properties": {"status": {"enum": ["completed"]}}, "required": ["conclusion"]},
            {"properties": {"status": {"enum": ["queued", "in_progress"]}}}
        ]});
        assert!(validate(&schema, &json!({"status": "completed", "conclusion": "x"})).is_empty());
        assert!(validate(&schema, &json!({"status": "in_progress"})).is_empty());
        assert!(!validate(&schema, &json!({"status": "completed"})).is_empty());
        let one = json!({"oneOf": [{"type": "string"}, {"maxLength": 2}]});
        assert!(validate(&one, &json!("abc")).is_empty());
        assert!(!validate(&one, &json!("ab")).is_empty());
    }
}
