//! Hostile clients over real HTTP: who may read what (tokens, local and anonymous requests),
//! requests from other sites, credentials in requests, work that overruns its deadline, slow
//! and greedy connections, the webhook intake's limits.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use helm_render::{ChartFiles, Options, Outcome, RenderError, Renderer, RendererInfo};
use serde_json::{Value, json};
use server::{AccessConfig, RecordingPublisher, Token};

use super::webhooks::{World, sign, webhook_setup};
use super::{Setup, TestServer, assert_error, compare_body, repo};
use crate::{FakeRenderer, engine_with};

const TOKEN: &str = "test-api-token-0123456789";

/// A renderer stuck where no deadline reaches it (it ignores `options.timeout`).
struct StuckRenderer {
    stuck_for: Duration,
    inner: FakeRenderer,
}

impl Renderer for StuckRenderer {
    fn info(&self) -> RendererInfo {
        self.inner.info()
    }
    fn render(&self, chart: &ChartFiles, options: &Options) -> Result<Outcome, RenderError> {
        std::thread::sleep(self.stuck_for);
        self.inner.render(chart, options)
    }
}

fn stuck(tmp: &std::path::Path, stuck_for: Duration) -> Arc<service::Engine> {
    Arc::new(engine_with(
        &tmp.join("data"),
        Arc::new(StuckRenderer {
            stuck_for,
            inner: FakeRenderer::default(),
        }),
    ))
}

impl TestServer {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn get_as(&self, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let r = self.client.get(format!("{}{path}", self.url));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }
}

fn with_token(mut setup: Setup) -> Setup {
    setup.config.access = AccessConfig {
        api_token: Some(Token::new(TOKEN).unwrap()),
        ..AccessConfig::default()
    };
    setup
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_the_api_needs_it_and_health_stays_open() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let mut setup = with_token(Setup::default());
    setup.config.access.metrics_token = Some(Token::new("metrics-token-0123456789").unwrap());
    let srv = TestServer::start(setup).await;

    // Anonymous: 401 everywhere on the API, with the scheme named.
    let anon = srv
        .send(
            srv.client
                .post(format!("{}/api/compare", srv.url))
                .json(&compare_body(&r)),
        )
        .await;
    assert_eq!(anon.0, 401, "{}", anon.1);
    assert_eq!(anon.1["code"], "unauthorized");
    for path in ["/api/analysis", "/api/analytics/charts/popular"] {
        let (s, body) = srv.send(srv.get_as(path, None)).await;
        assert_eq!(s, 401, "{path}: {body}");
    }
    let wrong = srv
        .send(srv.get_as("/api/analysis", Some("not-the-token-at-all")))
        .await;
    assert_eq!(wrong.0, 401);
    let r401 = srv.get_as("/api/analysis", None).send().await.unwrap();
    assert!(
        r401.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    // With the token: everything.
    let (s, done) = srv
        .send(
            srv.client
                .post(format!("{}/api/compare", srv.url))
                .bearer_auth(TOKEN)
                .json(&compare_body(&r)),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    let id = done["compareId"].as_str().unwrap();
    let (s, _) = srv
        .send(srv.get_as(&format!("/api/analysis/{id}"), Some(TOKEN)))
        .await;
    assert_eq!(s, 200);
    let (s, list) = srv.send(srv.get_as("/api/analysis", Some(TOKEN))).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["count"], 1);

    // Probes and the page itself need nothing; metrics need theirs.
    assert_eq!(srv.send(srv.get_as("/api/health", None)).await.0, 200);
    assert_eq!(srv.get_text("/").await.0, 200);
    assert_eq!(srv.get_text("/api/openapi.json").await.0, 200);
    assert_eq!(srv.send(srv.get_as("/metrics", None)).await.0, 401);
    assert_eq!(srv.send(srv.get_as("/metrics", Some(TOKEN))).await.0, 401);
    let (s, _) = srv
        .send(srv.get_as("/metrics", Some("metrics-token-0123456789")))
        .await;
    assert_eq!(s, 200);
}

/// Without a token, a request that is not plainly local (through a proxy, or naming another
/// host: DNS rebinding) may compare and read a result by id, nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_only_plainly_local_requests_read_what_others_stored() {
    let world = World::new();
    let publisher = Arc::new(RecordingPublisher::default());
    let srv = TestServer::start(webhook_setup(&world, publisher)).await;
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());

    let proxied = |req: reqwest::RequestBuilder| req.header("x-forwarded-for", "203.0.113.7");
    let rebound = |req: reqwest::RequestBuilder| req.header("host", "attacker.example:8080");

    // Anyone may compare, and read that result back by its id.
    let (s, done) = srv
        .send(proxied(
            srv.client
                .post(format!("{}/api/compare", srv.url))
                .json(&compare_body(&r)),
        ))
        .await;
    assert_eq!(s, 200, "{done}");
    let api_id = done["compareId"].as_str().unwrap().to_owned();
    let (s, _) = srv
        .send(proxied(
            srv.get_as(&format!("/api/analysis/{api_id}"), None),
        ))
        .await;
    assert_eq!(s, 200);

    // A webhook analysis: its job and result are the operator's.
    let (s, ack) = srv
        .deliver("pull_request", &world.pr("opened", 5, &world.head), "sec-1")
        .await;
    assert_eq!(s, 202, "{ack}");
    let job = ack["jobId"].as_str().unwrap().to_owned();
    assert_eq!(job.len(), 32, "a public id, not a sequence number: {job}");
    let done = srv.wait_job(&job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["id"], job.as_str());
    let webhook_id = done["compareIds"][0].as_str().unwrap().to_owned();

    for wrap in [proxied, rebound] {
        for path in [
            "/api/analysis".to_owned(),
            "/api/analytics/charts/popular".to_owned(),
            format!("/api/jobs/{job}"),
            format!("/api/analysis/{webhook_id}"),
        ] {
            let (s, body) = srv.send(wrap(srv.get_as(&path, None))).await;
            assert_eq!(s, 403, "{path}: {body}");
            assert_eq!(body["code"], "forbidden", "{body}");
            assert!(
                body["error"].as_str().unwrap().contains("--api-token"),
                "says how to get access: {body}"
            );
        }
    }
    // The same requests from this machine itself read everything (today's behaviour).
    assert_eq!(srv.get(&format!("/api/analysis/{webhook_id}")).await.0, 200);
    let (s, _, list) = srv.get("/api/analysis").await;
    assert_eq!(s, 200);
    assert_eq!(list["count"], 2, "{list}");
    // Sequential numbers do not name jobs.
    assert_eq!(srv.get("/api/jobs/1").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_on_other_sites_cannot_post() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup::default()).await;
    let body = compare_body(&r).to_string();
    // The simple request a page can send without a preflight: refused unread.
    let (s, got) = srv
        .send(
            srv.client
                .post(format!("{}/api/compare", srv.url))
                .header("origin", "https://evil.example")
                .header("content-type", "text/plain")
                .body(body.clone()),
        )
        .await;
    assert_eq!(s, 403, "{got}");
    assert_eq!(got["code"], "forbidden_origin");
    // This server's own page must send JSON.
    let own = srv.url.clone();
    let (s, got) = srv
        .send(
            srv.client
                .post(format!("{}/api/compare", srv.url))
                .header("origin", &own)
                .header("content-type", "text/plain")
                .body(body.clone()),
        )
        .await;
    assert_eq!(s, 415, "{got}");
    let (s, got) = srv
        .send(
            srv.client
                .post(format!("{}/api/compare", srv.url))
                .header("origin", &own)
                .header("content-type", "application/json")
                .body(body.clone()),
        )
        .await;
    assert_eq!(s, 200, "{got}");
    // Clients that are not browsers send no Origin: curl's default form type still works.
    let (s, got) = srv
        .send(
            srv.client
                .post(format!("{}/api/compare", srv.url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;
    assert_eq!(s, 200, "{got}");
}

/// Credentials in a request never come back: URLs with them are refused (without echoing
/// them), `--set` values and inline values are stored as digests only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_requests_are_refused_or_never_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup::default()).await;
    let secret = "s3cr3t-Pa55word";
    for (path, body) in [
        (
            "/api/compare",
            json!({"repository": format!("https://bob:{secret}@github.com/o/r"), "chartPath": "c", "version1": "a", "version2": "b"}),
        ),
        (
            "/api/versions",
            json!({"repository": format!("https://bob:{secret}@github.com/o/r")}),
        ),
        (
            "/api/charts",
            json!({"repository": format!("https://x-access-token:{secret}@github.com/o/r")}),
        ),
        (
            "/api/compare",
            json!({"helmRepository": format!("oci://bob:{secret}@registry.example/charts"), "chart": "c", "version1": "1", "version2": "2"}),
        ),
    ] {
        let got = srv.post(path, &body).await;
        assert_error(&got, 400, "credentials_in_url");
        assert!(!got.2.to_string().contains(secret), "{}", got.2);
    }

    let mut body = compare_body(&r);
    body["set"] = json!([format!("db.password={secret}")]);
    body["valuesContent"] = json!(format!("token: {secret}\n"));
    let (s, _, done) = srv.post("/api/compare", &body).await;
    assert_eq!(s, 200, "{done}");
    let id = done["compareId"].as_str().unwrap();
    let (_, _, stored) = srv.get(&format!("/api/analysis/{id}")).await;
    let text = stored.to_string();
    assert!(!text.contains(secret), "stored: {text}");
    let request = &stored["comparison"]["request"];
    assert_eq!(
        request["setSha256"].as_array().unwrap().len(),
        1,
        "{request}"
    );
    assert!(request["valuesContentSha256"].is_string(), "{request}");
    assert!(request.get("set").is_none(), "{request}");
    let (_, list) = srv.send(srv.get_as("/api/analysis", None)).await;
    assert!(!list.to_string().contains(secret));
}

/// Work stuck past its deadline: the caller gets 408 at the deadline, the slot is free for the
/// next request, health answers, and health counts the stuck thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_answers_and_frees_the_slot_even_when_the_work_does_not_stop() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let mut setup = Setup {
        service: Some(stuck(tmp.path(), Duration::from_secs(6))),
        ..Setup::default()
    };
    setup.config.compare_timeout = Duration::from_secs(1);
    setup.config.max_concurrent = 1;
    setup.config.max_queued = 0;
    let srv = Arc::new(TestServer::start(setup).await);
    let started = Instant::now();
    let got = srv.post("/api/compare", &compare_body(&r)).await;
    assert_error(&got, 408, "timeout");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // The one slot is free again: a second (different) compare is admitted, not refused.
    let mut other = compare_body(&r);
    other["releaseName"] = json!("second");
    let started = Instant::now();
    let got = srv.post("/api/compare", &other).await;
    assert_error(&got, 408, "timeout");
    assert!(started.elapsed() < Duration::from_secs(4));
    let (s, _, health) = srv.get("/api/health").await;
    assert_eq!(s, 200);
    assert_eq!(health["queue"]["overrunning"], 2, "{health}");
    // A third, while two threads are still stuck: at most as many overrunning threads as
    // slots are let go, so the slot stays with the second's thread and this one is refused.
    let mut third = compare_body(&r);
    third["releaseName"] = json!("third");
    let got = srv.post("/api/compare", &third).await;
    assert_error(&got, 503, "saturated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_analysis_overruns_fails_visibly_and_lets_its_lease_go() {
    let world = World::new();
    let publisher = Arc::new(RecordingPublisher::default());
    let mut setup = webhook_setup(&world, publisher.clone());
    let tmp = tempfile::tempdir().unwrap();
    setup.service = Some(stuck(tmp.path(), Duration::from_secs(8)));
    setup.config.workers.job_timeout = Duration::from_secs(1);
    let srv = TestServer::start(setup).await;
    let (s, ack) = srv
        .deliver(
            "pull_request",
            &world.pr("opened", 6, &world.head),
            "over-1",
        )
        .await;
    assert_eq!(s, 202, "{ack}");
    let started = Instant::now();
    let job = srv.wait_job(ack["jobId"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["error"].as_str().unwrap().contains("did not stop"),
        "{job}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(
        publisher.records().iter().any(|r| r.kind == "failed"),
        "the failure is published"
    );
}

/// Reads what the server sends until it closes the connection (or `limit` passes).
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_and_connection_floods_are_cut_off() {
    let mut setup = Setup::default();
    // Long enough that a busy machine's scheduling does not cut off what is sent on time,
    // short enough to see the slow headers cut off.
    setup.config.header_read_timeout = Duration::from_secs(3);
    setup.config.body_read_timeout = Duration::from_secs(1);
    let srv = TestServer::start(setup).await;
    // The flood is held against a server whose header deadline cannot pass while the test
    // connects: a connection closed at its deadline frees a slot, and on a loaded machine the
    // extra connection could then be let in.
    let mut setup = Setup::default();
    setup.config.header_read_timeout = Duration::from_secs(60);
    setup.config.max_connections_per_client = 4;
    let flood_srv = TestServer::start(setup).await;
    let addr = srv.url.trim_start_matches("http://").to_owned();
    let flood_addr = flood_srv.url.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        // Headers that never end: closed at the header deadline.
        let mut slow = TcpStream::connect(&addr).unwrap();
        slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n").unwrap();
        let (_, took) = read_until_closed(&mut slow, Duration::from_secs(10));
        assert!(took < Duration::from_secs(5), "slow headers held {took:?}");

        // A body that never arrives: 408 at the body deadline.
        let mut trickle = TcpStream::connect(&addr).unwrap();
        trickle
            .write_all(b"POST /api/compare HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"repo")
            .unwrap();
        let (answer, took) = read_until_closed(&mut trickle, Duration::from_secs(10));
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(took < Duration::from_secs(5), "slow body held {took:?}");

        // More connections than a client may hold: the extra ones are closed at once. The
        // server accepts in order, so the held ones are counted before the extra one.
        let held: Vec<TcpStream> = (0..4)
            .map(|_| TcpStream::connect(&flood_addr).unwrap())
            .collect();
        let mut extra = TcpStream::connect(&flood_addr).unwrap();
        let _ = extra.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
        let (answer, took) = read_until_closed(&mut extra, Duration::from_secs(5));
        assert!(answer.is_empty(), "{answer}");
        assert!(took < Duration::from_secs(1), "{took:?}");
        // Once they close, the client is let in again (as soon as the server has seen them go).
        drop(held);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let answer = loop {
            let mut again = TcpStream::connect(&flood_addr).unwrap();
            again
                .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let (answer, _) = read_until_closed(&mut again, Duration::from_secs(5));
            if !answer.is_empty() || std::time::Instant::now() > deadline {
                break answer;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_intake_checks_what_it_can_before_reading_and_bounds_the_rest() {
    let world = World::new();
    let publisher = Arc::new(RecordingPublisher::default());
    let mut setup = webhook_setup(&world, publisher);
    setup.config.body_read_timeout = Duration::from_secs(1);
    let srv = TestServer::start(setup).await;
    let addr = srv.url.trim_start_matches("http://").to_owned();
    let raw = move |head: String| {
        let addr = addr.clone();
        move || {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(head.as_bytes()).unwrap();
            read_until_closed(&mut s, Duration::from_secs(10))
        }
    };
    let headers = |sig: &str, len: u64| {
        format!(
            "POST /api/webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: d-1\r\n{sig}\
             Content-Length: {len}\r\nConnection: close\r\n\r\n"
        )
    };
    // No signature, a malformed one, a declared 100 MiB: answered without reading a byte.
    for (sig, len, status) in [
        ("", 1000, "400"),
        ("X-Hub-Signature-256: sha256=zz\r\n", 1000, "401"),
        (
            &*format!("X-Hub-Signature-256: sha256={}\r\n", "0".repeat(64)),
            100 << 20,
            "413",
        ),
    ] {
        let (answer, took) = tokio::task::spawn_blocking(raw(headers(sig, len)))
            .await
            .unwrap();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
    // A body that trickles: 408 at the body deadline.
    let sig = format!("X-Hub-Signature-256: sha256={}\r\n", "0".repeat(64));
    let (answer, took) = tokio::task::spawn_blocking(raw(headers(&sig, 5000) + "{\"a\":"))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(4), "{took:?}");

    // A sender that keeps failing its signature is refused unread for a while (20 a minute;
    // the malformed signature above was its first).
    let body = world.pr("opened", 4, &world.head);
    let mut statuses = Vec::new();
    for i in 0..25 {
        let (s, _) = srv
            .deliver_with(
                "pull_request",
                &body,
                &format!("bad-{i}"),
                Some(&sign(&body, "the-wrong-secret-0123456789")),
                "application/json",
            )
            .await;
        statuses.push(s);
    }
    assert!(statuses[..19].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[19..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_caches_are_held_to_their_limits_and_measured() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let engine = service::Engine::builder(tmp.path().join("data"))
        .policy(chart_source::UrlPolicy {
            allow_local: true,
            ..Default::default()
        })
        .renderers(service::Renderers {
            native: Some(Arc::new(FakeRenderer::default())),
            ..Default::default()
        })
        .mirror_cache_max_bytes(Some(1))
        .render_cache_max_bytes(Some(1))
        .build()
        .unwrap();
    let setup = Setup {
        service: Some(Arc::new(engine)),
        ..Setup::default()
    };
    let srv = TestServer::start(setup).await;
    let (s, body) = srv
        .send(
            srv.client
                .post(format!("{}/api/compare", srv.url))
                .json(&compare_body(&r)),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let renders = tmp.path().join("data/renders");
    let files = |dir: &std::path::Path| walk(dir).len();
    assert!(files(&renders) > 0, "the compare cached its renders");
    let usage = srv.state.enforce_disk_limits().await.unwrap();
    // Everything over the 1-byte limits goes (the mirror is not in use between requests).
    assert_eq!(usage.renders.bytes, 0, "{usage:?}");
    assert!(usage.renders.evicted >= 2, "{usage:?}");
    assert_eq!(usage.mirrors.bytes, 0, "{usage:?}");
    assert_eq!(usage.mirrors.evicted, 1, "{usage:?}");
    assert_eq!(files(&renders), 0);
    let (_, text) = srv.get_text("/metrics").await;
    for line in [
        "chartimpact_disk_cache_bytes{cache=\"renders\"} 0",
        "chartimpact_disk_cache_max_bytes{cache=\"mirrors\"} 1",
        "chartimpact_disk_cache_evictions_total{cache=\"mirrors\"}",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
    // The next compare clones and renders again, and still answers.
    let (s, body) = srv
        .send(
            srv.client
                .post(format!("{}/api/compare", srv.url))
                .json(&compare_body(&r)),
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_count_clients_behind_trusted_proxies_and_ipv6_per_64() {
    let mut setup = Setup::default();
    setup.config.rate_limit_per_minute = Some(1);
    setup.config.rate_limit_burst = 1;
    setup.config.access.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let srv = TestServer::start(setup).await;
    let from = |client: &str| {
        srv.client
            .get(format!("{}/api/analysis/nothing-here", srv.url))
            .header("x-forwarded-for", client.to_owned())
    };
    let status =
        |req: reqwest::RequestBuilder| async move { req.send().await.unwrap().status().as_u16() };
    // Each client behind the proxy has its own allowance.
    assert_eq!(status(from("203.0.113.1")).await, 404);
    assert_eq!(status(from("203.0.113.1")).await, 429);
    assert_eq!(status(from("203.0.113.2")).await, 404);
    // A client cannot reset its allowance by prepending addresses: the proxy appended its peer.
    assert_eq!(status(from("198.51.100.9, 203.0.113.2")).await, 429);
    // Addresses of one IPv6 /64 are one client.
    assert_eq!(status(from("2001:db8:1:2::1")).await, 404);
    assert_eq!(status(from("2001:db8:1:2::ffff")).await, 429);
    assert_eq!(status(from("2001:db8:1:3::1")).await, 404);
    drop(srv);

    // Without the proxy trusted, the header is the client's word: ignored.
    let mut setup = Setup::default();
    setup.config.rate_limit_per_minute = Some(1);
    setup.config.rate_limit_burst = 1;
    let srv = TestServer::start(setup).await;
    let from = |client: &str| {
        srv.client
            .get(format!("{}/api/analysis/nothing-here", srv.url))
            .header("x-forwarded-for", client.to_owned())
    };
    assert_eq!(status(from("203.0.113.1")).await, 404);
    assert_eq!(status(from("203.0.113.2")).await, 429);
}
