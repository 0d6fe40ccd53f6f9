//! `chartimpact render`: what `helm template` prints, with helm's flags.

use std::path::PathBuf;
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../crates/helm-render/tests/fixtures")
}

fn render(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chartimpact"))
        .arg("render")
        .args(args)
        .output()
        .unwrap()
}

/// Runs a case of helm-render's fixture list (`id|chart|flags`, expected output made by
/// `helm template release charts/<chart> --namespace default <flags>`) through the CLI.
fn fixture_case(id: &str) {
    let f = fixtures();
    let cases = std::fs::read_to_string(f.join("cases.txt")).unwrap();
    let line = cases
        .lines()
        .find(|l| l.starts_with(&format!("{id}|")))
        .expect("case listed");
    let mut parts = line.splitn(3, '|');
    let (_, chart, flags) = (
        parts.next(),
        parts.next().unwrap(),
        parts.next().unwrap_or(""),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_chartimpact"))
        .current_dir(&f)
        .args([
            "render",
            "--release-name",
            "release",
            "--namespace",
            "default",
            "--renderer",
            "native",
        ])
        .arg(format!("charts/{chart}"))
        .args(flags.split_whitespace())
        .output()
        .unwrap();
    let want = std::fs::read(f.join(format!("expected/{id}.out"))).unwrap();
    assert!(
        out.status.success(),
        "{id}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&want),
        "{id}"
    );
}

#[test]
fn set_json_matches_helm() {
    fixture_case("set-json");
}

#[test]
fn set_file_matches_helm() {
    fixture_case("set-file");
}

#[test]
fn invalid_set_json_is_an_error_in_helms_words() {
    let chart = fixtures().join("charts/setvals");
    let out = render(&[
        chart.to_str().unwrap(),
        "--renderer",
        "native",
        "--set-json",
        "bad={x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("failed parsing --set-json data"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_missing_chart_directory_is_named() {
    let out = render(&["/nonexistent/chart", "--renderer", "native"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/chart"));
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    // `chartimpact render … | head`: the pipe closes before the manifest is written; that is
    // the reader's choice, not a failure to report.
    let mut child = Command::new(env!("CARGO_BIN_EXE_chartimpact"))
        .current_dir(fixtures())
        .args(["render", "charts/v1app", "--renderer", "native"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
