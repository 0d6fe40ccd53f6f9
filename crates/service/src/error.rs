//! Why a comparison did not produce a result, in words the API and CLI show.

use std::error::Error as StdError;

/// A failed comparison. Each variant has a stable [`code`](CompareError::code) for the API and
/// a message that says what to fix; [`CompareError::message`] is the whole chain (this error and
/// its sources), which is what people are shown.
///
/// Some variants are the user's or the chart's doing (a bad request, an unknown revision, a
/// chart that does not render or exceeds a render limit): they are final, never retried. The
/// rest are the environment's or ours ([`CompareError::is_transient`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// The request itself is malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The repository URL is refused by policy.
    #[error(transparent)]
    RepositoryNotAllowed(chart_source::Error),
    /// The repository cannot be reached.
    #[error(transparent)]
    RepositoryUnreachable(chart_source::Error),
    /// The repository refused access: it needs credentials, or refused the ones given
    /// (final; the message names the repository, never the credentials).
    #[error(transparent)]
    RepositoryAccessDenied(chart_source::Error),
    /// A revision does not exist; `suggestions` lists the nearest tags and branches.
    #[error(
        "revision {revision:?} not found in {repository}{}",
        suggest(suggestions)
    )]
    RevisionNotFound {
        /// The repository (normalized: never with credentials).
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
    /// A Helm repository or OCI registry has no chart of that name; `nearest` lists the
    /// closest names it has.
    #[error(
        "chart {chart:?} not found in {repository}{}",
        nearest_list("charts", nearest)
    )]
    HelmChartNotFound {
        /// The repository (redacted).
        repository: String,
        /// The chart name asked for.
        chart: String,
        /// The closest chart names.
        nearest: Vec<String>,
    },
    /// A chart has no version matching what was asked for; `nearest` lists the nearest
    /// versions, newest first.
    #[error(
        "chart {chart:?} has no version {version:?} in {repository}{}",
        nearest_list("versions", nearest)
    )]
    ChartVersionNotFound {
        /// The repository (redacted).
        repository: String,
        /// The chart.
        chart: String,
        /// The version or range asked for.
        version: String,
        /// The nearest versions that exist.
        nearest: Vec<String>,
    },
    /// Fetching a chart or resolving a chart's dependencies from a Helm repository or OCI
    /// registry failed (unreachable, refused, a digest mismatch, an archive or index over the
    /// size limits or with path tricks, a lock out of sync, …): the message names the
    /// repository, the chart and the dependency.
    #[error(transparent)]
    ChartRepository(chart_repo::Error),
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
    /// Rendering the chart went over a limit that protects the service (template steps,
    /// nesting depth, output size, memory): the chart's doing, final.
    #[error("chart {chart} at {revision} exceeds a render limit")]
    RenderLimit {
        /// The chart path.
        chart: String,
        /// The revision.
        revision: String,
        /// Which limit, where (the renderer's error; boxed, it is larger than the other
        /// variants).
        #[source]
        source: Box<helm_render::RenderError>,
    },
    /// A rendered manifest is not valid Kubernetes YAML.
    #[error("chart {chart} rendered an invalid manifest at {revision}")]
    InvalidManifest {
        /// The chart path.
        chart: String,
        /// The revision.
        revision: String,
        /// What is wrong, where.
        #[source]
        source: diff_core::Error,
    },
    /// A size or count limit of reading the repository was exceeded.
    #[error(transparent)]
    LimitExceeded(chart_source::Error),
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
    #[error("internal error: {what}")]
    Internal {
        /// What we were doing.
        what: String,
        /// Why it failed, when an error said.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync>>,
    },
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

fn nearest_list(what: &str, nearest: &[String]) -> String {
    if nearest.is_empty() {
        String::new()
    } else {
        format!("; nearest {what}: {}", nearest.join(", "))
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
            CompareError::RepositoryAccessDenied(_) => "repository_access_denied",
            CompareError::RevisionNotFound { .. } => "revision_not_found",
            CompareError::ChartNotFound { .. } => "chart_not_found",
            CompareError::HelmChartNotFound { .. } => "chart_not_found",
            CompareError::ChartVersionNotFound { .. } => "version_not_found",
            CompareError::ChartRepository(e) => match e.root() {
                chart_repo::Error::NotAllowed { .. } => "repository_not_allowed",
                chart_repo::Error::Unreachable { .. } => "repository_unreachable",
                chart_repo::Error::InvalidUrl { .. }
                | chart_repo::Error::InvalidConstraint { .. } => "invalid_request",
                chart_repo::Error::Cache { .. }
                | chart_repo::Error::Credentials { .. }
                | chart_repo::Error::Config(_) => "internal",
                _ => "chart_repository_error",
            },
            CompareError::ValuesFileMissing { .. } => "values_file_missing",
            CompareError::RenderFailed { .. } => "render_failed",
            CompareError::InvalidManifest { .. } => "invalid_manifest",
            CompareError::RenderLimit { .. } | CompareError::LimitExceeded(_) => "limits_exceeded",
            CompareError::Timeout { .. } => "timeout",
            CompareError::Cancelled => "cancelled",
            CompareError::RendererUnavailable(_) => "renderer_unavailable",
            CompareError::Internal { .. } => "internal",
        }
    }

    /// The error and its sources, joined by `: ` — what people are shown.
    pub fn message(&self) -> String {
        let mut out = self.to_string();
        let mut next = self.source();
        while let Some(e) = next {
            // Some errors (a dependency's) already end with their cause's words.
            let text = e.to_string();
            if !out.ends_with(&text) {
                out.push_str(": ");
                out.push_str(&text);
            }
            next = e.source();
        }
        out
    }

    /// Whether trying again later may succeed (the network, a deadline, our own failure);
    /// false for what the request, the repository or the chart itself decides.
    pub fn is_transient(&self) -> bool {
        match self {
            CompareError::ChartRepository(e) => matches!(
                e.root(),
                chart_repo::Error::Unreachable { .. }
                    | chart_repo::Error::Cache { .. }
                    | chart_repo::Error::Cancelled
                    | chart_repo::Error::DeadlineExceeded { .. }
            ),
            _ => matches!(
                self,
                CompareError::RepositoryUnreachable(_)
                    | CompareError::Timeout { .. }
                    | CompareError::Internal { .. }
                    | CompareError::Cancelled
            ),
        }
    }

    /// An internal error without a cause to carry.
    pub fn internal(what: impl Into<String>) -> Self {
        CompareError::Internal {
            what: what.into(),
            source: None,
        }
    }

    /// An internal error caused by `source`.
    pub fn internal_from(
        what: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        CompareError::Internal {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// A chart-source error in our words. `repository` must be the normalized URL (it appears
    /// in messages; never one with credentials).
    pub(crate) fn from_source(e: chart_source::Error, repository: &str, revision: &str) -> Self {
        use chart_source::Error as E;
        match e {
            E::RepositoryNotAllowed { .. } => CompareError::RepositoryNotAllowed(e),
            E::RepositoryUnreachable { .. } => CompareError::RepositoryUnreachable(e),
            E::AccessDenied { .. } => CompareError::RepositoryAccessDenied(e),
            E::RevisionNotFound {
                revision,
                suggestions,
            } => CompareError::RevisionNotFound {
                // Messages travel to logs, job records and PR comments: never a credential.
                repository: chart_source::redact_url(repository),
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
            E::LimitExceeded { .. } => CompareError::LimitExceeded(e),
            E::Cancelled => CompareError::Cancelled,
            other => CompareError::internal_from("reading the repository failed", other),
        }
    }

    /// A chart-repo error in our words: an unknown chart or version asked for directly is the
    /// request's (with the nearest names), a cancelled call is a cancellation (the deadline
    /// watchdog turns it into a timeout), the rest keep chart-repo's message.
    pub(crate) fn from_charts(
        e: chart_repo::Error,
        timeout: impl FnOnce() -> CompareError,
    ) -> Self {
        use chart_repo::Error as E;
        match e {
            E::ChartNotFound {
                repository,
                chart,
                nearest,
            } => CompareError::HelmChartNotFound {
                repository,
                chart,
                nearest,
            },
            E::VersionNotFound {
                repository,
                chart,
                version,
                nearest,
            } => CompareError::ChartVersionNotFound {
                repository,
                chart,
                version,
                nearest,
            },
            E::Cancelled => CompareError::Cancelled,
            E::DeadlineExceeded { .. } => timeout(),
            other => CompareError::ChartRepository(other),
        }
    }

    /// A renderer's error in our words: the chart's faults (template errors, limits) are
    /// results for the user, the rest ours or the environment's.
    pub(crate) fn from_render(
        e: helm_render::RenderError,
        chart: &str,
        revision: &str,
        timeout: impl FnOnce() -> CompareError,
    ) -> Self {
        use helm_render::RenderError as R;
        match e {
            R::Chart { message } => CompareError::RenderFailed {
                chart: chart.to_owned(),
                revision: revision.to_owned(),
                message,
            },
            R::Load(e) => CompareError::RenderFailed {
                chart: chart.to_owned(),
                revision: revision.to_owned(),
                message: e.to_string(),
            },
            R::Timeout { .. } => timeout(),
            e @ (R::OutputTooLarge { .. } | R::Limit { .. }) => CompareError::RenderLimit {
                chart: chart.to_owned(),
                revision: revision.to_owned(),
                source: Box::new(e),
            },
            R::Unavailable { reason, .. } => CompareError::RendererUnavailable(reason),
            R::Option(m) => CompareError::InvalidRequest(m),
            other => CompareError::internal_from("the renderer failed", other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_limit_is_the_charts_fault_named_with_its_limit() {
        let e = CompareError::from_render(
            helm_render::RenderError::Limit {
                limit: "max_steps",
                value: 10_000_000,
                template: Some("app/templates/loop.yaml".into()),
                message: "more than 10000000 template steps".into(),
            },
            "charts/app",
            "v2",
            || CompareError::Timeout { seconds: 1 },
        );
        assert_eq!(e.code(), "limits_exceeded");
        assert!(!e.is_transient());
        assert_eq!(
            e.message(),
            "chart charts/app at v2 exceeds a render limit: rendering stopped: more than 10000000 template steps (app/templates/loop.yaml)"
        );
    }

    #[test]
    fn the_message_is_the_chain_once() {
        let e = CompareError::internal_from(
            "reading the repository failed",
            std::io::Error::other("disk on fire"),
        );
        assert_eq!(
            e.message(),
            "internal error: reading the repository failed: disk on fire"
        );
        assert!(e.is_transient());
    }
}
