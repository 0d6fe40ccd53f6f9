//! Publishing on GitHub end to end: signed deliveries → jobs → one sticky comment and commit
//! statuses on an in-process fake GitHub (testkit) that validates every request body.

use std::sync::Arc;
use std::time::{Duration, Instant};

use server::{GithubPublisher, STATUS_CONTEXT};
use testkit::FakeGithub;

use super::webhooks::{World, webhook_setup};
use super::{Setup, TestServer};
use crate::git;

const MARKER: &str = "<!-- chartimpact:analysis:v1 -->";

fn client(fake: &FakeGithub) -> github_client::GithubClient {
    github_client::GithubClient::builder(&fake.url())
        .auth(github_client::Auth::Token("test-token-123".into()))
        .min_write_spacing(Duration::ZERO)
        .secondary_rate_limit_wait(Duration::from_millis(200))
        .retry_backoff(Duration::from_millis(20))
        .build()
        .unwrap()
}

async fn start(
    world: &World,
    fake: &FakeGithub,
    service: Option<Arc<dyn service::CompareService>>,
) -> TestServer {
    let mut setup: Setup = webhook_setup(world, Arc::default());
    setup.service = service;
    setup.publisher_on_store = Some(github_publisher(client(fake)));
    TestServer::start(setup).await
}

/// A GitHub publisher over `client`, on the server's store.
fn github_publisher(client: github_client::GithubClient) -> super::PublisherOnStore {
    Box::new(move |store| {
        Arc::new(GithubPublisher::new(
            client,
            Some("http://ci.example.test".into()),
            store,
        ))
    })
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Pull request `number` of acme/charts on the fake: base → head of `world`, touching the chart.
fn open_pr(fake: &FakeGithub, world: &World, number: u64) {
    fake.add_pull_request(
        "acme",
        "charts",
        number,
        &world.head,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
}

/// The states of our commit statuses on `sha`, oldest first (every status must be ours).
fn states(fake: &FakeGithub, repo: &str, sha: &str) -> Vec<String> {
    fake.statuses("acme", repo, sha)
        .into_iter()
        .map(|s| {
            assert_eq!(s.context, STATUS_CONTEXT, "{s:?}");
            s.state
        })
        .collect()
}

fn ours(fake: &FakeGithub, n: u64) -> Vec<testkit::StoredComment> {
    fake.comments("acme", "charts", n)
        .into_iter()
        .filter(|c| c.body.contains(MARKER))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sticky_comment_and_statuses_through_rate_limits_redeliveries_and_new_heads() {
    let world = World::new();
    let fake = FakeGithub::start().await;
    open_pr(&fake, &world, 7);
    // Someone else's comment that quotes our marker is never touched.
    let theirs = fake.add_comment("acme", "charts", 7, "octocat", &format!("quoting {MARKER}"));
    fake.fail_next(
        "POST",
        "/repos/acme/charts/issues/7/comments",
        403,
        &[("retry-after", "1")],
    );
    let in_an_hour = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    fake.set_rate_limit(4321, in_an_hour);
    let srv = start(&world, &fake, None).await;

    let (s, _) = srv
        .deliver("pull_request", &world.pr("opened", 7, &world.head), "p-1")
        .await;
    assert_eq!(s, 202);
    wait_for("a final status", || {
        fake.statuses("acme", "charts", &world.head)
            .iter()
            .any(|s| s.state != "pending")
    })
    .await;
    let statuses = fake.statuses("acme", "charts", &world.head);
    assert_eq!(statuses.first().unwrap().state, "pending", "{statuses:?}");
    let last = statuses.last().unwrap();
    assert_eq!(
        (last.state.as_str(), last.context.as_str()),
        ("success", STATUS_CONTEXT),
        "{statuses:?}"
    );
    assert!(last.description.as_deref().unwrap().chars().count() <= 140);
    assert!(
        last.target_url
            .as_deref()
            .unwrap()
            .starts_with("http://ci.example.test/api/")
    );
    let mine: Vec<_> = ours(&fake, 7)
        .into_iter()
        .filter(|c| c.id != theirs)
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    let first = mine[0].body.clone();
    assert!(
        first.contains("charts/app") && first.to_lowercase().contains("risk"),
        "{first}"
    );
    assert!(!first.contains("test-token-123"));

    // Ten concurrent re-deliveries of the same head: still one comment.
    let srv = Arc::new(srv);
    let mut joins = Vec::new();
    for i in 0..10 {
        let (srv, body) = (srv.clone(), world.pr("reopened", 7, &world.head));
        joins.push(tokio::spawn(async move {
            srv.deliver("pull_request", &body, &format!("p-re-{i}"))
                .await
        }));
    }
    for j in joins {
        assert!([200, 202].contains(&j.await.unwrap().0));
    }
    // A new head: the same comment is updated, the new head gets its statuses.
    fake.set_head("acme", "charts", 7, &world.head2);
    let (s, _) = srv
        .deliver(
            "pull_request",
            &world.pr("synchronize", 7, &world.head2),
            "p-2",
        )
        .await;
    assert_eq!(s, 202);
    wait_for("the new head's final status", || {
        fake.statuses("acme", "charts", &world.head2)
            .iter()
            .any(|s| s.state != "pending")
    })
    .await;
    // Jobs of the old head may still be finishing; let the queue drain.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mine: Vec<_> = ours(&fake, 7)
        .into_iter()
        .filter(|c| c.id != theirs)
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_ne!(mine[0].body, first, "updated for the new head");
    assert!(mine[0].body.contains(&world.head2[..7]), "{}", mine[0].body);
    assert_eq!(
        fake.comments("acme", "charts", 7)
            .iter()
            .find(|c| c.id == theirs)
            .unwrap()
            .body,
        format!("quoting {MARKER}")
    );
    // The rate limit GitHub last reported is on /metrics (the Helm chart alerts when it runs
    // low): the fake started this window at 4321 of 5000 and counts every request down.
    let (s, text) = srv.get_text("/metrics").await;
    assert_eq!(s, 200);
    let gauge = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} on /metrics: {text}"))
            .parse()
            .unwrap()
    };
    assert_eq!(gauge("chartimpact_github_rate_limit_limit"), 5000.0);
    let remaining = gauge("chartimpact_github_rate_limit_remaining");
    assert!(
        (4000.0..4321.0).contains(&remaining),
        "remaining {remaining}"
    );
    // The old head was analysed (maybe once more for the re-deliveries, unless the new head
    // superseded that job) and never failed; the new head ends with its verdict.
    let old = states(&fake, "charts", &world.head);
    assert!(
        old.starts_with(&["pending".into(), "success".into()])
            && old.iter().all(|s| s == "pending" || s == "success"),
        "{old:?}"
    );
    let new = states(&fake, "charts", &world.head2);
    assert_eq!(new.last().map(String::as_str), Some("success"), "{new:?}");
    fake.assert_no_validation_failures();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_from_the_past_are_removed_and_unchanged_bodies_are_not_patched() {
    let world = World::new();
    let fake = FakeGithub::start().await;
    open_pr(&fake, &world, 5);
    let login = client(&fake).current_user(None).await.unwrap().login;
    let a = fake.add_comment("acme", "charts", 5, &login, &format!("{MARKER}\nold one"));
    let b = fake.add_comment("acme", "charts", 5, &login, &format!("{MARKER}\nold two"));
    let srv = start(&world, &fake, None).await;
    let (_, ack) = srv
        .deliver("pull_request", &world.pr("opened", 5, &world.head), "d-1")
        .await;
    srv.wait_job(ack["jobId"].as_str().unwrap()).await;
    let mine = ours(&fake, 5);
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].id, a, "the oldest is kept and updated");
    assert!(!fake.comments("acme", "charts", 5).iter().any(|c| c.id == b));
    assert_eq!(states(&fake, "charts", &world.head), ["pending", "success"]);

    // The same analysis again: the body is the same, so no PATCH.
    let patches = || {
        fake.requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count()
    };
    let before = patches();
    let (_, ack) = srv
        .deliver("pull_request", &world.pr("reopened", 5, &world.head), "d-2")
        .await;
    srv.wait_job(ack["jobId"].as_str().unwrap()).await;
    assert_eq!(patches(), before);
    // The status is set again (GitHub keeps each; the newest counts).
    assert_eq!(
        states(&fake, "charts", &world.head),
        ["pending", "success", "pending", "success"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_closed_or_moved_during_analysis_gets_nothing_final() {
    let world = World::new();
    let fake = FakeGithub::start().await;
    open_pr(&fake, &world, 9);
    // The PR moved on before the analysis of the old head was published (no webhook for it
    // reached us): the stale result must not be posted.
    fake.set_head("acme", "charts", 9, &world.head2);
    let srv = start(&world, &fake, None).await;
    let (_, ack) = srv
        .deliver("pull_request", &world.pr("opened", 9, &world.head), "c-1")
        .await;
    let job = srv.wait_job(ack["jobId"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded");
    assert!(ours(&fake, 9).is_empty(), "{:?}", ours(&fake, 9));
    assert!(
        fake.statuses("acme", "charts", &world.head)
            .iter()
            .all(|s| s.state == "pending")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_analysis_says_what_failed_on_the_pr() {
    let world = World::new();
    let fake = FakeGithub::start().await;
    fake.add_pull_request("acme", "missing", 3, &world.head, &world.base, ["x"]);
    let srv = start(&world, &fake, None).await;
    let body = world.pr_in("missing", "opened", 3, &world.head);
    let (_, ack) = srv.deliver("pull_request", &body, "f-1").await;
    let job = srv.wait_job(ack["jobId"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed");
    let comments = fake.comments("acme", "missing", 3);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].body.contains("could not run") && comments[0].body.contains("acme/missing"),
        "{}",
        comments[0].body
    );
    let statuses = fake.statuses("acme", "missing", &world.head);
    assert_eq!(statuses.last().unwrap().state, "error", "{statuses:?}");
}

/// Commits `.chartimpact.yaml` holding `text` on the default branch (`main`) of the local
/// GitHub, where the server reads the repository's policy.
fn set_repo_config(world: &World, text: &str) {
    let work = tempfile::tempdir().unwrap();
    let bare = world.root.join("acme/charts.git");
    git(work.path(), &["clone", "-q", &bare.to_string_lossy(), "w"]);
    let w = work.path().join("w");
    std::fs::write(w.join(".chartimpact.yaml"), text).unwrap();
    git(&w, &["add", "-A"]);
    git(&w, &["commit", "-q", "--allow-empty", "-m", "config"]);
    git(&w, &["push", "-q", "origin", "HEAD:main"]);
}

/// An engine that looks at branches again on every analysis (the policy changes between
/// deliveries here; the default keeps a branch for a minute).
fn fresh_engine(dir: &std::path::Path) -> Arc<dyn service::CompareService> {
    Arc::new(
        service::Engine::builder(dir)
            .policy(chart_source::UrlPolicy {
                allow_local: true,
                ..Default::default()
            })
            .branch_ttl(Duration::ZERO)
            .renderers(service::Renderers {
                native: Some(Arc::new(crate::FakeRenderer::default())),
                ..Default::default()
            })
            .build()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_branchs_policy_decides_the_status_and_whether_the_report_is_posted() {
    let world = World::new();
    let data = tempfile::tempdir().unwrap();
    let fake = FakeGithub::start().await;
    for n in [11, 12] {
        open_pr(&fake, &world, n);
    }
    set_repo_config(
        &world,
        "failOn: low\nrules:\n- path: data.key\n  kinds: [ConfigMap]\n  level: high\n  title: Key changed in the app chart\n",
    );
    let srv = start(&world, &fake, Some(fresh_engine(data.path()))).await;
    let run = async |body: Vec<u8>, delivery: &str| {
        let (s, ack) = srv.deliver("pull_request", &body, delivery).await;
        assert_eq!(s, 202, "{ack}");
        let job = srv.wait_job(ack["jobId"].as_str().unwrap()).await;
        assert_eq!(job["status"], "succeeded", "{job}");
    };

    // failOn: low and a custom high rule: the status fails, the comment says why.
    run(world.pr("opened", 11, &world.head), "pol-1").await;
    let last = fake.statuses("acme", "charts", &world.head).pop().unwrap();
    assert_eq!(last.state, "failure", "{last:?}");
    assert!(
        last.description.as_deref().unwrap().contains("failOn: low"),
        "{last:?}"
    );
    let mine = ours(&fake, 11);
    assert_eq!(mine.len(), 1, "{mine:?}");
    let comment_id = mine[0].id;
    assert!(
        mine[0].body.contains("Key changed in the app chart")
            && mine[0].body.contains("**this change fails it**"),
        "{}",
        mine[0].body
    );

    // commentOn: risk, and the changed kinds ignored: the new head has no changes, so the
    // report is withheld and the earlier one replaced by a note (never left up as current).
    set_repo_config(
        &world,
        "commentOn: risk\nignore:\n  kinds: [ConfigMap, Secret]\n",
    );
    fake.set_head("acme", "charts", 11, &world.head2);
    run(world.pr("synchronize", 11, &world.head2), "pol-2").await;
    let last = fake.statuses("acme", "charts", &world.head2).pop().unwrap();
    assert_eq!(last.state, "success", "{last:?}");
    let mine = ours(&fake, 11);
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].id, comment_id, "the same comment");
    assert!(
        mine[0].body.contains("commentOn: risk")
            && mine[0].body.contains("no changes")
            && !mine[0].body.contains("Key changed"),
        "{}",
        mine[0].body
    );
    // A pull request without a comment gets none while its report is withheld.
    fake.set_head("acme", "charts", 12, &world.head2);
    run(world.pr("opened", 12, &world.head2), "pol-3").await;
    assert!(ours(&fake, 12).is_empty(), "{:?}", ours(&fake, 12));
    assert_eq!(
        fake.statuses("acme", "charts", &world.head2)
            .pop()
            .unwrap()
            .state,
        "success"
    );

    // An invalid policy is reported on the PR with what to fix; the defaults apply.
    set_repo_config(&world, "failOn: sometimes\ncommentOn: risk\n");
    run(world.pr("reopened", 11, &world.head2), "pol-4").await;
    let mine = ours(&fake, 11);
    assert_eq!(mine.len(), 1, "{mine:?}");
    let body = &mine[0].body;
    assert!(
        body.contains("`.chartimpact.yaml` is invalid")
            && body.contains("unknown variant `sometimes`")
            && body.contains("Fix the file on `main`"),
        "{body}"
    );
    assert_eq!(
        fake.statuses("acme", "charts", &world.head2)
            .pop()
            .unwrap()
            .state,
        "success"
    );
    fake.assert_no_validation_failures();
}

/// An `issue_comment.created` delivery: `/chartimpact rerun` on acme/charts#`number`.
fn rerun_comment(number: u64, comment_id: u64, association: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "action": "created",
        "issue": {"number": number, "pull_request": {"url": format!("https://api.github.com/repos/acme/charts/pulls/{number}")}},
        "comment": {"id": comment_id, "body": "/chartimpact rerun", "user": {"login": "someone"}, "author_association": association},
        "repository": {"id": 424242, "full_name": "acme/charts", "default_branch": "main"},
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintainers_rerun_command_is_acknowledged_with_a_reaction_and_runs_again() {
    let world = World::new();
    let fake = FakeGithub::start().await;
    open_pr(&fake, &world, 13);
    let srv = start(&world, &fake, None).await;
    let (_, ack) = srv
        .deliver("pull_request", &world.pr("opened", 13, &world.head), "r-0")
        .await;
    let first = ack["jobId"].as_str().unwrap().to_owned();
    srv.wait_job(&first).await;
    let statuses_before = fake.statuses("acme", "charts", &world.head).len();

    let by_member = fake.add_comment("acme", "charts", 13, "maintainer", "/chartimpact rerun");
    let (s, ack) = srv
        .deliver(
            "issue_comment",
            &rerun_comment(13, by_member, "MEMBER"),
            "r-1",
        )
        .await;
    assert_eq!(s, 202, "{ack}");
    let rerun = ack["jobId"].as_str().unwrap().to_owned();
    assert_ne!(rerun, first, "a new job");
    let job = srv.wait_job(&rerun).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["revision"], world.head.as_str());
    let reactions = |id: u64| {
        fake.comments("acme", "charts", 13)
            .into_iter()
            .find(|c| c.id == id)
            .unwrap()
            .reactions
    };
    wait_for("the reaction", || !reactions(by_member).is_empty()).await;
    assert_eq!(reactions(by_member), [server::RERUN_REACTION]);
    let statuses = fake.statuses("acme", "charts", &world.head);
    assert!(statuses.len() >= statuses_before + 2, "{statuses:?}");
    assert_eq!(statuses.last().unwrap().state, "success");
    assert_eq!(ours(&fake, 13).len(), 1);

    // Without write access: no job, no reaction.
    let by_other = fake.add_comment("acme", "charts", 13, "drive-by", "/chartimpact rerun");
    let (s, ack) = srv
        .deliver(
            "issue_comment",
            &rerun_comment(13, by_other, "CONTRIBUTOR"),
            "r-2",
        )
        .await;
    assert_eq!((s, ack["status"].as_str()), (200, Some("ignored")), "{ack}");
    assert!(ack["jobId"].is_null(), "{ack}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(reactions(by_other).is_empty());
    let reaction_posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/reactions"))
        .count();
    assert_eq!(reaction_posts, 1);
    fake.assert_no_validation_failures();
}

const APP_ID: u64 = 4242;

/// A publisher with GitHub App auth on `fake` (which must know the App: `set_app`).
fn app_publisher(fake: &FakeGithub) -> super::PublisherOnStore {
    let client = github_client::GithubClient::builder(&fake.url())
        .auth(github_client::Auth::App {
            app_id: APP_ID,
            private_key_pem: testkit::TEST_APP_PRIVATE_KEY.into(),
        })
        .min_write_spacing(Duration::ZERO)
        .retry_backoff(Duration::from_millis(20))
        .build()
        .unwrap();
    github_publisher(client)
}

/// The one check run of `job` in acme/`repo`.
fn run_of(fake: &FakeGithub, job: &str, repo: &str) -> testkit::StoredCheckRun {
    let runs: Vec<_> = fake
        .check_runs("acme", repo)
        .into_iter()
        .filter(|r| r.external_id.as_deref() == Some(job))
        .collect();
    assert_eq!(runs.len(), 1, "one check run per job: {runs:?}");
    runs.into_iter().next().unwrap()
}

/// `body` as delivered to the GitHub App's installation `installation`.
fn installed(body: Vec<u8>, installation: u64) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["installation"] = serde_json::json!({"id": installation});
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_app_auth_the_check_run_is_in_progress_while_the_job_runs_then_concluded() {
    let world = World::new();
    let fake = FakeGithub::start().await;
    fake.set_app(APP_ID, "chartimpact", Some(testkit::TEST_APP_PRIVATE_KEY));
    for n in [21, 22] {
        open_pr(&fake, &world, n);
    }
    fake.add_pull_request("acme", "missing", 23, &world.head, &world.base, ["x"]);
    let mut setup: Setup = webhook_setup(&world, Arc::default());
    setup.publisher_on_store = Some(app_publisher(&fake));
    let srv = TestServer::start(setup).await;
    let run_of = |job: &str, repo: &str| run_of(&fake, job, repo);
    let deliver = async |body: Vec<u8>, delivery: &str| {
        let (s, ack) = srv
            .deliver("pull_request", &installed(body, 77), delivery)
            .await;
        assert_eq!(s, 202, "{ack}");
        let id = ack["jobId"].as_str().unwrap().to_owned();
        srv.wait_job(&id).await;
        id
    };

    // Created in progress when the job starts, then completed with the report.
    let job = deliver(world.pr("opened", 21, &world.head), "app-1").await;
    let run = run_of(&job, "charts");
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("neutral")),
        "{run:?}"
    );
    assert_eq!(run.requests, 2, "a create and an update: {run:?}");
    assert!(run.text.as_deref().unwrap().contains(MARKER), "{run:?}");
    let created: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/repos/acme/charts/check-runs")
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    let body: serde_json::Value = serde_json::from_str(&created[0].body).unwrap();
    assert_eq!(body["status"], "in_progress", "{body}");
    assert!(body.get("conclusion").is_none(), "{body}");
    assert_eq!(body["head_sha"], world.head.as_str());
    assert!(fake.requests().iter().any(|r| r.method == "PATCH"
        && r.path == format!("/repos/acme/charts/check-runs/{}", run.id)
        && r.body.contains("\"conclusion\":\"neutral\"")));

    // A stale result: the run started on the old head is cancelled, not left in progress.
    fake.set_head("acme", "charts", 22, &world.head2);
    let job = deliver(world.pr("opened", 22, &world.head), "app-2").await;
    let run = run_of(&job, "charts");
    assert_eq!(run.conclusion.as_deref(), Some("cancelled"), "{run:?}");
    assert!(ours(&fake, 22).is_empty());

    // An analysis that cannot run (two attempts): one run, concluded as a failure.
    let job = deliver(world.pr_in("missing", "opened", 23, &world.head), "app-3").await;
    let run = run_of(&job, "missing");
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{run:?}");
    assert!(
        run.summary.as_deref().unwrap().contains("acme/missing"),
        "{run:?}"
    );
    // Statuses as well as check runs: PR 21's job passed, PR 22's stale job (same head
    // commit) stopped at pending, and the failed job (a pending per attempt) says so.
    assert_eq!(
        states(&fake, "charts", &world.head),
        ["pending", "success", "pending"]
    );
    assert_eq!(
        states(&fake, "missing", &world.head),
        ["pending", "pending", "error"]
    );
    assert_eq!(ours(&fake, 21).len(), 1);
    let failed = fake.comments("acme", "missing", 23);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].body.contains("could not run"),
        "{}",
        failed[0].body
    );
    fake.assert_no_validation_failures();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superseded_jobs_check_run_is_cancelled_not_left_in_progress() {
    let world = World::new();
    let fake = FakeGithub::start().await;
    fake.set_app(APP_ID, "chartimpact", Some(testkit::TEST_APP_PRIVATE_KEY));
    open_pr(&fake, &world, 24);
    let mut setup: Setup = webhook_setup(&world, Arc::default());
    setup.publisher_on_store = Some(app_publisher(&fake));
    // Slow renders keep the first job running while the new head arrives.
    let data = tempfile::tempdir().unwrap();
    let slow = Arc::new(super::limits::SlowRenderer::new(Duration::from_millis(
        1500,
    )));
    setup.service = Some(Arc::new(crate::engine_with(data.path(), slow)));
    let srv = TestServer::start(setup).await;

    let (_, first) = srv
        .deliver(
            "pull_request",
            &installed(world.pr("opened", 24, &world.head), 77),
            "sup-1",
        )
        .await;
    let first = first["jobId"].as_str().unwrap().to_owned();
    wait_for("the first job's check run", || {
        fake.check_runs("acme", "charts")
            .iter()
            .any(|r| r.external_id.as_deref() == Some(first.as_str()))
    })
    .await;
    assert_eq!(run_of(&fake, &first, "charts").status, "in_progress");
    fake.set_head("acme", "charts", 24, &world.head2);
    let (s, second) = srv
        .deliver(
            "pull_request",
            &installed(world.pr("synchronize", 24, &world.head2), 77),
            "sup-2",
        )
        .await;
    assert_eq!(s, 202, "{second}");
    let second = second["jobId"].as_str().unwrap().to_owned();
    assert_eq!(srv.wait_job(&first).await["status"], "superseded");
    assert_eq!(srv.wait_job(&second).await["status"], "succeeded");
    wait_for("the superseded run to be closed", || {
        run_of(&fake, &first, "charts").status == "completed"
    })
    .await;
    let old = run_of(&fake, &first, "charts");
    assert_eq!(old.conclusion.as_deref(), Some("cancelled"), "{old:?}");
    assert_eq!(old.head_sha, world.head);
    let new = run_of(&fake, &second, "charts");
    assert_eq!(
        (new.status.as_str(), new.head_sha.as_str()),
        ("completed", world.head2.as_str()),
        "{new:?}"
    );
    // Only the new head's report is posted; the old head keeps the pending status it got.
    let comments = ours(&fake, 24);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].body.contains(&world.head2[..7]));
    assert_eq!(states(&fake, "charts", &world.head), ["pending"]);
    assert_eq!(
        states(&fake, "charts", &world.head2),
        ["pending", "success"]
    );
    fake.assert_no_validation_failures();
}

/// Databases two replicas can share: a SQLite file and, when available, PostgreSQL.
async fn shared_databases() -> Vec<(String, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut dbs = vec![(
        format!("sqlite://{}", dir.path().join("shared.db").display()),
        Some(dir),
    )];
    if let Some(pg) = store::testing::postgres() {
        dbs.push((pg.fresh_database().await, None));
    }
    dbs
}

fn app_client(fake: &FakeGithub) -> github_client::GithubClient {
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

/// Requests of `method` whose path starts with `prefix`.
fn count(fake: &FakeGithub, method: &str, prefix: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .count()
}

fn acme_charts() -> github_events::RepoName {
    "acme/charts".parse().unwrap()
}

/// Two replicas (publishers on their own connections to one database): the check run one
/// starts is the one the other completes, the comment one creates is the one the other
/// updates, by its stored id, without listing the conversation; a comment someone deleted is
/// created again once, and its new id is what both use from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_a_store_update_the_same_comment_and_check_run() {
    use server::{JobPayload, JobRef, PublishUpdate, Publisher};
    for (url, _dir) in shared_databases().await {
        eprintln!("-- on {url}");
        let fake = FakeGithub::start().await;
        fake.set_app(APP_ID, "chartimpact", Some(testkit::TEST_APP_PRIVATE_KEY));
        let (head, base) = ("a".repeat(40), "b".repeat(40));
        fake.add_pull_request(
            "acme",
            "charts",
            31,
            &head,
            &base,
            ["charts/app/values.yaml"],
        );
        let open = async || {
            store::open(&url, &store::OpenOptions::default())
                .await
                .unwrap()
        };
        let (store_a, store_b) = (open().await, open().await);
        let a = GithubPublisher::new(app_client(&fake), None, store_a.clone());
        let b = GithubPublisher::new(app_client(&fake), None, store_b.clone());
        let job = JobRef {
            id: store::JobId::new(9).unwrap(),
            public_id: "job-9".into(),
            payload: JobPayload::PullRequest {
                repo: acme_charts(),
                number: 31,
                base_sha: base.parse().unwrap(),
                head_sha: head.parse().unwrap(),
                base_ref: "main".into(),
                head_ref: "feature".into(),
                fork: false,
                default_branch: Some("main".into()),
                installation_id: Some(77),
            },
            delivery: None,
        };
        let failed = |message: &str| PublishUpdate::Failed {
            job: job.clone(),
            code: "chart_not_found",
            message: message.to_owned(),
        };
        let lists = || count(&fake, "GET", "/repos/acme/charts/issues/31/comments");

        // A starts the check run; B (another replica, or A after a restart) completes it.
        a.publish(&PublishUpdate::Started { job: job.clone() })
            .await
            .unwrap();
        let runs = fake.check_runs("acme", "charts");
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0].status, "in_progress");
        b.publish(&failed("first")).await.unwrap();
        let runs = fake.check_runs("acme", "charts");
        assert_eq!(
            runs.len(),
            1,
            "the started run is completed, none created: {runs:?}"
        );
        assert_eq!(
            (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
            ("completed", Some("failure"))
        );
        assert_eq!(runs[0].requests, 2, "{runs:?}");

        // B created the comment (after looking for one by marker) and stored its id.
        let comments = ours(&fake, 31);
        assert_eq!(comments.len(), 1, "{comments:?}");
        let first = comments[0].id;
        assert_eq!(lists(), 1);
        let stored = store_a
            .get_publication(&acme_charts(), 31)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.comment_id, Some(first));

        // A updates that comment by its id: no listing.
        a.publish(&failed("second")).await.unwrap();
        assert_eq!(lists(), 1, "updated by the stored id, without listing");
        let comments = ours(&fake, 31);
        assert_eq!(comments.len(), 1, "{comments:?}");
        assert_eq!(comments[0].id, first);
        assert!(comments[0].body.contains("second"), "{comments:?}");
        let patch = format!("/repos/acme/charts/issues/comments/{first}");
        assert_eq!(count(&fake, "PATCH", &patch), 1);
        // The same body again: read, not patched.
        b.publish(&failed("second")).await.unwrap();
        assert_eq!((lists(), count(&fake, "PATCH", &patch)), (1, 1));

        // Someone deletes the comment: the next publication recreates it once and stores the
        // new id, which the other replica then updates.
        app_client(&fake)
            .delete_issue_comment(&acme_charts(), first, Some(77))
            .await
            .unwrap();
        b.publish(&failed("third")).await.unwrap();
        let comments = ours(&fake, 31);
        assert_eq!(comments.len(), 1, "{comments:?}");
        let second = comments[0].id;
        assert_ne!(second, first);
        assert!(comments[0].body.contains("third"));
        assert_eq!(lists(), 2, "listed once, after the stored comment was gone");
        let stored = store_a
            .get_publication(&acme_charts(), 31)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.comment_id, Some(second));
        a.publish(&failed("fourth")).await.unwrap();
        let comments = ours(&fake, 31);
        assert_eq!(comments.len(), 1, "{comments:?}");
        assert_eq!(comments[0].id, second);
        assert!(comments[0].body.contains("fourth"));
        assert_eq!(lists(), 2);
        assert_eq!(
            count(&fake, "POST", "/repos/acme/charts/issues/31/comments"),
            2,
            "created once, then once again after the deletion"
        );
        // Each failure set the status, whichever replica published it.
        assert_eq!(
            states(&fake, "charts", &head),
            ["pending", "error", "error", "error", "error", "error"]
        );
        assert_eq!(fake.check_runs("acme", "charts").len(), 1);
        fake.assert_no_validation_failures();
        store_a.close().await.unwrap();
        store_b.close().await.unwrap();
    }
}

/// Two servers on one database: the second publishes on the comment the first created,
/// found by its stored id (the conversation is listed only by the very first publication).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_store_updates_the_comment_without_listing() {
    let world = World::new();
    let fake = FakeGithub::start().await;
    open_pr(&fake, &world, 41);
    let first = start(&world, &fake, None).await;
    let (s, ack) = first
        .deliver("pull_request", &world.pr("opened", 41, &world.head), "s-1")
        .await;
    assert_eq!(s, 202, "{ack}");
    first.wait_job(ack["jobId"].as_str().unwrap()).await;
    let mine = ours(&fake, 41);
    assert_eq!(mine.len(), 1, "{mine:?}");
    let lists = || count(&fake, "GET", "/repos/acme/charts/issues/41/comments");
    assert_eq!(lists(), 1);

    let mut setup: Setup = webhook_setup(&world, Arc::default());
    setup.database_url = Some(first.database_url.clone());
    setup.publisher_on_store = Some(github_publisher(client(&fake)));
    let second = TestServer::start(setup).await;
    fake.set_head("acme", "charts", 41, &world.head2);
    let (s, ack) = second
        .deliver(
            "pull_request",
            &world.pr("synchronize", 41, &world.head2),
            "s-2",
        )
        .await;
    assert_eq!(s, 202, "{ack}");
    let job = second.wait_job(ack["jobId"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let now = ours(&fake, 41);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0].id, mine[0].id);
    assert!(now[0].body.contains(&world.head2[..7]), "{}", now[0].body);
    assert_eq!(lists(), 1, "the comment was found by its stored id");
    assert_eq!(states(&fake, "charts", &world.head), ["pending", "success"]);
    assert_eq!(
        states(&fake, "charts", &world.head2),
        ["pending", "success"]
    );
}

/// A stored comment id that is not ours (e.g. the credentials changed) is never edited: ours
/// is looked for by marker, created, and its id stored instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_comment_that_is_not_ours_is_left_alone() {
    use server::{JobPayload, JobRef, PublishUpdate, Publisher};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = store::open(&url, &store::OpenOptions::default())
        .await
        .unwrap();
    let fake = FakeGithub::start().await;
    let (head, base) = ("c".repeat(40), "d".repeat(40));
    fake.add_pull_request("acme", "charts", 51, &head, &base, ["x"]);
    let theirs = fake.add_comment("acme", "charts", 51, "octocat", &format!("{MARKER} mine"));
    store
        .set_comment_id(&acme_charts(), 51, theirs)
        .await
        .unwrap();
    let publisher = GithubPublisher::new(client(&fake), None, store.clone());
    let job = JobRef {
        id: store::JobId::new(3).unwrap(),
        public_id: "job-3".into(),
        payload: JobPayload::PullRequest {
            repo: acme_charts(),
            number: 51,
            base_sha: base.parse().unwrap(),
            head_sha: head.parse().unwrap(),
            base_ref: "main".into(),
            head_ref: "feature".into(),
            fork: false,
            default_branch: None,
            installation_id: None,
        },
        delivery: None,
    };
    publisher
        .publish(&PublishUpdate::Failed {
            job,
            code: "chart_not_found",
            message: "no chart".into(),
        })
        .await
        .unwrap();
    let comments = fake.comments("acme", "charts", 51);
    assert_eq!(comments.len(), 2, "{comments:?}");
    let foreign = comments.iter().find(|c| c.id == theirs).unwrap();
    assert_eq!(foreign.body, format!("{MARKER} mine"));
    let ours = comments.iter().find(|c| c.id != theirs).unwrap();
    assert!(ours.body.contains("no chart"), "{ours:?}");
    let stored = store
        .get_publication(&acme_charts(), 51)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.comment_id, Some(ours.id));
    assert_eq!(states(&fake, "charts", &"c".repeat(40)), ["error"]);
    store.close().await.unwrap();
}

/// The local GitHub serves acme/charts under `name` too, as GitHub does after a rename.
fn rename_on_disk(world: &World, name: &str) {
    std::os::unix::fs::symlink(
        world.root.join("acme/charts.git"),
        world.root.join(format!("acme/{name}.git")),
    )
    .unwrap();
}

/// Comments of ours on `repo`#`n`.
fn ours_in(fake: &FakeGithub, repo: &str, n: u64) -> Vec<testkit::StoredComment> {
    fake.comments("acme", repo, n)
        .into_iter()
        .filter(|c| c.body.contains(MARKER))
        .collect()
}

/// A slow-rendering server (the first job is still running when the next delivery comes),
/// publishing with a token on `fake`.
async fn slow_start(world: &World, fake: &FakeGithub, data: &std::path::Path) -> TestServer {
    let slow = Arc::new(super::limits::SlowRenderer::new(Duration::from_millis(
        1500,
    )));
    start(world, fake, Some(Arc::new(crate::engine_with(data, slow)))).await
}

/// Keyed by `repository.id` (R14): a new head delivered after the repository was renamed
/// supersedes the job started under the old name, and the results go to the new name. Every
/// call a job makes carries its delivery in `X-GitHub-Delivery` (R32).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_head_after_a_rename_supersedes_and_posts_under_the_new_name() {
    let world = World::new();
    rename_on_disk(&world, "helm-charts");
    let fake = FakeGithub::start().await;
    open_pr(&fake, &world, 31);
    let data = tempfile::tempdir().unwrap();
    let srv = slow_start(&world, &fake, data.path()).await;

    let (s, first) = srv
        .deliver(
            "pull_request",
            &world.pr("opened", 31, &world.head),
            "ren-1",
        )
        .await;
    assert_eq!(s, 202, "{first}");
    let first = first["jobId"].as_str().unwrap().to_owned();
    wait_for("the first job to start", || {
        !fake.statuses("acme", "charts", &world.head).is_empty()
    })
    .await;

    // Renamed to acme/helm-charts (same id), then a new head.
    fake.add_pull_request(
        "acme",
        "helm-charts",
        31,
        &world.head2,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
    let renamed = world.pr_in_repo(424242, "helm-charts", "synchronize", 31, &world.head2);
    let (s, second) = srv.deliver("pull_request", &renamed, "ren-2").await;
    assert_eq!(s, 202, "{second}");
    assert_eq!(second["superseded"], serde_json::json!([first]), "{second}");
    let second = second["jobId"].as_str().unwrap().to_owned();
    assert_eq!(srv.wait_job(&first).await["status"], "superseded");
    let done = srv.wait_job(&second).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    // One report, on the pull request under its new name; the old name got only the first
    // job's pending status.
    let comments = ours_in(&fake, "helm-charts", 31);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].body.contains(&world.head2[..7]));
    assert!(ours_in(&fake, "charts", 31).is_empty());
    assert_eq!(
        states(&fake, "helm-charts", &world.head2),
        ["pending", "success"]
    );
    assert_eq!(states(&fake, "charts", &world.head), ["pending"]);

    // Each job's calls name the delivery that caused it, reads included.
    let sent = fake.requests();
    let of = |prefix: &str| -> Vec<_> {
        sent.iter()
            .filter(|r| r.path.starts_with(prefix))
            .map(|r| {
                (
                    r.method.clone(),
                    r.path.clone(),
                    r.header("x-github-delivery").map(str::to_owned),
                )
            })
            .collect()
    };
    let old = of("/repos/acme/charts/");
    assert!(!old.is_empty());
    for (method, path, delivery) in &old {
        assert_eq!(delivery.as_deref(), Some("ren-1"), "{method} {path}");
    }
    let new = of("/repos/acme/helm-charts/");
    assert!(
        new.iter()
            .any(|(m, p, _)| m == "POST" && p.ends_with("/comments")),
        "{new:?}"
    );
    assert!(
        new.iter()
            .any(|(m, p, _)| m == "POST" && p.contains("/statuses/")),
        "{new:?}"
    );
    for (method, path, delivery) in &new {
        assert_eq!(delivery.as_deref(), Some("ren-2"), "{method} {path}");
    }
    fake.assert_no_validation_failures();
}

/// The same head delivered again after a rename while its job runs: still one job, which
/// posts under the new name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_head_after_a_rename_is_one_job_that_posts_under_the_new_name() {
    let world = World::new();
    rename_on_disk(&world, "helm-charts");
    let fake = FakeGithub::start().await;
    open_pr(&fake, &world, 32);
    fake.add_pull_request(
        "acme",
        "helm-charts",
        32,
        &world.head,
        &world.base,
        ["charts/app/templates/cm.yaml"],
    );
    let data = tempfile::tempdir().unwrap();
    let srv = slow_start(&world, &fake, data.path()).await;

    let (s, first) = srv
        .deliver(
            "pull_request",
            &world.pr("opened", 32, &world.head),
            "same-1",
        )
        .await;
    assert_eq!(s, 202, "{first}");
    let first = first["jobId"].as_str().unwrap().to_owned();
    wait_for("the job to start", || {
        !fake.statuses("acme", "charts", &world.head).is_empty()
    })
    .await;
    let renamed = world.pr_in_repo(424242, "helm-charts", "reopened", 32, &world.head);
    let (s, again) = srv.deliver("pull_request", &renamed, "same-2").await;
    assert_eq!(s, 202, "{again}");
    assert_eq!(again["coalesced"], true, "{again}");
    assert_eq!(again["jobId"], first.as_str(), "{again}");
    let done = srv.wait_job(&first).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    let comments = ours_in(&fake, "helm-charts", 32);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(ours_in(&fake, "charts", 32).is_empty());
    assert_eq!(states(&fake, "helm-charts", &world.head), ["success"]);
    assert_eq!(states(&fake, "charts", &world.head), ["pending"]);
    // The job is the first delivery's: its calls say so, under either name.
    for r in fake.requests() {
        assert_eq!(
            r.header("x-github-delivery"),
            Some("same-1"),
            "{} {}",
            r.method,
            r.path
        );
    }
    fake.assert_no_validation_failures();
}
