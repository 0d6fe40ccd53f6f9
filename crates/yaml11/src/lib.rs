//! Fast YAML 1.1 reading for Kubernetes manifest streams and Helm values.
//!
//! Helm and Kubernetes read YAML with go-yaml v2 (through sigs.k8s.io/yaml), which follows
//! YAML 1.1: `yes`/`on` are booleans, `0755` is octal 493, `~` is null. Rust's YAML crates
//! either follow YAML 1.2 or read untyped values slowly (serde-saphyr manages ~17 MB/s), and a
//! chart upgrade comparison parses megabytes on every request. This crate reads a multi-document
//! stream straight into a small [`Value`] model with go-yaml v2's scalar resolution.
//!
//! ```
//! let docs = yaml11::parse_stream("a: yes\nb: 0755\n---\nc: ~\n", &yaml11::Limits::default()).unwrap();
//! assert_eq!(docs.len(), 2);
//! assert_eq!(docs[0].value.get("a"), Some(&yaml11::Value::Bool(true)));
//! assert_eq!(docs[0].value.get("b"), Some(&yaml11::Value::from(493i64)));
//! assert_eq!(docs[1].line, 4);
//! ```
#![deny(missing_docs)]

mod value;

pub use value::{Mapping, Number, Value};
mod error;
mod interim;

pub use error::Error;

/// Bounds on what one call may read, so hostile input fails with a named limit instead of
/// exhausting memory or the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest input, in bytes.
    pub max_bytes: usize,
    /// Most documents in one stream (empty documents count).
    pub max_documents: usize,
    /// Deepest nesting of collections.
    pub max_depth: usize,
    /// Most values after alias expansion (guards against "billion laughs").
    pub max_nodes: usize,
}

impl Default for Limits {
    /// Generous enough for the largest real chart renders (a few MB, a few thousand documents).
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 20,
            max_documents: 100_000,
            max_depth: 256,
            max_nodes: 20_000_000,
        }
    }
}

/// One non-empty document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 1-based position in the stream, counting empty documents too.
    pub index: usize,
    /// 1-based line where the document's content starts.
    pub line: usize,
    /// The document's root value.
    pub value: Value,
}

/// Reads every document of a multi-document stream, skipping empty ones (nothing but
/// comments, whitespace or an explicit `null`), as Helm and kubectl do.
pub fn parse_stream(text: &str, limits: &Limits) -> Result<Vec<Document>, Error> {
    interim::parse_stream(text, limits)
}

/// Reads a single-document input such as a values file; an empty input is `Null`.
pub fn parse_value(text: &str, limits: &Limits) -> Result<Value, Error> {
    let docs = parse_stream(text, limits)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.into_iter().next().map(|d| d.value).unwrap_or_default()),
        _ => Err(Error::MultipleDocuments { line: docs[1].line }),
    }
}
