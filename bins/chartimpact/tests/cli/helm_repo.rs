//! `compare --helm-repo` and `versions --helm-repo` against the corpus's Helm repository on
//! loopback; a git chart whose `charts/` was not committed, its dependency fetched through
//! `--helm-repo-mirror`.

use std::path::{Path, PathBuf};
use std::process::Output;

use testkit::chart_repos::{Server, static_file};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus")
}

fn repos() -> Server {
    let root = corpus().join("chart-repos");
    Server::start(move |req| static_file(&root, req, ""))
}

fn run(data: &Path, args: &[&str]) -> Output {
    super::bin()
        .args(args)
        .env("CHARTIMPACT_DATA_DIR", data)
        .env_remove("CHARTIMPACT_HELM_REPO_MIRRORS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn compare_and_versions_from_a_helm_repository_and_an_unknown_version_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let server = repos();
    let url = format!("{}/dandydeveloper", server.url);
    let out = run(
        tmp.path(),
        &[
            "compare",
            "--helm-repo",
            &url,
            "--chart",
            "redis-ha",
            "--from",
            "4.29.4",
            "--to",
            "4.33.2",
            "--renderer",
            "native",
            "--output",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["chart"], "redis-ha");
    assert_eq!(doc["structuredDiff"]["stats"]["resources"]["modified"], 11);

    let out = run(
        tmp.path(),
        &[
            "versions",
            "--helm-repo",
            &url,
            "--chart",
            "redis-ha",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["versions"],
        serde_json::json!(["4.33.2", "4.29.4", "4.26.1"])
    );

    let out = run(
        tmp.path(),
        &[
            "compare",
            "--helm-repo",
            &url,
            "--chart",
            "redis-ha",
            "--from",
            "4.29.4",
            "--to",
            "99.1.0",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("99.1.0") && err.contains("4.33.2"), "{err}");

    // --repo and --helm-repo exclude each other.
    let out = run(
        tmp.path(),
        &[
            "compare",
            "--repo",
            ".",
            "--helm-repo",
            &url,
            "--chart",
            "x",
            "--from",
            "1",
            "--to",
            "2",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_bad_mirror_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        tmp.path(),
        &[
            "versions",
            "--helm-repo",
            "https://charts.example.com",
            "--chart",
            "x",
            "--helm-repo-mirror",
            "no-equals-sign",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--helm-repo-mirror") && err.contains("no-equals-sign"),
        "{err}"
    );
}
