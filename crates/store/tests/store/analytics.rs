//! Popular charts, computed from compare events.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use store::{PopularQuery, ResultStats, Store};

use crate::harness::{databases, id, result, t0};

const R1: &str = "https://github.com/example/charts";
const R2: &str = "https://github.com/other/charts";

fn at(mins: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(mins)
}

fn stats(added: u32, removed: u32, modified: u32) -> ResultStats {
    ResultStats {
        added,
        removed,
        modified,
        unchanged: 5,
        total_changes: added + removed + modified * 2,
    }
}

async fn compare(
    store: &Arc<dyn Store>,
    n: u8,
    repo: &str,
    chart: &str,
    when: Timestamp,
    s: ResultStats,
) {
    let mut r = result(id(n), when);
    r.repository = repo.into();
    r.chart_path = chart.into();
    r.stats = s;
    store.save_result(r).await.unwrap();
}

/// Compares in and around the window `t0()..at(60)`.
async fn populate(store: &Arc<dyn Store>) {
    // charts/app of R1: three compares (one a repeat of the same id), two with changes.
    compare(store, 1, R1, "charts/app", at(0), stats(1, 0, 2)).await;
    compare(store, 1, R1, "charts/app", at(10), stats(1, 0, 2)).await;
    compare(store, 2, R1, "charts/app", at(20), stats(0, 0, 0)).await;
    // Outside the window: just before it, and at its (exclusive) end.
    let before = t0() - SignedDuration::from_millis(1);
    compare(store, 9, R1, "charts/app", before, stats(9, 9, 9)).await;
    compare(store, 10, R1, "charts/app", at(60), stats(9, 9, 9)).await;
    // charts/b of R1: three compares, later than charts/app's.
    for minute in [30, 40, 50] {
        compare(store, 3, R1, "charts/b", at(minute), stats(3, 1, 0)).await;
    }
    // Two charts of R2 compared once at the same instant: ordered by chart path.
    compare(store, 5, R2, "charts/d", at(5), stats(0, 0, 0)).await;
    compare(store, 4, R2, "charts/app", at(5), stats(0, 0, 4)).await;
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[tokio::test]
async fn popular_counts_averages_and_order() {
    for db in databases().await {
        let store = db.open().await;
        populate(&store).await;
        let popular = store
            .popular_charts(PopularQuery::new(t0(), at(60)))
            .await
            .unwrap();
        assert_eq!(popular.total_comparisons, 8);
        let order: Vec<(&str, &str)> = popular
            .charts
            .iter()
            .map(|c| (c.repository.as_str(), c.chart_path.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                (R1, "charts/b"),
                (R1, "charts/app"),
                (R2, "charts/app"),
                (R2, "charts/d")
            ]
        );

        let b = &popular.charts[0];
        assert_eq!((b.comparison_count, b.with_changes), (3, 3));
        assert!(close(b.avg_added, 3.0) && close(b.avg_removed, 1.0) && close(b.avg_modified, 0.0));
        assert_eq!(b.last_compared_at, at(50));

        let app = &popular.charts[1];
        assert_eq!((app.comparison_count, app.with_changes), (3, 2));
        assert!(close(app.avg_modified, 4.0 / 3.0), "{}", app.avg_modified);
        assert!(close(app.avg_added, 2.0 / 3.0), "{}", app.avg_added);
        assert!(close(app.avg_removed, 0.0));
        assert_eq!(app.last_compared_at, at(20));

        let r2 = &popular.charts[2];
        assert_eq!((r2.comparison_count, r2.with_changes), (1, 1));
        assert!(close(r2.avg_modified, 4.0));
        let d = &popular.charts[3];
        assert_eq!((d.comparison_count, d.with_changes), (1, 0));
        assert_eq!(d.last_compared_at, at(5));
    }
}

#[tokio::test]
async fn popular_limit_keeps_the_total() {
    for db in databases().await {
        let store = db.open().await;
        populate(&store).await;
        let q = PopularQuery {
            limit: 2,
            ..PopularQuery::new(t0(), at(60))
        };
        let popular = store.popular_charts(q).await.unwrap();
        assert_eq!(popular.charts.len(), 2);
        assert_eq!(popular.charts[1].chart_path, "charts/app");
        assert_eq!(popular.total_comparisons, 8);
        let none = PopularQuery {
            limit: 0,
            ..PopularQuery::new(t0(), at(60))
        };
        let popular = store.popular_charts(none).await.unwrap();
        assert!(popular.charts.is_empty());
        assert_eq!(popular.total_comparisons, 8);
    }
}

#[tokio::test]
async fn popular_window_bounds() {
    for db in databases().await {
        let store = db.open().await;
        populate(&store).await;
        // Everything.
        let all = store
            .popular_charts(PopularQuery::new(at(-10), at(61)))
            .await
            .unwrap();
        assert_eq!(all.total_comparisons, 10);
        assert_eq!(all.charts[0].chart_path, "charts/app");
        assert_eq!(all.charts[0].comparison_count, 5);
        assert_eq!(all.charts[0].last_compared_at, at(60));
        // Just the instant of the two R2 compares.
        let instant = store
            .popular_charts(PopularQuery::new(
                at(5),
                at(5) + SignedDuration::from_millis(1),
            ))
            .await
            .unwrap();
        assert_eq!(instant.total_comparisons, 2);
        // Empty and inverted windows.
        for (since, until) in [(at(100), at(200)), (at(60), at(0))] {
            let empty = store
                .popular_charts(PopularQuery::new(since, until))
                .await
                .unwrap();
            assert!(empty.charts.is_empty());
            assert_eq!(empty.total_comparisons, 0);
        }
    }
}

#[tokio::test]
async fn expired_results_still_count() {
    for db in databases().await {
        let store = db.open().await;
        populate(&store).await;
        // All results expire; their events stay until they are old enough themselves.
        let removed = store
            .delete_expired(at(1_000), t0() - SignedDuration::from_hours(1))
            .await
            .unwrap();
        assert_eq!(removed, 7);
        let popular = store
            .popular_charts(PopularQuery::new(t0(), at(60)))
            .await
            .unwrap();
        assert_eq!(popular.total_comparisons, 8);
    }
}
