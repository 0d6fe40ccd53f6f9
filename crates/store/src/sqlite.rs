//! The SQLite backend: one file, WAL mode, writes serialized by `BEGIN IMMEDIATE`.

use std::path::Path;

use jiff::Timestamp;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::analytics::{self, PopularRow, Window, bind_event};
use crate::results::{
    self, DocumentRow, ListFilter, PreparedSave, SummaryRow, bind_list, bind_save,
};
use crate::{
    Backend, CompareId, ListQuery, NewResult, OpenOptions, Popular, PopularQuery, ResultPage,
    SaveOutcome, Store, StoreError, StoreFuture, StoredResult, schema, time,
};

/// Write transactions take the write lock up front, so concurrent writers queue on the busy
/// timeout instead of failing to upgrade a read lock.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

pub(crate) struct SqliteStore {
    pool: SqlitePool,
    schema_version: i64,
}

impl SqliteStore {
    pub(crate) async fn open(path: &Path, options: &OpenOptions) -> Result<Self, StoreError> {
        let pool = connect(path, options).await?;
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
        Ok(SqliteStore {
            pool,
            schema_version,
        })
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite", compare_id = %r.compare_id))]
    async fn save(&self, r: NewResult) -> Result<SaveOutcome, StoreError> {
        let p = PreparedSave::new(r).await?;
        let op = "save result";
        let mut tx = self
            .pool
            .begin_with(BEGIN_WRITE)
            .await
            .map_err(StoreError::query(op))?;
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
        let mut tx = self
            .pool
            .begin_with(BEGIN_WRITE)
            .await
            .map_err(StoreError::query(op))?;
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
        .busy_timeout(options.busy_timeout);
    SqlitePoolOptions::new()
        .max_connections(options.max_connections_for(Backend::Sqlite))
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

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.pool.close().await;
            Ok(())
        })
    }
}
