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
    /// Loading the chart would exceed a render limit: its memory budget (archives
    /// decompressed, YAML aliases expanded) or the subchart nesting depth. Rendering reports it
    /// as [`RenderError::Limit`].
    #[error("{message}")]
    RenderLimit {
        /// Which limit (`max_memory_bytes`, `max_subchart_depth`).
        limit: &'static str,
        /// The limit's value.
        value: u64,
        /// The file being read.
        file: String,
        /// What was exceeded, in words.
        message: String,
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
    /// A render limit was exceeded and rendering stopped: the chart or the request asks for
    /// more memory, work or nesting than a render may take (a server answers 422
    /// `limit_exceeded`). The limits and their defaults are listed in docs/SECURITY.md.
    #[error("rendering stopped: {message}{}", in_template(.template))]
    Limit {
        /// Which limit, by the name of the field that sets it: `max_memory_bytes`
        /// ([`crate::Options::max_memory_bytes`]), `max_steps`, `max_depth`,
        /// `max_stack_bytes` ([`crate::Limits`]), `max_schema_evaluations`.
        limit: &'static str,
        /// The limit's value (bytes, steps, levels or evaluations).
        value: u64,
        /// The template file being rendered (`chart/templates/x.yaml`), or the file being read
        /// (`values.yaml`, `charts/sub.tgz`), when the limit was met.
        template: Option<String>,
        /// What was exceeded, in words.
        message: String,
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

fn in_template(template: &Option<String>) -> String {
    template
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default()
}
