//! The values templates operate on, mirroring the Go types Helm hands to text/template.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::funcs::FuncError;

/// A Go value as a template sees it.
///
/// Go distinguishes "no value" (an invalid `reflect.Value`, printed `<no value>`) from a nil
/// `interface{}` (what a missing map key yields under `missingkey=zero`); both are kept because
/// Go's error messages differ between them.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's invalid `reflect.Value`: the result of a pipeline that produced nothing.
    #[default]
    Invalid,
    /// A nil `interface{}`.
    Nil,
    /// `bool`.
    Bool(bool),
    /// `int`.
    Int(i64),
    /// `int64`.
    Int64(i64),
    /// `float64`, the type of every YAML and JSON number in Helm's values.
    Float(f64),
    /// `string`.
    String(Arc<str>),
    /// `[]byte`.
    Bytes(Arc<[u8]>),
    /// `[]interface{}` (or `[]string`, see [`List::elem`]).
    List(List),
    /// `map[string]interface{}`, shared by reference like a Go map.
    Map(Map),
    /// A Go struct or named type with fields and methods (Helm's `.Capabilities`, `.Files`).
    Object(Arc<dyn Object>),
}

/// The element type a Go slice was declared with; it shows in `%T`, `typeOf` and error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemType {
    /// `[]interface {}`.
    Any,
    /// `[]string`.
    String,
    /// `[]int`.
    Int,
}

/// An immutable Go slice.
#[derive(Clone)]
pub struct List {
    items: Arc<Vec<Value>>,
    /// Declared element type.
    pub elem: ElemType,
}

impl List {
    /// A `[]interface{}`.
    pub fn new(items: Vec<Value>) -> Self {
        List {
            items: Arc::new(items),
            elem: ElemType::Any,
        }
    }
    /// A slice with the given element type.
    pub fn typed(items: Vec<Value>, elem: ElemType) -> Self {
        List {
            items: Arc::new(items),
            elem,
        }
    }
    /// The elements.
    pub fn items(&self) -> &[Value] {
        &self.items
    }
    /// The elements as an owned vector.
    pub fn to_vec(&self) -> Vec<Value> {
        self.items.as_ref().clone()
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Whether the slice is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Whether no other value holds these elements (the slice was just made).
    pub(crate) fn is_unshared(&self) -> bool {
        Arc::strong_count(&self.items) == 1
    }
    /// Go type name.
    pub fn type_name(&self) -> &'static str {
        match self.elem {
            ElemType::Any => "[]interface {}",
            ElemType::String => "[]string",
            ElemType::Int => "[]int",
        }
    }
}

/// Lists nest as deep as a template loop makes them (`$l = list $l`), deeper than the stack
/// can drop recursively: the last owner drops the elements itself, counting the nesting, and
/// past `MAX_DROP_DEPTH` defers the lists and maps among them to the outermost drop.
impl Drop for List {
    fn drop(&mut self) {
        if Arc::strong_count(&self.items) == 1
            && let Some(items) = Arc::get_mut(&mut self.items)
            && !items.is_empty()
        {
            drop_counted(std::mem::take(items), |items, deferred| {
                deferred.extend(items.into_iter().filter(is_collection));
            });
        }
    }
}

/// Maps nest as deep as lists do (`$m = dict "a" $m`).
impl Drop for Map {
    fn drop(&mut self) {
        if Arc::strong_count(&self.inner) == 1
            && let Some(lock) = Arc::get_mut(&mut self.inner)
        {
            let entries = lock.get_mut().unwrap_or_else(|e| e.into_inner());
            if !entries.is_empty() {
                drop_counted(std::mem::take(entries), |entries, deferred| {
                    deferred.extend(entries.into_values().filter(is_collection));
                });
            }
        }
    }
}

/// Nesting dropped recursively before the rest waits for the outermost drop: a few hundred
/// bytes of stack a level.
const MAX_DROP_DEPTH: u32 = 128;

thread_local! {
    static DROP_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    static DEFERRED: std::cell::RefCell<Vec<Value>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::List(_) | Value::Map(_))
}

/// Drops `inner` (what a list or map held) one level deeper; too deep, `defer` moves its lists
/// and maps aside instead, and the outermost drop drops them, each from the top again.
fn drop_counted<T>(inner: T, defer: impl FnOnce(T, &mut Vec<Value>)) {
    let depth = DROP_DEPTH.get();
    if depth >= MAX_DROP_DEPTH {
        let mut aside = Vec::new();
        defer(inner, &mut aside);
        DEFERRED.with_borrow_mut(|d| d.append(&mut aside));
        return;
    }
    DROP_DEPTH.set(depth + 1);
    drop(inner);
    if depth == 0 {
        while let Some(v) = DEFERRED.with_borrow_mut(Vec::pop) {
            drop(v);
        }
    }
    DROP_DEPTH.set(depth);
}

/// A Go `map[string]interface{}`: shared and mutable, since Sprig's `set` and `merge` change it
/// in place and every holder of the map sees the change.
#[derive(Clone, Default)]
pub struct Map {
    inner: Arc<RwLock<BTreeMap<String, Value>>>,
    /// `map[string]string` rather than `map[string]interface{}` (Sprig's `split`).
    pub string_values: bool,
}

impl Map {
    /// An empty map.
    pub fn new() -> Self {
        Map::default()
    }
    /// A map holding `entries`.
    pub fn from_btree(entries: BTreeMap<String, Value>) -> Self {
        Map {
            inner: Arc::new(RwLock::new(entries)),
            string_values: false,
        }
    }
    /// Read access.
    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Value>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
    /// Write access.
    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Value>> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }
    /// Sets `key`.
    pub fn insert(&self, key: impl Into<String>, value: Value) {
        self.write().insert(key.into(), value);
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.read().len()
    }
    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
    /// A snapshot of the entries in key order.
    pub fn entries(&self) -> Vec<(String, Value)> {
        self.read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
    /// Whether no other value holds this map (it was just made).
    pub(crate) fn is_unshared(&self) -> bool {
        Arc::strong_count(&self.inner) == 1
    }
    /// Whether both handles point at the same map.
    pub fn ptr_eq(&self, other: &Map) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
    /// Go type name.
    pub fn type_name(&self) -> &'static str {
        if self.string_values {
            "map[string]string"
        } else {
            "map[string]interface {}"
        }
    }
}

/// What a method call on an [`Object`] produced.
pub type MethodResult = Result<Value, FuncError>;

/// A Go struct (or named type) exposed to templates, such as Helm's `.Capabilities` or `.Files`.
///
/// Field names and method names are Go's (`Name`, `APIVersions`, `Has`, `Get`).
#[allow(clippy::len_without_is_empty)]
pub trait Object: Send + Sync {
    /// The Go type as `%T` prints it, e.g. `*chartutil.Capabilities`.
    fn type_name(&self) -> String;
    /// The value of an exported field, or `None` if there is no such field.
    fn field(&self, name: &str) -> Option<Value>;
    /// The signature of the method of that name, if there is one (methods take precedence over
    /// fields, as in Go). The engine checks and converts arguments against it.
    fn method(&self, _name: &str) -> Option<crate::funcs::Sig> {
        None
    }
    /// Calls a method that [`Object::method`] declared, with checked arguments.
    fn call_method(&self, name: &str, _args: Vec<Value>) -> MethodResult {
        Err(FuncError::new(format!("method {name} not implemented")))
    }
    /// How `%v` prints it (Go prints structs as `{a b}` and pointers as `&{a b}`).
    fn format(&self) -> String;
    /// The value `encoding/json` would produce (used by `toJson`/`toYaml`).
    fn to_data(&self) -> Value {
        Value::Map(Map::new())
    }
    /// Go's `reflect.Kind` name (`struct`, `ptr`, `slice`, `map`).
    fn kind(&self) -> &'static str {
        "ptr"
    }
    /// Length for `len` and truthiness; `None` when the type has no length.
    fn len(&self) -> Option<usize> {
        None
    }
    /// Elements when ranged over (for slice-like named types such as `VersionSet`).
    fn items(&self) -> Option<Vec<Value>> {
        None
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::String(Arc::from(s.as_ref()))
    }
    /// A `[]interface{}` value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(List::new(items))
    }
    /// A `[]string` value.
    pub fn string_list<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> Value {
        Value::List(List::typed(
            items.into_iter().map(Value::str).collect(),
            ElemType::String,
        ))
    }
    /// A `map[string]interface{}` value.
    pub fn map<I: IntoIterator<Item = (K, Value)>, K: Into<String>>(entries: I) -> Value {
        Value::Map(Map::from_btree(
            entries.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        ))
    }
    /// An object value.
    pub fn object(o: impl Object + 'static) -> Value {
        Value::Object(Arc::new(o))
    }

    /// Whether this is Go's invalid value or a nil interface.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Invalid | Value::Nil)
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Go's type name as `%T` prints it; `<nil>` for nil.
    pub fn type_name(&self) -> String {
        match self {
            Value::Invalid | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::List(l) => l.type_name().into(),
            Value::Map(m) => m.type_name().into(),
            Value::Object(o) => o.type_name(),
        }
    }

    /// Go's `reflect.Kind` name, as Sprig's `kindOf` reports it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Invalid => "invalid",
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) => "slice",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => o.kind(),
        }
    }

    /// Go's notion of truth used by `if`, `with`, `and`, `or`, `not`.
    pub fn truth(&self) -> bool {
        match self {
            Value::Invalid | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(o) => o.len().is_none_or(|n| n > 0),
        }
    }

    /// A deep copy: maps are copied so that changes to the copy do not show in the original.
    pub fn deep_copy(&self) -> Value {
        self.deep_copy_depth(0)
    }

    fn deep_copy_depth(&self, depth: usize) -> Value {
        // A value that holds one list or map many times copies into a tree exponentially
        // larger than itself: the execution's budget stops the walk (and reports the limit).
        if depth > MAX_VALUE_DEPTH || !crate::budget::visit(0) {
            return Value::Nil;
        }
        match self {
            // A slice is immutable: a list of scalars is shared as it is. A list holding
            // lists or maps is copied one level, each inner list judged on its own (a walk
            // of the whole tree first would be exponential on a list holding one list twice).
            Value::List(l) if !l.items().iter().any(Value::is_collection) => Value::List(l.clone()),
            Value::List(l) => {
                if crate::budget::charge(64 + crate::budget::VALUE_BYTES * l.len() as u64).is_err()
                {
                    return Value::Nil;
                }
                Value::List(List::typed(
                    l.items()
                        .iter()
                        .map(|v| v.deep_copy_depth(depth + 1))
                        .collect(),
                    l.elem,
                ))
            }
            Value::Map(m) => {
                let entries = m.read();
                let held = 64 + crate::budget::MAP_ENTRY_BYTES * entries.len() as u64;
                if crate::budget::charge(held).is_err() {
                    return Value::Nil;
                }
                // The tree cloned as it is (no sorting and rebuilding from the entries), then
                // the nested collections replaced by their copies: a chart's values are copied
                // several times per render (Helm's coalescing), thousands of entries each.
                let mut copy = entries.clone();
                drop(entries);
                for v in copy.values_mut() {
                    if v.is_collection() {
                        *v = v.deep_copy_depth(depth + 1);
                    }
                }
                let mut nm = Map::from_btree(copy);
                nm.string_values = m.string_values;
                Value::Map(nm)
            }
            other => other.clone(),
        }
    }

    /// Whether this is a list or a map (anything a deep copy may have to copy).
    fn is_collection(&self) -> bool {
        matches!(self, Value::List(_) | Value::Map(_))
    }

    /// Converts a YAML value read by `yaml11` the way Helm does (through JSON): every number
    /// becomes a float64.
    pub fn from_yaml(v: &yaml11::Value) -> Value {
        match v {
            yaml11::Value::Null => Value::Nil,
            yaml11::Value::Bool(b) => Value::Bool(*b),
            yaml11::Value::Number(n) => Value::Float(n.as_f64()),
            yaml11::Value::String(s) => Value::str(s),
            yaml11::Value::Sequence(items) => {
                Value::list(items.iter().map(Value::from_yaml).collect())
            }
            yaml11::Value::Mapping(m) => Value::Map(Map::from_btree(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::from_yaml(v)))
                    .collect(),
            )),
        }
    }

    /// Converts a JSON value as Go's `encoding/json` decodes into `interface{}`.
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => Value::list(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(Map::from_btree(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            )),
        }
    }
}

/// Deepest nesting walked by recursive value operations (printing, copying, encoding), so a
/// map that contains itself cannot overflow the stack.
pub const MAX_VALUE_DEPTH: usize = 1000;

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Invalid => write!(f, "Invalid"),
            Value::Nil => write!(f, "Nil"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Int64(i) => write!(f, "Int64({i})"),
            Value::Float(x) => write!(f, "Float({x})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Bytes(b) => write!(f, "Bytes({b:?})"),
            Value::List(_) | Value::Map(_) | Value::Object(_) => {
                write!(f, "{}", crate::gofmt::sprint_value(self))
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Arc::from(s))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::list(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_shared_by_reference() {
        let m = Map::new();
        let v = Value::Map(m.clone());
        m.insert("a", Value::Int(1));
        match v {
            Value::Map(m2) => assert_eq!(m2.len(), 1),
            _ => unreachable!(),
        }
    }

    #[test]
    fn deep_copy_detaches() {
        let v = Value::map([("a", Value::map([("b", Value::Int(1))]))]);
        let c = v.deep_copy();
        if let Value::Map(m) = &v
            && let Some(Value::Map(inner)) = m.get("a")
        {
            inner.insert("c", Value::Int(2));
        }
        if let Value::Map(m) = &c
            && let Some(Value::Map(inner)) = m.get("a")
        {
            assert_eq!(inner.len(), 1);
        }
    }

    #[test]
    fn deep_copy_detaches_maps_in_lists_and_keeps_the_rest() {
        let inner = Map::new();
        inner.insert("x", Value::str("y"));
        let mut labels = Map::new();
        labels.string_values = true;
        labels.insert("app", Value::str("web"));
        let v = Value::map([
            (
                "list",
                Value::list(vec![Value::Map(inner.clone()), Value::Int(3)]),
            ),
            ("labels", Value::Map(labels)),
            ("n", Value::Float(1.5)),
        ]);
        let c = v.deep_copy();
        inner.insert("z", Value::Int(1));
        assert_ne!(
            crate::to_json(&v),
            crate::to_json(&c),
            "the copy kept the old inner map"
        );
        assert_eq!(
            crate::to_json(&c),
            r#"{"labels":{"app":"web"},"list":[{"x":"y"},3],"n":1.5}"#
        );
        let Value::Map(m) = &c else { unreachable!() };
        let Some(Value::Map(l)) = m.get("labels") else {
            unreachable!()
        };
        assert!(l.string_values, "map[string]string stays one");
    }

    #[test]
    fn deeply_nested_values_drop_without_exhausting_the_stack() {
        let run = || {
            let mut l = Value::list(vec![]);
            let mut m = Value::Map(Map::new());
            for _ in 0..1_000_000 {
                l = Value::list(vec![l]);
                m = Value::map([("a", m)]);
            }
            drop((l, m));
        };
        // A small stack: a recursive drop would need hundreds of megabytes.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn type_names() {
        assert_eq!(Value::Float(1.0).type_name(), "float64");
        assert_eq!(Value::list(vec![]).type_name(), "[]interface {}");
        assert_eq!(Value::Nil.type_name(), "<nil>");
    }
}
