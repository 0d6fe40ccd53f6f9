//! Stored compare results (table `compare_results`): the types of the public API, the SQL both
//! backends run (portable: `$n` parameters, `ON CONFLICT`, `RETURNING`) and the row decoding.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;

use crate::analytics::{self, bind_event};
use crate::engine::{Engine, SqlStore};
use crate::{CompareId, StoreError, codec, time};

/// Resource and change counts of a compare, as shown in lists and analytics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResultStats {
    /// Resources only in the new revision.
    pub added: u32,
    /// Resources only in the old revision.
    pub removed: u32,
    /// Resources in both revisions that differ.
    pub modified: u32,
    /// Resources in both revisions that are equal.
    pub unchanged: u32,
    /// Field-level changes over all resources.
    pub total_changes: u32,
}

/// A compare result to save.
#[derive(Clone)]
pub struct NewResult {
    /// The deterministic id of the compare.
    pub compare_id: CompareId,
    /// The repository URL or path, as the user gave it.
    pub repository: String,
    /// The chart directory inside the repository.
    pub chart_path: String,
    /// The old revision, as the user gave it.
    pub version1: String,
    /// The new revision, as the user gave it.
    pub version2: String,
    /// The commit `version1` resolved to.
    pub commit1: String,
    /// The commit `version2` resolved to.
    pub commit2: String,
    /// The impact verdict, e.g. `high-risk`.
    pub verdict: String,
    /// Resource and change counts.
    pub stats: ResultStats,
    /// The JSON document, uncompressed; the store compresses it.
    pub document: Vec<u8>,
    /// When the compare ran (from the caller's clock).
    pub created_at: Timestamp,
    /// How long the result stays available after `created_at`.
    pub ttl: Duration,
}

impl fmt::Debug for NewResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewResult")
            .field("compare_id", &self.compare_id)
            .field("repository", &self.repository)
            .field("chart_path", &self.chart_path)
            .field("version1", &self.version1)
            .field("version2", &self.version2)
            .field("commit1", &self.commit1)
            .field("commit2", &self.commit2)
            .field("verdict", &self.verdict)
            .field("stats", &self.stats)
            .field("document_len", &self.document.len())
            .field("created_at", &self.created_at)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// Everything about a stored result except its document.
///
/// Timestamps are stored with millisecond precision.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultSummary {
    /// The id of the compare.
    pub compare_id: CompareId,
    /// The repository URL or path.
    pub repository: String,
    /// The chart directory inside the repository.
    pub chart_path: String,
    /// The old revision, as the user gave it.
    pub version1: String,
    /// The new revision, as the user gave it.
    pub version2: String,
    /// The commit `version1` resolved to.
    pub commit1: String,
    /// The commit `version2` resolved to.
    pub commit2: String,
    /// The impact verdict.
    pub verdict: String,
    /// Resource and change counts.
    pub stats: ResultStats,
    /// When the stored document was produced (the first save of a live result).
    pub created_at: Timestamp,
    /// When the result stops being served.
    pub expires_at: Timestamp,
    /// The size of the document in bytes.
    pub uncompressed_size: u64,
    /// The size of the document as stored, in bytes.
    pub compressed_size: u64,
    /// How many times this result was saved since it was created.
    pub compare_count: u64,
}

/// A stored result with its decompressed document.
#[derive(Clone, PartialEq)]
pub struct StoredResult {
    /// Everything but the document.
    pub summary: ResultSummary,
    /// The JSON document, decompressed.
    pub document: Vec<u8>,
}

impl fmt::Debug for StoredResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredResult")
            .field("summary", &self.summary)
            .field("document_len", &self.document.len())
            .finish()
    }
}

/// What [`Store::save_result`](crate::Store::save_result) did.
#[derive(Clone, Debug, PartialEq)]
pub struct SaveOutcome {
    /// The row as it is now.
    pub summary: ResultSummary,
    /// `true` when a live result with this id existed and was kept (and its count bumped).
    pub deduplicated: bool,
}

/// Which results [`Store::list_results`](crate::Store::list_results) returns.
#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    /// Only this repository (exact match).
    pub repository: Option<String>,
    /// Only this chart path (exact match).
    pub chart_path: Option<String>,
    /// Only results created at or after this instant.
    pub since: Option<Timestamp>,
    /// Only results created before this instant.
    pub until: Option<Timestamp>,
    /// At most this many items (`0` returns no items, only the total).
    pub limit: u32,
    /// Skip this many items.
    pub offset: u32,
    /// Results expired at this instant are left out.
    pub now: Timestamp,
}

impl ListQuery {
    /// The default page size of [`ListQuery::new`].
    pub const DEFAULT_LIMIT: u32 = 50;

    /// The first page of all live results, [`ListQuery::DEFAULT_LIMIT`] items long.
    pub fn new(now: Timestamp) -> ListQuery {
        ListQuery {
            repository: None,
            chart_path: None,
            since: None,
            until: None,
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
            now,
        }
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultPage {
    /// The results on this page, newest first.
    pub items: Vec<ResultSummary>,
    /// How many results match the query, ignoring `limit` and `offset`.
    pub total: u64,
}

// ---- SQL ------------------------------------------------------------------------------------

macro_rules! summary_columns {
    () => {
        "compare_id, repository, chart_path, version1, version2, commit1, commit2, verdict, \
         added, removed, modified, unchanged, total_changes, uncompressed_size, compressed_size, \
         created_at, expires_at, compare_count"
    };
}

/// Removes the row of `$1` when it has expired at `$2` (first step of a save).
const DELETE_EXPIRED_ONE: &str =
    "DELETE FROM compare_results WHERE compare_id = $1 AND expires_at <= $2";

/// Inserts a result or counts a repeat of the live one (second step of a save). Bind with
/// `bind_save!`.
const UPSERT: &str = concat!(
    "INSERT INTO compare_results (compare_id, repository, chart_path, version1, version2, \
     commit1, commit2, verdict, added, removed, modified, unchanged, total_changes, document, \
     uncompressed_size, compressed_size, created_at, expires_at, compare_count) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 1) \
     ON CONFLICT (compare_id) DO UPDATE SET \
     expires_at = CASE WHEN excluded.expires_at > compare_results.expires_at \
     THEN excluded.expires_at ELSE compare_results.expires_at END, \
     compare_count = compare_results.compare_count + 1 \
     RETURNING ",
    summary_columns!()
);

/// `$1` compare id, `$2` now.
const GET: &str = concat!(
    "SELECT ",
    summary_columns!(),
    ", document FROM compare_results WHERE compare_id = $1 AND expires_at > $2"
);

macro_rules! list_filter {
    () => {
        " FROM compare_results WHERE expires_at > $1 \
         AND ($2 IS NULL OR repository = $2) \
         AND ($3 IS NULL OR chart_path = $3) \
         AND ($4 IS NULL OR created_at >= $4) \
         AND ($5 IS NULL OR created_at < $5)"
    };
}

/// Bind with `bind_list!`, then limit and offset.
const LIST: &str = concat!(
    "SELECT ",
    summary_columns!(),
    list_filter!(),
    " ORDER BY created_at DESC, compare_id LIMIT $6 OFFSET $7"
);

/// Bind with `bind_list!`.
const COUNT: &str = concat!("SELECT COUNT(*)", list_filter!());

/// `$1` now.
const DELETE_EXPIRED: &str = "DELETE FROM compare_results WHERE expires_at <= $1";

/// Binds a [`PreparedSave`] to [`UPSERT`].
macro_rules! bind_save {
    ($query:expr, $p:expr) => {
        $query
            .bind($p.compare_id.as_str())
            .bind($p.repository.as_str())
            .bind($p.chart_path.as_str())
            .bind($p.version1.as_str())
            .bind($p.version2.as_str())
            .bind($p.commit1.as_str())
            .bind($p.commit2.as_str())
            .bind($p.verdict.as_str())
            .bind($p.stats[0])
            .bind($p.stats[1])
            .bind($p.stats[2])
            .bind($p.stats[3])
            .bind($p.stats[4])
            .bind($p.compressed.as_slice())
            .bind($p.uncompressed_size)
            .bind($p.compressed_size)
            .bind($p.created_ms)
            .bind($p.expires_ms)
    };
}

/// Binds a [`ListFilter`] to [`LIST`] or [`COUNT`] (`$1`..`$5`).
macro_rules! bind_list {
    ($query:expr, $f:expr) => {
        $query
            .bind($f.now_ms)
            .bind($f.repository.as_deref())
            .bind($f.chart_path.as_deref())
            .bind($f.since_ms)
            .bind($f.until_ms)
    };
}

// ---- values as stored ----------------------------------------------------------------------

/// A [`NewResult`] converted to column values, its document compressed.
pub(crate) struct PreparedSave {
    pub(crate) compare_id: String,
    pub(crate) repository: String,
    pub(crate) chart_path: String,
    pub(crate) version1: String,
    pub(crate) version2: String,
    pub(crate) commit1: String,
    pub(crate) commit2: String,
    pub(crate) verdict: String,
    /// added, removed, modified, unchanged, total_changes
    pub(crate) stats: [i64; 5],
    pub(crate) compressed: Vec<u8>,
    pub(crate) uncompressed_size: i64,
    pub(crate) compressed_size: i64,
    pub(crate) created_ms: i64,
    pub(crate) expires_ms: i64,
}

impl PreparedSave {
    pub(crate) async fn new(r: NewResult) -> Result<PreparedSave, StoreError> {
        let compare_id = r.compare_id.into_string();
        let (document, compressed) = codec::compress_async(&compare_id, r.document).await?;
        let created_ms = time::floor_ms(r.created_at);
        let s = r.stats;
        Ok(PreparedSave {
            repository: r.repository,
            chart_path: r.chart_path,
            version1: r.version1,
            version2: r.version2,
            commit1: r.commit1,
            commit2: r.commit2,
            verdict: r.verdict,
            stats: [s.added, s.removed, s.modified, s.unchanged, s.total_changes].map(i64::from),
            uncompressed_size: len_i64(document.len()),
            compressed_size: len_i64(compressed.len()),
            compressed,
            created_ms,
            expires_ms: time::add_ttl_ms(created_ms, r.ttl),
            compare_id,
        })
    }

    pub(crate) fn added(&self) -> i64 {
        self.stats[0]
    }

    pub(crate) fn removed(&self) -> i64 {
        self.stats[1]
    }

    pub(crate) fn modified(&self) -> i64 {
        self.stats[2]
    }

    pub(crate) fn total_changes(&self) -> i64 {
        self.stats[4]
    }
}

fn len_i64(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// A [`ListQuery`]'s filters as bound (`$1`..`$5`), plus limit and offset.
struct ListFilter {
    pub(crate) now_ms: i64,
    pub(crate) repository: Option<String>,
    pub(crate) chart_path: Option<String>,
    pub(crate) since_ms: Option<i64>,
    pub(crate) until_ms: Option<i64>,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
}

impl From<ListQuery> for ListFilter {
    fn from(q: ListQuery) -> Self {
        ListFilter {
            now_ms: time::floor_ms(q.now),
            repository: q.repository,
            chart_path: q.chart_path,
            since_ms: q.since.map(time::ceil_ms),
            until_ms: q.until.map(time::ceil_ms),
            limit: i64::from(q.limit),
            offset: i64::from(q.offset),
        }
    }
}

/// The summary columns of a `compare_results` row.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    compare_id: String,
    repository: String,
    chart_path: String,
    version1: String,
    version2: String,
    commit1: String,
    commit2: String,
    verdict: String,
    added: i64,
    removed: i64,
    modified: i64,
    unchanged: i64,
    total_changes: i64,
    uncompressed_size: i64,
    compressed_size: i64,
    created_at: i64,
    expires_at: i64,
    compare_count: i64,
}

/// A whole `compare_results` row.
#[derive(sqlx::FromRow)]
struct DocumentRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    document: Vec<u8>,
}

impl SummaryRow {
    pub(crate) fn into_summary(self) -> Result<ResultSummary, StoreError> {
        let id = self.compare_id;
        let compare_id = id
            .parse::<CompareId>()
            .map_err(|e| StoreError::corrupt(&id, e.to_string()))?;
        let count = |name: &str, v: i64| {
            u32::try_from(v)
                .map_err(|_| StoreError::corrupt(&id, format!("{name} count {v} out of range")))
        };
        let size = |name: &str, v: i64| {
            u64::try_from(v)
                .map_err(|_| StoreError::corrupt(&id, format!("{name} {v} out of range")))
        };
        let instant = |name: &str, v: i64| {
            time::from_ms(v)
                .ok_or_else(|| StoreError::corrupt(&id, format!("{name} {v} out of range")))
        };
        Ok(ResultSummary {
            stats: ResultStats {
                added: count("added", self.added)?,
                removed: count("removed", self.removed)?,
                modified: count("modified", self.modified)?,
                unchanged: count("unchanged", self.unchanged)?,
                total_changes: count("total change", self.total_changes)?,
            },
            created_at: instant("created_at", self.created_at)?,
            expires_at: instant("expires_at", self.expires_at)?,
            uncompressed_size: size("uncompressed_size", self.uncompressed_size)?,
            compressed_size: size("compressed_size", self.compressed_size)?,
            compare_count: size("compare_count", self.compare_count)?,
            compare_id,
            repository: self.repository,
            chart_path: self.chart_path,
            version1: self.version1,
            version2: self.version2,
            commit1: self.commit1,
            commit2: self.commit2,
            verdict: self.verdict,
        })
    }
}

impl DocumentRow {
    pub(crate) async fn into_stored(self) -> Result<StoredResult, StoreError> {
        let summary = self.summary.into_summary()?;
        let document = codec::decompress_async(
            summary.compare_id.as_str(),
            self.document,
            summary.uncompressed_size,
        )
        .await?;
        Ok(StoredResult { summary, document })
    }
}

/// The outcome of an upsert: a live row existed when its count is above one.
fn save_outcome(row: SummaryRow) -> Result<SaveOutcome, StoreError> {
    let summary = row.into_summary()?;
    Ok(SaveOutcome {
        deduplicated: summary.compare_count > 1,
        summary,
    })
}

// ---- operations -----------------------------------------------------------------------------

impl<E: Engine> SqlStore<E> {
    #[tracing::instrument(skip_all, fields(backend = %E::BACKEND, compare_id = %r.compare_id))]
    pub(crate) async fn save(&self, r: NewResult) -> Result<SaveOutcome, StoreError> {
        let p = PreparedSave::new(r).await?;
        let op = "save result";
        let mut tx = self.begin_write(op).await?;
        E::sql(DELETE_EXPIRED_ONE)
            .bind(p.compare_id.as_str())
            .bind(p.created_ms)
            .execute(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        let row: SummaryRow = bind_save!(E::sql(UPSERT), p)
            .fetch_one(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        bind_event!(E::sql(analytics::INSERT_EVENT), p)
            .execute(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        let outcome = save_outcome(row)?;
        tracing::debug!(
            deduplicated = outcome.deduplicated,
            compare_count = outcome.summary.compare_count,
            "result saved"
        );
        Ok(outcome)
    }

    #[tracing::instrument(skip_all, fields(backend = %E::BACKEND, compare_id = %id))]
    pub(crate) async fn get(
        &self,
        id: &CompareId,
        now: Timestamp,
    ) -> Result<Option<StoredResult>, StoreError> {
        let op = "get result";
        let mut conn = self.conn(op).await?;
        let row: Option<DocumentRow> = E::sql(GET)
            .bind(id.as_str())
            .bind(time::floor_ms(now))
            .fetch_optional(&mut conn)
            .await
            .map_err(StoreError::query(op))?;
        drop(conn);
        match row {
            Some(row) => Ok(Some(row.into_stored().await?)),
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(backend = %E::BACKEND))]
    pub(crate) async fn list(&self, q: ListQuery) -> Result<ResultPage, StoreError> {
        let f = ListFilter::from(q);
        let op = "list results";
        // One read transaction: the page and the total come from the same snapshot.
        let mut tx = self
            .engine
            .begin_read()
            .await
            .map_err(StoreError::query(op))?;
        let rows: Vec<SummaryRow> = bind_list!(E::sql(LIST), f)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(&mut tx)
            .await
            .map_err(StoreError::query(op))?;
        let total: i64 = bind_list!(E::sql(COUNT), f)
            .fetch_scalar(&mut tx)
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

    /// Removes expired results and old compare events.
    #[tracing::instrument(skip_all, fields(backend = %E::BACKEND))]
    pub(crate) async fn delete(
        &self,
        now: Timestamp,
        events_before: Timestamp,
    ) -> Result<u64, StoreError> {
        let op = "delete expired";
        let mut tx = self.begin_write(op).await?;
        let results = E::sql(DELETE_EXPIRED)
            .bind(time::floor_ms(now))
            .execute(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        let events = E::sql(analytics::DELETE_OLD_EVENTS)
            .bind(time::ceil_ms(events_before))
            .execute(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        tracing::info!(results, events, "expired rows deleted");
        Ok(results + events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> SummaryRow {
        SummaryRow {
            compare_id: "ab".repeat(32),
            repository: "r".into(),
            chart_path: "c".into(),
            version1: "v1".into(),
            version2: "v2".into(),
            commit1: "a".into(),
            commit2: "b".into(),
            verdict: "low-risk".into(),
            added: 1,
            removed: 2,
            modified: 3,
            unchanged: 4,
            total_changes: 5,
            uncompressed_size: 10,
            compressed_size: 8,
            created_at: 1_000,
            expires_at: 2_000,
            compare_count: 1,
        }
    }

    #[test]
    fn row_decodes() {
        let s = row().into_summary().unwrap();
        assert_eq!(s.stats.total_changes, 5);
        assert_eq!(s.created_at, Timestamp::from_millisecond(1_000).unwrap());
        assert_eq!(s.compare_count, 1);
    }

    #[test]
    fn out_of_range_values_are_corrupt() {
        type Mutation = fn(&mut SummaryRow);
        let cases: [(Mutation, &str); 4] = [
            (|r| r.added = -1, "added count -1 out of range"),
            (|r| r.expires_at = i64::MAX, "expires_at"),
            (|r| r.compressed_size = -5, "compressed_size -5"),
            (|r| r.compare_id = "XYZ".into(), "compare id must be"),
        ];
        for (mutate, want) in cases {
            let mut r = row();
            mutate(&mut r);
            let err = r.into_summary().unwrap_err();
            assert!(matches!(err, StoreError::Corrupt { .. }));
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    #[test]
    fn list_filter_rounds_bounds() {
        let t: Timestamp = "2025-01-01T00:00:00.0005Z".parse().unwrap();
        let mut q = ListQuery::new(t);
        q.since = Some(t);
        q.until = Some(t);
        let f = ListFilter::from(q);
        assert_eq!(f.now_ms, time::floor_ms(t));
        assert_eq!(f.since_ms, Some(f.now_ms + 1));
        assert_eq!(f.until_ms, Some(f.now_ms + 1));
        assert_eq!(f.limit, 50);
    }

    #[test]
    fn debug_does_not_dump_documents() {
        let r = NewResult {
            compare_id: CompareId::from_digest([0; 32]),
            repository: String::new(),
            chart_path: String::new(),
            version1: String::new(),
            version2: String::new(),
            commit1: String::new(),
            commit2: String::new(),
            verdict: String::new(),
            stats: ResultStats::default(),
            document: vec![b'x'; 1000],
            created_at: Timestamp::UNIX_EPOCH,
            ttl: Duration::from_secs(1),
        };
        let debug = format!("{r:?}");
        assert!(debug.contains("document_len: 1000"), "{debug}");
        assert!(!debug.contains("xxxx"), "{debug}");
    }
}
