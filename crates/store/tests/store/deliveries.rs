//! Webhook deliveries: dedup by delivery id, the linked job's status, and deletion by age.

use std::sync::Arc;

use jiff::SignedDuration;
use store::{DeliveryRecord, JobId, JobStatus, NewDelivery, StoreError};

use crate::harness::{LEASE, NO_LIMITS, after, databases, job, minutes, t0};

fn delivery(id: &str, at: jiff::Timestamp) -> NewDelivery {
    NewDelivery {
        id: id.into(),
        event: "pull_request".into(),
        action: Some("synchronize".into()),
        repo: Some("acme/charts".into()),
        received_at: at,
    }
}

#[tokio::test]
async fn a_delivery_is_first_seen_once_and_reports_its_job() {
    for db in databases().await {
        let store = db.open().await;
        let id = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
        let first = store.record_delivery(delivery(id, t0())).await.unwrap();
        assert_eq!(
            first,
            DeliveryRecord {
                first_seen: true,
                job_id: None,
                job_status: None
            }
        );
        // Recorded but not linked (say the server stopped before enqueueing): a repeat.
        let repeat = store.record_delivery(delivery(id, t0())).await.unwrap();
        assert!(!repeat.first_seen);
        assert_eq!(repeat.job_id, None);

        let enqueued = store
            .enqueue_job(job("acme/charts#pr/1", "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        store.link_delivery(id, enqueued.job_id).await.unwrap();
        let redelivered = store
            .record_delivery(delivery(id, after(t0(), minutes(1))))
            .await
            .unwrap();
        assert_eq!(
            redelivered,
            DeliveryRecord {
                first_seen: false,
                job_id: Some(enqueued.job_id),
                job_status: Some(JobStatus::Queued)
            }
        );

        // The status is the job's current one.
        store
            .claim_job("w", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        let record = store.record_delivery(delivery(id, t0())).await.unwrap();
        assert_eq!(record.job_status, Some(JobStatus::Running));
        store
            .fail_job(enqueued.job_id, "w", "bad chart".into(), None, t0())
            .await
            .unwrap();
        let record = store.record_delivery(delivery(id, t0())).await.unwrap();
        assert_eq!(record.job_status, Some(JobStatus::Failed));

        // A second delivery may link to the same (coalesced) job.
        let other = store
            .record_delivery(NewDelivery {
                id: "second".into(),
                event: "ping".into(),
                action: None,
                repo: None,
                received_at: t0(),
            })
            .await
            .unwrap();
        assert!(other.first_seen);
        store
            .link_delivery("second", enqueued.job_id)
            .await
            .unwrap();
        assert_eq!(
            store
                .record_delivery(delivery("second", t0()))
                .await
                .unwrap()
                .job_id,
            Some(enqueued.job_id)
        );
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM webhook_deliveries").await,
            2
        );
        // The first record's fields stay.
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE event = 'ping' AND action IS NULL AND repo IS NULL")
                .await,
            1
        );
    }
}

#[tokio::test]
async fn linking_an_unknown_delivery_or_job_is_not_found() {
    for db in databases().await {
        let store = db.open().await;
        let enqueued = store
            .enqueue_job(job("acme/charts#pr/1", "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        let err = store
            .link_delivery("nope", enqueued.job_id)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::NotFound { what: "webhook delivery", id } if id == "nope"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "no webhook delivery nope");

        store.record_delivery(delivery("d1", t0())).await.unwrap();
        let missing: JobId = "999".parse().unwrap();
        let err = store.link_delivery("d1", missing).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::NotFound { what: "job", .. }),
            "{err:?}"
        );
        assert_eq!(
            store
                .record_delivery(delivery("d1", t0()))
                .await
                .unwrap()
                .job_id,
            None
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_records_of_one_delivery_see_it_first_once() {
    for db in databases().await {
        let store = db.open().await;
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.record_delivery(delivery("same", t0())).await })
            })
            .collect();
        let mut first = 0;
        for task in tasks {
            if task.await.unwrap().unwrap().first_seen {
                first += 1;
            }
        }
        assert_eq!(first, 1);
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM webhook_deliveries").await,
            1
        );
    }
}

#[tokio::test]
async fn deliveries_are_deleted_by_age() {
    for db in databases().await {
        let store = db.open().await;
        let day = SignedDuration::from_hours(24);
        for (id, days) in [("d0", 0), ("d1", 1), ("d8", 8), ("d9", 9)] {
            store
                .record_delivery(delivery(id, t0() + day * days))
                .await
                .unwrap();
        }
        let enqueued = store
            .enqueue_job(job("acme/charts#pr/1", "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        store.link_delivery("d0", enqueued.job_id).await.unwrap();

        // `before` is exclusive.
        assert_eq!(store.delete_deliveries_before(t0() + day).await.unwrap(), 1);
        assert_eq!(
            store
                .delete_deliveries_before(t0() + day + SignedDuration::from_millis(1))
                .await
                .unwrap(),
            1
        );
        assert_eq!(store.delete_deliveries_before(t0() + day).await.unwrap(), 0);
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM webhook_deliveries").await,
            2
        );
        // Deleted deliveries are new again; their jobs stay.
        assert!(
            store
                .record_delivery(delivery("d0", t0()))
                .await
                .unwrap()
                .first_seen
        );
        assert!(
            !store
                .record_delivery(delivery("d8", t0()))
                .await
                .unwrap()
                .first_seen
        );
        assert!(store.get_job(enqueued.job_id).await.unwrap().is_some());
    }
}
