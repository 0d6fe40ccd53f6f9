//! Private repositories end to end: the real server with its workers, a repository served by
//! `git http-backend` behind basic auth on loopback (testkit's `GitHttpServer`), and the fake
//! GitHub issuing installation tokens. The server authenticates git with its GitHub
//! credentials — an installation token for the one repository, or the token — sent only in
//! the `Authorization` header, and the token appears nowhere it could leak.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use server::{GithubPublisher, STATUS_CONTEXT};
use testkit::{FakeGithub, GitHttpServer};

use super::webhooks::{World, webhook_setup};
use super::{Setup, TestServer};
use crate::git;

const APP_ID: u64 = 4242;
const INSTALLATION: u64 = 77;
const TOKEN: &str = "ghp_PRIVATEREPOtoken0123456789abcdef";
const MARKER: &str = "<!-- chartimpact:analysis:v1 -->";

/// Everything the process logs, for every test of this binary (tokens are per test).
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let buf = buf.clone();
            move || LogWriter(buf.clone())
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,sqlx=warn,hyper=info,h2=info,reqwest=info,rustls=info,gix=info",
            ))
            .with_ansi(false)
            .with_writer(writer)
            .try_init();
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The default branch `main` at the base (v1), as on GitHub where the PR's base is `main`.
fn set_default_branch(world: &World) {
    let bare = world.root.join("acme/charts.git");
    git(&bare, &["branch", "-f", "main", &world.base]);
    git(&bare, &["symbolic-ref", "HEAD", "refs/heads/main"]);
}

fn engine(dir: &std::path::Path, host_port: &str) -> Arc<dyn service::CompareService> {
    engine_with(dir, host_port, Arc::new(testkit::FakeRenderer::default()))
}

fn engine_with(
    dir: &std::path::Path,
    host_port: &str,
    renderer: Arc<dyn helm_render::Renderer>,
) -> Arc<dyn service::CompareService> {
    Arc::new(
        service::Engine::builder(dir)
            .policy(chart_source::UrlPolicy {
                allowed_hosts: vec![host_port.to_owned()],
                allow_private_addresses: true,
                plain_http_hosts: vec![host_port.to_owned()],
                ..Default::default()
            })
            .renderers(service::Renderers {
                native: Some(renderer),
                ..Default::default()
            })
            .build()
            .unwrap(),
    )
}

fn app_client(fake: &FakeGithub) -> github_client::GithubClient {
    fake.set_app(APP_ID, "chartimpact", Some(testkit::TEST_APP_PRIVATE_KEY));
    github_client::GithubClient::builder(&fake.url())
        .auth(github_client::Auth::App {
            app_id: APP_ID,
            private_key_pem: testkit::TEST_APP_PRIVATE_KEY.into(),
        })
        .min_write_spacing(Duration::ZERO)
        .retry_backoff(Duration::from_millis(20))
        .build()
        .unwrap()
}

fn token_client(fake: &FakeGithub, token: &str) -> github_client::GithubClient {
    github_client::GithubClient::builder(&fake.url())
        .auth(github_client::Auth::Token(token.into()))
        .min_write_spacing(Duration::ZERO)
        .retry_backoff(Duration::from_millis(20))
        .build()
        .unwrap()
}

/// The server, its git URL on `git`, publishing and fetching with `client`.
async fn start(
    world: &World,
    git: &GitHttpServer,
    client: github_client::GithubClient,
    tune: impl FnOnce(&mut Setup),
) -> TestServer {
    static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Inside the world's temporary directory: removed with it.
    let data = world.root.parent().unwrap().join(format!("engine-{n}"));
    let mut setup = webhook_setup(world, Arc::default());
    if let Some(w) = setup.config.webhooks.as_mut() {
        w.git_url = git.url();
        w.policy.push_branches = vec!["*".into()];
    }
    setup.service = Some(engine(&data, &git.host_port()));
    let publisher = client.clone();
    setup.publisher_on_store = Some(Box::new(move |store| {
        Arc::new(GithubPublisher::new(
            publisher,
            Some("http://ci.example.test".into()),
            store,
        ))
    }));
    setup.git_client = Some(client);
    tune(&mut setup);
    TestServer::start(setup).await
}

/// A private repository's delivery: `private: true`, from App installation `installation`.
fn private(body: Vec<u8>, installation: Option<u64>) -> Vec<u8> {
    let mut p: Value = serde_json::from_slice(&body).unwrap();
    p["repository"]["private"] = json!(true);
    if let Some(pr) = p.get_mut("pull_request") {
        pr["head"]["repo"]["private"] = json!(true);
        pr["base"]["repo"]["private"] = json!(true);
    }
    if let Some(id) = installation {
        p["installation"] =
            json!({"id": id, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNzc="});
    }
    serde_json::to_vec(&p).unwrap()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Our final status on `sha`, once there is one.
async fn final_status(fake: &FakeGithub, sha: &str) -> testkit::StoredStatus {
    wait_for("a final status", || {
        fake.statuses("acme", "charts", sha)
            .iter()
            .any(|s| s.state != "pending")
    })
    .await;
    let all = fake.statuses("acme", "charts", sha);
    assert!(all.iter().all(|s| s.context == STATUS_CONTEXT), "{all:?}");
    all.last().unwrap().clone()
}

/// Everything a token could leak into: the job and list APIs, every stored result, the
/// comments, statuses and check runs posted, and the log.
async fn assert_nowhere(srv: &TestServer, fake: &FakeGithub, job: &str, secrets: &[String]) {
    let (_, _, job) = srv.get(&format!("/api/jobs/{job}")).await;
    let (_, _, list) = srv.get("/api/analysis?limit=50").await;
    let mut texts = vec![job.to_string(), list.to_string()];
    for id in job["compareIds"].as_array().into_iter().flatten() {
        let (_, _, stored) = srv
            .get(&format!("/api/analysis/{}", id.as_str().unwrap()))
            .await;
        texts.push(stored.to_string());
    }
    for c in fake.comments("acme", "charts", 7) {
        texts.push(c.body);
    }
    for r in fake.requests() {
        if !r.path.contains("access_tokens") {
            texts.push(r.body.clone());
        }
    }
    texts.push(String::from_utf8_lossy(&logs().lock().unwrap()).into_owned());
    for secret in secrets {
        for t in &texts {
            assert!(
                !t.contains(secret.as_str()),
                "a token leaked into: {t:.300}"
            );
        }
    }
}

/// Git saw credentials on every request, only in the `Authorization` header.
fn assert_header_only(git: &GitHttpServer, password_prefix: &str) -> Vec<String> {
    let seen = git.requests();
    assert!(
        seen.iter()
            .any(|r| r.method == "POST" && r.target.contains("git-upload-pack")),
        "{seen:?}"
    );
    let mut tokens = Vec::new();
    for r in &seen {
        let (user, pass) = r
            .basic_credentials()
            .unwrap_or_else(|| panic!("a request without credentials: {r:?}"));
        assert_eq!(user, "x-access-token");
        assert!(pass.starts_with(password_prefix), "{r:?}");
        assert!(!r.target.contains(&pass), "a token in a URL: {r:?}");
        tokens.push(pass);
    }
    tokens.sort();
    tokens.dedup();
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_pull_request_is_read_with_an_installation_token_for_the_one_repository() {
    logs();
    let world = World::new();
    set_default_branch(&world);
    let fake = FakeGithub::start().await;
    let client = app_client(&fake);
    let git = GitHttpServer::start_with(&world.root, fake.git_credential_check());
    fake.add_pull_request(
        "acme",
        "charts",
        7,
        &world.head,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
    let srv = start(&world, &git, client, |_| {}).await;

    let body = private(world.pr("opened", 7, &world.head), Some(INSTALLATION));
    let (s, ack) = srv.deliver("pull_request", &body, "priv-1").await;
    assert_eq!(s, 202, "{ack}");
    let job = ack["jobId"].as_str().unwrap().to_owned();
    let last = final_status(&fake, &world.head).await;
    assert_eq!(last.state, "success", "{last:?}");
    let done = srv.wait_job(&job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let ours: Vec<_> = fake
        .comments("acme", "charts", 7)
        .into_iter()
        .filter(|c| c.body.contains(MARKER))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].body.contains("charts/app"), "{}", ours[0].body);
    let runs = fake.check_runs("acme", "charts");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].status, "completed");

    // The tokens git used were minted for this installation and this repository alone.
    let tokens = assert_header_only(&git, "ghs_fake77x");
    let mints: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == format!("/app/installations/{INSTALLATION}/access_tokens"))
        .filter(|r| {
            r.json()
                .is_some_and(|b| b["repositories"] == json!(["charts"]))
        })
        .collect();
    assert!(!mints.is_empty(), "no repository-scoped token was minted");
    assert_nowhere(&srv, &fake, &job, &tokens).await;
    fake.assert_no_validation_failures();
    // Every line the job logged names its job, delivery and installation.
    let log = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
    let started = log
        .lines()
        .find(|l| l.contains("job started") && l.contains("delivery_id=priv-1"))
        .unwrap_or_else(|| panic!("no 'job started' line of delivery priv-1"));
    assert!(
        started.contains(&format!("job_id={job}"))
            && started.contains(&format!("installation_id={INSTALLATION}")),
        "{started}"
    );

    // A branch-creating push is analysed against where it left the default branch.
    let push = json!({
        "ref": "refs/heads/feature",
        "before": "0".repeat(40),
        "after": world.head2,
        "created": true,
        "deleted": false,
        "forced": false,
        "commits": [],
        "head_commit": null,
        "repository": {"id": 424242, "name": "charts", "full_name": "acme/charts",
                       "owner": {"login": "acme", "id": 99}, "default_branch": "main", "private": true},
        "installation": {"id": INSTALLATION},
        "sender": {"login": "octocat"},
    });
    let (s, ack) = srv
        .deliver("push", &serde_json::to_vec(&push).unwrap(), "priv-push")
        .await;
    assert_eq!(s, 202, "{ack}");
    let last = final_status(&fake, &world.head2).await;
    assert_eq!(last.state, "success", "{last:?}");
    let description = last.description.unwrap_or_default();
    assert!(
        description.contains("1 chart comparison"),
        "compared with the merge base (v1), so the chart changed: {description}"
    );
    // The check run is completed after the status is set.
    wait_for("the push's completed check run", || {
        fake.check_runs("acme", "charts")
            .iter()
            .any(|r| r.head_sha == world.head2 && r.status == "completed")
    })
    .await;

    // A deleted branch is ignored: nothing runs, nothing is written.
    let mut deleted = push.clone();
    deleted["before"] = json!(world.head2);
    deleted["after"] = json!("0".repeat(40));
    deleted["deleted"] = json!(true);
    deleted["created"] = json!(false);
    let (s, ack) = srv
        .deliver("push", &serde_json::to_vec(&deleted).unwrap(), "priv-del")
        .await;
    assert_eq!((s, ack["status"].as_str()), (200, Some("ignored")), "{ack}");

    // A published release: against the previous tag, its result on the tag's commit.
    let release = json!({
        "action": "published",
        "release": {"id": 1, "tag_name": "v2", "target_commitish": "main", "name": "v2",
                    "draft": false, "prerelease": false},
        "repository": {"id": 424242, "name": "charts", "full_name": "acme/charts",
                       "owner": {"login": "acme", "id": 99}, "default_branch": "main", "private": true},
        "installation": {"id": INSTALLATION},
        "sender": {"login": "octocat"},
    });
    let (s, ack) = srv
        .deliver(
            "release",
            &serde_json::to_vec(&release).unwrap(),
            "priv-rel",
        )
        .await;
    assert_eq!(s, 202, "{ack}");
    let job = ack["jobId"].as_str().unwrap().to_owned();
    let done = srv.wait_job(&job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    // v2's commit is the PR's head: its statuses now end with the release's result.
    wait_for("the release's status", || {
        fake.statuses("acme", "charts", &world.head).len() >= 3
    })
    .await;
    let last = fake.statuses("acme", "charts", &world.head).pop().unwrap();
    assert_eq!(last.state, "success", "{last:?}");
    let runs = fake.check_runs("acme", "charts");
    assert_eq!(
        runs.iter()
            .filter(|r| r.head_sha == world.head && r.status == "completed")
            .count(),
        2,
        "the PR's run and the release's: {runs:?}"
    );
    let tokens = assert_header_only(&git, "ghs_fake77x");
    assert_nowhere(&srv, &fake, &job, &tokens).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_token_reads_the_private_repository_and_a_wrong_one_fails_visibly() {
    logs();
    let world = World::new();
    let fake = FakeGithub::start().await;
    let git = GitHttpServer::start_basic(&world.root, "x-access-token", TOKEN);
    fake.add_pull_request(
        "acme",
        "charts",
        7,
        &world.head,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
    let srv = start(&world, &git, token_client(&fake, TOKEN), |_| {}).await;
    let body = private(world.pr("opened", 7, &world.head), None);
    let (s, ack) = srv.deliver("pull_request", &body, "tok-1").await;
    assert_eq!(s, 202, "{ack}");
    let job = ack["jobId"].as_str().unwrap().to_owned();
    assert_eq!(final_status(&fake, &world.head).await.state, "success");
    let ours = fake.comments("acme", "charts", 7);
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(assert_header_only(&git, TOKEN), vec![TOKEN.to_owned()]);
    assert_nowhere(&srv, &fake, &job, &[TOKEN.to_owned()]).await;
    srv.shutdown().await;

    // The server's token is not one the git server takes: the job fails for good, saying
    // which repository refused access and never showing the token.
    let wrong = "ghp_WRONGtoken0000000000000000";
    let fake = FakeGithub::start().await;
    fake.add_pull_request(
        "acme",
        "charts",
        8,
        &world.head,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
    let srv = start(&world, &git, token_client(&fake, wrong), |_| {}).await;
    let body = private(world.pr("opened", 8, &world.head), None);
    let (s, ack) = srv.deliver("pull_request", &body, "tok-2").await;
    assert_eq!(s, 202, "{ack}");
    let job = ack["jobId"].as_str().unwrap().to_owned();
    let done = srv.wait_job(&job).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap_or_default().to_owned();
    assert!(
        error.contains("/acme/charts") && error.contains("refused"),
        "{done}"
    );
    let last = final_status(&fake, &world.head).await;
    assert_eq!(last.state, "error", "{last:?}");
    let comment = fake.comments("acme", "charts", 8).pop().unwrap().body;
    assert!(
        comment.contains("repository_access_denied") && comment.contains("/acme/charts"),
        "{comment}"
    );
    assert_nowhere(&srv, &fake, &job, &[wrong.to_owned(), TOKEN.to_owned()]).await;
    assert!(
        done["attempts"].as_u64() == Some(1),
        "refused credentials are final, not retried: {done}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forks_by_outsiders_are_not_run_and_a_moved_pull_ref_is_refused() {
    logs();
    let world = World::new();
    let fake = FakeGithub::start().await;
    let git = GitHttpServer::start_basic(&world.root, "x-access-token", TOKEN);
    fake.add_pull_request(
        "acme",
        "charts",
        7,
        &world.head,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
    let srv = start(&world, &git, token_client(&fake, TOKEN), |setup| {
        if let Some(w) = setup.config.webhooks.as_mut() {
            w.policy.allow_forks = true;
            w.policy.trigger_labels = vec!["chartimpact".into()];
        }
    })
    .await;
    let fork_at = |association: &str, delivery: &str, action: &str, head: &str| {
        let mut p: Value = serde_json::from_slice(&world.pr(action, 7, head)).unwrap();
        p["pull_request"]["head"]["repo"] = json!({"id": 777, "name": "charts", "full_name": "outsider/charts", "fork": true,
                   "owner": {"login": "outsider", "id": 5}});
        p["pull_request"]["author_association"] = json!(association);
        let body = serde_json::to_vec(&p).unwrap();
        (body, delivery.to_owned())
    };
    let fork =
        |association: &str, delivery: &str| fork_at(association, delivery, "opened", &world.head);
    // An outsider's fork: ignored, nothing fetched, nothing written.
    let (body, id) = fork("NONE", "fork-1");
    let (s, ack) = srv.deliver("pull_request", &body, &id).await;
    assert_eq!((s, ack["status"].as_str()), (200, Some("ignored")), "{ack}");
    assert!(
        ack["reason"]
            .as_str()
            .unwrap()
            .contains("without write access")
    );
    assert!(git.requests().is_empty());

    // A collaborator's fork whose pull ref has moved on to another commit: refused, never
    // analysed as if it were the payload's head.
    let bare = world.root.join("acme/charts.git");
    git_update_ref(&bare, "refs/pull/7/head", &world.head2);
    let (body, id) = fork("COLLABORATOR", "fork-2");
    let (s, ack) = srv.deliver("pull_request", &body, &id).await;
    assert_eq!(s, 202, "{ack}");
    let job = ack["jobId"].as_str().unwrap().to_owned();
    let done = srv.wait_job(&job).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        done["error"].as_str().unwrap().contains("moved on"),
        "{done}"
    );
    assert_ne!(final_status(&fake, &world.head).await.state, "success");
    let comment = fake.comments("acme", "charts", 7).pop().unwrap().body;
    assert!(comment.contains("moved on"), "{comment}");

    // The push that moved it arrives: its head is where the pull ref points, and is analysed.
    fake.add_pull_request(
        "acme",
        "charts",
        7,
        &world.head2,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
    let (body, id) = fork_at("COLLABORATOR", "fork-3", "synchronize", &world.head2);
    let (s, ack) = srv.deliver("pull_request", &body, &id).await;
    assert_eq!(s, 202, "{ack}");
    let job = ack["jobId"].as_str().unwrap().to_owned();
    let done = srv.wait_job(&job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    wait_for("the fork's success", || {
        fake.statuses("acme", "charts", &world.head2)
            .last()
            .is_some_and(|s| s.state == "success")
    })
    .await;
    assert_eq!(fake.comments("acme", "charts", 7).len(), 1);

    // An outsider's fork a maintainer labelled for analysis: run.
    let (body, id) = fork_at("NONE", "fork-4", "labeled", &world.head2);
    let mut p: Value = serde_json::from_slice(&body).unwrap();
    p["label"] = json!({"name": "chartimpact"});
    p["pull_request"]["labels"] = json!([{"name": "chartimpact"}]);
    let (s, ack) = srv
        .deliver("pull_request", &serde_json::to_vec(&p).unwrap(), &id)
        .await;
    assert_eq!(s, 202, "a labelled outsider's fork runs: {ack}");
    let job = ack["jobId"].as_str().unwrap().to_owned();
    assert_eq!(srv.wait_job(&job).await["status"], "succeeded");
    wait_for("the labelled fork's success", || {
        fake.statuses("acme", "charts", &world.head2)
            .iter()
            .filter(|s| s.state == "success")
            .count()
            >= 2
    })
    .await;
    assert_eq!(fake.comments("acme", "charts", 7).len(), 1);
}

fn git_update_ref(bare: &std::path::Path, name: &str, sha: &str) {
    git(bare, &["update-ref", name, sha]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_github_refuses_as_too_long_is_posted_at_half_the_size() {
    logs();
    let world = World::new();
    let fake = FakeGithub::start().await;
    let git = GitHttpServer::start_basic(&world.root, "x-access-token", TOKEN);
    fake.add_pull_request(
        "acme",
        "charts",
        7,
        &world.head,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
    fake.set_comment_limit(1000);
    let srv = start(&world, &git, token_client(&fake, TOKEN), |_| {}).await;
    let body = private(world.pr("opened", 7, &world.head), None);
    let (s, _) = srv.deliver("pull_request", &body, "long-1").await;
    assert_eq!(s, 202);
    assert_eq!(final_status(&fake, &world.head).await.state, "success");
    let refused = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/issues/7/comments") && r.status == 422)
        .count();
    let natural = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/issues/7/comments") && r.method == "POST")
        .map(|r| r.json().unwrap()["body"].as_str().unwrap().chars().count())
        .collect::<Vec<_>>();
    assert!(
        refused >= 1,
        "the full report was refused first: {natural:?}"
    );
    let comments = fake.comments("acme", "charts", 7);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let text = &comments[0].body;
    assert!(text.chars().count() <= 1000, "{}", text.chars().count());
    assert!(
        text.contains(MARKER) && text.contains("charts/app"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_job_says_so_then_runs() {
    logs();
    let world = World::new();
    let fake = FakeGithub::start().await;
    let git = GitHttpServer::start_basic(&world.root, "x-access-token", TOKEN);
    for (n, head) in [(7, &world.head), (8, &world.head2)] {
        fake.add_pull_request(
            "acme",
            "charts",
            n,
            head,
            &world.base,
            ["charts/app/templates/cm.yaml"],
        );
    }
    let srv = start(&world, &git, token_client(&fake, TOKEN), |setup| {
        setup.config.workers.limits.max_active_per_repo = 1;
    })
    .await;
    let one = world.pr("opened", 7, &world.head);
    let two = world.pr("opened", 8, &world.head2);
    let (_, a) = srv.deliver("pull_request", &one, "def-1").await;
    let (_, b) = srv.deliver("pull_request", &two, "def-2").await;
    assert_eq!(b["deferred"], true, "{a} {b}");
    wait_for("the deferred job's success", || {
        fake.statuses("acme", "charts", &world.head2)
            .iter()
            .any(|s| s.state == "success")
    })
    .await;
    let states: Vec<_> = fake
        .statuses("acme", "charts", &world.head2)
        .into_iter()
        .map(|s| (s.state, s.description.unwrap_or_default()))
        .collect();
    assert!(
        states[0].0 == "pending" && states[0].1.contains("Queue full"),
        "{states:?}"
    );
    final_status(&fake, &world.head).await;
    assert_eq!(fake.comments("acme", "charts", 7).len(), 1);
    assert_eq!(fake.comments("acme", "charts", 8).len(), 1);
}

/// Renders each template as is, after Helm's `# Source: app/templates/…` comment.
struct SourceComments;

impl helm_render::Renderer for SourceComments {
    fn info(&self) -> helm_render::RendererInfo {
        helm_render::RendererInfo {
            name: "native",
            version: "sources-1".into(),
        }
    }

    fn render(
        &self,
        chart: &helm_render::ChartFiles,
        _options: &helm_render::Options,
    ) -> Result<helm_render::Outcome, helm_render::RenderError> {
        let mut manifest = String::new();
        for (path, data) in chart.iter() {
            if path.starts_with("templates/") && path.ends_with(".yaml") {
                manifest.push_str(&format!("---\n# Source: app/{path}\n"));
                manifest.push_str(&String::from_utf8_lossy(data));
            }
        }
        Ok(helm_render::Outcome {
            manifest,
            renderer: self.info(),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_signals_are_annotated_on_their_template_in_the_check_run() {
    logs();
    let world = World::new();
    set_default_branch(&world);
    // The default branch carries a policy whose rule makes any ConfigMap data change high risk.
    let bare = world.root.join("acme/charts.git");
    let work = world.root.parent().unwrap().join("policy-work");
    git(
        world.root.parent().unwrap(),
        &["clone", "-q", &bare.to_string_lossy(), "policy-work"],
    );
    git(&work, &["checkout", "-q", "main"]);
    std::fs::write(
        work.join(".chartimpact.yaml"),
        "rules:\n- path: data\n  kinds: [ConfigMap]\n  level: high\n  title: Configuration changed\n",
    )
    .unwrap();
    git(&work, &["add", "-A"]);
    git(
        &work,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "-m",
            "policy",
        ],
    );
    git(&work, &["push", "-q", "origin", "HEAD:main"]);

    let fake = FakeGithub::start().await;
    let client = app_client(&fake);
    let git_server = GitHttpServer::start_with(&world.root, fake.git_credential_check());
    fake.add_pull_request(
        "acme",
        "charts",
        7,
        &world.head,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
    let data = world.root.parent().unwrap().join("engine-sources");
    let host_port = git_server.host_port();
    let srv = start(&world, &git_server, client, |setup| {
        setup.service = Some(engine_with(&data, &host_port, Arc::new(SourceComments)));
    })
    .await;
    let body = private(world.pr("opened", 7, &world.head), Some(INSTALLATION));
    let (s, ack) = srv.deliver("pull_request", &body, "annot-1").await;
    assert_eq!(s, 202, "{ack}");
    final_status(&fake, &world.head).await;
    wait_for("the completed check run", || {
        fake.check_runs("acme", "charts")
            .iter()
            .any(|r| r.status == "completed")
    })
    .await;
    let run = fake
        .check_runs("acme", "charts")
        .into_iter()
        .find(|r| r.status == "completed")
        .unwrap();
    assert!(!run.annotations.is_empty(), "{run:?}");
    let a = &run.annotations[0];
    assert_eq!(a["path"], "charts/app/templates/cm.yaml", "{a}");
    // The line that writes the changed field (`data.key`: `  key: three`), not line 1.
    assert_eq!(
        (a["start_line"].as_u64(), a["end_line"].as_u64()),
        (Some(6), Some(6)),
        "{a}"
    );
    let cm = format!("{}three\n", crate::CM);
    assert_eq!(cm.lines().nth(5), Some("  key: three"));
    assert_eq!(a["annotation_level"], "warning");
    assert!(
        a["title"]
            .as_str()
            .unwrap()
            .contains("Configuration changed"),
        "{a}"
    );
    let comments = fake.comments("acme", "charts", 7);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.contains("Configuration changed"));
    // started_at was sent when the run was created.
    let created = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/check-runs"))
        .unwrap();
    assert!(
        created.json().unwrap()["started_at"].is_string(),
        "{}",
        created.body
    );
    fake.assert_no_validation_failures();
}
