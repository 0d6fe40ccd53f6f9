//! `values.schema.json` validation with gojsonschema's messages (the keywords real charts use:
//! `type`, `required`, `properties`, `additionalProperties`, `patternProperties`, `items`,
//! `enum`, `const`, `minimum`/`maximum` (and exclusive), `minLength`/`maxLength`, `pattern`,
//! `minItems`/`maxItems`, `multipleOf`, `allOf`/`anyOf`/`oneOf`/`not`, local `$ref`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use serde_json::Value as J;

/// Most evaluations of a (sub)schema against a value, over one render's schemas, counting the
/// errors they report: `allOf` of four `{"$ref": "#"}` would otherwise be 4^32 evaluations.
/// The largest corpus schemas take a few thousand.
pub const MAX_SCHEMA_EVALUATIONS: u64 = 1_000_000;

/// What bounds validation: evaluations left (shared by every schema of a render) and the
/// render's deadline.
pub(crate) struct Bounds {
    pub(crate) evaluations_left: u64,
    pub(crate) deadline: Option<Instant>,
    /// Whether the parsed schema is freed after use.
    pub(crate) teardown: crate::native::Teardown,
}

/// Why validation stopped without a verdict.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// [`MAX_SCHEMA_EVALUATIONS`] ran out.
    Evaluations,
    /// The deadline passed.
    Deadline,
}

/// Why `values` are not accepted: gojsonschema's error lines, or an unusable schema.
pub(crate) enum Invalid {
    /// The values do not meet the schema, or the schema cannot be read; the text as Helm
    /// prints it.
    Values(String),
    /// A limit stopped validation.
    Stopped(Stopped),
}

/// Validates `values` (already converted to JSON) against `schema`; returns gojsonschema's
/// error lines (`- field: description\n` each) or an error text when the schema is unusable.
///
/// Results of `$ref`s and combinators are memoised per (subschema, value, path), so a schema
/// whose `$ref`s and `allOf`s reach the same subschema many ways evaluates it once per value; every evaluation and
/// every error reported counts against `bounds`, and the clock is read every 1024.
pub(crate) fn validate(schema: &[u8], values: &J, bounds: &mut Bounds) -> Result<(), Invalid> {
    let root: J = serde_json::from_slice(schema).map_err(|e| Invalid::Values(e.to_string()))?;
    let v = Validator {
        root: &root,
        memo: RefCell::new(HashMap::new()),
        regexes: RefCell::new(HashMap::new()),
        left: Cell::new(bounds.evaluations_left),
        deadline: bounds.deadline,
        stopped: Cell::new(None),
    };
    let errs = v.errors(&root, values, "(root)", 0);
    bounds.evaluations_left = v.left.get();
    let stopped = v.stopped.take();
    bounds.teardown.dispose(v);
    bounds.teardown.dispose(root);
    if let Some(why) = stopped {
        return Err(Invalid::Stopped(why));
    }
    if errs.is_empty() {
        return Ok(());
    }
    let mut out = String::new();
    for (ctx, msg) in errs.iter() {
        let field = ctx.strip_prefix("(root).").unwrap_or(ctx);
        out.push_str(&format!("- {field}: {msg}\n"));
    }
    Err(Invalid::Values(out))
}

type Errors = Vec<(String, String)>;

struct Validator<'a> {
    root: &'a J,
    /// Errors of a subschema against a value at a path, by their addresses and the path.
    memo: RefCell<HashMap<(usize, usize, String), Rc<Errors>>>,
    regexes: RefCell<HashMap<&'a str, Option<Rc<regex::Regex>>>>,
    left: Cell<u64>,
    deadline: Option<Instant>,
    stopped: Cell<Option<Stopped>>,
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

impl<'a> Validator<'a> {
    fn resolve(&self, r: &str) -> Option<&'a J> {
        let p = r.strip_prefix('#')?;
        if p.is_empty() {
            return Some(self.root);
        }
        self.root.pointer(p)
    }

    fn valid(&self, s: &'a J, v: &J, depth: usize) -> bool {
        self.errors(s, v, "(root)", depth).is_empty()
    }

    /// Takes `n` evaluations (or errors) from the bounds; false once they are spent or the
    /// deadline passed.
    fn spend(&self, n: u64) -> bool {
        if self.stopped_now() {
            return false;
        }
        let left = self.left.get();
        if left < n {
            self.left.set(0);
            self.stopped.set(Some(Stopped::Evaluations));
            return false;
        }
        self.left.set(left - n);
        if (left - n) / 1024 != left / 1024 && self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stopped.set(Some(Stopped::Deadline));
            return false;
        }
        true
    }

    fn stopped_now(&self) -> bool {
        let s = self.stopped.take();
        let stopped = s.is_some();
        self.stopped.set(s);
        stopped
    }

    fn regex(&self, pattern: &'a str) -> Option<Rc<regex::Regex>> {
        self.regexes
            .borrow_mut()
            .entry(pattern)
            .or_insert_with(|| regex::Regex::new(pattern).ok().map(Rc::new))
            .clone()
    }

    /// The errors of `s` against `v` at `ctx`, evaluated once per (schema, value, path).
    fn errors(&self, s: &'a J, v: &J, ctx: &str, depth: usize) -> Rc<Errors> {
        let key = (
            s as *const J as usize,
            v as *const J as usize,
            ctx.to_owned(),
        );
        if let Some(e) = self.memo.borrow().get(&key) {
            return e.clone();
        }
        let mut errs = Vec::new();
        if self.spend(1) {
            self.check(s, v, ctx, &mut errs, depth);
        }
        let errs = Rc::new(errs);
        self.memo.borrow_mut().insert(key, errs.clone());
        errs
    }

    /// Checks a value inside `v` (an item, a property) against `s`. Values form a tree, so
    /// each is reached once per subschema that applies to it: no memo, only the count.
    fn check_child(&self, s: &'a J, v: &J, ctx: &str, errs: &mut Errors, depth: usize) {
        if self.spend(1) {
            self.check(s, v, ctx, errs, depth);
        }
    }

    /// Appends the errors of `s` against `v` (memoised) to `errs`, counting each: for
    /// `$ref`s and combinators, which apply many subschemas to one value.
    fn check_into(&self, s: &'a J, v: &J, ctx: &str, errs: &mut Errors, depth: usize) {
        let found = self.errors(s, v, ctx, depth);
        if !found.is_empty() && self.spend(found.len() as u64) {
            errs.extend(found.iter().cloned());
        }
    }

    fn check(&self, s: &'a J, v: &J, ctx: &str, errs: &mut Errors, depth: usize) {
        if depth > 64 || self.stopped_now() {
            return;
        }
        let s = match s {
            J::Bool(true) => return,
            J::Bool(false) => {
                errs.push((ctx.into(), "False always fails validation".into()));
                return;
            }
            J::Object(o) => Keywords::of(o),
            _ => return,
        };
        if let Some(J::String(r)) = s.reference {
            if let Some(t) = self.resolve(r) {
                self.check_into(t, v, ctx, errs, depth + 1);
            }
            return;
        }
        let types: Vec<&str> = match s.kind {
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
        if let Some(J::Array(any)) = s.any_of
            && !any.iter().any(|x| self.valid(x, v, depth + 1))
        {
            errs.push((
                ctx.into(),
                "Must validate at least one schema (anyOf)".into(),
            ));
        }
        if let Some(J::Array(one)) = s.one_of
            && one.iter().filter(|x| self.valid(x, v, depth + 1)).count() != 1
        {
            errs.push((
                ctx.into(),
                "Must validate one and only one schema (oneOf)".into(),
            ));
        }
        if let Some(J::Array(all)) = s.all_of {
            let mut sub = Vec::new();
            for x in all {
                self.check_into(x, v, ctx, &mut sub, depth + 1);
            }
            if !sub.is_empty() {
                errs.extend(sub);
                errs.push((ctx.into(), "Must validate all the schemas (allOf)".into()));
            }
        }
        if let Some(n) = s.not
            && self.valid(n, v, depth + 1)
        {
            errs.push((ctx.into(), "Must not validate the schema (not)".into()));
        }
        if let Some(i) = s.if_ {
            let branch = if self.valid(i, v, depth + 1) {
                s.then
            } else {
                s.else_
            };
            if let Some(b) = branch {
                self.check_into(b, v, ctx, errs, depth + 1);
            }
        }
        match v {
            J::Number(_) => {
                let f = v.as_f64().unwrap_or(0.0);
                if let Some(m) = s.multiple_of.and_then(J::as_f64)
                    && m != 0.0
                    && (f / m).fract() != 0.0
                {
                    errs.push((
                        ctx.into(),
                        format!(
                            "Must be a multiple of {}",
                            num_text(s.multiple_of.unwrap_or(&J::Null))
                        ),
                    ));
                }
                let excl_min = s.exclusive_minimum;
                if let Some(min) = s.minimum.and_then(J::as_f64) {
                    if excl_min == Some(&J::Bool(true)) {
                        if f <= min {
                            errs.push((
                                ctx.into(),
                                format!(
                                    "Must be greater than {}",
                                    num_text(s.minimum.unwrap_or(&J::Null))
                                ),
                            ));
                        }
                    } else if f < min {
                        errs.push((
                            ctx.into(),
                            format!(
                                "Must be greater than or equal to {}",
                                num_text(s.minimum.unwrap_or(&J::Null))
                            ),
                        ));
                    }
                }
                if let Some(J::Number(m)) = excl_min
                    && f <= m.as_f64().unwrap_or(0.0)
                {
                    errs.push((
                        ctx.into(),
                        format!(
                            "Must be greater than {}",
                            num_text(s.exclusive_minimum.unwrap_or(&J::Null))
                        ),
                    ));
                }
                let excl_max = s.exclusive_maximum;
                if let Some(max) = s.maximum.and_then(J::as_f64) {
                    if excl_max == Some(&J::Bool(true)) {
                        if f >= max {
                            errs.push((
                                ctx.into(),
                                format!(
                                    "Must be less than {}",
                                    num_text(s.maximum.unwrap_or(&J::Null))
                                ),
                            ));
                        }
                    } else if f > max {
                        errs.push((
                            ctx.into(),
                            format!(
                                "Must be less than or equal to {}",
                                num_text(s.maximum.unwrap_or(&J::Null))
                            ),
                        ));
                    }
                }
                if let Some(J::Number(m)) = excl_max
                    && f >= m.as_f64().unwrap_or(0.0)
                {
                    errs.push((
                        ctx.into(),
                        format!(
                            "Must be less than {}",
                            num_text(s.exclusive_maximum.unwrap_or(&J::Null))
                        ),
                    ));
                }
            }
            J::String(st) => {
                let n = st.chars().count() as u64;
                if let Some(min) = s.min_length.and_then(J::as_u64)
                    && n < min
                {
                    errs.push((
                        ctx.into(),
                        format!("String length must be greater than or equal to {min}"),
                    ));
                }
                if let Some(max) = s.max_length.and_then(J::as_u64)
                    && n > max
                {
                    errs.push((
                        ctx.into(),
                        format!("String length must be less than or equal to {max}"),
                    ));
                }
                if let Some(J::String(p)) = s.pattern
                    && let Some(re) = self.regex(p)
                    && !re.is_match(st)
                {
                    errs.push((ctx.into(), format!("Does not match pattern '{p}'")));
                }
            }
            J::Array(items) => {
                if let Some(min) = s.min_items.and_then(J::as_u64)
                    && (items.len() as u64) < min
                {
                    errs.push((ctx.into(), format!("Array must have at least {min} items")));
                }
                if let Some(max) = s.max_items.and_then(J::as_u64)
                    && (items.len() as u64) > max
                {
                    errs.push((ctx.into(), format!("Array must have at most {max} items")));
                }
                match s.items {
                    Some(J::Array(tuple)) => {
                        for (i, (x, it)) in tuple.iter().zip(items).enumerate() {
                            self.check_child(x, it, &format!("{ctx}.{i}"), errs, depth + 1);
                        }
                    }
                    Some(sch) => {
                        for (i, it) in items.iter().enumerate() {
                            self.check_child(sch, it, &format!("{ctx}.{i}"), errs, depth + 1);
                        }
                    }
                    None => {}
                }
            }
            J::Object(o) => {
                if let Some(J::Array(req)) = s.required {
                    for r in req.iter().filter_map(J::as_str) {
                        if !o.contains_key(r) {
                            errs.push((ctx.into(), format!("{r} is required")));
                        }
                    }
                }
                let props = s.properties.and_then(J::as_object);
                let pprops = s.pattern_properties.and_then(J::as_object);
                for (k, val) in o {
                    let found = props.is_some_and(|p| p.contains_key(k));
                    let mut pp_match = false;
                    if let Some(pp) = pprops {
                        for (pat, sch) in pp {
                            if self.regex(pat).is_some_and(|re| re.is_match(k)) {
                                pp_match = true;
                                self.check_child(sch, val, &format!("{ctx}.{k}"), errs, depth + 1);
                            }
                        }
                    }
                    if !found && !pp_match {
                        match s.additional_properties {
                            Some(J::Bool(false)) => errs.push((
                                ctx.into(),
                                format!("Additional property {k} is not allowed"),
                            )),
                            Some(sch @ J::Object(_)) => {
                                self.check_child(sch, val, &format!("{ctx}.{k}"), errs, depth + 1)
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(J::Array(en)) = s.enumeration
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
        if let Some(c) = s.constant
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
        if let (J::Object(o), Some(J::Object(props))) = (v, s.properties) {
            for (k, sch) in props {
                if let Some(val) = o.get(k) {
                    self.check_child(sch, val, &format!("{ctx}.{k}"), errs, depth + 1);
                }
            }
        }
    }
}

/// The keywords of a schema object, found in one pass over its entries: a check consults two
/// dozen of them, and looking each up by name (hashing it) was most of the validation's cost on
/// large schemas (Traefik's 77 KB, Vault's 48 KB).
#[derive(Default)]
struct Keywords<'a> {
    reference: Option<&'a J>,
    kind: Option<&'a J>,
    any_of: Option<&'a J>,
    one_of: Option<&'a J>,
    all_of: Option<&'a J>,
    not: Option<&'a J>,
    if_: Option<&'a J>,
    then: Option<&'a J>,
    else_: Option<&'a J>,
    multiple_of: Option<&'a J>,
    minimum: Option<&'a J>,
    exclusive_minimum: Option<&'a J>,
    maximum: Option<&'a J>,
    exclusive_maximum: Option<&'a J>,
    min_length: Option<&'a J>,
    max_length: Option<&'a J>,
    pattern: Option<&'a J>,
    min_items: Option<&'a J>,
    max_items: Option<&'a J>,
    items: Option<&'a J>,
    required: Option<&'a J>,
    properties: Option<&'a J>,
    pattern_properties: Option<&'a J>,
    additional_properties: Option<&'a J>,
    enumeration: Option<&'a J>,
    constant: Option<&'a J>,
}

impl<'a> Keywords<'a> {
    fn of(schema: &'a serde_json::Map<String, J>) -> Keywords<'a> {
        let mut k = Keywords::default();
        for (name, value) in schema {
            let slot = match name.as_str() {
                "$ref" => &mut k.reference,
                "type" => &mut k.kind,
                "anyOf" => &mut k.any_of,
                "oneOf" => &mut k.one_of,
                "allOf" => &mut k.all_of,
                "not" => &mut k.not,
                "if" => &mut k.if_,
                "then" => &mut k.then,
                "else" => &mut k.else_,
                "multipleOf" => &mut k.multiple_of,
                "minimum" => &mut k.minimum,
                "exclusiveMinimum" => &mut k.exclusive_minimum,
                "maximum" => &mut k.maximum,
                "exclusiveMaximum" => &mut k.exclusive_maximum,
                "minLength" => &mut k.min_length,
                "maxLength" => &mut k.max_length,
                "pattern" => &mut k.pattern,
                "minItems" => &mut k.min_items,
                "maxItems" => &mut k.max_items,
                "items" => &mut k.items,
                "required" => &mut k.required,
                "properties" => &mut k.properties,
                "patternProperties" => &mut k.pattern_properties,
                "additionalProperties" => &mut k.additional_properties,
                "enum" => &mut k.enumeration,
                "const" => &mut k.constant,
                _ => continue,
            };
            *slot = Some(value);
        }
        k
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

    fn validate(schema: &[u8], values: &J) -> Result<(), String> {
        let mut bounds = Bounds {
            evaluations_left: MAX_SCHEMA_EVALUATIONS,
            deadline: None,
            teardown: Default::default(),
        };
        super::validate(schema, values, &mut bounds).map_err(|e| match e {
            Invalid::Values(m) => m,
            Invalid::Stopped(why) => format!("stopped: {why:?}"),
        })
    }

    #[test]
    fn self_references_are_evaluated_once_per_value() {
        let schema = br##"{"allOf":[{"$ref":"#"},{"$ref":"#"},{"$ref":"#"},{"$ref":"#"}]}"##;
        let v: J = serde_json::from_str(r#"{"a":1}"#).unwrap();
        let mut bounds = Bounds {
            evaluations_left: 10_000,
            deadline: None,
            teardown: Default::default(),
        };
        assert!(super::validate(schema, &v, &mut bounds).is_ok());
        // 4^32 evaluations without memoising; a few hundred with.
        assert!(
            bounds.evaluations_left > 9_000,
            "{}",
            bounds.evaluations_left
        );
    }

    #[test]
    fn errors_repeated_exponentially_run_into_the_limit() {
        // Each level reaches the next four ways, and the leaf fails: the error list doubles
        // twice per level.
        let mut defs = String::from(r#""l0":{"type":"string"}"#);
        for i in 1..20 {
            let r = format!(r##"{{"$ref":"#/definitions/l{}"}}"##, i - 1);
            defs.push_str(&format!(r#","l{i}":{{"allOf":[{r},{r},{r},{r}]}}"#));
        }
        let schema = format!(r##"{{"definitions":{{{defs}}},"$ref":"#/definitions/l19"}}"##);
        let v: J = serde_json::from_str("1").unwrap();
        let mut bounds = Bounds {
            evaluations_left: MAX_SCHEMA_EVALUATIONS,
            deadline: None,
            teardown: Default::default(),
        };
        assert!(matches!(
            super::validate(schema.as_bytes(), &v, &mut bounds),
            Err(Invalid::Stopped(Stopped::Evaluations))
        ));
        assert_eq!(bounds.evaluations_left, 0);
    }

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
