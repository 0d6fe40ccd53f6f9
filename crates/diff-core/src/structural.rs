//! Field-by-field comparison of two objects.
//!
//! Mappings are walked key by key (sorted, so output is deterministic). Lists are matched the
//! way Kubernetes merges them ([`crate::lists`]): by merge key, then by a unique `name`/`key`/`id`,
//! else by value with a longest-common-subsequence alignment. A list is never compared as an
//! opaque whole.

use yaml11::{Number, Value};

use crate::lists::{self, Matching};
use crate::model::Op;
use crate::path::Path;
use crate::quantity;

/// A change before classification.
#[derive(Debug, Clone, PartialEq)]
pub struct RawChange {
    /// add, remove or replace.
    pub op: Op,
    /// Where.
    pub path: Path,
    /// Old value.
    pub before: Option<Value>,
    /// New value.
    pub after: Option<Value>,
    /// Facts found while diffing: `same-value`, `order-only`.
    pub flags: Vec<&'static str>,
    /// Unified line diff for multi-line strings.
    pub line_diff: Option<String>,
}

/// Knobs of the walk.
#[derive(Debug, Clone, Copy)]
pub struct WalkOptions {
    /// Context lines in inner line diffs.
    pub context_lines: usize,
}

/// All changes from `before` to `after`, in walk order.
pub fn diff(before: &Value, after: &Value, opts: WalkOptions) -> Vec<RawChange> {
    let mut out = Vec::new();
    walk(&Path::root(), before, after, opts, &mut out);
    out
}

/// Identical in type and value: `1` and `1.0` are *not* identical (they are equal by value).
pub fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(Number::Int(x)), Value::Number(Number::Int(y))) => x == y,
        (Value::Number(Number::Float(x)), Value::Number(Number::Float(y))) => {
            x.to_bits() == y.to_bits() || x == y
        }
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Sequence(x), Value::Sequence(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| identical(a, b))
        }
        (Value::Mapping(x), Value::Mapping(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| identical(v, w)))
        }
        _ => false,
    }
}

fn walk(path: &Path, before: &Value, after: &Value, opts: WalkOptions, out: &mut Vec<RawChange>) {
    match (before, after) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            let a = a.sorted();
            let b = b.sorted();
            let (mut i, mut j) = (0, 0);
            while i < a.len() || j < b.len() {
                let order = match (a.get(i), b.get(j)) {
                    (Some(x), Some(y)) => x.0.cmp(y.0),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    _ => std::cmp::Ordering::Greater,
                };
                match order {
                    std::cmp::Ordering::Less => {
                        out.push(removed(path.key(a[i].0), a[i].1));
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        out.push(added(path.key(b[j].0), b[j].1));
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        walk(&path.key(a[i].0), a[i].1, b[j].1, opts, out);
                        i += 1;
                        j += 1;
                    }
                }
            }
        }
        (Value::Sequence(a), Value::Sequence(b)) => walk_list(path, a, b, opts, out),
        (a, b) if identical(a, b) => {}
        (a, b) => out.push(replaced(path.clone(), a, b, opts)),
    }
}

fn walk_list(path: &Path, a: &[Value], b: &[Value], opts: WalkOptions, out: &mut Vec<RawChange>) {
    if a.len() == b.len() && a.iter().zip(b).all(|(x, y)| identical(x, y)) {
        return;
    }
    match lists::match_items(path, a, b) {
        Matching::Keyed(keyed) => {
            for m in &keyed.pairs {
                let p = path.select(m.fields.clone(), m.pointer_index());
                match (m.before, m.after) {
                    (Some(i), Some(j)) => walk(&p, &a[i], &b[j], opts, out),
                    (Some(i), None) => out.push(removed(p, &a[i])),
                    (None, Some(j)) => out.push(added(p, &b[j])),
                    (None, None) => {}
                }
            }
            if keyed.reordered {
                let order = |side: &[Option<usize>]| {
                    Value::Sequence(
                        keyed
                            .pairs
                            .iter()
                            .zip(side)
                            .filter_map(|(m, pos)| pos.map(|p| (p, m.selector())))
                            .collect::<std::collections::BTreeMap<_, _>>()
                            .into_values()
                            .map(Value::String)
                            .collect(),
                    )
                };
                let before_pos: Vec<_> = keyed.pairs.iter().map(|m| m.before).collect();
                let after_pos: Vec<_> = keyed.pairs.iter().map(|m| m.after).collect();
                out.push(RawChange {
                    op: Op::Replace,
                    path: path.clone(),
                    before: Some(order(&before_pos)),
                    after: Some(order(&after_pos)),
                    flags: vec!["order-only"],
                    line_diff: None,
                });
            }
        }
        Matching::Positional(ops) => {
            for op in ops {
                match op {
                    lists::Aligned::Pair(i, j) => walk(&path.index(j), &a[i], &b[j], opts, out),
                    lists::Aligned::Removed(i) => out.push(removed(path.index(i), &a[i])),
                    lists::Aligned::Added(j) => out.push(added(path.index(j), &b[j])),
                }
            }
        }
    }
}

fn added(path: Path, v: &Value) -> RawChange {
    RawChange {
        op: Op::Add,
        path,
        before: None,
        after: Some(v.clone()),
        flags: Vec::new(),
        line_diff: None,
    }
}

fn removed(path: Path, v: &Value) -> RawChange {
    RawChange {
        op: Op::Remove,
        path,
        before: Some(v.clone()),
        after: None,
        flags: Vec::new(),
        line_diff: None,
    }
}

fn replaced(path: Path, a: &Value, b: &Value, opts: WalkOptions) -> RawChange {
    let mut flags = Vec::new();
    let same = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y,
        _ => is_quantity_field(&path) && quantity::equal_by_value(a, b),
    };
    if same {
        flags.push("same-value");
    }
    let line_diff = match (a, b) {
        (Value::String(x), Value::String(y)) if x.contains('\n') || y.contains('\n') => {
            Some(line_diff(x, y, opts.context_lines))
        }
        _ => None,
    };
    RawChange {
        op: Op::Replace,
        path,
        before: Some(a.clone()),
        after: Some(b.clone()),
        flags,
        line_diff,
    }
}

/// Fields whose values are Kubernetes quantities.
fn is_quantity_field(path: &Path) -> bool {
    let segs = path.segments();
    let key_at = |from_end: usize| match segs.len().checked_sub(from_end + 1).map(|i| &segs[i]) {
        Some(crate::path::Segment::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    matches!(
        key_at(1),
        Some("limits" | "requests" | "hard" | "capacity" | "allocatable" | "overhead")
    ) || matches!(key_at(0), Some("sizeLimit" | "storage"))
}

/// A unified diff of two texts, line by line, without file headers.
pub fn line_diff(a: &str, b: &str, context: usize) -> String {
    let diff = similar::TextDiff::from_lines(a, b);
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(context).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(y: &str) -> Value {
        yaml11::parse_value(y, &Default::default()).unwrap()
    }

    fn changes(a: &str, b: &str) -> Vec<(String, Op, Vec<&'static str>)> {
        diff(&v(a), &v(b), WalkOptions { context_lines: 3 })
            .into_iter()
            .map(|c| (c.path.to_string(), c.op, c.flags))
            .collect()
    }

    #[test]
    fn maps_report_add_remove_replace_in_key_order() {
        let got = changes("a: 1\nb: 2\nc: 3\n", "b: 2\nc: 4\nd: 5\n");
        assert_eq!(
            got,
            vec![
                ("a".into(), Op::Remove, vec![]),
                ("c".into(), Op::Replace, vec![]),
                ("d".into(), Op::Add, vec![]),
            ]
        );
    }

    #[test]
    fn container_image_change_is_found_inside_the_list() {
        let a = "containers:\n- name: app\n  image: app:1\n- name: side\n  image: s:1\n";
        let b = "containers:\n- name: side\n  image: s:1\n- name: app\n  image: app:2\n";
        let got = changes(a, b);
        assert_eq!(got[0].0, "containers[name=app].image");
        assert_eq!(got[0].1, Op::Replace);
        assert_eq!(got[1].2, vec!["order-only"]);
    }

    #[test]
    fn numbers_equal_by_value_are_flagged() {
        let got = changes("replicas: 1\n", "replicas: 1.0\n");
        assert_eq!(
            got,
            vec![("replicas".into(), Op::Replace, vec!["same-value"])]
        );
    }

    #[test]
    fn quantities_equal_by_value_are_flagged_only_in_quantity_fields() {
        let got = changes(
            "resources:\n  limits:\n    cpu: 500m\n    memory: 1Gi\n",
            "resources:\n  limits:\n    cpu: 0.5\n    memory: 1024Mi\n",
        );
        assert!(got.iter().all(|c| c.2 == vec!["same-value"]), "{got:?}");
        let got = changes("label: 1Gi\n", "label: 1024Mi\n");
        assert_eq!(got[0].2, Vec::<&str>::new());
    }

    #[test]
    fn value_lists_align_by_lcs() {
        let got = changes("args: [a, b, c]\n", "args: [a, x, b, c]\n");
        assert_eq!(got, vec![("args[1]".into(), Op::Add, vec![])]);
        let got = changes("args: [a, b, c]\n", "args: [a, c]\n");
        assert_eq!(got, vec![("args[1]".into(), Op::Remove, vec![])]);
        let got = changes("args: [a, b, c]\n", "args: [a, B, c]\n");
        assert_eq!(got, vec![("args[1]".into(), Op::Replace, vec![])]);
    }

    #[test]
    fn multi_line_strings_get_a_line_diff() {
        let a = v("data: |\n  one\n  two\n  three\n");
        let b = v("data: |\n  one\n  TWO\n  three\n");
        let c = diff(&a, &b, WalkOptions { context_lines: 1 });
        let d = c[0].line_diff.as_deref().unwrap();
        assert!(d.contains("-two\n+TWO\n"), "{d}");
        assert!(d.starts_with("@@ -1,3 +1,3 @@"), "{d}");
    }

    #[test]
    fn type_change_is_one_replace() {
        let got = changes("a: [1]\n", "a: {b: 1}\n");
        assert_eq!(got, vec![("a".into(), Op::Replace, vec![])]);
    }

    #[test]
    fn identical_distinguishes_int_and_float() {
        assert!(!identical(&v("1"), &v("1.0")));
        assert!(identical(&v("{a: [1, x]}"), &v("{a: [1, x]}")));
    }
}
