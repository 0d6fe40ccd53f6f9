//! Publication ids per pull request: the sticky comment and the latest check run.

use store::{CheckRunRef, JobId, Publication, StoreError};

use crate::harness::{databases, repo, sha};

fn run(seed: &str, id: u64, job: i64) -> CheckRunRef {
    CheckRunRef {
        head_sha: sha(seed),
        id,
        job: JobId::new(job).unwrap(),
    }
}

#[tokio::test]
async fn comment_ids_and_check_runs_are_upserted_per_pull_request() {
    for db in databases().await {
        let store = db.open().await;
        assert_eq!(
            store
                .get_publication(&repo("acme/charts"), 7)
                .await
                .unwrap(),
            None
        );

        store
            .set_comment_id(&repo("acme/charts"), 7, 1001)
            .await
            .unwrap();
        assert_eq!(
            store
                .get_publication(&repo("acme/charts"), 7)
                .await
                .unwrap(),
            Some(Publication {
                comment_id: Some(1001),
                check_run: None
            })
        );
        // The check run is stored beside the comment, and replaced by the next one.
        store
            .set_check_run(&repo("acme/charts"), 7, &run("aaa", 5, 1))
            .await
            .unwrap();
        store
            .set_check_run(&repo("acme/charts"), 7, &run("bbb", 6, 2))
            .await
            .unwrap();
        // A new comment (the old one was deleted) keeps the check run.
        store
            .set_comment_id(&repo("acme/charts"), 7, 1002)
            .await
            .unwrap();
        assert_eq!(
            store
                .get_publication(&repo("acme/charts"), 7)
                .await
                .unwrap(),
            Some(Publication {
                comment_id: Some(1002),
                check_run: Some(run("bbb", 6, 2)),
            })
        );
        // A check run first, no comment yet.
        store
            .set_check_run(&repo("acme/charts"), 8, &run("ccc", 7, 3))
            .await
            .unwrap();
        assert_eq!(
            store
                .get_publication(&repo("acme/charts"), 8)
                .await
                .unwrap(),
            Some(Publication {
                comment_id: None,
                check_run: Some(run("ccc", 7, 3)),
            })
        );
        // Keys are exact: other repositories and numbers are separate.
        assert_eq!(
            store
                .get_publication(&repo("acme/Charts"), 7)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .get_publication(&repo("acme/charts"), 9)
                .await
                .unwrap(),
            None
        );
        // Ids as large as GitHub's fit; beyond a signed 64-bit column is an error.
        let big = i64::MAX as u64;
        store
            .set_comment_id(&repo("acme/charts"), big, big)
            .await
            .unwrap();
        let got = store
            .get_publication(&repo("acme/charts"), big)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.comment_id, Some(big));
        let err = store
            .set_comment_id(&repo("acme/charts"), 1, u64::MAX)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::OutOfRange { .. }), "{err}");
        let err = store
            .get_publication(&repo("acme/charts"), u64::MAX)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::OutOfRange { .. }), "{err}");
        store.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_upserts_of_one_pull_request_keep_one_row() {
    for db in databases().await {
        let store = db.open().await;
        let mut tasks = Vec::new();
        for i in 0..16u64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    store.set_comment_id(&repo("acme/charts"), 3, 100 + i).await
                } else {
                    store
                        .set_check_run(&repo("acme/charts"), 3, &run("sha", 200 + i, 1))
                        .await
                }
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let got = store
            .get_publication(&repo("acme/charts"), 3)
            .await
            .unwrap()
            .unwrap();
        assert!(
            got.comment_id.is_some_and(|id| (100..116).contains(&id)),
            "{got:?}"
        );
        assert!(
            got.check_run
                .as_ref()
                .is_some_and(|r| (200..216).contains(&r.id)),
            "{got:?}"
        );
        assert_eq!(db.scalar("SELECT COUNT(*) FROM publications").await, 1);
        store.close().await.unwrap();
    }
}
