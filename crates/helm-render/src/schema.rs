//! `values.schema.json` validation with gojsonschema's messages (the keywords real charts use:
//! `type`, `required`, `properties`, `additionalProperties`, `patternProperties`, `items`,
//! `enum`, `const`, `minimum`/`maximum` (and exclusive), `minLength`/`maxLength`, `pattern`,
//! `minItems`/`maxItems`, `multipleOf`, `allOf`/`anyOf`/`oneOf`/`not`, local `$ref`).

use serde_json::Value as J;

/// Validates `values` (already converted to JSON) against `schema`; returns gojsonschema's
/// error lines (`- field: description\n` each) or an error text when the schema is unusable.
pub(crate) fn validate(schema: &[u8], values: &J) -> Result<(), String> {
    let root: J = serde_json::from_slice(schema).map_err(|e| e.to_string())?;
    let mut errs = Vec::new();
    let v = Validator { root: &root };
    v.check(&root, values, "(root)", &mut errs, 0);
    if errs.is_empty() {
        return Ok(());
    }
    let mut out = String::new();
    for (ctx, msg) in errs {
        let field = ctx.strip_prefix("(root).").unwrap_or(&ctx);
        out.push_str(&format!("- {field}: {msg}\n"));
    }
    Err(out)
}

struct Validator<'a> {
    root: &'a J,
}

fn type_name(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                "integer"
            } else {
                "number"
            }
        }
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

fn num_text(v: &J) -> String {
    match v.as_f64() {
        Some(f) => text_template::format_float(f, 'g', -1),
        None => v.to_string(),
    }
}

impl Validator<'_> {
    fn resolve<'b>(&'b self, r: &str) -> Option<&'b J> {
        let p = r.strip_prefix('#')?;
        if p.is_empty() {
            return Some(self.root);
        }
        self.root.pointer(p)
    }

    fn valid(&self, s: &J, v: &J, depth: usize) -> bool {
        let mut e = Vec::new();
        self.check(s, v, "(root)", &mut e, depth);
        e.is_empty()
    }

    fn check(&self, s: &J, v: &J, ctx: &str, errs: &mut Vec<(String, String)>, depth: usize) {
        if depth > 64 {
            return;
        }
        let s = match s {
            J::Bool(true) => return,
            J::Bool(false) => {
                errs.push((ctx.into(), "False always fails validation".into()));
                return;
            }
            J::Object(o) => o,
            _ => return,
        };
        if let Some(J::String(r)) = s.get("$ref") {
            if let Some(t) = self.resolve(r) {
                self.check(t, v, ctx, errs, depth + 1);
            }
            return;
        }
        let types: Vec<&str> = match s.get("type") {
            Some(J::String(t)) => vec![t.as_str()],
            Some(J::Array(a)) => a.iter().filter_map(J::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() {
            let given = type_name(v);
            let ok = types.contains(&given) || (given == "integer" && types.contains(&"number"));
            if !ok {
                let expected = if types.len() > 1 {
                    format!("[{}]", types.join(","))
                } else {
                    types[0].to_string()
                };
                errs.push((
                    ctx.into(),
                    format!("Invalid type. Expected: {expected}, given: {given}"),
                ));
                return;
            }
        }
        // validateSchema: combinators.
        if let Some(J::Array(any)) = s.get("anyOf")
            && !any.iter().any(|x| self.valid(x, v, depth + 1))
        {
            errs.push((
                ctx.into(),
                "Must validate at least one schema (anyOf)".into(),
            ));
        }
        if let Some(J::Array(one)) = s.get("oneOf")
            && one.iter().filter(|x| self.valid(x, v, depth + 1)).count() != 1
        {
            errs.push((
                ctx.into(),
                "Must validate one and only one schema (oneOf)".into(),
            ));
        }
        if let Some(J::Array(all)) = s.get("allOf") {
            let mut sub = Vec::new();
            for x in all {
                self.check(x, v, ctx, &mut sub, depth + 1);
            }
            if !sub.is_empty() {
                errs.extend(sub);
                errs.push((ctx.into(), "Must validate all the schemas (allOf)".into()));
            }
        }
        if let Some(n) = s.get("not")
            && self.valid(n, v, depth + 1)
        {
            errs.push((ctx.into(), "Must not validate the schema (not)".into()));
        }
        if let Some(i) = s.get("if") {
            let branch = if self.valid(i, v, depth + 1) {
                s.get("then")
            } else {
                s.get("else")
            };
            if let Some(b) = branch {
                self.check(b, v, ctx, errs, depth + 1);
            }
        }
        match v {
            J::Number(_) => {
                let f = v.as_f64().unwrap_or(0.0);
                if let Some(m) = s.get("multipleOf").and_then(J::as_f64)
                    && m != 0.0
                    && (f / m).fract() != 0.0
                {
                    errs.push((
                        ctx.into(),
                        format!("Must be a multiple of {}", num_text(&s["multipleOf"])),
                    ));
                }
                let excl_min = s.get("exclusiveMinimum");
                if let Some(min) = s.get("minimum").and_then(J::as_f64) {
                    if excl_min == Some(&J::Bool(true)) {
                        if f <= min {
                            errs.push((
                                ctx.into(),
                                format!("Must be greater than {}", num_text(&s["minimum"])),
                            ));
                        }
                    } else if f < min {
                        errs.push((
                            ctx.into(),
                            format!(
                                "Must be greater than or equal to {}",
                                num_text(&s["minimum"])
                            ),
                        ));
                    }
                }
                if let Some(J::Number(m)) = excl_min
                    && f <= m.as_f64().unwrap_or(0.0)
                {
                    errs.push((
                        ctx.into(),
                        format!("Must be greater than {}", num_text(&s["exclusiveMinimum"])),
                    ));
                }
                let excl_max = s.get("exclusiveMaximum");
                if let Some(max) = s.get("maximum").and_then(J::as_f64) {
                    if excl_max == Some(&J::Bool(true)) {
                        if f >= max {
                            errs.push((
                                ctx.into(),
                                format!("Must be less than {}", num_text(&s["maximum"])),
                            ));
                        }
                    } else if f > max {
                        errs.push((
                            ctx.into(),
                            format!("Must be less than or equal to {}", num_text(&s["maximum"])),
                        ));
                    }
                }
                if let Some(J::Number(m)) = excl_max
                    && f >= m.as_f64().unwrap_or(0.0)
                {
                    errs.push((
                        ctx.into(),
                        format!("Must be less than {}", num_text(&s["exclusiveMaximum"])),
                    ));
                }
            }
            J::String(st) => {
                let n = st.chars().count() as u64;
                if let Some(min) = s.get("minLength").and_then(J::as_u64)
                    && n < min
                {
                    errs.push((
                        ctx.into(),
                        format!("String length must be greater than or equal to {min}"),
                    ));
                }
                if let Some(max) = s.get("maxLength").and_then(J::as_u64)
                    && n > max
                {
                    errs.push((
                        ctx.into(),
                        format!("String length must be less than or equal to {max}"),
                    ));
                }
                if let Some(J::String(p)) = s.get("pattern")
                    && let Ok(re) = regex::Regex::new(p)
                    && !re.is_match(st)
                {
                    errs.push((ctx.into(), format!("Does not match pattern '{p}'")));
                }
            }
            J::Array(items) => {
                if let Some(min) = s.get("minItems").and_then(J::as_u64)
                    && (items.len() as u64) < min
                {
                    errs.push((ctx.into(), format!("Array must have at least {min} items")));
                }
                if let Some(max) = s.get("maxItems").and_then(J::as_u64)
                    && (items.len() as u64) > max
                {
                    errs.push((ctx.into(), format!("Array must have at most {max} items")));
                }
                match s.get("items") {
                    Some(J::Array(tuple)) => {
                        for (i, (x, it)) in tuple.iter().zip(items).enumerate() {
                            self.check(x, it, &format!("{ctx}.{i}"), errs, depth + 1);
                        }
                    }
                    Some(sch) => {
                        for (i, it) in items.iter().enumerate() {
                            self.check(sch, it, &format!("{ctx}.{i}"), errs, depth + 1);
                        }
                    }
                    None => {}
                }
            }
            J::Object(o) => {
                if let Some(J::Array(req)) = s.get("required") {
                    for r in req.iter().filter_map(J::as_str) {
                        if !o.contains_key(r) {
                            errs.push((ctx.into(), format!("{r} is required")));
                        }
                    }
                }
                let props = s.get("properties").and_then(J::as_object);
                let pprops = s.get("patternProperties").and_then(J::as_object);
                for (k, val) in o {
                    let found = props.is_some_and(|p| p.contains_key(k));
                    let mut pp_match = false;
                    if let Some(pp) = pprops {
                        for (pat, sch) in pp {
                            if regex::Regex::new(pat).is_ok_and(|re| re.is_match(k)) {
                                pp_match = true;
                                self.check(sch, val, &format!("{ctx}.{k}"), errs, depth + 1);
                            }
                        }
                    }
                    if !found && !pp_match {
                        match s.get("additionalProperties") {
                            Some(J::Bool(false)) => errs.push((
                                ctx.into(),
                                format!("Additional property {k} is not allowed"),
                            )),
                            Some(sch @ J::Object(_)) => {
                                self.check(sch, val, &format!("{ctx}.{k}"), errs, depth + 1)
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(J::Array(en)) = s.get("enum")
            && !en.iter().any(|e| json_eq(e, v))
        {
            let allowed: Vec<String> = en.iter().map(|e| e.to_string()).collect();
            errs.push((
                ctx.into(),
                format!(
                    "{} must be one of the following: {}",
                    ctx.strip_prefix("(root).").unwrap_or(ctx),
                    allowed.join(", ")
                ),
            ));
        }
        if let Some(c) = s.get("const")
            && !json_eq(c, v)
        {
            errs.push((
                ctx.into(),
                format!(
                    "{} does not match: {c}",
                    ctx.strip_prefix("(root).").unwrap_or(ctx)
                ),
            ));
        }
        if let (J::Object(o), Some(J::Object(props))) = (v, s.get("properties")) {
            for (k, sch) in props {
                if let Some(val) = o.get(k) {
                    self.check(sch, val, &format!("{ctx}.{k}"), errs, depth + 1);
                }
            }
        }
    }
}

fn json_eq(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let schema = br#"{"type":"object","required":["image"],"additionalProperties":false,
            "properties":{"replicas":{"type":"integer","minimum":1},"image":{"type":"string"},
            "mode":{"enum":["a","b"]}}}"#;
        let v: J = serde_json::from_str(r#"{"replicas":"x","mode":"c","extra":1}"#).unwrap();
        let e = validate(schema, &v).unwrap_err();
        assert!(e.contains("- (root): image is required\n"), "{e}");
        assert!(
            e.contains("- (root): Additional property extra is not allowed\n"),
            "{e}"
        );
        assert!(
            e.contains("- replicas: Invalid type. Expected: integer, given: string\n"),
            "{e}"
        );
        assert!(
            e.contains(r#"- mode: mode must be one of the following: "a", "b""#),
            "{e}"
        );
        let ok: J = serde_json::from_str(r#"{"replicas":2,"image":"x"}"#).unwrap();
        assert!(validate(schema, &ok).is_ok());
    }
}
