//! Routes and their answers: compare, permalinks, list, analytics, versions, health, errors.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::{Setup, TestClock, TestServer, assert_error, compare_body, repo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_stores_before_answering_and_serves_the_permalink() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup::default()).await;

    let (status, headers, body) = srv.post("/api/compare", &compare_body(&r)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let id = body["compareId"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 64);
    assert_eq!(headers["x-compare-id"], id.as_str());
    assert_eq!(headers["x-deduplication"], "miss");
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(body["structuredDiff"]["stats"]["resources"]["modified"], 2);
    assert_eq!(body["resolved"]["version1"].as_str().unwrap().len(), 40);

    // No wait: the result was stored before the response was sent.
    let (status, _, stored) = srv.get(&format!("/api/analysis/{id}")).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["success"], true);
    let c = &stored["comparison"];
    assert_eq!(c["compareId"], id.as_str());
    assert_eq!(c["structuredDiff"], body["structuredDiff"]);
    assert_eq!(c["impact"], body["impact"]);
    assert!(c["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(stored["metadata"]["isExpired"], false);
    assert!(stored["metadata"]["compressedSize"].as_u64().unwrap() > 0);

    // The same request again: same id, deduplicated, counted twice.
    let (status, headers, again) = srv.post("/api/compare", &compare_body(&r)).await;
    assert_eq!(status, 200);
    assert_eq!(again["compareId"], id.as_str());
    assert_eq!(headers["x-deduplication"], "hit");
    let (_, _, stored) = srv.get(&format!("/api/analysis/{id}")).await;
    assert_eq!(stored["metadata"]["compareCount"], 2);
    assert_eq!(stored["metadata"]["isDeduplicated"], true);

    let (status, _, list) = srv.get("/api/analysis?limit=10").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["count"], 1);
    assert_eq!(list["total"], 1);
    let item = &list["comparisons"][0];
    assert_eq!(item["compareId"], id.as_str());
    assert_eq!(item["chartPath"], "charts/app");
    assert_eq!(item["resourcesModified"], 2);

    let (status, _, popular) = srv.get("/api/analytics/charts/popular").await;
    assert_eq!(status, 200, "{popular}");
    assert_eq!(popular["totalComparisons"], 2);
    assert_eq!(popular["popularCharts"][0]["chartPath"], "charts/app");
    assert_eq!(popular["popularCharts"][0]["comparisonCount"], 2);
    assert_eq!(popular["popularCharts"][0]["withChanges"], 2);
    assert_eq!(popular["popularCharts"][0]["avgModified"], 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_and_caps_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup::default()).await;
    let mut ids = Vec::new();
    for (v1, v2) in [("v1", "v2"), ("v2", "v1"), ("v1", "v1")] {
        let mut body = compare_body(&r);
        body["version1"] = json!(v1);
        body["version2"] = json!(v2);
        let (s, _, b) = srv.post("/api/compare", &body).await;
        assert_eq!(s, 200, "{b}");
        ids.push(b["compareId"].as_str().unwrap().to_owned());
    }
    let (_, _, all) = srv.get("/api/analysis?limit=1000").await;
    assert_eq!(all["limit"], 200, "limit is capped");
    assert_eq!(all["total"], 3);
    let (_, _, page) = srv.get("/api/analysis?limit=1&offset=1").await;
    assert_eq!(page["count"], 1);
    assert_eq!(page["total"], 3);
    let (_, _, none) = srv.get("/api/analysis?chartPath=charts/other").await;
    assert_eq!(none["total"], 0);
    let repo_url = all["comparisons"][0]["repository"]
        .as_str()
        .unwrap()
        .to_owned();
    let encoded: String = repo_url
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let (_, _, by_repo) = srv
        .get(&format!(
            "/api/analysis?repository={encoded}&chartPath=charts%2Fapp"
        ))
        .await;
    assert_eq!(by_repo["total"], 3);
    let (_, _, future) = srv.get("/api/analysis?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future["total"], 0);
    assert_error(
        &srv.get("/api/analysis?since=yesterday").await,
        400,
        "invalid_request",
    );
    assert_error(
        &srv.get("/api/analysis?limit=-1").await,
        400,
        "invalid_request",
    );
    assert_error(
        &srv.get("/api/analysis?minChange=1").await,
        400,
        "invalid_request",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_results_are_404_and_removed_by_the_cleanup_task_not_by_health() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let clock = TestClock::default();
    let mut setup = Setup {
        clock: Some(clock.clone()),
        ..Setup::default()
    };
    setup.config.result_ttl = Duration::from_secs(3600);
    let srv = TestServer::start(setup).await;
    let (_, _, body) = srv.post("/api/compare", &compare_body(&r)).await;
    let id = body["compareId"].as_str().unwrap().to_owned();

    clock.advance(Duration::from_secs(3000));
    let (s, h, _) = srv.get(&format!("/api/analysis/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(h["x-expiration-warning"], "This result will expire soon");

    clock.advance(Duration::from_secs(1000));
    assert_error(
        &srv.get(&format!("/api/analysis/{id}")).await,
        404,
        "not_found",
    );
    let (s, _, health) = srv.get("/api/health").await;
    assert_eq!(s, 200, "{health}");
    // Health did not delete the row: the cleanup finds it.
    assert_eq!(srv.state.cleanup_expired().await, 1);
    assert_eq!(srv.state.cleanup_expired().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revealed_secrets_are_answered_but_never_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup::default()).await;
    let mut req = compare_body(&r);
    req["secretHandling"] = json!("show");
    let (s, _, body) = srv.post("/api/compare", &req).await;
    assert_eq!(s, 200, "{body}");
    assert!(
        body.to_string().contains("hunter2-new"),
        "show reveals the value"
    );
    let id = body["compareId"].as_str().unwrap();
    let (s, _, stored) = srv.get(&format!("/api/analysis/{id}")).await;
    assert_eq!(s, 200);
    assert!(
        !stored.to_string().contains("hunter2"),
        "stored form is redacted: {stored}"
    );
    assert_eq!(stored["comparison"]["compareId"], id);

    // The default answer never shows them either.
    let (_, _, plain) = srv.post("/api/compare", &compare_body(&r)).await;
    assert!(!plain.to_string().contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_field_reaches_the_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup::default()).await;
    let base = srv.post("/api/compare", &compare_body(&r)).await.2;
    assert_eq!(base["structuredDiff"]["stats"]["resources"]["modified"], 2);

    let mut req = compare_body(&r);
    req["suppressKinds"] = json!(["Secret"]);
    let got = srv.post("/api/compare", &req).await.2;
    assert_eq!(
        got["structuredDiff"]["stats"]["resources"]["modified"], 1,
        "{got}"
    );

    let mut req = compare_body(&r);
    req["suppressRegex"] = json!("^data\\.key$");
    let got = srv.post("/api/compare", &req).await.2;
    assert_ne!(got["compareId"], base["compareId"]);
    assert!(
        !got["diff"].as_str().unwrap().contains("data.key"),
        "{}",
        got["diff"]
    );

    let mut req = compare_body(&r);
    req["contextLines"] = json!(0);
    req["ignoreLabels"] = json!(true);
    req["valuesContent"] = json!("a: 1\n");
    req["releaseName"] = json!("rel");
    req["namespace"] = json!("prod");
    let got = srv.post("/api/compare", &req).await.2;
    assert_eq!(got["success"], true, "{got}");
    let ids: std::collections::HashSet<_> = [&base, &got]
        .iter()
        .map(|b| b["compareId"].clone())
        .collect();
    assert_eq!(ids.len(), 2);

    let mut req = compare_body(&r);
    req["valuesFile"] = json!("charts/app/missing.yaml");
    assert_error(
        &srv.post("/api/compare", &req).await,
        404,
        "values_file_missing",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_the_server_lives_on() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let mut setup = Setup::default();
    setup.config.compare_body_limit = 64 << 10;
    let srv = TestServer::start(setup).await;

    let got = srv.post_raw("/api/compare", b"{not json".to_vec()).await;
    assert_error(&got, 400, "invalid_json");
    assert_error(
        &srv.post_raw("/api/compare", Vec::new()).await,
        400,
        "invalid_json",
    );

    let mut req = compare_body(&r);
    req["valuesFiel"] = json!("x");
    let got = srv.post("/api/compare", &req).await;
    assert_error(&got, 400, "invalid_json");
    assert!(
        got.2["error"].as_str().unwrap().contains("valuesFiel"),
        "{}",
        got.2
    );

    let mut req = compare_body(&r);
    req.as_object_mut().unwrap().remove("version2");
    let got = srv.post("/api/compare", &req).await;
    assert!(
        got.2["error"].as_str().unwrap().contains("version2"),
        "{}",
        got.2
    );

    let mut req = compare_body(&r);
    req["chartPath"] = json!("../../../etc");
    assert_error(
        &srv.post("/api/compare", &req).await,
        400,
        "invalid_request",
    );

    let mut req = compare_body(&r);
    req["version1"] = json!("no-such-tag");
    let got = srv.post("/api/compare", &req).await;
    assert_error(&got, 404, "revision_not_found");
    assert!(got.2["error"].as_str().unwrap().contains("no-such-tag"));

    let mut req = compare_body(&r);
    req["chartPath"] = json!("charts/nope");
    assert_error(
        &srv.post("/api/compare", &req).await,
        404,
        "chart_not_found",
    );

    let mut req = compare_body(&r);
    req["repository"] = json!("https://evil.example.com/o/r.git");
    assert_error(
        &srv.post("/api/compare", &req).await,
        403,
        "repository_not_allowed",
    );

    let mut req = compare_body(&r);
    req["repository"] = json!(format!(
        "--upload-pack=touch {}",
        tmp.path().join("pwned").display()
    ));
    let got = srv.post("/api/compare", &req).await;
    assert!((400..500).contains(&got.0), "{}", got.2);
    assert!(!tmp.path().join("pwned").exists());

    let mut req = compare_body(&r);
    req["valuesContent"] = json!("x".repeat(100 << 10));
    let got = srv.post("/api/compare", &req).await;
    assert_error(&got, 413, "body_too_large");
    assert!(got.2["error"].as_str().unwrap().contains("65536"));

    // A choice outside the schema's enum: the field is named and the choices listed.
    let mut req = compare_body(&r);
    req["renderer"] = json!("wasm");
    let got = srv.post("/api/compare", &req).await;
    assert_error(&got, 400, "invalid_json");
    let msg = got.2["error"].as_str().unwrap();
    assert!(
        msg.contains("renderer") && msg.contains("wasm") && msg.contains("native"),
        "{msg}"
    );
    let mut req = compare_body(&r);
    req["secretHandling"] = json!("reveal");
    let got = srv.post("/api/compare", &req).await;
    assert_error(&got, 400, "invalid_json");
    let msg = got.2["error"].as_str().unwrap();
    assert!(
        msg.contains("secretHandling") && msg.contains("suppress"),
        "{msg}"
    );

    assert_error(
        &srv.post("/api/versions", &json!({"repository": ""})).await,
        400,
        "invalid_request",
    );
    assert_error(
        &srv.post("/api/versions", &json!({"repo": "x"})).await,
        400,
        "invalid_json",
    );
    assert_error(&srv.get("/api/nothing-here").await, 404, "not_found");
    assert_error(&srv.get("/api/compare").await, 405, "method_not_allowed");
    assert_error(&srv.get("/api/analysis/not-an-id").await, 404, "not_found");
    assert_error(
        &srv.get(&format!("/api/analysis/{}", "a".repeat(64))).await,
        404,
        "not_found",
    );

    // Still serving.
    let (s, _, b) = srv.post("/api/compare", &compare_body(&r)).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_lists_tags_and_branches() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup::default()).await;
    let repo_url = format!("file://{}", r.dir.display());
    let (s, _, body) = srv
        .post("/api/versions", &json!({"repository": repo_url}))
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["success"], true);
    let mut tags: Vec<&str> = body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);
    assert_eq!(body["tagDetails"][0]["commit"].as_str().unwrap().len(), 40);
    assert_eq!(body["branches"], json!(["main"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_what_works_without_side_effects() {
    let srv = TestServer::start(Setup::default()).await;
    let (s, _, h) = srv.get("/api/health").await;
    assert_eq!(s, 200, "{h}");
    // The test server has no helm renderer: degraded, and it says which part.
    assert_eq!(h["status"], "degraded");
    assert_eq!(h["helmOk"], false);
    assert_eq!(h["gitOk"], true);
    assert_eq!(h["dbOk"], true);
    assert_eq!(h["database"]["backend"], "sqlite");
    assert!(h["database"]["schemaVersion"].as_i64().unwrap() >= 1);
    assert_eq!(h["renderers"][0]["name"], "native");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));

    // With the store closed, health says so with a 503.
    srv.store.close().await.unwrap();
    let (s, _, h) = srv.get("/api/health").await;
    assert_eq!(s, 503, "{h}");
    assert_eq!(h["status"], "unavailable");
    assert_eq!(h["dbOk"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_logged_500_and_the_server_lives_on() {
    struct Panics;
    impl service::CompareService for Panics {
        fn compare(
            &self,
            _: &service::CompareRequest,
            _: &service::Context,
        ) -> Result<service::CompareResponse, service::CompareError> {
            panic!("boom in compare")
        }
        fn versions(
            &self,
            _: &str,
            _: &service::Context,
        ) -> Result<service::VersionsResponse, service::CompareError> {
            panic!("boom in versions")
        }
        fn charts(
            &self,
            _: &str,
            _: Option<&str>,
            _: &service::Context,
        ) -> Result<service::ChartsResponse, service::CompareError> {
            panic!("boom in charts")
        }
        fn affected_charts(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: &service::Context,
        ) -> Result<service::ChartsResponse, service::CompareError> {
            panic!("boom in affected charts")
        }
        fn analyze_pr(
            &self,
            _: &service::pr::PrRequest,
            _: &service::Context,
        ) -> Result<service::pr::PrReport, service::CompareError> {
            panic!("boom in analyze_pr")
        }
        fn chart_versions(
            &self,
            _: &str,
            _: &str,
            _: &service::Context,
        ) -> Result<service::ChartVersionsResponse, service::CompareError> {
            panic!("boom in chart_versions")
        }
    }
    let srv = TestServer::start(Setup {
        service: Some(Arc::new(Panics)),
        ..Setup::default()
    })
    .await;
    let req = json!({"repository": "https://github.com/o/r", "chartPath": "c", "version1": "a", "version2": "b"});
    let got = srv.post("/api/compare", &req).await;
    assert_error(&got, 500, "internal");
    assert!(
        !got.2["error"].as_str().unwrap().contains("boom"),
        "no internals: {}",
        got.2
    );
    assert_error(
        &srv.post("/api/versions", &json!({"repository": "x"})).await,
        500,
        "internal",
    );
    // Twice: the single-flight key was released.
    assert_error(&srv.post("/api/compare", &req).await, 500, "internal");
    let (s, _, _) = srv.get("/api/health").await;
    assert_eq!(s, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_status_and_time_stages() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup::default()).await;
    srv.post("/api/compare", &compare_body(&r)).await;
    srv.post("/api/compare", &compare_body(&r)).await;
    srv.get("/api/analysis/unknown").await;
    let (s, text) = srv.get_text("/metrics").await;
    assert_eq!(s, 200);
    assert!(
        text.contains("# TYPE chartimpact_http_requests_total counter"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("chartimpact_http_requests_total")
                && l.contains("route=\"/api/compare\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no compare counter: {text}"));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 2.0, "{line}");
    assert!(text.contains("route=\"/api/analysis/{id}\""), "{text}");
    for stage in ["resolve", "render", "diff", "store"] {
        assert!(
            text.contains(&format!(
                "chartimpact_compare_stage_seconds_bucket{{stage=\"{stage}\""
            )),
            "stage {stage}: {text}"
        );
    }
    assert!(
        text.contains("chartimpact_cache_hits_total{cache=\"result\"}"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_configured_origins_only() {
    let mut setup = Setup::default();
    setup.config.cors_origins = vec![
        "https://app.example.com".into(),
        "https://*.preview.example.com".into(),
    ];
    let srv = TestServer::start(setup).await;
    let ask = |origin: &'static str| {
        srv.client
            .get(format!("{}/api/health", srv.url))
            .header("origin", origin)
            .send()
    };
    let ok = ask("https://app.example.com").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        !ok.headers()
            .contains_key("access-control-allow-credentials")
    );
    let preview = ask("https://pr-1.preview.example.com").await.unwrap();
    assert_eq!(
        preview.headers()["access-control-allow-origin"],
        "https://pr-1.preview.example.com"
    );
    let other = ask("https://evil.example.org").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));

    let preflight = srv
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/api/compare", srv.url))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );

    let mut setup = Setup::default();
    setup.config.cors_origins = vec!["*".into()];
    let srv = TestServer::start(setup).await;
    let any = srv
        .client
        .get(format!("{}/api/health", srv.url))
        .header("origin", "https://anywhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(any.headers()["access-control-allow-origin"], "*");
    assert!(
        !any.headers()
            .contains_key("access-control-allow-credentials")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_that_does_not_render_is_a_422_naming_the_template() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup {
        renderer: Some(Arc::new(crate::FakeRenderer {
            fail: Some("template: app/templates/cm.yaml:3:9: executing ... nil pointer".into()),
            ..Default::default()
        })),
        ..Setup::default()
    })
    .await;
    let got = srv.post("/api/compare", &compare_body(&r)).await;
    assert_error(&got, 422, "render_failed");
    let msg = got.2["error"].as_str().unwrap();
    assert!(
        msg.contains("templates/cm.yaml:3:9") && msg.contains("charts/app"),
        "{msg}"
    );
    // Nothing was stored for a failed compare.
    assert_eq!(srv.get("/api/analysis").await.2["total"], 0);
}
