//! Schema migrations: each one applied to a database holding data from the ones before it,
//! and re-running them on open is harmless.

use jiff::SignedDuration;
use store::testing::{migrate_to, migration_versions};
use store::{CompareId, JobStatus, ListQuery, NewDelivery, PopularQuery, StoreError};

use crate::harness::{
    Arg, LEASE, NO_LIMITS, TestDb, databases, delivery_id, id, job, key, repo, result, sha, t0,
};

const SEED_CHART: &str = "charts/seeded";
const SEED_KEY: &str = "acme/charts#pr/100";
const SEED_DELIVERY: &str = "seeded-delivery";
const SEED_RENAMED_KEY: &str = "acme/old-name#pr/300";

fn seed_id() -> CompareId {
    id(100)
}

fn seed_document() -> Vec<u8> {
    br#"{"success":true,"seeded":"by an older schema"}"#.to_vec()
}

/// Writes rows into the tables migration `version` created, as the release that shipped it
/// would have. Every migration needs one: add a case when adding a migration.
async fn seed(db: &TestDb, version: i64) {
    let t = t0().as_millisecond();
    match version {
        1 => {
            let doc = seed_document();
            let packed = zstd::bulk::compress(&doc, 3).unwrap();
            db.execute(
                "INSERT INTO compare_results (compare_id, repository, chart_path, version1, \
                 version2, commit1, commit2, verdict, added, removed, modified, unchanged, \
                 total_changes, document, uncompressed_size, compressed_size, created_at, \
                 expires_at, compare_count) VALUES ($1, $2, $3, 'a', 'b', 'c1', 'c2', \
                 'low-risk', 1, 2, 3, 4, 5, $4, $5, $6, $7, $8, 3)",
                &[
                    Arg::Text(seed_id().as_str()),
                    Arg::Text("https://example.com/seeded"),
                    Arg::Text(SEED_CHART),
                    Arg::Bytes(&packed),
                    Arg::Int(doc.len() as i64),
                    Arg::Int(packed.len() as i64),
                    Arg::Int(t),
                    Arg::Int(t + 86_400_000),
                ],
            )
            .await;
        }
        2 => {
            db.execute(
                "INSERT INTO compare_events (compare_id, repository, chart_path, at, added, \
                 removed, modified, total_changes) VALUES ($1, $2, $3, $4, 1, 0, 0, 1)",
                &[
                    Arg::Text(seed_id().as_str()),
                    Arg::Text("https://example.com/seeded"),
                    Arg::Text(SEED_CHART),
                    Arg::Int(t),
                ],
            )
            .await;
        }
        3 => {
            // A queued job and a finished one.
            db.execute(
                "INSERT INTO jobs (kind, job_key, repo, revision, payload, status, attempts, \
                 max_attempts, run_at, created_at) \
                 VALUES ('pull_request', $1, 'acme/charts', 'seed', $2, 'queued', 0, 3, $3, $3)",
                &[
                    Arg::Text(SEED_KEY),
                    Arg::Bytes(b"{\"seeded\":true}"),
                    Arg::Int(t),
                ],
            )
            .await;
            db.execute(
                "INSERT INTO jobs (kind, job_key, repo, revision, payload, status, attempts, \
                 max_attempts, run_at, created_at, started_at, finished_at, locked_by, \
                 compare_ids) \
                 VALUES ('push', 'acme/charts#push/main', 'acme/charts', 'old', $1, \
                 'succeeded', 1, 3, $2, $2, $2, $2, 'w0', $3)",
                &[Arg::Bytes(b"{}"), Arg::Int(t), Arg::Text(r#"["abc"]"#)],
            )
            .await;
        }
        4 => {
            db.execute(
                "INSERT INTO webhook_deliveries (delivery_id, event, action, repo, received_at, \
                 job_id) VALUES ($1, 'pull_request', 'opened', 'acme/charts', $2, \
                 (SELECT id FROM jobs WHERE job_key = $3))",
                &[Arg::Text(SEED_DELIVERY), Arg::Int(t), Arg::Text(SEED_KEY)],
            )
            .await;
        }
        5 => {
            db.execute(
                "INSERT INTO publications (repo, pr_number, comment_id, check_run_sha, \
                 check_run_id, check_run_job) VALUES ('acme/charts', 7, 1001, $1, 2002, 1)",
                &[Arg::Text(sha("seed").as_str())],
            )
            .await;
        }
        6 => {
            // A queued job keyed by its repository's id (7), under the name it had then.
            db.execute(
                "INSERT INTO jobs (kind, job_key, repo, revision, payload, status, attempts, \
                 max_attempts, run_at, created_at, repo_id, key_identity, repo_identity) \
                 VALUES ('pull_request', $1, 'acme/old-name', 'seed6', $2, 'queued', 0, 3, \
                 $3, $3, 7, '7#pr/300', '7')",
                &[Arg::Text(SEED_RENAMED_KEY), Arg::Bytes(b"{}"), Arg::Int(t)],
            )
            .await;
        }
        other => panic!("migration {other} has no seed in tests/store/migrations.rs: add one"),
    }
}

#[tokio::test]
async fn every_migration_has_a_seed() {
    let versions = migration_versions();
    assert_eq!(versions[0], 1);
    for version in versions {
        let db = crate::harness::sqlite();
        migrate_to(&db.url, version).await.unwrap();
        seed(&db, version).await;
    }
}

#[tokio::test]
async fn each_migration_applies_to_a_database_populated_by_the_ones_before() {
    let versions = migration_versions();
    let latest = *versions.last().unwrap();
    for (i, version) in versions.iter().enumerate() {
        let before = &versions[..i];
        for db in databases().await {
            eprintln!("-- migration {version} onto {before:?}");
            if let Some(&previous) = before.last() {
                migrate_to(&db.url, previous).await.unwrap();
            }
            for &v in before {
                seed(&db, v).await;
            }
            let store = db.open().await;
            assert_eq!(store.schema_version(), latest);

            // What the older schema held is still served.
            if before.contains(&1) {
                let got = store.get_result(&seed_id(), t0()).await.unwrap().unwrap();
                assert_eq!(got.document, seed_document());
                assert_eq!(got.summary.compare_count, 3);
                assert_eq!(got.summary.stats.total_changes, 5);
            }
            let window = PopularQuery::new(t0(), t0() + SignedDuration::from_hours(1));
            let seeded_events = u64::from(before.contains(&2));
            assert_eq!(
                store
                    .popular_charts(window.clone())
                    .await
                    .unwrap()
                    .total_comparisons,
                seeded_events
            );

            // And the migrated database works.
            let saved = store.save_result(result(id(1), t0())).await.unwrap();
            assert!(!saved.deduplicated);
            if before.contains(&1) {
                let mut again = result(seed_id(), t0());
                again.chart_path = SEED_CHART.into();
                let outcome = store.save_result(again).await.unwrap();
                assert!(outcome.deduplicated);
                assert_eq!(outcome.summary.compare_count, 4);
            }
            let popular = store.popular_charts(window).await.unwrap();
            assert_eq!(
                popular.total_comparisons,
                seeded_events + 1 + u64::from(before.contains(&1))
            );

            // Seeded jobs and deliveries are served, and the queue works.
            if before.contains(&3) {
                let seeded = store.latest_job(&key(SEED_KEY)).await.unwrap().unwrap();
                assert_eq!(seeded.status, JobStatus::Queued);
                assert_eq!(seeded.payload, b"{\"seeded\":true}");
                let done = store
                    .latest_job(&key("acme/charts#push/main"))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(done.status, JobStatus::Succeeded);
                assert_eq!(done.compare_ids, ["abc"]);
                let again = store
                    .enqueue_job(job(SEED_KEY, "seed", t0()), NO_LIMITS)
                    .await
                    .unwrap();
                assert!(again.coalesced);
                assert_eq!(again.job_id, seeded.id);
            }
            if before.contains(&4) {
                let record = store
                    .record_delivery(NewDelivery {
                        id: delivery_id(SEED_DELIVERY),
                        event: "pull_request".into(),
                        action: None,
                        repo: None,
                        received_at: t0(),
                    })
                    .await
                    .unwrap();
                assert!(!record.first_seen);
                assert_eq!(record.job_status, Some(JobStatus::Queued));
            }
            if before.contains(&5) {
                let got = store
                    .get_publication(&repo("acme/charts"), 7)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(got.comment_id, Some(1001));
                assert_eq!(
                    got.check_run.map(|r| (r.head_sha, r.id)),
                    Some((sha("seed"), 2002))
                );
            }
            // The seeded job of repository 7, redelivered after a rename: the same job.
            let renamed = key("acme/new-name#pr/300").with_repo_id(7);
            if before.contains(&6) {
                let mut again = job(SEED_RENAMED_KEY, "seed6", t0());
                again.key = renamed.clone();
                let again = store.enqueue_job(again, NO_LIMITS).await.unwrap();
                assert!(again.coalesced);
                let seeded = store.get_job(again.job_id).await.unwrap().unwrap();
                assert_eq!(seeded.key, renamed);
                assert_eq!(seeded.repo, repo("acme/new-name"));
            }
            store
                .set_comment_id(&repo("acme/charts"), 7, 1003)
                .await
                .unwrap();
            let fresh = store
                .enqueue_job(job("acme/charts#pr/1", "new", t0()), NO_LIMITS)
                .await
                .unwrap();
            let mut claimed = Vec::new();
            while let Some(j) = store.claim_job("w", LEASE, t0(), NO_LIMITS).await.unwrap() {
                claimed.push(j.key);
            }
            let mut want = vec![key("acme/charts#pr/1")];
            if before.contains(&6) {
                want.insert(0, renamed);
            }
            if before.contains(&3) {
                want.insert(0, key(SEED_KEY));
            }
            assert_eq!(claimed, want);
            assert!(
                store
                    .complete_job(fresh.job_id, "w", vec![], t0())
                    .await
                    .unwrap()
            );
            store.close().await.unwrap();
        }
    }
}

#[tokio::test]
async fn schema_version_is_the_latest_migration() {
    for db in databases().await {
        let store = db.open().await;
        assert_eq!(
            store.schema_version(),
            *migration_versions().last().unwrap()
        );
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM _sqlx_migrations").await,
            migration_versions().len() as i64
        );
    }
}

#[tokio::test]
async fn reopening_a_populated_database_is_harmless() {
    for db in databases().await {
        let store = db.open().await;
        let version = store.schema_version();
        for n in 1..=3 {
            store.save_result(result(id(n), t0())).await.unwrap();
        }
        store.close().await.unwrap();
        drop(store);

        for _ in 0..2 {
            let store = db.open().await;
            assert_eq!(store.schema_version(), version);
            let page = store.list_results(ListQuery::new(t0())).await.unwrap();
            assert_eq!(page.total, 3);
            let got = store.get_result(&id(2), t0()).await.unwrap().unwrap();
            assert_eq!(got.document, result(id(2), t0()).document);
            store.close().await.unwrap();
        }
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM _sqlx_migrations").await,
            migration_versions().len() as i64
        );
    }
}

/// An older server must not run against a schema a newer one migrated.
#[tokio::test]
async fn unknown_applied_migration_fails_to_open() {
    for db in databases().await {
        db.open().await.close().await.unwrap();
        db.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (999999, 'from the future', TRUE, $1, 0)",
            &[Arg::Bytes(b"\x00")],
        )
        .await;
        let err = match store::open(&db.url, &store::OpenOptions::default()).await {
            Ok(_) => panic!("opened a database migrated by a newer release"),
            Err(e) => e,
        };
        assert!(
            matches!(err, StoreError::Migrate { backend, .. } if backend == db.backend),
            "{err:?}"
        );
    }
}
