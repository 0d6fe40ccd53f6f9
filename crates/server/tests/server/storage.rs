//! The same API flow on PostgreSQL (a throwaway cluster, or CHARTIMPACT_TEST_POSTGRES_URL).

use super::{Setup, TestServer, compare_body, repo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_permalink_list_and_analytics_on_postgres() {
    let Some(pg) = store::testing::postgres() else {
        return;
    };
    let url = pg.fresh_database().await;
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = TestServer::start(Setup {
        database_url: Some(url),
        ..Setup::default()
    })
    .await;
    let (s, _, h) = srv.get("/api/health").await;
    assert_eq!(s, 200, "{h}");
    assert_eq!(h["database"]["backend"], "postgres");

    let (s, _, body) = srv.post("/api/compare", &compare_body(&r)).await;
    assert_eq!(s, 200, "{body}");
    let id = body["compareId"].as_str().unwrap();
    let (s, _, stored) = srv.get(&format!("/api/analysis/{id}")).await;
    assert_eq!(s, 200, "{stored}");
    assert_eq!(
        stored["comparison"]["structuredDiff"],
        body["structuredDiff"]
    );
    let (_, _, list) = srv.get("/api/analysis").await;
    assert_eq!(list["comparisons"][0]["compareId"], id);
    srv.post("/api/compare", &compare_body(&r)).await;
    let (_, _, popular) = srv.get("/api/analytics/charts/popular?limit=5").await;
    assert_eq!(
        popular["popularCharts"][0]["comparisonCount"], 2,
        "{popular}"
    );
}
