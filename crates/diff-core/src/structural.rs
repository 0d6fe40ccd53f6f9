//! Field-by-field comparison of two objects.
//!
//! Mappings are walked key by key (sorted, so output is deterministic). Lists are matched the
//! way Kubernetes merges them ([`crate::lists`]): by merge key, then by a unique `name`/`key`/`id`,
//! else by value with a longest-common-subsequence alignment. A list is never compared as an
//! opaque whole.

use yaml11::{Number, Value};

use crate::lists::{self, Matching};
use crate::model::Op;
use crate::path::{Path, Segment};
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
    let mut trail = Trail(Vec::with_capacity(16));
    walk(&mut trail, before, after, opts, &mut out);
    out
}

/// The path being walked, borrowed from the documents; a [`Path`] is only built for changes.
struct Trail<'a>(Vec<Step<'a>>);

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    /// A list item by position on each side.
    Index {
        before: usize,
        after: usize,
    },
    Select(&'a lists::KeyedItem),
}

/// Which document a change's pointer and positions refer to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The old document: for removals, whose target exists only there.
    Before,
    /// The new document: for additions and replacements.
    After,
}

impl<'a> Trail<'a> {
    fn to_path(&self, side: Side) -> Path {
        let mut p = Path::root();
        for s in &self.0 {
            match *s {
                Step::Key(k) => p.push(Segment::Key(k.to_owned())),
                Step::Index { before, after } => p.push(Segment::Index(match side {
                    Side::Before => before,
                    Side::After => after,
                })),
                Step::Select(m) => p.push(Segment::Select {
                    fields: m.fields.clone(),
                    index: match side {
                        Side::Before => m.before.or(m.after).unwrap_or(0),
                        Side::After => m.after.or(m.before).unwrap_or(0),
                    },
                }),
            }
        }
        p
    }

    fn key_at(&self, from_end: usize) -> Option<&'a str> {
        match self.0.len().checked_sub(from_end + 1).map(|i| self.0[i]) {
            Some(Step::Key(k)) => Some(k),
            _ => None,
        }
    }

    fn with<R>(&mut self, step: Step<'a>, f: impl FnOnce(&mut Self) -> R) -> R {
        self.0.push(step);
        let r = f(self);
        self.0.pop();
        r
    }
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
            if x.len() != y.len() {
                return false;
            }
            // Same key order is the common case: compare in step, look up only on a mismatch.
            x.iter().zip(y.iter()).all(|((k, v), (l, w))| {
                if k == l {
                    identical(v, w)
                } else {
                    y.get(k).is_some_and(|w| identical(v, w))
                }
            })
        }
        _ => false,
    }
}

fn walk<'a>(
    trail: &mut Trail<'a>,
    before: &'a Value,
    after: &'a Value,
    opts: WalkOptions,
    out: &mut Vec<RawChange>,
) {
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
                        trail.with(Step::Key(a[i].0), |t| {
                            out.push(removed(t.to_path(Side::Before), a[i].1))
                        });
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        trail.with(Step::Key(b[j].0), |t| {
                            out.push(added(t.to_path(Side::After), b[j].1))
                        });
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        let (x, y) = (a[i].1, b[j].1);
                        if !identical(x, y) {
                            trail.with(Step::Key(a[i].0), |t| walk(t, x, y, opts, out));
                        }
                        i += 1;
                        j += 1;
                    }
                }
            }
        }
        (Value::Sequence(a), Value::Sequence(b)) => walk_list(trail, a, b, opts, out),
        (a, b) if identical(a, b) => {}
        (a, b) => out.push(replaced(trail, a, b, opts)),
    }
}

fn walk_list<'a>(
    trail: &mut Trail<'a>,
    a: &'a [Value],
    b: &'a [Value],
    opts: WalkOptions,
    out: &mut Vec<RawChange>,
) {
    if a.len() == b.len() && a.iter().zip(b).all(|(x, y)| identical(x, y)) {
        return;
    }
    let field = trail.key_at(0).unwrap_or("");
    match lists::match_items(field, a, b) {
        Matching::Keyed(keyed) => {
            // The keyed items live as long as this call; the trail borrows them only inside it.
            let keyed = &keyed;
            for m in &keyed.pairs {
                let mut sub = Trail(trail.0.clone());
                sub.0.push(Step::Select(m));
                match (m.before, m.after) {
                    (Some(i), Some(j)) => walk(&mut sub, &a[i], &b[j], opts, out),
                    (Some(i), None) => out.push(removed(sub.to_path(Side::Before), &a[i])),
                    (None, Some(j)) => out.push(added(sub.to_path(Side::After), &b[j])),
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
                    path: trail.to_path(Side::After),
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
                    lists::Aligned::Pair(i, j) => {
                        if !identical(&a[i], &b[j]) {
                            trail.with(
                                Step::Index {
                                    before: i,
                                    after: j,
                                },
                                |t| walk(t, &a[i], &b[j], opts, out),
                            );
                        }
                    }
                    lists::Aligned::Removed(i) => trail.with(
                        Step::Index {
                            before: i,
                            after: i,
                        },
                        |t| out.push(removed(t.to_path(Side::Before), &a[i])),
                    ),
                    lists::Aligned::Added(j) => trail.with(
                        Step::Index {
                            before: j,
                            after: j,
                        },
                        |t| out.push(added(t.to_path(Side::After), &b[j])),
                    ),
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

fn replaced(trail: &Trail<'_>, a: &Value, b: &Value, opts: WalkOptions) -> RawChange {
    let mut flags = Vec::new();
    let same = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y,
        _ => is_quantity_field(trail) && quantity::equal_by_value(a, b),
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
        path: trail.to_path(Side::After),
        before: Some(a.clone()),
        after: Some(b.clone()),
        flags,
        line_diff,
    }
}

/// Fields whose values are Kubernetes quantities.
fn is_quantity_field(trail: &Trail<'_>) -> bool {
    let key_at = |n| trail.key_at(n);
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
