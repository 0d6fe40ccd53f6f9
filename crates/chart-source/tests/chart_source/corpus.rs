//! The corpus: every case turned into a git repository with make-git-repo.sh, resolved
//! and read back at both tags.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use chart_source::{ChartStatus, RevisionKind};

use crate::fixtures::cache;

/// The corpus (`tests/data/corpus`, or `CHARTIMPACT_CORPUS`); missing data fails the test.
fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("CHARTIMPACT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus"));
    assert!(
        dir.join("make-git-repo.sh").is_file(),
        "the test corpus is missing at {}: it is part of the repository (tests/data/corpus); restore it with git, or point CHARTIMPACT_CORPUS at a copy",
        dir.display()
    );
    dir
}

/// Every regular file below `dir`, by relative path, following nothing.
fn files_on_disk(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                let rel = p.strip_prefix(dir).unwrap().to_str().unwrap().to_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn every_corpus_case_reads_back_identically_at_both_tags() {
    let corpus = corpus_dir();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus.join("cases"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("before").is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let tmp = tempfile::tempdir().unwrap();
    let cache = cache(&tmp.path().join("data"));
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        let out = tmp.path().join("repos").join(name);
        let status = Command::new("bash")
            .arg(corpus.join("make-git-repo.sh"))
            .arg(case)
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{name}: make-git-repo.sh failed");
        let repo = cache.repository(out.to_str().unwrap()).unwrap();
        let before = repo.resolve("before").unwrap();
        let after = repo.resolve("after").unwrap();
        assert_eq!(
            (before.kind, after.kind),
            (RevisionKind::Tag, RevisionKind::Tag)
        );
        for (side, resolved) in [("before", &before), ("after", &after)] {
            let chart = repo.read_chart(&resolved.commit, "chart").unwrap();
            let got: BTreeMap<String, Vec<u8>> = chart
                .files()
                .iter()
                .map(|(p, f)| (p.clone(), f.data.clone()))
                .collect();
            // git is the reference: what the tag holds, extracted with git archive.
            let extracted = tmp.path().join("extracted").join(name).join(side);
            std::fs::create_dir_all(&extracted).unwrap();
            let archive = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "git -C '{}' archive --format=tar {side} chart | tar -x -C '{}'",
                    out.display(),
                    extracted.display()
                ))
                .status()
                .unwrap();
            assert!(archive.success(), "{name}: git archive failed");
            let want = files_on_disk(&extracted.join("chart"));
            assert_eq!(got.len(), want.len(), "{name} {side}: file count");
            let differing: Vec<&String> = want
                .keys()
                .filter(|p| got.get(*p) != want.get(*p))
                .collect();
            assert!(
                differing.is_empty(),
                "{name} {side}: contents differ: {differing:?}"
            );
            // The case directory should hold the same; make-git-repo.sh can miss a change when
            // a file keeps its size and mtime (git's stat cache), so this is only reported.
            let on_disk = files_on_disk(&case.join(side));
            let stale: Vec<&String> = on_disk
                .keys()
                .filter(|p| got.get(*p) != on_disk.get(*p))
                .collect();
            if !stale.is_empty() {
                eprintln!(
                    "note: {name} {side}: the repository differs from the case directory in {stale:?}"
                );
            }
        }
        let charts = repo.charts(&after.commit).unwrap();
        assert!(
            charts.iter().any(|c| c.path == "chart" && !c.vendored),
            "{name}: {charts:?}"
        );
        let affected = repo
            .affected_charts(&before.commit, &after.commit, &Default::default())
            .unwrap();
        assert_eq!(affected[0].chart.path, "chart", "{name}");
        assert_eq!(affected[0].status, ChartStatus::Modified, "{name}");
    }
    assert_eq!(cache.stats().mirrors_created, cases.len() as u64);
    eprintln!("corpus: {} cases read back at both tags", cases.len());
}
