//! Webhook deliveries: dedup by delivery id, the linked job's status, deletion by age, and
//! the one-transaction intake (`accept_delivery`).

use std::sync::Arc;

use jiff::SignedDuration;
use store::{AcceptOutcome, DeliveryRecord, JobId, JobStatus, NewDelivery, StoreError};

use crate::harness::{
    LEASE, NO_LIMITS, after, databases, delivery_id, job, key, minutes, repo, t0,
};

fn delivery(id: &str, at: jiff::Timestamp) -> NewDelivery {
    NewDelivery {
        id: delivery_id(id),
        event: "pull_request".into(),
        action: Some("synchronize".into()),
        repo: Some(repo("acme/charts")),
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
        store
            .link_delivery(&delivery_id(id), enqueued.job_id)
            .await
            .unwrap();
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
                id: delivery_id("second"),
                event: "ping".into(),
                action: None,
                repo: None,
                received_at: t0(),
            })
            .await
            .unwrap();
        assert!(other.first_seen);
        store
            .link_delivery(&delivery_id("second"), enqueued.job_id)
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
            .link_delivery(&delivery_id("nope"), enqueued.job_id)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::NotFound { what: "webhook delivery", id } if id == "nope"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "no webhook delivery nope");

        store.record_delivery(delivery("d1", t0())).await.unwrap();
        let missing: JobId = "999".parse().unwrap();
        let err = store
            .link_delivery(&delivery_id("d1"), missing)
            .await
            .unwrap_err();
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
        store
            .link_delivery(&delivery_id("d0"), enqueued.job_id)
            .await
            .unwrap();

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
                .latest_job(&key("acme/charts#pr/1"))
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

/// Refuses to record the delivery `refused` (a statement error inside the intake).
async fn refuse_delivery_refused(db: &crate::harness::TestDb) {
    match db.backend {
        store::Backend::Sqlite => {
            db.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON webhook_deliveries \
                 WHEN NEW.delivery_id = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END",
                &[],
            )
            .await;
        }
        store::Backend::Postgres => {
            db.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.delivery_id = 'refused' THEN RAISE EXCEPTION 'refused'; END IF; \
                 RETURN NEW; END $$",
                &[],
            )
            .await;
            db.execute(
                "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON webhook_deliveries \
                 FOR EACH ROW EXECUTE FUNCTION refuse()",
                &[],
            )
            .await;
        }
    }
}

/// Many deliveries at once (on SQLite they are accepted in groups, one transaction each):
/// every one gets the answer it would get alone, in some order, and all are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_accepts_each_get_their_own_answer() {
    for db in databases().await {
        accept_many_at_once(&db, false).await;
    }
}

/// As above, with one delivery the database refuses to record: it alone fails (on SQLite its
/// group is rolled back and accepted again delivery by delivery), the others are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_delivery_among_concurrent_accepts_fails_alone() {
    for db in databases().await {
        accept_many_at_once(&db, true).await;
    }
}

async fn accept_many_at_once(db: &crate::harness::TestDb, refuse_one: bool) {
    {
        let store = db.open().await;
        let pr = |n: u32| format!("acme/charts#pr/{n}");
        // Before: PR 2's job failed, PR 1 and PR 3 queued at a.
        let two = accept(&*store, "old-2", Some((&pr(2), "a")), NO_LIMITS).await;
        let two = two.enqueued.unwrap().job_id;
        store
            .claim_job("w", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        store
            .fail_job(two, "w", "bad chart".into(), None, t0())
            .await
            .unwrap();
        let one = accept(&*store, "old-1", Some((&pr(1), "a")), NO_LIMITS).await;
        let one = one.enqueued.unwrap().job_id;
        let three = accept(&*store, "old-3", Some((&pr(3), "a")), NO_LIMITS).await;
        let three = three.enqueued.unwrap().job_id;
        if refuse_one {
            refuse_delivery_refused(db).await;
        }

        let mut wanted: Vec<(String, Option<(String, &str)>)> = (100..300)
            .map(|n| (format!("new-{n}"), Some((pr(n), "a"))))
            .collect();
        for _ in 0..5 {
            wanted.push(("twice".into(), Some((pr(400), "a"))));
        }
        wanted.push(("old-1".into(), Some((pr(1), "b"))));
        wanted.push(("same-1".into(), Some((pr(1), "a"))));
        wanted.push(("old-2".into(), Some((pr(2), "a"))));
        wanted.push(("newer-3".into(), Some((pr(3), "b"))));
        if refuse_one {
            wanted.push(("refused".into(), Some((pr(500), "a"))));
        }
        wanted.push(("ping".into(), None));
        wanted.push(("race-a".into(), Some((pr(600), "a"))));
        wanted.push(("race-b".into(), Some((pr(600), "b"))));

        // On SQLite, hold the write lock while they are sent, so they pile up into groups.
        let held = if db.backend == store::Backend::Sqlite {
            use sqlx::Connection as _;
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .unwrap();
            Some(conn)
        } else {
            None
        };
        let tasks: Vec<_> = wanted
            .iter()
            .map(|(id, job)| {
                let store = Arc::clone(&store);
                let (id, job) = (id.clone(), job.clone());
                tokio::spawn(async move {
                    store
                        .accept_delivery(
                            delivery(&id, t0()),
                            job.map(|(key, revision)| crate::harness::job(&key, revision, t0())),
                            NO_LIMITS,
                        )
                        .await
                })
            })
            .collect();
        if let Some(mut conn) = held {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
        }
        let mut outcomes = std::collections::HashMap::<String, Vec<_>>::new();
        for ((id, _), task) in wanted.iter().zip(tasks) {
            outcomes
                .entry(id.clone())
                .or_default()
                .push(task.await.unwrap());
        }
        let only = |id: &str| -> AcceptOutcome {
            let all = &outcomes[id];
            assert_eq!(all.len(), 1, "{id}");
            all[0].as_ref().unwrap().clone()
        };

        // Distinct new deliveries: each its own new job.
        let mut new_jobs = std::collections::HashSet::new();
        for n in 100..300 {
            let o = only(&format!("new-{n}"));
            assert!(o.first_seen, "new-{n}");
            let e = o.enqueued.unwrap();
            assert!(!e.coalesced && e.superseded.is_empty(), "new-{n}: {e:?}");
            assert_eq!(e.status, JobStatus::Queued);
            assert!(new_jobs.insert(e.job_id), "new-{n}: shared job {e:?}");
            let job = store.get_job(e.job_id).await.unwrap().unwrap();
            assert_eq!(job.key, key(&pr(n)));
        }
        // One delivery sent five times: first seen once, the others duplicates of its job.
        let twice: Vec<_> = outcomes["twice"]
            .iter()
            .map(|o| o.as_ref().unwrap())
            .collect();
        let first: Vec<_> = twice.iter().filter(|o| o.first_seen).collect();
        assert_eq!(first.len(), 1);
        let twice_job = first[0].enqueued.as_ref().unwrap().job_id;
        for o in twice.iter().filter(|o| !o.first_seen) {
            assert!(o.is_duplicate());
            assert_eq!(o.earlier_job, Some((twice_job, JobStatus::Queued)));
        }
        // A repeat of a delivery whose job is queued: a duplicate, PR 1 untouched by it.
        let repeat = only("old-1");
        assert!(repeat.is_duplicate());
        assert_eq!(repeat.earlier_job, Some((one, JobStatus::Queued)));
        // Another delivery of PR 1 at a: coalesced into its job.
        let same = only("same-1").enqueued.unwrap();
        assert!(same.coalesced);
        assert_eq!(same.job_id, one);
        // A repeat of a delivery whose job failed: enqueued again.
        let again = only("old-2");
        assert_eq!(again.earlier_job, Some((two, JobStatus::Failed)));
        let rerun = again.enqueued.unwrap();
        assert!(!rerun.coalesced);
        assert_ne!(rerun.job_id, two);
        // A newer head of PR 3: supersedes its job.
        let newer = only("newer-3").enqueued.unwrap();
        assert_eq!(newer.superseded, [three]);
        let old = store.get_job(three).await.unwrap().unwrap();
        assert_eq!(old.status, JobStatus::Superseded);
        assert_eq!(old.superseded_by, Some(newer.job_id));
        // The refused delivery fails alone, recording nothing.
        if refuse_one {
            let refused = &outcomes["refused"];
            assert_eq!(refused.len(), 1);
            assert!(
                matches!(refused[0], Err(StoreError::Query { .. })),
                "{refused:?}"
            );
            assert_eq!(store.latest_job(&key(&pr(500))).await.unwrap(), None);
        }
        // A delivery without a job: recorded.
        assert_eq!(
            only("ping"),
            AcceptOutcome {
                first_seen: true,
                earlier_job: None,
                enqueued: None
            }
        );
        // Two heads of PR 600 at once: whichever came second superseded the first.
        let (a, b) = (
            only("race-a").enqueued.unwrap(),
            only("race-b").enqueued.unwrap(),
        );
        let (earlier, later) = if a.job_id < b.job_id { (a, b) } else { (b, a) };
        assert!(earlier.superseded.is_empty());
        assert_eq!(later.superseded, [earlier.job_id]);
        let job = store.get_job(earlier.job_id).await.unwrap().unwrap();
        assert_eq!(job.superseded_by, Some(later.job_id));

        // Every delivery but the refused one is recorded, linked as answered.
        for (id, all) in &outcomes {
            let Ok(o) = &all[0] else {
                assert_eq!(id, "refused");
                continue;
            };
            let record = store.record_delivery(delivery(id, t0())).await.unwrap();
            assert!(!record.first_seen, "{id}");
            let linked = o
                .enqueued
                .as_ref()
                .map(|e| e.job_id)
                .or(o.earlier_job.map(|(job, _)| job));
            let linked = if id == "twice" {
                Some(twice_job)
            } else {
                linked
            };
            assert_eq!(record.job_id, linked, "{id}");
        }
        // old-1..3, 200 new, twice, same-1, newer-3, ping, race-a, race-b.
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM webhook_deliveries").await,
            3 + 200 + 6
        );
        // 3 before, 200 new, twice, old-2 again, newer-3, race-a and race-b.
        assert_eq!(db.scalar("SELECT COUNT(*) FROM jobs").await, 3 + 200 + 5);
    }
}

/// Operators read the newest deliveries first, each with the job it enqueued and that job's
/// status now; deliveries that ran nothing have none; paging and the cap hold.
#[tokio::test]
async fn deliveries_are_listed_newest_first_with_their_jobs() {
    for db in databases().await {
        let store = db.open().await;
        assert!(store.list_deliveries(10, 0).await.unwrap().is_empty());
        let enqueued = store
            .enqueue_job(job("acme/charts#pr/1", "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        for (i, id) in ["d-old", "d-mid", "d-new"].into_iter().enumerate() {
            store
                .record_delivery(delivery(id, after(t0(), minutes(i as u64))))
                .await
                .unwrap();
        }
        store
            .link_delivery(&delivery_id("d-mid"), enqueued.job_id)
            .await
            .unwrap();
        store
            .claim_job("w", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        store
            .fail_job(enqueued.job_id, "w", "no chart".into(), None, t0())
            .await
            .unwrap();
        let listed = store.list_deliveries(0, 0).await.unwrap();
        let ids: Vec<String> = listed.iter().map(|d| d.id.to_string()).collect();
        assert_eq!(ids, ["d-new", "d-mid", "d-old"], "{:?}", db.backend);
        assert_eq!(listed[0].job_id, None);
        assert_eq!(listed[1].job_id, Some(enqueued.job_id));
        assert_eq!(listed[1].event, "pull_request");
        assert_eq!(listed[1].action.as_deref(), Some("synchronize"));
        assert_eq!(listed[1].repo, Some(repo("acme/charts")));
        assert_eq!(listed[1].job_status, Some(JobStatus::Failed));
        assert_eq!(listed[2].received_at, t0());
        let page = store.list_deliveries(1, 1).await.unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].id.to_string(), "d-mid");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_from_before_and_after_a_rename_share_one_job() {
    for db in databases().await {
        let store = db.open().await;
        let in_repo = |name: &str, revision: &str| {
            let mut new = job(&format!("{name}#pr/1"), revision, t0());
            new.key = new.key.with_repo_id(7);
            new
        };
        let accept = |id: &'static str, name: &'static str, revision: &'static str| {
            let store = Arc::clone(&store);
            let job = in_repo(name, revision);
            async move {
                store
                    .accept_delivery(delivery(id, t0()), Some(job), NO_LIMITS)
                    .await
                    .unwrap()
            }
        };
        let first = accept("r1", "acme/charts", "a").await.enqueued.unwrap();
        let job1 = store.get_job(first.job_id).await.unwrap().unwrap();
        assert_eq!(job1.key.to_string(), "acme/charts#pr/1");
        assert_eq!(job1.key.identity(), "7#pr/1");
        let renamed = accept("r2", "acme/helm", "a").await.enqueued.unwrap();
        assert!(renamed.coalesced);
        assert_eq!(renamed.job_id, first.job_id);
        let job1 = store.get_job(first.job_id).await.unwrap().unwrap();
        assert_eq!(job1.repo.to_string(), "acme/helm");

        // The renames and a new head, in order. SQLite's intake takes them at once as one
        // group, in arrival order; PostgreSQL's transactions commit in whichever order they
        // finish, so which name is the newest is defined only when they come one after
        // another (concurrent ones under one name are below).
        let (x, y, z) = if db.backend == store::Backend::Sqlite {
            tokio::join!(
                accept("r3", "acme/charts", "b"),
                accept("r4", "acme/helm-2", "b"),
                accept("r5", "acme/helm-3", "b"),
            )
        } else {
            (
                accept("r3", "acme/charts", "b").await,
                accept("r4", "acme/helm-2", "b").await,
                accept("r5", "acme/helm-3", "b").await,
            )
        };
        let ids: Vec<_> = [&x, &y, &z]
            .iter()
            .map(|o| o.enqueued.as_ref().unwrap().job_id)
            .collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        let live: Vec<_> = store
            .list_jobs(store::JobQuery::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.status.is_active())
            .collect();
        assert_eq!(live.len(), 1, "{live:?}");
        assert_eq!(live[0].id, ids[0]);
        assert_eq!(live[0].revision, "b");
        assert_eq!(live[0].key.repo_id(), Some(7));
        assert_eq!(live[0].key.to_string(), "acme/helm-3#pr/1");
        // A new head under the name it came with, in one group or not.
        let (n1, n2) = tokio::join!(
            accept("r6", "acme/helm-3", "c"),
            accept("r7", "acme/helm-3", "d"),
        );
        for o in [n1, n2] {
            let id = o.enqueued.unwrap().job_id;
            let job = store.get_job(id).await.unwrap().unwrap();
            assert_eq!(job.key.to_string(), "acme/helm-3#pr/1");
        }
        assert_eq!(
            store.get_job(first.job_id).await.unwrap().unwrap().status,
            JobStatus::Superseded
        );
    }
}
