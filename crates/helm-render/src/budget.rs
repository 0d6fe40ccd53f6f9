//! The memory budget of one render ([`crate::Options::max_memory_bytes`]), shared by every
//! stage whose allocations the input sizes: subchart archives decompressed, values files and
//! `values.yaml` read (YAML aliases expanded), user values, coalesced values, schema
//! validation's copy of them, and then every template execution ([`text_template::Limits`]).
//!
//! Bytes are counted as allocated and never given back, like the template engine counts them:
//! the total bounds what the input can make a render hold, and the same input always stops at
//! the same point.

use text_template::Value;

use crate::error::LoadError;

/// The default of [`crate::Options::max_memory_bytes`]: 256 MiB.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = text_template::DEFAULT_MAX_MEMORY_BYTES;

/// Deepest nesting of subcharts (`charts/a/charts/b/…`, or archives in archives). Loading,
/// coalescing and rendering recurse once per level; real charts nest three or four deep.
pub const MAX_SUBCHART_DEPTH: usize = 32;

/// What one value costs besides its text: the value, a map entry or list slot, allocator and
/// growth overhead (the YAML reader counts 80 bytes a node the same way).
const VALUE_BYTES: u64 = 80;

/// Bytes used of the render's memory budget.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    max: u64,
    used: u64,
}

impl Budget {
    pub(crate) fn new(max: u64) -> Self {
        Budget { max, used: 0 }
    }

    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    pub(crate) fn used(&self) -> u64 {
        self.used
    }

    pub(crate) fn remaining(&self) -> u64 {
        self.max.saturating_sub(self.used)
    }

    /// What a YAML reader may build from here: the rest of the budget, within what `usize`
    /// holds.
    pub(crate) fn yaml_limits(&self) -> yaml11::Limits {
        yaml11::Limits {
            max_value_bytes: usize::try_from(self.remaining()).unwrap_or(usize::MAX),
            ..yaml11::Limits::default()
        }
    }

    /// Counts `bytes` spent on `file`; fails once the total is over the budget.
    pub(crate) fn charge(&mut self, bytes: u64, file: &str) -> Result<(), LoadError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.max {
            return Err(self.exceeded(file));
        }
        Ok(())
    }

    /// The error for running out of budget on `file`.
    pub(crate) fn exceeded(&self, file: &str) -> LoadError {
        LoadError::RenderLimit {
            limit: "max_memory_bytes",
            value: self.max,
            file: file.to_owned(),
            message: format!("the render's memory budget ({} bytes) is spent", self.max),
        }
    }
}

/// An estimate of what a values tree holds: its text plus [`VALUE_BYTES`] a value.
pub(crate) fn value_bytes(v: &Value) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![v.clone()];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(VALUE_BYTES);
        match v {
            Value::String(s) => total = total.saturating_add(s.len() as u64),
            Value::List(l) => stack.extend(l.items().iter().cloned()),
            Value::Map(m) => {
                for (k, x) in m.read().iter() {
                    total = total.saturating_add(k.len() as u64);
                    stack.push(x.clone());
                }
            }
            _ => {}
        }
    }
    total
}

/// An estimate of what a YAML document holds, counted as [`value_bytes`] counts.
pub(crate) fn yaml_bytes(v: &yaml11::Value) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(VALUE_BYTES);
        match v {
            yaml11::Value::String(s) => total = total.saturating_add(s.len() as u64),
            yaml11::Value::Sequence(items) => stack.extend(items.iter()),
            yaml11::Value::Mapping(m) => {
                for (k, x) in m.iter() {
                    total = total.saturating_add(k.len() as u64);
                    stack.push(x);
                }
            }
            _ => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_until_the_budget_is_spent() {
        let mut b = Budget::new(100);
        assert!(b.charge(60, "a").is_ok());
        assert_eq!(b.remaining(), 40);
        let e = b.charge(60, "values.yaml").unwrap_err();
        assert!(
            matches!(&e, LoadError::RenderLimit { limit: "max_memory_bytes", value: 100, file, .. } if file == "values.yaml"),
            "{e}"
        );
    }

    #[test]
    fn estimates_count_text_and_values() {
        let v = Value::map([("ab", Value::list(vec![Value::str("xyz")]))]);
        assert_eq!(value_bytes(&v), 3 * VALUE_BYTES + 2 + 3);
        let y = yaml11::parse_value("ab: [xyz]\n", &yaml11::Limits::default()).unwrap();
        assert_eq!(yaml_bytes(&y), value_bytes(&v));
    }
}
