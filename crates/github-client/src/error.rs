//! The one error type of the client.

use std::time::Duration;

/// Why a GitHub call failed.
///
/// Messages never contain tokens, JWTs or `Authorization` headers (reference R31); the
/// request is named by method and path only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// GitHub answered with an error status; `message` is GitHub's own `message` field.
    #[error("github answered {status} to {method} {path}: {message}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// GitHub's `message` (or a short excerpt of the body when it has none).
        message: String,
        /// Request method.
        method: String,
        /// Request path (with query), relative to the API host.
        path: String,
    },
    /// 404 (or 410): the resource does not exist or is not visible to these credentials.
    #[error("not found: {method} {path}")]
    NotFound {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
    },
    /// Still rate limited after the configured retries (reference R20), or the wait would
    /// exceed the configured maximum.
    #[error("rate limited by github{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// How long GitHub asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The PR lists at least the documented maximum of files the API returns (reference §3.4,
    /// R23): the list is incomplete, fall back to `git diff --name-only`.
    #[error("pull request has {limit} or more files; the files api list is incomplete")]
    TooManyFiles {
        /// The API's cap (3,000).
        limit: usize,
    },
    /// Check runs can only be written by a GitHub App (reference §3.3, R30).
    #[error("check runs need github app authentication")]
    ChecksNeedApp,
    /// Credentials are missing, malformed or rejected.
    #[error("authentication failed: {reason}")]
    Auth {
        /// What went wrong, without the secret.
        reason: String,
    },
    /// A redirect pointed away from the API host, or had too many hops (reference R24).
    #[error("refused redirect {status} from {method} {path} to host {host}")]
    RedirectRefused {
        /// The 3xx status.
        status: u16,
        /// Request method.
        method: String,
        /// Request path.
        path: String,
        /// Host of the `location` header (no credentials, no path).
        host: String,
    },
    /// The client could not be built from its configuration.
    #[error("invalid client configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// Network or protocol failure.
    #[error("request {method} {path} failed")]
    Transport {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The response body did not have the expected shape.
    #[error("unexpected response body from {method} {path}")]
    Decode {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// Whether trying again later may succeed: transport failures, rate limits, 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::RateLimited { .. } => true,
            Error::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// The HTTP status GitHub answered, if the error came from a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } | Error::RedirectRefused { status, .. } => Some(*status),
            Error::NotFound { .. } => Some(404),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_classification() {
        let http = |status| Error::Http {
            status,
            message: "x".into(),
            method: "GET".into(),
            path: "/".into(),
        };
        assert!(http(502).is_retryable());
        assert!(!http(422).is_retryable());
        assert!(Error::RateLimited { retry_after: None }.is_retryable());
        assert!(!Error::ChecksNeedApp.is_retryable());
        assert_eq!(
            Error::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
            .to_string(),
            "rate limited by github (retry after 3s)"
        );
    }
}
