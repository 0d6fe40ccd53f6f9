use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use github_client::{Auth, Error, GithubClient};
use testkit::Fault;

use crate::support::*;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn retry_after_is_ridden_out() {
    let gh = fake().await;
    gh.fail_next(
        "GET",
        "/repos/octo/charts/pulls/7",
        403,
        &[("retry-after", "1")],
    );
    let start = Instant::now();
    token_client(&gh)
        .pull_request(&repo(), 7, None)
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_secs(1));
    let statuses: Vec<u16> = gh.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [403, 200]);
}

#[tokio::test]
async fn remaining_zero_waits_until_reset() {
    let gh = fake().await;
    let reset = now().to_string();
    gh.fail_next(
        "GET",
        "/repos/octo/charts/pulls/7",
        403,
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset),
        ],
    );
    let start = Instant::now();
    token_client(&gh)
        .pull_request(&repo(), 7, None)
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_secs(1), "reset + 1 s");
    assert_eq!(gh.requests().len(), 2);
}

#[tokio::test]
async fn secondary_limit_without_headers_waits_the_minimum() {
    let gh = fake().await;
    gh.fail_next("POST", "/repos/octo/charts/issues/7/comments", 403, &[]);
    let start = Instant::now();
    let c = token_client(&gh)
        .create_issue_comment(&repo(), 7, "hi", None)
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(200));
    // The refused POST was not processed, so waiting it out creates exactly one comment.
    assert_eq!(gh.comments("octo", "charts", 7).len(), 1);
    assert_eq!(c.body, "hi");
}

#[tokio::test]
async fn a_bare_403_is_not_retried() {
    let gh = fake().await;
    gh.inject(
        Fault::new("GET", "/repos/octo/charts/pulls/7")
            .status(403)
            .body(serde_json::json!({"message": "Resource not accessible by integration"})),
    );
    let err = token_client(&gh)
        .pull_request(&repo(), 7, None)
        .await
        .unwrap_err();
    match &err {
        Error::Http {
            status, message, ..
        } => {
            assert_eq!(*status, 403);
            assert_eq!(message, "Resource not accessible by integration");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(gh.requests().len(), 1);
}

#[tokio::test]
async fn rate_limit_retries_are_bounded_and_exponential() {
    let gh = fake().await;
    gh.inject(Fault::new("GET", "/repos/").status(429).times(10));
    let client = GithubClient::builder(&gh.url())
        .auth(Auth::Token(TOKEN.into()))
        .secondary_rate_limit_wait(Duration::from_millis(100))
        .max_retries(2)
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.pull_request(&repo(), 7, None).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(gh.requests().len(), 3);
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "100 + 200 ms"
    );
}

#[tokio::test]
async fn a_wait_beyond_the_maximum_fails_at_once() {
    let gh = fake().await;
    gh.fail_next("GET", "/repos/", 429, &[("retry-after", "3600")]);
    let start = Instant::now();
    let err = token_client(&gh)
        .pull_request(&repo(), 7, None)
        .await
        .unwrap_err();
    match err {
        Error::RateLimited { retry_after } => {
            assert_eq!(retry_after, Some(Duration::from_secs(3600)))
        }
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn low_remaining_pauses_preemptively_and_is_exposed() {
    let gh = fake().await;
    // Two seconds ahead: the fake refills a window whose reset has passed, and with one
    // second the first request could land after the second boundary and see a fresh 5000.
    let reset = now() + 2;
    gh.set_rate_limit(10, reset);
    let client = token_client(&gh);
    client.pull_request(&repo(), 7, None).await.unwrap();
    let snap = client.rate_limit();
    assert_eq!(snap.limit, Some(5000));
    assert_eq!(snap.remaining, Some(9));
    assert_eq!(snap.resource.as_deref(), Some("core"));
    let start = Instant::now();
    client.issue_comments(&repo(), 7, None).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "paused until reset"
    );
    assert!(
        now() >= reset,
        "the second request went out only after the reset"
    );
}
