//! Webhook deliveries: dedup by delivery id, the linked job's status, deletion by age, and
//! the one-transaction intake (`accept_delivery`).

use std::sync::Arc;

use jiff::SignedDuration;
use store::{AcceptOutcome, DeliveryRecord, JobId, JobStatus, NewDelivery, StoreError};

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

/// Accepts the delivery `id` with a job of `key` at `revision` (or none).
async fn accept(
    store: &dyn store::Store,
    id: &str,
    job: Option<(&str, &str)>,
    limits: store::QueueLimits,
) -> AcceptOutcome {
    store
        .accept_delivery(
            delivery(id, t0()),
            job.map(|(key, revision)| crate::harness::job(key, revision, t0())),
            limits,
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn accepting_records_enqueues_and_links_in_one_go() {
    for db in databases().await {
        let store = db.open().await;
        let first = accept(&*store, "d1", Some(("acme/charts#pr/1", "a")), NO_LIMITS).await;
        assert!(first.first_seen);
        assert!(!first.is_duplicate());
        assert_eq!(first.earlier_job, None);
        let enqueued = first.enqueued.clone().unwrap();
        assert!(!enqueued.coalesced);
        assert!(enqueued.superseded.is_empty());
        assert_eq!(enqueued.status, JobStatus::Queued);
        // Linked, as by link_delivery.
        assert_eq!(
            store.record_delivery(delivery("d1", t0())).await.unwrap(),
            DeliveryRecord {
                first_seen: false,
                job_id: Some(enqueued.job_id),
                job_status: Some(JobStatus::Queued)
            }
        );

        // A repeat is a duplicate: nothing is enqueued, the earlier job is reported.
        let repeat = accept(&*store, "d1", Some(("acme/charts#pr/1", "b")), NO_LIMITS).await;
        assert_eq!(
            repeat,
            AcceptOutcome {
                first_seen: false,
                earlier_job: Some((enqueued.job_id, JobStatus::Queued)),
                enqueued: None,
            }
        );
        assert!(repeat.is_duplicate());
        assert_eq!(
            store
                .latest_job("acme/charts#pr/1")
                .await
                .unwrap()
                .unwrap()
                .id,
            enqueued.job_id
        );

        // Another delivery of the same revision coalesces and links to the same job.
        let same = accept(&*store, "d2", Some(("acme/charts#pr/1", "a")), NO_LIMITS).await;
        let coalesced = same.enqueued.unwrap();
        assert!(coalesced.coalesced);
        assert_eq!(coalesced.job_id, enqueued.job_id);
        assert_eq!(
            store
                .record_delivery(delivery("d2", t0()))
                .await
                .unwrap()
                .job_id,
            Some(enqueued.job_id)
        );

        // Another revision supersedes it.
        let newer = accept(&*store, "d3", Some(("acme/charts#pr/1", "b")), NO_LIMITS).await;
        let newer = newer.enqueued.unwrap();
        assert!(!newer.coalesced);
        assert_eq!(newer.superseded, [enqueued.job_id]);
        let old = store.get_job(enqueued.job_id).await.unwrap().unwrap();
        assert_eq!(old.status, JobStatus::Superseded);
        assert_eq!(old.superseded_by, Some(newer.job_id));

        // The repeat of a delivery whose job is superseded is still a duplicate.
        let repeat = accept(&*store, "d1", Some(("acme/charts#pr/1", "a")), NO_LIMITS).await;
        assert!(repeat.is_duplicate());
        assert_eq!(
            repeat.earlier_job,
            Some((enqueued.job_id, JobStatus::Superseded))
        );
        assert_eq!(repeat.enqueued, None);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM jobs").await, 2);
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM webhook_deliveries").await,
            3
        );
    }
}

#[tokio::test]
async fn accepting_a_repeat_whose_job_failed_enqueues_again() {
    for db in databases().await {
        let store = db.open().await;
        let first = accept(&*store, "d1", Some(("acme/charts#pr/1", "a")), NO_LIMITS).await;
        let failed = first.enqueued.unwrap().job_id;
        store
            .claim_job("w", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        store
            .fail_job(failed, "w", "bad chart".into(), None, t0())
            .await
            .unwrap();

        let again = accept(&*store, "d1", Some(("acme/charts#pr/1", "a")), NO_LIMITS).await;
        assert!(!again.first_seen);
        assert!(!again.is_duplicate());
        assert_eq!(again.earlier_job, Some((failed, JobStatus::Failed)));
        let rerun = again.enqueued.unwrap();
        assert!(!rerun.coalesced);
        assert_ne!(rerun.job_id, failed);
        // Relinked to the new job: a further repeat is a duplicate of it.
        let repeat = accept(&*store, "d1", Some(("acme/charts#pr/1", "a")), NO_LIMITS).await;
        assert!(repeat.is_duplicate());
        assert_eq!(repeat.earlier_job, Some((rerun.job_id, JobStatus::Queued)));
    }
}

#[tokio::test]
async fn accepting_without_a_job_only_records() {
    for db in databases().await {
        let store = db.open().await;
        let ping = accept(&*store, "p1", None, NO_LIMITS).await;
        assert_eq!(
            ping,
            AcceptOutcome {
                first_seen: true,
                earlier_job: None,
                enqueued: None
            }
        );
        assert!(!ping.is_duplicate());
        // An unlinked repeat is a duplicate.
        let repeat = accept(&*store, "p1", Some(("acme/charts#pr/1", "a")), NO_LIMITS).await;
        assert!(!repeat.first_seen);
        assert!(repeat.is_duplicate());
        assert_eq!(repeat.enqueued, None);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM jobs").await, 0);
        // A delivery recorded by record_delivery is a repeat too.
        store.record_delivery(delivery("r1", t0())).await.unwrap();
        assert!(accept(&*store, "r1", None, NO_LIMITS).await.is_duplicate());
    }
}

#[tokio::test]
async fn accepting_defers_by_the_limits() {
    for db in databases().await {
        let store = db.open().await;
        let limits = store::QueueLimits {
            max_queued: 1,
            max_active_per_repo: 10,
        };
        let first = accept(&*store, "d1", Some(("acme/charts#pr/1", "a")), limits).await;
        assert_eq!(first.enqueued.unwrap().status, JobStatus::Queued);
        let second = accept(&*store, "d2", Some(("acme/charts#pr/2", "a")), limits).await;
        let deferred = second.enqueued.unwrap();
        assert_eq!(deferred.status, JobStatus::Deferred);
        assert_eq!(
            store
                .get_job(deferred.job_id)
                .await
                .unwrap()
                .unwrap()
                .status,
            JobStatus::Deferred
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_accepts_of_one_delivery_enqueue_once() {
    for db in databases().await {
        let store = db.open().await;
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    store
                        .accept_delivery(
                            delivery("same", t0()),
                            Some(job("acme/charts#pr/1", "a", t0())),
                            NO_LIMITS,
                        )
                        .await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap().unwrap());
        }
        let first: Vec<_> = outcomes.iter().filter(|o| o.first_seen).collect();
        assert_eq!(first.len(), 1);
        let job_id = first[0].enqueued.as_ref().unwrap().job_id;
        // Every repeat saw the first one's job (committed with its delivery).
        for o in outcomes.iter().filter(|o| !o.first_seen) {
            assert!(o.is_duplicate());
            assert_eq!(o.earlier_job, Some((job_id, JobStatus::Queued)));
            assert_eq!(o.enqueued, None);
        }
        assert_eq!(db.scalar("SELECT COUNT(*) FROM jobs").await, 1);
    }
}
