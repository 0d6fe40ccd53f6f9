//! Test databases on both backends, fixtures and a log capture.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use sqlx::Connection as _;
use store::{
    Backend, CommitSha, CompareId, DeliveryId, JobKey, NewJob, NewResult, OpenOptions, QueueLimits,
    RepoName, ResultStats, Store,
};

/// An empty database on one backend; not opened yet.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh SQLite database and, when available, a fresh PostgreSQL database.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![sqlite()];
    if let Some(pg) = store::testing::postgres() {
        dbs.push(TestDb {
            backend: Backend::Postgres,
            url: pg.fresh_database().await,
            _dir: None,
        });
    }
    dbs
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    TestDb {
        backend: Backend::Sqlite,
        url,
        _dir: Some(dir),
    }
}

/// A bind value for [`TestDb::execute`].
pub enum Arg<'a> {
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl TestDb {
    pub async fn open(&self) -> Arc<dyn Store> {
        eprintln!("-- on {}", self.backend);
        let store = store::open(&self.url, &OpenOptions::default())
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", self.backend));
        assert_eq!(store.backend(), self.backend);
        store
    }

    /// Runs a statement straight on the database, behind the store's back.
    pub async fn execute(&self, sql: &'static str, args: &[Arg<'_>]) -> u64 {
        macro_rules! run {
            ($conn:ty) => {{
                let mut conn = <$conn>::connect(&self.url).await.unwrap();
                let mut query = sqlx::query(sql);
                for arg in args {
                    query = match arg {
                        Arg::Int(v) => query.bind(*v),
                        Arg::Text(v) => query.bind(*v),
                        Arg::Bytes(v) => query.bind(*v),
                    };
                }
                let done = query.execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                done.rows_affected()
            }};
        }
        match self.backend {
            Backend::Sqlite => run!(sqlx::SqliteConnection),
            Backend::Postgres => run!(sqlx::PgConnection),
        }
    }

    /// A single BIGINT from the database.
    pub async fn scalar(&self, sql: &'static str) -> i64 {
        macro_rules! run {
            ($conn:ty) => {{
                let mut conn = <$conn>::connect(&self.url).await.unwrap();
                let v: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                v
            }};
        }
        match self.backend {
            Backend::Sqlite => run!(sqlx::SqliteConnection),
            Backend::Postgres => run!(sqlx::PgConnection),
        }
    }
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The clock the tests start at.
pub fn t0() -> Timestamp {
    ts("2025-06-01T12:00:00Z")
}

pub fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

pub fn after(t: Timestamp, d: Duration) -> Timestamp {
    t + jiff::SignedDuration::try_from(d).unwrap()
}

pub fn id(n: u8) -> CompareId {
    CompareId::from_digest([n; 32])
}

/// A result for chart `charts/app` of `example/charts`, created at `at`, live for an hour.
pub fn result(id: CompareId, at: Timestamp) -> NewResult {
    NewResult {
        document: format!(
            r#"{{"success":true,"compareId":"{id}","diff":"{}"}}"#,
            "x".repeat(200)
        )
        .into_bytes(),
        compare_id: id,
        repository: "https://github.com/example/charts".into(),
        chart_path: "charts/app".into(),
        version1: "v1.0.0".into(),
        version2: "v1.1.0".into(),
        commit1: "1".repeat(40),
        commit2: "2".repeat(40),
        verdict: "medium-risk".into(),
        stats: ResultStats {
            added: 1,
            removed: 0,
            modified: 2,
            unchanged: 10,
            total_changes: 6,
        },
        created_at: at,
        ttl: minutes(60),
    }
}

/// A pull request job of `acme/charts` for `key` at `revision`, enqueued at `now`, three
/// attempts.
pub fn job(text: &str, revision: &str, now: Timestamp) -> NewJob {
    NewJob {
        key: key(text),
        revision: revision.into(),
        payload: format!(r#"{{"key":"{text}","revision":"{revision}"}}"#).into_bytes(),
        max_attempts: 3,
        now,
    }
}

/// The job key `text` (e.g. `acme/charts#pr/1`).
pub fn key(text: &str) -> JobKey {
    text.parse().unwrap()
}

/// The repository `text` (e.g. `acme/charts`).
pub fn repo(text: &str) -> RepoName {
    text.parse().unwrap()
}

/// The delivery id `text`.
pub fn delivery_id(text: &str) -> DeliveryId {
    text.parse().unwrap()
}

/// A commit made from `seed`: its bytes in hex, padded with zeros to 40 digits.
pub fn sha(seed: &str) -> CommitSha {
    let hex: String = seed.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex:0<40}").parse().unwrap()
}

pub const NO_LIMITS: QueueLimits = QueueLimits::UNLIMITED;

/// The lease the job tests take: one minute.
pub const LEASE: Duration = Duration::from_secs(60);

pub fn seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Records what is logged on this thread while it lives.
///
/// One global subscriber routes to per-thread buffers: thread-local default subscribers race
/// on tracing's global callsite-interest cache when tests run in parallel.
pub struct LogCapture(Arc<Mutex<String>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Arc<Mutex<String>>>> =
        const { std::cell::RefCell::new(None) };
}

impl LogCapture {
    pub fn start() -> LogCapture {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            tracing::subscriber::set_global_default(Router).expect("no other global subscriber");
        });
        let buffer = Arc::new(Mutex::new(String::new()));
        CAPTURE.with(|c| *c.borrow_mut() = Some(Arc::clone(&buffer)));
        LogCapture(buffer)
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

fn with_buffer(f: impl FnOnce(&mut String)) {
    CAPTURE.with(|c| {
        if let Some(buffer) = &*c.borrow() {
            f(&mut buffer.lock().unwrap());
        }
    });
}

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

struct Router;

impl tracing::Subscriber for Router {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        // Ask every time: whether a thread captures changes while the process runs.
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        CAPTURE.with(|c| c.borrow().is_some())
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        with_buffer(|out| {
            let _ = write!(out, "span {}", span.metadata().name());
            span.record(&mut Fields(out));
            out.push('\n');
        });
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        with_buffer(|out| {
            values.record(&mut Fields(out));
            out.push('\n');
        });
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        with_buffer(|out| {
            let _ = write!(out, "{}", event.metadata().level());
            event.record(&mut Fields(out));
            out.push('\n');
        });
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// The error and its sources, Display and Debug, on one line.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{err} / {err:?}");
    let mut source = err.source();
    while let Some(e) = source {
        let _ = write!(out, " / {e} / {e:?}");
        source = e.source();
    }
    out
}
