//! Readable, unambiguous paths into a Kubernetes object.
//!
//! A path names list items by what they are, not where they sit:
//! `spec.template.spec.containers[name=app].image`. Map keys that are not plain words are
//! quoted: `metadata.labels["app.kubernetes.io/name"]`. The same path also yields an RFC 6901
//! pointer (positions in the document) and a pattern with list selectors erased
//! (`spec.template.spec.containers[*].image`) that classification rules match against.

use std::fmt::{self, Write};

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list item matched by position (value-based matching), with its index in the document
    /// the pointer refers to.
    Index(usize),
    /// A list item matched by key fields, e.g. `name=app`, with its index in the document the
    /// pointer refers to.
    Select {
        /// The identifying fields and their values, in a fixed order.
        fields: Vec<(String, String)>,
        /// Position in the document the pointer refers to.
        index: usize,
    },
}

/// A path from a resource's root to a changed value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(Vec<Segment>);

impl Path {
    /// The root path.
    pub fn root() -> Self {
        Path(Vec::new())
    }

    /// A path of mapping keys, e.g. `Path::keys(["spec", "replicas"])`.
    pub fn keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        Path(
            keys.into_iter()
                .map(|k| Segment::Key(k.to_owned()))
                .collect(),
        )
    }

    /// This path with a key appended.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.to_owned()));
        p
    }

    /// This path with a positional list item appended.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(index));
        p
    }

    /// This path with a selected list item appended.
    pub fn select(&self, fields: Vec<(String, String)>, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Select { fields, index });
        p
    }

    /// Appends a segment.
    pub fn push(&mut self, seg: Segment) {
        self.0.push(seg);
    }

    /// The segments.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the root path.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The last mapping key on the path, if the path ends in one.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// True when the path starts with these mapping keys.
    pub fn starts_with_keys(&self, keys: &[&str]) -> bool {
        keys.len() <= self.0.len()
            && keys
                .iter()
                .zip(&self.0)
                .all(|(k, s)| matches!(s, Segment::Key(x) if x == k))
    }

    /// The path with list selectors erased to `[*]`: the form rules match on.
    ///
    /// `spec.template.spec.containers[name=app].image` → `spec.template.spec.containers[*].image`.
    pub fn pattern(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            match seg {
                Segment::Key(k) => push_key(&mut out, k),
                Segment::Index(_) | Segment::Select { .. } => out.push_str("[*]"),
            }
        }
        out
    }

    /// The RFC 6901 JSON pointer (list items by position).
    pub fn pointer(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            out.push('/');
            match seg {
                Segment::Key(k) => {
                    for c in k.chars() {
                        match c {
                            '~' => out.push_str("~0"),
                            '/' => out.push_str("~1"),
                            c => out.push(c),
                        }
                    }
                }
                Segment::Index(i) | Segment::Select { index: i, .. } => {
                    let _ = write!(out, "{i}");
                }
            }
        }
        out
    }

    /// The pointer's tokens: keys as strings, list positions as numbers.
    pub fn tokens(&self) -> Vec<Token<'_>> {
        self.0
            .iter()
            .map(|s| match s {
                Segment::Key(k) => Token::Key(k),
                Segment::Index(i) | Segment::Select { index: i, .. } => Token::Index(*i),
            })
            .collect()
    }
}

/// A token of [`Path::tokens`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A list position.
    Index(usize),
}

impl serde::Serialize for Token<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Token::Key(k) => s.serialize_str(k),
            Token::Index(i) => s.serialize_u64(*i as u64),
        }
    }
}

fn is_word(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn push_key(out: &mut String, k: &str) {
    if is_word(k) {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(k);
    } else {
        out.push('[');
        push_quoted(out, k);
        out.push(']');
    }
}

fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_selector_value(out: &mut String, v: &str) {
    let plain = !v.is_empty()
        && !v
            .chars()
            .any(|c| matches!(c, ']' | '[' | '=' | ',' | '"' | '\\') || c.is_whitespace());
    if plain {
        out.push_str(v);
    } else {
        push_quoted(out, v);
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for seg in &self.0 {
            match seg {
                Segment::Key(k) => push_key(&mut out, k),
                Segment::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
                Segment::Select { fields, .. } => {
                    out.push('[');
                    for (n, (k, v)) in fields.iter().enumerate() {
                        if n > 0 {
                            out.push(',');
                        }
                        out.push_str(k);
                        out.push('=');
                        push_selector_value(&mut out, v);
                    }
                    out.push(']');
                }
            }
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_image_path_reads_naturally() {
        let p = Path::keys(["spec", "template", "spec", "containers"])
            .select(vec![("name".into(), "app".into())], 1)
            .key("image");
        assert_eq!(
            p.to_string(),
            "spec.template.spec.containers[name=app].image"
        );
        assert_eq!(p.pointer(), "/spec/template/spec/containers/1/image");
        assert_eq!(p.pattern(), "spec.template.spec.containers[*].image");
    }

    #[test]
    fn dotted_and_slashed_keys_are_quoted_and_escaped() {
        let p = Path::keys(["metadata", "labels", "app.kubernetes.io/name"]);
        assert_eq!(
            p.to_string(),
            r#"metadata.labels["app.kubernetes.io/name"]"#
        );
        assert_eq!(p.pointer(), "/metadata/labels/app.kubernetes.io~1name");
        let p = Path::keys(["data", "a~b"]);
        assert_eq!(p.pointer(), "/data/a~0b");
    }

    #[test]
    fn root_key_that_needs_quotes_has_no_leading_dot() {
        assert_eq!(Path::keys(["a b"]).to_string(), r#"["a b"]"#);
        assert_eq!(Path::keys(["a b", "c"]).to_string(), r#"["a b"].c"#);
    }

    #[test]
    fn selector_values_with_separators_are_quoted() {
        let p = Path::keys(["ports"]).select(
            vec![
                ("port".into(), "80".into()),
                ("protocol".into(), "TCP".into()),
            ],
            0,
        );
        assert_eq!(p.to_string(), "ports[port=80,protocol=TCP]");
        let p = Path::keys(["env"]).select(vec![("name".into(), "a=b".into())], 0);
        assert_eq!(p.to_string(), r#"env[name="a=b"]"#);
    }

    #[test]
    fn tokens_mix_keys_and_positions() {
        let p = Path::keys(["args"]).index(2);
        let json = serde_json::to_string(&p.tokens()).unwrap();
        assert_eq!(json, r#"["args",2]"#);
        assert_eq!(p.to_string(), "args[2]");
    }

    #[test]
    fn starts_with_keys_checks_only_keys() {
        let p = Path::keys(["spec", "template"]).index(0);
        assert!(p.starts_with_keys(&["spec", "template"]));
        assert!(!p.starts_with_keys(&["spec", "template", "spec"]));
    }
}
