//! The operators' routes: webhook deliveries, jobs (list and re-run), the queue and GitHub's
//! rate limit, on a server whose jobs really ran.

use std::sync::Arc;

use server::RecordingPublisher;

use super::TestServer;
use super::webhooks::{World, webhook_setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_and_jobs_are_listed_and_a_failed_job_is_re_run() {
    let world = World::new();
    let publisher = Arc::new(RecordingPublisher::default());
    let srv = TestServer::start(webhook_setup(&world, publisher.clone())).await;

    // A pull request that is analysed, one whose repository does not exist, then a new head
    // of the first.
    let (_, ok) = srv
        .deliver("pull_request", &world.pr("opened", 7, &world.head), "d-ok")
        .await;
    let ok_id = ok["jobId"].as_str().unwrap().to_owned();
    assert_eq!(srv.wait_job(&ok_id).await["status"], "succeeded");
    let (_, bad) = srv
        .deliver(
            "pull_request",
            &world.pr_in("missing", "opened", 3, &world.head),
            "d-bad",
        )
        .await;
    let bad_id = bad["jobId"].as_str().unwrap().to_owned();
    assert_eq!(srv.wait_job(&bad_id).await["status"], "failed");
    let (_, newer) = srv
        .deliver(
            "pull_request",
            &world.pr("synchronize", 7, &world.head2),
            "d-new",
        )
        .await;
    let newer_id = newer["jobId"].as_str().unwrap().to_owned();
    assert_eq!(srv.wait_job(&newer_id).await["status"], "succeeded");

    let (s, _, d) = srv.get("/api/deliveries").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["webhooksEnabled"], true);
    let listed = d["deliveries"].as_array().unwrap();
    let ids: Vec<&str> = listed.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["d-new", "d-bad", "d-ok"], "{d}");
    assert_eq!(listed[1]["event"], "pull_request");
    assert_eq!(listed[1]["action"], "opened");
    assert_eq!(listed[1]["repository"], "acme/missing");
    assert_eq!(listed[1]["jobId"], bad_id.as_str());
    assert_eq!(listed[1]["jobStatus"], "failed");
    assert_eq!(d["nextOffset"], serde_json::Value::Null);
    let (_, _, page) = srv.get("/api/deliveries?limit=1&offset=1").await;
    assert_eq!(page["deliveries"][0]["id"], "d-bad");
    assert_eq!(page["nextOffset"], 2);

    let (s, _, j) = srv.get("/api/jobs").await;
    assert_eq!(s, 200, "{j}");
    let jobs = j["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3, "{j}");
    assert_eq!(jobs[0]["id"], newer_id.as_str());
    let failed = &jobs[1];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["repository"], "acme/missing");
    assert_eq!(failed["pullRequest"], 3);
    assert_eq!(failed["attempts"], 2);
    assert!(
        failed["error"].as_str().unwrap().contains("acme/missing"),
        "{failed}"
    );
    assert!(failed["durationMs"].as_i64().unwrap() >= 0, "{failed}");
    assert_eq!(jobs[2]["pullRequest"], 7);
    let (_, _, only) = srv.get("/api/jobs?status=failed").await;
    assert_eq!(only["jobs"].as_array().unwrap().len(), 1);
    let (_, _, acme) = srv.get("/api/jobs?repository=acme/charts&limit=1").await;
    assert_eq!(acme["jobs"][0]["id"], newer_id.as_str());
    assert_eq!(acme["nextOffset"], 1);
    let (s, _, e) = srv.get("/api/jobs?status=stuck").await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("queued, deferred, running"),
        "{e}"
    );
    let (s, _, e) = srv.get("/api/jobs?repository=nope").await;
    assert_eq!(s, 400, "{e}");
    let (s, _, _) = srv.get("/api/jobs?page=2").await;
    assert_eq!(s, 400);

    // The failed job runs again as a new job with the same payload.
    let (s, _, rerun) = srv
        .post(&format!("/api/jobs/{bad_id}/rerun"), &serde_json::json!({}))
        .await;
    assert_eq!(s, 202, "{rerun}");
    let again = rerun["jobId"].as_str().unwrap().to_owned();
    assert_ne!(again, bad_id);
    let job = srv.wait_job(&again).await;
    assert_eq!(
        (&job["status"], &job["pullRequest"]),
        (&"failed".into(), &3.into()),
        "{job}"
    );
    // The older head of PR 7 is not run again over the newer one.
    let (s, _, e) = srv
        .post(&format!("/api/jobs/{ok_id}/rerun"), &serde_json::json!({}))
        .await;
    assert_eq!(s, 409, "{e}");
    assert!(e["error"].as_str().unwrap().contains(&newer_id), "{e}");
    let (s, _, _) = srv
        .post("/api/jobs/999999/rerun", &serde_json::json!({}))
        .await;
    assert_eq!(s, 404);

    let (s, _, o) = srv.get("/api/operations").await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["webhooksEnabled"], true);
    assert_eq!(o["queue"]["depth"], 0, "{o}");
    assert_eq!(o["queue"]["running"], 0, "{o}");
    assert_eq!(o["workers"], 2);
    // The recording publisher does not call GitHub: no rate limit to show.
    assert_eq!(o["githubRateLimit"], serde_json::Value::Null);
}

/// Without webhooks the views are empty, not errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_webhooks_the_views_say_so() {
    let srv = TestServer::start(super::Setup::default()).await;
    let (s, _, o) = srv.get("/api/operations").await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(
        (&o["webhooksEnabled"], &o["workers"]),
        (&false.into(), &0.into())
    );
    let (_, _, d) = srv.get("/api/deliveries").await;
    assert_eq!(d["deliveries"].as_array().unwrap().len(), 0);
    let (_, _, j) = srv.get("/api/jobs").await;
    assert_eq!(j["jobs"].as_array().unwrap().len(), 0);
}
