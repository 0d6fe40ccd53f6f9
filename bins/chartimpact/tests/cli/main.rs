//! The `chartimpact` binary as a user runs it: arguments, streams, exit codes.

mod compare;
mod deploy;
mod helm_repo;
mod post;
mod private;
mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chartimpact"))
}

fn fixture(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn run(args: &[&str]) -> Output {
    bin().args(args).env("NO_COLOR", "1").output().unwrap()
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn tmp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("chartimpact-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn diff_prints_text_and_exits_zero() {
    let out = run(&[
        "diff",
        &fixture("manifests/before.yaml"),
        &fixture("manifests/after.yaml"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("ChartImpact: "), "{text}");
    assert!(text.contains("spec.template.spec.containers[name=web].image"));
    assert!(!text.contains('\x1b'), "NO_COLOR and a pipe mean no colour");
}

#[test]
fn detailed_exitcode_is_two_when_something_changed_and_zero_when_not() {
    let (b, a) = (
        fixture("manifests/before.yaml"),
        fixture("manifests/after.yaml"),
    );
    assert_eq!(
        run(&["diff", &b, &a, "--detailed-exitcode"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(&["diff", &b, &b, "--detailed-exitcode"]).status.code(),
        Some(0)
    );
}

#[test]
fn fail_on_exits_three_when_a_signal_reaches_the_level() {
    let (b, a) = (
        fixture("manifests/before.yaml"),
        fixture("manifests/after.yaml"),
    );
    assert_eq!(
        run(&["diff", &b, &a, "--fail-on", "low"]).status.code(),
        Some(3)
    );
    assert_eq!(
        run(&["diff", &b, &b, "--fail-on", "low"]).status.code(),
        Some(0)
    );
}

#[test]
fn json_output_has_chartimpact_field_names() {
    let out = run(&[
        "diff",
        &fixture("manifests/before.yaml"),
        &fixture("manifests/after.yaml"),
        "-o",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["success"], true);
    assert_eq!(doc["structuredDiffAvailable"], true);
    assert!(doc["compareId"].as_str().unwrap().len() == 64);
    let sd = &doc["structuredDiff"];
    assert!(sd["metadata"]["engineVersion"].is_string());
    assert!(sd["stats"]["resources"]["modified"].as_u64().unwrap() > 0);
    let change = &sd["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["identity"]["kind"] == "Deployment")
        .unwrap()["changes"][0];
    for field in [
        "op",
        "path",
        "pathTokens",
        "pointer",
        "valueType",
        "changeCategory",
        "importance",
    ] {
        assert!(!change[field].is_null(), "change lacks {field}: {change}");
    }
    assert!(doc["impact"]["verdict"].is_string());
}

#[test]
fn stdin_is_read_for_dash() {
    let before = std::fs::read_to_string(fixture("manifests/before.yaml")).unwrap();
    let out = run_stdin(
        &["diff", "-", &fixture("manifests/after.yaml"), "-o", "json"],
        &before,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["structuredDiff"]["metadata"]["inputs"]["left"]["source"],
        "stdin"
    );
}

#[test]
fn both_sides_from_stdin_is_refused() {
    let out = run_stdin(&["diff", "-", "-"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only one side can come from stdin"));
}

#[test]
fn invalid_document_is_an_error_naming_file_document_and_line_with_clean_stdout() {
    let bad = tmp(
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n",
    );
    let out = run(&[
        "diff",
        &fixture("manifests/before.yaml"),
        &bad,
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "stdout must stay clean on error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml") && err.contains("document 2") && err.contains("line 6"),
        "{err}"
    );
}

#[test]
fn broken_yaml_is_an_error() {
    let bad = tmp("broken.yaml", "apiVersion: v1\nkind: [ConfigMap\n");
    let out = run(&["diff", &bad, &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.yaml"));
}

#[test]
fn missing_file_is_named() {
    let out = run(&[
        "diff",
        "/nonexistent/old.yaml",
        &fixture("manifests/after.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/old.yaml"));
}

#[test]
fn bad_regex_is_named() {
    let f = fixture("manifests/before.yaml");
    let out = run(&["diff", &f, &f, "--suppress-regex", "("]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid suppress regex"));
}

#[test]
fn suppress_kind_and_regex_filter_the_report() {
    let (b, a) = (
        fixture("manifests/before.yaml"),
        fixture("manifests/after.yaml"),
    );
    let out = run(&[
        "diff",
        &b,
        &a,
        "-o",
        "json",
        "--suppress-kind",
        "deployment",
        "--suppress-regex",
        "^metadata\\.",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let resources = doc["structuredDiff"]["resources"].as_array().unwrap();
    assert!(
        resources
            .iter()
            .all(|r| r["identity"]["kind"] != "Deployment")
    );
    assert!(
        resources
            .iter()
            .flat_map(|r| r["changes"].as_array().cloned().unwrap_or_default())
            .all(|c| !c["path"].as_str().unwrap().starts_with("metadata."))
    );
    assert!(
        doc["structuredDiff"]["stats"]["suppressedResources"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

#[test]
fn secrets_decode_shows_plain_text_only_when_asked() {
    let (b, a) = (
        fixture("manifests/before.yaml"),
        fixture("manifests/after.yaml"),
    );
    let hidden = String::from_utf8(run(&["diff", &b, &a]).stdout).unwrap();
    assert!(!hidden.contains("hunter2") && !hidden.contains("aHVudGVyMg"));
    let shown = String::from_utf8(run(&["diff", &b, &a, "--secrets", "decode"]).stdout).unwrap();
    assert!(shown.contains("hunter2") && shown.contains("correcthorse"));
}

#[test]
fn markdown_and_unified_outputs() {
    let (b, a) = (
        fixture("manifests/before.yaml"),
        fixture("manifests/after.yaml"),
    );
    let md = String::from_utf8(run(&["diff", &b, &a, "-o", "markdown"]).stdout).unwrap();
    assert!(md.starts_with("### "), "{md}");
    let uni = String::from_utf8(run(&["diff", &b, &a, "-o", "unified", "--context", "1"]).stdout)
        .unwrap();
    assert!(uni.contains("--- a/Deployment default/shop"), "{uni}");
    assert!(
        uni.contains("+        image: registry.example.com/shop/web:1.1.0"),
        "{uni}"
    );
}
