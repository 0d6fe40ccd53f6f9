//! Reports people (and programs) read: text, unified, markdown and JSON.
//!
//! Every report is a pure function of a [`Comparison`](crate::Comparison) and options, so the
//! same comparison always prints the same bytes.

mod json;
mod markdown;
mod text;
mod unified;
mod values;
mod yaml;

pub use json::{ComparisonDocument, Timings};
pub use markdown::{MARKDOWN_LIMIT, MarkdownOptions, markdown};
pub use text::{TextOptions, text};
pub use unified::unified;
pub use values::display_value;
pub use yaml::to_yaml;

/// The output formats the CLI and API offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Human-readable summary and changes.
    Text,
    /// Per-resource unified diffs of the (redacted) YAML.
    Unified,
    /// PR-ready markdown.
    Markdown,
    /// The compare response document.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "unified" => Ok(Format::Unified),
            "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(format!(
                "unknown output format {other:?}: use text, unified, markdown or json"
            )),
        }
    }
}
