//! A Helm-like top-level context (`.Values`, `.Release`, `.Chart`, `.Capabilities`, ...).

use text_template::helm_objects::{Capabilities, Files};
use text_template::{ExecContext, TemplateSet, Value};

/// Values parsed the way Helm parses values.yaml.
pub fn values_from_yaml(text: &str) -> Value {
    match yaml11::parse_value(text, &yaml11::Limits::default()) {
        Ok(yaml11::Value::Null) => Value::map(Vec::<(String, Value)>::new()),
        Ok(v) => Value::from_yaml(&v),
        Err(e) => panic!("values do not parse: {e}"),
    }
}

/// The data Helm hands a template of chart `x` at `template` (e.g. `x/templates/out.yaml`).
pub fn top(values: Value, chart: &str, template: &str) -> Value {
    let chart_meta = Value::map([
        ("Name", Value::from(chart)),
        ("Version", Value::from("0.1.0")),
        ("AppVersion", Value::from("1.2.3")),
        ("APIVersion", Value::from("v2")),
        ("IsRoot", Value::Bool(true)),
        ("Type", Value::from("")),
    ]);
    Value::map([
        ("Values", values),
        (
            "Release",
            Value::map([
                ("Name", Value::from("release")),
                ("Namespace", Value::from("default")),
                ("IsInstall", Value::Bool(true)),
                ("IsUpgrade", Value::Bool(false)),
                ("Revision", Value::Int(1)),
                ("Service", Value::from("Helm")),
            ]),
        ),
        ("Chart", chart_meta),
        ("Capabilities", Value::object(Capabilities::default())),
        ("Files", Value::object(Files::default())),
        (
            "Template",
            Value::map([
                ("Name", Value::from(template)),
                ("BasePath", Value::from(format!("{chart}/templates"))),
            ]),
        ),
    ])
}

/// Helm's `cleanupParseError`: `parse error at (LOCATION): LAST MESSAGE PART`.
pub fn cleanup_parse_error(err: &str) -> String {
    let tokens: Vec<&str> = err.split(": ").collect();
    if tokens.len() == 1 {
        return err.to_string();
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

/// Renders `text` as Helm would in the conformance chart (as `x/templates/_case.tpl`, included
/// from `x/templates/out.yaml`); returns the case output or Helm's error message.
pub fn render_case(text: &str, values: &str) -> Result<String, String> {
    let mut set = TemplateSet::helm();
    if let Err(e) = set.parse("x/templates/_case.tpl", text) {
        return Err(cleanup_parse_error(&e.to_string()));
    }
    set.parse(
        "x/templates/out.yaml",
        r#"out: {{ include "x/templates/_case.tpl" . | toJson }}"#,
    )
    .map_err(|e| e.to_string())?;
    let data = top(
        values_from_yaml(&format!("{values}\n")),
        "x",
        "x/templates/out.yaml",
    );
    let mut ctx = ExecContext::new(42);
    match set.execute("x/templates/out.yaml", &data, &mut ctx) {
        Ok(_) => {
            let data = top(
                values_from_yaml(&format!("{values}\n")),
                "x",
                "x/templates/out.yaml",
            );
            let mut ctx = ExecContext::new(42);
            set.execute("x/templates/_case.tpl", &data, &mut ctx)
                .map_err(|e| e.to_string())
        }
        Err(e) => {
            let msg = e.to_string();
            // Helm reports required/fail messages as "execution error at (LOCATION): MESSAGE".
            let tokens: Vec<&str> = msg.splitn(3, ": ").collect();
            if tokens.len() == 3
                && let (Some(a), Some(b)) = (
                    tokens[2].find("HELM_ERR_START"),
                    tokens[2].find("HELM_ERR_END"),
                )
                && a < b
            {
                return Err(format!(
                    "execution error at ({}): {}",
                    tokens[1],
                    &tokens[2][a + "HELM_ERR_START".len()..b]
                ));
            }
            Err(msg)
        }
    }
}
