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
pub use unified::{unified, unified_per_resource};
pub use values::display_value;
pub use yaml::to_yaml;
