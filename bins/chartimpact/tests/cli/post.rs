//! `chartimpact pr --post`: the CI mode without a server, against the in-process fake GitHub
//! (testkit), run as a user runs it and as `action.yml` runs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use testkit::{FakeGithub, git};

use super::compare::repo;

const MARKER: &str = "<!-- chartimpact:analysis:v1 -->";

/// Variables a GitHub Actions runner sets; cleared so the tests behave the same inside one.
const RUNNER_VARIABLES: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_REPOSITORY",
    "GITHUB_EVENT_PATH",
    "GITHUB_API_URL",
    "GITHUB_SERVER_URL",
    "GITHUB_RUN_ID",
    "GITHUB_TOKEN",
    "GITHUB_PATH",
    "GITHUB_STEP_SUMMARY",
];

struct Pr {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    repo: PathBuf,
    base: String,
    head: String,
}

/// The chart repository of `compare.rs` (charts/web, v1 → v2 lowers replicas and moves the
/// image), as pull request #7 of acme/charts on the fake.
fn pull_request(fake: &FakeGithub) -> Pr {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let repo = repo(&dir);
    let base = git(&repo, &["rev-parse", "v1^{commit}"]);
    let head = git(&repo, &["rev-parse", "v2^{commit}"]);
    fake.add_pull_request(
        "acme",
        "charts",
        7,
        &head,
        &base,
        ["charts/web/values.yaml"],
    );
    Pr {
        _tmp: tmp,
        dir,
        repo,
        base,
        head,
    }
}

fn chartimpact(pr: &Pr, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chartimpact"));
    for v in RUNNER_VARIABLES {
        cmd.env_remove(v);
    }
    cmd.args(args)
        .env("CHARTIMPACT_DATA_DIR", pr.dir.join("data"))
        .env("NO_COLOR", "1")
        .envs(env.iter().copied());
    cmd
}

/// Runs a blocking command without stalling the runtime the fake GitHub is served from.
async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ours(fake: &FakeGithub) -> Vec<testkit::StoredComment> {
    fake.comments("acme", "charts", 7)
        .into_iter()
        .filter(|c| c.body.contains(MARKER))
        .collect()
}

fn statuses(fake: &FakeGithub, sha: &str) -> Vec<(String, String)> {
    fake.statuses("acme", "charts", sha)
        .into_iter()
        .map(|s| (s.context, s.state))
        .collect()
}

fn event_file(pr: &Pr) -> PathBuf {
    let path = pr.dir.join("event.json");
    let event = json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {"number": 7, "base": {"sha": pr.base, "ref": "main"},
                         "head": {"sha": pr.head, "ref": "feature"}},
        "repository": {"full_name": "acme/charts"},
    });
    std::fs::write(&path, event.to_string()).unwrap();
    path
}

/// Twice the same command: one comment (created, then found by its marker and left as it
/// is), a `chartimpact/analysis` status on the head commit per run; stdout is the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posting_twice_leaves_one_marked_comment_and_a_status_on_the_head() {
    let fake = FakeGithub::start().await;
    let pr = pull_request(&fake);
    let url = fake.url();
    let env = [
        ("GITHUB_TOKEN", "test-token-123"),
        ("GITHUB_API_URL", url.as_str()),
    ];
    let args = [
        "pr",
        "--repo",
        pr.repo.to_str().unwrap(),
        "--base",
        "v1",
        "--head",
        "v2",
        "--renderer",
        "native",
        "--post",
        "--github-repository",
        "acme/charts",
        "--pull-request",
        "7",
    ];
    let mut said = Vec::new();
    for _ in 0..2 {
        let out = output(chartimpact(&pr, &env, &args)).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with(MARKER), "{stdout}");
        assert!(stdout.contains("`charts/web`"), "{stdout}");
        said.push(stderr);
    }
    assert!(
        said[0].contains("comment on acme/charts#7: created"),
        "{}",
        said[0]
    );
    assert!(
        said[1].contains("comment on acme/charts#7: unchanged"),
        "{}",
        said[1]
    );
    assert!(said[1].contains("check run skipped"), "{}", said[1]);
    let comments = ours(&fake);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].edits, 0);
    assert!(
        comments[0].body.contains("high risk"),
        "{}",
        comments[0].body
    );
    let success = ("chartimpact/analysis".to_owned(), "success".to_owned());
    assert_eq!(statuses(&fake, &pr.head), [success.clone(), success]);
    assert!(statuses(&fake, &pr.base).is_empty());
    // A personal token cannot write check runs: GitHub refuses, nothing is left behind.
    assert!(fake.check_runs("acme", "charts").is_empty());
    fake.assert_no_validation_failures();
}

/// Inside GitHub Actions nothing but the repository path needs saying: repository, pull
/// request and both commits come from the runner's variables and the event file; the token
/// is the Actions bot's and writes a check run; the status links to the workflow run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_github_actions_everything_comes_from_the_environment() {
    let fake = FakeGithub::start().await;
    fake.set_app(15368, "github-actions", None);
    let pr = pull_request(&fake);
    let token = fake.issue_installation_token(1);
    let (url, event) = (fake.url(), event_file(&pr));
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/charts"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_API_URL", url.as_str()),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "31337"),
        ("GITHUB_TOKEN", token.as_str()),
    ];
    let repo = pr.repo.to_str().unwrap();
    let out = output(chartimpact(&pr, &env, &["pr", "--repo", repo, "--post"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let comments = ours(&fake);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].user_login, "github-actions[bot]");
    let st = fake.statuses("acme", "charts", &pr.head);
    assert_eq!(st.len(), 1);
    assert_eq!(
        st[0].target_url.as_deref(),
        Some("https://github.com/acme/charts/actions/runs/31337")
    );
    let runs = fake.check_runs("acme", "charts");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].head_sha.as_str(), runs[0].status.as_str()),
        (pr.head.as_str(), "completed")
    );
    // Without a pull request event and flags, there is nothing to post to: said before any
    // analysis, nothing printed, nothing sent.
    let before = fake.requests().len();
    let push_env = [
        ("GITHUB_TOKEN", token.as_str()),
        ("GITHUB_API_URL", url.as_str()),
    ];
    let out = output(chartimpact(
        &pr,
        &push_env,
        &[
            "pr", "--repo", repo, "--base", "v1", "--head", "v2", "--post",
        ],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("--github-repository OWNER/REPO"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fake.requests().len(), before);
}

/// A missing token is an error naming the variable, before anything is analysed or sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_nothing_is_analysed_or_sent() {
    let fake = FakeGithub::start().await;
    let pr = pull_request(&fake);
    let url = fake.url();
    let repo = pr.repo.to_str().unwrap();
    let args = [
        "pr",
        "--repo",
        repo,
        "--base",
        "v1",
        "--head",
        "v2",
        "--post",
        "--github-repository",
        "acme/charts",
        "--pull-request",
        "7",
    ];
    let out = output(chartimpact(&pr, &[("GITHUB_API_URL", url.as_str())], &args)).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("set GITHUB_TOKEN"), "{stderr}");
    assert!(fake.requests().is_empty());
    assert!(!pr.dir.join("data").exists(), "nothing was analysed");
    // A token GitHub refuses: exit 1, the token nowhere in the message.
    fake.revoke_token("revoked-secret-token");
    let env = [
        ("GITHUB_API_URL", url.as_str()),
        ("GITHUB_TOKEN", "revoked-secret-token"),
    ];
    let out = output(chartimpact(&pr, &env, &args)).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no report without its post");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("authentication failed"), "{stderr}");
    assert!(!stderr.contains("revoked-secret-token"), "{stderr}");
    assert!(ours(&fake).is_empty());
}

/// An analysis that cannot run (the head commit is not in the repository) still tells the
/// pull request, in the same comment, with an `error` status; the command exits 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analysis_that_cannot_run_is_reported_on_the_pull_request() {
    let fake = FakeGithub::start().await;
    let pr = pull_request(&fake);
    let missing = "9".repeat(40);
    fake.set_head("acme", "charts", 7, &missing);
    let url = fake.url();
    let env = [
        ("GITHUB_TOKEN", "test-token-123"),
        ("GITHUB_API_URL", url.as_str()),
    ];
    let repo = pr.repo.to_str().unwrap();
    let args = [
        "pr",
        "--repo",
        repo,
        "--base",
        "v1",
        "--head",
        &missing,
        "--renderer",
        "native",
        "--post",
        "--github-repository",
        "acme/charts",
        "--pull-request",
        "7",
    ];
    let out = output(chartimpact(&pr, &env, &args)).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let comments = ours(&fake);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains("the analysis could not run"),
        "{}",
        comments[0].body
    );
    assert!(
        comments[0].body.contains("`revision_not_found`"),
        "{}",
        comments[0].body
    );
    assert_eq!(
        statuses(&fake, &missing),
        [("chartimpact/analysis".to_owned(), "error".to_owned())]
    );
}

// ---- action.yml, run the way a GitHub Actions runner runs a composite action ----

/// What an expression can read: the action's inputs, `github.*` and `runner.*`.
struct Contexts {
    inputs: BTreeMap<String, String>,
    github: Value,
    runner: Value,
}

impl Contexts {
    /// `${{ a || 'b' }}` with dotted context paths and quoted literals (what action.yml uses).
    fn expression(&self, expr: &str) -> String {
        for operand in expr.split("||").map(str::trim) {
            let value = if let Some(lit) = operand
                .strip_prefix('\'')
                .and_then(|o| o.strip_suffix('\''))
            {
                lit.to_owned()
            } else {
                let mut parts = operand.split('.');
                let root = match parts.next() {
                    Some("inputs") => {
                        let name = parts.next().unwrap();
                        return self
                            .inputs
                            .get(name)
                            .cloned()
                            .unwrap_or_else(|| panic!("no input {name}"));
                    }
                    Some("github") => &self.github,
                    Some("runner") => &self.runner,
                    other => {
                        panic!("action.yml reads a context this runner does not know: {other:?}")
                    }
                };
                let v = parts.fold(root, |v, p| &v[p]);
                match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                }
            };
            if !value.is_empty() {
                return value;
            }
        }
        String::new()
    }

    fn template(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            out.push_str(&self.expression(rest[start + 3..end].trim()));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

fn action() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../action.yml");
    let text = std::fs::read_to_string(path).unwrap();
    let docs = yaml11::parse_stream(&text, &yaml11::Limits::default()).unwrap();
    serde_json::to_value(&docs[0].value).unwrap()
}

/// Runs action.yml's steps in order as the runner does: each `run:` with `bash --noprofile
/// --norc -eo pipefail`, its `env:` evaluated, in its working directory; directories a step
/// appends to `GITHUB_PATH` are on the PATH of the steps after it.
fn run_action(
    action: &Value,
    ctx: &Contexts,
    runner_env: &[(String, String)],
    workspace: &Path,
) -> Vec<Output> {
    assert_eq!(action["runs"]["using"], "composite");
    let mut path_dirs: Vec<String> = Vec::new();
    let github_path = runner_env
        .iter()
        .find(|(k, _)| k == "GITHUB_PATH")
        .unwrap()
        .1
        .clone();
    let mut outputs = Vec::new();
    for step in action["runs"]["steps"].as_array().unwrap() {
        let run = step["run"].as_str().unwrap();
        assert!(
            !run.contains("${{"),
            "expressions belong in env:, not in the script: {run}"
        );
        assert_eq!(step["shell"], "bash");
        let script = workspace.join("step.sh");
        std::fs::write(&script, run).unwrap();
        let cwd = match step["working-directory"].as_str() {
            Some(d) => workspace.join(ctx.template(d)),
            None => workspace.to_path_buf(),
        };
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(cwd)
            .env_clear();
        let system_path = std::env::var("PATH").unwrap_or_default();
        let path = path_dirs
            .iter()
            .rev()
            .cloned()
            .chain([system_path])
            .collect::<Vec<_>>()
            .join(":");
        cmd.env("PATH", path).env("HOME", workspace);
        cmd.envs(runner_env.iter().map(|(k, v)| (k, v)));
        if let Some(env) = step["env"].as_object() {
            for (k, v) in env {
                cmd.env(k, ctx.template(v.as_str().unwrap_or_default()));
            }
        }
        let out = cmd.output().unwrap();
        let failed = !out.status.success();
        outputs.push(out);
        if failed {
            break;
        }
        path_dirs = std::fs::read_to_string(&github_path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
    }
    outputs
}

/// action.yml, run twice for a pull_request event as the runner would run it (its inputs'
/// defaults, its install step with a given binary, its analyse step's own command line): one
/// marked comment, a status per run on the head commit, a check run, the report in the run's
/// summary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_posts_one_comment_and_a_status_through_its_own_command_line() {
    let fake = FakeGithub::start().await;
    fake.set_app(15368, "github-actions", None);
    let pr = pull_request(&fake);
    let token = fake.issue_installation_token(1);
    let action = action();
    let event = event_file(&pr);
    let event_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&event).unwrap()).unwrap();
    let temp = pr.dir.join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let mut given = BTreeMap::from([
        (
            "binary".to_owned(),
            env!("CARGO_BIN_EXE_chartimpact").to_owned(),
        ),
        ("path".to_owned(), "repo".to_owned()),
        ("renderer".to_owned(), "native".to_owned()),
    ]);
    let github = json!({
        "token": token,
        "event": event_json,
        "server_url": "https://github.com",
        "action_path": PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap(),
        "action_repository": "chartimpact/chartimpact",
    });
    let ctx = Contexts {
        inputs: BTreeMap::new(),
        github,
        runner: json!({"temp": temp}),
    };
    // Inputs not given take their defaults, which are expressions themselves.
    for (name, spec) in action["inputs"].as_object().unwrap() {
        if !given.contains_key(name) {
            given.insert(
                name.clone(),
                ctx.template(spec["default"].as_str().unwrap_or_default()),
            );
        }
    }
    assert_eq!(given["base"], pr.base);
    assert_eq!(given["pull-request"], "7");
    let ctx = Contexts {
        inputs: given,
        ..ctx
    };
    let summary = temp.join("summary.md");
    let runner_env: Vec<(String, String)> = [
        ("GITHUB_ACTIONS", "true".to_owned()),
        ("GITHUB_REPOSITORY", "acme/charts".to_owned()),
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        ("GITHUB_API_URL", fake.url()),
        ("GITHUB_SERVER_URL", "https://github.com".to_owned()),
        ("GITHUB_RUN_ID", "99".to_owned()),
        ("GITHUB_PATH", temp.join("path.txt").display().to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ("RUNNER_TEMP", temp.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let workspace = pr.dir.clone();
    for round in 0..2 {
        let (action, ctx_ref, env_ref, ws) = (&action, &ctx, &runner_env, &workspace);
        let outs = tokio::task::block_in_place(|| run_action(action, ctx_ref, env_ref, ws));
        assert_eq!(
            outs.len(),
            2,
            "round {round}: a step failed: {}",
            outs.iter().map(|o| text(&o.stderr)).collect::<String>()
        );
        for o in &outs {
            assert!(
                o.status.success(),
                "round {round}: {}{}",
                text(&o.stdout),
                text(&o.stderr)
            );
        }
        assert!(
            text(&outs[1].stdout).starts_with(MARKER),
            "the report is in the log"
        );
    }
    let comments = ours(&fake);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].user_login, "github-actions[bot]");
    let success = ("chartimpact/analysis".to_owned(), "success".to_owned());
    assert_eq!(statuses(&fake, &pr.head), [success.clone(), success]);
    assert_eq!(fake.check_runs("acme", "charts").len(), 2);
    let summary = std::fs::read_to_string(summary).unwrap();
    assert_eq!(
        summary.matches(MARKER).count(),
        2,
        "each run adds its report to the summary"
    );
    fake.assert_no_validation_failures();
}

/// action.yml's install step with `version`: the release archive and its `.sha256` come from
/// the releases URL (a loopback server here), the digest is checked before anything is
/// installed, and the directory is handed to the next steps through `GITHUB_PATH`.
#[test]
fn the_install_step_downloads_a_release_and_checks_its_digest() {
    use testkit::chart_repos::{Server, static_file};
    let target = match std::env::consts::ARCH {
        "x86_64" => "x86_64-unknown-linux-gnu",
        "aarch64" => "aarch64-unknown-linux-gnu",
        _ => return,
    };
    let tmp = tempfile::tempdir().unwrap();
    let releases = tmp.path().join("releases");
    let version = "v9.9.9";
    let stage = tmp.path().join("stage");
    std::fs::create_dir_all(releases.join(version)).unwrap();
    std::fs::create_dir_all(&stage).unwrap();
    // A stand-in binary: the step only runs `chartimpact --version`.
    let bin = stage.join("chartimpact");
    std::fs::write(&bin, "#!/bin/sh\necho chartimpact 9.9.9\n").unwrap();
    Command::new("chmod")
        .args(["755"])
        .arg(&bin)
        .status()
        .unwrap();
    let asset = format!("chartimpact-{version}-{target}.tar.gz");
    let archive = releases.join(version).join(&asset);
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .arg("chartimpact")
        .status()
        .unwrap();
    assert!(tar.success());
    let sum = Command::new("sha256sum").arg(&archive).output().unwrap();
    let digest = text(&sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let sha_file = releases.join(version).join(format!("{asset}.sha256"));
    std::fs::write(&sha_file, format!("{digest}  {asset}\n")).unwrap();
    let root = releases.clone();
    let server = Server::start(move |req| static_file(&root, req, "/releases"));

    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/github-action/install.sh");
    let install = |version: &str, dir: &Path| {
        let github_path = tmp.path().join("github-path.txt");
        let out = Command::new("bash")
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CHARTIMPACT_VERSION", version)
            .env("CHARTIMPACT_RELEASES", format!("{}/releases", server.url))
            .env("CHARTIMPACT_INSTALL_DIR", dir)
            .env("GITHUB_PATH", &github_path)
            .output()
            .unwrap();
        (
            out,
            std::fs::read_to_string(github_path).unwrap_or_default(),
        )
    };
    let dir = tmp.path().join("bin");
    let (out, path) = install(version, &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("chartimpact 9.9.9"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(path.trim(), dir.display().to_string());
    assert!(dir.join("chartimpact").is_file());

    // A digest that does not match: nothing is installed.
    std::fs::write(&sha_file, format!("{}  {asset}\n", "0".repeat(64))).unwrap();
    let other = tmp.path().join("bin2");
    let (out, _) = install(version, &other);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("sha256 is"),
        "{}",
        text(&out.stderr)
    );
    assert!(!other.join("chartimpact").exists());
    // Neither is a version that is not a tag, nor one the releases do not have.
    let (out, _) = install("v1;reboot", &other);
    assert!(
        text(&out.stderr).contains("is not a release tag"),
        "{}",
        text(&out.stderr)
    );
    let (out, _) = install("v0.0.1", &other);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot download"),
        "{}",
        text(&out.stderr)
    );
}
