//! The SQLite backend: one file, WAL mode, writes serialized by `BEGIN IMMEDIATE`.

mod intake;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool};

use crate::analytics::{self, PopularRow, Window, bind_event};
use crate::deliveries::{self, DeliveryRow, bind_delivery};
use crate::jobs::{self, ActiveRow, FailAction, JobRow, LeaseRow, PreparedJob, bind_insert};
use crate::publications::{self, PublicationRow};
use crate::results::{
    self, DocumentRow, ListFilter, PreparedSave, SummaryRow, bind_list, bind_save,
};
use crate::{
    AcceptOutcome, Backend, CheckRunRef, CompareId, DeliveryRecord, EnqueueOutcome, Job, JobId,
    JobLease, JobStatus, ListQuery, NewDelivery, NewJob, NewResult, OpenOptions, Popular,
    PopularQuery, Publication, QueueLimits, QueueStats, ResultPage, SaveOutcome, Store, StoreError,
    StoreFuture, StoredResult, schema, time,
};

/// Write transactions take the write lock up front, so concurrent writers queue on the busy
/// timeout instead of failing to upgrade a read lock.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

pub(crate) struct SqliteStore {
    pool: SqlitePool,
    schema_version: i64,
    /// SQLite runs one write transaction at a time. Writers queue here, in order and woken at
    /// once, instead of meeting SQLITE_BUSY and sleeping in SQLite's busy handler (whose
    /// coarse 1–100 ms naps made webhook acknowledgements slow under bursts). Other processes
    /// on the same file still fall back to the busy timeout.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Webhook deliveries are accepted in groups, one transaction each (see [`intake`]).
    intake: intake::Intake,
}

/// Checkpoints the WAL in the background (passive: never waits for, nor blocks, writers),
/// until the pool is closed.
fn spawn_checkpointer(pool: SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::debug!(error = %e, "WAL checkpoint failed; will retry");
            }
        }
    });
}

impl SqliteStore {
    /// A write transaction, begun once this process's previous writer is done.
    async fn begin_write(
        &self,
    ) -> Result<
        (
            tokio::sync::MutexGuard<'_, ()>,
            sqlx::Transaction<'static, sqlx::Sqlite>,
        ),
        sqlx::Error,
    > {
        let writer = self.writer.lock().await;
        let tx = self.pool.begin_with(BEGIN_WRITE).await?;
        Ok((writer, tx))
    }

    pub(crate) async fn open(path: &Path, options: &OpenOptions) -> Result<Self, StoreError> {
        let pool = connect(path, options).await?;
        spawn_checkpointer(pool.clone());
        schema::migrator(Backend::Sqlite)
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                backend: Backend::Sqlite,
                source,
            })?;
        let schema_version = sqlx::query_scalar(schema::VERSION)
            .fetch_one(&pool)
            .await
            .map_err(StoreError::query("read schema version"))?;
        let writer = Arc::new(tokio::sync::Mutex::new(()));
        let intake = intake::Intake::spawn(pool.clone(), writer.clone());
        Ok(SqliteStore {
            pool,
            schema_version,
            writer,
            intake,
        })
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite", compare_id = %r.compare_id))]
    async fn save(&self, r: NewResult) -> Result<SaveOutcome, StoreError> {
        let p = PreparedSave::new(r).await?;
        let op = "save result";
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        sqlx::query(results::DELETE_EXPIRED_ONE)
            .bind(p.compare_id.as_str())
            .bind(p.created_ms)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        let row: SummaryRow = bind_save!(sqlx::query_as(results::UPSERT), p)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        bind_event!(sqlx::query(analytics::INSERT_EVENT), p)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        let outcome = results::save_outcome(row)?;
        tracing::debug!(
            deduplicated = outcome.deduplicated,
            compare_count = outcome.summary.compare_count,
            "result saved"
        );
        Ok(outcome)
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite", compare_id = %id))]
    async fn get(
        &self,
        id: &CompareId,
        now: Timestamp,
    ) -> Result<Option<StoredResult>, StoreError> {
        let row: Option<DocumentRow> = sqlx::query_as(results::GET)
            .bind(id.as_str())
            .bind(time::floor_ms(now))
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query("get result"))?;
        match row {
            Some(row) => Ok(Some(row.into_stored().await?)),
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite"))]
    async fn list(&self, q: ListQuery) -> Result<ResultPage, StoreError> {
        let f = ListFilter::from(q);
        let op = "list results";
        // One read transaction: the page and the total come from the same snapshot.
        let mut tx = self.pool.begin().await.map_err(StoreError::query(op))?;
        let rows: Vec<SummaryRow> = bind_list!(sqlx::query_as(results::LIST), f)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        let total: i64 = bind_list!(sqlx::query_scalar(results::COUNT), f)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(ResultPage {
            items: rows
                .into_iter()
                .map(SummaryRow::into_summary)
                .collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite"))]
    async fn popular(&self, q: PopularQuery) -> Result<Popular, StoreError> {
        let w = Window::from(&q);
        let op = "popular charts";
        let mut tx = self.pool.begin().await.map_err(StoreError::query(op))?;
        let rows: Vec<PopularRow> = sqlx::query_as(analytics::POPULAR)
            .bind(w.since_ms)
            .bind(w.until_ms)
            .bind(w.limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        let total: i64 = sqlx::query_scalar(analytics::TOTAL)
            .bind(w.since_ms)
            .bind(w.until_ms)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        analytics::popular(rows, total)
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite"))]
    async fn delete(&self, now: Timestamp, events_before: Timestamp) -> Result<u64, StoreError> {
        let op = "delete expired";
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        let results = sqlx::query(results::DELETE_EXPIRED)
            .bind(time::floor_ms(now))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op))?
            .rows_affected();
        let events = sqlx::query(analytics::DELETE_OLD_EVENTS)
            .bind(time::ceil_ms(events_before))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op))?
            .rows_affected();
        tx.commit().await.map_err(StoreError::query(op))?;
        tracing::info!(results, events, "expired rows deleted");
        Ok(results + events)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", key = %job.key, revision = %job.revision))]
    async fn enqueue(
        &self,
        job: NewJob,
        limits: QueueLimits,
    ) -> Result<EnqueueOutcome, StoreError> {
        let p = PreparedJob::from(job);
        let op = "enqueue job";
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        let outcome = enqueue_in(&mut tx, &p, limits, op).await?;
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(outcome)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", delivery = %d.id))]
    async fn accept(
        &self,
        d: NewDelivery,
        job: Option<NewJob>,
        limits: QueueLimits,
    ) -> Result<AcceptOutcome, StoreError> {
        self.intake
            .accept(d, job.map(PreparedJob::from), limits)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", worker = %worker))]
    async fn claim(
        &self,
        worker: &str,
        lease: Duration,
        now: Timestamp,
        limits: QueueLimits,
    ) -> Result<Option<Job>, StoreError> {
        let now_ms = jobs::now_ms(now);
        let op = "claim job";
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        let lost: Vec<(i64, i64, Option<String>)> = sqlx::query_as(jobs::FAIL_LOST)
            .bind(now_ms)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        let next: Option<(i64, String)> = sqlx::query_as(jobs::NEXT)
            .bind(now_ms)
            .bind(i64::from(limits.max_queued))
            .bind(i64::from(limits.max_active_per_repo))
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        let row: Option<JobRow> = match next {
            Some((id, _)) => Some(
                sqlx::query_as(jobs::CLAIM)
                    .bind(id)
                    .bind(worker)
                    .bind(jobs::lease_until_ms(now_ms, lease))
                    .bind(now_ms)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::query(op))?,
            ),
            None => None,
        };
        tx.commit().await.map_err(StoreError::query(op))?;
        jobs::log_lost(&lost);
        let job = row.map(JobRow::into_job).transpose()?;
        jobs::log_claimed(job.as_ref());
        Ok(job)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", job = %id, worker = %worker))]
    async fn heartbeat(
        &self,
        id: JobId,
        worker: &str,
        lease: Duration,
        now: Timestamp,
    ) -> Result<JobLease, StoreError> {
        let op = "heartbeat job";
        let now_ms = jobs::now_ms(now);
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        let renewed = sqlx::query(jobs::RENEW)
            .bind(id.get())
            .bind(worker)
            .bind(jobs::lease_until_ms(now_ms, lease))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op))?
            .rows_affected();
        let state: Option<LeaseRow> = if renewed == 0 {
            sqlx::query_as(jobs::LEASE_STATE)
                .bind(id.get())
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query(op))?
        } else {
            None
        };
        let lease = jobs::heartbeat_outcome(id, worker, renewed, state)?;
        if matches!(lease, JobLease::Superseded | JobLease::Cancelled) {
            // The worker has been told: the key's next job may start.
            sqlx::query(jobs::RELEASE)
                .bind(id.get())
                .bind(worker)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
        }
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(lease)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", job = %id, worker = %worker))]
    async fn complete(
        &self,
        id: JobId,
        worker: &str,
        compare_ids: Vec<String>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let op = "complete job";
        let now_ms = jobs::now_ms(now);
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        let done = sqlx::query(jobs::COMPLETE)
            .bind(id.get())
            .bind(worker)
            .bind(now_ms)
            .bind(jobs::encode_compare_ids(&compare_ids))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op))?
            .rows_affected();
        let released = if done == 0 {
            sqlx::query(jobs::RELEASE)
                .bind(id.get())
                .bind(worker)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(op))?
                .rows_affected()
        } else {
            0
        };
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(jobs::complete_outcome(id, worker, done, released))
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite", job = %id, worker = %worker))]
    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: String,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<JobStatus, StoreError> {
        let op = "fail job";
        let now_ms = jobs::now_ms(now);
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        let state: Option<LeaseRow> = sqlx::query_as(jobs::LEASE_STATE)
            .bind(id.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        let action = jobs::fail_action(id, worker, state, retry_at.is_some())?;
        let query = match &action {
            FailAction::Retry => Some(
                sqlx::query(jobs::RETRY)
                    .bind(id.get())
                    .bind(retry_at.map(jobs::retry_ms))
                    .bind(error.as_str()),
            ),
            FailAction::Fail => Some(
                sqlx::query(jobs::FAIL)
                    .bind(id.get())
                    .bind(now_ms)
                    .bind(error.as_str()),
            ),
            FailAction::Release(_) => Some(
                sqlx::query(jobs::RELEASE)
                    .bind(id.get())
                    .bind(worker)
                    .bind(now_ms),
            ),
            FailAction::Leave(_) => None,
        };
        if let Some(query) = query {
            query
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
        }
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(jobs::fail_outcome(&action, &error))
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite", key = %key))]
    async fn cancel(
        &self,
        key: &str,
        reason: String,
        now: Timestamp,
    ) -> Result<Vec<JobId>, StoreError> {
        let op = "cancel jobs";
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        let cancelled: Vec<i64> = sqlx::query_scalar(jobs::CANCEL)
            .bind(key)
            .bind(reason.as_str())
            .bind(jobs::now_ms(now))
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        let cancelled = jobs::ids(cancelled)?;
        tracing::info!(?cancelled, %reason, "jobs cancelled");
        Ok(cancelled)
    }

    async fn job(
        &self,
        query: &'static str,
        bind: JobQuery<'_>,
    ) -> Result<Option<Job>, StoreError> {
        let query = sqlx::query_as(query);
        let query = match bind {
            JobQuery::Id(id) => query.bind(id.get()),
            JobQuery::Key(key) => query.bind(key),
        };
        let row: Option<JobRow> = query
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query("get job"))?;
        row.map(JobRow::into_job).transpose()
    }

    async fn stats(&self) -> Result<QueueStats, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(jobs::STATS)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query("queue stats"))?;
        jobs::stats(rows)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", delivery = %d.id))]
    async fn record(&self, d: NewDelivery) -> Result<DeliveryRecord, StoreError> {
        let op = "record delivery";
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        let inserted = bind_delivery!(sqlx::query(deliveries::INSERT), d)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op))?
            .rows_affected();
        let row: DeliveryRow = sqlx::query_as(deliveries::GET)
            .bind(d.id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        row.into_record(inserted == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", delivery = %delivery_id, job = %job))]
    async fn link(&self, delivery_id: &str, job: JobId) -> Result<(), StoreError> {
        let op = "link delivery";
        let (_writer, mut tx) = self.begin_write().await.map_err(StoreError::query(op))?;
        let jobs: i64 = sqlx::query_scalar(deliveries::JOB_EXISTS)
            .bind(job.get())
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        let linked = if jobs == 0 {
            0
        } else {
            sqlx::query(deliveries::LINK)
                .bind(delivery_id)
                .bind(job.get())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(op))?
                .rows_affected()
        };
        tx.commit().await.map_err(StoreError::query(op))?;
        deliveries::link_outcome(delivery_id, job, jobs, linked)
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite"))]
    async fn delete_deliveries(&self, before: Timestamp) -> Result<u64, StoreError> {
        let deleted = sqlx::query(deliveries::DELETE_BEFORE)
            .bind(deliveries::before_ms(before))
            .execute(&self.pool)
            .await
            .map_err(StoreError::query("delete deliveries"))?
            .rows_affected();
        tracing::info!(deleted, "old webhook deliveries deleted");
        Ok(deleted)
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite"))]
    async fn purge_jobs(&self, before: Timestamp) -> Result<u64, StoreError> {
        let _writer = self.writer.lock().await;
        let purged = sqlx::query(jobs::PURGE_FINISHED)
            .bind(time::ceil_ms(before))
            .execute(&self.pool)
            .await
            .map_err(StoreError::query("purge finished jobs"))?
            .rows_affected();
        tracing::info!(purged, "finished jobs purged");
        Ok(purged)
    }

    async fn publication(
        &self,
        repo: &str,
        number: u64,
    ) -> Result<Option<Publication>, StoreError> {
        let row: Option<PublicationRow> = sqlx::query_as(publications::GET)
            .bind(repo)
            .bind(publications::to_db("pull request number", number)?)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query("get publication"))?;
        row.map(|r| r.decode(repo, number)).transpose()
    }

    async fn set_comment(&self, repo: &str, number: u64, id: u64) -> Result<(), StoreError> {
        let number = publications::to_db("pull request number", number)?;
        let id = publications::to_db("comment id", id)?;
        let _writer = self.writer.lock().await;
        sqlx::query(publications::SET_COMMENT)
            .bind(repo)
            .bind(number)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(StoreError::query("set comment id"))?;
        Ok(())
    }

    async fn set_run(&self, repo: &str, number: u64, run: &CheckRunRef) -> Result<(), StoreError> {
        let number = publications::to_db("pull request number", number)?;
        let id = publications::to_db("check run id", run.id)?;
        let _writer = self.writer.lock().await;
        sqlx::query(publications::SET_CHECK_RUN)
            .bind(repo)
            .bind(number)
            .bind(run.head_sha.as_str())
            .bind(id)
            .bind(run.job.get())
            .execute(&self.pool)
            .await
            .map_err(StoreError::query("set check run"))?;
        Ok(())
    }
}

/// How [`SqliteStore::job`] finds a job.
enum JobQuery<'a> {
    Id(JobId),
    Key(&'a str),
}

/// The intake of one delivery inside the write transaction `tx` (see
/// [`Store::accept_delivery`]).
pub(crate) async fn accept_in(
    tx: &mut SqliteConnection,
    d: &NewDelivery,
    p: Option<&PreparedJob>,
    limits: QueueLimits,
) -> Result<AcceptOutcome, StoreError> {
    let op = "accept delivery";
    let first_seen = bind_delivery!(sqlx::query(deliveries::INSERT_NEW), d)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::query(op))?
        .is_some();
    let earlier_job = if first_seen {
        None
    } else {
        let row: DeliveryRow = sqlx::query_as(deliveries::GET)
            .bind(d.id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        row.earlier_job()?
    };
    let mut outcome = AcceptOutcome {
        first_seen,
        earlier_job,
        enqueued: None,
    };
    if let Some(p) = p.filter(|_| !outcome.is_duplicate()) {
        let enqueued = enqueue_in(&mut *tx, p, limits, op).await?;
        sqlx::query(deliveries::LINK)
            .bind(d.id.as_str())
            .bind(enqueued.job_id.get())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
        outcome.enqueued = Some(enqueued);
    }
    Ok(outcome)
}

/// Enqueues `p` inside the write transaction `tx` (see [`Store::enqueue_job`]).
pub(crate) async fn enqueue_in(
    tx: &mut SqliteConnection,
    p: &PreparedJob,
    limits: QueueLimits,
    op: &'static str,
) -> Result<EnqueueOutcome, StoreError> {
    let active: Vec<ActiveRow> = sqlx::query_as(jobs::ACTIVE_OF_KEY)
        .bind(p.key.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::query(op))?;
    if let Some(outcome) = jobs::coalesce_into(&active, &p.revision)? {
        tracing::debug!(job = %outcome.job_id, status = %outcome.status, "enqueue coalesced");
        return Ok(outcome);
    }
    // Writes are serialized, so no job of the key became active since the select.
    let superseded: Vec<i64> = if active.is_empty() {
        Vec::new()
    } else {
        sqlx::query_scalar(jobs::SUPERSEDE)
            .bind(p.key.as_str())
            .bind(p.now_ms)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(op))?
    };
    let (queued, repo_active): (i64, i64) = sqlx::query_as(jobs::ENQUEUE_COUNTS)
        .bind(p.repo.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query(op))?;
    let status = jobs::enqueue_status(queued, repo_active, limits);
    let id: i64 = bind_insert!(sqlx::query_scalar(jobs::INSERT), p, status)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query(op))?;
    for old in &superseded {
        sqlx::query(jobs::SET_SUPERSEDED_BY)
            .bind(old)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op))?;
    }
    jobs::enqueued(id, superseded, status)
}

/// A pool on the file at `path` (created, with its directory, when missing); no migrations.
pub(crate) async fn connect(path: &Path, options: &OpenOptions) -> Result<SqlitePool, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
    }
    let connect = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(options.busy_timeout)
        // No checkpoint inside a committing write (it copies pages and syncs, stalling every
        // writer queued behind it for tens of milliseconds): a background task checkpoints.
        .pragma("wal_autocheckpoint", "0");
    SqlitePoolOptions::new()
        .max_connections(options.max_connections_for(Backend::Sqlite))
        // A local file: pinging each connection as it is taken from the pool is a wasted
        // round trip to its worker thread (on every write, inside the write lock).
        .test_before_acquire(false)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await
        .map_err(|source| StoreError::Connect {
            backend: Backend::Sqlite,
            source,
        })
}

impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn schema_version(&self) -> i64 {
        self.schema_version
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map_err(StoreError::query("ping"))?;
            Ok(())
        })
    }

    fn save_result(&self, result: NewResult) -> StoreFuture<'_, SaveOutcome> {
        Box::pin(self.save(result))
    }

    fn get_result<'a>(
        &'a self,
        id: &'a CompareId,
        now: Timestamp,
    ) -> StoreFuture<'a, Option<StoredResult>> {
        Box::pin(self.get(id, now))
    }

    fn list_results(&self, query: ListQuery) -> StoreFuture<'_, ResultPage> {
        Box::pin(self.list(query))
    }

    fn popular_charts(&self, query: PopularQuery) -> StoreFuture<'_, Popular> {
        Box::pin(self.popular(query))
    }

    fn delete_expired(&self, now: Timestamp, events_before: Timestamp) -> StoreFuture<'_, u64> {
        Box::pin(self.delete(now, events_before))
    }

    fn enqueue_job(&self, job: NewJob, limits: QueueLimits) -> StoreFuture<'_, EnqueueOutcome> {
        Box::pin(self.enqueue(job, limits))
    }

    fn claim_job<'a>(
        &'a self,
        worker: &'a str,
        lease: Duration,
        now: Timestamp,
        limits: QueueLimits,
    ) -> StoreFuture<'a, Option<Job>> {
        Box::pin(self.claim(worker, lease, now, limits))
    }

    fn heartbeat_job<'a>(
        &'a self,
        id: JobId,
        worker: &'a str,
        lease: Duration,
        now: Timestamp,
    ) -> StoreFuture<'a, JobLease> {
        Box::pin(self.heartbeat(id, worker, lease, now))
    }

    fn complete_job<'a>(
        &'a self,
        id: JobId,
        worker: &'a str,
        compare_ids: Vec<String>,
        now: Timestamp,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.complete(id, worker, compare_ids, now))
    }

    fn fail_job<'a>(
        &'a self,
        id: JobId,
        worker: &'a str,
        error: String,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreFuture<'a, JobStatus> {
        Box::pin(self.fail(id, worker, error, retry_at, now))
    }

    fn cancel_jobs<'a>(
        &'a self,
        key: &'a str,
        reason: String,
        now: Timestamp,
    ) -> StoreFuture<'a, Vec<JobId>> {
        Box::pin(self.cancel(key, reason, now))
    }

    fn get_job(&self, id: JobId) -> StoreFuture<'_, Option<Job>> {
        Box::pin(self.job(jobs::GET, JobQuery::Id(id)))
    }

    fn latest_job<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Job>> {
        Box::pin(self.job(jobs::LATEST, JobQuery::Key(key)))
    }

    fn queue_stats(&self) -> StoreFuture<'_, QueueStats> {
        Box::pin(self.stats())
    }

    fn record_delivery(&self, delivery: NewDelivery) -> StoreFuture<'_, DeliveryRecord> {
        Box::pin(self.record(delivery))
    }

    fn link_delivery<'a>(&'a self, delivery_id: &'a str, job: JobId) -> StoreFuture<'a, ()> {
        Box::pin(self.link(delivery_id, job))
    }

    fn accept_delivery(
        &self,
        delivery: NewDelivery,
        job: Option<NewJob>,
        limits: QueueLimits,
    ) -> StoreFuture<'_, AcceptOutcome> {
        Box::pin(self.accept(delivery, job, limits))
    }

    fn delete_deliveries_before(&self, before: Timestamp) -> StoreFuture<'_, u64> {
        Box::pin(self.delete_deliveries(before))
    }

    fn purge_jobs_finished_before(&self, before: Timestamp) -> StoreFuture<'_, u64> {
        Box::pin(self.purge_jobs(before))
    }

    fn get_publication<'a>(
        &'a self,
        repo: &'a str,
        number: u64,
    ) -> StoreFuture<'a, Option<Publication>> {
        Box::pin(self.publication(repo, number))
    }

    fn set_comment_id<'a>(
        &'a self,
        repo: &'a str,
        number: u64,
        comment_id: u64,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.set_comment(repo, number, comment_id))
    }

    fn set_check_run<'a>(
        &'a self,
        repo: &'a str,
        number: u64,
        run: &'a CheckRunRef,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.set_run(repo, number, run))
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.pool.close().await;
            Ok(())
        })
    }
}
