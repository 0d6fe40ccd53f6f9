//! Persistence for the ChartImpact server.
//!
//! store keeps what the server must remember between requests and share between replicas:
//! compare results served as permalinks (compressed, with a time to live) and the compare
//! events that analytics are computed from. Webhook deliveries and the durable job queue will
//! live here too.
//!
//! There is one trait, [`Store`], and two backends behind it, chosen by the database URL given
//! to [`open`]:
//!
//! - **SQLite** (`sqlite://PATH`, `sqlite:PATH` or a path ending in `.db`/`.sqlite`), embedded,
//!   in WAL mode: the default, so one command starts a working server;
//! - **PostgreSQL** (`postgres://…`, `postgresql://…`), for several replicas sharing one
//!   database.
//!
//! Migrations are embedded per backend and applied at [`open`]. Timestamps are stored as unix
//! milliseconds in both backends and passed in by the caller as [`jiff::Timestamp`]s (the store
//! never reads the clock, so tests control time). Documents are opaque bytes to this crate,
//! compressed with zstd on the way in and checked on the way out: a row that cannot be
//! decompressed is a [`StoreError::Corrupt`], never a panic.
//!
//! Saving the same [`CompareId`] again while its result is live is deduplicated: the stored
//! document stays, its expiry is extended and its compare count grows. Every save, deduplicated
//! or not, also records a compare event, so [`Store::popular_charts`] counts repeated compares.
//!
//! ```no_run
//! use std::time::Duration;
//! use store::{CompareId, ListQuery, NewResult, OpenOptions, ResultStats};
//!
//! # async fn demo() -> Result<(), store::StoreError> {
//! let store = store::open("sqlite://data/chartimpact.db", &OpenOptions::default()).await?;
//! let now = jiff::Timestamp::now();
//! let id: CompareId = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//!     .parse()
//!     .expect("64 lowercase hex digits");
//! let saved = store
//!     .save_result(NewResult {
//!         compare_id: id.clone(),
//!         repository: "https://github.com/example/charts".into(),
//!         chart_path: "charts/app".into(),
//!         version1: "v1.0.0".into(),
//!         version2: "v1.1.0".into(),
//!         commit1: "0123456789abcdef0123456789abcdef01234567".into(),
//!         commit2: "89abcdef0123456789abcdef0123456789abcdef".into(),
//!         verdict: "low-risk".into(),
//!         stats: ResultStats { added: 1, removed: 0, modified: 2, unchanged: 7, total_changes: 5 },
//!         document: br#"{"success":true}"#.to_vec(),
//!         created_at: now,
//!         ttl: Duration::from_secs(30 * 24 * 3600),
//!     })
//!     .await?;
//! assert!(!saved.deduplicated);
//!
//! let stored = store.get_result(&id, now).await?.expect("just saved");
//! assert_eq!(stored.document, br#"{"success":true}"#);
//!
//! let page = store.list_results(ListQuery::new(now)).await?;
//! assert_eq!(page.total, 1);
//! store.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Cargo features
//!
//! - `testing`: the [`testing`] module, a throwaway PostgreSQL cluster for tests (this crate's
//!   and the server's) with one fresh database per test.
#![deny(missing_docs)]

mod analytics;
mod codec;
mod error;
mod id;
mod open;
mod postgres;
mod results;
mod schema;
mod sqlite;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod url;

pub use analytics::{Popular, PopularChart, PopularQuery};
pub use error::StoreError;
pub use id::{CompareId, InvalidCompareId};
pub use open::{Backend, OpenOptions, open};
pub use results::{
    ListQuery, NewResult, ResultPage, ResultStats, ResultSummary, SaveOutcome, StoredResult,
};
pub use store::{Store, StoreFuture};
pub use url::redact_url;
