//! The `chartimpact-server` binary as an operator runs it: flags, defaults, logs, signals.

mod hostile;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chartimpact-server");

use testkit::git;

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
    /// Everything the server logged so far (read continuously: a full pipe would block it).
    log: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(data: &Path, extra: &[&str]) -> Server {
        Server::start_with(data, extra, &[], None)
    }

    /// [`Server::start`] with environment variables, and confined to `address_space` bytes
    /// of virtual memory (`prlimit --as`) when given.
    fn start_with(
        data: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        address_space: Option<u64>,
    ) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let mut command = match address_space {
            Some(bytes) => {
                // prlimit execs the server: the child's pid is the server's.
                let mut c = Command::new("prlimit");
                c.arg(format!("--as={bytes}")).arg("--").arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        let mut child = command
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data)
            .args(extra)
            .env_remove("CHARTIMPACT_DATABASE_URL")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let reader = {
            let (log, mut stderr) = (log.clone(), child.stderr.take().unwrap());
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    log.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            })
        };
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while reqwest::blocking::get(format!("{url}/api/health")).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            child,
            url,
            log,
            reader: Some(reader),
        }
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
        (status, self.take_log())
    }

    /// The whole log, once the process has ended.
    fn take_log(&mut self) -> String {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        std::mem::take(&mut *self.log.lock().unwrap())
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

fn sign(body: &[u8], secret: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let hex: String = ring::hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// A chart whose render takes a while (a long template loop), so jobs are in flight when the
/// server is killed. Commit `i` (tag `h{i}`) changes a value, so no two heads share a render.
fn slow_chart_repo(root: &Path, heads: usize) -> (std::path::PathBuf, String, Vec<String>) {
    let work = root.join("work");
    let chart = work.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: slow\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "{{- $x := 0 }}{{- range until 1500000 }}{{ $x = add1 $x }}{{- end }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: slow\ndata:\n  x: {{ $x | quote }}\n  rev: {{ .Values.rev | quote }}\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "rev: base\n").unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "base"]);
    let base = git(&work, &["rev-parse", "HEAD"]);
    let mut shas = Vec::new();
    for i in 0..heads {
        git(&work, &["checkout", "-q", "-B", &format!("h{i}"), &base]);
        std::fs::write(chart.join("values.yaml"), format!("rev: head-{i}\n")).unwrap();
        git(&work, &["commit", "-qam", &format!("head {i}")]);
        shas.push(git(&work, &["rev-parse", "HEAD"]));
    }
    let gh = root.join("gh");
    std::fs::create_dir_all(gh.join("acme")).unwrap();
    git(
        &gh,
        &[
            "clone",
            "-q",
            "--mirror",
            &work.to_string_lossy(),
            "acme/charts.git",
        ],
    );
    (gh, base, shas)
}

fn pr_delivery(number: u64, base: &str, head: &str) -> Vec<u8> {
    let repo = serde_json::json!({"id": 424242, "name": "charts", "full_name": "acme/charts", "owner": {"login": "acme", "id": 99}, "default_branch": "main"});
    serde_json::to_vec(&serde_json::json!({
        "action": "opened",
        "number": number,
        "pull_request": {
            "number": number, "state": "open", "draft": false, "labels": [],
            "head": {"sha": head, "ref": format!("h{number}"), "repo": repo},
            "base": {"sha": base, "ref": "main", "repo": repo},
        },
        "repository": repo,
    }))
    .unwrap()
}

#[test]
fn a_killed_server_loses_no_job_and_runs_none_twice() {
    const SECRET: &str = "crash-test-secret-0123456789";
    let tmp = tempfile::tempdir().unwrap();
    let heads = 5;
    let (gh, base, shas) = slow_chart_repo(tmp.path(), heads);
    let data = tmp.path().join("data");
    let git_url = format!("file://{}", gh.display());
    let flags = [
        "--webhook-secrets",
        SECRET,
        "--github-git-url",
        &git_url,
        "--workers",
        "1",
        "--job-lease-secs",
        "3",
        "--allow-local-repos",
        "--rate-limit",
        "0",
    ];
    let srv = Server::start(&data, &flags);
    let client = reqwest::blocking::Client::new();
    let mut jobs = Vec::new();
    for (i, sha) in shas.iter().enumerate() {
        let body = pr_delivery(i as u64 + 1, &base, sha);
        let r = client
            .post(format!("{}/api/webhooks/github", srv.url))
            .header("content-type", "application/json")
            .header("x-github-event", "pull_request")
            .header("x-github-delivery", format!("crash-{i}"))
            .header("x-hub-signature-256", sign(&body, SECRET))
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        let ack: serde_json::Value = r.json().unwrap();
        jobs.push(ack["jobId"].as_str().unwrap().to_owned());
    }
    let status = |url: &str, id: &str| -> serde_json::Value {
        client
            .get(format!("{url}/api/jobs/{id}"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    // Kill once the first job is done and the second is running.
    let start = Instant::now();
    loop {
        let first = status(&srv.url, &jobs[0])["status"].clone();
        let second = status(&srv.url, &jobs[1])["status"].clone();
        if first == "succeeded" && second == "running" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "jobs did not start: {first} {second}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut srv = srv;
    srv.child.kill().unwrap(); // SIGKILL: no shutdown, the running job's lease is left behind
    let _ = srv.child.wait();
    let mut log = srv.take_log();

    let srv = Server::start(&data, &flags);
    let start = Instant::now();
    for id in &jobs {
        loop {
            let job = status(&srv.url, id);
            match job["status"].as_str().unwrap() {
                "succeeded" => {
                    assert!(job["attempts"].as_u64().unwrap() <= 2, "{job}");
                    break;
                }
                "failed" | "cancelled" | "superseded" => panic!("job {id} ended {job}"),
                _ => {}
            }
            assert!(
                start.elapsed() < Duration::from_secs(180),
                "job {id} not finished: {job}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let (_, log2) = srv.stop();
    log.push_str(&log2);
    // Each job published its result exactly once over both lives of the server.
    for id in &jobs {
        let finished = log
            .lines()
            .filter(|l| l.contains("analysis finished") && l.contains(&format!("job={id} ")))
            .count();
        assert_eq!(finished, 1, "job {id}:\n{log}");
    }
}

/// A self-signed certificate for 127.0.0.1 made by `openssl`: (cert PEM, key PEM), or `None`
/// when openssl is not installed.
fn self_signed(dir: &Path) -> Option<(String, String)> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        // webpki refuses a CA certificate as a server's own.
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .ok()?;
    out.status.success().then(|| {
        (
            std::fs::read_to_string(cert).unwrap(),
            std::fs::read_to_string(key).unwrap(),
        )
    })
}

#[test]
fn serves_https_with_the_given_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((cert, _key)) = self_signed(tmp.path()) else {
        eprintln!("openssl is not installed: the HTTPS test is skipped");
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .arg("--tls-cert")
        .arg(tmp.path().join("cert.pem"))
        .arg("--tls-key")
        .arg(tmp.path().join("key.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://127.0.0.1:{port}/api/health");
    let start = Instant::now();
    let health = loop {
        match client.get(&url).send() {
            Ok(r) => break r,
            Err(e) => {
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "no HTTPS answer: {e:?}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    assert_eq!(health.status().as_u16(), 200);
    // Plain HTTP on the TLS port gets no API answer.
    assert!(
        reqwest::blocking::get(format!("http://127.0.0.1:{port}/api/health"))
            .map(|r| !r.status().is_success())
            .unwrap_or(true)
    );
    let _ = child.kill();
    let _ = child.wait();

    // A key that is not PEM is refused at start, naming the file.
    std::fs::write(tmp.path().join("bad.pem"), "not a key").unwrap();
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .arg("--tls-cert")
        .arg(tmp.path().join("cert.pem"))
        .arg("--tls-key")
        .arg(tmp.path().join("bad.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.pem"));
}

#[test]
fn gen_secret_prints_a_fresh_32_byte_secret() {
    let a = Command::new(BIN).arg("gen-secret").output().unwrap();
    let b = Command::new(BIN).arg("gen-secret").output().unwrap();
    let (a, b) = (
        String::from_utf8(a.stdout).unwrap(),
        String::from_utf8(b.stdout).unwrap(),
    );
    assert_eq!(a.trim().len(), 64);
    assert!(a.trim().bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
}

#[test]
fn a_short_webhook_secret_refuses_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--webhook-secrets", "short"])
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--webhook-secrets") && err.contains("16"),
        "{err}"
    );
    assert!(
        !err.contains("short\n") && !err.contains("\"short\""),
        "the secret is not echoed: {err}"
    );
}

#[test]
fn tokens_come_from_a_file_or_the_environment_and_a_flag_is_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let token = "file-token-0123456789abcdef";
    let file = tmp.path().join("token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let srv = Server::start(
        &tmp.path().join("a"),
        &["--api-token-file", file.to_str().unwrap()],
    );
    let client = reqwest::blocking::Client::new();
    let list = format!("{}/api/analysis", srv.url);
    assert_eq!(client.get(&list).send().unwrap().status().as_u16(), 401);
    let r = client.get(&list).bearer_auth(token).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, log) = srv.stop();
    assert!(!log.contains("command line"), "{log}");
    assert!(!log.contains(token), "{log}");

    // Given as a flag, the token works and the log says where it should come from instead.
    let flag_token = "flag-token-0123456789abcdef";
    let srv = Server::start(&tmp.path().join("b"), &["--api-token", flag_token]);
    let (_, log) = srv.stop();
    assert!(log.contains("CHARTIMPACT_API_TOKEN"), "{log}");
    assert!(!log.contains(flag_token), "{log}");

    // A short token is refused at start, without echoing it.
    let out = Command::new(BIN)
        .args(["--api-token", "tiny-tok"])
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--api-token") && err.contains("16"), "{err}");
    assert!(!err.contains("tiny-tok"), "{err}");
}

#[test]
fn a_git_url_jobs_could_not_use_refuses_to_start_saying_what_to_change() {
    let tmp = tempfile::tempdir().unwrap();
    let refused = |extra: &[&str]| {
        let out = Command::new(BIN)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--webhook-secrets",
                "0123456789abcdef0123456789abcdef",
            ])
            .args(extra)
            .arg("--data-dir")
            .arg(tmp.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?} started");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = refused(&["--github-git-url", "http://git.internal:8080"]);
    assert!(err.contains("--allow-private-repo-hosts"), "{err}");
    let err = refused(&[
        "--github-git-url",
        "http://git.internal:8080",
        "--allow-private-repo-hosts",
    ]);
    assert!(err.contains("add git.internal:8080"), "{err}");
    let err = refused(&["--github-git-url", "https://ghe.example.com"]);
    assert!(err.contains("add ghe.example.com"), "{err}");
    let err = refused(&[
        "--github-git-url",
        "https://x-access-token:ghp_SECRETinURL@ghe.example.com",
    ]);
    assert!(err.contains("credentials"), "{err}");
    assert!(!err.contains("ghp_SECRETinURL"), "{err}");
    let err = refused(&["--github-git-url", "ftp://ghe.example.com"]);
    assert!(err.contains("only https"), "{err}");
    let err = refused(&[
        "--allowed-repo-hosts",
        "*",
        "--allow-private-repo-hosts",
        "--github-git-url",
        "https://ghe.example.com",
    ]);
    assert!(err.contains("name the internal hosts"), "{err}");
    let err = refused(&["--webhook-repos", "*/*/*"]);
    assert!(err.contains("--webhook-repos"), "{err}");
}
