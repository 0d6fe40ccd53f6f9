//! Why a comparison did not produce a result, in words the API and CLI show.

/// A failed comparison. Each variant has a stable [`code`](CompareError::code) for the API and
/// a message that says what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// The request itself is malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The repository URL is refused by policy.
    #[error("{0}")]
    RepositoryNotAllowed(String),
    /// The repository cannot be reached.
    #[error("{0}")]
    RepositoryUnreachable(String),
    /// A revision does not exist; `suggestions` lists the nearest tags and branches.
    #[error(
        "revision {revision:?} not found in {repository}{}",
        suggest(suggestions)
    )]
    RevisionNotFound {
        /// The repository.
        repository: String,
        /// The revision asked for.
        revision: String,
        /// Nearest existing names.
        suggestions: Vec<String>,
    },
    /// No chart at the path; `charts` lists the charts that exist at that revision.
    #[error("chart not found at {path} in {revision}{}", charts_list(charts))]
    ChartNotFound {
        /// The chart path asked for.
        path: String,
        /// The revision.
        revision: String,
        /// Chart directories that exist.
        charts: Vec<String>,
    },
    /// A values file named by the request is missing at one revision.
    #[error("values file {path} does not exist at {revision}")]
    ValuesFileMissing {
        /// The path.
        path: String,
        /// The revision where it is missing.
        revision: String,
    },
    /// The chart does not render at one revision (the chart's fault, not ours).
    #[error("chart {chart} failed to render at {revision}: {message}")]
    RenderFailed {
        /// The chart path.
        chart: String,
        /// The revision.
        revision: String,
        /// The renderer's message (template, line, what failed).
        message: String,
    },
    /// A rendered manifest is not valid Kubernetes YAML.
    #[error("{0}")]
    InvalidManifest(String),
    /// A size or count limit was exceeded.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The deadline passed; the work was stopped.
    #[error("the comparison took longer than {seconds} s and was stopped")]
    Timeout {
        /// The deadline in seconds.
        seconds: u64,
    },
    /// The caller cancelled.
    #[error("the comparison was cancelled")]
    Cancelled,
    /// The requested renderer cannot run here.
    #[error("{0}")]
    RendererUnavailable(String),
    /// Our fault: logged with details, shown without internals.
    #[error("internal error: {0}")]
    Internal(String),
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

fn charts_list(c: &[String]) -> String {
    if c.is_empty() {
        "; the repository has no charts at that revision".into()
    } else {
        format!("; charts in this repository: {}", c.join(", "))
    }
}

impl CompareError {
    /// Stable machine-readable code, e.g. `revision_not_found`.
    pub fn code(&self) -> &'static str {
        match self {
            CompareError::InvalidRequest(_) => "invalid_request",
            CompareError::RepositoryNotAllowed(_) => "repository_not_allowed",
            CompareError::RepositoryUnreachable(_) => "repository_unreachable",
            CompareError::RevisionNotFound { .. } => "revision_not_found",
            CompareError::ChartNotFound { .. } => "chart_not_found",
            CompareError::ValuesFileMissing { .. } => "values_file_missing",
            CompareError::RenderFailed { .. } => "render_failed",
            CompareError::InvalidManifest(_) => "invalid_manifest",
            CompareError::LimitExceeded(_) => "limits_exceeded",
            CompareError::Timeout { .. } => "timeout",
            CompareError::Cancelled => "cancelled",
            CompareError::RendererUnavailable(_) => "renderer_unavailable",
            CompareError::Internal(_) => "internal",
        }
    }

    pub(crate) fn from_source(e: chart_source::Error, repository: &str, revision: &str) -> Self {
        use chart_source::Error as E;
        match e {
            E::RepositoryNotAllowed { .. } => CompareError::RepositoryNotAllowed(e.to_string()),
            E::RepositoryUnreachable { .. } => CompareError::RepositoryUnreachable(e.to_string()),
            E::RevisionNotFound {
                revision,
                suggestions,
            } => CompareError::RevisionNotFound {
                repository: repository.to_owned(),
                revision,
                suggestions,
            },
            E::InvalidRevision { .. } => CompareError::InvalidRequest(e.to_string()),
            E::ChartNotFound {
                path, charts_found, ..
            } => CompareError::ChartNotFound {
                path,
                revision: revision.to_owned(),
                charts: charts_found,
            },
            E::PathEscapesChart { .. } | E::BrokenSymlink { .. } => {
                CompareError::InvalidRequest(e.to_string())
            }
            E::LimitExceeded { .. } => CompareError::LimitExceeded(e.to_string()),
            E::Cancelled => CompareError::Cancelled,
            other => CompareError::Internal(other.to_string()),
        }
    }
}
