//! The compare and versions responses, as the API and `--output json` print them.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Which engine rendered the charts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RendererUsed {
    /// `native` or `helm`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The commits both revisions resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedCommits {
    /// Commit of `version1`.
    pub version1: String,
    /// Commit of `version2`.
    pub version2: String,
}

/// A finished comparison.
#[derive(Debug, Clone)]
pub struct CompareResponse {
    /// Deterministic id (sha256 of resolved commits, chart path, values, options, engine).
    pub compare_id: String,
    /// The repository, normalized, without credentials.
    pub repository: String,
    /// The chart path.
    pub chart_path: String,
    /// `version1` as requested.
    pub version1: String,
    /// `version2` as requested.
    pub version2: String,
    /// Commit ids.
    pub resolved: ResolvedCommits,
    /// The renderer that ran.
    pub renderer: RendererUsed,
    /// Structured diff and impact.
    pub comparison: diff_core::Comparison,
    /// Milliseconds per stage.
    pub timings: BTreeMap<String, u64>,
    /// Context lines of the per-resource YAML diffs (`contextLines`, 3).
    pub context_lines: usize,
}

impl CompareResponse {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

impl Serialize for CompareResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = diff_core::report::text(&self.comparison, &Default::default());
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("success", &true)?;
        m.serialize_entry("compareId", &self.compare_id)?;
        m.serialize_entry("repository", &self.repository)?;
        m.serialize_entry("chartPath", &self.chart_path)?;
        m.serialize_entry("version1", &self.version1)?;
        m.serialize_entry("version2", &self.version2)?;
        m.serialize_entry("resolved", &self.resolved)?;
        m.serialize_entry("diff", &text)?;
        m.serialize_entry("structuredDiffAvailable", &true)?;
        m.serialize_entry("structuredDiff", &self.comparison.structured_diff)?;
        m.serialize_entry("impact", &self.comparison.impact)?;
        m.serialize_entry("renderer", &self.renderer)?;
        m.serialize_entry("timings", &self.timings)?;
        // Extension: one unified YAML diff per `structuredDiff.resources` item, for viewers.
        m.serialize_entry(
            "resourceDiffs",
            &diff_core::report::unified_per_resource(&self.comparison, self.context_lines),
        )?;
        m.end()
    }
}

/// One tag or branch with the commit it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefInfo {
    /// Tag or branch name.
    pub name: String,
    /// Commit id (annotated tags peeled).
    pub commit: String,
    /// Semantic version parsed from the tag, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Chart prefix of a chart-prefixed tag (`argo-cd` in `argo-cd-5.1.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
}

/// Tags and branches of a repository: `{success, tags, branches}` as the Go ChartImpact
/// answers, plus the commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionsResponse {
    /// Always true.
    pub success: bool,
    /// Tag names, newest semver first.
    pub tags: Vec<String>,
    /// Branch names, default branch first.
    pub branches: Vec<String>,
    /// The default branch, when the remote says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
    /// Tags with commits.
    pub tag_details: Vec<RefInfo>,
    /// Branches with commits.
    pub branch_details: Vec<RefInfo>,
}

/// The charts of a repository at one revision (`POST /api/charts`), for pickers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartsResponse {
    /// Always true.
    pub success: bool,
    /// The revision as asked (`HEAD` when none was given).
    pub revision: String,
    /// The commit it resolved to.
    pub commit: String,
    /// For the charts a change affects: the older revision and its commit (`revision` is then
    /// the newer one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ResolvedRevision>,
    /// Charts by path; library charts and charts vendored in another chart's `charts/` last.
    pub charts: Vec<ChartEntry>,
}

/// A revision as asked and the commit it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedRevision {
    /// As asked.
    pub revision: String,
    /// Commit id.
    pub commit: String,
}

/// How a change touches a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartChange {
    /// The chart exists only at the newer revision.
    Added,
    /// The chart exists only at the older revision.
    Removed,
    /// Files of the chart (or a values file it is rendered with) changed.
    Modified,
}

impl ChartChange {
    /// `added`, `removed` or `modified`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartChange::Added => "added",
            ChartChange::Removed => "removed",
            ChartChange::Modified => "modified",
        }
    }
}

/// One chart directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartEntry {
    /// Directory relative to the repository root (`.` for the root).
    pub path: String,
    /// `name` from Chart.yaml.
    pub name: String,
    /// `version` from Chart.yaml.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A library chart (renders nothing by itself).
    pub library: bool,
    /// Inside another chart's `charts/` directory.
    pub vendored: bool,
    /// How a change touches the chart (only in lists of affected charts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ChartChange>,
}
