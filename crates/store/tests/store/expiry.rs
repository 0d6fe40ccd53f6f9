//! delete_expired.

use jiff::SignedDuration;
use store::{ListQuery, PopularQuery};

use crate::harness::{after, databases, id, minutes, result, t0};

#[tokio::test]
async fn delete_expired_counts_results_and_events() {
    for db in databases().await {
        let store = db.open().await;
        for (n, ttl) in [(1, 10), (2, 20), (3, 30)] {
            let mut r = result(id(n), t0());
            r.ttl = minutes(ttl);
            store.save_result(r).await.unwrap();
        }
        // A repeat of id(1) at +5 min with an hour's ttl: one more event, and id(1) now
        // expires at +65 min.
        store
            .save_result(result(id(1), after(t0(), minutes(5))))
            .await
            .unwrap();
        let now = after(t0(), minutes(25));
        // id(2) (expired at +20) goes, and the three events at t0.
        let removed = store
            .delete_expired(now, after(t0(), minutes(1)))
            .await
            .unwrap();
        assert_eq!(removed, 1 + 3);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM compare_results").await, 2);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM compare_events").await, 1);
        let page = store.list_results(ListQuery::new(now)).await.unwrap();
        assert_eq!(page.total, 2);
        // Nothing left to remove at the same instant.
        assert_eq!(
            store
                .delete_expired(now, after(t0(), minutes(1)))
                .await
                .unwrap(),
            0
        );
        // The expiry instant itself counts as expired; events_before is exclusive.
        let at_expiry = after(t0(), minutes(30));
        assert_eq!(store.delete_expired(at_expiry, t0()).await.unwrap(), 1);
        let event_at = after(t0(), minutes(5));
        assert_eq!(store.delete_expired(at_expiry, event_at).await.unwrap(), 0);
        assert_eq!(
            store
                .delete_expired(at_expiry, event_at + SignedDuration::from_millis(1))
                .await
                .unwrap(),
            1
        );
        let popular = store
            .popular_charts(PopularQuery::new(t0(), after(t0(), minutes(60))))
            .await
            .unwrap();
        assert_eq!(popular.total_comparisons, 0);
        // id(1) lives on until +65 min.
        assert!(store.get_result(&id(1), at_expiry).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn delete_expired_on_an_empty_store() {
    for db in databases().await {
        let store = db.open().await;
        assert_eq!(store.delete_expired(t0(), t0()).await.unwrap(), 0);
    }
}
