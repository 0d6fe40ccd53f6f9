//! The `chartimpact-server` binary as an operator runs it: flags, defaults, logs, signals.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chartimpact-server");

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository with a one-template chart at tags v1 and v2 (replicas 1 → 3).
fn chart_repo(dir: &Path) {
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    for (tag, replicas) in [("v1", 1), ("v2", 3)] {
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: app\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::write(chart.join("values.yaml"), format!("replicas: {replicas}\n")).unwrap();
        std::fs::write(
            chart.join("templates/deploy.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-app\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n",
        )
        .unwrap();
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", tag]);
        git(dir, &["tag", tag]);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path, extra: &[&str]) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let child = Command::new(BIN)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data)
            .args(extra)
            .env_remove("CHARTIMPACT_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while reqwest::blocking::get(format!("{url}/api/health")).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, url }
    }

    /// SIGTERM, then the exit status and everything it logged.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        (status, log)
    }
}

#[test]
fn serves_compares_with_sqlite_in_the_data_dir_and_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    chart_repo(&tmp.path().join("repo"));
    let data = tmp.path().join("data");
    let srv = Server::start(&data, &["--allow-local-repos"]);
    let client = reqwest::blocking::Client::new();
    let health: serde_json::Value = client
        .get(format!("{}/api/health", srv.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["database"]["backend"], "sqlite");
    assert_eq!(health["renderers"][0]["name"], "native");
    assert_eq!(health["renderers"][0]["available"], true);

    let body = serde_json::json!({
        "repository": format!("file://{}", tmp.path().join("repo").display()),
        "chartPath": "chart",
        "version1": "v1",
        "version2": "v2",
    });
    let r = client
        .post(format!("{}/api/compare", srv.url))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let got: serde_json::Value = r.json().unwrap();
    assert_eq!(got["renderer"]["name"], "native");
    let change = &got["structuredDiff"]["resources"][0]["changes"][0];
    assert_eq!(change["path"], "spec.replicas", "{got}");
    assert_eq!(change["after"], 3);
    assert!(data.join("chartimpact.db").exists());

    // Without --allow-local-repos a path is refused, naming why.
    let (status, log) = srv.stop();
    assert!(status.success(), "{status:?}: {log}");
    assert!(log.contains("shutting down"), "{log}");

    let srv = Server::start(&data, &[]);
    let r = client
        .post(format!("{}/api/compare", srv.url))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // The stored result outlived the restart.
    let id = got["compareId"].as_str().unwrap();
    let r = client
        .get(format!("{}/api/analysis/{id}", srv.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    srv.stop();
}

#[test]
fn json_logs_carry_the_request_id() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::start(tmp.path(), &["--log-format", "json"]);
    let r = reqwest::blocking::Client::new()
        .get(format!("{}/api/analysis/unknown", srv.url))
        .header("x-request-id", "req-abc-123")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.headers()["x-request-id"], "req-abc-123");
    let (_, log) = srv.stop();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l.to_string().contains("req-abc-123")),
        "{log}"
    );
}

#[test]
fn bad_configuration_is_a_clear_error_that_leaks_no_password() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "mysql://admin:s3cr3t-pw@db.internal/x",
        ])
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("postgres://") && err.contains("sqlite"),
        "{err}"
    );
    assert!(!err.contains("s3cr3t-pw"), "{err}");

    let out = Command::new(BIN)
        .args(["--compare-timeout", "0"])
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--compare-timeout"));
}
