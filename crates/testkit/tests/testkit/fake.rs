use std::time::Duration;

use serde_json::{Value, json};
use testkit::{FakeGithub, Fault};

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn call(
    gh: &FakeGithub,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = http()
        .request(method, format!("{}{path}", gh.url()))
        .header("authorization", "Bearer ghp_x");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, v)
}

async fn seeded() -> FakeGithub {
    let gh = FakeGithub::start().await;
    let files: Vec<String> = (0..45).map(|i| format!("f{i}")).collect();
    gh.add_pull_request("o", "r", 1, "head", "base", files);
    gh
}

#[tokio::test]
async fn unauthenticated_requests_get_401_and_unknown_paths_404() {
    let gh = seeded().await;
    let resp = http()
        .get(format!("{}/repos/o/r/pulls/1", gh.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (status, _, body) = call(&gh, reqwest::Method::GET, "/repos/o/r/pulls/2", None, &[]).await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Not Found");
}

#[tokio::test]
async fn pages_have_link_headers_and_etags() {
    let gh = seeded().await;
    let (status, headers, body) = call(
        &gh,
        reqwest::Method::GET,
        "/repos/o/r/pulls/1/files?per_page=20",
        None,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 20);
    let link = headers["link"].to_str().unwrap();
    assert!(link.contains("page=2>; rel=\"next\""), "{link}");
    assert!(link.contains("page=3>; rel=\"last\""), "{link}");
    assert!(headers.contains_key("x-ratelimit-remaining"));
    let etag = headers["etag"].to_str().unwrap().to_string();
    let (status, _, _) = call(
        &gh,
        reqwest::Method::GET,
        "/repos/o/r/pulls/1/files?per_page=20",
        None,
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, 304);
    let (_, headers, body) = call(
        &gh,
        reqwest::Method::GET,
        "/repos/o/r/pulls/1/files?per_page=20&page=3",
        None,
        &[],
    )
    .await;
    assert_eq!(body.as_array().unwrap().len(), 5);
    assert!(!headers["link"].to_str().unwrap().contains("rel=\"next\""));
}

#[tokio::test]
async fn bodies_are_validated_against_the_schemas() {
    let gh = seeded().await;
    let (status, _, _) = call(
        &gh,
        reqwest::Method::POST,
        "/repos/o/r/statuses/head",
        Some(json!({"state": "green"})),
        &[],
    )
    .await;
    assert_eq!(status, 422);
    let failures = gh.validation_failures();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].errors[0].contains("/state"), "{failures:?}");
    let (status, _, _) = call(
        &gh,
        reqwest::Method::POST,
        "/repos/o/r/issues/1/comments",
        Some(json!({"text": "wrong field"})),
        &[],
    )
    .await;
    assert_eq!(status, 422);
    assert!(gh.comments("o", "r", 1).is_empty());
}

#[tokio::test]
async fn documented_limits_are_enforced() {
    let gh = seeded().await;
    let (status, _, body) = call(
        &gh,
        reqwest::Method::POST,
        "/repos/o/r/statuses/head",
        Some(json!({"state": "success", "description": "d".repeat(141)})),
        &[],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"][0]["message"],
        "description is too long (maximum is 140 characters)"
    );
    let (status, _, _) = call(
        &gh,
        reqwest::Method::POST,
        "/repos/o/r/issues/1/comments",
        Some(json!({"body": "b".repeat(65_537)})),
        &[],
    )
    .await;
    assert_eq!(status, 422);
    let (status, _, _) = call(
        &gh,
        reqwest::Method::POST,
        "/repos/o/r/check-runs",
        Some(json!({"name": "c", "head_sha": "head"})),
        &[],
    )
    .await;
    assert_eq!(status, 403, "check runs need an installation token");
    assert_eq!(gh.validation_failures().len(), 2);
}

#[tokio::test]
async fn faults_are_served_once_and_in_order() {
    let gh = seeded().await;
    gh.fail_next("GET", "/repos/o/r/pulls/1", 429, &[("retry-after", "7")]);
    gh.inject(Fault::new("*", "/repos/").status(502).times(2));
    let (s1, h1, b1) = call(&gh, reqwest::Method::GET, "/repos/o/r/pulls/1", None, &[]).await;
    assert_eq!(s1, 429);
    assert_eq!(h1["retry-after"], "7");
    assert!(
        b1["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit")
    );
    let (s2, _, _) = call(&gh, reqwest::Method::GET, "/repos/o/r/pulls/1", None, &[]).await;
    let (s3, _, _) = call(&gh, reqwest::Method::GET, "/repos/o/r/pulls/1", None, &[]).await;
    let (s4, _, _) = call(&gh, reqwest::Method::GET, "/repos/o/r/pulls/1", None, &[]).await;
    assert_eq!((s2, s3, s4), (502, 502, 200));
    gh.redirect_next(
        "GET",
        "/repos/o/r/pulls/1",
        301,
        "https://elsewhere.example/x",
    );
    let (s5, h5, _) = call(&gh, reqwest::Method::GET, "/repos/o/r/pulls/1", None, &[]).await;
    assert_eq!(s5, 301);
    assert_eq!(h5["location"], "https://elsewhere.example/x");
    gh.slow_next("GET", "/repos/o/r/pulls/1", Duration::from_millis(200));
    let start = std::time::Instant::now();
    let (s6, _, _) = call(&gh, reqwest::Method::GET, "/repos/o/r/pulls/1", None, &[]).await;
    assert_eq!(s6, 200);
    assert!(start.elapsed() >= Duration::from_millis(200));
    let statuses: Vec<u16> = gh.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 502, 502, 200, 301, 200]);
}

#[tokio::test]
async fn primary_limit_exhaustion_is_a_403_with_headers() {
    let gh = seeded().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 100;
    gh.set_rate_limit(0, reset);
    let (status, headers, _) =
        call(&gh, reqwest::Method::GET, "/repos/o/r/pulls/1", None, &[]).await;
    assert_eq!(status, 403);
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(
        headers["x-ratelimit-reset"].to_str().unwrap(),
        reset.to_string()
    );
}

#[tokio::test]
async fn replay_reports_mismatches() {
    let entries: Vec<testkit::ReplayEntry> = serde_json::from_value(json!([
        {"method": "get", "path": "/a?x=1", "body": "", "status": 200, "response": {"ok": true},
         "headers": {"link": "<https://api.github.com/b>; rel=\"next\"", "content-length": "3", "x-ratelimit-used": 1}}
    ]))
    .unwrap();
    let gh = FakeGithub::start_replay(entries).await;
    let (status, _, _) = call(&gh, reqwest::Method::GET, "/a", None, &[]).await;
    assert_eq!(status, 418);
    assert_eq!(gh.replay_mismatches().len(), 1);
    let (status, headers, body) = call(&gh, reqwest::Method::GET, "/a?x=1", None, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["ok"], true);
    assert_eq!(
        headers["link"].to_str().unwrap(),
        format!("<{}/b>; rel=\"next\"", gh.url())
    );
    assert_eq!(headers["x-ratelimit-used"], "1");
    assert_eq!(gh.replay_remaining(), 0);
}

#[tokio::test]
async fn a_write_the_test_never_looked_at_fails_the_test() {
    let gh = seeded().await;
    let status = json!({"state": "success", "context": "chartimpact/analysis"});
    let (code, _, _) = call(
        &gh,
        reqwest::Method::POST,
        "/repos/o/r/statuses/head",
        Some(status),
        &[],
    )
    .await;
    assert_eq!(code, 201);
    let (code, _, _) = call(
        &gh,
        reqwest::Method::POST,
        "/repos/o/r/issues/1/comments",
        Some(json!({"body": "extra"})),
        &[],
    )
    .await;
    assert_eq!(code, 201);
    // Reading the requests is not looking at what was written.
    assert_eq!(gh.requests().len(), 2);
    assert_eq!(gh.unobserved_writes().len(), 2);
    // Looking at the statuses leaves the comment nobody asserted on.
    assert_eq!(gh.statuses("o", "r", "head").len(), 1);
    let left = gh.unobserved_writes();
    assert_eq!(left.len(), 1);
    assert!(left[0].path.ends_with("/issues/1/comments"));
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(gh)));
    let message = dropped.expect_err("an unobserved comment must fail the test");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("never looked at") && message.contains("/issues/1/comments"),
        "{message}"
    );
}

#[tokio::test]
async fn writes_looked_at_let_the_test_end() {
    let gh = seeded().await;
    call(
        &gh,
        reqwest::Method::POST,
        "/repos/o/r/issues/1/comments",
        Some(json!({"body": "the report"})),
        &[],
    )
    .await;
    assert_eq!(gh.comments("o", "r", 1).len(), 1);
    assert!(gh.unobserved_writes().is_empty());
}
