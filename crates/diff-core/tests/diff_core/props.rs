//! Properties over random objects: no panics, no phantom changes, symmetry of counts.

use diff_core::{DiffOptionsBuilder, ParseOptions, compare, parse_manifest};
use proptest::prelude::*;
use yaml11::{Mapping, Number, Value};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(|i| Value::Number(Number::Int(i))),
        prop_oneof![Just(0.5f64), Just(1.0), Just(2.0)]
            .prop_map(|f| Value::Number(Number::Float(f))),
        "[a-c]{0,3}".prop_map(Value::String),
        Just(Value::String("500m".into())),
        Just(Value::String("line1\nline2\n".into())),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Sequence),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("name"),
                        Just("image"),
                        Just("cpu"),
                        Just("env"),
                        Just("x")
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Mapping(
                kv.into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<Mapping>()
            )),
        ]
    })
}

fn object(spec: Value) -> Value {
    let mut m = Mapping::new();
    m.insert("apiVersion".into(), "apps/v1".into());
    m.insert("kind".into(), "Deployment".into());
    let mut meta = Mapping::new();
    meta.insert("name".into(), "w".into());
    m.insert("metadata".into(), Value::Mapping(meta));
    m.insert("spec".into(), spec);
    Value::Mapping(m)
}

fn manifest(v: &Value) -> diff_core::Manifest {
    let text = serde_json::to_string(v).unwrap();
    parse_manifest("p", &text, &ParseOptions::default()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn an_object_never_differs_from_itself(spec in value()) {
        let m = manifest(&object(spec));
        let cmp = compare(&m, &m, &DiffOptionsBuilder::new().build().unwrap());
        prop_assert!(cmp.structured_diff.resources.is_empty());
        prop_assert_eq!(cmp.structured_diff.stats.resources.unchanged, 1);
    }

    #[test]
    fn any_two_objects_compare_without_panic_and_consistently(a in value(), b in value()) {
        let (ma, mb) = (manifest(&object(a.clone())), manifest(&object(b.clone())));
        let opts = DiffOptionsBuilder::new().build().unwrap();
        let forward = compare(&ma, &mb, &opts);
        let backward = compare(&mb, &ma, &opts);
        // A change one way is a change the other way.
        prop_assert_eq!(forward.structured_diff.resources.len(), backward.structured_diff.resources.len());
        prop_assert_eq!(forward.structured_diff.stats.changes.total == 0, backward.structured_diff.stats.changes.total == 0);
        for (r, sides) in forward.structured_diff.resources.iter().zip(&forward.sides) {
            for c in &r.changes {
                let doc = if c.op == diff_core::model::Op::Remove { &sides.before } else { &sides.after };
                let target = resolve(doc.as_ref().unwrap(), &c.path.pointer());
                prop_assert!(target.is_some(), "pointer {} of {} does not resolve", c.path.pointer(), c.path);
                if c.op == diff_core::model::Op::Remove {
                    prop_assert_eq!(target, c.before.as_ref());
                } else if !c.has_flag("order-only") {
                    prop_assert_eq!(target, c.after.as_ref());
                }
            }
        }
        // Reports never panic either.
        let _ = diff_core::report::markdown(&forward, &Default::default());
        let _ = diff_core::report::unified(&forward, 2);
    }
}

/// Follows an RFC 6901 pointer.
fn resolve<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(v);
    }
    let mut cur = v;
    for raw in pointer.strip_prefix('/')?.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        cur = match cur {
            Value::Mapping(m) => m.get(&token)?,
            Value::Sequence(s) => s.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}
