//! The job queue: enqueue, claim, heartbeat, complete, fail, cancel, and the rules between
//! them (coalescing, supersession, one running job per key, limits, leases, retries).

use store::{JobId, JobLease, JobStatus, QueueLimits, QueueStats, StoreError};

use crate::harness::{
    LEASE, NO_LIMITS, after, databases, delivery_id, job, key, minutes, repo, seconds, t0,
};

const PR1: &str = "acme/charts#pr/1";
const PR2: &str = "acme/charts#pr/2";
const PR3: &str = "acme/charts#pr/3";

#[tokio::test]
async fn enqueue_claim_complete_round_trip() {
    for db in databases().await {
        let store = db.open().await;
        let new = job(PR1, "sha-a", t0());
        let enqueued = store.enqueue_job(new.clone(), NO_LIMITS).await.unwrap();
        assert!(!enqueued.coalesced);
        assert!(enqueued.superseded.is_empty());
        assert_eq!(enqueued.status, JobStatus::Queued);

        let queued = store.get_job(enqueued.job_id).await.unwrap().unwrap();
        assert_eq!(queued.id, enqueued.job_id);
        assert_eq!(
            (&*queued.kind, &queued.key, &queued.repo, &*queued.revision),
            ("pull_request", &key(PR1), &repo("acme/charts"), "sha-a")
        );
        assert_eq!(queued.payload, new.payload);
        assert_eq!(queued.status, JobStatus::Queued);
        assert_eq!((queued.attempts, queued.max_attempts), (0, 3));
        assert_eq!((queued.run_at, queued.created_at), (t0(), t0()));
        assert_eq!(queued.started_at, None);
        assert_eq!(queued.finished_at, None);
        assert_eq!(queued.locked_by, None);
        assert_eq!(queued.lease_until, None);
        assert_eq!(queued.last_error, None);
        assert!(queued.compare_ids.is_empty());
        assert_eq!(queued.superseded_by, None);

        let at = after(t0(), seconds(5));
        let claimed = store
            .claim_job("w1", LEASE, at, NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, enqueued.job_id);
        assert_eq!(claimed.status, JobStatus::Running);
        assert_eq!(claimed.attempts, 1);
        assert_eq!(claimed.locked_by.as_deref(), Some("w1"));
        assert_eq!(claimed.lease_until, Some(after(at, LEASE)));
        assert_eq!(claimed.started_at, Some(at));
        assert_eq!(claimed.payload, new.payload);
        assert_eq!(store.get_job(claimed.id).await.unwrap().unwrap(), claimed);
        // Nothing else to claim.
        assert_eq!(
            store.claim_job("w2", LEASE, at, NO_LIMITS).await.unwrap(),
            None
        );

        let later = after(t0(), seconds(50));
        assert_eq!(
            store
                .heartbeat_job(claimed.id, "w1", LEASE, later)
                .await
                .unwrap(),
            JobLease::Held
        );
        let renewed = store.get_job(claimed.id).await.unwrap().unwrap();
        assert_eq!(renewed.lease_until, Some(after(later, LEASE)));

        let done_at = after(t0(), seconds(70));
        let ids = vec!["a".repeat(64), "b".repeat(64)];
        assert!(
            store
                .complete_job(claimed.id, "w1", ids.clone(), done_at)
                .await
                .unwrap()
        );
        let done = store.get_job(claimed.id).await.unwrap().unwrap();
        assert_eq!(done.status, JobStatus::Succeeded);
        assert_eq!(done.compare_ids, ids);
        assert_eq!(done.finished_at, Some(done_at));
        assert_eq!(done.lease_until, None);
        assert_eq!(done.locked_by.as_deref(), Some("w1"));
        assert_eq!(done.started_at, Some(at));
        assert_eq!(
            store.latest_job(&key(PR1)).await.unwrap(),
            Some(done.clone())
        );

        // Completed once only; the lease is gone.
        assert!(
            !store
                .complete_job(claimed.id, "w1", vec![], done_at)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .heartbeat_job(claimed.id, "w1", LEASE, done_at)
                .await
                .unwrap(),
            JobLease::Lost
        );
        assert_eq!(store.get_job(claimed.id).await.unwrap().unwrap(), done);
        assert_eq!(
            store
                .claim_job("w2", LEASE, done_at, NO_LIMITS)
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.queue_stats().await.unwrap(), QueueStats::default());
    }
}

#[tokio::test]
async fn unknown_jobs() {
    for db in databases().await {
        let store = db.open().await;
        let missing: JobId = "4242".parse().unwrap();
        assert_eq!(store.get_job(missing).await.unwrap(), None);
        assert_eq!(store.latest_job(&key(PR1)).await.unwrap(), None);
        assert_eq!(
            store
                .heartbeat_job(missing, "w1", LEASE, t0())
                .await
                .unwrap(),
            JobLease::Lost
        );
        assert!(
            !store
                .complete_job(missing, "w1", vec![], t0())
                .await
                .unwrap()
        );
        let err = store
            .fail_job(missing, "w1", "boom".into(), None, t0())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::NotFound { what: "job", id } if id == "4242"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "no job 4242");
        assert!(
            store
                .cancel_jobs(&key(PR1), "closed".into(), t0())
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.queue_stats().await.unwrap(), QueueStats::default());
    }
}

#[tokio::test]
async fn the_same_key_and_revision_is_coalesced_while_active() {
    for db in databases().await {
        let store = db.open().await;
        let first = store
            .enqueue_job(job(PR1, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        let mut again = job(PR1, "sha-a", after(t0(), seconds(1)));
        again.payload = b"{\"redelivered\":true}".to_vec();
        let second = store.enqueue_job(again, NO_LIMITS).await.unwrap();
        assert!(second.coalesced);
        assert_eq!(second.job_id, first.job_id);
        assert_eq!(second.status, JobStatus::Queued);
        assert!(second.superseded.is_empty());
        assert_eq!(db.scalar("SELECT COUNT(*) FROM jobs").await, 1);
        // The first enqueue's payload and times stay.
        let stored = store.get_job(first.job_id).await.unwrap().unwrap();
        assert_eq!(stored.payload, job(PR1, "sha-a", t0()).payload);
        assert_eq!(stored.created_at, t0());

        // Also while it runs.
        store
            .claim_job("w1", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        let third = store
            .enqueue_job(job(PR1, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        assert!(third.coalesced);
        assert_eq!(third.job_id, first.job_id);
        assert_eq!(third.status, JobStatus::Running);

        // Another key with the same revision is another job.
        let other = store
            .enqueue_job(job(PR2, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        assert!(!other.coalesced);
        assert_ne!(other.job_id, first.job_id);

        // Once finished, the same revision is enqueued anew.
        assert!(
            store
                .complete_job(first.job_id, "w1", vec![], t0())
                .await
                .unwrap()
        );
        let rerun = store
            .enqueue_job(job(PR1, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        assert!(!rerun.coalesced);
        assert!(rerun.job_id > other.job_id);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM jobs").await, 3);
    }
}

#[tokio::test]
async fn a_new_revision_supersedes_a_queued_job() {
    for db in databases().await {
        let store = db.open().await;
        let old = store
            .enqueue_job(job(PR1, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        let unrelated = store
            .enqueue_job(job(PR2, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        let at = after(t0(), seconds(10));
        let new = store
            .enqueue_job(job(PR1, "sha-b", at), NO_LIMITS)
            .await
            .unwrap();
        assert!(!new.coalesced);
        assert_eq!(new.superseded, [old.job_id]);
        assert_eq!(new.status, JobStatus::Queued);

        let superseded = store.get_job(old.job_id).await.unwrap().unwrap();
        assert_eq!(superseded.status, JobStatus::Superseded);
        assert_eq!(superseded.superseded_by, Some(new.job_id));
        assert_eq!(superseded.finished_at, Some(at));
        assert_eq!(
            store
                .get_job(unrelated.job_id)
                .await
                .unwrap()
                .unwrap()
                .status,
            JobStatus::Queued
        );
        assert_eq!(
            store.latest_job(&key(PR1)).await.unwrap().unwrap().id,
            new.job_id
        );

        // Going back to the first revision supersedes again: it is a new trigger.
        let back = store
            .enqueue_job(job(PR1, "sha-a", at), NO_LIMITS)
            .await
            .unwrap();
        assert!(!back.coalesced);
        assert_eq!(back.superseded, [new.job_id]);

        let mut claimed = Vec::new();
        while let Some(j) = store.claim_job("w1", LEASE, at, NO_LIMITS).await.unwrap() {
            claimed.push(j.id);
        }
        assert_eq!(claimed, [unrelated.job_id, back.job_id]);
        assert_eq!(
            store.queue_stats().await.unwrap(),
            QueueStats {
                queued: 0,
                deferred: 0,
                running: 2
            }
        );
    }
}

#[tokio::test]
async fn a_new_revision_supersedes_a_running_job() {
    for db in databases().await {
        let store = db.open().await;
        let old = store
            .enqueue_job(job(PR1, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        let running = store
            .claim_job("w1", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(running.id, old.job_id);

        let at = after(t0(), seconds(10));
        let new = store
            .enqueue_job(job(PR1, "sha-b", at), NO_LIMITS)
            .await
            .unwrap();
        assert_eq!(new.superseded, [old.job_id]);
        assert_eq!(new.status, JobStatus::Queued);
        let superseded = store.get_job(old.job_id).await.unwrap().unwrap();
        assert_eq!(superseded.status, JobStatus::Superseded);
        assert_eq!(superseded.superseded_by, Some(new.job_id));
        // Still held by its worker, which has not heard yet.
        assert_eq!(superseded.finished_at, None);
        assert_eq!(superseded.lease_until, Some(after(t0(), LEASE)));
        assert_eq!(superseded.locked_by.as_deref(), Some("w1"));

        // One worker per key: the new job waits for the old worker.
        assert_eq!(
            store.claim_job("w2", LEASE, at, NO_LIMITS).await.unwrap(),
            None
        );

        let heard = after(t0(), seconds(20));
        assert_eq!(
            store
                .heartbeat_job(old.job_id, "w1", LEASE, heard)
                .await
                .unwrap(),
            JobLease::Superseded
        );
        let released = store.get_job(old.job_id).await.unwrap().unwrap();
        assert_eq!(released.status, JobStatus::Superseded);
        assert_eq!(released.lease_until, None);
        assert_eq!(released.finished_at, Some(heard));
        // Asking again gives the same answer.
        assert_eq!(
            store
                .heartbeat_job(old.job_id, "w1", LEASE, heard)
                .await
                .unwrap(),
            JobLease::Superseded
        );
        // Another worker is not told about a job that is not its own.
        assert_eq!(
            store
                .heartbeat_job(old.job_id, "w2", LEASE, heard)
                .await
                .unwrap(),
            JobLease::Lost
        );

        // Now the new job runs.
        let next = store
            .claim_job("w2", LEASE, heard, NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.id, new.job_id);

        // The old worker cannot complete or fail the superseded job.
        assert!(
            !store
                .complete_job(old.job_id, "w1", vec!["x".into()], heard)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .fail_job(old.job_id, "w1", "late".into(), Some(heard), heard)
                .await
                .unwrap(),
            JobStatus::Superseded
        );
        let after_all = store.get_job(old.job_id).await.unwrap().unwrap();
        assert_eq!(after_all, released);
        assert!(
            store
                .complete_job(new.job_id, "w2", vec![], heard)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn completing_a_superseded_job_releases_its_key() {
    for db in databases().await {
        let store = db.open().await;
        let old = store
            .enqueue_job(job(PR1, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        store
            .claim_job("w1", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        let new = store
            .enqueue_job(job(PR1, "sha-b", t0()), NO_LIMITS)
            .await
            .unwrap();
        assert_eq!(
            store.claim_job("w2", LEASE, t0(), NO_LIMITS).await.unwrap(),
            None
        );

        // The old worker finishes before any heartbeat: not recorded, but it lets go.
        let at = after(t0(), seconds(3));
        assert!(
            !store
                .complete_job(old.job_id, "w1", vec!["x".into()], at)
                .await
                .unwrap()
        );
        let old_job = store.get_job(old.job_id).await.unwrap().unwrap();
        assert_eq!(old_job.status, JobStatus::Superseded);
        assert!(old_job.compare_ids.is_empty());
        assert_eq!(old_job.finished_at, Some(at));
        assert_eq!(old_job.lease_until, None);
        let next = store
            .claim_job("w2", LEASE, at, NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.id, new.job_id);
    }
}

#[tokio::test]
async fn a_lost_superseded_worker_holds_its_key_until_the_lease_expires() {
    for db in databases().await {
        let store = db.open().await;
        store
            .enqueue_job(job(PR1, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        store
            .claim_job("w1", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        let new = store
            .enqueue_job(job(PR1, "sha-b", t0()), NO_LIMITS)
            .await
            .unwrap();
        // w1 crashed: no heartbeat, no completion.
        let before_expiry = after(t0(), seconds(59));
        assert_eq!(
            store
                .claim_job("w2", LEASE, before_expiry, NO_LIMITS)
                .await
                .unwrap(),
            None
        );
        // The lease end itself still counts as held.
        assert_eq!(
            store
                .claim_job("w2", LEASE, after(t0(), LEASE), NO_LIMITS)
                .await
                .unwrap(),
            None
        );
        let expired = after(t0(), seconds(61));
        let next = store
            .claim_job("w2", LEASE, expired, NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.id, new.job_id);
    }
}

#[tokio::test]
async fn at_most_one_active_job_per_key_is_a_constraint() {
    for db in databases().await {
        let store = db.open().await;
        store
            .enqueue_job(job(PR1, "sha-a", t0()), NO_LIMITS)
            .await
            .unwrap();
        // Behind the store's back: a second active job of the key is refused.
        let sql = "INSERT INTO jobs (kind, job_key, repo, revision, payload, status, \
                   max_attempts, run_at, created_at, key_identity, repo_identity) \
                   VALUES ('push', $1, 'acme/charts', 'sha-b', $2, 'queued', 1, 0, 0, $1, \
                   'acme/charts')";
        let refused = insert_raw(db.backend, &db.url, sql).await;
        assert!(refused.is_err(), "a second active job was inserted");
    }
}

async fn insert_raw(backend: store::Backend, url: &str, sql: &'static str) -> Result<(), String> {
    use sqlx::Connection as _;
    macro_rules! run {
        ($conn:ty) => {{
            let mut conn = <$conn>::connect(url).await.unwrap();
            let done = sqlx::query(sql)
                .bind(PR1)
                .bind(&b"{}"[..])
                .execute(&mut conn)
                .await;
            conn.close().await.unwrap();
            done.map(drop).map_err(|e| e.to_string())
        }};
    }
    match backend {
        store::Backend::Sqlite => run!(sqlx::SqliteConnection),
        store::Backend::Postgres => run!(sqlx::PgConnection),
    }
}

#[tokio::test]
async fn the_per_repository_limit_defers_and_holds_back_claims() {
    for db in databases().await {
        let store = db.open().await;
        let limits = QueueLimits {
            max_queued: 100,
            max_active_per_repo: 2,
        };
        let a = store
            .enqueue_job(job(PR1, "a", t0()), limits)
            .await
            .unwrap();
        let b = store
            .enqueue_job(job(PR2, "b", t0()), limits)
            .await
            .unwrap();
        let c = store
            .enqueue_job(job(PR3, "c", t0()), limits)
            .await
            .unwrap();
        let other = store
            .enqueue_job(job("other/repo#pr/1", "o", t0()), limits)
            .await
            .unwrap();
        assert_eq!(
            [a.status, b.status, c.status, other.status],
            [
                JobStatus::Queued,
                JobStatus::Queued,
                JobStatus::Deferred,
                JobStatus::Queued
            ]
        );
        // Deferral is visible in the job and the stats.
        assert_eq!(
            store.latest_job(&key(PR3)).await.unwrap().unwrap().status,
            JobStatus::Deferred
        );
        assert_eq!(
            store.queue_stats().await.unwrap(),
            QueueStats {
                queued: 3,
                deferred: 1,
                running: 0
            }
        );

        let claim = || store.claim_job("w", LEASE, t0(), limits);
        assert_eq!(claim().await.unwrap().unwrap().id, a.job_id);
        assert_eq!(claim().await.unwrap().unwrap().id, b.job_id);
        // acme/charts has two running: its deferred job waits, other repositories do not.
        assert_eq!(claim().await.unwrap().unwrap().id, other.job_id);
        assert_eq!(claim().await.unwrap(), None);
        assert_eq!(
            store.queue_stats().await.unwrap(),
            QueueStats {
                queued: 0,
                deferred: 1,
                running: 3
            }
        );
        // Enqueueing into the full repository defers too.
        let d = store
            .enqueue_job(job("acme/charts#push/main", "d", t0()), limits)
            .await
            .unwrap();
        assert_eq!(d.status, JobStatus::Deferred);

        assert!(
            store
                .complete_job(a.job_id, "w", vec![], t0())
                .await
                .unwrap()
        );
        let next = claim().await.unwrap().unwrap();
        assert_eq!((next.id, next.status), (c.job_id, JobStatus::Running));
        assert_eq!(claim().await.unwrap(), None);
        assert!(
            store
                .complete_job(b.job_id, "w", vec![], t0())
                .await
                .unwrap()
        );
        assert_eq!(claim().await.unwrap().unwrap().id, d.job_id);
    }
}

#[tokio::test]
async fn a_full_queue_defers_until_there_is_room() {
    for db in databases().await {
        let store = db.open().await;
        let limits = QueueLimits {
            max_queued: 2,
            max_active_per_repo: 100,
        };
        let statuses = {
            let mut s = Vec::new();
            for (n, key) in [PR1, PR2, PR3].into_iter().enumerate() {
                let at = after(t0(), seconds(n as u64));
                s.push(store.enqueue_job(job(key, "x", at), limits).await.unwrap());
            }
            s
        };
        assert_eq!(
            statuses.iter().map(|o| o.status).collect::<Vec<_>>(),
            [JobStatus::Queued, JobStatus::Queued, JobStatus::Deferred]
        );
        // Once fewer than two are queued, the deferred job takes its turn in run_at order.
        let now = after(t0(), minutes(1));
        let mut order = Vec::new();
        while let Some(j) = store.claim_job("w", LEASE, now, limits).await.unwrap() {
            order.push(j.id);
        }
        assert_eq!(order, statuses.iter().map(|o| o.job_id).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn deferred_jobs_wait_while_the_queue_is_full() {
    for db in databases().await {
        let store = db.open().await;
        let limits = QueueLimits {
            max_queued: 1,
            max_active_per_repo: 100,
        };
        // A queued job waiting for its retry keeps the queue full.
        let x = store
            .enqueue_job(job(PR1, "x", t0()), limits)
            .await
            .unwrap();
        store
            .claim_job("w", LEASE, t0(), limits)
            .await
            .unwrap()
            .unwrap();
        let retry_at = after(t0(), minutes(10));
        assert_eq!(
            store
                .fail_job(x.job_id, "w", "rate limited".into(), Some(retry_at), t0())
                .await
                .unwrap(),
            JobStatus::Queued
        );
        let y = store
            .enqueue_job(job(PR2, "y", after(t0(), minutes(1))), limits)
            .await
            .unwrap();
        assert_eq!(y.status, JobStatus::Deferred);
        assert_eq!(
            store
                .claim_job("w", LEASE, after(t0(), minutes(5)), limits)
                .await
                .unwrap(),
            None
        );
        // Without the limit, it would have run.
        let at = after(t0(), minutes(5));
        assert_eq!(
            store
                .claim_job("w", LEASE, at, NO_LIMITS)
                .await
                .unwrap()
                .map(|j| j.id),
            Some(y.job_id)
        );
        assert!(store.complete_job(y.job_id, "w", vec![], at).await.unwrap());
        // The retry comes due and runs; the queue stays within its limit.
        let x_again = store
            .claim_job("w", LEASE, retry_at, limits)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((x_again.id, x_again.attempts), (x.job_id, 2));
    }
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_by_another_worker() {
    for db in databases().await {
        let store = db.open().await;
        let enqueued = store
            .enqueue_job(job(PR1, "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        let first = store
            .claim_job("w1", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.attempts, 1);
        // Live lease: not claimable.
        assert_eq!(
            store
                .claim_job("w2", LEASE, after(t0(), seconds(30)), NO_LIMITS)
                .await
                .unwrap(),
            None
        );
        // w1 crashed; its lease expires and w2 takes over.
        let later = after(t0(), minutes(2));
        let second = store
            .claim_job("w2", LEASE, later, NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.id, enqueued.job_id);
        assert_eq!(second.attempts, 2);
        assert_eq!(second.locked_by.as_deref(), Some("w2"));
        assert_eq!(second.started_at, Some(t0()));
        assert_eq!(second.lease_until, Some(after(later, LEASE)));

        // w1 comes back: it lost the job and cannot complete or fail it.
        assert_eq!(
            store
                .heartbeat_job(first.id, "w1", LEASE, later)
                .await
                .unwrap(),
            JobLease::Lost
        );
        assert!(
            !store
                .complete_job(first.id, "w1", vec!["x".into()], later)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .fail_job(first.id, "w1", "late".into(), None, later)
                .await
                .unwrap(),
            JobStatus::Running
        );
        assert_eq!(store.get_job(first.id).await.unwrap().unwrap(), second);
        assert!(
            store
                .complete_job(first.id, "w2", vec!["y".into()], later)
                .await
                .unwrap()
        );
        let done = store.get_job(first.id).await.unwrap().unwrap();
        assert_eq!(done.status, JobStatus::Succeeded);
        assert_eq!(done.compare_ids, ["y"]);
    }
}

#[tokio::test]
async fn an_expired_lease_no_one_took_over_is_still_held() {
    for db in databases().await {
        let store = db.open().await;
        store
            .enqueue_job(job(PR1, "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        let j = store
            .claim_job("w1", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        let late = after(t0(), minutes(3));
        assert_eq!(
            store.heartbeat_job(j.id, "w1", LEASE, late).await.unwrap(),
            JobLease::Held
        );
        assert_eq!(
            store
                .claim_job("w2", LEASE, after(late, seconds(30)), NO_LIMITS)
                .await
                .unwrap(),
            None
        );
        assert!(
            store
                .complete_job(j.id, "w1", vec![], after(late, minutes(5)))
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn a_job_whose_worker_is_lost_max_attempts_times_fails() {
    for db in databases().await {
        let store = db.open().await;
        let mut new = job(PR1, "a", t0());
        new.max_attempts = 2;
        let enqueued = store.enqueue_job(new, NO_LIMITS).await.unwrap();
        let waiting = store
            .enqueue_job(job(PR2, "b", t0()), NO_LIMITS)
            .await
            .unwrap();
        let first = store
            .claim_job("w1", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.id, enqueued.job_id);
        let t1 = after(t0(), minutes(2));
        let second = store
            .claim_job("w2", LEASE, t1, NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((second.id, second.attempts), (enqueued.job_id, 2));

        // Lost again with no attempts left: failed, and the claim goes on to the next job.
        let t2 = after(t0(), minutes(4));
        let next = store
            .claim_job("w3", LEASE, t2, NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.id, waiting.job_id);
        let failed = store.get_job(enqueued.job_id).await.unwrap().unwrap();
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(failed.attempts, 2);
        assert_eq!(failed.finished_at, Some(t2));
        assert_eq!(failed.lease_until, None);
        let error = failed.last_error.unwrap();
        assert!(
            error.starts_with("worker lost")
                && error.contains("w2")
                && error.ends_with("after 2 attempts"),
            "{error}"
        );
        assert_eq!(
            store
                .heartbeat_job(enqueued.job_id, "w2", LEASE, t2)
                .await
                .unwrap(),
            JobLease::Lost
        );
        assert_eq!(
            store.claim_job("w3", LEASE, t2, NO_LIMITS).await.unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn failed_attempts_are_retried_at_retry_at_in_run_at_order() {
    for db in databases().await {
        let store = db.open().await;
        let first = store
            .enqueue_job(job(PR1, "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        store
            .claim_job("w1", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        let retry_at = after(t0(), minutes(5));
        assert_eq!(
            store
                .fail_job(
                    first.job_id,
                    "w1",
                    "github 502".into(),
                    Some(retry_at),
                    t0()
                )
                .await
                .unwrap(),
            JobStatus::Queued
        );
        let queued = store.get_job(first.job_id).await.unwrap().unwrap();
        assert_eq!(queued.status, JobStatus::Queued);
        assert_eq!(queued.run_at, retry_at);
        assert_eq!(queued.last_error.as_deref(), Some("github 502"));
        assert_eq!(queued.lease_until, None);
        assert_eq!(queued.attempts, 1);
        assert_eq!(queued.finished_at, None);
        // The failed worker cannot fail it again.
        assert_eq!(
            store
                .fail_job(first.job_id, "w1", "again".into(), None, t0())
                .await
                .unwrap(),
            JobStatus::Queued
        );

        // Not due yet.
        assert_eq!(
            store
                .claim_job("w1", LEASE, after(t0(), minutes(1)), NO_LIMITS)
                .await
                .unwrap(),
            None
        );
        // A job enqueued before the retry time runs first.
        let second = store
            .enqueue_job(job(PR2, "b", after(t0(), minutes(2))), NO_LIMITS)
            .await
            .unwrap();
        let third = store
            .enqueue_job(job(PR3, "c", after(t0(), minutes(6))), NO_LIMITS)
            .await
            .unwrap();
        let now = after(t0(), minutes(7));
        let mut order = Vec::new();
        while let Some(j) = store.claim_job("w2", LEASE, now, NO_LIMITS).await.unwrap() {
            order.push((j.id, j.attempts));
        }
        assert_eq!(
            order,
            [(second.job_id, 1), (first.job_id, 2), (third.job_id, 1)]
        );
        assert!(
            store
                .complete_job(third.job_id, "w2", vec![], now)
                .await
                .unwrap()
        );

        // Attempt 2 fails with a retry: queued again; attempt 3 is the last one.
        let retry = Some(after(now, minutes(1)));
        assert_eq!(
            store
                .fail_job(first.job_id, "w2", "github 502".into(), retry, now)
                .await
                .unwrap(),
            JobStatus::Queued
        );
        let last = store
            .claim_job("w3", LEASE, after(now, minutes(1)), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((last.id, last.attempts), (first.job_id, 3));
        let end = after(now, minutes(2));
        assert_eq!(
            store
                .fail_job(first.job_id, "w3", "github 502 again".into(), retry, end)
                .await
                .unwrap(),
            JobStatus::Failed
        );
        let failed = store.get_job(first.job_id).await.unwrap().unwrap();
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(failed.finished_at, Some(end));
        assert_eq!(failed.last_error.as_deref(), Some("github 502 again"));

        // Without a retry time, a failure is final at once.
        assert_eq!(
            store
                .fail_job(second.job_id, "w2", "chart not found".into(), None, end)
                .await
                .unwrap(),
            JobStatus::Failed
        );
        assert_eq!(
            store.claim_job("w3", LEASE, end, NO_LIMITS).await.unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn a_retry_at_is_never_due_early() {
    for db in databases().await {
        let store = db.open().await;
        let j = store
            .enqueue_job(job(PR1, "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        store
            .claim_job("w", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        let retry_at = crate::harness::ts("2025-06-01T12:05:00.0004Z");
        store
            .fail_job(j.job_id, "w", "later".into(), Some(retry_at), t0())
            .await
            .unwrap();
        let just_before = crate::harness::ts("2025-06-01T12:05:00.0003Z");
        assert_eq!(
            store
                .claim_job("w", LEASE, just_before, NO_LIMITS)
                .await
                .unwrap(),
            None
        );
        let at = crate::harness::ts("2025-06-01T12:05:00.001Z");
        assert!(
            store
                .claim_job("w", LEASE, at, NO_LIMITS)
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test]
async fn cancel_stops_queued_and_running_jobs_of_a_key() {
    for db in databases().await {
        let store = db.open().await;
        let running = store
            .enqueue_job(job(PR1, "a", t0()), NO_LIMITS)
            .await
            .unwrap();
        store
            .claim_job("w1", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        let queued = store
            .enqueue_job(job(PR2, "b", t0()), NO_LIMITS)
            .await
            .unwrap();
        let kept = store
            .enqueue_job(job(PR3, "c", t0()), NO_LIMITS)
            .await
            .unwrap();

        let at = after(t0(), seconds(5));
        assert_eq!(
            store
                .cancel_jobs(&key(PR2), "pull request closed".into(), at)
                .await
                .unwrap(),
            [queued.job_id]
        );
        let cancelled = store.get_job(queued.job_id).await.unwrap().unwrap();
        assert_eq!(cancelled.status, JobStatus::Cancelled);
        assert_eq!(cancelled.finished_at, Some(at));
        assert_eq!(cancelled.last_error.as_deref(), Some("pull request closed"));

        assert_eq!(
            store
                .cancel_jobs(&key(PR1), "pull request closed".into(), at)
                .await
                .unwrap(),
            [running.job_id]
        );
        let cancelled = store.get_job(running.job_id).await.unwrap().unwrap();
        assert_eq!(cancelled.status, JobStatus::Cancelled);
        assert_eq!(cancelled.finished_at, None);
        // The running job's worker learns at its next heartbeat.
        let heard = after(t0(), seconds(20));
        assert_eq!(
            store
                .heartbeat_job(running.job_id, "w1", LEASE, heard)
                .await
                .unwrap(),
            JobLease::Cancelled
        );
        assert!(
            !store
                .complete_job(running.job_id, "w1", vec![], heard)
                .await
                .unwrap()
        );
        let cancelled = store.get_job(running.job_id).await.unwrap().unwrap();
        assert_eq!(cancelled.status, JobStatus::Cancelled);
        assert_eq!(cancelled.finished_at, Some(heard));

        // Nothing active left to cancel; other keys untouched.
        assert!(
            store
                .cancel_jobs(&key(PR1), "again".into(), heard)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .claim_job("w2", LEASE, heard, NO_LIMITS)
                .await
                .unwrap()
                .map(|j| j.id),
            Some(kept.job_id)
        );
        // Reopened: the same revision is a new job.
        let reopened = store
            .enqueue_job(job(PR2, "b", heard), NO_LIMITS)
            .await
            .unwrap();
        assert!(!reopened.coalesced);
        assert!(reopened.superseded.is_empty());
    }
}

#[tokio::test]
async fn claims_take_the_oldest_run_at_first_then_the_lowest_id() {
    for db in databases().await {
        let store = db.open().await;
        let mut ids = Vec::new();
        for (key, at) in [(PR1, 3), (PR2, 1), (PR3, 1), ("acme/charts#pr/4", 10)] {
            let enqueued = store
                .enqueue_job(job(key, "x", after(t0(), minutes(at))), NO_LIMITS)
                .await
                .unwrap();
            ids.push(enqueued.job_id);
        }
        let now = after(t0(), minutes(5));
        let mut order = Vec::new();
        while let Some(j) = store.claim_job("w", LEASE, now, NO_LIMITS).await.unwrap() {
            order.push(j.id);
        }
        // The job due at +10 min is not claimed at +5 min.
        assert_eq!(order, [ids[1], ids[2], ids[0]]);
        assert_eq!(
            store.queue_stats().await.unwrap(),
            QueueStats {
                queued: 1,
                deferred: 0,
                running: 3
            }
        );
    }
}

#[tokio::test]
async fn queue_stats_count_active_jobs_by_status() {
    for db in databases().await {
        let store = db.open().await;
        let limits = QueueLimits {
            max_queued: 3,
            max_active_per_repo: 100,
        };
        let mut ids = Vec::new();
        for n in 0..5 {
            let key = format!("acme/charts#pr/{n}");
            ids.push(
                store
                    .enqueue_job(job(&key, "x", t0()), limits)
                    .await
                    .unwrap()
                    .job_id,
            );
        }
        assert_eq!(
            store.queue_stats().await.unwrap(),
            QueueStats {
                queued: 3,
                deferred: 2,
                running: 0
            }
        );
        let j = store
            .claim_job("w", LEASE, t0(), limits)
            .await
            .unwrap()
            .unwrap();
        store
            .claim_job("w", LEASE, t0(), limits)
            .await
            .unwrap()
            .unwrap();
        assert!(store.complete_job(j.id, "w", vec![], t0()).await.unwrap());
        store
            .cancel_jobs(&key("acme/charts#pr/4"), "closed".into(), t0())
            .await
            .unwrap();
        assert_eq!(
            store.queue_stats().await.unwrap(),
            QueueStats {
                queued: 1,
                deferred: 1,
                running: 1
            }
        );
    }
}

#[tokio::test]
async fn finished_jobs_are_purged_by_age_and_active_ones_never() {
    for db in databases().await {
        let store = db.open().await;
        let w = "worker";
        let enqueue = async |key: &str, rev: &str, at, limits| {
            store
                .enqueue_job(job(key, rev, at), limits)
                .await
                .unwrap()
                .job_id
        };
        let claim = async |at| {
            store
                .claim_job(w, LEASE, at, NO_LIMITS)
                .await
                .unwrap()
                .unwrap()
                .id
        };
        let t1 = after(t0(), minutes(1));

        // Finished at t1: succeeded, failed, superseded (while queued), cancelled.
        let succeeded = enqueue(PR1, "a", t0(), NO_LIMITS).await;
        assert_eq!(claim(t0()).await, succeeded);
        assert!(store.complete_job(succeeded, w, vec![], t1).await.unwrap());
        let failed = enqueue(PR2, "a", t0(), NO_LIMITS).await;
        assert_eq!(claim(t0()).await, failed);
        let status = store
            .fail_job(failed, w, "boom".into(), None, t1)
            .await
            .unwrap();
        assert_eq!(status, JobStatus::Failed);
        let superseded = enqueue(PR3, "a", t0(), NO_LIMITS).await;
        let queued = enqueue(PR3, "b", t1, NO_LIMITS).await;
        let cancelled = enqueue("acme/charts#pr/5", "a", t0(), NO_LIMITS).await;
        store
            .cancel_jobs(&key("acme/charts#pr/5"), "closed".into(), t1)
            .await
            .unwrap();
        // Superseded while running: no finish time, its lease (until t0 + 60 s) decides.
        let abandoned = enqueue("acme/charts#pr/7", "a", t0(), NO_LIMITS).await;
        assert_eq!(claim(t0()).await, abandoned);
        let superseding = enqueue("acme/charts#pr/7", "b", t1, NO_LIMITS).await;
        // Active jobs, however old: running (lease long expired), deferred.
        let running = enqueue("acme/charts#pr/4", "a", t0(), NO_LIMITS).await;
        assert_eq!(claim(t0()).await, running);
        let full = QueueLimits {
            max_queued: 0,
            max_active_per_repo: 100,
        };
        let deferred = enqueue("other/repo#pr/1", "a", t0(), full).await;
        assert_eq!(
            store.get_job(deferred).await.unwrap().unwrap().status,
            JobStatus::Deferred
        );

        // A delivery linked to a job that goes keeps its record.
        store
            .record_delivery(store::NewDelivery {
                id: delivery_id("d-1"),
                event: "pull_request".into(),
                action: None,
                repo: Some(repo("acme/charts")),
                received_at: t0(),
            })
            .await
            .unwrap();
        store
            .link_delivery(&delivery_id("d-1"), succeeded)
            .await
            .unwrap();

        // Nothing finished before t0 + 30 s (the abandoned job's lease still runs then).
        assert_eq!(
            store
                .purge_jobs_finished_before(after(t0(), seconds(30)))
                .await
                .unwrap(),
            0
        );
        let later = after(t0(), minutes(10));
        assert_eq!(store.purge_jobs_finished_before(later).await.unwrap(), 5);
        for gone in [succeeded, failed, superseded, cancelled, abandoned] {
            assert_eq!(store.get_job(gone).await.unwrap(), None, "{gone}");
        }
        for (kept, status) in [
            (queued, JobStatus::Queued),
            (superseding, JobStatus::Queued),
            (running, JobStatus::Running),
            (deferred, JobStatus::Deferred),
        ] {
            let job = store.get_job(kept).await.unwrap().unwrap();
            assert_eq!(job.status, status, "{kept}");
        }
        assert_eq!(store.purge_jobs_finished_before(later).await.unwrap(), 0);
        let record = store
            .record_delivery(store::NewDelivery {
                id: delivery_id("d-1"),
                event: "pull_request".into(),
                action: None,
                repo: Some(repo("acme/charts")),
                received_at: later,
            })
            .await
            .unwrap();
        assert!(!record.first_seen);
        assert_eq!(record.job_id, None);
        // The queue goes on: the running job completes, the kept ones are claimed.
        assert!(store.complete_job(running, w, vec![], later).await.unwrap());
        assert_eq!(store.queue_stats().await.unwrap().running, 0);
    }
}

/// Operators list jobs newest first, by status and by repository, a page at a time.
#[tokio::test]
async fn jobs_are_listed_newest_first_filtered_and_paged() {
    use store::JobQuery;
    for db in databases().await {
        let store = db.open().await;
        let a = store
            .enqueue_job(job(PR1, "a", t0()), NO_LIMITS)
            .await
            .unwrap()
            .job_id;
        let b = store
            .enqueue_job(job(PR2, "b", t0()), NO_LIMITS)
            .await
            .unwrap()
            .job_id;
        let c = store
            .enqueue_job(job("other/repo#pr/1", "c", t0()), NO_LIMITS)
            .await
            .unwrap()
            .job_id;
        let claimed = store
            .claim_job("w", LEASE, t0(), NO_LIMITS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, a);
        let ids = |jobs: Vec<store::Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<JobId>>();
        let all = store.list_jobs(JobQuery::default()).await.unwrap();
        assert_eq!(ids(all), [c, b, a], "{:?}", db.backend);
        let running = JobQuery {
            status: Some(JobStatus::Running),
            ..JobQuery::default()
        };
        let running = store.list_jobs(running).await.unwrap();
        assert_eq!(running.len(), 1);
        assert_eq!((running[0].id, running[0].attempts), (a, 1));
        let acme = JobQuery {
            repo: Some(repo("acme/charts")),
            limit: 1,
            offset: 1,
            ..JobQuery::default()
        };
        assert_eq!(ids(store.list_jobs(acme).await.unwrap()), [a]);
        let none = JobQuery {
            status: Some(JobStatus::Failed),
            repo: Some(repo("acme/charts")),
            ..JobQuery::default()
        };
        assert!(store.list_jobs(none).await.unwrap().is_empty());
    }
}

/// A job of `key` (written with the repository's name) in the repository with id `repo_id`.
fn job_in(repo_id: u64, text: &str, revision: &str) -> store::NewJob {
    let mut new = job(text, revision, t0());
    new.key = key(text).with_repo_id(repo_id);
    new
}

#[tokio::test]
async fn a_renamed_repository_keeps_its_jobs_key() {
    for db in databases().await {
        let store = db.open().await;
        let old = store
            .enqueue_job(job_in(7, "acme/charts#pr/1", "sha-a"), NO_LIMITS)
            .await
            .unwrap();
        // Renamed, then the same head again: one job, under the new name from now on.
        let again = store
            .enqueue_job(job_in(7, "acme/helm-charts#pr/1", "sha-a"), NO_LIMITS)
            .await
            .unwrap();
        assert!(again.coalesced);
        assert_eq!(again.job_id, old.job_id);
        let renamed = store.get_job(old.job_id).await.unwrap().unwrap();
        assert_eq!(renamed.repo, repo("acme/helm-charts"));
        assert_eq!(renamed.key.to_string(), "acme/helm-charts#pr/1");
        assert_eq!(renamed.key.repo_id(), Some(7));
        assert_eq!(renamed.payload, job(PR1, "sha-a", t0()).payload);

        // A new head under yet another name supersedes it.
        let new = store
            .enqueue_job(job_in(7, "octo/charts#pr/1", "sha-b"), NO_LIMITS)
            .await
            .unwrap();
        assert!(!new.coalesced);
        assert_eq!(new.superseded, [old.job_id]);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM jobs").await, 2);
        let active = store
            .list_jobs(store::JobQuery::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.status.is_active())
            .map(|j| (j.id, j.repo.to_string()))
            .collect::<Vec<_>>();
        assert_eq!(active, [(new.job_id, "octo/charts".to_owned())]);

        // Any name of the repository finds its latest job, and cancels it.
        for name in ["acme/charts#pr/1", "acme/helm-charts#pr/1"] {
            let latest = store
                .latest_job(&key(name).with_repo_id(7))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(latest.id, new.job_id);
        }
        // Without the id, a name is only the jobs enqueued without one.
        assert_eq!(
            store.latest_job(&key("octo/charts#pr/1")).await.unwrap(),
            None
        );
        let cancelled = store
            .cancel_jobs(&key(PR1).with_repo_id(7), "closed".into(), t0())
            .await
            .unwrap();
        assert_eq!(cancelled, [new.job_id]);
    }
}

#[tokio::test]
async fn another_repository_under_a_reused_name_is_another_key() {
    for db in databases().await {
        let store = db.open().await;
        // acme/charts was renamed away and a new acme/charts created: another id.
        let first = store
            .enqueue_job(job_in(7, PR1, "sha-a"), NO_LIMITS)
            .await
            .unwrap();
        let second = store
            .enqueue_job(job_in(8, PR1, "sha-b"), NO_LIMITS)
            .await
            .unwrap();
        assert!(!second.coalesced);
        assert!(second.superseded.is_empty());
        assert_ne!(first.job_id, second.job_id);
        assert_eq!(store.queue_stats().await.unwrap().queued, 2);
    }
}

#[tokio::test]
async fn the_per_repository_limit_counts_a_repository_under_all_its_names() {
    for db in databases().await {
        let store = db.open().await;
        let limits = QueueLimits {
            max_queued: 100,
            max_active_per_repo: 1,
        };
        let a = store
            .enqueue_job(job_in(7, PR1, "a"), limits)
            .await
            .unwrap();
        let b = store
            .enqueue_job(job_in(7, "acme/renamed#pr/2", "b"), limits)
            .await
            .unwrap();
        let other = store
            .enqueue_job(job_in(8, PR2, "c"), limits)
            .await
            .unwrap();
        assert_eq!(
            [a.status, b.status, other.status],
            [JobStatus::Queued, JobStatus::Deferred, JobStatus::Queued]
        );
        let claim = || store.claim_job("w", LEASE, t0(), limits);
        assert_eq!(claim().await.unwrap().unwrap().id, a.job_id);
        // Repository 7 runs one job already, whatever it is called now.
        assert_eq!(claim().await.unwrap().unwrap().id, other.job_id);
        assert_eq!(claim().await.unwrap(), None);
        assert!(
            store
                .complete_job(a.job_id, "w", vec![], t0())
                .await
                .unwrap()
        );
        let next = claim().await.unwrap().unwrap();
        assert_eq!((next.id, next.repo), (b.job_id, repo("acme/renamed")));
    }
}
