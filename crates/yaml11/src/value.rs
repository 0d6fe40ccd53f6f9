//! The data model a YAML document is read into.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// A YAML number, keeping the distinction YAML draws between integers and floats.
///
/// Kubernetes and Helm read every number as float64 once converted to JSON; we keep integers
/// apart so reports can say `integer` and print `3` rather than `3.0`.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    /// An integer that fits in an `i64` (decimal, `0x`, `0o`, legacy `0755` octal, `0b`).
    Int(i64),
    /// A float, or an integer too large for `i64`.
    Float(f64),
}

impl Number {
    /// The value as a float, the way Go's `float64` holds it.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

impl PartialEq for Number {
    /// Numbers compare by value: `1` equals `1.0`.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (a, b) => {
                let (a, b) = (a.as_f64(), b.as_f64());
                a == b || (a.is_nan() && b.is_nan())
            }
        }
    }
}

/// A mapping that keeps the keys in document order.
///
/// Keys are strings because Kubernetes objects are JSON: a YAML key such as `1` or `true` is
/// kept in its string form, as sigs.k8s.io/yaml does when it converts YAML to JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    entries: Vec<(String, Value)>,
}

impl Mapping {
    /// An empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty mapping with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
        }
    }

    /// Sets `key` to `value`; a key that is already present keeps its position and takes the
    /// new value (the last duplicate wins, as in go-yaml v2 and PyYAML).
    pub fn insert(&mut self, key: String, value: Value) {
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
    }

    /// Builds a mapping from entries whose keys are known to be distinct.
    pub(crate) fn from_unique_entries(entries: Vec<(String, Value)>) -> Self {
        Self { entries }
    }

    /// The entries in document order.
    pub(crate) fn into_entries(self) -> Vec<(String, Value)> {
        self.entries
    }

    /// Appends without checking for a duplicate key; for callers that know the key is new.
    pub fn push_unique(&mut self, key: String, value: Value) {
        self.entries.push((key, value));
    }

    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value at `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(at).1)
    }

    /// Entries in document order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Entries in document order, values mutable.
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&String, &mut Value)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Keys in document order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Entries sorted by key (byte order), for deterministic walks.
    pub fn sorted(&self) -> Vec<(&String, &Value)> {
        let mut v: Vec<_> = self.iter().collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromIterator<(String, Value)> for Mapping {
    fn from_iter<T: IntoIterator<Item = (String, Value)>>(iter: T) -> Self {
        let mut m = Mapping::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

/// A YAML value as Kubernetes sees it after YAML 1.1 scalar resolution.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`, `~`, or nothing.
    #[default]
    Null,
    /// `true`/`false` and YAML 1.1's `yes`/`no`/`on`/`off`/`y`/`n`.
    Bool(bool),
    /// An integer or a float.
    Number(Number),
    /// Any other scalar, and every quoted or block scalar.
    String(String),
    /// A sequence.
    Sequence(Vec<Value>),
    /// A mapping.
    Mapping(Mapping),
}

impl Value {
    /// The mapping inside, if this is one.
    pub fn as_mapping(&self) -> Option<&Mapping> {
        match self {
            Value::Mapping(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence inside, if this is one.
    pub fn as_sequence(&self) -> Option<&[Value]> {
        match self {
            Value::Sequence(s) => Some(s),
            _ => None,
        }
    }

    /// The string inside, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as f64, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// The bool inside, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Looks up `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_mapping().and_then(|m| m.get(key))
    }

    /// Follows a path of mapping keys.
    pub fn pointer<'a>(&'a self, keys: &[&str]) -> Option<&'a Value> {
        keys.iter().try_fold(self, |v, k| v.get(k))
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The JSON type name: `null`, `boolean`, `integer`, `number`, `string`, `array`, `object`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(Number::Int(_)) => "integer",
            Value::Number(Number::Float(_)) => "number",
            Value::String(_) => "string",
            Value::Sequence(_) => "array",
            Value::Mapping(_) => "object",
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Number(Number::Int(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Number(Number::Float(f))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Number::Int(i) => s.serialize_i64(i),
            // JSON has no NaN or infinity: such floats are written as strings, as YAML spells them.
            Number::Float(f) if f.is_nan() => s.serialize_str(".nan"),
            Number::Float(f) if f.is_infinite() => {
                s.serialize_str(if f > 0.0 { ".inf" } else { "-.inf" })
            }
            Number::Float(f) => s.serialize_f64(f),
        }
    }
}

impl Serialize for Mapping {
    /// Serialized in document order; callers wanting canonical output sort first.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(v) => s.serialize_str(v),
            Value::Sequence(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Mapping(m) => m.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(Number::Int(1), Number::Float(1.0));
        assert_ne!(Number::Int(1), Number::Float(1.5));
        assert_eq!(Number::Float(f64::NAN), Number::Float(f64::NAN));
    }

    #[test]
    fn duplicate_key_keeps_position_and_last_value() {
        let mut m = Mapping::new();
        m.insert("a".into(), 1i64.into());
        m.insert("b".into(), 2i64.into());
        m.insert("a".into(), 3i64.into());
        let keys: Vec<_> = m.keys().cloned().collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(m.get("a"), Some(&Value::from(3i64)));
    }

    #[test]
    fn serializes_as_json_keeping_integers() {
        let mut m = Mapping::new();
        m.insert("i".into(), 3i64.into());
        m.insert("f".into(), 1.5f64.into());
        m.insert("inf".into(), f64::INFINITY.into());
        let json = serde_json::to_string(&Value::Mapping(m)).unwrap();
        assert_eq!(json, r#"{"i":3,"f":1.5,"inf":".inf"}"#);
    }

    #[test]
    fn type_names_follow_json_schema_words() {
        assert_eq!(Value::from(1i64).type_name(), "integer");
        assert_eq!(Value::from(1.0f64).type_name(), "number");
        assert_eq!(Value::Null.type_name(), "null");
    }
}
