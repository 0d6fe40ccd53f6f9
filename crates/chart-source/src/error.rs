//! The crate's error type.

use std::{fmt, path::PathBuf};

use crate::CommitId;

/// Everything that can go wrong in chart-source.
///
/// Callers branch on the variants (the service maps them to status codes and messages).
/// Messages are lowercase and never contain credentials: repository URLs are always shown
/// without their user-info part, and git error texts are redacted before they are stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The repository URL is refused by the [`UrlPolicy`](crate::UrlPolicy).
    #[error("repository {url} is not allowed: {reason}")]
    RepositoryNotAllowed {
        /// The URL as given, with credentials removed.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The repository could not be reached (network, DNS, missing local path, server error),
    /// after retrying transient failures within the configured deadline.
    #[error("repository {url} is unreachable ({tried})")]
    RepositoryUnreachable {
        /// The normalized URL, without credentials.
        url: String,
        /// What was tried: the operation, the number of attempts and the time spent.
        tried: String,
        /// The last failure.
        #[source]
        source: GitError,
    },
    /// The remote refused access: it needs credentials and none were given, or it refused
    /// the ones given (also after asking their source for fresh ones). Final: retrying with
    /// the same credentials cannot help.
    #[error("repository {url} refused access: {reason}")]
    AccessDenied {
        /// The normalized URL, without credentials.
        url: String,
        /// What was refused and what to check (never a secret).
        reason: String,
    },
    /// The revision is neither a tag, a branch, a commit id nor a ref of the repository.
    #[error("revision {revision:?} not found{}", Suggestions(suggestions))]
    RevisionNotFound {
        /// The revision as given.
        revision: String,
        /// The nearest tag and branch names, best first (may be empty).
        suggestions: Vec<String>,
    },
    /// The revision string is malformed (refused before any git operation).
    #[error("invalid revision {revision:?}: {reason}")]
    InvalidRevision {
        /// The revision as given.
        revision: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The chart directory does not exist at the commit or holds no `Chart.yaml`.
    #[error("chart {path:?} not found at {commit}{}", ChartsFound(charts_found))]
    ChartNotFound {
        /// The chart path that was asked for.
        path: String,
        /// The commit that was read.
        commit: CommitId,
        /// Directories that do hold a `Chart.yaml` at that commit.
        charts_found: Vec<String>,
    },
    /// A path (a symlink's target, or a path given by the caller) leaves the chart or the
    /// repository, or is absolute.
    #[error(
        "{path:?} points outside the chart: {target:?} (files outside a chart are never read; \
         helm would follow this symlink)"
    )]
    PathEscapesChart {
        /// The path of the symlink (or the path given), relative to the chart or repository.
        path: String,
        /// Where it points.
        target: String,
    },
    /// A symlink inside the chart points at nothing, or symlinks form a loop.
    #[error("symlink {path:?} cannot be resolved: {target:?} ({reason})")]
    BrokenSymlink {
        /// The path of the symlink, relative to the chart.
        path: String,
        /// Its target.
        target: String,
        /// Why it cannot be followed.
        reason: &'static str,
    },
    /// A size or count limit was exceeded while reading.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was being counted (`"chart file count"`, `"file templates/x.yaml size in bytes"` …).
        what: String,
        /// The limit in force.
        limit: u64,
    },
    /// A mirror on disk is damaged. Operations that detect this rebuild the mirror and retry
    /// once, so callers normally only see it when the rebuilt mirror is damaged again.
    #[error("mirror {path} is corrupt: {reason}")]
    Corrupt {
        /// The mirror directory.
        path: PathBuf,
        /// What was found.
        reason: String,
    },
    /// A git operation failed for a reason other than the ones above.
    #[error("git {operation} failed")]
    Git {
        /// What was being done.
        operation: &'static str,
        /// The git error, redacted.
        #[source]
        source: GitError,
    },
    /// The operation was cancelled through the flag given to
    /// [`Repository::with_interrupt`](crate::Repository::with_interrupt).
    #[error("cancelled")]
    Cancelled,
    /// A file-system operation on the cache directory failed.
    #[error("i/o error on {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn git(operation: &'static str, err: &(dyn std::error::Error + 'static)) -> Self {
        Error::Git {
            operation,
            source: GitError::new(err, &[]),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A git error flattened into text, with secrets removed.
///
/// gix errors can carry the URL they were talking to; a `GitError` keeps the whole cause chain
/// as one message with every credential replaced by `***`, so it can be logged and shown.
#[derive(Debug, Clone)]
pub struct GitError {
    message: String,
    retryable: bool,
}

impl GitError {
    /// Flattens `err` and its sources into one message and removes each of `secrets` from it.
    pub(crate) fn new(err: &(dyn std::error::Error + 'static), secrets: &[&str]) -> Self {
        let mut parts: Vec<String> = Vec::new();
        let mut cur = Some(err);
        while let Some(e) = cur {
            let text = e.to_string();
            if !parts.iter().any(|p| p.contains(&text)) {
                parts.push(text);
            }
            cur = e.source();
        }
        let classes = gix::error::classify(err);
        let retryable = classes.can_retry_lenient() || looks_transient(&parts);
        GitError {
            message: redact(&parts.join(": "), secrets),
            retryable,
        }
    }

    /// An error made from a message (already free of secrets).
    pub(crate) fn message(message: impl Into<String>) -> Self {
        GitError {
            message: message.into(),
            retryable: false,
        }
    }

    /// A transient error made from a message (already free of secrets).
    pub(crate) fn transient(message: impl Into<String>) -> Self {
        GitError {
            message: message.into(),
            retryable: true,
        }
    }

    /// Whether the failure looks transient (connection refused/reset, timeout, server error).
    pub fn is_transient(&self) -> bool {
        self.retryable
    }

    /// The flattened, redacted message.
    pub fn as_str(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GitError {}

/// Heuristics for transport failures that gix leaves unclassified.
fn looks_transient(parts: &[String]) -> bool {
    const MARKERS: &[&str] = &[
        "timed out",
        "timeout",
        "connection refused",
        "connection reset",
        "broken pipe",
        "temporarily unavailable",
        "502",
        "503",
        "504",
        "handshake failed",
        "dns error",
    ];
    parts.iter().any(|p| {
        let p = p.to_ascii_lowercase();
        MARKERS.iter().any(|m| p.contains(m))
    })
}

/// Replaces every occurrence of each secret (and its percent-decoded form) by `***`.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, "***");
        let decoded = crate::url::percent_decode(secret);
        if !decoded.is_empty() && decoded != *secret {
            out = out.replace(&decoded, "***");
        }
    }
    out
}

struct Suggestions<'a>(&'a [String]);

impl fmt::Display for Suggestions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, " (nearest: {})", self.0.join(", "))
        }
    }
}

struct ChartsFound<'a>(&'a [String]);

impl fmt::Display for ChartsFound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            write!(f, " (no Chart.yaml in the repository)")
        } else {
            write!(f, " (charts found: {})", self.0.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_plain_and_percent_decoded_secrets() {
        let text = "failed to connect to https://user:p%40ss@example.com (p@ss)";
        assert_eq!(
            redact(text, &["user:p%40ss"]),
            "failed to connect to https://***@example.com (p@ss)"
        );
        assert_eq!(redact("p@ss and p%40ss", &["p%40ss"]), "*** and ***");
    }

    #[test]
    fn messages_list_suggestions() {
        let e = Error::RevisionNotFound {
            revision: "v1.2".into(),
            suggestions: vec!["v1.2.0".into(), "v1.20".into()],
        };
        assert_eq!(
            e.to_string(),
            "revision \"v1.2\" not found (nearest: v1.2.0, v1.20)"
        );
    }
}
