//! What can go wrong loading and rendering a chart.

/// A chart could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or directory could not be read or written.
    #[error("cannot access {path}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The directory has no `Chart.yaml`.
    #[error("{path} is not a chart: it has no Chart.yaml")]
    NotAChart {
        /// The directory.
        path: String,
    },
    /// A symlink or archive entry points outside the chart.
    #[error(
        "{path} points outside the chart: files outside a chart are never read (helm would \
         follow such a symlink); copy its target into the chart, e.g. with `cp -rL`"
    )]
    PathEscapes {
        /// The offending path, relative to the chart.
        path: String,
    },
    /// A device, socket or other irregular file.
    #[error("cannot load irregular file {path}")]
    Irregular {
        /// The path, relative to the chart.
        path: String,
    },
    /// A packaged chart is malformed.
    #[error("invalid chart archive: {0}")]
    Archive(String),
    /// `.helmignore` has a bad rule.
    #[error("invalid .helmignore")]
    Ignore(#[source] crate::ignore::IgnoreError),
    /// `Chart.yaml` is missing or invalid.
    #[error("{0}")]
    Metadata(String),
    /// The chart is larger than allowed.
    #[error("chart too large: {what}")]
    Limit {
        /// Which limit.
        what: String,
    },
}

/// Rendering did not produce a manifest.
///
/// [`RenderError::Chart`] is the chart's own fault (a template error, a failed `required`, a
/// schema violation): show it to the user. The other variants are ours or the environment's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The chart failed to render; the message is the renderer's, e.g.
    /// `template: app/templates/deploy.yaml:12:3: executing … : image.tag is required`.
    #[error("chart failed to render: {message}")]
    Chart {
        /// What the renderer said.
        message: String,
    },
    /// The chart could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// This renderer cannot run here (e.g. no helm binary).
    #[error("renderer {renderer} is unavailable: {reason}")]
    Unavailable {
        /// Renderer name.
        renderer: &'static str,
        /// Why.
        reason: String,
    },
    /// The render took longer than allowed and was stopped.
    #[error("rendering took longer than {seconds:.1} s and was stopped")]
    Timeout {
        /// The limit in seconds.
        seconds: f64,
    },
    /// The rendered output is larger than allowed.
    #[error("rendered output exceeds {limit} bytes")]
    OutputTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A template limit (steps, nesting depth) was exceeded and rendering stopped.
    #[error("rendering stopped: {what}")]
    Limit {
        /// Which limit, in words.
        what: String,
    },
    /// A request option is invalid.
    #[error("invalid render option: {0}")]
    Option(String),
    /// Running the renderer failed.
    #[error("cannot run {what}")]
    Process {
        /// What was run.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
