//! Every case of the corpus: counts, determinism, image changes at container paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use diff_core::{ChangeType, DiffOptionsBuilder, ParseOptions, Value, compare, parse_manifest};

/// The corpus (`tests/data/corpus`, or `CHARTIMPACT_CORPUS`); missing data fails the test.
fn corpus() -> PathBuf {
    let dir = std::env::var_os("CHARTIMPACT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::workspace().join("tests/data/corpus"));
    assert!(
        dir.join("cases").is_dir(),
        "the test corpus is missing at {}: it is part of the repository (tests/data/corpus); restore it with git, or point CHARTIMPACT_CORPUS at a copy",
        dir.display()
    );
    dir
}

type Key = (String, String, String, String);

/// An independent resource index: plain YAML documents by (group, kind, namespace, name),
/// last one wins, List items expanded — written without diff-core's matching code.
fn index(text: &str) -> BTreeMap<Key, Value> {
    let mut out = BTreeMap::new();
    for doc in yaml11::parse_stream(text, &Default::default()).unwrap() {
        let items = match doc.value.get("items") {
            Some(Value::Sequence(items))
                if doc
                    .value
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List")) =>
            {
                items.clone()
            }
            _ => vec![doc.value],
        };
        for v in items {
            let s = |keys: &[&str]| {
                v.pointer(keys)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let api = s(&["apiVersion"]);
            let group = api
                .rsplit_once('/')
                .map(|(g, _)| g.to_owned())
                .unwrap_or_default();
            let kind = s(&["kind"]);
            let ns = if diff_core::is_cluster_scoped(&kind) {
                String::new()
            } else {
                Some(s(&["metadata", "namespace"]))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "default".into())
            };
            out.insert((group, kind, ns, s(&["metadata", "name"])), v);
        }
    }
    out
}

/// Containers whose image differs: (kind, name, container).
fn image_changes(
    b: &BTreeMap<Key, Value>,
    a: &BTreeMap<Key, Value>,
) -> BTreeSet<(String, String, String)> {
    let images = |v: &Value| {
        let mut out = BTreeMap::new();
        for prefix in [
            &["spec", "template", "spec"][..],
            &["spec", "jobTemplate", "spec", "template", "spec"][..],
        ] {
            for list in ["containers", "initContainers"] {
                let mut keys = prefix.to_vec();
                keys.push(list);
                for c in v.pointer(&keys).and_then(Value::as_sequence).unwrap_or(&[]) {
                    if let (Some(n), Some(i)) =
                        (c.get("name").and_then(Value::as_str), c.get("image"))
                    {
                        out.insert(n.to_owned(), i.clone());
                    }
                }
            }
        }
        out
    };
    let mut out = BTreeSet::new();
    for (k, before) in b {
        if let Some(after) = a.get(k) {
            let (ib, ia) = (images(before), images(after));
            for (name, img) in &ib {
                if ia.get(name).is_some_and(|x| x != img) {
                    out.insert((k.1.clone(), k.3.clone(), name.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn every_corpus_case_diffs_correctly_and_deterministically() {
    let dir = corpus();
    let mut cases: Vec<_> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let opts = DiffOptionsBuilder::new().build().unwrap();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let bt = std::fs::read_to_string(case.join("rendered/before.yaml")).unwrap();
        let at = std::fs::read_to_string(case.join("rendered/after.yaml")).unwrap();
        let before = parse_manifest("before.yaml", &bt, &ParseOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let after = parse_manifest("after.yaml", &at, &ParseOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let cmp = compare(&before, &after, &opts);

        // Determinism: diff-core reads no clock, so two runs print the very same JSON.
        let again = compare(&before, &after, &opts);
        let doc = |c| diff_core::report::ComparisonDocument::new(c, None).to_json();
        assert_eq!(doc(&cmp), doc(&again), "{name}: two runs differ");

        // Counts against the independent index.
        let (ib, ia) = (index(&bt), index(&at));
        let added = ia.keys().filter(|k| !ib.contains_key(*k)).count();
        let removed = ib.keys().filter(|k| !ia.contains_key(*k)).count();
        let modified = ib
            .iter()
            .filter(|(k, v)| {
                ia.get(*k)
                    .is_some_and(|w| diff_core::canonical_json(v) != diff_core::canonical_json(w))
            })
            .count();
        let st = cmp.structured_diff.stats.resources;
        assert_eq!(
            (st.added, st.removed, st.modified),
            (added, removed, modified),
            "{name}: resource counts"
        );
        let listed = |t| {
            cmp.structured_diff
                .resources
                .iter()
                .filter(|r| r.change_type == t)
                .count()
        };
        assert_eq!(listed(ChangeType::Modified), modified, "{name}");

        // Every container image change is a change at containers[name=…].image with a signal.
        for (kind, res, container) in image_changes(&ib, &ia) {
            let r = cmp
                .structured_diff
                .resources
                .iter()
                .find(|r| r.identity.kind == kind && r.identity.name == res)
                .unwrap_or_else(|| panic!("{name}: {kind}/{res} not reported"));
            let suffix = format!("[name={container}].image");
            let change = r
                .changes
                .iter()
                .find(|c| c.path.to_string().ends_with(&suffix));
            assert!(
                change.is_some(),
                "{name}: {kind}/{res} image of {container} not at {suffix}"
            );
            let path = change.unwrap().path.to_string();
            assert!(
                cmp.impact
                    .signals
                    .iter()
                    .any(|s| s.resource == format!("{kind}/{res}")
                        && s.field.as_deref() == Some(path.as_str())),
                "{name}: no signal for {kind}/{res} {path}"
            );
        }
    }
}
