//! Compare events (table `compare_events`) and the analytics computed from them.
//!
//! Every save of a result appends one event, deduplicated or not, so a chart compared ten
//! times counts ten times. Events outlive the results they describe until
//! [`Store::delete_expired`](crate::Store::delete_expired) removes them by age.

use jiff::Timestamp;

use crate::engine::{Engine, SqlStore};
use crate::{StoreError, time};

/// Which window [`Store::popular_charts`](crate::Store::popular_charts) looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct PopularQuery {
    /// Events at or after this instant count.
    pub since: Timestamp,
    /// Events before this instant count.
    pub until: Timestamp,
    /// At most this many charts.
    pub limit: u32,
}

impl PopularQuery {
    /// The default number of charts of [`PopularQuery::new`].
    pub const DEFAULT_LIMIT: u32 = 10;

    /// The top [`PopularQuery::DEFAULT_LIMIT`] charts compared in `since..until`.
    pub fn new(since: Timestamp, until: Timestamp) -> PopularQuery {
        PopularQuery {
            since,
            until,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// How often one chart was compared in the window.
#[derive(Clone, Debug, PartialEq)]
pub struct PopularChart {
    /// The repository URL or path.
    pub repository: String,
    /// The chart directory inside the repository.
    pub chart_path: String,
    /// How many compares (saves) there were.
    pub comparison_count: u64,
    /// How many of them found added, removed or modified resources.
    pub with_changes: u64,
    /// Mean modified resources per compare.
    pub avg_modified: f64,
    /// Mean added resources per compare.
    pub avg_added: f64,
    /// Mean removed resources per compare.
    pub avg_removed: f64,
    /// The latest compare in the window (millisecond precision).
    pub last_compared_at: Timestamp,
}

/// The most compared charts, and how many compares the window holds in all.
#[derive(Clone, Debug, PartialEq)]
pub struct Popular {
    /// Most compared first; ties go to the most recently compared, then by repository and
    /// chart path.
    pub charts: Vec<PopularChart>,
    /// All compares in the window, over all charts.
    pub total_comparisons: u64,
}

// ---- SQL ------------------------------------------------------------------------------------

/// Appends an event: `$1` compare id, `$2` repository, `$3` chart path, `$4` at, `$5` added,
/// `$6` removed, `$7` modified, `$8` total changes.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO compare_events \
     (compare_id, repository, chart_path, at, added, removed, modified, total_changes) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// `$1` since (inclusive), `$2` until (exclusive), `$3` limit.
///
/// `COUNT(CASE …)` rather than `SUM`, and `AVG` cast to double, so both backends return
/// BIGINT and DOUBLE PRECISION.
const POPULAR: &str = "SELECT repository, chart_path, \
     COUNT(*) AS comparison_count, \
     COUNT(CASE WHEN added + removed + modified > 0 THEN 1 END) AS with_changes, \
     CAST(AVG(modified) AS DOUBLE PRECISION) AS avg_modified, \
     CAST(AVG(added) AS DOUBLE PRECISION) AS avg_added, \
     CAST(AVG(removed) AS DOUBLE PRECISION) AS avg_removed, \
     MAX(at) AS last_compared_at \
     FROM compare_events WHERE at >= $1 AND at < $2 \
     GROUP BY repository, chart_path \
     ORDER BY comparison_count DESC, last_compared_at DESC, repository, chart_path \
     LIMIT $3";

/// `$1` since (inclusive), `$2` until (exclusive).
const TOTAL: &str = "SELECT COUNT(*) FROM compare_events WHERE at >= $1 AND at < $2";

/// `$1` events before this are removed.
pub(crate) const DELETE_OLD_EVENTS: &str = "DELETE FROM compare_events WHERE at < $1";

/// Binds a [`PreparedSave`](crate::results::PreparedSave) to [`INSERT_EVENT`].
macro_rules! bind_event {
    ($query:expr, $p:expr) => {
        $query
            .bind($p.compare_id.as_str())
            .bind($p.repository.as_str())
            .bind($p.chart_path.as_str())
            .bind($p.created_ms)
            .bind($p.added())
            .bind($p.removed())
            .bind($p.modified())
            .bind($p.total_changes())
    };
}
pub(crate) use bind_event;

/// A [`PopularQuery`] as bound.
struct Window {
    pub(crate) since_ms: i64,
    pub(crate) until_ms: i64,
    pub(crate) limit: i64,
}

impl From<&PopularQuery> for Window {
    fn from(q: &PopularQuery) -> Self {
        Window {
            since_ms: time::ceil_ms(q.since),
            until_ms: time::ceil_ms(q.until),
            limit: i64::from(q.limit),
        }
    }
}

#[derive(sqlx::FromRow)]
struct PopularRow {
    repository: String,
    chart_path: String,
    comparison_count: i64,
    with_changes: i64,
    avg_modified: f64,
    avg_added: f64,
    avg_removed: f64,
    last_compared_at: i64,
}

impl PopularRow {
    pub(crate) fn into_chart(self) -> Result<PopularChart, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt {
            compare_id: format!("(events of {} {})", self.repository, self.chart_path),
            reason: format!("{what} out of range"),
        };
        Ok(PopularChart {
            comparison_count: u64::try_from(self.comparison_count)
                .map_err(|_| corrupt("comparison count"))?,
            with_changes: u64::try_from(self.with_changes).map_err(|_| corrupt("change count"))?,
            last_compared_at: time::from_ms(self.last_compared_at)
                .ok_or_else(|| corrupt("last compare time"))?,
            avg_modified: self.avg_modified,
            avg_added: self.avg_added,
            avg_removed: self.avg_removed,
            repository: self.repository,
            chart_path: self.chart_path,
        })
    }
}

fn popular(rows: Vec<PopularRow>, total: i64) -> Result<Popular, StoreError> {
    Ok(Popular {
        charts: rows
            .into_iter()
            .map(PopularRow::into_chart)
            .collect::<Result<_, _>>()?,
        total_comparisons: u64::try_from(total).unwrap_or(0),
    })
}

// ---- operations -----------------------------------------------------------------------------

impl<E: Engine> SqlStore<E> {
    #[tracing::instrument(skip_all, fields(backend = %E::BACKEND))]
    pub(crate) async fn popular(&self, q: PopularQuery) -> Result<Popular, StoreError> {
        let w = Window::from(&q);
        let op = "popular charts";
        let mut tx = self
            .engine
            .begin_read()
            .await
            .map_err(StoreError::query(op))?;
        let rows: Vec<PopularRow> = E::sql(POPULAR)
            .bind(w.since_ms)
            .bind(w.until_ms)
            .bind(w.limit)
            .fetch_all(&mut tx)
            .await
            .map_err(StoreError::query(op))?;
        let total: i64 = E::sql(TOTAL)
            .bind(w.since_ms)
            .bind(w.until_ms)
            .fetch_scalar(&mut tx)
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        popular(rows, total)
    }
}
