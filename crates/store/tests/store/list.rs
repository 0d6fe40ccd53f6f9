//! Listing results: filters, window, paging, order.

use std::sync::Arc;

use store::{ListQuery, Store};

use crate::harness::{after, databases, id, minutes, result, t0};

const R1: &str = "https://github.com/example/charts";
const R2: &str = "https://github.com/other/charts";

/// Five results; at `now()` the first four are live and `id(5)` has expired.
async fn populate(store: &Arc<dyn Store>) {
    let rows = [
        (1, R1, "charts/app", 0i64),
        (2, R1, "charts/app2", 5),
        (3, R2, "charts/app", 10),
        (4, R1, "charts/app", 10),
        (5, R2, "charts/app", -120),
    ];
    for (n, repo, chart, offset) in rows {
        let at = t0() + jiff::SignedDuration::from_mins(offset);
        let mut r = result(id(n), at);
        r.repository = repo.into();
        r.chart_path = chart.into();
        store.save_result(r).await.unwrap();
    }
}

fn now() -> jiff::Timestamp {
    after(t0(), minutes(15))
}

fn at(mins: i64) -> jiff::Timestamp {
    t0() + jiff::SignedDuration::from_mins(mins)
}

async fn ids(store: &Arc<dyn Store>, q: ListQuery) -> (Vec<u8>, u64) {
    let page = store.list_results(q).await.unwrap();
    let ids = page
        .items
        .iter()
        .map(|s| (1..=5).find(|n| s.compare_id == id(*n)).unwrap())
        .collect();
    (ids, page.total)
}

#[tokio::test]
async fn newest_first_ties_by_id_expired_left_out() {
    for db in databases().await {
        let store = db.open().await;
        populate(&store).await;
        assert!(id(3) < id(4));
        assert_eq!(
            ids(&store, ListQuery::new(now())).await,
            (vec![3, 4, 2, 1], 4)
        );
        // Later, the oldest live result has expired too.
        assert_eq!(
            ids(&store, ListQuery::new(after(t0(), minutes(62)))).await,
            (vec![3, 4, 2], 3)
        );
        let page = store.list_results(ListQuery::new(now())).await.unwrap();
        let first = &page.items[0];
        assert_eq!(first.repository, R2);
        assert_eq!(first.created_at, at(10));
        assert_eq!(first.expires_at, at(70));
        assert_eq!(first.compare_count, 1);
    }
}

#[tokio::test]
async fn filters_are_exact_matches() {
    for db in databases().await {
        let store = db.open().await;
        populate(&store).await;
        let q = |repo: Option<&str>, chart: Option<&str>| ListQuery {
            repository: repo.map(Into::into),
            chart_path: chart.map(Into::into),
            ..ListQuery::new(now())
        };
        assert_eq!(ids(&store, q(Some(R1), None)).await, (vec![4, 2, 1], 3));
        assert_eq!(
            ids(&store, q(None, Some("charts/app"))).await,
            (vec![3, 4, 1], 3)
        );
        assert_eq!(
            ids(&store, q(Some(R1), Some("charts/app"))).await,
            (vec![4, 1], 2)
        );
        assert_eq!(
            ids(&store, q(Some(R2), Some("charts/app2"))).await,
            (vec![], 0)
        );
        // No prefix, pattern or case-insensitive matching.
        assert_eq!(ids(&store, q(None, Some("charts/"))).await, (vec![], 0));
        assert_eq!(ids(&store, q(None, Some("charts/app%"))).await, (vec![], 0));
        assert_eq!(
            ids(&store, q(Some(&R1.to_uppercase()), None)).await,
            (vec![], 0)
        );
    }
}

#[tokio::test]
async fn since_is_inclusive_until_exclusive() {
    for db in databases().await {
        let store = db.open().await;
        populate(&store).await;
        let q = |since: Option<i64>, until: Option<i64>| ListQuery {
            since: since.map(at),
            until: until.map(at),
            ..ListQuery::new(now())
        };
        assert_eq!(ids(&store, q(Some(5), None)).await, (vec![3, 4, 2], 3));
        assert_eq!(ids(&store, q(None, Some(10))).await, (vec![2, 1], 2));
        assert_eq!(ids(&store, q(Some(5), Some(10))).await, (vec![2], 1));
        assert_eq!(ids(&store, q(Some(10), Some(10))).await, (vec![], 0));
        // A window reaching back to the expired result does not bring it back.
        assert_eq!(ids(&store, q(Some(-1000), Some(1))).await, (vec![1], 1));
    }
}

#[tokio::test]
async fn limit_and_offset_page_total_ignores_them() {
    for db in databases().await {
        let store = db.open().await;
        populate(&store).await;
        let q = |limit: u32, offset: u32| ListQuery {
            limit,
            offset,
            ..ListQuery::new(now())
        };
        assert_eq!(ids(&store, q(2, 0)).await, (vec![3, 4], 4));
        assert_eq!(ids(&store, q(2, 1)).await, (vec![4, 2], 4));
        assert_eq!(ids(&store, q(2, 2)).await, (vec![2, 1], 4));
        assert_eq!(ids(&store, q(2, 3)).await, (vec![1], 4));
        assert_eq!(ids(&store, q(2, 10)).await, (vec![], 4));
        assert_eq!(ids(&store, q(0, 0)).await, (vec![], 4));
        assert_eq!(ids(&store, q(u32::MAX, 0)).await, (vec![3, 4, 2, 1], 4));
        let filtered = ListQuery {
            repository: Some(R1.into()),
            limit: 1,
            offset: 1,
            ..ListQuery::new(now())
        };
        assert_eq!(ids(&store, filtered).await, (vec![2], 3));
    }
}

#[tokio::test]
async fn repeated_compares_are_one_item() {
    for db in databases().await {
        let store = db.open().await;
        populate(&store).await;
        for minute in [11, 12, 13] {
            store.save_result(result(id(1), at(minute))).await.unwrap();
        }
        let page = store.list_results(ListQuery::new(now())).await.unwrap();
        assert_eq!(page.total, 4);
        let one = page.items.iter().find(|s| s.compare_id == id(1)).unwrap();
        assert_eq!(one.compare_count, 4);
        // It keeps its place: ordered by when the document was created.
        assert_eq!(page.items.last().unwrap().compare_id, id(1));
        assert_eq!(one.expires_at, at(73));
    }
}

#[tokio::test]
async fn empty_store_lists_nothing() {
    for db in databases().await {
        let store = db.open().await;
        let page = store.list_results(ListQuery::new(t0())).await.unwrap();
        assert!(page.items.is_empty());
        assert_eq!(page.total, 0);
    }
}
