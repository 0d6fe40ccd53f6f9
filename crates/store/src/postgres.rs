//! The PostgreSQL backend, for several replicas sharing one database.
//!
//! Concurrent saves of one compare id serialize on its row (`INSERT … ON CONFLICT DO UPDATE`
//! locks it), so counts are exact under any number of replicas. Reads that take two
//! statements run in one repeatable-read snapshot.
//!
//! Job changes run in read-committed transactions. Claims select with `FOR UPDATE SKIP
//! LOCKED`, so concurrent claimers never wait for or take the same job, then serialize per
//! repository on an advisory lock to check the repository's running jobs again (each statement
//! sees what committed before it). Enqueues and cancels serialize per key on an advisory lock.

use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::MutexGuard;

use crate::deliveries::accept_in;
use crate::engine::{Engine, SqlStore, Write};
use crate::jobs::{self, JobRow, PreparedJob, lock};
use crate::{AcceptOutcome, Backend, Job, NewDelivery, OpenOptions, QueueLimits, StoreError};

/// Two reads that must agree (a page and its total) share one snapshot.
const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// How many candidates a claim tries before giving up for now: a candidate is passed over
/// only when another replica filled its repository between the select and the lock.
const CLAIM_ROUNDS: usize = 8;

pub(crate) struct PostgresEngine {
    pool: PgPool,
}

impl PostgresEngine {
    /// Connects, bringing the schema up to date.
    pub(crate) async fn open(
        connect_options: PgConnectOptions,
        options: &OpenOptions,
    ) -> Result<SqlStore<PostgresEngine>, StoreError> {
        let pool = connect(connect_options, options).await?;
        SqlStore::open(PostgresEngine { pool }).await
    }
}

impl Engine for PostgresEngine {
    type Db = Postgres;

    const BACKEND: Backend = Backend::Postgres;

    // A concurrent claim or heartbeat must not change the row between the read and the
    // update.
    const LEASE_STATE_TO_FAIL: &'static str = jobs::LEASE_STATE_FOR_UPDATE;

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_read(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin_with(BEGIN_SNAPSHOT).await
    }

    async fn begin_write(&self) -> Result<Write<'_, Postgres>, sqlx::Error> {
        Ok(Write::new(self.pool.begin().await?, None))
    }

    async fn write_turn(&self) -> Option<MutexGuard<'_, ()>> {
        None
    }

    async fn lock_key(conn: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query(lock::TAKE)
            .bind(lock::KEY)
            .bind(key)
            .execute(conn)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", worker = %worker))]
    async fn claim(
        &self,
        worker: &str,
        lease: Duration,
        now: Timestamp,
        limits: QueueLimits,
    ) -> Result<Option<Job>, StoreError> {
        let now_ms = jobs::now_ms(now);
        let max_per_repo = i64::from(limits.max_active_per_repo);
        let op = "claim job";
        // Repositories found full after the select: left out of the next round.
        let mut full: Vec<String> = Vec::new();
        for _ in 0..CLAIM_ROUNDS {
            let mut tx = self.pool.begin().await.map_err(StoreError::query(op))?;
            let lost: Vec<(i64, i64, Option<String>)> = sqlx::query_as(jobs::FAIL_LOST_SKIP_LOCKED)
                .bind(now_ms)
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
            let next: Option<(i64, String)> = sqlx::query_as(jobs::NEXT_SKIP_LOCKED)
                .bind(now_ms)
                .bind(i64::from(limits.max_queued))
                .bind(max_per_repo)
                .bind(full.as_slice())
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
            let Some((id, repo)) = next else {
                tx.commit().await.map_err(StoreError::query(op))?;
                jobs::log_lost(&lost);
                return Ok(None);
            };
            // Another replica may have claimed in this repository since the select's
            // snapshot: take the repository's turn, then count again.
            sqlx::query(lock::TAKE)
                .bind(lock::REPO)
                .bind(repo.as_str())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
            let running: i64 = sqlx::query_scalar(jobs::RUNNING_IN_REPO)
                .bind(repo.as_str())
                .bind(id)
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
            if running >= max_per_repo {
                tx.commit().await.map_err(StoreError::query(op))?;
                jobs::log_lost(&lost);
                tracing::debug!(repo, "repository filled up meanwhile, trying another");
                full.push(repo);
                continue;
            }
            let row: JobRow = sqlx::query_as(jobs::CLAIM)
                .bind(id)
                .bind(worker)
                .bind(jobs::lease_until_ms(now_ms, lease))
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
            tx.commit().await.map_err(StoreError::query(op))?;
            jobs::log_lost(&lost);
            let job = row.into_job()?;
            jobs::log_claimed(Some(&job));
            return Ok(Some(job));
        }
        Ok(None)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", delivery = %delivery.id))]
    async fn accept(
        &self,
        delivery: NewDelivery,
        job: Option<PreparedJob>,
        limits: QueueLimits,
    ) -> Result<AcceptOutcome, StoreError> {
        let op = "accept delivery";
        let mut tx = self.begin_write().await.map_err(StoreError::query(op))?;
        let outcome = accept_in::<Self>(tx.conn(), &delivery, job.as_ref(), limits).await?;
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(outcome)
    }
}

/// A pool on the server; no migrations.
pub(crate) async fn connect(
    connect_options: PgConnectOptions,
    options: &OpenOptions,
) -> Result<PgPool, StoreError> {
    let connect_options = if connect_options.get_application_name().is_none() {
        connect_options.application_name("chartimpact")
    } else {
        connect_options
    };
    PgPoolOptions::new()
        .max_connections(options.max_connections_for(Backend::Postgres))
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect_options)
        .await
        .map_err(|source| StoreError::Connect {
            backend: Backend::Postgres,
            source,
        })
}
