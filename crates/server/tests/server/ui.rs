//! What the web UI relies on: its pages and assets with security headers, chart listing,
//! compare progress as server-sent events, fixable errors as data, per-resource diffs, and the
//! request kept beside a stored result for "re-run".

use super::{Setup, TestServer, compare_body, repo};

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_assets_are_served_with_security_headers() {
    let srv = TestServer::start(Setup::default()).await;
    for path in [
        "/",
        "/compare",
        "/analytics",
        "/operations",
        &format!("/analysis/{}", "a".repeat(64)),
    ] {
        let r = srv
            .client
            .get(format!("{}{path}", srv.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers().clone();
        assert!(
            header(&h, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert_eq!(
            header(&h, "content-security-policy"),
            server::CONTENT_SECURITY_POLICY
        );
        assert_eq!(header(&h, "x-frame-options"), "DENY");
        assert_eq!(header(&h, "x-content-type-options"), "nosniff");
        let html = r.text().await.unwrap();
        assert!(html.contains("/assets/app.js"), "{path}");
    }

    let r = srv
        .client
        .get(format!("{}/assets/app.js", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(r.headers(), "content-type").starts_with("text/javascript"));
    let etag = header(r.headers(), "etag").to_owned();
    assert!(etag.starts_with('"'), "{etag}");
    let again = srv
        .client
        .get(format!("{}/assets/app.js", srv.url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // The API keeps its JSON answers, headers included.
    let (status, h, body) = srv.get("/assets/nope.js").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    assert!(!header(&h, "content-security-policy").is_empty());
    // A browser lost outside the API gets the UI's page-not-found; the API stays JSON.
    let lost = srv
        .client
        .get(format!("{}/no/such/page", srv.url))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(lost.status(), 404);
    assert!(header(lost.headers(), "content-type").starts_with("text/html"));
    let api = srv
        .client
        .get(format!("{}/api/nope", srv.url))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert!(header(api.headers(), "content-type").starts_with("application/json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_of_a_repository_are_listed() {
    let srv = TestServer::start(Setup::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let r = repo(dir.path());
    let repository = r.dir.to_string_lossy().into_owned();
    let (status, _, body) = srv
        .post(
            "/api/charts",
            &serde_json::json!({"repository": repository, "revision": "v1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revision"], "v1");
    assert_eq!(body["commit"].as_str().unwrap().len(), 40);
    assert_eq!(body["charts"][0]["path"], "charts/app");
    assert_eq!(body["charts"][0]["name"], "app");
    assert_eq!(body["charts"][0]["version"], "1.0.0");

    // Without a revision: the default branch head (v2's Chart.yaml).
    let (_, _, body) = srv
        .post(
            "/api/charts",
            &serde_json::json!({"repository": repository}),
        )
        .await;
    assert_eq!(body["revision"], "HEAD");
    assert_eq!(body["charts"][0]["version"], "1.1.0");

    let got = srv
        .post(
            "/api/charts",
            &serde_json::json!({"repository": repository, "revision": "v3"}),
        )
        .await;
    super::assert_error(&got, 404, "revision_not_found");
    let got = srv
        .post("/api/charts", &serde_json::json!({"repo": repository}))
        .await;
    super::assert_error(&got, 400, "invalid_json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixable_errors_carry_the_fix_as_data() {
    let srv = TestServer::start(Setup::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let r = repo(dir.path());
    let mut body = compare_body(&r);
    body["version2"] = "v22".into();
    let got = srv.post("/api/compare", &body).await;
    super::assert_error(&got, 404, "revision_not_found");
    assert_eq!(got.2["revision"], "v22");
    assert!(
        got.2["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "v2"),
        "{}",
        got.2
    );

    let mut body = compare_body(&r);
    body["chartPath"] = "charts/nope".into();
    let got = srv.post("/api/compare", &body).await;
    super::assert_error(&got, 404, "chart_not_found");
    assert_eq!(got.2["charts"], serde_json::json!(["charts/app"]));
    assert_eq!(got.2["chartPath"], "charts/nope");
}

/// Splits an event stream into `(event, data)` pairs.
fn events(text: &str) -> Vec<(String, serde_json::Value)> {
    text.split("\n\n")
        .filter(|f| !f.trim().is_empty() && !f.starts_with(':'))
        .map(|frame| {
            let mut event = String::new();
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                }
            }
            (event, serde_json::from_str(&data).unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_stream_reports_stages_then_the_result() {
    let srv = TestServer::start(Setup::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let r = repo(dir.path());
    let r = srv
        .client
        .post(format!("{}/api/compare/stream", srv.url))
        .json(&compare_body(&r))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(r.headers(), "content-type"), "text/event-stream");
    assert_eq!(header(r.headers(), "cache-control"), "no-store");
    let evs = events(&r.text().await.unwrap());
    let stages: Vec<&str> = evs
        .iter()
        .filter(|(e, _)| e == "stage")
        .map(|(_, d)| d["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["resolve", "render", "diff", "store"]);
    let elapsed: Vec<u64> = evs
        .iter()
        .filter(|(e, _)| e == "stage")
        .map(|(_, d)| d["elapsedMs"].as_u64().unwrap())
        .collect();
    assert!(elapsed.windows(2).all(|w| w[0] <= w[1]), "{elapsed:?}");
    let (last, result) = evs.last().unwrap();
    assert_eq!(last, "result");
    assert_eq!(result["success"], true);
    let id = result["compareId"].as_str().unwrap();

    // The result is stored (the permalink works) and is what /api/compare answers.
    let (status, _, stored) = srv.get(&format!("/api/analysis/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(stored["comparison"]["impact"], result["impact"]);
    let (_, _, plain) = srv
        .post(
            "/api/compare",
            &serde_json::json!({
                "repository": result["repository"], "chartPath": "charts/app",
                "version1": "v1", "version2": "v2"
            }),
        )
        .await;
    assert_eq!(plain["compareId"], result["compareId"]);
    assert_eq!(
        plain["structuredDiff"]["resources"],
        result["structuredDiff"]["resources"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_stream_ends_with_an_error_event_or_answers_plain_errors() {
    let srv = TestServer::start(Setup::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let r = repo(dir.path());
    let mut body = compare_body(&r);
    body["version1"] = "v0".into();
    let resp = srv
        .client
        .post(format!("{}/api/compare/stream", srv.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let evs = events(&resp.text().await.unwrap());
    let (last, err) = evs.last().unwrap();
    assert_eq!(last, "error");
    assert_eq!(err["code"], "revision_not_found");
    assert_eq!(err["status"], 404);
    assert_eq!(err["success"], false);
    assert!(err["suggestions"].is_array(), "{err}");
    assert!(!evs.iter().any(|(e, _)| e == "result"));

    // Invalid before any work starts: a plain JSON error with its status.
    let got = srv
        .post_raw("/api/compare/stream", br#"{"repository": 1}"#.to_vec())
        .await;
    super::assert_error(&got, 400, "invalid_json");
    let mut body = compare_body(&r);
    body["chartPath"] = "../etc".into();
    let got = srv.post("/api/compare/stream", &body).await;
    super::assert_error(&got, 400, "invalid_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_carry_per_resource_diffs_and_stored_results_their_request() {
    let srv = TestServer::start(Setup::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let r = repo(dir.path());
    let mut body = compare_body(&r);
    body["valuesContent"] = "token: s3cr3t-inline\n".into();
    body["releaseName"] = "shop".into();
    let (status, _, result) = srv.post("/api/compare", &body).await;
    assert_eq!(status, 200, "{result}");
    let resources = result["structuredDiff"]["resources"].as_array().unwrap();
    let diffs = result["resourceDiffs"].as_array().unwrap();
    assert_eq!(diffs.len(), resources.len());
    for (r, d) in resources.iter().zip(diffs) {
        let d = d.as_str().unwrap();
        let name = r["identity"]["name"].as_str().unwrap();
        assert!(d.contains(name), "{d}");
        assert!(d.contains("\n@@ "), "{d}");
    }
    // Secrets stay redacted in the YAML diffs too.
    assert!(
        !diffs
            .iter()
            .any(|d| d.as_str().unwrap().contains("hunter2"))
    );

    let id = result["compareId"].as_str().unwrap();
    let (_, _, stored) = srv.get(&format!("/api/analysis/{id}")).await;
    let request = &stored["comparison"]["request"];
    assert_eq!(request["releaseName"], "shop");
    assert_eq!(request["version2"], "v2");
    // Inline values are not stored: only a digest a browser can match its own copy against.
    assert!(request.get("valuesContent").is_none(), "{request}");
    assert_eq!(
        request["valuesContentSha256"],
        sha256_hex(b"token: s3cr3t-inline\n")
    );
}

fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
