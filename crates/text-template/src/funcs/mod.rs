//! Template functions: Go's builtins, Sprig's function map and Helm's own functions.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::exec::CallCtx;
use crate::value::Value;

pub(crate) mod builtin;
pub(crate) mod certs;
pub(crate) mod conv;
pub(crate) mod crypto;
pub(crate) mod date;
pub(crate) mod der;
pub(crate) mod dicts;
pub(crate) mod encoding;
pub(crate) mod helm;
pub(crate) mod lists;
pub(crate) mod numeric;
pub(crate) mod regexp;
pub(crate) mod rsa_fast;
pub(crate) mod semver;
pub(crate) mod strings;
pub(crate) mod xstrings;

/// An error returned by a template function; the engine reports it as
/// `error calling NAME: MESSAGE`, as Go does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncError {
    message: String,
}

impl FuncError {
    /// An error with that message.
    pub fn new(message: impl Into<String>) -> Self {
        FuncError {
            message: message.into(),
        }
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FuncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FuncError {}

/// What a function returns.
pub type FuncResult = Result<Value, FuncError>;

/// The Go parameter types the engine converts and checks arguments against before a call,
/// producing Go's messages (`wrong type for value; expected string; got float64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `interface{}`: anything; no value becomes nil.
    Any,
    /// `reflect.Value`: passed as is, keeping "no value" apart from nil (Go's builtins).
    Reflect,
    /// `string`.
    String,
    /// `int`.
    Int,
    /// `int64`.
    Int64,
    /// `float64`.
    Float64,
    /// `bool`.
    Bool,
    /// `[]interface{}`.
    List,
    /// `[]string`.
    StringList,
    /// `map[string]interface{}`.
    Map,
}

impl Ty {
    /// The Go spelling of the type.
    pub fn go_name(self) -> &'static str {
        match self {
            Ty::Any => "interface {}",
            Ty::Reflect => "reflect.Value",
            Ty::String => "string",
            Ty::Int => "int",
            Ty::Int64 => "int64",
            Ty::Float64 => "float64",
            Ty::Bool => "bool",
            Ty::List => "[]interface {}",
            Ty::StringList => "[]string",
            Ty::Map => "map[string]interface {}",
        }
    }
    pub(crate) fn can_be_nil(self) -> bool {
        matches!(
            self,
            Ty::Any | Ty::Reflect | Ty::List | Ty::StringList | Ty::Map
        )
    }
}

/// A function's Go signature: fixed parameters, then an optional variadic element type.
#[derive(Clone, Debug)]
pub struct Sig {
    /// Fixed parameters.
    pub params: Vec<Ty>,
    /// Element type of a trailing `...T` parameter.
    pub variadic: Option<Ty>,
}

impl Sig {
    /// A signature with fixed parameters only.
    pub fn fixed(params: &[Ty]) -> Sig {
        Sig {
            params: params.to_vec(),
            variadic: None,
        }
    }
    /// A signature with fixed parameters and a variadic tail.
    pub fn variadic(params: &[Ty], tail: Ty) -> Sig {
        Sig {
            params: params.to_vec(),
            variadic: Some(tail),
        }
    }
}

type FnImpl = dyn Fn(&mut CallCtx<'_>, Vec<Value>) -> FuncResult + Send + Sync;

/// A template function: its Go signature and its body.
#[derive(Clone)]
pub struct Function {
    pub(crate) sig: Sig,
    pub(crate) body: Arc<FnImpl>,
    pub(crate) builtin: bool,
}

impl Function {
    /// A function with the given signature; the body receives arguments already checked and
    /// converted to the signature's types.
    pub fn new(
        sig: Sig,
        body: impl Fn(&mut CallCtx<'_>, Vec<Value>) -> FuncResult + Send + Sync + 'static,
    ) -> Self {
        Function {
            sig,
            body: Arc::new(body),
            builtin: false,
        }
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function({:?})", self.sig)
    }
}

/// FNV-1a for function names. Every identifier of every template is looked up while parsing
/// and every call while executing; SipHash, the default, was most of that cost. The keys are
/// the fixed names the engine registers, so a weak hash cannot be driven into collisions by a
/// chart's templates (they only look names up).
#[derive(Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl Default for NameHasher {
    fn default() -> Self {
        NameHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Functions by name.
#[derive(Clone, Default, Debug)]
pub struct FuncMap {
    map: HashMap<String, Function, std::hash::BuildHasherDefault<NameHasher>>,
}

impl FuncMap {
    /// An empty map (Go's builtins are always present in a template set on top of it).
    pub fn new() -> Self {
        FuncMap::default()
    }
    /// Go's builtins, Sprig's `TxtFuncMap` without `env`/`expandenv`, and Helm's functions, as
    /// Helm 3.17 configures its engine.
    pub fn helm() -> Self {
        // Sized for Helm's 221 functions up front: growing to them reallocates the table six times.
        let mut m = FuncMap {
            map: HashMap::with_capacity_and_hasher(256, Default::default()),
        };
        strings::register(&mut m);
        lists::register(&mut m);
        dicts::register(&mut m);
        numeric::register(&mut m);
        conv::register(&mut m);
        encoding::register(&mut m);
        regexp::register(&mut m);
        semver::register(&mut m);
        date::register(&mut m);
        crypto::register(&mut m);
        helm::register(&mut m);
        m
    }
    /// Adds or replaces a function.
    pub fn insert(&mut self, name: impl Into<String>, f: Function) {
        self.map.insert(name.into(), f);
    }
    /// Removes a function.
    pub fn remove(&mut self, name: &str) {
        self.map.remove(name);
    }
    /// The function of that name.
    pub fn get(&self, name: &str) -> Option<&Function> {
        self.map.get(name)
    }
    /// Whether a function of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }
    /// All names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.map.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    pub(crate) fn add(
        &mut self,
        name: &str,
        sig: Sig,
        body: impl Fn(&mut CallCtx<'_>, Vec<Value>) -> FuncResult + Send + Sync + 'static,
    ) {
        self.map.insert(name.to_string(), Function::new(sig, body));
    }
}

/// Shorthand used by the function modules.
pub(crate) fn err<T>(msg: impl Into<String>) -> Result<T, FuncError> {
    Err(FuncError::new(msg))
}

/// The string inside a value already checked as `string`.
pub(crate) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The integer inside a value already checked as `int`/`int64`.
pub(crate) fn i(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

/// The float inside a value already checked as `float64`.
pub(crate) fn f(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        _ => 0.0,
    }
}
