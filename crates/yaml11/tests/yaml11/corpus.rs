//! Every document of the corpus reads the same as with serde-saphyr, except where YAML 1.1
//! (go-yaml v2) and serde-saphyr's YAML 1.2 legitimately disagree.

use std::path::{Path, PathBuf};

use serde_json::Value as J;

use crate::saphyr;

/// The corpus (`tests/data/corpus`, or `CHARTIMPACT_CORPUS`); missing data fails the test.
fn corpus() -> PathBuf {
    let dir = match std::env::var_os("CHARTIMPACT_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus"),
    };
    assert!(
        dir.join("cases").is_dir(),
        "the test corpus is missing at {}: it is part of the repository (tests/data/corpus); restore it with git, or point CHARTIMPACT_CORPUS at a copy",
        dir.display()
    );
    dir
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            // Templates are Go templates, not YAML.
            if path.file_name().is_some_and(|n| n != "templates") {
                files_under(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// The YAML 1.1 spellings go-yaml v2 reads as booleans, which serde-saphyr keeps as strings
/// when they are mapping keys (GitHub workflows' `on:` becomes `"true"`, as in kubectl).
fn yaml11_key(k: &str) -> &str {
    match k {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => "true",
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            "false"
        }
        _ => k,
    }
}

/// The first place where `ours` and `theirs` differ, as a JSON-pointer-like path.
fn first_difference(ours: &J, theirs: &J, path: &str) -> Option<String> {
    match (ours, theirs) {
        (J::Object(a), J::Object(b)) => {
            let b: serde_json::Map<String, J> = b
                .iter()
                .map(|(k, v)| (yaml11_key(k).to_owned(), v.clone()))
                .collect();
            if a.len() != b.len() {
                let keys_a: Vec<_> = a.keys().collect();
                let keys_b: Vec<_> = b.keys().collect();
                return Some(format!("{path}: keys {keys_a:?} vs {keys_b:?}"));
            }
            a.iter().find_map(|(k, v)| match b.get(k) {
                Some(w) => first_difference(v, w, &format!("{path}/{k}")),
                None => Some(format!("{path}/{k}: only in ours")),
            })
        }
        (J::Array(a), J::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}/{i}"))),
        _ if ours == theirs => None,
        _ => Some(format!("{path}: ours {ours} vs serde-saphyr {theirs}")),
    }
}

/// Compares every document of every file; returns the number of documents compared.
fn compare(files: &[PathBuf]) -> usize {
    let mut problems = Vec::new();
    let mut compared = 0;
    for file in files {
        let text = std::fs::read_to_string(file).expect("corpus files are UTF-8");
        let name = file.display();
        match (saphyr::ours(&text), saphyr::read(&text)) {
            (Ok(ours), Ok(theirs)) => {
                if ours.len() != theirs.len() {
                    problems.push(format!(
                        "{name}: {} documents vs serde-saphyr's {}",
                        ours.len(),
                        theirs.len()
                    ));
                    continue;
                }
                for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                    compared += 1;
                    if let Some(d) = first_difference(a, b, "") {
                        problems.push(format!("{name} document {}: {d}", i + 1));
                    }
                }
            }
            (Err(e), Ok(_)) => problems.push(format!("{name}: only we fail: {e}")),
            (Ok(_), Err(e)) => problems.push(format!("{name}: only serde-saphyr fails: {e}")),
            (Err(_), Err(_)) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    compared
}

#[test]
fn rendered_streams_read_like_serde_saphyr() {
    let dir = corpus();
    let mut files = Vec::new();
    for case in std::fs::read_dir(dir.join("cases")).unwrap().flatten() {
        for side in ["before.yaml", "after.yaml"] {
            let path = case.path().join("rendered").join(side);
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no rendered streams in the corpus");
    let n = compare(&files);
    eprintln!("{} rendered streams, {n} documents compared", files.len());
    assert!(n > 500, "only {n} documents");
}

#[test]
fn chart_yaml_files_read_like_serde_saphyr() {
    let dir = corpus();
    let mut files = Vec::new();
    for case in std::fs::read_dir(dir.join("cases")).unwrap().flatten() {
        for part in ["before", "after", "values"] {
            files_under(&case.path().join(part), &mut files);
        }
    }
    let values = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "values.yaml"))
        .count();
    assert!(values > 50, "only {values} values.yaml files");
    let n = compare(&files);
    eprintln!(
        "{} files ({values} values.yaml), {n} documents compared",
        files.len()
    );
}

#[test]
fn every_rendered_document_is_a_kubernetes_object() {
    let dir = corpus();
    for case in std::fs::read_dir(dir.join("cases")).unwrap().flatten() {
        let path = case.path().join("rendered/after.yaml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let docs = yaml11::parse_stream(&text, &yaml11::Limits::default()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for d in &docs {
            assert!(
                d.value.get("kind").is_some(),
                "{} #{}",
                path.display(),
                d.index
            );
            // `line` points at the document's first content line.
            let first = lines[d.line - 1];
            assert!(
                !first.starts_with('#') && !first.starts_with("---") && !first.trim().is_empty(),
                "{} #{}: line {} is {first:?}",
                path.display(),
                d.index,
                d.line
            );
        }
    }
}

#[test]
fn shallow_reads_of_rendered_documents_agree_with_full_reads() {
    let dir = corpus();
    let limits = yaml11::Limits::default();
    let mut documents = 0;
    for case in std::fs::read_dir(dir.join("cases")).unwrap().flatten() {
        for side in ["before.yaml", "after.yaml"] {
            let Ok(text) = std::fs::read_to_string(case.path().join("rendered").join(side)) else {
                continue;
            };
            for doc in text.split("\n---\n") {
                documents += 1;
                let full = yaml11::parse_value(doc, &limits);
                for keep in [0, 1, 3] {
                    let shallow = yaml11::parse_value_shallow(doc, &limits, keep);
                    assert_eq!(
                        shallow.map(|v| crate::props::truncate(&v, keep)),
                        full.clone().map(|v| crate::props::truncate(&v, keep)),
                        "{} {side}, keep {keep}:\n{doc}",
                        case.path().display()
                    );
                }
            }
        }
    }
    assert!(documents > 500, "only {documents} documents");
}
