use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use github_client::{
    Annotation, AnnotationLevel, Auth, CheckConclusion, CheckRunOutput, CheckRunRequest,
    CheckStatus, Error,
};

use crate::support::*;

fn claims_of(auth_header: &str) -> serde_json::Value {
    let jwt = auth_header.strip_prefix("Bearer ").unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

#[tokio::test]
async fn app_identity_is_the_bot_login_and_the_jwt_verifies() {
    let gh = fake().await;
    let me = app_client(&gh).current_user(Some(1)).await.unwrap();
    assert_eq!(me.login, "chartimpact[bot]");
    assert_eq!(me.app_id, Some(APP_ID));
    let req = &gh.requests()[0];
    assert_eq!(req.path, "/app");
    assert_eq!(req.status, 200, "the fake verified the RS256 signature");
    let claims = claims_of(req.header("authorization").unwrap());
    assert_eq!(claims["iss"], APP_ID.to_string());
    let iat = claims["iat"].as_u64().unwrap();
    let exp = claims["exp"].as_u64().unwrap();
    assert_eq!(exp - iat, 600);
}

#[tokio::test]
async fn a_jwt_signed_with_another_key_is_refused() {
    let gh = fake().await;
    gh.set_app(
        APP_ID,
        "chartimpact",
        Some(include_str!("../fixtures/other-key.pem")),
    );
    let err = app_client(&gh).current_user(None).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
}

#[tokio::test]
async fn installation_tokens_are_cached() {
    let gh = fake().await;
    let client = app_client(&gh);
    client.pull_request(&repo(), 7, Some(1)).await.unwrap();
    client.issue_comments(&repo(), 7, Some(1)).await.unwrap();
    let reqs = gh.requests();
    let token_posts: Vec<_> = reqs
        .iter()
        .filter(|r| r.path == "/app/installations/1/access_tokens")
        .collect();
    assert_eq!(token_posts.len(), 1);
    assert!(
        token_posts[0]
            .header("authorization")
            .unwrap()
            .starts_with("Bearer eyJ")
    );
    let repo_call = reqs.iter().find(|r| r.path.starts_with("/repos/")).unwrap();
    assert!(
        repo_call
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ghs_")
    );
    gh.assert_no_validation_failures();
}

#[tokio::test]
async fn tokens_close_to_expiry_are_refreshed() {
    let gh = fake().await;
    gh.set_token_lifetime(30);
    let client = app_client(&gh);
    client.pull_request(&repo(), 7, Some(1)).await.unwrap();
    client.pull_request(&repo(), 7, Some(1)).await.unwrap();
    let posts = gh
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/access_tokens"))
        .count();
    assert_eq!(posts, 2);
}

#[tokio::test]
async fn a_401_triggers_exactly_one_refresh() {
    let gh = fake().await;
    let client = app_client(&gh);
    client.pull_request(&repo(), 7, Some(1)).await.unwrap();
    gh.expire_installation_tokens();
    client.pull_request(&repo(), 7, Some(1)).await.unwrap();
    let seq: Vec<(String, u16)> = gh
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.status))
        .collect();
    assert_eq!(
        seq,
        [
            ("/app/installations/1/access_tokens".to_string(), 201),
            ("/repos/octo/charts/pulls/7".to_string(), 200),
            ("/repos/octo/charts/pulls/7".to_string(), 401),
            ("/app/installations/1/access_tokens".to_string(), 201),
            // The retry carries If-None-Match and is served from the ETag cache.
            ("/repos/octo/charts/pulls/7".to_string(), 304),
        ]
    );
    // A persistent 401 is not refreshed forever.
    gh.fail_next("GET", "/repos/octo/charts/pulls/7", 401, &[]);
    gh.fail_next("GET", "/repos/octo/charts/pulls/7", 401, &[]);
    let err = client.pull_request(&repo(), 7, Some(1)).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
}

#[tokio::test]
async fn app_calls_need_an_installation() {
    let gh = fake().await;
    let err = app_client(&gh)
        .pull_request(&repo(), 7, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }));
    assert!(gh.requests().is_empty());
}

#[tokio::test]
async fn app_comments_are_written_by_the_bot() {
    let gh = fake().await;
    let c = app_client(&gh)
        .create_issue_comment(&repo(), 7, "report", Some(1))
        .await
        .unwrap();
    assert_eq!(c.user_login, "chartimpact[bot]");
    assert_eq!(c.user_type, "Bot");
    assert_eq!(c.app_id, Some(APP_ID));
    let stored = gh.comments("octo", "charts", 7);
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].id, stored[0].app_id), (c.id, Some(APP_ID)));
}

fn annotations(n: usize) -> Vec<Annotation> {
    (0..n)
        .map(|i| Annotation {
            path: format!("charts/a/templates/t{i}.yaml"),
            start_line: 1,
            end_line: 2,
            annotation_level: AnnotationLevel::Warning,
            message: format!("finding {i}"),
            title: Some("risk".into()),
        })
        .collect()
}

#[tokio::test]
async fn check_runs_need_an_app() {
    let gh = fake().await;
    let err = token_client(&gh)
        .create_check_run(&repo(), &CheckRunRequest::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ChecksNeedApp));
    assert!(gh.requests().is_empty());
}

/// GitHub Actions' `GITHUB_TOKEN` is an installation token: allowed to try, it writes the
/// check run; a personal token allowed to try gets GitHub's 403, not a refusal up front.
#[tokio::test]
async fn an_installation_token_may_write_check_runs_when_allowed() {
    let gh = fake().await;
    let client = |token: &str| {
        github_client::GithubClient::builder(&gh.url())
            .auth(Auth::Token(token.into()))
            .check_runs_with_token(true)
            .min_write_spacing(std::time::Duration::ZERO)
            .build()
            .unwrap()
    };
    let run = CheckRunRequest {
        name: "chartimpact".into(),
        head_sha: "1111111111111111111111111111111111111111".into(),
        conclusion: Some(CheckConclusion::Neutral),
        output: Some(CheckRunOutput {
            title: "No Helm chart is affected".into(),
            summary: "nothing to compare".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let actions_token = gh.issue_installation_token(77);
    let id = client(&actions_token)
        .create_check_run(&repo(), &run, None)
        .await
        .unwrap();
    let runs = gh.check_runs("octo", "charts");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, id);
    assert_eq!(runs[0].conclusion.as_deref(), Some("neutral"));

    let err = client(TOKEN)
        .create_check_run(&repo(), &run, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
    assert_eq!(gh.check_runs("octo", "charts").len(), 1);
    gh.assert_no_validation_failures();
}

#[tokio::test]
async fn annotations_are_sent_in_chunks_of_fifty() {
    let gh = fake().await;
    let client = app_client(&gh);
    let sha = "1111111111111111111111111111111111111111";
    let id = client
        .create_check_run(
            &repo(),
            &CheckRunRequest {
                name: "chartimpact".into(),
                head_sha: sha.into(),
                status: Some(CheckStatus::InProgress),
                external_id: Some("job-1".into()),
                started_at: Some(jiff::Timestamp::now()),
                output: Some(CheckRunOutput {
                    title: "Analysing".into(),
                    summary: "running".into(),
                    text: None,
                    annotations: annotations(120),
                }),
                ..Default::default()
            },
            Some(1),
        )
        .await
        .unwrap();
    client
        .update_check_run(
            &repo(),
            id,
            &CheckRunRequest {
                name: "chartimpact".into(),
                conclusion: Some(CheckConclusion::Success),
                completed_at: Some(jiff::Timestamp::now()),
                output: Some(CheckRunOutput {
                    title: "Low risk".into(),
                    summary: "s".repeat(70_000),
                    text: Some("full diff".into()),
                    annotations: annotations(60),
                }),
                ..Default::default()
            },
            Some(1),
        )
        .await
        .unwrap();
    let runs = gh.check_runs("octo", "charts");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.annotations.len(), 180);
    assert_eq!(run.requests, 3 + 2);
    assert_eq!(run.status, "completed");
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    assert_eq!(run.external_id.as_deref(), Some("job-1"));
    assert_eq!(run.summary.as_ref().unwrap().chars().count(), 65_535);
    for w in gh.writes() {
        if let Some(a) = w
            .json()
            .and_then(|b| b["output"]["annotations"].as_array().cloned())
        {
            assert!(a.len() <= 50);
        }
    }
    gh.assert_no_validation_failures();
}

#[test]
fn app_key_is_hidden_in_debug() {
    let auth = Auth::App {
        app_id: 1,
        private_key_pem: KEY.into(),
    };
    let dbg = format!("{auth:?}");
    assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
}

#[tokio::test]
async fn git_tokens_are_minted_per_call_for_the_one_repository() {
    let gh = fake().await;
    let client = app_client(&gh);
    let first = client.git_token(&repo(), Some(1)).await.unwrap();
    let second = client.git_token(&repo(), Some(1)).await.unwrap();
    assert_ne!(first.token.expose(), second.token.expose(), "never cached");
    assert!(first.expires_at.is_some());
    assert!(!format!("{first:?}").contains(first.token.expose()));
    let posts: Vec<_> = gh
        .requests()
        .into_iter()
        .filter(|r| r.path == "/app/installations/1/access_tokens")
        .collect();
    assert_eq!(posts.len(), 2);
    for p in &posts {
        assert_eq!(
            p.json().unwrap()["repositories"],
            serde_json::json!([repo().name()]),
            "scoped to the one repository"
        );
    }
    // GitHub's git server would take it for that repository only.
    let (owner, name) = (repo().owner().to_owned(), repo().name().to_owned());
    let token = first.token.expose();
    assert!(gh.accepts_git_credentials(&owner, &name, "x-access-token", token));
    assert!(!gh.accepts_git_credentials(&owner, "other", "x-access-token", token));
    // Without an installation id there is nothing to mint from: a clear error.
    let err = client.git_token(&repo(), None).await.unwrap_err();
    assert!(err.to_string().contains("installation id"), "{err}");
    // A token client hands out its token, unchanged.
    let t = token_client(&gh).git_token(&repo(), None).await.unwrap();
    assert!(t.expires_at.is_none());
    gh.assert_no_validation_failures();
}

#[tokio::test]
async fn the_work_of_a_delivery_carries_its_id_on_every_request() {
    let gh = fake().await;
    let delivery: github_client::DeliveryId =
        "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse().unwrap();
    let plain = app_client(&gh);
    let for_job = plain.for_delivery(&delivery);
    // Token minting (installation token for the comment, and a git token) and the writes.
    for_job
        .create_issue_comment(&repo(), 7, "hello", Some(1))
        .await
        .unwrap();
    for_job.git_token(&repo(), Some(1)).await.unwrap();
    let status = github_client::StatusRequest {
        state: github_client::StatusState::Pending,
        context: "chartimpact/analysis".into(),
        description: None,
        target_url: None,
    };
    for_job
        .create_status(&repo(), &"2".repeat(40), &status, Some(1))
        .await
        .unwrap();
    let sent = gh.requests();
    assert_eq!(sent.len(), 4, "{sent:?}");
    for r in &sent {
        assert_eq!(
            r.header("x-github-delivery"),
            Some(delivery.as_str()),
            "{} {}",
            r.method,
            r.path
        );
    }
    // The client it came from, and one built with the header turned off, send none.
    plain
        .create_status(&repo(), &"2".repeat(40), &status, Some(1))
        .await
        .unwrap();
    let off = github_client::GithubClient::builder(&gh.url())
        .auth(Auth::Token(TOKEN.into()))
        .min_write_spacing(std::time::Duration::ZERO)
        .send_delivery_ids(false)
        .build()
        .unwrap();
    assert_eq!(off.for_delivery(&delivery).delivery(), None);
    off.for_delivery(&delivery)
        .create_status(&repo(), &"2".repeat(40), &status, None)
        .await
        .unwrap();
    let later = &gh.requests()[4..];
    assert_eq!(later.len(), 2, "{later:?}");
    assert!(
        later
            .iter()
            .all(|r| r.header("x-github-delivery").is_none()),
        "{later:?}"
    );
    assert_eq!(
        gh.writes().len(),
        6,
        "two token mints, a comment, three statuses"
    );
    gh.assert_no_validation_failures();
}
