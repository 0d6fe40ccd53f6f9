//! Rows that cannot be read back are errors naming the result, never panics.

use store::{ListQuery, StoreError};

use crate::harness::{Arg, databases, id, result, t0};

fn assert_corrupt(err: StoreError, want_reason: &str) {
    match &err {
        StoreError::Corrupt { compare_id, reason } => {
            assert_eq!(compare_id, id(1).as_str());
            assert!(reason.contains(want_reason), "{reason}");
            assert!(err.to_string().contains(id(1).as_str()));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn undecompressable_document_is_corrupt() {
    for db in databases().await {
        let store = db.open().await;
        store.save_result(result(id(1), t0())).await.unwrap();
        store.save_result(result(id(2), t0())).await.unwrap();
        let changed = db
            .execute(
                "UPDATE compare_results SET document = $1 WHERE compare_id = $2",
                &[Arg::Bytes(b"not zstd at all"), Arg::Text(id(1).as_str())],
            )
            .await;
        assert_eq!(changed, 1);
        let err = store.get_result(&id(1), t0()).await.unwrap_err();
        assert_corrupt(err, "does not decompress");
        // The other result and listing (which does not read documents) still work.
        assert!(store.get_result(&id(2), t0()).await.unwrap().is_some());
        assert_eq!(
            store
                .list_results(ListQuery::new(t0()))
                .await
                .unwrap()
                .total,
            2
        );
    }
}

#[tokio::test]
async fn truncated_document_is_corrupt() {
    for db in databases().await {
        let store = db.open().await;
        let mut r = result(id(1), t0());
        r.document = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let saved = store.save_result(r).await.unwrap();
        let mut packed = vec![0u8; 0];
        packed.extend(zstd::bulk::compress(&[1u8; 1000][..], 3).unwrap());
        packed.truncate(packed.len() / 2);
        db.execute(
            "UPDATE compare_results SET document = $1 WHERE compare_id = $2",
            &[Arg::Bytes(&packed), Arg::Text(id(1).as_str())],
        )
        .await;
        let err = store.get_result(&id(1), t0()).await.unwrap_err();
        assert_corrupt(err, "does not decompress");
        assert!(saved.summary.uncompressed_size > 0);
    }
}

#[tokio::test]
async fn recorded_size_mismatch_is_corrupt() {
    for db in databases().await {
        let store = db.open().await;
        store.save_result(result(id(1), t0())).await.unwrap();
        db.execute(
            "UPDATE compare_results SET uncompressed_size = uncompressed_size + 1",
            &[],
        )
        .await;
        let err = store.get_result(&id(1), t0()).await.unwrap_err();
        assert_corrupt(err, "recorded");
    }
}

#[tokio::test]
async fn out_of_range_columns_are_corrupt() {
    for db in databases().await {
        let store = db.open().await;
        store.save_result(result(id(1), t0())).await.unwrap();
        db.execute("UPDATE compare_results SET added = -1", &[])
            .await;
        let err = store.get_result(&id(1), t0()).await.unwrap_err();
        assert_corrupt(err, "added count -1 out of range");
        let err = store.list_results(ListQuery::new(t0())).await.unwrap_err();
        assert_corrupt(err, "added");
        // Saving it again reads the row back too.
        let err = store.save_result(result(id(1), t0())).await.unwrap_err();
        assert_corrupt(err, "added");
    }
}

/// Ids are validated again when read: one written behind the store's back that breaks its
/// rules is a corrupt column naming the rule, not an id that is not one (nor a panic).
#[tokio::test]
async fn ids_that_break_their_rules_are_corrupt_columns() {
    use crate::harness::{NO_LIMITS, job, key, repo, sha};
    use store::{CheckRunRef, JobId};

    fn assert_corrupt_column(err: StoreError, want_column: &str, want_rule: &str) {
        match &err {
            StoreError::CorruptColumn { column, .. } => assert_eq!(column, want_column),
            other => panic!("expected CorruptColumn, got {other:?}"),
        }
        let chain = crate::harness::error_chain(&err);
        assert!(chain.contains(want_rule), "{chain}");
    }

    for db in databases().await {
        let store = db.open().await;
        let enqueued = store
            .enqueue_job(job("acme/charts#pr/1", "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        db.execute("UPDATE jobs SET repo = 'acme/charts/extra'", &[])
            .await;
        let err = store.get_job(enqueued.job_id).await.unwrap_err();
        assert_corrupt_column(err, "repo", "invalid repository name");
        db.execute(
            "UPDATE jobs SET repo = 'acme/charts', job_key = 'acme/charts#issue/1'",
            &[],
        )
        .await;
        let err = store.get_job(enqueued.job_id).await.unwrap_err();
        assert_corrupt_column(err, "job_key", "invalid job key");
        // The key is looked up by its identity, which the damage left alone: the row is found
        // and its damaged key reported.
        let err = store
            .latest_job(&key("acme/charts#pr/1"))
            .await
            .unwrap_err();
        assert_corrupt_column(err, "job_key", "invalid job key");

        let run = CheckRunRef {
            head_sha: sha("run"),
            id: 5,
            job: JobId::new(1).unwrap(),
        };
        store
            .set_check_run(&repo("acme/charts"), 7, &run)
            .await
            .unwrap();
        db.execute("UPDATE publications SET check_run_sha = 'not-a-sha'", &[])
            .await;
        let err = store
            .get_publication(&repo("acme/charts"), 7)
            .await
            .unwrap_err();
        assert_corrupt_column(err, "check_run_sha", "invalid commit sha");
    }
}
