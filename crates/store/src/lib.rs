//! Persistence for the ChartImpact server.
//!
//! store keeps what the server must remember between requests and share between replicas:
//! compare results served as permalinks (compressed, with a time to live), the compare
//! events that analytics are computed from, the webhook deliveries seen and the durable job
//! queue of the webhook pipeline, and the ids of what was published on each pull request.
//!
//! There is one trait, [`Store`], and two backends behind it, chosen by the database URL given
//! to [`open`]:
//!
//! - **SQLite** (`sqlite://PATH`, `sqlite:PATH` or a path ending in `.db`/`.sqlite`), embedded,
//!   in WAL mode: the default, so one command starts a working server;
//! - **PostgreSQL** (`postgres://…`, `postgresql://…`), for several replicas sharing one
//!   database.
//!
//! Both backends are one implementation: the statements are portable, and the code that runs
//! them is written once, generic over the backend, with only how transactions begin, the job
//! claim and SQLite's grouped webhook intake written per backend.
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
//! # Jobs
//!
//! The webhook pipeline's queue: [`Store::enqueue_job`] records a job per trigger (coalescing
//! repeats of one revision, superseding older revisions of the same key, deferring when
//! [`QueueLimits`] say the queue is full); workers [`claim`](Store::claim_job) jobs under a
//! lease, [`heartbeat`](Store::heartbeat_job) while they work and
//! [`complete`](Store::complete_job) or [`fail`](Store::fail_job) them. A job whose worker
//! crashed is taken over when its lease expires, so nothing is lost, and a job completes at
//! most once. Webhook deliveries are recorded with [`Store::record_delivery`] so redeliveries
//! are recognized; [`Store::accept_delivery`] records a delivery, enqueues its job and links
//! the two in one transaction (the webhook intake).
//!
//! A job analyses one trigger of one **key** (e.g. `acme/charts#pr/7`); the trigger is named by
//! its **revision** (the head sha of a pull request, a pushed commit, a tag). Jobs are
//! *active* while [`Queued`](JobStatus::Queued), [`Deferred`](JobStatus::Deferred) or
//! [`Running`](JobStatus::Running), and **at most one job of a key is active** (a unique index
//! enforces it). A key is compared by its [identity](JobKey::identity): with the repository's
//! numeric id when the key has one ([`JobKey::with_repo_id`], as webhook jobs do), so a
//! repository renamed between two triggers keeps its key, its per-repository limit and its
//! latest job; the name is kept for people and API calls, the newest one seen:
//!
//! - enqueueing a revision that an active job of the key already has is *coalesced*: that job
//!   is returned and nothing is inserted (if the repository was renamed meanwhile, the job
//!   takes the new name);
//! - enqueueing another revision *supersedes* the active job: it becomes
//!   [`Superseded`](JobStatus::Superseded) (`superseded_by` the new job). A superseded queued job
//!   is finished at once; a superseded running one keeps its lease, and its worker learns at
//!   its next [`heartbeat`](crate::Store::heartbeat_job) (which answers
//!   [`JobLease::Superseded`]) and cannot [`complete`](crate::Store::complete_job) it.
//!
//! A new job is [`Queued`](JobStatus::Queued), unless the queue is full
//! ([`QueueLimits::max_queued`] jobs queued over all repositories) or its repository is
//! ([`QueueLimits::max_active_per_repo`] jobs queued or running): then it is recorded as
//! [`Deferred`](JobStatus::Deferred), which callers can show ("waiting: queue full").
//!
//! **Claiming** takes the job with the oldest `(run_at, id)` among
//!
//! - queued jobs due (`run_at <= now`),
//! - deferred jobs due, but only while fewer than [`QueueLimits::max_queued`] jobs are queued
//!   (deferred jobs wait behind a full queue, then run in `run_at` order with the rest),
//! - running jobs whose lease expired (`lease_until < now`: their worker crashed or hung),
//!   which are taken over. One whose attempts already reached `max_attempts` is failed
//!   instead ("worker lost … after N attempts"),
//!
//! skipping repositories with [`QueueLimits::max_active_per_repo`] running jobs (with unexpired
//! leases) and keys that another job still holds. A job *holds* its key from claim until its
//! worker completes or fails it, a heartbeat tells the worker that the job was superseded or
//! cancelled, or the lease expires, **whatever its status meanwhile**: the job that superseded
//! a running one starts once the old worker has been told to stop, so two workers do not work
//! on one key at once. Claiming sets the job running with `locked_by`, `lease_until = now +
//! lease`, `started_at` (the first time) and counts an attempt.
//!
//! A lease is the worker's as long as the job is running with its name in `locked_by`: a lease
//! that expired but that no one took over yet can still be renewed or completed. Once another
//! worker took the job over, the old worker's heartbeats answer [`JobLease::Lost`] and its
//! completion is refused, so no job is ever completed twice.
//!
//! Every change is one transaction: on SQLite a write transaction (`BEGIN IMMEDIATE`); on
//! PostgreSQL, claims select with `FOR UPDATE SKIP LOCKED` (and serialize per repository on an
//! advisory lock, so the per-repository limit holds across replicas) and changes to a key
//! serialize on an advisory lock of the key. On SQLite, webhook deliveries accepted at the
//! same time share one transaction (group commit), each answered once it is committed.
//!
//! Instants are stored to the millisecond: `now` is rounded down, a `retry_at` up (a retry is
//! never due before its time).
//!
//! ```no_run
//! use std::time::Duration;
//! use store::{JobKey, JobLease, NewJob, QueueLimits};
//!
//! # async fn demo(store: std::sync::Arc<dyn store::Store>) -> Result<(), store::StoreError> {
//! let limits = QueueLimits { max_queued: 1000, max_active_per_repo: 4 };
//! let now = jiff::Timestamp::now();
//! let key: JobKey = "acme/charts#pr/7".parse().expect("a pull request's key");
//! let enqueued = store
//!     .enqueue_job(
//!         NewJob {
//!             key: key.clone(),
//!             revision: "0123456789abcdef0123456789abcdef01234567".into(),
//!             payload: br#"{"pr":7}"#.to_vec(),
//!             max_attempts: 3,
//!             now,
//!         },
//!         limits,
//!     )
//!     .await?;
//!
//! // A worker:
//! let lease = Duration::from_secs(60);
//! if let Some(job) = store.claim_job("replica-1/worker-0", lease, now, limits).await? {
//!     // ... work, renewing the lease now and then; stop unless it is still held:
//!     let lease = store.heartbeat_job(job.id, "replica-1/worker-0", lease, now).await?;
//!     if lease != JobLease::Held { /* stop, publish nothing */ }
//!     let recorded = store
//!         .complete_job(job.id, "replica-1/worker-0", vec![], jiff::Timestamp::now())
//!         .await?;
//!     println!("job {} done: {recorded}", job.id);
//! }
//! let latest = store.latest_job(&key).await?.expect("just enqueued");
//! assert_eq!(latest.id, enqueued.job_id);
//! # Ok(())
//! # }
//! ```
//!
//! # Publications
//!
//! The GitHub publisher's ids per pull request ([`Publication`]): its sticky comment and the
//! latest check run it started, so every replica updates the same ones
//! ([`Store::get_publication`], [`Store::set_comment_id`], [`Store::set_check_run`]).
//!
//! # Domain types
//!
//! The store speaks the webhook pipeline's identifiers, not strings: a job's [`JobKey`] (from
//! which its [`RepoName`] and kind follow), a delivery's [`DeliveryId`], the repository of a
//! publication, a check run's [`CommitSha`]. They are re-exported from `github-ids`, a small
//! crate below both this one and the webhook parser (`github-events`), whose `sqlx` feature
//! (enabled here) makes each a `sqlx::Type` for SQLite and PostgreSQL, stored as TEXT, as
//! rust-lang/bors does for its repository names. They live there rather than here or in
//! `github-events` so that dependencies point down: the store needs no webhook parsing, the
//! parser and the GitHub client no database, and there is one `RepoName`, not a copy per crate
//! to convert between. A stored value that is no longer valid (edited behind the store's
//! back) is a [`StoreError::CorruptColumn`] naming the column and the rule it breaks.
//!
//! # Cargo features
//!
//! - `testing`: the `testing` module, a throwaway PostgreSQL cluster for tests (this crate's
//!   and the server's) with one fresh database per test.
#![deny(missing_docs)]

mod analytics;
mod codec;
mod deliveries;
mod engine;
mod error;
mod id;
mod jobs;
mod open;
mod postgres;
mod publications;
mod results;
mod schema;
mod sql;
mod sqlite;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod url;

pub use analytics::{Popular, PopularChart, PopularQuery};
pub use deliveries::{AcceptOutcome, Delivery, DeliveryRecord, MAX_DELIVERIES, NewDelivery};
pub use error::StoreError;
pub use github_ids::{CommitSha, DeliveryId, JobKey, RepoName};
pub use id::{CompareId, InvalidCompareId};
pub use jobs::{
    EnqueueOutcome, InvalidJobId, InvalidJobStatus, Job, JobId, JobLease, JobQuery, JobStatus,
    NewJob, QueueLimits, QueueStats,
};
pub use open::{Backend, OpenOptions, open};
pub use publications::{CheckRunRef, Publication};
pub use results::{
    ListQuery, NewResult, ResultPage, ResultStats, ResultSummary, SaveOutcome, StoredResult,
};
pub use store::{Store, StoreFuture};
pub use url::redact_url;
