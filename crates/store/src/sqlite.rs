//! The SQLite backend: one file, WAL mode, writes serialized by `BEGIN IMMEDIATE`.

mod intake;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use crate::engine::{Engine, SqlStore, Write};
use crate::jobs::{self, JobRow, PreparedJob};
use crate::{AcceptOutcome, Backend, Job, NewDelivery, OpenOptions, QueueLimits, StoreError};

/// Write transactions take the write lock up front, so concurrent writers queue on the busy
/// timeout instead of failing to upgrade a read lock.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

pub(crate) struct SqliteEngine {
    pool: SqlitePool,
    /// SQLite runs one write transaction at a time. Writers queue here, in order and woken at
    /// once, instead of meeting SQLITE_BUSY and sleeping in SQLite's busy handler (whose
    /// coarse 1–100 ms naps made webhook acknowledgements slow under bursts). Other processes
    /// on the same file still fall back to the busy timeout.
    writer: Arc<Mutex<()>>,
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

impl SqliteEngine {
    /// Opens the file at `path`, bringing its schema up to date.
    pub(crate) async fn open(
        path: &Path,
        options: &OpenOptions,
    ) -> Result<SqlStore<SqliteEngine>, StoreError> {
        let pool = connect(path, options).await?;
        spawn_checkpointer(pool.clone());
        let writer = Arc::new(Mutex::new(()));
        let intake = intake::Intake::spawn(pool.clone(), writer.clone());
        SqlStore::open(SqliteEngine {
            pool,
            writer,
            intake,
        })
        .await
    }
}

impl Engine for SqliteEngine {
    type Db = Sqlite;

    const BACKEND: Backend = Backend::Sqlite;

    // Writes are serialized: nothing changes the row between the read and the update.
    const LEASE_STATE_TO_FAIL: &'static str = jobs::LEASE_STATE;

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn begin_read(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin().await
    }

    /// A write transaction, begun once this process's previous writer is done.
    async fn begin_write(&self) -> Result<Write<'_, Sqlite>, sqlx::Error> {
        let turn = self.writer.lock().await;
        let tx = self.pool.begin_with(BEGIN_WRITE).await?;
        Ok(Write::new(tx, Some(turn)))
    }

    async fn write_turn(&self) -> Option<MutexGuard<'_, ()>> {
        Some(self.writer.lock().await)
    }

    async fn lock_key(_: &mut SqliteConnection, _: &str) -> Result<(), sqlx::Error> {
        // Write transactions run one at a time already.
        Ok(())
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
        let mut tx = self.begin_write().await.map_err(StoreError::query(op))?;
        let lost: Vec<(i64, i64, Option<String>)> = Self::sql(jobs::FAIL_LOST)
            .bind(now_ms)
            .fetch_all(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        let next: Option<(i64, String)> = Self::sql(jobs::NEXT)
            .bind(now_ms)
            .bind(i64::from(limits.max_queued))
            .bind(i64::from(limits.max_active_per_repo))
            .fetch_optional(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        let row: Option<JobRow> = match next {
            Some((id, _)) => Some(
                Self::sql(jobs::CLAIM)
                    .bind(id)
                    .bind(worker)
                    .bind(jobs::lease_until_ms(now_ms, lease))
                    .bind(now_ms)
                    .fetch_one(tx.conn())
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

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", delivery = %delivery.id))]
    async fn accept(
        &self,
        delivery: NewDelivery,
        job: Option<PreparedJob>,
        limits: QueueLimits,
    ) -> Result<AcceptOutcome, StoreError> {
        self.intake.accept(delivery, job, limits).await
    }
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
