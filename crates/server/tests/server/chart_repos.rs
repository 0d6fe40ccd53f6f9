//! The `helmRepository` + `chart` forms of `POST /api/compare` and `POST /api/versions`,
//! against the corpus's Helm repository served on loopback, and the server's URL policy
//! applied to chart repositories.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use service::CompareService;
use testkit::chart_repos::{Server, static_file};

use super::{Setup, TestServer, assert_error};

fn chart_repos_dir() -> PathBuf {
    let dir = std::env::var_os("CHARTIMPACT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus")
        })
        .join("chart-repos");
    assert!(
        dir.join("dandydeveloper/index.yaml").is_file(),
        "no chart-repos/ in the corpus at {}",
        dir.display()
    );
    dir
}

/// A server whose engine may reach any chart repository (loopback included), or only the
/// hosts of its git allow-list (the default: github.com, public addresses).
async fn start(open: bool) -> (TestServer, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut b = service::Engine::builder(data.path());
    b.renderers(service::Renderers {
        native: Some(Arc::new(helm_render::NativeRenderer::new())),
        ..Default::default()
    });
    if open {
        b.chart_repo_policy(chart_source::UrlPolicy {
            allowed_hosts: vec!["*".into()],
            allow_local: false,
            allow_private_addresses: true,
            ..Default::default()
        });
    }
    let engine = b.build().unwrap();
    let srv = TestServer::start(Setup {
        service: Some(Arc::new(engine) as Arc<dyn CompareService>),
        ..Setup::default()
    })
    .await;
    (srv, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_compare_of_a_chart_in_a_helm_repository() {
    let root = chart_repos_dir();
    let repo = Server::start(move |req| static_file(&root, req, ""));
    let helm = format!("{}/dandydeveloper", repo.url);
    let (srv, _data) = start(true).await;

    let (status, _, v) = srv
        .post(
            "/api/versions",
            &json!({"helmRepository": helm, "chart": "redis-ha"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["versions"], json!(["4.33.2", "4.29.4", "4.26.1"]));
    assert_eq!(v["versionDetails"][0]["appVersion"], "7.2.7");

    let req = json!({"helmRepository": helm, "chart": "redis-ha", "version1": "4.29.4", "version2": "4.33.2"});
    let (status, headers, body) = srv.post("/api/compare", &req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["helmRepository"], helm.as_str());
    assert_eq!(body["chart"], "redis-ha");
    assert!(
        body["resolved"]["version1"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(
        body["dependencies"],
        json!({"version1": [], "version2": []})
    );
    assert_eq!(body["structuredDiff"]["stats"]["resources"]["modified"], 11);
    let id = body["compareId"].as_str().unwrap().to_owned();
    assert_eq!(headers["x-deduplication"], "miss");

    let (status, _, stored) = srv.get(&format!("/api/analysis/{id}")).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        stored["comparison"]["request"]["helmRepository"],
        helm.as_str()
    );
    assert_eq!(stored["comparison"]["request"]["chart"], "redis-ha");

    let (_, headers, again) = srv.post("/api/compare", &req).await;
    assert_eq!(again["compareId"], id.as_str());
    assert_eq!(headers["x-deduplication"], "hit");
    assert_eq!(repo.count(".tgz"), 2, "each archive downloaded once");

    let got = srv
        .post(
            "/api/compare",
            &json!({"helmRepository": helm, "chart": "redis-ha", "version1": "4.29.4", "version2": "99.1.0"}),
        )
        .await;
    assert_error(&got, 404, "version_not_found");
    assert_eq!(got.2["suggestions"][0], "4.33.2");
    assert!(got.2["error"].as_str().unwrap().contains("99.1.0"));

    let got = srv
        .post(
            "/api/versions",
            &json!({"helmRepository": helm, "chart": "redis"}),
        )
        .await;
    assert_error(&got, 404, "chart_not_found");
    assert_eq!(got.2["charts"], json!(["redis-ha"]));

    let got = srv
        .post(
            "/api/versions",
            &json!({"repository": "https://github.com/o/r", "helmRepository": helm, "chart": "redis-ha"}),
        )
        .await;
    assert_error(&got, 400, "invalid_request");
    let got = srv
        .post(
            "/api/compare",
            &json!({"helmRepository": helm, "chartPath": "charts/x", "version1": "1", "version2": "2"}),
        )
        .await;
    assert_error(&got, 400, "invalid_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_repositories_follow_the_servers_url_policy() {
    let root = chart_repos_dir();
    let repo = Server::start(move |req| static_file(&root, req, ""));
    let helm = format!("{}/dandydeveloper", repo.url);
    let (srv, _data) = start(false).await;
    let got = srv
        .post(
            "/api/compare",
            &json!({"helmRepository": helm, "chart": "redis-ha", "version1": "4.29.4", "version2": "4.33.2"}),
        )
        .await;
    assert_error(&got, 403, "repository_not_allowed");
    let got = srv
        .post(
            "/api/versions",
            &json!({"helmRepository": helm, "chart": "redis-ha"}),
        )
        .await;
    assert_error(&got, 403, "repository_not_allowed");
    assert!(
        repo.requests().is_empty(),
        "no request reached the repository"
    );
}
