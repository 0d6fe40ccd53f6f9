//! What can go wrong talking to chart repositories and resolving dependencies.
//!
//! Every URL in a message is redacted (no user-info) and no message carries a credential.

/// A chart repository operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A repository or archive URL cannot be used at all (malformed, unsupported scheme).
    #[error("invalid repository url {url}: {reason}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// The URL policy refuses the repository, an archive URL, a token service or a redirect.
    #[error("repository url {url} is not allowed: {reason}")]
    NotAllowed {
        /// The URL, redacted.
        url: String,
        /// Why (host not allowed, private address, plain http).
        reason: String,
    },
    /// The repository could not be reached (connection, timeout, 5xx, 429), even after
    /// retrying within the deadline.
    #[error("repository {repository} is unreachable ({tried}): {reason}")]
    Unreachable {
        /// The repository, redacted.
        repository: String,
        /// What was tried: the request, attempts and time spent.
        tried: String,
        /// The last failure.
        reason: String,
    },
    /// The repository answered with an error status that retrying cannot fix.
    #[error("{url} answered HTTP {status}{}", hint_suffix(.hint))]
    Status {
        /// The URL, redacted.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What to do about it, when known.
        hint: Option<String>,
    },
    /// The repository wants credentials that were not configured, or refused the ones given.
    #[error(
        "repository {repository} requires authentication (HTTP {status}): {}",
        if *.had_credentials { "the configured credentials were refused" }
        else { "configure credentials for its host (a credentials file or the environment)" }
    )]
    AuthenticationRequired {
        /// The repository, redacted.
        repository: String,
        /// 401 or 403.
        status: u16,
        /// Whether credentials for the host were sent.
        had_credentials: bool,
    },
    /// The repository has no chart of that name.
    #[error("chart {chart:?} not found in {repository}{}", nearest_suffix("charts", .nearest))]
    ChartNotFound {
        /// The repository, redacted.
        repository: String,
        /// The chart name asked for.
        chart: String,
        /// The closest chart names the repository has.
        nearest: Vec<String>,
    },
    /// The chart has no version matching what was asked for.
    #[error(
        "chart {chart:?} has no version {version:?} in {repository}{}",
        nearest_suffix("versions", .nearest)
    )]
    VersionNotFound {
        /// The repository, redacted.
        repository: String,
        /// The chart.
        chart: String,
        /// The version or range asked for.
        version: String,
        /// The nearest versions that exist, newest first.
        nearest: Vec<String>,
    },
    /// A version range does not parse.
    #[error("chart {chart:?}: invalid version constraint {constraint:?}: {reason}")]
    InvalidConstraint {
        /// The chart.
        chart: String,
        /// The constraint.
        constraint: String,
        /// The parser's words.
        reason: String,
    },
    /// Downloaded bytes do not have the digest the index or manifest promised.
    #[error(
        "digest mismatch for {url}: expected sha256:{expected}, got sha256:{actual}; nothing was cached"
    )]
    DigestMismatch {
        /// What was downloaded, redacted.
        url: String,
        /// The promised sha256 (hex).
        expected: String,
        /// The sha256 of what arrived (hex).
        actual: String,
    },
    /// A response is larger than its limit.
    #[error("{what} at {url} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// `repository index`, `chart archive`, `manifest` …
        what: &'static str,
        /// The URL, redacted.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The repository index is not a Helm index.
    #[error("invalid repository index at {url}: {reason}")]
    InvalidIndex {
        /// The index URL, redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An OCI manifest is not a Helm chart's, or is malformed.
    #[error("invalid OCI manifest for {reference}: {reason}")]
    InvalidManifest {
        /// `host/path/chart:tag`.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A downloaded archive is not a loadable chart (bad gzip or tar, absolute or `..` paths,
    /// links, no Chart.yaml), or is another chart than the one asked for.
    #[error("invalid chart archive from {url}: {reason}")]
    InvalidArchive {
        /// Where it came from, redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `Chart.lock` (or `requirements.lock`) no longer matches the dependencies in `Chart.yaml`.
    #[error(
        "the lock file ({lock_file}) of chart {chart:?} is out of sync with the dependencies file \
         ({deps_file}): run `helm dependency update` and commit {lock_file}"
    )]
    LockOutOfSync {
        /// The chart.
        chart: String,
        /// `Chart.lock` or `requirements.lock`.
        lock_file: &'static str,
        /// `Chart.yaml` or `requirements.yaml`.
        deps_file: &'static str,
    },
    /// A lock file does not parse.
    #[error("chart {chart:?}: invalid {lock_file}: {reason}")]
    InvalidLock {
        /// The chart.
        chart: String,
        /// The file.
        lock_file: &'static str,
        /// Why.
        reason: String,
    },
    /// A dependency could not be resolved or fetched; `source` says why.
    #[error("chart {chart:?}: dependency {dependency:?} ({repository}): {source}")]
    Dependency {
        /// The chart declaring it (`parent/child` for nested charts).
        chart: String,
        /// The dependency's name.
        dependency: String,
        /// Its repository as written, redacted.
        repository: String,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
    /// A dependency's repository cannot be used by this resolver.
    #[error("{reason}")]
    UnsupportedRepository {
        /// Why, and what to do instead.
        reason: String,
    },
    /// The cache directory could not be read or written.
    #[error("chart cache {path}: {source}")]
    Cache {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Credentials configuration is invalid (the message never contains a secret).
    #[error("invalid repository credentials ({origin}): {reason}")]
    Credentials {
        /// The file or environment variable.
        origin: String,
        /// Why.
        reason: String,
    },
    /// A mirror or other setting is invalid.
    #[error("invalid chart repository setting: {0}")]
    Config(String),
    /// The call's deadline passed.
    #[error("the deadline passed while talking to {repository}")]
    DeadlineExceeded {
        /// The repository, redacted.
        repository: String,
    },
    /// The call was cancelled.
    #[error("cancelled")]
    Cancelled,
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!(": {h}")).unwrap_or_default()
}

fn nearest_suffix(what: &str, nearest: &[String]) -> String {
    if nearest.is_empty() {
        String::new()
    } else {
        format!("; nearest {what}: {}", nearest.join(", "))
    }
}

impl Error {
    /// The innermost error of a [`Error::Dependency`] chain (the error itself otherwise).
    pub fn root(&self) -> &Error {
        match self {
            Error::Dependency { source, .. } => source.root(),
            other => other,
        }
    }

    /// Whether the input named something that does not exist (unknown chart or version).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.root(),
            Error::ChartNotFound { .. } | Error::VersionNotFound { .. }
        )
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
