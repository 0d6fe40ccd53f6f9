use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jiff::Timestamp;

use crate::{
    AcceptOutcome, Backend, CheckRunRef, CompareId, DeliveryId, DeliveryRecord, EnqueueOutcome,
    Job, JobId, JobKey, JobLease, JobStatus, ListQuery, NewDelivery, NewJob, NewResult, Popular,
    PopularQuery, Publication, QueueLimits, QueueStats, RepoName, ResultPage, SaveOutcome,
    StoreError, StoredResult,
};

/// The future returned by [`Store`] methods (boxed, so the trait is object safe).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The server's persistence: one implementation per backend, held as `Arc<dyn Store>`.
///
/// Time is always passed in (`now`, `created_at`): the store never reads the clock.
pub trait Store: Send + Sync + 'static {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// The latest applied schema migration version, as read when the store was opened.
    fn schema_version(&self) -> i64;

    /// Checks the database answers (`SELECT 1`); no side effects, for health checks.
    fn ping(&self) -> StoreFuture<'_, ()>;

    /// Stores a compare result, or counts a repeat of a live one.
    ///
    /// Atomic per compare id, also under concurrent saves from several replicas:
    ///
    /// - no row: inserted (`deduplicated: false`, compare count 1);
    /// - a row that has not expired at `created_at`: kept with its document and creation
    ///   time; its expiry becomes the later of the old one and `created_at + ttl` and its
    ///   compare count grows by one (`deduplicated: true`);
    /// - a row that has expired at `created_at`: replaced entirely (`deduplicated: false`).
    ///
    /// Every save also records a compare event for [`Store::popular_charts`].
    fn save_result(&self, result: NewResult) -> StoreFuture<'_, SaveOutcome>;

    /// The result with this id, decompressed; `None` when unknown or expired at `now`.
    fn get_result<'a>(
        &'a self,
        id: &'a CompareId,
        now: Timestamp,
    ) -> StoreFuture<'a, Option<StoredResult>>;

    /// Results unexpired at `query.now`, newest first (then by compare id), filtered and paged.
    fn list_results(&self, query: ListQuery) -> StoreFuture<'_, ResultPage>;

    /// The most compared charts in a time window, from the compare events.
    fn popular_charts(&self, query: PopularQuery) -> StoreFuture<'_, Popular>;

    /// Removes results expired at `now` and compare events older than `events_before`;
    /// returns how many rows were removed in all.
    fn delete_expired(&self, now: Timestamp, events_before: Timestamp) -> StoreFuture<'_, u64>;

    /// Enqueues a job, in one transaction (see the queue rules in the [crate docs](crate#jobs)):
    ///
    /// - an active job of the same key and revision exists: nothing is inserted, that job is
    ///   returned (`coalesced`);
    /// - otherwise the key's active jobs (of other revisions) are superseded by the new job,
    ///   which is [`Queued`](JobStatus::Queued), or [`Deferred`](JobStatus::Deferred) when
    ///   `limits` say the queue or the repository is full.
    fn enqueue_job(&self, job: NewJob, limits: QueueLimits) -> StoreFuture<'_, EnqueueOutcome>;

    /// Claims the next job for `worker`, holding it until `now + lease`; `None` when no job
    /// can be claimed now.
    ///
    /// Takes the oldest `(run_at, id)` of the queued jobs due, the deferred jobs due while
    /// fewer than `limits.max_queued` jobs are queued, and the running jobs whose lease expired
    /// (taken over from a lost worker), leaving out repositories with
    /// `limits.max_active_per_repo` running jobs and keys another job holds. Expired jobs with
    /// no attempts left are failed on the way. Concurrent claims, also from several replicas,
    /// never take the same job.
    fn claim_job<'a>(
        &'a self,
        worker: &'a str,
        lease: Duration,
        now: Timestamp,
        limits: QueueLimits,
    ) -> StoreFuture<'a, Option<Job>>;

    /// Renews `worker`'s lease of a running job to `now + lease`, or reports why it cannot:
    /// the job was superseded or cancelled (the worker should stop; the lease is released, so
    /// the key's next job can start), or it is not the worker's any more ([`JobLease::Lost`]:
    /// stop, publish nothing).
    fn heartbeat_job<'a>(
        &'a self,
        id: JobId,
        worker: &'a str,
        lease: Duration,
        now: Timestamp,
    ) -> StoreFuture<'a, JobLease>;

    /// Marks `worker`'s running job succeeded with the compare results it produced; `true`
    /// when recorded.
    ///
    /// `false`, recording nothing, when the job is not the worker's running job: taken over,
    /// failed, unknown, or superseded or cancelled meanwhile. In the last two cases the worker
    /// lets go of the job (its lease is released and it is finished) if no heartbeat did yet.
    fn complete_job<'a>(
        &'a self,
        id: JobId,
        worker: &'a str,
        compare_ids: Vec<String>,
        now: Timestamp,
    ) -> StoreFuture<'a, bool>;

    /// Records that `worker`'s attempt at a running job failed with `error`, and returns the
    /// job's status after it:
    ///
    /// - [`Queued`](JobStatus::Queued) again, due at `retry_at`, when a retry is asked for and
    ///   attempts are left;
    /// - [`Failed`](JobStatus::Failed) otherwise;
    /// - when the job is not the worker's running job, nothing is recorded and its current
    ///   status is returned (a superseded or cancelled job is let go of, as by
    ///   [`Store::complete_job`]).
    ///
    /// An unknown job is [`StoreError::NotFound`].
    fn fail_job<'a>(
        &'a self,
        id: JobId,
        worker: &'a str,
        error: String,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreFuture<'a, JobStatus>;

    /// Cancels the key's active jobs, recording `reason` as their last error; returns their
    /// ids (ascending). A running one's worker learns at its next heartbeat.
    fn cancel_jobs<'a>(
        &'a self,
        key: &'a JobKey,
        reason: String,
        now: Timestamp,
    ) -> StoreFuture<'a, Vec<JobId>>;

    /// The job with this id.
    fn get_job(&self, id: JobId) -> StoreFuture<'_, Option<Job>>;

    /// The newest job (highest id) of a key, whatever its status.
    fn latest_job<'a>(&'a self, key: &'a JobKey) -> StoreFuture<'a, Option<Job>>;

    /// How many jobs are queued, deferred and running.
    fn queue_stats(&self) -> StoreFuture<'_, QueueStats>;

    /// Records a webhook delivery unless its id was recorded before, then reads back what is
    /// known of it: whether this call recorded it and the status of the job it was linked to.
    /// Concurrent records of one id: exactly one is `first_seen`.
    fn record_delivery(&self, delivery: NewDelivery) -> StoreFuture<'_, DeliveryRecord>;

    /// Links a recorded delivery to the job it enqueued (or was coalesced into). An unknown
    /// delivery or job is [`StoreError::NotFound`].
    fn link_delivery<'a>(&'a self, delivery_id: &'a DeliveryId, job: JobId) -> StoreFuture<'a, ()>;

    /// The whole intake of a webhook delivery in one transaction:
    ///
    /// - records the delivery unless its id was recorded before (as [`Store::record_delivery`];
    ///   concurrent accepts of one id: exactly one is `first_seen`);
    /// - a repeat whose linked job did not fail (or that has no job) is a
    ///   [duplicate](AcceptOutcome::is_duplicate): nothing is enqueued;
    /// - otherwise, given a `job`, enqueues it exactly as [`Store::enqueue_job`] does
    ///   (coalescing, superseding, deferring by `limits`) and links the delivery to the new or
    ///   coalesced job (as [`Store::link_delivery`]).
    ///
    /// Without a `job` the delivery is only recorded, so its repeats are recognized.
    ///
    /// Concurrent calls behave as if made one after another, in some order. Each returns once
    /// its writes are committed, or with an error when they are not (then nothing of it was
    /// recorded); one call failing does not fail the others. (SQLite commits the deliveries
    /// waiting for its writer together, in one transaction.)
    fn accept_delivery(
        &self,
        delivery: NewDelivery,
        job: Option<NewJob>,
        limits: QueueLimits,
    ) -> StoreFuture<'_, AcceptOutcome>;

    /// Removes the deliveries received before `before`; returns how many. Keep at least a week
    /// (GitHub redelivers within days).
    fn delete_deliveries_before(&self, before: Timestamp) -> StoreFuture<'_, u64>;

    /// Removes the jobs that finished before `before`: succeeded, failed, superseded and
    /// cancelled ones whose `finished_at` is older (or, for a superseded or cancelled job whose
    /// worker never let go, whose lease expired before it). Queued, deferred and running jobs
    /// are never removed. Deliveries linked to a removed job keep their record without the
    /// job. Returns how many jobs were removed.
    fn purge_jobs_finished_before(&self, before: Timestamp) -> StoreFuture<'_, u64>;

    /// The ids stored for pull request `number` of `repo`; `None` when nothing was stored.
    fn get_publication<'a>(
        &'a self,
        repo: &'a RepoName,
        number: u64,
    ) -> StoreFuture<'a, Option<Publication>>;

    /// Stores the id of our sticky comment on a pull request (replacing any earlier one,
    /// keeping the check run). An id above `i64::MAX` is [`StoreError::OutOfRange`].
    fn set_comment_id<'a>(
        &'a self,
        repo: &'a RepoName,
        number: u64,
        comment_id: u64,
    ) -> StoreFuture<'a, ()>;

    /// Stores the check run started on a pull request (replacing any earlier one, keeping the
    /// comment id). An id above `i64::MAX` is [`StoreError::OutOfRange`].
    fn set_check_run<'a>(
        &'a self,
        repo: &'a RepoName,
        number: u64,
        run: &'a CheckRunRef,
    ) -> StoreFuture<'a, ()>;

    /// Closes the connection pool, waiting for connections in use to be returned. Later calls
    /// fail with [`StoreError::Query`].
    fn close(&self) -> StoreFuture<'_, ()>;
}
