//! YAML as Helm reads it through sigs.k8s.io/yaml: YAML 1.1 → JSON → Go values, with the
//! error texts Helm prints.

use text_template::{Map, Value};

/// What a scalar is being decoded into (sigs.k8s.io/yaml stringifies scalars for string targets).
#[derive(Clone, Copy)]
pub(crate) enum Target {
    String,
}

/// Why [`parse_within`] failed.
pub(crate) enum ReadError {
    /// Helm's error text for bad YAML.
    Yaml(String),
    /// The render's memory budget ran out (aliases expanded past it).
    Limit(crate::error::LoadError),
}

/// Parses one YAML document (empty → null) with Helm's error prefix, within what is left of
/// the render's memory budget, charging what it built.
pub(crate) fn parse_within(
    data: &[u8],
    budget: &mut crate::budget::Budget,
    file: &str,
) -> Result<yaml11::Value, ReadError> {
    // Valid UTF-8 is checked far faster than it is converted lossily (values files are large).
    let text = match std::str::from_utf8(data) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(data),
    };
    match yaml11::parse_value(&text, &budget.yaml_limits()) {
        Ok(v) => {
            // The document, then the values converted from it.
            let bytes = crate::budget::yaml_bytes(&v).saturating_mul(2);
            budget.charge(bytes, file).map_err(ReadError::Limit)?;
            Ok(v)
        }
        Err(yaml11::Error::TooManyBytes { .. }) => Err(ReadError::Limit(budget.exceeded(file))),
        Err(e) => Err(ReadError::Yaml(yaml_error(&e))),
    }
}

/// `error converting YAML to JSON: yaml: line N: message`.
pub(crate) fn yaml_error(e: &yaml11::Error) -> String {
    match e {
        yaml11::Error::Syntax { line, message, .. } => {
            format!("error converting YAML to JSON: yaml: line {line}: {message}")
        }
        other => format!("error converting YAML to JSON: yaml: {other}"),
    }
}

/// The JSON kind Go's decoder names in type errors.
pub(crate) fn json_kind(v: &yaml11::Value) -> &'static str {
    match v {
        yaml11::Value::Null => "null",
        yaml11::Value::Bool(_) => "bool",
        yaml11::Value::Number(_) => "number",
        yaml11::Value::String(_) => "string",
        yaml11::Value::Sequence(_) => "array",
        yaml11::Value::Mapping(_) => "object",
    }
}

/// A scalar decoded into a Go string field: numbers and booleans become their text (floats
/// with `strconv.FormatFloat(f, 'g', -1, 32)`), null leaves the zero value.
pub(crate) fn target_string(v: &yaml11::Value, _t: Target) -> Option<String> {
    Some(match v {
        yaml11::Value::Null => String::new(),
        yaml11::Value::Bool(b) => b.to_string(),
        yaml11::Value::Number(yaml11::Number::Int(i)) => i.to_string(),
        yaml11::Value::Number(yaml11::Number::Float(f)) => format_float32(*f),
        yaml11::Value::String(s) => s.clone(),
        _ => return None,
    })
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`.
pub(crate) fn format_float32(f: f64) -> String {
    let x = f as f32;
    if !x.is_finite() {
        return text_template::format_float(f64::from(x), 'g', -1);
    }
    // The shortest decimal that round-trips as f32, re-read as f64, prints with the same digits.
    let short: f64 = format!("{x:e}").parse().unwrap_or(f64::from(x));
    text_template::format_float(short, 'g', -1)
}

/// A values document as `map[string]interface{}` (null → empty map).
pub(crate) fn to_values_map(v: &yaml11::Value) -> Result<Value, String> {
    match v {
        yaml11::Value::Null => Ok(Value::Map(Map::new())),
        yaml11::Value::Mapping(_) => Ok(Value::from_yaml(v)),
        other => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float32_text() {
        assert_eq!(format_float32(1.0), "1");
        assert_eq!(format_float32(1.10), "1.1");
        assert_eq!(format_float32(0.1), "0.1");
        assert_eq!(format_float32(1e7), "1e+07");
        assert_eq!(format_float32(123456.0), "123456");
    }
}
