use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::url::{self, Target};
use crate::{Store, StoreError, postgres, sqlite};

/// The database behind a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a database URL selects (see [`open`]), without connecting.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        url::backend(url)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// Connection pool settings for [`open`].
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// The most connections the pool holds; `None` means 16 for PostgreSQL and 8 for SQLite.
    pub max_connections: Option<u32>,
    /// How long a query waits for a free connection before failing (5 s).
    pub acquire_timeout: Duration,
    /// SQLite only: how long a statement waits for another connection's write lock (5 s).
    pub busy_timeout: Duration,
}

impl OpenOptions {
    /// The default settings.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    pub(crate) fn max_connections_for(&self, backend: Backend) -> u32 {
        self.max_connections.unwrap_or(match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        })
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_connections: None,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Opens (creating if needed) the database a URL names and brings its schema up to date.
///
/// Accepted URLs:
///
/// - `sqlite://PATH`, `sqlite:PATH`, or a plain file path ending in `.db`, `.sqlite` or
///   `.sqlite3`: a SQLite file, created (with its directory) when missing and used in WAL
///   mode with `synchronous=NORMAL`, foreign keys on and a busy timeout;
/// - `postgres://…` or `postgresql://…`: a PostgreSQL server (the usual libpq URL parameters
///   such as `sslmode` apply).
///
/// Anything else is [`StoreError::UnsupportedUrl`]. Pending migrations are applied before this
/// returns; several replicas opening the same PostgreSQL database at once serialize on an
/// advisory lock.
pub async fn open(url: &str, options: &OpenOptions) -> Result<Arc<dyn Store>, StoreError> {
    let redacted = url::redact_url(url);
    let store: Arc<dyn Store> = match url::parse(url)? {
        Target::Sqlite(path) => Arc::new(sqlite::SqliteEngine::open(&path, options).await?),
        Target::Postgres(connect) => {
            Arc::new(postgres::PostgresEngine::open(*connect, options).await?)
        }
    };
    tracing::info!(
        backend = %store.backend(),
        url = %redacted,
        schema_version = store.schema_version(),
        "database opened"
    );
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_display() {
        assert_eq!(Backend::Sqlite.to_string(), "sqlite");
        assert_eq!(Backend::Postgres.to_string(), "postgres");
    }

    #[test]
    fn backend_from_url() {
        assert_eq!(Backend::from_url("x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://h/db").is_err());
    }

    #[test]
    fn default_pool_sizes() {
        let options = OpenOptions::default();
        assert_eq!(options.max_connections_for(Backend::Sqlite), 8);
        assert_eq!(options.max_connections_for(Backend::Postgres), 16);
        assert_eq!(options.acquire_timeout, Duration::from_secs(5));
        let options = OpenOptions {
            max_connections: Some(3),
            ..OpenOptions::default()
        };
        assert_eq!(options.max_connections_for(Backend::Postgres), 3);
    }
}
