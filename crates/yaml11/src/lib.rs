//! Fast YAML 1.1 reading for Kubernetes manifest streams and Helm values.
//!
//! Helm and Kubernetes read YAML with go-yaml v2 (through sigs.k8s.io/yaml), which follows
//! YAML 1.1: `yes`/`on` are booleans, `0755` is octal 493, `~` is null. Rust's YAML crates
//! either follow YAML 1.2 or read untyped values slowly (serde-saphyr manages ~20 MB/s), and a
//! chart upgrade comparison parses megabytes on every request. This crate reads a multi-document
//! stream straight into a small [`Value`] model with go-yaml v2's scalar resolution, at well
//! over 150 MB/s.
//!
//! ```
//! let docs = yaml11::parse_stream("a: yes\nb: 0755\n---\nc: ~\n", &yaml11::Limits::default()).unwrap();
//! assert_eq!(docs.len(), 2);
//! assert_eq!(docs[0].value.get("a"), Some(&yaml11::Value::Bool(true)));
//! assert_eq!(docs[0].value.get("b"), Some(&yaml11::Value::from(493i64)));
//! assert_eq!(docs[1].line, 4);
//! ```
//!
//! # What "as go-yaml v2 reads it" means
//!
//! - **Syntax** follows libyaml's scanner as go-yaml v2 ports it: implicit keys on one line
//!   (at most 1024 characters), `- ` sequences at their key's indentation, tabs only where
//!   libyaml takes them, `?` ending plain scalars inside flow collections, `%YAML 1.1` only,
//!   and the YAML 1.1 escapes (no `\/`). A `---` or `...` at column 0 always ends a document,
//!   also inside a block scalar.
//! - **Plain scalars** resolve like go-yaml's `resolve.go`: null, the eleven spellings of each
//!   boolean, integers through Go's `ParseInt` with base prefixes and `_` removed (too big for
//!   `i64` becomes a float), and floats through Go's rules (an overflow stays a string).
//!   Timestamps stay strings. Quoted and block scalars are strings unless tagged.
//! - **Tags**: `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp` resolve and must
//!   agree with the text; `!!binary` is base64-decoded; other tags (`!foo`, `!!map`) do not
//!   change the value.
//! - **Mappings**: keys take the string form sigs.k8s.io/yaml gives them (`1` → `"1"`,
//!   `on` → `"true"`, `1.5` → `"1.5"`); null and collection keys are errors, as there. A
//!   duplicate key keeps its first position and its last value. `<<` merges apply in document
//!   order, so a merge overrides keys set before it, and in a list the first mapping wins.
//! - **Documents**: [`Document::index`] counts empty documents too; empty ones are not
//!   returned; [`Document::line`] is the line of the document's first token.
//! - **Errors** carry the line and column of the offending character in the whole input and
//!   a plain-words message. Control characters are refused, as go-yaml's reader does.
//!
//! Known gaps: NEL, LS and PS are ordinary characters here, where libyaml also breaks lines
//! at them; `Limits::max_depth` is also the recursion bound, so keep it in the hundreds.
#![deny(missing_docs)]

pub mod civil;
mod value;

pub use value::{Mapping, Number, Value};
mod error;
mod reader;
mod scalar;

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
    /// Most bytes of values one call builds, counting alias expansions: the input's length
    /// (every string read from it is at most that long), plus 80 bytes a value, plus the text
    /// of every alias expanded. A few kilobytes of aliases can otherwise expand to gigabytes
    /// of copies within [`Limits::max_nodes`].
    pub max_value_bytes: usize,
}

impl Default for Limits {
    /// Generous enough for the largest real chart renders (a few MB, a few thousand documents);
    /// a 64 MiB stream of ordinary manifests builds about 350 MiB of values.
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 20,
            max_documents: 100_000,
            max_depth: 256,
            max_nodes: 20_000_000,
            max_value_bytes: 512 << 20,
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
    reader::parse_stream(text, limits)
}

/// Like [`parse_value`], but builds values only down to nesting level `keep` (the root is
/// level 0): deeper nodes are read and checked exactly as [`parse_value`] checks them, but
/// come back as placeholders that keep only their kind — `Null` for a null scalar, `false`
/// for any other scalar, empty collections. Errors are those [`parse_value`] reports.
///
/// For reading a few top-level fields of large documents (a manifest's kind and metadata)
/// without allocating the rest; input with anchors or merge keys is read in full.
///
/// ```
/// use yaml11::{Limits, Value};
///
/// let v = yaml11::parse_value_shallow("kind: A\nspec: {x: [1, 2], z: b}\n", &Limits::default(), 1).unwrap();
/// assert_eq!(v.get("kind"), Some(&Value::from("A")));
/// // `spec` is level 1: built, with placeholders for its entries.
/// assert_eq!(v.pointer(&["spec", "x"]), Some(&Value::Sequence(Vec::new())));
/// assert_eq!(v.pointer(&["spec", "z"]), Some(&Value::Bool(false)));
/// ```
pub fn parse_value_shallow(text: &str, limits: &Limits, keep: usize) -> Result<Value, Error> {
    single(reader::parse_stream_shallow(text, limits, keep)?)
}

/// Reads a single-document input such as a values file; an empty input is `Null`.
pub fn parse_value(text: &str, limits: &Limits) -> Result<Value, Error> {
    single(parse_stream(text, limits)?)
}

fn single(docs: Vec<Document>) -> Result<Value, Error> {
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.into_iter().next().map(|d| d.value).unwrap_or_default()),
        _ => Err(Error::MultipleDocuments { line: docs[1].line }),
    }
}
