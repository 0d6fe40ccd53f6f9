//! How a rule sees one differing resource, and small helpers over paths and values.

use yaml11::{Number, Value};

use crate::model::{Change, ChangeType, ResourceDiff};
use crate::path::{Path, Segment};

use super::Subject;

/// One differing resource as the rules see it: the subject plus its *effective* changes
/// (changes flagged `same-value` or `order-only` are left out, they change nothing).
pub(crate) struct View<'a> {
    pub diff: &'a ResourceDiff,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    pub changes: Vec<&'a Change>,
}

impl<'a> View<'a> {
    pub fn new(s: &Subject<'a>) -> Self {
        View {
            diff: s.diff,
            before: s.before,
            after: s.after,
            changes: s
                .diff
                .changes
                .iter()
                .filter(|c| !c.has_flag("same-value") && !c.has_flag("order-only"))
                .collect(),
        }
    }

    pub fn kind(&self) -> &'a str {
        &self.diff.identity.kind
    }

    pub fn name(&self) -> &'a str {
        &self.diff.identity.name
    }

    pub fn namespace(&self) -> &'a str {
        &self.diff.identity.namespace
    }

    /// `Kind/name`.
    pub fn short(&self) -> String {
        self.diff.identity.short()
    }

    pub fn change_type(&self) -> ChangeType {
        self.diff.change_type
    }

    pub fn is_modified(&self) -> bool {
        self.diff.change_type == ChangeType::Modified
    }

    /// The core API group (`v1`): `ConfigMap`, `Secret`, `Service`, … of other groups are
    /// someone's custom resources.
    pub fn is_core(&self) -> bool {
        self.diff.identity.group().is_empty()
    }

    /// The new object, or the old one for removed resources.
    pub fn object(&self) -> Option<&'a Value> {
        self.after.or(self.before)
    }

    /// The `helm.sh/hook` annotation, for Helm hooks.
    pub fn hook(&self) -> Option<&'a str> {
        if !self.diff.has_flag("hook") {
            return None;
        }
        Some(
            self.object()
                .and_then(|o| o.pointer(&["metadata", "annotations", "helm.sh/hook"]))
                .and_then(Value::as_str)
                .unwrap_or("hook"),
        )
    }

    /// Effective changes at or below `keys`.
    pub fn changes_under<'s>(
        &'s self,
        keys: &'s [&'s str],
    ) -> impl Iterator<Item = &'a Change> + 's {
        self.changes
            .iter()
            .copied()
            .filter(move |c| c.path.starts_with_keys(keys))
    }

    /// True when some effective change is at or below `keys`.
    pub fn changed_under(&self, keys: &[&str]) -> bool {
        self.changes_under(keys).next().is_some()
    }

    pub fn before_at(&self, keys: &[&str]) -> Option<&'a Value> {
        self.before.and_then(|v| v.pointer(keys))
    }

    pub fn after_at(&self, keys: &[&str]) -> Option<&'a Value> {
        self.after.and_then(|v| v.pointer(keys))
    }
}

/// The segments of `path` below `prefix`, when the path is inside it.
pub(crate) fn below<'p>(path: &'p Path, prefix: &[&str]) -> Option<&'p [Segment]> {
    path.starts_with_keys(prefix)
        .then(|| &path.segments()[prefix.len()..])
}

/// The mapping key at position `i`, if that segment is one.
pub(crate) fn key_at(segs: &[Segment], i: usize) -> Option<&str> {
    match segs.get(i) {
        Some(Segment::Key(k)) => Some(k),
        _ => None,
    }
}

/// How a list item is named in titles: `app` for `[name=app]`, `#2` for `[2]`.
pub(crate) fn item_label(seg: &Segment) -> String {
    match seg {
        Segment::Select { fields, .. } => fields
            .iter()
            .find(|(k, _)| k == "name")
            .or(fields.first())
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        Segment::Index(i) => format!("#{i}"),
        Segment::Key(k) => k.clone(),
    }
}

/// A path of keys, as a [`Path`].
pub(crate) fn keys_path(keys: &[&str]) -> Path {
    Path::keys(keys.iter().copied())
}

const MAX_TEXT: usize = 200;

/// A value as short text for `oldValue`/`newValue`: scalars as written, collections as
/// compact JSON, cut at 200 characters.
pub(crate) fn text(v: &Value) -> String {
    let s = match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(Number::Int(i)) => i.to_string(),
        Value::Number(Number::Float(f)) => f.to_string(),
        Value::String(s) => s.clone(),
        Value::Sequence(_) | Value::Mapping(_) => {
            serde_json::to_string(v).unwrap_or_else(|_| String::from("…"))
        }
    };
    if s.chars().count() > MAX_TEXT {
        let mut cut: String = s.chars().take(MAX_TEXT).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

/// `text` of an optional value, `unset` when absent.
pub(crate) fn text_or_unset(v: Option<&Value>) -> String {
    v.map(text).unwrap_or_else(|| "unset".to_owned())
}

/// The string at `keys`, if it is one.
pub(crate) fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    v.pointer(keys).and_then(Value::as_str)
}

/// The items of the sequence at `keys` (empty when absent).
pub(crate) fn seq_at<'a>(v: &'a Value, keys: &[&str]) -> &'a [Value] {
    v.pointer(keys).and_then(Value::as_sequence).unwrap_or(&[])
}

/// The strings of a sequence of strings (other items skipped).
pub(crate) fn strings(items: &[Value]) -> Vec<&str> {
    items.iter().filter_map(Value::as_str).collect()
}

/// `a, b, c` — at most `max` items, then `and N more`.
pub(crate) fn list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let mut out = items
        .iter()
        .take(max)
        .map(|s| s.as_ref())
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        out.push_str(&format!(" and {} more", items.len() - max));
    }
    out
}
