//! One [`Store`] for both backends: [`SqlStore`], generic over an [`Engine`] that carries
//! what differs between SQLite and PostgreSQL.
//!
//! The operations of results, analytics, deliveries, publications and most of the queue are
//! the same statements in the same transactions on both backends; they are written once, in
//! the module of their table (as methods of [`SqlStore`]), over [`Statement`]s. An engine
//! says how transactions begin (SQLite: this process's writers take turns, then `BEGIN
//! IMMEDIATE`; PostgreSQL: read committed, and a repeatable-read snapshot for reads that take
//! two statements), how changes to one job key are serialized, and does the two things that
//! are really different: claiming a job and accepting webhook deliveries.

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};
use tokio::sync::MutexGuard;

use crate::jobs::PreparedJob;
use crate::sql::{Conn, Db, Statement};
use crate::{
    AcceptOutcome, Backend, CheckRunRef, CompareId, DeliveryId, DeliveryRecord, EnqueueOutcome,
    Job, JobId, JobKey, JobLease, JobStatus, ListQuery, NewDelivery, NewJob, NewResult, Popular,
    PopularQuery, Publication, QueueLimits, QueueStats, RepoName, ResultPage, SaveOutcome, Store,
    StoreError, StoreFuture, StoredResult, schema,
};

/// What one backend does its own way.
pub(crate) trait Engine: Send + Sync + Sized + 'static {
    /// The database the backend's statements run on.
    type Db: Db;

    /// Which backend this is.
    const BACKEND: Backend;

    /// [`jobs::LEASE_STATE`](crate::jobs::LEASE_STATE) as `fail_job` reads it: locking the row
    /// where other writers could change it meanwhile.
    const LEASE_STATE_TO_FAIL: &'static str;

    /// The connection pool.
    fn pool(&self) -> &Pool<Self::Db>;

    /// A transaction for reads that must agree with each other (a page and its total).
    fn begin_read(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, sqlx::Error>> + Send;

    /// A write transaction.
    fn begin_write(&self) -> impl Future<Output = Result<Write<'_, Self::Db>, sqlx::Error>> + Send;

    /// This process's turn to write, for a single statement outside a transaction (`None`
    /// where writers need no turns).
    fn write_turn(&self) -> impl Future<Output = Option<MutexGuard<'_, ()>>> + Send;

    /// Serializes, until the transaction on `conn` ends, the changes to the jobs of `key`
    /// (enqueue, cancel) with those of other transactions.
    fn lock_key(
        conn: &mut Conn<Self::Db>,
        key: &str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// [`Store::claim_job`].
    fn claim<'a>(
        &'a self,
        worker: &'a str,
        lease: Duration,
        now: Timestamp,
        limits: QueueLimits,
    ) -> impl Future<Output = Result<Option<Job>, StoreError>> + Send + 'a;

    /// [`Store::accept_delivery`].
    fn accept(
        &self,
        delivery: NewDelivery,
        job: Option<PreparedJob>,
        limits: QueueLimits,
    ) -> impl Future<Output = Result<AcceptOutcome, StoreError>> + Send + '_;

    /// A statement for this backend.
    fn sql(text: &'static str) -> Statement<Self::Db> {
        Statement::new(text)
    }
}

/// A write transaction, holding this process's turn to write where the backend needs one
/// (released after the transaction ends).
pub(crate) struct Write<'a, DB: sqlx::Database> {
    tx: Transaction<'static, DB>,
    _turn: Option<MutexGuard<'a, ()>>,
}

impl<'a, DB: sqlx::Database> Write<'a, DB> {
    pub(crate) fn new(tx: Transaction<'static, DB>, turn: Option<MutexGuard<'a, ()>>) -> Self {
        Write { tx, _turn: turn }
    }

    /// The transaction's connection.
    pub(crate) fn conn(&mut self) -> &mut Conn<DB> {
        &mut self.tx
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// The store on either backend.
pub(crate) struct SqlStore<E> {
    pub(crate) engine: E,
    schema_version: i64,
}

impl<E: Engine> SqlStore<E> {
    /// Brings the schema up to date and reads its version.
    pub(crate) async fn open(engine: E) -> Result<Self, StoreError> {
        let pool = engine.pool();
        E::Db::migrate(pool)
            .await
            .map_err(|source| StoreError::Migrate {
                backend: E::BACKEND,
                source,
            })?;
        let op = "read schema version";
        let mut conn = pool.acquire().await.map_err(StoreError::query(op))?;
        let schema_version = E::sql(schema::VERSION)
            .fetch_scalar(&mut conn)
            .await
            .map_err(StoreError::query(op))?;
        drop(conn);
        Ok(SqlStore {
            engine,
            schema_version,
        })
    }

    /// A connection from the pool, for statements outside a transaction.
    pub(crate) async fn conn(&self, op: &'static str) -> Result<PoolConnection<E::Db>, StoreError> {
        self.engine
            .pool()
            .acquire()
            .await
            .map_err(StoreError::query(op))
    }

    /// Runs one writing statement outside a transaction, in this process's turn to write.
    pub(crate) async fn write_one(
        &self,
        op: &'static str,
        statement: Statement<E::Db>,
    ) -> Result<u64, StoreError> {
        let _turn = self.engine.write_turn().await;
        let mut conn = self.conn(op).await?;
        statement
            .execute(&mut conn)
            .await
            .map_err(StoreError::query(op))
    }

    /// A write transaction.
    pub(crate) async fn begin_write(
        &self,
        op: &'static str,
    ) -> Result<Write<'_, E::Db>, StoreError> {
        self.engine
            .begin_write()
            .await
            .map_err(StoreError::query(op))
    }
}

impl<E: Engine> Store for SqlStore<E> {
    fn backend(&self) -> Backend {
        E::BACKEND
    }

    fn schema_version(&self) -> i64 {
        self.schema_version
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut conn = self.conn("ping").await?;
            E::sql("SELECT 1")
                .execute(&mut conn)
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
        Box::pin(self.engine.claim(worker, lease, now, limits))
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
        key: &'a JobKey,
        reason: String,
        now: Timestamp,
    ) -> StoreFuture<'a, Vec<JobId>> {
        Box::pin(self.cancel(key, reason, now))
    }

    fn get_job(&self, id: JobId) -> StoreFuture<'_, Option<Job>> {
        Box::pin(self.job_by_id(id))
    }

    fn latest_job<'a>(&'a self, key: &'a JobKey) -> StoreFuture<'a, Option<Job>> {
        Box::pin(self.latest(key))
    }

    fn queue_stats(&self) -> StoreFuture<'_, QueueStats> {
        Box::pin(self.stats())
    }

    fn record_delivery(&self, delivery: NewDelivery) -> StoreFuture<'_, DeliveryRecord> {
        Box::pin(self.record(delivery))
    }

    fn link_delivery<'a>(&'a self, delivery_id: &'a DeliveryId, job: JobId) -> StoreFuture<'a, ()> {
        Box::pin(self.link(delivery_id, job))
    }

    fn accept_delivery(
        &self,
        delivery: NewDelivery,
        job: Option<NewJob>,
        limits: QueueLimits,
    ) -> StoreFuture<'_, AcceptOutcome> {
        Box::pin(
            self.engine
                .accept(delivery, job.map(PreparedJob::from), limits),
        )
    }

    fn delete_deliveries_before(&self, before: Timestamp) -> StoreFuture<'_, u64> {
        Box::pin(self.delete_deliveries(before))
    }

    fn purge_jobs_finished_before(&self, before: Timestamp) -> StoreFuture<'_, u64> {
        Box::pin(self.purge_jobs(before))
    }

    fn get_publication<'a>(
        &'a self,
        repo: &'a RepoName,
        number: u64,
    ) -> StoreFuture<'a, Option<Publication>> {
        Box::pin(self.publication(repo, number))
    }

    fn set_comment_id<'a>(
        &'a self,
        repo: &'a RepoName,
        number: u64,
        comment_id: u64,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.set_comment(repo, number, comment_id))
    }

    fn set_check_run<'a>(
        &'a self,
        repo: &'a RepoName,
        number: u64,
        run: &'a CheckRunRef,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.set_run(repo, number, run))
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.engine.pool().close().await;
            Ok(())
        })
    }
}
