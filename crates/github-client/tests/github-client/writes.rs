use github_client::{Error, StatusRequest, StatusState};
use testkit::Fault;

use crate::support::*;

#[tokio::test]
async fn create_update_delete_comment() {
    let gh = fake().await;
    let client = token_client(&gh);
    let created = client
        .create_issue_comment(&repo(), 7, "hello <!-- chartimpact:analysis:v1 -->", None)
        .await
        .unwrap();
    assert_eq!(created.user_login, "chartimpact-test");
    let updated = client
        .update_issue_comment(&repo(), created.id, "hello again", None)
        .await
        .unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.body, "hello again");
    client
        .add_reaction(&repo(), created.id, "eyes", None)
        .await
        .unwrap();
    let stored = gh.comments("octo", "charts", 7);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].edits, 1);
    assert_eq!(stored[0].reactions, ["eyes"]);
    client
        .delete_issue_comment(&repo(), created.id, None)
        .await
        .unwrap();
    assert!(gh.comments("octo", "charts", 7).is_empty());
    let err = client
        .update_issue_comment(&repo(), created.id, "gone", None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
    gh.assert_no_validation_failures();
}

#[tokio::test]
async fn a_post_is_not_retried_after_a_server_error() {
    let gh = fake().await;
    gh.fail_next("POST", "/repos/octo/charts/issues/7/comments", 502, &[]);
    let err = token_client(&gh)
        .create_issue_comment(&repo(), 7, "body", None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 502, .. }), "{err:?}");
    assert_eq!(gh.requests().len(), 1);
    assert!(gh.comments("octo", "charts", 7).is_empty());
}

#[tokio::test]
async fn a_patch_of_a_known_id_is_retried() {
    let gh = fake().await;
    let id = gh.add_comment("octo", "charts", 7, "chartimpact-test", "old");
    gh.fail_next("PATCH", "/repos/octo/charts/issues/comments/", 500, &[]);
    token_client(&gh)
        .update_issue_comment(&repo(), id, "new", None)
        .await
        .unwrap();
    assert_eq!(gh.comments("octo", "charts", 7)[0].body, "new");
    assert_eq!(gh.requests().len(), 2);
}

#[tokio::test]
async fn status_description_is_truncated_to_140_chars() {
    let gh = fake().await;
    let long = "ü".repeat(300);
    token_client(&gh)
        .create_status(
            &repo(),
            "1111111111111111111111111111111111111111",
            &StatusRequest {
                state: StatusState::Pending,
                context: "chartimpact/analysis".into(),
                description: Some(long),
                target_url: Some("https://chartimpact.example/a/1".into()),
            },
            None,
        )
        .await
        .unwrap();
    let statuses = gh.statuses("octo", "charts", "1111111111111111111111111111111111111111");
    assert_eq!(statuses.len(), 1);
    let d = statuses[0].description.as_deref().unwrap();
    assert_eq!(d.chars().count(), 140);
    assert!(d.ends_with('…'));
    assert_eq!(statuses[0].state, "pending");
    assert_eq!(statuses[0].context, "chartimpact/analysis");
    gh.assert_no_validation_failures();
}

#[tokio::test]
async fn an_oversized_comment_is_refused_by_github_rules() {
    let gh = fake().await;
    let err = token_client(&gh)
        .create_issue_comment(&repo(), 7, &"x".repeat(65_537), None)
        .await
        .unwrap_err();
    match err {
        Error::Http {
            status, message, ..
        } => {
            assert_eq!(status, 422);
            assert_eq!(message, "Validation Failed");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(gh.validation_failures().len(), 1);
    // Exactly at the limit is fine.
    token_client(&gh)
        .create_issue_comment(&repo(), 7, &"é".repeat(65_536), None)
        .await
        .unwrap();
    let comments = gh.comments("octo", "charts", 7);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body.chars().count(), 65_536);
}

#[tokio::test]
async fn writes_are_spaced() {
    let gh = fake().await;
    let client = github_client::GithubClient::builder(&gh.url())
        .auth(github_client::Auth::Token(TOKEN.into()))
        .min_write_spacing(std::time::Duration::from_millis(150))
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    for i in 0..3 {
        client
            .create_issue_comment(&repo(), 7, &format!("c{i}"), None)
            .await
            .unwrap();
    }
    assert!(start.elapsed() >= std::time::Duration::from_millis(300));
    let bodies: Vec<String> = gh
        .comments("octo", "charts", 7)
        .into_iter()
        .map(|c| c.body)
        .collect();
    assert_eq!(bodies, ["c0", "c1", "c2"]);
}

#[tokio::test]
async fn tokens_never_appear_in_errors_or_debug() {
    let gh = fake().await;
    gh.revoke_token(TOKEN);
    let client = token_client(&gh);
    let err = client.pull_request(&repo(), 7, None).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    for text in [format!("{err}"), format!("{err:?}"), format!("{client:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
    }
    gh.inject(Fault::new("*", "/").status(500).times(20));
    let err = client
        .create_issue_comment(&repo(), 7, "x", None)
        .await
        .unwrap_err();
    assert!(!format!("{err:?}").contains(TOKEN));
}
