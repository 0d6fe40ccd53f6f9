//! Regression tests, named after what they reproduce.

use crate::harness::{after, databases, id, minutes, result, t0};

/// The Go ChartImpact kept an expired row when the same compare was saved again: the old
/// document, creation time and count survived and the permalink served stale data.
#[tokio::test]
async fn go_bug_resaving_an_expired_result_kept_the_old_row() {
    for db in databases().await {
        let store = db.open().await;
        let mut old = result(id(1), t0());
        old.document = b"{\"old\":true}".to_vec();
        store.save_result(old.clone()).await.unwrap();
        store.save_result(old.clone()).await.unwrap(); // count 2

        let later = after(t0(), minutes(120));
        let mut new = result(id(1), later);
        new.document = b"{\"new\":true}".to_vec();
        new.verdict = "low-risk".into();
        new.stats.modified = 9;
        let outcome = store.save_result(new.clone()).await.unwrap();
        assert!(!outcome.deduplicated);
        assert_eq!(outcome.summary.compare_count, 1);
        assert_eq!(outcome.summary.created_at, later);
        assert_eq!(outcome.summary.expires_at, after(later, minutes(60)));
        assert_eq!(outcome.summary.verdict, "low-risk");
        assert_eq!(outcome.summary.stats.modified, 9);

        let got = store.get_result(&id(1), later).await.unwrap().unwrap();
        assert_eq!(got.document, new.document);
        assert_eq!(got.summary, outcome.summary);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM compare_results").await, 1);
    }
}

/// The Go ChartImpact declared VARCHAR columns and failed to save compares of long refs.
#[tokio::test]
async fn go_bug_long_refs_failed_to_save() {
    for db in databases().await {
        let store = db.open().await;
        let mut r = result(id(1), t0());
        r.version1 = "refs/tags/".to_owned() + &"v".repeat(1_000);
        r.version2 = "x".repeat(300);
        r.commit1 = "f".repeat(64); // sha256 object ids
        store.save_result(r.clone()).await.unwrap();
        let got = store.get_result(&id(1), t0()).await.unwrap().unwrap();
        assert_eq!(got.summary.version1, r.version1);
        assert_eq!(got.summary.commit1, r.commit1);
    }
}
