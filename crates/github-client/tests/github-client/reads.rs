use github_client::{Error, RepoName};
use testkit::FileSeed;

use crate::support::*;

#[tokio::test]
async fn every_request_carries_the_required_headers() {
    let gh = fake().await;
    let client = token_client(&gh);
    let pr = client.pull_request(&repo(), 7, None).await.unwrap();
    assert_eq!(pr.number, 7);
    assert_eq!(pr.state, "open");
    assert!(!pr.draft);
    assert_eq!(pr.head.sha, "1111111111111111111111111111111111111111");
    assert_eq!(pr.head.ref_name, "feature");
    assert_eq!(pr.base.ref_name, "main");
    let req = &gh.requests()[0];
    assert_eq!(req.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(req.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(
        req.header("user-agent"),
        Some(concat!("chartimpact/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(
        req.header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
}

#[tokio::test]
async fn current_user_with_a_token() {
    let gh = fake().await;
    gh.set_user("chartimpact-ci", 77);
    let me = token_client(&gh).current_user(None).await.unwrap();
    assert_eq!(me.login, "chartimpact-ci");
    assert_eq!(me.id, 77);
    assert_eq!(me.app_id, None);
}

#[tokio::test]
async fn pr_files_follow_link_pages_with_per_page_100() {
    let gh = fake().await;
    let files: Vec<FileSeed> = (0..250)
        .map(|i| FileSeed::modified(&format!("charts/c{i}/values.yaml")))
        .chain([FileSeed::renamed("old/Chart.yaml", "new/Chart.yaml")])
        .collect();
    gh.add_pull_request("octo", "charts", 8, "h", "b", files);
    let got = token_client(&gh)
        .pull_request_files(&repo(), 8, None)
        .await
        .unwrap();
    assert_eq!(got.len(), 251);
    assert_eq!(got[0].filename, "charts/c0/values.yaml");
    assert_eq!(
        got[250].previous_filename.as_deref(),
        Some("old/Chart.yaml")
    );
    let paths: Vec<String> = gh.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/repos/octo/charts/pulls/8/files?per_page=100",
            "/repos/octo/charts/pulls/8/files?per_page=100&page=2",
            "/repos/octo/charts/pulls/8/files?per_page=100&page=3",
        ]
    );
}

#[tokio::test]
async fn pr_files_stop_at_3000_for_the_git_diff_fallback() {
    let gh = fake().await;
    let files: Vec<String> = (0..3500).map(|i| format!("f{i}")).collect();
    gh.add_pull_request("octo", "charts", 9, "h", "b", files);
    let err = token_client(&gh)
        .pull_request_files(&repo(), 9, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TooManyFiles { limit: 3000 }),
        "{err:?}"
    );
    assert_eq!(gh.requests().len(), 30);
}

#[tokio::test]
async fn a_304_reuses_the_cached_body() {
    let gh = fake().await;
    let client = token_client(&gh);
    let first = client.pull_request(&repo(), 7, None).await.unwrap();
    let remaining = client.rate_limit().remaining.unwrap();
    let second = client.pull_request(&repo(), 7, None).await.unwrap();
    assert_eq!(first, second);
    let reqs = gh.requests();
    assert_eq!(reqs[0].header("if-none-match"), None);
    assert!(reqs[1].header("if-none-match").is_some());
    assert_eq!(reqs[1].status, 304);
    // A 304 does not count against the primary limit.
    assert_eq!(client.rate_limit().remaining.unwrap(), remaining);
}

#[tokio::test]
async fn comment_pages_are_cached_page_by_page() {
    let gh = fake().await;
    for i in 0..150 {
        gh.add_comment("octo", "charts", 7, "someone", &format!("c{i}"));
    }
    let client = token_client(&gh);
    let a = client.issue_comments(&repo(), 7, None).await.unwrap();
    let b = client.issue_comments(&repo(), 7, None).await.unwrap();
    assert_eq!(a.len(), 150);
    assert_eq!(a, b);
    let statuses: Vec<u16> = gh.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 304, 304]);
    assert_eq!(a[0].user_login, "someone");
    assert_eq!(a[0].user_type, "User");
}

#[tokio::test]
async fn missing_pr_is_not_found() {
    let gh = fake().await;
    let err = token_client(&gh)
        .pull_request(&RepoName::new("octo", "nope").unwrap(), 1, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn server_errors_are_retried_for_reads() {
    let gh = fake().await;
    gh.fail_next("GET", "/repos/octo/charts/pulls/7", 502, &[]);
    gh.fail_next("GET", "/repos/octo/charts/pulls/7", 503, &[]);
    let pr = token_client(&gh)
        .pull_request(&repo(), 7, None)
        .await
        .unwrap();
    assert_eq!(pr.number, 7);
    let statuses: Vec<u16> = gh.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [502, 503, 200]);
}

#[tokio::test]
async fn read_retries_are_bounded() {
    let gh = fake().await;
    gh.inject(
        testkit::Fault::new("GET", "/repos/octo/charts/pulls/7")
            .status(500)
            .times(10),
    );
    let err = token_client(&gh)
        .pull_request(&repo(), 7, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 500, .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(gh.requests().len(), 4, "1 try + 3 retries");
}

#[tokio::test]
async fn transport_timeouts_are_retried_for_reads() {
    let gh = fake().await;
    gh.slow_next(
        "GET",
        "/repos/octo/charts/pulls/7",
        std::time::Duration::from_millis(800),
    );
    let client = github_client::GithubClient::builder(&gh.url())
        .auth(github_client::Auth::Token(TOKEN.into()))
        .timeout(std::time::Duration::from_millis(300))
        .retry_backoff(std::time::Duration::from_millis(10))
        .build()
        .unwrap();
    let pr = client.pull_request(&repo(), 7, None).await.unwrap();
    assert_eq!(pr.number, 7);
    assert_eq!(gh.requests().len(), 2);
}
