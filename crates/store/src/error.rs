use crate::{Backend, RepoName};

/// Everything that can go wrong in the store.
///
/// Messages never contain a database password: URLs are passed through [`crate::redact_url`]
/// before they are put into an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL names no backend this crate supports.
    #[error(
        "unsupported database url `{url}` ({reason}): expected sqlite://PATH, sqlite:PATH, \
         a file path ending in .db, .sqlite or .sqlite3, postgres://… or postgresql://…"
    )]
    UnsupportedUrl {
        /// The URL with any password removed.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The URL names a supported backend but its parameters are invalid.
    #[error("invalid {backend} database url `{url}`")]
    InvalidUrl {
        /// The backend the URL's scheme selects.
        backend: Backend,
        /// The URL with any password removed.
        url: String,
        /// What the driver objected to.
        #[source]
        source: sqlx::Error,
    },
    /// The directory that should hold the SQLite database could not be created.
    #[error("cannot create directory {path} for the sqlite database")]
    CreateDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be reached (or, for SQLite, opened).
    #[error("cannot connect to the {backend} database")]
    Connect {
        /// Which backend.
        backend: Backend,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the embedded schema migrations failed.
    #[error("cannot migrate the {backend} database schema")]
    Migrate {
        /// Which backend.
        backend: Backend,
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed (including pool timeouts and a closed store).
    #[error("database query failed: {operation}")]
    Query {
        /// What the store was doing, e.g. `save result`.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A document could not be compressed.
    #[error("cannot compress the document of compare {compare_id}")]
    Compress {
        /// The result being saved.
        compare_id: String,
        /// zstd's error.
        #[source]
        source: std::io::Error,
    },
    /// A stored row cannot be read back: its document does not decompress, a size or
    /// timestamp is out of range, or its id is malformed.
    #[error("stored result {compare_id} is corrupt: {reason}")]
    Corrupt {
        /// The compare id of the row, as stored.
        compare_id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored job (or the job a webhook delivery links to) cannot be read back: its status
    /// is unknown, a count or timestamp is out of range, or its compare ids are malformed.
    #[error("stored job {job_id} is corrupt: {reason}")]
    CorruptJob {
        /// The id of the row, as stored.
        job_id: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// The stored ids of a pull request's publication cannot be read back.
    #[error("stored publication of {repo}#{number} is corrupt: {reason}")]
    CorruptPublication {
        /// The repository, e.g. `acme/charts`.
        repo: RepoName,
        /// The pull request number.
        number: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored value cannot be read back as what its column holds, e.g. a job's repository
    /// that is not `owner/name` (written behind the store's back, or damaged).
    #[error("a stored {column} cannot be read back ({operation})")]
    CorruptColumn {
        /// What the store was doing, e.g. `get job`.
        operation: &'static str,
        /// The column, e.g. `repo`.
        column: String,
        /// Why the value does not decode (e.g. the rule an id breaks).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A number given to the store does not fit its column (a signed 64-bit integer).
    #[error("{what} {value} is out of range")]
    OutOfRange {
        /// What the number is, e.g. `comment id`.
        what: &'static str,
        /// The number.
        value: u64,
    },
    /// The job or webhook delivery named does not exist.
    #[error("no {what} {id}")]
    NotFound {
        /// `job` or `webhook delivery`.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The async runtime is shutting down and cancelled the work.
    #[error("the async runtime is shutting down")]
    Shutdown,
}

impl StoreError {
    /// A failed statement, or a value read by it that does not decode (a corrupt column,
    /// not a database that is unavailable).
    pub(crate) fn query(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| match source {
            sqlx::Error::ColumnDecode { index, source } => StoreError::CorruptColumn {
                operation,
                column: index.trim_matches('"').to_owned(),
                source,
            },
            source => StoreError::Query { operation, source },
        }
    }

    pub(crate) fn corrupt(compare_id: &str, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            compare_id: compare_id.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn corrupt_job(job_id: i64, reason: impl Into<String>) -> StoreError {
        StoreError::CorruptJob {
            job_id,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_without_trailing_period() {
        let errors = [
            StoreError::UnsupportedUrl {
                url: "mysql://db/x".into(),
                reason: "unknown scheme",
            },
            StoreError::corrupt("abc", "zstd: unknown frame descriptor"),
            StoreError::Query {
                operation: "save result",
                source: sqlx::Error::PoolClosed,
            },
            StoreError::corrupt_job(7, "unknown job status \"paused\""),
            StoreError::NotFound {
                what: "job",
                id: "7".into(),
            },
        ];
        for e in errors {
            let msg = e.to_string();
            assert!(msg.starts_with(|c: char| c.is_lowercase()), "{msg}");
            assert!(!msg.ends_with('.'), "{msg}");
        }
    }

    #[test]
    fn corrupt_names_the_compare_id() {
        let msg = StoreError::corrupt("deadbeef", "bad frame").to_string();
        assert_eq!(msg, "stored result deadbeef is corrupt: bad frame");
    }
}
