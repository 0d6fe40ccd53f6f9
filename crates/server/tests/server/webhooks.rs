//! GitHub webhooks end to end: signed deliveries over real HTTP, routed, deduplicated, queued
//! in the store and run by the server's workers against a local "GitHub" of bare repositories.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use server::{RecordingPublisher, WebhookConfig, WorkerConfig};

use super::{Setup, TestServer, repo};
use crate::git;

pub(crate) const SECRET: &str = "test-webhook-secret-0123456789";

pub fn sign(body: &[u8], secret: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// GitHub's real webhook payloads (`tests/data/github/webhooks`).
fn hooks_dir() -> PathBuf {
    testkit::github_data_dir().join("webhooks")
}

/// A local GitHub: `{root}/acme/charts.git` is the repository of `repo()` (tags v1, v2) plus a
/// third commit on branch `feature`.
pub struct World {
    pub root: PathBuf,
    pub base: String,
    pub head: String,
    pub head2: String,
    _tmp: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let r = repo(tmp.path());
        std::fs::write(
            r.dir.join("charts/app/templates/cm.yaml"),
            format!("{}three\n", super::CM),
        )
        .unwrap();
        git(&r.dir, &["add", "-A"]);
        git(&r.dir, &["commit", "-q", "-m", "three"]);
        git(&r.dir, &["branch", "feature"]);
        let root = tmp.path().join("gh");
        std::fs::create_dir_all(root.join("acme")).unwrap();
        let bare = root.join("acme/charts.git");
        git(
            &root,
            &[
                "clone",
                "-q",
                "--bare",
                &r.dir.to_string_lossy(),
                "acme/charts.git",
            ],
        );
        World {
            base: git(&bare, &["rev-parse", "v1^{commit}"]),
            head: git(&bare, &["rev-parse", "v2^{commit}"]),
            head2: git(&bare, &["rev-parse", "feature"]),
            root,
            _tmp: tmp,
        }
    }

    pub fn git_url(&self) -> String {
        format!("file://{}", self.root.display())
    }

    /// A `pull_request` delivery for acme/charts#`number` built from the shared real payload.
    pub fn pr(&self, action: &str, number: u64, head: &str) -> Vec<u8> {
        self.pr_in("charts", action, number, head)
    }

    /// The same for repository `acme/{name}` (which may not exist in the local GitHub); each
    /// name is another repository (another `repository.id`).
    pub fn pr_in(&self, name: &str, action: &str, number: u64, head: &str) -> Vec<u8> {
        let id = match name {
            "charts" => 424242,
            other => 500_000 + other.bytes().map(u64::from).sum::<u64>(),
        };
        self.pr_in_repo(id, name, action, number, head)
    }

    /// The same for the repository with id `id`, named `acme/{name}` (a rename keeps the id).
    pub fn pr_in_repo(
        &self,
        id: u64,
        name: &str,
        action: &str,
        number: u64,
        head: &str,
    ) -> Vec<u8> {
        let template = std::fs::read(hooks_dir().join("pull_request.opened.1.json")).unwrap();
        let mut p: Value = serde_json::from_slice(&template).unwrap();
        let repo = json!({"id": id, "name": name, "full_name": format!("acme/{name}"), "owner": {"login": "acme", "id": 99}, "default_branch": "main", "fork": false, "private": false});
        p["repository"] = repo.clone();
        p["action"] = json!(action);
        p["number"] = json!(number);
        let pr = &mut p["pull_request"];
        pr["number"] = json!(number);
        pr["state"] = json!(if action == "closed" { "closed" } else { "open" });
        pr["draft"] = json!(false);
        pr["head"]["sha"] = json!(head);
        pr["head"]["ref"] = json!("feature");
        pr["head"]["repo"] = repo.clone();
        pr["base"]["sha"] = json!(self.base);
        pr["base"]["ref"] = json!("main");
        pr["base"]["repo"] = repo;
        if let Some(o) = p.as_object_mut() {
            o.remove("installation");
        }
        serde_json::to_vec(&p).unwrap()
    }
}

pub fn webhook_setup(world: &World, publisher: Arc<RecordingPublisher>) -> Setup {
    let mut setup = Setup::default();
    let secrets = github_events::WebhookSecrets::from_list(&[SECRET]).unwrap();
    let mut cfg = WebhookConfig::new(secrets);
    cfg.git_url = world.git_url();
    setup.config.webhooks = Some(cfg);
    setup.config.workers = WorkerConfig {
        workers: 2,
        lease: Duration::from_secs(3),
        poll_interval: Duration::from_millis(50),
        max_attempts: 2,
        retry_base: Duration::from_millis(100),
        ..WorkerConfig::default()
    };
    setup.publisher = Some(publisher);
    setup
}

impl TestServer {
    pub async fn deliver(&self, event: &str, body: &[u8], delivery: &str) -> (u16, Value) {
        self.deliver_with(
            event,
            body,
            delivery,
            Some(&sign(body, SECRET)),
            "application/json",
        )
        .await
    }

    pub async fn deliver_with(
        &self,
        event: &str,
        body: &[u8],
        delivery: &str,
        signature: Option<&str>,
        content_type: &str,
    ) -> (u16, Value) {
        let mut r = self
            .client
            .post(format!("{}/api/webhooks/github", self.url))
            .header("content-type", content_type)
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .body(body.to_vec());
        if let Some(s) = signature {
            r = r.header("x-hub-signature-256", s);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Waits until the job is in a final state; returns it.
    pub async fn wait_job(&self, id: &str) -> Value {
        let start = Instant::now();
        loop {
            let (s, _, job) = self.get(&format!("/api/jobs/{id}")).await;
            assert_eq!(s, 200, "{job}");
            if ["succeeded", "failed", "superseded", "cancelled"]
                .contains(&job["status"].as_str().unwrap())
            {
                return job;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "job {id} stuck: {job}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_pr_delivery_becomes_a_job_that_publishes_once() {
    let world = World::new();
    let publisher = Arc::new(RecordingPublisher::default());
    let srv = TestServer::start(webhook_setup(&world, publisher.clone())).await;

    let body = world.pr("opened", 7, &world.head);
    let (s, ack) = srv.deliver("pull_request", &body, "d-1").await;
    assert_eq!(s, 202, "{ack}");
    assert_eq!(ack["status"], "accepted");
    let id = ack["jobId"].as_str().unwrap().to_owned();
    let job = srv.wait_job(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["key"], "acme/charts#pr/7");
    assert_eq!(job["revision"], world.head.as_str());
    let ids = job["compareIds"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{job}");
    let (s, _, stored) = srv
        .get(&format!("/api/analysis/{}", ids[0].as_str().unwrap()))
        .await;
    assert_eq!(s, 200, "{stored}");
    assert_eq!(stored["comparison"]["chartPath"], "charts/app");

    let records = publisher.records();
    let kinds: Vec<&str> = records.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, ["started", "finished"], "{records:?}");
    let md = records[1].markdown.as_deref().unwrap();
    assert!(
        md.contains("<!-- chartimpact:analysis:v1 -->") && md.contains("charts/app"),
        "{md}"
    );

    // The same delivery again: no new job.
    let (s, dup) = srv.deliver("pull_request", &body, "d-1").await;
    assert_eq!(s, 200, "{dup}");
    assert_eq!(dup["status"], "duplicate");
    assert_eq!(dup["jobId"], id.as_str());
    // A new delivery for the same head while nothing is running: a fresh run (reopened).
    let (s, again) = srv
        .deliver("pull_request", &world.pr("reopened", 7, &world.head), "d-2")
        .await;
    assert_eq!(s, 202, "{again}");
    assert_ne!(again["jobId"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_headers_and_media_types_are_checked_before_parsing() {
    let world = World::new();
    let srv = TestServer::start(webhook_setup(&world, Arc::default())).await;
    let body = world.pr("opened", 7, &world.head);
    let zeros = format!("sha256={}", "0".repeat(64));
    assert_eq!(
        srv.deliver_with("pull_request", &body, "a", Some(&zeros), "application/json")
            .await
            .0,
        401
    );
    let mut extra = body.clone();
    extra.push(b' ');
    assert_eq!(
        srv.deliver_with(
            "pull_request",
            &extra,
            "b",
            Some(&sign(&body, SECRET)),
            "application/json"
        )
        .await
        .0,
        401
    );
    let wrong = sign(&body, "another-secret-0123456789");
    assert_eq!(
        srv.deliver_with("pull_request", &body, "c", Some(&wrong), "application/json")
            .await
            .0,
        401
    );
    let (s, e) = srv
        .deliver_with("pull_request", &body, "d", None, "application/json")
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("X-Hub-Signature-256"));
    assert_eq!(
        srv.deliver_with(
            "pull_request",
            &body,
            "e",
            Some("sha256=zz"),
            "application/json"
        )
        .await
        .0,
        401
    );
    assert_eq!(
        srv.deliver_with(
            "pull_request",
            &body,
            "f",
            Some(&sign(&body, SECRET)),
            "text/plain"
        )
        .await
        .0,
        415
    );

    // Form-encoded deliveries (`payload=`) are signed over the form body.
    let encoded: String = body
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let form = format!("payload={encoded}").into_bytes();
    let (s, ack) = srv
        .deliver_with(
            "pull_request",
            &form,
            "g",
            Some(&sign(&form, SECRET)),
            "application/x-www-form-urlencoded",
        )
        .await;
    assert_eq!(s, 202, "{ack}");

    let ping = br#"{"zen":"Keep it logically awesome.","hook_id":1,"hook":{"events":["pull_request","push"]}}"#;
    let (s, pong) = srv.deliver("ping", ping, "h").await;
    assert_eq!((s, pong["status"].as_str()), (200, Some("pong")), "{pong}");
    let (s, ign) = srv.deliver("made_up_event", b"{\"x\":1}", "i").await;
    assert_eq!((s, ign["status"].as_str()), (200, Some("ignored")), "{ign}");

    // Without secrets the route does not exist.
    let plain = TestServer::start(Setup::default()).await;
    assert_eq!(plain.deliver("ping", ping, "j").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shared_payload_is_answered_without_a_server_error() {
    let dir = hooks_dir();
    let world = World::new();
    let srv = TestServer::start(webhook_setup(&world, Arc::default())).await;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 80);
    for (n, f) in files.iter().enumerate() {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let event = name.split('.').next().unwrap();
        let raw = std::fs::read(f).unwrap();
        let (s, body) = srv.deliver(event, &raw, &format!("corpus-{n}")).await;
        assert!(s == 200 || s == 202, "{name}: {s} {body}");
        let expect_run = name.starts_with("pull_request.opened.1")
            || name.starts_with("pull_request.synchronize.1")
            || name.starts_with("pull_request.reopened");
        if expect_run {
            assert_eq!(s, 202, "{name}: {body}");
        }
        if name.starts_with("pull_request.assigned") || name.starts_with("release.created") {
            assert_eq!(body["status"], "ignored", "{name}: {body}");
        }
    }
    let (s, _, h) = srv.get("/api/health").await;
    assert_eq!(s, 200, "{h}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_head_supersedes_and_a_closed_pr_cancels() {
    let world = World::new();
    let publisher = Arc::new(RecordingPublisher::default());
    let mut setup = webhook_setup(&world, publisher.clone());
    // Slow renders keep the first job running while the second head arrives.
    setup.renderer = None;
    let slow = Arc::new(super::limits::SlowRenderer::new(Duration::from_millis(
        1500,
    )));
    let data = tempfile::tempdir().unwrap();
    let engine = crate::engine_with(data.path(), slow);
    setup.service = Some(Arc::new(engine));
    let srv = TestServer::start(setup).await;

    let (_, first) = srv
        .deliver("pull_request", &world.pr("opened", 8, &world.head), "s-1")
        .await;
    let first = first["jobId"].as_str().unwrap().to_owned();
    // Wait until it runs.
    let start = Instant::now();
    while srv.get(&format!("/api/jobs/{first}")).await.2["status"] != "running" {
        assert!(start.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (s, second) = srv
        .deliver(
            "pull_request",
            &world.pr("synchronize", 8, &world.head2),
            "s-2",
        )
        .await;
    assert_eq!(s, 202, "{second}");
    assert_eq!(second["superseded"], json!([first]));
    let second = second["jobId"].as_str().unwrap().to_owned();
    // A duplicate trigger for the same head coalesces.
    let (_, third) = srv
        .deliver(
            "pull_request",
            &world.pr("synchronize", 8, &world.head2),
            "s-3",
        )
        .await;
    assert_eq!(third["jobId"], second.as_str());
    assert_eq!(third["coalesced"], true);

    assert_eq!(srv.wait_job(&first).await["status"], "superseded");
    assert_eq!(srv.wait_job(&second).await["status"], "succeeded");
    let finished: Vec<_> = publisher
        .records()
        .into_iter()
        .filter(|r| r.kind == "finished")
        .collect();
    assert_eq!(
        finished.len(),
        1,
        "only the newest head is published: {finished:?}"
    );
    assert_eq!(finished[0].job, second);
    // The superseded job told the publisher it stopped (to close what its start put up).
    let stopped: Vec<_> = publisher
        .records()
        .into_iter()
        .filter(|r| r.kind == "stopped")
        .map(|r| (r.job.clone(), r.outcome))
        .collect();
    assert_eq!(stopped, [(first.clone(), Some("superseded".to_owned()))]);

    // closed cancels a queued or running job of the PR.
    let (_, run) = srv
        .deliver("pull_request", &world.pr("opened", 9, &world.head), "c-1")
        .await;
    let run = run["jobId"].as_str().unwrap().to_owned();
    let (s, closed) = srv
        .deliver("pull_request", &world.pr("closed", 9, &world.head), "c-2")
        .await;
    assert_eq!(
        (s, closed["status"].as_str()),
        (200, Some("cancelled")),
        "{closed}"
    );
    assert_eq!(srv.wait_job(&run).await["status"], "cancelled");
    assert!(
        publisher
            .records()
            .iter()
            .all(|r| r.job != run || r.kind != "finished")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_repository_is_retried_then_fails_visibly() {
    let world = World::new();
    let publisher = Arc::new(RecordingPublisher::default());
    let srv = TestServer::start(webhook_setup(&world, publisher.clone())).await;
    let body = world.pr_in("missing", "opened", 3, &world.head);
    let (s, ack) = srv.deliver("pull_request", &body, "m-1").await;
    assert_eq!(s, 202, "{ack}");
    let job = srv.wait_job(ack["jobId"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["attempts"], 2, "retried once: {job}");
    assert!(
        job["error"].as_str().unwrap().contains("acme/missing"),
        "{job}"
    );
    assert!(publisher.records().iter().any(|r| r.kind == "failed"));
    // A re-delivery of a failed job's delivery runs it again.
    let (s, again) = srv.deliver("pull_request", &body, "m-1").await;
    assert_eq!(s, 202, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_run_each_job_exactly_once() {
    let Some(pg) = store::testing::postgres() else {
        return;
    };
    let url = pg.fresh_database().await;
    let world = World::new();
    let (p1, p2) = (
        Arc::new(RecordingPublisher::default()),
        Arc::new(RecordingPublisher::default()),
    );
    let mut s1 = webhook_setup(&world, p1.clone());
    s1.database_url = Some(url.clone());
    let mut s2 = webhook_setup(&world, p2.clone());
    s2.database_url = Some(url);
    let (a, b) = (TestServer::start(s1).await, TestServer::start(s2).await);
    let mut ids = Vec::new();
    for n in 0..24u64 {
        let srv = if n % 2 == 0 { &a } else { &b };
        let (s, ack) = srv
            .deliver(
                "pull_request",
                &world.pr("opened", 100 + n, &world.head),
                &format!("r-{n}"),
            )
            .await;
        assert_eq!(s, 202, "{ack}");
        ids.push(ack["jobId"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        assert_eq!(a.wait_job(id).await["status"], "succeeded");
    }
    let finished: Vec<String> = p1
        .records()
        .into_iter()
        .chain(p2.records())
        .filter(|r| r.kind == "finished")
        .map(|r| r.job.clone())
        .collect();
    let mut sorted = finished.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        finished.len(),
        "a job published twice: {finished:?}"
    );
    assert_eq!(finished.len(), ids.len());
    assert!(
        !p1.records().is_empty() && !p2.records().is_empty(),
        "both replicas worked"
    );
}

/// Finished jobs are purged by the cleanup once they are older than the result TTL; the job's
/// page then answers 404 saying it may have been purged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_jobs_are_purged_after_the_result_ttl() {
    let world = World::new();
    let clock = super::TestClock::default();
    let mut setup = webhook_setup(&world, Arc::default());
    setup.clock = Some(clock.clone());
    setup.config.result_ttl = Duration::from_secs(24 * 3600);
    let srv = TestServer::start(setup).await;
    let (s, ack) = srv
        .deliver(
            "pull_request",
            &world.pr("opened", 9, &world.head),
            "purge-1",
        )
        .await;
    assert_eq!(s, 202, "{ack}");
    let id = ack["jobId"].as_str().unwrap().to_owned();
    assert_eq!(srv.wait_job(&id).await["status"], "succeeded");

    // Not yet older than the TTL: kept.
    clock.advance(Duration::from_secs(23 * 3600));
    srv.state.cleanup_expired().await;
    let (s, _, job) = srv.get(&format!("/api/jobs/{id}")).await;
    assert_eq!(s, 200, "{job}");

    clock.advance(Duration::from_secs(2 * 3600));
    srv.state.cleanup_expired().await;
    let (s, _, body) = srv.get(&format!("/api/jobs/{id}")).await;
    assert_eq!(s, 404, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("may have been purged") && message.contains("kept 1 day)"),
        "{body}"
    );
    // A malformed id is just unknown.
    let (s, _, body) = srv.get("/api/jobs/not-a-job").await;
    assert_eq!(s, 404, "{body}");
    assert!(!body.to_string().contains("purged"), "{body}");
}
