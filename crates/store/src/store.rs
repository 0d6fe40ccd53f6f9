use std::future::Future;
use std::pin::Pin;

use jiff::Timestamp;

use crate::{
    Backend, CompareId, ListQuery, NewResult, Popular, PopularQuery, ResultPage, SaveOutcome,
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

    /// Closes the connection pool, waiting for connections in use to be returned. Later calls
    /// fail with [`StoreError::Query`].
    fn close(&self) -> StoreFuture<'_, ()>;
}
