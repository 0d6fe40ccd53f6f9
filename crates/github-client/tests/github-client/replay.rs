//! Replays of `@octokit/fixtures` scenarios (tests/data/github/fixtures, nock format).

use github_client::{Error, Method, RepoName, StatusRequest, StatusState};
use serde_json::{Value, json};
use testkit::FakeGithub;

use crate::support::*;

async fn replay(name: &str) -> FakeGithub {
    FakeGithub::start_replay(testkit::github_fixture(name)).await
}

fn assert_replayed(gh: &FakeGithub) {
    assert_eq!(gh.replay_mismatches(), []);
    assert_eq!(gh.replay_remaining(), 0);
    for r in gh.requests() {
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert!(r.header("authorization").unwrap().starts_with("Bearer "));
        assert!(r.header("user-agent").unwrap().starts_with("chartimpact/"));
    }
}

#[tokio::test]
async fn create_status() {
    let gh = replay("create-status.json").await;
    let client = token_client(&gh);
    let repo = RepoName::new("octokit-fixture-org", "create-status").unwrap();
    let sha = "0000000000000000000000000000000000000001";
    for (state, n, word) in [
        (StatusState::Failure, 1, "failure"),
        (StatusState::Success, 2, "success"),
    ] {
        client
            .create_status(
                &repo,
                sha,
                &StatusRequest {
                    state,
                    context: format!("example/{n}"),
                    description: Some(format!("create-status {word} test")),
                    target_url: Some("https://example.com".into()),
                },
                None,
            )
            .await
            .unwrap();
    }
    let list: Vec<Value> = client
        .get_all_pages(
            &format!("/repos/octokit-fixture-org/create-status/commits/{sha}/statuses"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["context"], "example/2", "newest first");
    let combined: Value = client
        .get_json(
            &format!("/repos/octokit-fixture-org/create-status/commits/{sha}/status"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(combined["state"], "failure");
    assert_eq!(combined["total_count"], 2);
    assert_replayed(&gh);
}

#[tokio::test]
async fn paginate_issues_follows_link_urls_verbatim() {
    let gh = replay("paginate-issues.json").await;
    let client = token_client(&gh);
    let issues: Vec<Value> = client
        .get_all_pages(
            "/repos/octokit-fixture-org/paginate-issues/issues?per_page=3",
            None,
        )
        .await
        .unwrap();
    assert_eq!(issues.len(), 13);
    let paths: Vec<String> = gh.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths[1], "/repositories/1000/issues?per_page=3&page=2");
    assert_eq!(paths.len(), 5);
    assert_replayed(&gh);
    // The normaliser's millisecond reset is read as seconds.
    assert_eq!(client.rate_limit().reset, Some(1_507_651_200));
}

#[tokio::test]
async fn errors_carry_githubs_message() {
    let gh = replay("errors.json").await;
    let err = token_client(&gh)
        .send_json(
            Method::POST,
            "/repos/octokit-fixture-org/errors/labels",
            &json!({"name": "foo", "color": "invalid"}),
            None,
        )
        .await
        .unwrap_err();
    match err {
        Error::Http {
            status,
            message,
            method,
            path,
        } => {
            assert_eq!(status, 422);
            assert_eq!(message, "Validation Failed");
            assert_eq!(method, "POST");
            assert_eq!(path, "/repos/octokit-fixture-org/errors/labels");
        }
        other => panic!("{other:?}"),
    }
    assert_replayed(&gh);
}

#[tokio::test]
async fn rename_repository_follows_301_and_307_on_the_api_host() {
    let gh = replay("rename-repository.json").await;
    let client = token_client(&gh);
    let path = "/repos/octokit-fixture-org/rename-repository";
    let renamed = client
        .send_json(
            Method::PATCH,
            path,
            &json!({"name": "rename-repository-newname"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(renamed["name"], "rename-repository-newname");
    let repo: Value = client.get_json(path, None).await.unwrap();
    assert_eq!(repo["id"], 1000);
    let updated = client
        .send_json(
            Method::PATCH,
            path,
            &json!({"name": "rename-repository-newname", "description": "test description"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(updated["name"], "rename-repository-newname");
    assert_replayed(&gh);
}
