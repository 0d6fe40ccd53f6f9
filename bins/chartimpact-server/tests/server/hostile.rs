//! The hostile-input suite: the real server binary, confined to 2 GiB of address space
//! (`prlimit --as`) and held to 1 GiB of resident memory, exposed as an operator would run it (an API token, webhooks on), and a
//! client that sends what an attacker would. One case per finding of the security review
//! (issue 16) and more: each is answered with a client error (or a correct result) within the
//! compare deadline, health keeps answering, the server's peak memory stays under 1 GiB, and
//! no credential given in a request turns up in an answer, the database, the data directory
//! or the log.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Server, git, sign};

/// The address space the server may use: a backstop, so a runaway allocation fails instead of
/// taking the machine. It counts mappings, not memory: the debug build maps about 600 MB at
/// idle (the binary, thread stacks, the allocator's reservations), so the limit is 2 GiB and
/// the memory actually used (peak resident set) is held to [`PEAK_MEMORY`].
const ADDRESS_SPACE: u64 = 2 << 30;
/// The most resident memory the server may have used by the end.
const PEAK_MEMORY: u64 = 1 << 30;
/// `--compare-timeout`: every case must be answered within it (and a second of grace).
const DEADLINE_SECS: u64 = 15;
const TOKEN: &str = "hostile-suite-api-token-7f3a9c";
const WEBHOOK_SECRET: &str = "hostile-suite-webhook-secret-0b1d";
/// Credentials the attacker's own requests carry: they must never come back or be kept.
const SET_PASSWORD: &str = "set-password-4e1f0a77";
const VALUES_PASSWORD: &str = "values-password-91c2d3";
const URL_TOKEN: &str = "ghp_urltoken5d6e7f80";

/// Extra files of a case: (path in the chart, text).
type Files = Vec<(&'static str, String)>;

/// A chart repository: tag `base` is a benign chart, every other tag adds one hostile template
/// (or file) to it.
fn hostile_repo(dir: &Path) {
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "replicas: 1\npassword: \"\"\n").unwrap();
    std::fs::write(
        chart.join("templates/app.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  replicas: {{ .Values.replicas | quote }}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  password: {{ .Values.password | quote }}\n",
    )
    .unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    git(dir, &["tag", "base"]);
    std::fs::write(chart.join("values.yaml"), "replicas: 3\npassword: \"\"\n").unwrap();
    git(dir, &["commit", "-qam", "benign"]);
    git(dir, &["tag", "benign"]);

    let parens = format!("{}1{}", "(print ".repeat(50_000), ")".repeat(50_000));
    let cases: Vec<(&str, String, Files)> = vec![
        (
            "indent",
            r#"a: {{ indent 1000000000000000 "x" }}"#.into(),
            vec![],
        ),
        (
            "nindent",
            r#"a: {{ nindent 1000000000000000 "x" }}"#.into(),
            vec![],
        ),
        (
            "printf-width",
            r#"a: {{ printf "%1000000000d" 1 | len }}"#.into(),
            vec![],
        ),
        (
            "until-step",
            "{{ range untilStep 0 9223372036854775807 1 }}{{ end }}".into(),
            vec![],
        ),
        (
            "seq",
            "a: {{ seq 1 100000000000 | len }}".into(),
            vec![],
        ),
        (
            "set-loop",
            r#"{{ $m := dict }}{{ range $i := until 10000000 }}{{ $_ := set $m (printf "k%d" $i) $i }}{{ end }}"#.into(),
            vec![],
        ),
        (
            "doubling",
            r#"{{ $s := "x" }}{{ range until 40 }}{{ $s = printf "%s%s" $s $s }}{{ end }}a: {{ len $s }}"#.into(),
            vec![],
        ),
        (
            "shared-toyaml",
            r#"{{ $a := list "leaf" }}{{ range until 40 }}{{ $a = list $a $a }}{{ end }}{{ toYaml $a }}"#.into(),
            vec![],
        ),
        ("parens", format!("a: {{{{ {parens} }}}}"), vec![]),
        (
            "schema",
            "a: 1".into(),
            vec![(
                "values.schema.json",
                r##"{"allOf":[{"$ref":"#"},{"$ref":"#"},{"$ref":"#"},{"$ref":"#"}]}"##.into(),
            )],
        ),
        (
            // Exponential for a backtracking matcher; the answer is a correct render.
            "glob",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: glob\ndata:\n  matched: \"{{ range $p, $_ := .Files.Glob \"**a**a**a**a**a**a**a**a**a**a**a**a**b\" }}{{ $p }}{{ end }}\"".into(),
            vec![(
                "files/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "x".into(),
            )],
        ),
        (
            // The helm backend must not read host files through a schema reference.
            "schema-file-ref",
            "a: 1".into(),
            vec![(
                "values.schema.json",
                r#"{"$ref":"file:///etc/passwd"}"#.into(),
            )],
        ),
    ];
    for (tag, template, files) in cases {
        git(dir, &["checkout", "-q", "base"]);
        git(dir, &["checkout", "-q", "-B", &format!("case-{tag}")]);
        std::fs::write(
            chart.join("templates/hostile.yaml"),
            format!("{template}\n"),
        )
        .unwrap();
        for (path, text) in files {
            let p = chart.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", tag]);
        git(dir, &["tag", tag]);
    }
}

/// Values whose aliases expand: 158 KB of request, two gigabytes of copies.
fn laughs() -> String {
    let row = "x".repeat(100);
    let mut s = format!("a: &a [{}]\n", vec![row.as_str(); 1000].join(","));
    s.push_str(&format!("b: [{}]\n", vec!["*a"; 19_000].join(",")));
    s
}

struct Suite {
    srv: Server,
    http: reqwest::blocking::Client,
    repo: String,
    /// Every answer body, searched for credentials at the end.
    answers: String,
}

impl Suite {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.srv.url)
    }

    /// Sends `req` (with the token when `auth`), checks the answer came within the deadline,
    /// and that health still answers; returns (status, body).
    fn send(&mut self, case: &str, req: reqwest::blocking::RequestBuilder) -> (u16, Value) {
        let started = Instant::now();
        let r = req.send().unwrap_or_else(|e| {
            panic!(
                "{case}: no answer: {e}\nthe server's log ends:\n{}",
                self.log_tail()
            )
        });
        let status = r.status().as_u16();
        let text = r.text().unwrap_or_default();
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(DEADLINE_SECS + 2),
            "{case}: answered after {took:?}, past the {DEADLINE_SECS} s deadline"
        );
        self.answers.push_str(&text);
        self.answers.push('\n');
        self.assert_healthy(case);
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        eprintln!(
            "hostile case {case}: {status} {} in {took:.2?}",
            body["code"].as_str().unwrap_or("")
        );
        (status, body)
    }

    fn log_tail(&self) -> String {
        let log = self.srv.log.lock().unwrap();
        let start = log.len().saturating_sub(4000);
        log.get(start..).unwrap_or(&log).to_owned()
    }

    fn assert_healthy(&self, case: &str) {
        let r = self
            .http
            .get(self.url("/api/health"))
            .timeout(Duration::from_secs(5))
            .send()
            .unwrap_or_else(|e| {
                panic!(
                    "after {case}: health does not answer: {e}\nthe server's log ends:\n{}",
                    self.log_tail()
                )
            });
        assert_eq!(r.status().as_u16(), 200, "after {case}: health");
    }

    fn compare(&self, body: &Value) -> reqwest::blocking::RequestBuilder {
        self.http
            .post(self.url("/api/compare"))
            .bearer_auth(TOKEN)
            .json(body)
    }

    fn case_body(&self, tag: &str) -> Value {
        json!({"repository": self.repo, "chartPath": "chart", "version1": "base", "version2": tag})
    }

    /// A client error (4xx) that names the problem.
    fn refused(&mut self, case: &str, req: reqwest::blocking::RequestBuilder) -> Value {
        let (status, body) = self.send(case, req);
        assert!(
            (400..500).contains(&status),
            "{case}: expected a client error, got {status}: {body}"
        );
        body
    }

    fn peak_memory_bytes(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.srv.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb * 1024
    }
}

fn prlimit_available() -> bool {
    std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn hostile_requests_get_fast_client_errors_and_leave_no_credential_behind() {
    if !prlimit_available() {
        // util-linux is on every Debian system; the suite needs it to mean anything.
        panic!("the hostile-input suite needs prlimit (util-linux)");
    }
    let tmp = tempfile::tempdir().unwrap();
    hostile_repo(&tmp.path().join("repo"));
    let gh = tmp.path().join("gh");
    std::fs::create_dir_all(&gh).unwrap();
    let data = tmp.path().join("data");
    let git_url = format!("file://{}", gh.display());
    let deadline = DEADLINE_SECS.to_string();
    let srv = Server::start_with(
        &data,
        &[
            "--allow-local-repos",
            "--compare-timeout",
            &deadline,
            "--max-concurrent-compares",
            "2",
            "--rate-limit",
            "0",
            "--header-read-timeout",
            "2",
            "--body-read-timeout",
            "3",
            "--max-connections-per-client",
            "24",
            "--github-git-url",
            &git_url,
            "--workers",
            "1",
        ],
        &[
            ("CHARTIMPACT_API_TOKEN", TOKEN),
            ("CHARTIMPACT_WEBHOOK_SECRETS", WEBHOOK_SECRET),
        ],
        Some(ADDRESS_SPACE),
    );
    let mut s = Suite {
        srv,
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(DEADLINE_SECS + 10))
            .build()
            .unwrap(),
        repo: format!("file://{}", tmp.path().join("repo").display()),
        answers: String::new(),
    };

    // A benign comparison works, with a password given by --set and one in inline values:
    // the Secret is redacted in the answer and neither is kept.
    let mut body = s.case_body("benign");
    body["set"] = json!([format!("password={SET_PASSWORD}")]);
    let (status, got) = s.send("benign", s.compare(&body));
    assert_eq!(status, 200, "{got}");
    let id = got["compareId"].as_str().unwrap().to_owned();
    let mut body = s.case_body("benign");
    body["valuesContent"] = json!(format!("password: {VALUES_PASSWORD}\n"));
    let (status, got) = s.send("benign-values", s.compare(&body));
    assert_eq!(status, 200, "{got}");
    let (status, stored) = s.send(
        "stored-result",
        s.http
            .get(s.url(&format!("/api/analysis/{id}")))
            .bearer_auth(TOKEN),
    );
    assert_eq!(status, 200);
    assert!(
        stored["comparison"]["request"]["setSha256"].is_array(),
        "{stored}"
    );

    // 1. Templates that size allocations, loops that grow without bound, YAML aliases.
    // `printf` widths and `seq` follow Go and Sprig at their caps (their output is no
    // manifest, so a clear 422 either way); the others meet a render limit.
    for (tag, code) in [
        ("indent", Some("limits_exceeded")),
        ("nindent", Some("limits_exceeded")),
        ("printf-width", None),
        ("until-step", Some("limits_exceeded")),
        ("seq", None),
        ("set-loop", Some("limits_exceeded")),
        ("doubling", Some("limits_exceeded")),
        ("shared-toyaml", Some("limits_exceeded")),
        ("parens", None),
    ] {
        let body = s.case_body(tag);
        let req = s.compare(&body);
        let got = s.refused(tag, req);
        assert!(got["error"].is_string(), "{tag}: {got}");
        if let Some(code) = code {
            assert_eq!(got["code"], code, "{tag}: {got}");
        }
    }
    let mut body = s.case_body("benign");
    body["valuesContent"] = json!(laughs());
    let req = s.compare(&body);
    s.refused("yaml-aliases", req);

    // 2. Work that stalls: a self-referring schema (four at once, two slots: the slots come
    // back), a backtracking glob (a correct render).
    let body = s.case_body("schema");
    let started = Instant::now();
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let req = s.compare(&body);
                scope.spawn(move || {
                    let r = req.send().unwrap();
                    (r.status().as_u16(), r.text().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, text) in &answers {
        assert!((400..500).contains(status), "schema: {status}: {text}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2 * DEADLINE_SECS + 4),
        "four schema bombs on two slots took {:?}",
        started.elapsed()
    );
    s.assert_healthy("schema x4");
    let body = s.case_body("benign");
    let req = s.compare(&body);
    let (status, _) = s.send("after-schema", req);
    assert_eq!(status, 200, "the compare slots came back");
    let body = s.case_body("glob");
    let req = s.compare(&body);
    let (status, got) = s.send("glob", req);
    assert_eq!(status, 200, "glob: {got}");
    assert!(
        got["diff"]
            .as_str()
            .unwrap()
            .contains("ConfigMap default/glob"),
        "{got}"
    );

    // 3 and 4. Credentials in URLs are refused, and not echoed.
    let mut body = s.case_body("benign");
    body["repository"] = json!(format!(
        "https://x-access-token:{URL_TOKEN}@github.com/acme/charts"
    ));
    let req = s.compare(&body);
    let got = s.refused("credentials-in-url", req);
    assert_eq!(got["code"], "credentials_in_url", "{got}");
    let req = s
        .http
        .post(s.url("/api/versions"))
        .bearer_auth(TOKEN)
        .json(&json!({"repository": format!("https://u:{URL_TOKEN}@github.com/acme/charts")}));
    s.refused("credentials-in-versions-url", req);

    // 5. Without the token nothing is readable; job ids are not a counter.
    for path in [
        "/api/analysis",
        &format!("/api/analysis/{id}"),
        "/api/jobs/1",
    ] {
        let req = s.http.get(s.url(path));
        let (status, _) = s.send("no-token", req);
        assert_eq!(status, 401, "{path}");
    }
    let body = s.case_body("benign");
    let req = s.http.post(s.url("/api/compare")).json(&body);
    let (status, _) = s.send("no-token-compare", req);
    assert_eq!(status, 401);
    let req = s
        .http
        .get(s.url("/api/analysis"))
        .bearer_auth("not-the-token-at-all-000");
    let (status, _) = s.send("wrong-token", req);
    assert_eq!(status, 401);
    let delivery = serde_json::to_vec(&json!({
        "action": "opened", "number": 7,
        "pull_request": {"number": 7, "state": "open", "draft": false, "labels": [],
            "head": {"sha": "1".repeat(40), "ref": "f", "repo": {"id": 1, "name": "charts", "full_name": "acme/charts", "owner": {"login": "acme", "id": 9}}},
            "base": {"sha": "2".repeat(40), "ref": "main", "repo": {"id": 1, "name": "charts", "full_name": "acme/charts", "owner": {"login": "acme", "id": 9}}}},
        "repository": {"id": 1, "name": "charts", "full_name": "acme/charts", "owner": {"login": "acme", "id": 9}, "default_branch": "main"},
    }))
    .unwrap();
    let req = s
        .http
        .post(s.url("/api/webhooks/github"))
        .header("content-type", "application/json")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", "hostile-1")
        .header("x-hub-signature-256", sign(&delivery, WEBHOOK_SECRET))
        .body(delivery.clone());
    let (status, ack) = s.send("signed-delivery", req);
    assert_eq!(status, 202, "{ack}");
    let job = ack["jobId"].as_str().unwrap().to_owned();
    assert!(
        job.len() == 32 && job.bytes().all(|b| b.is_ascii_hexdigit()),
        "{job}"
    );
    let req = s.http.get(s.url("/api/jobs/1")).bearer_auth(TOKEN);
    let (status, _) = s.send("sequential-job-id", req);
    assert_eq!(status, 404);
    let req = s
        .http
        .get(s.url(&format!("/api/jobs/{job}")))
        .bearer_auth(TOKEN);
    let (status, _) = s.send("public-job-id", req);
    assert_eq!(status, 200);

    // 6. The helm backend reads no host file (refused, or rendered without it).
    let mut body = s.case_body("schema-file-ref");
    body["renderer"] = json!("helm");
    let req = s.compare(&body);
    let (status, got) = s.send("helm-file-ref", req);
    assert!(
        status == 200 || (400..500).contains(&status),
        "{status}: {got}"
    );
    assert!(!got.to_string().contains("root:x:0:0"), "{got}");

    // 8. Webhook intake: checked before the body is read, bounded while it is.
    let req = s
        .http
        .post(s.url("/api/webhooks/github"))
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", "hostile-2")
        .body(delivery.clone());
    s.refused("unsigned-delivery", req);
    // A malformed signature is refused from the headers: the 20 MiB body is never sent.
    let addr = s.srv.url.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let answer = status_line(
        &addr,
        &format!(
            "POST /api/webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: hostile-3\r\nX-Hub-Signature-256: sha256=nothex\r\nContent-Length: {}\r\n\r\n",
            20 << 20
        ),
    );
    assert_eq!(answer, "HTTP/1.1 401", "malformed signature");
    eprintln!(
        "hostile case malformed-signature-20MiB: 401 in {:.2?}",
        started.elapsed()
    );
    s.assert_healthy("malformed signature");
    let big = vec![b'{'; 20 << 20];
    let req = s
        .http
        .post(s.url("/api/webhooks/github"))
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", "hostile-4")
        .header("x-hub-signature-256", sign(b"other", WEBHOOK_SECRET))
        .body(big);
    let (status, _) = s.send("wrong-signature-20MiB", req);
    assert_eq!(status, 401);
    // Declared larger than GitHub's cap: refused from the headers, before a byte of the body.
    let answer = status_line(
        &addr,
        &format!(
            "POST /api/webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: hostile-5\r\nX-Hub-Signature-256: {}\r\nContent-Length: {}\r\n\r\n",
            sign(b"x", WEBHOOK_SECRET),
            26 << 20
        ),
    );
    assert_eq!(answer, "HTTP/1.1 413", "oversized delivery");
    s.assert_healthy("oversized delivery");

    // Slow clients: headers that never finish, a body that trickles.
    let started = Instant::now();
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "a connection that never finished its headers stayed open {:?}",
        started.elapsed()
    );
    let mut slow = TcpStream::connect(&addr).unwrap();
    write!(
        slow,
        "POST /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"repo"
    )
    .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "slow body: {answer:?}");
    s.assert_healthy("slow clients");

    // A flood of connections from one client: those over its limit are closed, health
    // (from the same client, once they go) still answers.
    let flood: Vec<TcpStream> = (0..60)
        .filter_map(|_| TcpStream::connect(&addr).ok())
        .collect();
    let mut closed = 0;
    for mut c in flood {
        c.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut b = [0u8; 1];
        if matches!(c.read(&mut b), Ok(0)) {
            closed += 1;
        }
    }
    assert!(closed >= 30, "only {closed} of 60 connections were refused");
    s.assert_healthy("connection flood");

    // 10. Pages on other sites cannot make a browser post; bodies over the limit; JSON bombs.
    let body = s.case_body("benign");
    let req = s
        .http
        .post(s.url("/api/compare"))
        .bearer_auth(TOKEN)
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain")
        .body(body.to_string());
    let (status, _) = s.send("cross-site-post", req);
    assert_eq!(status, 403);
    let req = s
        .http
        .post(s.url("/api/compare"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(vec![b' '; 3 << 20]);
    let (status, _) = s.send("oversized-compare", req);
    assert_eq!(status, 413);
    let req = s
        .http
        .post(s.url("/api/compare"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("[".repeat(500_000));
    s.refused("deep-json", req);
    let mut body = s.case_body("benign");
    body["valuesContent"] = json!(format!(
        "a: {}1{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    ));
    let req = s.compare(&body);
    s.refused("deep-yaml", req);
    let mut body = s.case_body("benign");
    body["version2"] = json!(format!("v{}", "9".repeat(100_000)));
    let req = s.compare(&body);
    s.refused("long-revision", req);
    let mut body = s.case_body("benign");
    body["chartPath"] = json!("../../../../etc");
    let req = s.compare(&body);
    s.refused("chart-path-escape", req);

    let peak = s.peak_memory_bytes();
    eprintln!("hostile suite: peak memory {} MiB", peak >> 20);
    assert!(peak < PEAK_MEMORY, "peak memory {} MiB", peak >> 20);

    let answers = std::mem::take(&mut s.answers);
    let (status, log) = s.srv.stop();
    assert!(
        status.success(),
        "the server did not stop cleanly: {status:?}\n{log}"
    );
    let mut stored = Vec::new();
    collect_files(&data, &mut stored);
    for secret in [
        TOKEN,
        WEBHOOK_SECRET,
        SET_PASSWORD,
        VALUES_PASSWORD,
        URL_TOKEN,
    ] {
        assert!(!answers.contains(secret), "{secret} in an answer");
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
        for (path, bytes) in &stored {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} stored in {}",
                path.display()
            );
        }
    }
}

/// Every file under `dir` with its bytes (the database, its journal, the caches).
fn collect_files(dir: &Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p, bytes));
        }
    }
}

/// Sends `head` (a request's headers, its body left unsent) and reads the answer's first 12
/// bytes (`HTTP/1.1 NNN`).
fn status_line(addr: &str, head: &str) -> String {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(head.as_bytes()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = [0u8; 12];
    conn.read_exact(&mut answer).unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}
