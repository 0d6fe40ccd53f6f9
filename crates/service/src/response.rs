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

/// The commits both revisions resolved to (for a chart from a Helm repository: the archives'
/// digests, `sha256:…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedCommits {
    /// Commit of `version1`.
    pub version1: String,
    /// Commit of `version2`.
    pub version2: String,
}

/// One dependency (subchart) of a compared chart, as it was rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DependencyInfo {
    /// The chart declaring it: its name, `parent/child` for a dependency of a dependency.
    pub parent: String,
    /// The dependency's chart name.
    pub name: String,
    /// Its alias, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The version range `Chart.yaml` asks for.
    pub constraint: String,
    /// The version rendered.
    pub version: String,
    /// Its repository as `Chart.yaml` names it (never with credentials).
    pub repository: String,
    /// `vendored` (in `charts/`), `locked` (fetched at the `Chart.lock` version), `range`
    /// (fetched at the newest version the range admits) or `local` (a `file://` chart).
    pub source: String,
    /// sha256 of the fetched archive (absent for vendored dependencies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl DependencyInfo {
    /// The name it renders under: its alias, else its name.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

impl From<&chart_repo::ResolvedDependency> for DependencyInfo {
    fn from(d: &chart_repo::ResolvedDependency) -> Self {
        DependencyInfo {
            parent: d.parent.clone(),
            name: d.name.clone(),
            alias: d.alias.clone(),
            constraint: d.constraint.clone(),
            version: d.version.clone(),
            repository: d.repository.clone(),
            source: d.source.as_str().to_owned(),
            digest: d.digest.clone(),
        }
    }
}

/// Each side's dependencies (`dependencies` in the compare response).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dependencies {
    /// The dependencies of the chart at `version1`.
    pub version1: Vec<DependencyInfo>,
    /// The dependencies of the chart at `version2`.
    pub version2: Vec<DependencyInfo>,
}

/// A finished comparison.
#[derive(Debug, Clone)]
pub struct CompareResponse {
    /// Deterministic id (sha256 of resolved commits, chart path, values, options, engine).
    pub compare_id: String,
    /// The repository, normalized, without credentials.
    pub repository: String,
    /// The chart path (a chart from a Helm repository: its name).
    pub chart_path: String,
    /// The Helm repository or OCI registry of a `helmRepository` comparison (redacted).
    pub helm_repository: Option<String>,
    /// The chart name of a `helmRepository` comparison.
    pub chart: Option<String>,
    /// `version1` as requested.
    pub version1: String,
    /// `version2` as requested.
    pub version2: String,
    /// Commit ids (archive digests for a `helmRepository` comparison).
    pub resolved: ResolvedCommits,
    /// Each side's dependencies as rendered (fetched or vendored).
    pub dependencies: Dependencies,
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
        if let Some(h) = &self.helm_repository {
            m.serialize_entry("helmRepository", h)?;
        }
        if let Some(c) = &self.chart {
            m.serialize_entry("chart", c)?;
        }
        m.serialize_entry("version1", &self.version1)?;
        m.serialize_entry("version2", &self.version2)?;
        m.serialize_entry("resolved", &self.resolved)?;
        m.serialize_entry("dependencies", &self.dependencies)?;
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

/// One published version of a chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartVersionInfo {
    /// The chart version.
    pub version: String,
    /// The app version, when the index says.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    /// When it was published, when the index says (RFC 3339).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created: String,
    /// Marked deprecated in the index.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

/// The versions of a chart in a Helm repository or OCI registry (`POST /api/versions` with
/// `helmRepository` and `chart`; `chartimpact versions --helm-repo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartVersionsResponse {
    /// Always true.
    pub success: bool,
    /// The repository (redacted).
    pub helm_repository: String,
    /// The chart.
    pub chart: String,
    /// Versions, newest first (semver order).
    pub versions: Vec<String>,
    /// The same versions with what the index says of them.
    pub version_details: Vec<ChartVersionInfo>,
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
