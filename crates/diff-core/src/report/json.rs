//! The JSON document: the same shape as the API's compare response.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Comparison;
use crate::model::{Impact, StructuredDiff};

/// Milliseconds per stage (`parse`, `diff`, `render`, …).
pub type Timings = BTreeMap<String, u64>;

/// `{success, compareId, diff, structuredDiffAvailable, structuredDiff, impact, timings}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComparisonDocument<'a> {
    /// Always true for a comparison that ran.
    pub success: bool,
    /// Deterministic id.
    pub compare_id: &'a str,
    /// The plain text report.
    pub diff: String,
    /// Always true: the structured diff is present.
    pub structured_diff_available: bool,
    /// The structured diff.
    pub structured_diff: &'a StructuredDiff,
    /// Signals and verdict.
    pub impact: &'a Impact,
    /// Time per stage, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings: Option<&'a Timings>,
}

impl<'a> ComparisonDocument<'a> {
    /// The document for a comparison; `diff` is the uncoloured text report.
    pub fn new(cmp: &'a Comparison, timings: Option<&'a Timings>) -> Self {
        ComparisonDocument {
            success: true,
            compare_id: cmp.compare_id(),
            diff: super::text(cmp, &super::TextOptions::default()),
            structured_diff_available: true,
            structured_diff: &cmp.structured_diff,
            impact: &cmp.impact,
            timings,
        }
    }

    /// Pretty-printed JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
