//! Publishing from a CI run against the in-process fake GitHub (testkit), which validates
//! every request body and fails a test that leaves a write unexamined.

use std::time::Duration;

use github_client::{Auth, GithubClient};
use github_publish::actions::{ACTIONS_BOT_LOGIN, CiEnvironment};
use github_publish::{
    COMMENT_MARKER, Change, CheckRunResult, CiPublisher, CommentResult, PostRequest, PostTarget,
    PullRequestRef, STATUS_CONTEXT, author_login,
};
use service::pr::{ChartResult, CommentOn, FailOn, PrReport};
use testkit::FakeGithub;

const BASE: &str = "1111111111111111111111111111111111111111";
const HEAD: &str = "2222222222222222222222222222222222222222";
const TOKEN: &str = "test-token-123";

fn client(fake: &FakeGithub, token: &str) -> GithubClient {
    GithubClient::builder(&fake.url())
        .auth(Auth::Token(token.into()))
        .check_runs_with_token(true)
        .min_write_spacing(Duration::ZERO)
        .retry_backoff(Duration::from_millis(20))
        .build()
        .unwrap()
}

async fn publisher(fake: &FakeGithub, token: &str, in_actions: bool) -> CiPublisher {
    let client = client(fake, token);
    let author = author_login(&client, None, in_actions).await.unwrap();
    CiPublisher::new(client, author)
}

fn pr(number: u64) -> PullRequestRef {
    PullRequestRef {
        repo: "acme/charts".parse().unwrap(),
        number,
    }
}

/// A report of `head` with no affected chart, or with one whose comparison failed.
fn report(head: &str, failed_chart: bool) -> PrReport {
    PrReport {
        repository: "/srv/git/acme/charts".into(),
        base: "main".into(),
        head: "feature".into(),
        base_commit: BASE.into(),
        head_commit: head.into(),
        config_revision: "main".into(),
        config_error: None,
        fail_on: FailOn::Never,
        comment_on: CommentOn::Always,
        charts: if failed_chart {
            vec![ChartResult {
                chart_path: "charts/web".into(),
                chart_name: "web".into(),
                scenario: None,
                status: service::ChartChange::Modified,
                outcome: Err(service::CompareError::Cancelled),
                sources: Vec::new(),
            }]
        } else {
            Vec::new()
        },
    }
}

fn states(fake: &FakeGithub, sha: &str) -> Vec<String> {
    fake.statuses("acme", "charts", sha)
        .into_iter()
        .map(|s| {
            assert_eq!(s.context, STATUS_CONTEXT);
            s.state
        })
        .collect()
}

fn ours(fake: &FakeGithub, number: u64) -> Vec<testkit::StoredComment> {
    fake.comments("acme", "charts", number)
        .into_iter()
        .filter(|c| c.body.contains(COMMENT_MARKER))
        .collect()
}

/// Two runs for the same head: one comment (the second run finds it by marker and sends
/// nothing, the body being the same), a status per run on the head commit, and no check run
/// from a personal token (GitHub refuses it; the publication says it was skipped).
#[tokio::test]
async fn two_runs_leave_one_comment_and_a_status_on_the_head() {
    let fake = FakeGithub::start().await;
    fake.add_pull_request("acme", "charts", 7, HEAD, BASE, ["charts/web/values.yaml"]);
    let publisher = publisher(&fake, TOKEN, false).await;
    let first = publisher
        .publish_report(&pr(7), &report(HEAD, false))
        .await
        .unwrap();
    let CommentResult::Posted(up) = &first.comment else {
        panic!("{first:?}")
    };
    assert_eq!(up.change, Change::Created);
    assert!(
        matches!(&first.check_run, CheckRunResult::Skipped { reason } if reason.contains("403")),
        "{first:?}"
    );
    let second = publisher
        .publish_report(&pr(7), &report(HEAD, false))
        .await
        .unwrap();
    let CommentResult::Posted(again) = &second.comment else {
        panic!("{second:?}")
    };
    assert_eq!((again.id, again.change), (up.id, Change::Unchanged));

    let comments = ours(&fake, 7);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].user_login, "chartimpact-test");
    assert_eq!(comments[0].edits, 0);
    assert!(comments[0].body.starts_with(COMMENT_MARKER));
    assert!(
        comments[0].body.contains("No chart is affected"),
        "{}",
        comments[0].body
    );
    assert_eq!(states(&fake, HEAD), ["success", "success"]);
    let described = fake.statuses("acme", "charts", HEAD);
    assert_eq!(
        described[0].description.as_deref(),
        Some("No Helm chart is affected")
    );
    assert!(fake.check_runs("acme", "charts").is_empty());
    fake.assert_no_validation_failures();
}

/// GitHub Actions' `GITHUB_TOKEN` cannot read `/user`; inside Actions its comments are the
/// Actions bot's, and it writes the check run.
#[tokio::test]
async fn an_actions_token_comments_as_the_actions_bot_and_writes_a_check_run() {
    let fake = FakeGithub::start().await;
    fake.set_app(15368, "github-actions", None);
    fake.add_pull_request("acme", "charts", 8, HEAD, BASE, ["charts/web/values.yaml"]);
    let token = fake.issue_installation_token(4242);
    let outside = author_login(&client(&fake, &token), None, false).await;
    assert_eq!(
        outside.as_ref().map_err(|e| e.github_status()).unwrap_err(),
        Some(403)
    );
    let publisher = publisher(&fake, &token, true).await;
    for _ in 0..2 {
        let done = publisher
            .publish_report(&pr(8), &report(HEAD, true))
            .await
            .unwrap();
        assert!(
            matches!(done.check_run, CheckRunResult::Created(_)),
            "{done:?}"
        );
    }
    let comments = ours(&fake, 8);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].user_login, ACTIONS_BOT_LOGIN);
    assert!(
        comments[0].body.contains("`charts/web`"),
        "{}",
        comments[0].body
    );
    // A chart that could not be compared is an error, not a pass.
    assert_eq!(states(&fake, HEAD), ["error", "error"]);
    let runs = fake.check_runs("acme", "charts");
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert_eq!(run.head_sha, HEAD);
        assert_eq!(run.status, "completed");
        assert_eq!(run.conclusion.as_deref(), Some("failure"));
    }
    fake.assert_no_validation_failures();
}

/// A report of a head the pull request has moved away from never replaces the comment (the
/// newer head's run posts its own); its status still goes on the commit it describes.
#[tokio::test]
async fn a_report_of_an_old_head_marks_its_commit_but_leaves_the_comment() {
    let fake = FakeGithub::start().await;
    let newer = "3333333333333333333333333333333333333333";
    fake.add_pull_request("acme", "charts", 9, HEAD, BASE, ["charts/web/values.yaml"]);
    let publisher = publisher(&fake, TOKEN, false).await;
    publisher
        .publish_report(&pr(9), &report(HEAD, false))
        .await
        .unwrap();
    fake.set_head("acme", "charts", 9, newer);
    let stale = publisher
        .publish_report(&pr(9), &report(HEAD, true))
        .await
        .unwrap();
    assert!(
        matches!(&stale.comment, CommentResult::Stale { reason } if reason.contains("333333")),
        "{stale:?}"
    );
    let comments = ours(&fake, 9);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains("No chart is affected"),
        "the first report stays"
    );
    assert_eq!(states(&fake, HEAD), ["success", "error"]);
    assert!(states(&fake, newer).is_empty());
}

/// An analysis that could not run replaces the report in place and says what to do; a
/// person's comment quoting the marker and another bot's are never touched, and duplicates of
/// ours from earlier runs are removed (the oldest is kept).
#[tokio::test]
async fn a_failure_replaces_the_report_in_place_and_foreign_comments_stay() {
    let fake = FakeGithub::start().await;
    fake.add_pull_request("acme", "charts", 10, HEAD, BASE, ["charts/web/values.yaml"]);
    let quoted = format!("Why does {COMMENT_MARKER} appear here?");
    let person = fake.add_comment("acme", "charts", 10, "octocat", &quoted);
    let other_bot = fake.add_comment(
        "acme",
        "charts",
        10,
        "renovate[bot]",
        &format!("{COMMENT_MARKER}\nx"),
    );
    let old = fake.add_comment(
        "acme",
        "charts",
        10,
        "chartimpact-test",
        &format!("{COMMENT_MARKER}\nold"),
    );
    let dup = fake.add_comment(
        "acme",
        "charts",
        10,
        "chartimpact-test",
        &format!("{COMMENT_MARKER}\ndup"),
    );
    let publisher = publisher(&fake, TOKEN, false).await;
    let head = HEAD.parse().unwrap();
    let done = publisher
        .publish_failure(
            &pr(10),
            &head,
            "revision_not_found",
            "no revision feature",
            "Push a fix.",
        )
        .await
        .unwrap();
    let CommentResult::Posted(up) = done.comment else {
        panic!()
    };
    assert_eq!(
        (up.id, up.change, up.duplicates_removed),
        (Some(old), Change::Updated, 1)
    );
    let all = fake.comments("acme", "charts", 10);
    let ids: Vec<u64> = all.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), 3, "{all:?}");
    assert!(ids.contains(&person) && ids.contains(&other_bot) && !ids.contains(&dup));
    let mine = all.iter().find(|c| c.id == old).unwrap();
    assert!(
        mine.body
            .contains("`revision_not_found`: no revision feature\n\nPush a fix."),
        "{}",
        mine.body
    );
    assert_eq!(all.iter().find(|c| c.id == person).unwrap().body, quoted);
    assert_eq!(states(&fake, HEAD), ["error"]);
    let d = &fake.statuses("acme", "charts", HEAD)[0];
    assert_eq!(
        d.description.as_deref(),
        Some("Analysis failed: no revision feature")
    );
}

/// `commentOn: risk` with nothing risky: no comment is started, but an earlier report is
/// replaced by the short note (it must not stay up looking current).
#[tokio::test]
async fn a_withheld_report_creates_nothing_and_replaces_an_earlier_one() {
    let fake = FakeGithub::start().await;
    fake.add_pull_request("acme", "charts", 11, HEAD, BASE, ["charts/web/values.yaml"]);
    let publisher = publisher(&fake, TOKEN, false).await;
    let mut quiet = report(HEAD, false);
    quiet.comment_on = CommentOn::Risk;
    let done = publisher.publish_report(&pr(11), &quiet).await.unwrap();
    assert!(
        matches!(done.comment, CommentResult::Posted(u) if u.change == Change::NotCreated),
        "{done:?}"
    );
    assert!(ours(&fake, 11).is_empty());
    publisher
        .publish_report(&pr(11), &report(HEAD, true))
        .await
        .unwrap();
    publisher.publish_report(&pr(11), &quiet).await.unwrap();
    let comments = ours(&fake, 11);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains("commentOn: risk"),
        "{}",
        comments[0].body
    );
    assert_eq!(states(&fake, HEAD), ["success", "error", "success"]);
}

/// The whole CI path as `chartimpact pr --post` takes it inside GitHub Actions: repository,
/// pull request, API URL from the environment and the event file, the token from its variable.
#[tokio::test]
async fn a_target_resolved_from_an_actions_environment_publishes() {
    let fake = FakeGithub::start().await;
    fake.add_pull_request("acme", "charts", 12, HEAD, BASE, ["charts/web/values.yaml"]);
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({"action": "synchronize", "number": 12,
            "pull_request": {"number": 12, "base": {"sha": BASE}, "head": {"sha": HEAD}}})
        .to_string(),
    )
    .unwrap();
    let url = fake.url();
    let vars = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/charts"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_API_URL", url.as_str()),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "4711"),
    ];
    let env = CiEnvironment::read(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let event_pr = env.pull_request.clone().unwrap();
    assert_eq!(event_pr.head_sha.unwrap().as_str(), HEAD);
    let target = PostTarget::resolve(&PostRequest::default(), &env, Some(TOKEN.into())).unwrap();
    assert_eq!(
        (target.pr.number, target.api_url.as_str()),
        (12, url.as_str())
    );
    let done = target
        .publisher()
        .await
        .unwrap()
        .publish_report(&target.pr, &report(HEAD, false))
        .await
        .unwrap();
    assert!(matches!(done.comment, CommentResult::Posted(_)));
    assert_eq!(ours(&fake, 12).len(), 1);
    assert_eq!(states(&fake, HEAD), ["success"]);
    assert_eq!(
        fake.statuses("acme", "charts", HEAD)[0]
            .target_url
            .as_deref(),
        Some("https://github.com/acme/charts/actions/runs/4711"),
        "the status links to the workflow run"
    );

    // A token GitHub refuses is an error that names the request, never the token.
    fake.revoke_token("revoked-token");
    let bad =
        PostTarget::resolve(&PostRequest::default(), &env, Some("revoked-token".into())).unwrap();
    let err = bad.publisher().await.unwrap_err().full_message();
    assert!(
        err.starts_with("could not tell which account the GitHub credentials belong to")
            && err.contains("authentication failed"),
        "{err}"
    );
    assert!(!err.contains("revoked-token"), "{err}");
}
