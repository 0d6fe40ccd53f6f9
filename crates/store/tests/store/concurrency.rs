//! Concurrent saves, as from several workers or replicas.

use std::sync::Arc;

use store::{ListQuery, PopularQuery, Store};

use crate::harness::{after, databases, id, minutes, result, t0};

async fn save_concurrently(store: &Arc<dyn Store>, ids: impl Iterator<Item = u8>) -> Vec<bool> {
    let tasks: Vec<_> = ids
        .map(|n| {
            let store = Arc::clone(store);
            tokio::spawn(async move { store.save_result(result(id(n), t0())).await })
        })
        .collect();
    let mut deduplicated = Vec::new();
    for task in tasks {
        deduplicated.push(task.await.unwrap().unwrap().deduplicated);
    }
    deduplicated
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_saves_of_one_id_make_one_row() {
    for db in databases().await {
        let store = db.open().await;
        let deduplicated = save_concurrently(&store, std::iter::repeat_n(7, 16)).await;
        assert_eq!(
            deduplicated.iter().filter(|d| !**d).count(),
            1,
            "{deduplicated:?}"
        );
        let got = store.get_result(&id(7), t0()).await.unwrap().unwrap();
        assert_eq!(got.summary.compare_count, 16);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM compare_results").await, 1);
        let page = store.list_results(ListQuery::new(t0())).await.unwrap();
        assert_eq!(page.total, 1);
        let popular = store
            .popular_charts(PopularQuery::new(t0(), after(t0(), minutes(1))))
            .await
            .unwrap();
        assert_eq!(popular.total_comparisons, 16);
        assert_eq!(popular.charts[0].comparison_count, 16);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_of_different_ids_and_reads() {
    for db in databases().await {
        let store = db.open().await;
        // Readers running while 32 results are written.
        let reader = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for _ in 0..20 {
                    store.list_results(ListQuery::new(t0())).await.unwrap();
                    store.get_result(&id(1), t0()).await.unwrap();
                }
            })
        };
        let deduplicated = save_concurrently(&store, 1..=32).await;
        reader.await.unwrap();
        assert!(deduplicated.iter().all(|d| !d));
        let page = store.list_results(ListQuery::new(t0())).await.unwrap();
        assert_eq!(page.total, 32);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_resaves_of_an_expired_result_replace_it_once() {
    for db in databases().await {
        let store = db.open().await;
        store.save_result(result(id(1), t0())).await.unwrap();
        let later = after(t0(), minutes(180));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.save_result(result(id(1), later)).await })
            })
            .collect();
        let mut fresh = 0;
        for task in tasks {
            if !task.await.unwrap().unwrap().deduplicated {
                fresh += 1;
            }
        }
        assert_eq!(fresh, 1);
        let got = store.get_result(&id(1), later).await.unwrap().unwrap();
        assert_eq!(got.summary.compare_count, 12);
        assert_eq!(got.summary.created_at, later);
    }
}
