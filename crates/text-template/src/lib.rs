//! Go's `text/template` (Go 1.23 semantics) with Sprig v3.3.0's functions and Helm 3.17's own,
//! so Helm charts render in-process exactly as `helm template` renders them.
//!
//! A [`TemplateSet`] holds many named templates that share `define`s, as Helm parses every
//! file of a chart into one set. Parse once, then [`TemplateSet::execute`] any template with a
//! [`Value`] as dot and an [`ExecContext`] that carries the limits, the seeded randomness and
//! the clock. A set is `Send + Sync`; executions never share mutable state except through the
//! context the caller passes.
//!
//! ```
//! use text_template::{ExecContext, TemplateSet, Value};
//!
//! let mut set = TemplateSet::helm();
//! set.parse("t", r#"{{ define "x" }}{{ .a | upper }}{{ end }}{{ include "x" . | quote }} {{ .n }}"#).unwrap();
//! let data = Value::map([("a", Value::from("hi")), ("n", Value::Float(1e6))]);
//! let out = set.execute("t", &data, &mut ExecContext::new(1)).unwrap();
//! assert_eq!(out, "\"HI\" 1e+06");
//! ```
#![deny(missing_docs)]

mod budget;
mod context;
mod error;
mod exec;
mod funcs;
mod gofmt;
mod gostr;
pub mod helm_objects;
mod lex;
mod parse;
mod value;
mod yaml;

pub use context::{
    Clock, DEFAULT_MAX_MEMORY_BYTES, ExecContext, FixedClock, Instant, Limit, Limits, RandomSource,
    SeededRng,
};
pub use error::{Error, ExecError};
pub use exec::{CallCtx, MissingKey, Options, ParsedTemplate, TemplateSet, TextError};
pub use funcs::{FuncError, FuncMap, FuncResult, Function, Sig, Ty};
pub use gofmt::{format_float, quote_go, sprint, sprint_value, sprintf};
pub use value::{ElemType, List, Map, MethodResult, Object, Value};

/// Masterminds/semver v3, the one parser the project uses for versions and ranges (chart
/// versions, `kubeVersion`, dependency ranges, `semverCompare`).
pub mod semver {
    pub use crate::funcs::semver::{Constraints, Version};
}

/// Masterminds/semver v3 constraint check, as Sprig's `semverCompare` does it: `Ok(true)` when
/// `version` satisfies `constraint`, an error naming the unparsable side otherwise.
pub fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    funcs::semver::semver_compare(constraint, version)
}

/// Helm's `toYaml`: the value as sigs.k8s.io/yaml (go-yaml v2) writes it, without the final
/// newline Helm trims.
pub fn to_yaml(v: &Value) -> String {
    yaml::to_yaml(v).trim_end_matches('\n').to_string()
}

/// Helm's `toJson` (Go's `encoding/json`, keys sorted, HTML characters escaped).
pub fn to_json(v: &Value) -> String {
    funcs::encoding::to_json(v, true)
}

/// A string as Go's `encoding/json` writes it: quoted, HTML characters and U+2028/2029
/// escaped.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    funcs::encoding::json_string(&mut out, s, true);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn template_set_is_send_sync() {
        assert_send_sync::<TemplateSet>();
        assert_send_sync::<Value>();
    }
}
