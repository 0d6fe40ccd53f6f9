//! The request and response examples of the Go ChartImpact's README (root and backend/):
//! accepted as written, answered with the same field names.

use serde_json::{Value, json};

use super::{Setup, TestServer, repo};

#[track_caller]
fn has_fields(v: &Value, fields: &[&str]) {
    for f in fields {
        assert!(v.get(f).is_some(), "missing {f:?} in {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_examples_are_accepted_and_answered_with_the_same_names() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup::default()).await;

    // POST /api/compare, the README's body with our repository and revisions.
    let req = json!({
        "repository": r.dir.to_string_lossy(),
        "chartPath": "charts/app",
        "version1": "v1",
        "version2": "v2",
        "valuesFile": "values/production.yaml",
        "valuesContent": "replicaCount: 3\n",
        "ignoreLabels": false
    });
    let (s, _, body) = srv.post("/api/compare", &req).await;
    assert_eq!(s, 200, "{body}");
    has_fields(
        &body,
        &[
            "success",
            "diff",
            "version1",
            "version2",
            "structuredDiff",
            "structuredDiffAvailable",
        ],
    );
    assert_eq!(body["version1"], "v1");
    assert!(body["diff"].is_string());
    // The later README form with every field the Go server declares.
    let mut full = req.clone();
    for (k, v) in [
        ("secretHandling", json!("suppress")),
        ("contextLines", json!(3)),
        ("suppressKinds", json!([])),
        ("suppressRegex", json!("")),
        ("valuesFile", json!("")),
        ("valuesContent", json!("")),
    ] {
        full[k] = v;
    }
    assert_eq!(srv.post("/api/compare", &full).await.0, 200);

    // Errors: {success:false, error}.
    let mut bad = req.clone();
    bad["version1"] = json!("5.0.0");
    let (s, _, err) = srv.post("/api/compare", &bad).await;
    assert!((400..500).contains(&s));
    has_fields(&err, &["success", "error"]);
    assert_eq!(err["success"], false);

    // POST /api/versions.
    let (s, _, v) = srv
        .post(
            "/api/versions",
            &json!({"repository": r.dir.to_string_lossy()}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    has_fields(&v, &["success", "tags", "branches"]);

    // GET /api/health.
    let (_, _, h) = srv.get("/api/health").await;
    has_fields(&h, &["status", "version", "helmOk", "gitOk", "dbOk"]);

    // GET /api/analysis/{id}.
    let id = body["compareId"].as_str().unwrap();
    let (_, _, a) = srv.get(&format!("/api/analysis/{id}")).await;
    has_fields(&a, &["success", "comparison", "metadata"]);
    has_fields(&a["comparison"], &["success", "diff", "structuredDiff"]);
    has_fields(
        &a["metadata"],
        &[
            "storedAt",
            "expiresAt",
            "isExpired",
            "isDeduplicated",
            "compressionRatio",
        ],
    );
    let ratio = a["metadata"]["compressionRatio"].as_f64().unwrap();
    assert!(ratio > 0.0 && ratio < 1.0, "{ratio}");

    // GET /api/analysis.
    let (_, _, l) = srv.get("/api/analysis?limit=50&offset=0").await;
    has_fields(&l, &["success", "comparisons"]);
    has_fields(
        &l["comparisons"][0],
        &[
            "compareId",
            "repository",
            "chartPath",
            "version1",
            "version2",
            "createdAt",
            "hasChanges",
            "modifiedResourcesCount",
        ],
    );

    // GET /api/analytics/charts/popular.
    let (_, _, p) = srv.get("/api/analytics/charts/popular?limit=10").await;
    has_fields(
        &p,
        &[
            "success",
            "popularCharts",
            "totalComparisons",
            "periodStart",
            "periodEnd",
        ],
    );
    has_fields(
        &p["popularCharts"][0],
        &[
            "repository",
            "chartPath",
            "comparisonCount",
            "withChanges",
            "avgModifiedResources",
            "avgModified",
            "lastComparisonAt",
        ],
    );
}
