//! Saving and reading results back.

use store::StoreError;

use crate::harness::{after, databases, id, minutes, result, t0};

#[tokio::test]
async fn save_then_get_round_trips_the_document() {
    for db in databases().await {
        let store = db.open().await;
        let mut r = result(id(1), t0());
        // Not only JSON text: the store must not touch the bytes.
        r.document.extend((0..=255u8).cycle().take(10_000));
        let saved = store.save_result(r.clone()).await.unwrap();
        assert!(!saved.deduplicated);
        let s = &saved.summary;
        assert_eq!(s.compare_id, r.compare_id);
        assert_eq!(s.repository, r.repository);
        assert_eq!(s.chart_path, r.chart_path);
        assert_eq!(
            (s.version1.as_str(), s.version2.as_str()),
            ("v1.0.0", "v1.1.0")
        );
        assert_eq!(
            (s.commit1.as_str(), s.commit2.as_str()),
            (&*r.commit1, &*r.commit2)
        );
        assert_eq!(s.verdict, "medium-risk");
        assert_eq!(s.stats, r.stats);
        assert_eq!(s.created_at, t0());
        assert_eq!(s.expires_at, after(t0(), minutes(60)));
        assert_eq!(s.compare_count, 1);
        assert_eq!(s.uncompressed_size, r.document.len() as u64);
        assert!(s.compressed_size > 0 && s.compressed_size < s.uncompressed_size);

        let got = store
            .get_result(&r.compare_id, t0())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.document, r.document);
        assert_eq!(&got.summary, s);
    }
}

#[tokio::test]
async fn large_empty_and_long_field_results_round_trip() {
    for db in databases().await {
        let store = db.open().await;
        // Large enough to be compressed off the async threads.
        let mut big = result(id(2), t0());
        big.document = (0..3_000_000u32)
            .flat_map(|i| (i % 977).to_le_bytes())
            .collect();
        store.save_result(big.clone()).await.unwrap();
        let got = store
            .get_result(&big.compare_id, t0())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.document, big.document);

        let mut empty = result(id(3), t0());
        empty.document.clear();
        store.save_result(empty.clone()).await.unwrap();
        let got = store
            .get_result(&empty.compare_id, t0())
            .await
            .unwrap()
            .unwrap();
        assert!(got.document.is_empty());
        assert_eq!(got.summary.uncompressed_size, 0);

        // No VARCHAR limits: long refs and paths are stored whole.
        let mut long = result(id(4), t0());
        long.version1 = format!("refs/heads/{}", "feature-".repeat(2_000));
        long.chart_path = "a/".repeat(3_000) + "chart";
        long.repository = format!("https://example.com/{}", "r".repeat(5_000));
        long.verdict = "ü".repeat(1_000);
        let saved = store.save_result(long.clone()).await.unwrap();
        assert_eq!(saved.summary.version1, long.version1);
        let got = store
            .get_result(&long.compare_id, t0())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.summary.chart_path, long.chart_path);
        assert_eq!(got.summary.repository, long.repository);
        assert_eq!(got.summary.verdict, long.verdict);
    }
}

#[tokio::test]
async fn unknown_id_is_none() {
    for db in databases().await {
        let store = db.open().await;
        store.save_result(result(id(1), t0())).await.unwrap();
        assert_eq!(store.get_result(&id(9), t0()).await.unwrap(), None);
    }
}

#[tokio::test]
async fn saving_a_live_result_again_deduplicates() {
    for db in databases().await {
        let store = db.open().await;
        let first = result(id(1), t0());
        store.save_result(first.clone()).await.unwrap();

        // Ten minutes later, the same compare: the stored document and creation time stay,
        // the expiry moves to the later of the two.
        let mut again = result(id(1), after(t0(), minutes(10)));
        again.document = b"{\"different\":true}".to_vec();
        again.verdict = "high-risk".into();
        let outcome = store.save_result(again).await.unwrap();
        assert!(outcome.deduplicated);
        assert_eq!(outcome.summary.compare_count, 2);
        assert_eq!(outcome.summary.created_at, t0());
        assert_eq!(outcome.summary.verdict, "medium-risk");
        assert_eq!(outcome.summary.expires_at, after(t0(), minutes(70)));

        // A shorter ttl never shortens the life of the stored result.
        let mut short = result(id(1), after(t0(), minutes(20)));
        short.ttl = minutes(1);
        let outcome = store.save_result(short).await.unwrap();
        assert!(outcome.deduplicated);
        assert_eq!(outcome.summary.compare_count, 3);
        assert_eq!(outcome.summary.expires_at, after(t0(), minutes(70)));

        let got = store
            .get_result(&id(1), after(t0(), minutes(65)))
            .await
            .unwrap()
            .expect("expiry was extended");
        assert_eq!(got.document, first.document);
        assert_eq!(got.summary.compare_count, 3);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM compare_results").await, 1);
    }
}

#[tokio::test]
async fn expired_result_is_none() {
    for db in databases().await {
        let store = db.open().await;
        store.save_result(result(id(1), t0())).await.unwrap();
        let just_before = after(t0(), minutes(60)) - jiff::SignedDuration::from_millis(1);
        assert!(
            store
                .get_result(&id(1), just_before)
                .await
                .unwrap()
                .is_some()
        );
        // Expired at its expiry instant.
        let at_expiry = after(t0(), minutes(60));
        assert_eq!(store.get_result(&id(1), at_expiry).await.unwrap(), None);
        assert_eq!(
            store
                .get_result(&id(1), after(t0(), minutes(600)))
                .await
                .unwrap(),
            None
        );
        // Still in the table until delete_expired runs.
        assert_eq!(db.scalar("SELECT COUNT(*) FROM compare_results").await, 1);
    }
}

#[tokio::test]
async fn zero_ttl_is_expired_at_once() {
    for db in databases().await {
        let store = db.open().await;
        let mut r = result(id(1), t0());
        r.ttl = std::time::Duration::ZERO;
        let saved = store.save_result(r.clone()).await.unwrap();
        assert_eq!(saved.summary.expires_at, t0());
        assert_eq!(store.get_result(&id(1), t0()).await.unwrap(), None);
        // Saving it again replaces it rather than counting it.
        let again = store.save_result(r).await.unwrap();
        assert!(!again.deduplicated);
        assert_eq!(again.summary.compare_count, 1);
    }
}

#[tokio::test]
async fn huge_ttl_saturates() {
    for db in databases().await {
        let store = db.open().await;
        let mut r = result(id(1), t0());
        r.ttl = std::time::Duration::MAX;
        let saved = store.save_result(r).await.unwrap();
        assert!(saved.summary.expires_at > jiff::Timestamp::from_second(253_000_000_000).unwrap());
        assert!(store.get_result(&id(1), t0()).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn sub_millisecond_times_are_stored_rounded_down() {
    for db in databases().await {
        let store = db.open().await;
        let at = t0() + jiff::SignedDuration::from_nanos(1_500_700);
        let saved = store.save_result(result(id(1), at)).await.unwrap();
        assert_eq!(
            saved.summary.created_at,
            t0() + jiff::SignedDuration::from_millis(1)
        );
        assert!(store.get_result(&id(1), at).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn closed_store_fails_with_a_query_error() {
    for db in databases().await {
        let store = db.open().await;
        store.ping().await.unwrap();
        store.close().await.unwrap();
        let err = store.ping().await.unwrap_err();
        assert!(matches!(err, StoreError::Query { .. }), "{err:?}");
        let err = store.save_result(result(id(1), t0())).await.unwrap_err();
        assert!(matches!(err, StoreError::Query { .. }), "{err:?}");
    }
}
