//! `compare`, `versions`, `detect` and `pr` on a local git repository built by the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testkit::git;

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: \"web:{{ .Values.tag }}\"\n";

/// A repository with chart `charts/web` at tags `v1` and `v2` (image and replicas change).
pub(super) fn repo(tmp: &Path) -> PathBuf {
    let dir = tmp.join("repo");
    let chart = dir.join("charts/web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    std::fs::write(chart.join("templates/deploy.yaml"), DEPLOY).unwrap();
    for (tag, version, values) in [
        ("v1", "1.0.0", "replicas: 3\ntag: \"1.0\"\n"),
        ("v2", "1.1.0", "replicas: 1\ntag: \"1.1\"\n"),
    ] {
        std::fs::write(
            chart.join("Chart.yaml"),
            format!("apiVersion: v2\nname: web\nversion: {version}\n"),
        )
        .unwrap();
        std::fs::write(chart.join("values.yaml"), values).unwrap();
        let _ = std::fs::remove_file(dir.join(".git/index"));
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-q", "-m", tag]);
        git(&dir, &["tag", tag]);
    }
    dir
}

fn run(tmp: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chartimpact"))
        .args(args)
        .env("CHARTIMPACT_DATA_DIR", tmp.join("data"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Whether helm is installed; with `CHARTIMPACT_REQUIRE_HELM=1` (CI) a missing helm fails.
fn have_helm() -> bool {
    let found = helm_on_path();
    if !found {
        let why = "no helm binary (scripts/install-helm.sh)";
        assert!(
            std::env::var_os("CHARTIMPACT_REQUIRE_HELM").is_none_or(|v| v != "1"),
            "{why}"
        );
        eprintln!("skipping: {why}");
    }
    found
}

fn helm_on_path() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("helm").is_file()))
}

#[test]
fn compare_prints_the_api_document_and_exit_codes_follow_the_flags() {
    if !have_helm() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(tmp.path());
    let r = repo.to_str().unwrap();
    let out = run(
        tmp.path(),
        &[
            "compare",
            "--repo",
            r,
            "--chart",
            "charts/web",
            "--from",
            "v1",
            "--to",
            "v2",
            "--output",
            "json",
            "--renderer",
            "helm",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["renderer"]["name"], "helm");
    assert_eq!(doc["resolved"]["version1"].as_str().unwrap().len(), 40);
    assert_eq!(doc["impact"]["verdict"], "high-risk", "replicas 3 → 1");
    let paths: Vec<&str> = doc["structuredDiff"]["resources"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"spec.template.spec.containers[name=web].image"),
        "{paths:?}"
    );
    let gate = run(
        tmp.path(),
        &[
            "compare",
            "--repo",
            r,
            "--chart",
            "charts/web",
            "--from",
            "v1",
            "--to",
            "v2",
            "--fail-on",
            "high",
            "--renderer",
            "helm",
        ],
    );
    assert_eq!(gate.status.code(), Some(3));
    let same = run(
        tmp.path(),
        &[
            "compare",
            "--repo",
            r,
            "--chart",
            "charts/web",
            "--from",
            "v1",
            "--to",
            "v1",
            "--detailed-exitcode",
            "--renderer",
            "helm",
        ],
    );
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    let set = run(
        tmp.path(),
        &[
            "compare",
            "--repo",
            r,
            "--chart",
            "charts/web",
            "--from",
            "v1",
            "--to",
            "v2",
            "--set",
            "replicas=3",
            "-o",
            "json",
            "--renderer",
            "helm",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&set.stdout).unwrap();
    assert_ne!(
        doc["impact"]["verdict"], "high-risk",
        "--set replicas=3 on both sides removes the replica cut"
    );
}

#[test]
fn unknown_revision_and_chart_are_errors_on_stderr_with_clean_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(tmp.path());
    let r = repo.to_str().unwrap();
    let out = run(
        tmp.path(),
        &[
            "compare",
            "--repo",
            r,
            "--chart",
            "charts/web",
            "--from",
            "no-such-tag",
            "--to",
            "v2",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-tag"), "{err}");
    let out = run(
        tmp.path(),
        &[
            "compare",
            "--repo",
            r,
            "--chart",
            "charts/api",
            "--from",
            "v1",
            "--to",
            "v2",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("charts in this repository: charts/web"));
}

#[test]
fn versions_lists_tags_as_json_and_text() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(tmp.path());
    let out = run(
        tmp.path(),
        &[
            "versions",
            "--repo",
            repo.to_str().unwrap(),
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
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"v1") && tags.contains(&"v2"), "{tags:?}");
    assert_eq!(doc["branches"][0], "main");
    let text = run(tmp.path(), &["versions", "--repo", repo.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("main"));
}

#[test]
fn detect_lists_charts_and_affected_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(tmp.path());
    let r = repo.to_str().unwrap();
    let out = run(tmp.path(), &["detect", "--repo", r]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("charts/web\tweb 1.1.0"));
    let out = run(
        tmp.path(),
        &[
            "detect", "--repo", r, "--from", "v1", "--to", "v2", "--json",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["charts"][0]["path"], "charts/web");
    assert_eq!(doc["charts"][0]["status"], "modified");
}

#[test]
fn pr_prints_the_comment_markdown() {
    if !have_helm() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(tmp.path());
    let out = run(
        tmp.path(),
        &[
            "pr",
            "--repo",
            repo.to_str().unwrap(),
            "--base",
            "v1",
            "--head",
            "v2",
            "--renderer",
            "helm",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.starts_with("<!-- chartimpact:analysis:v1 -->\n## ChartImpact: 🔴 high risk"),
        "{md}"
    );
    assert!(
        md.contains("| `charts/web` | default | modified | high-risk |"),
        "{md}"
    );
}

/// `repo()` with `.chartimpact.yaml` holding `v1_config` at v1 and `v2_config` at v2.
fn policy_repo(tmp: &Path, v1_config: &str, v2_config: &str) -> PathBuf {
    let dir = repo(tmp);
    for (tag, config) in [("v1", v1_config), ("v2", v2_config)] {
        git(&dir, &["checkout", "-q", tag]);
        std::fs::write(dir.join(".chartimpact.yaml"), config).unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-q", "-m", "config"]);
        git(&dir, &["tag", "-f", tag]);
    }
    dir
}

#[test]
fn pr_applies_the_base_revisions_policy_and_exits_3_when_it_fails() {
    let tmp = tempfile::tempdir().unwrap();
    // v2 tries to switch the policy off; v1's (the base's) applies.
    let repo = policy_repo(tmp.path(), "failOn: medium\n", "failOn: never\n");
    let pr = |base: &str, head: &str| {
        run(
            tmp.path(),
            &[
                "pr",
                "--repo",
                repo.to_str().unwrap(),
                "--base",
                base,
                "--head",
                head,
                "--renderer",
                "native",
            ],
        )
    };
    let out = pr("v1", "v2");
    let md = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{md}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        md.contains("`failOn: medium`: **this change fails it**"),
        "{md}"
    );
    // The other way round the base is v2, whose policy is never: exit 0.
    let out = pr("v2", "v1");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An invalid file is reported with what to fix, and the defaults apply.
    let tmp2 = tempfile::tempdir().unwrap();
    let repo = policy_repo(tmp2.path(), "failOn: sometimes\n", "");
    let out = run(
        tmp2.path(),
        &[
            "pr",
            "--repo",
            repo.to_str().unwrap(),
            "--base",
            "v1",
            "--head",
            "v2",
            "--renderer",
            "native",
        ],
    );
    let md = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{md}");
    assert!(
        md.contains("`.chartimpact.yaml` is invalid") && md.contains("unknown variant `sometimes`"),
        "{md}"
    );
}
