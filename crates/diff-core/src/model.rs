//! The comparison result: ChartImpact's `structuredDiff` and `impact` documents as Rust types.
//!
//! Field names and vocabularies are a contract shared with the Go ChartImpact and its UI
//! (camelCase JSON, `changeType`, `semanticType`, `changeCategory`, `importance`, `flags`).

use serde::Serialize;
use yaml11::Value;

use crate::path::Path;

/// Who a resource is: what the JSON output calls `identity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// `apiVersion` (of the after side for modifications).
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// Namespace, defaulted to the release namespace; empty for cluster-scoped kinds.
    pub namespace: String,
}

impl Identity {
    /// The API group: `apps` for `apps/v1`, empty for the core group (`v1`).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    /// `Kind/name`, the way ChartImpact names a resource in signals.
    pub fn short(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// `Kind namespace/name` (or `Kind name` when cluster-scoped), for reports.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// How a resource differs between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeType {
    /// Only in the new manifest.
    Added,
    /// Only in the old manifest.
    Removed,
    /// In both, different.
    Modified,
}

/// What happened at one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// The value is new.
    Add,
    /// The value is gone.
    Remove,
    /// The value changed.
    Replace,
}

/// How much a change matters to someone reviewing the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Importance {
    /// Cosmetic or bookkeeping.
    Low,
    /// Worth a look.
    Medium,
    /// Changes what runs or who may do what.
    High,
}

impl Importance {
    /// The lowercase word used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Importance::Low => "low",
            Importance::Medium => "medium",
            Importance::High => "high",
        }
    }
}

/// One field-level change inside a modified resource.
///
/// Serialized as `{op, path, pathTokens, pointer, before?, after?, valueType, semanticType?,
/// changeCategory, importance, flags?, lineDiff?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// add, remove or replace.
    pub op: Op,
    /// Readable path, e.g. `spec.template.spec.containers[name=app].image`; also gives
    /// `pathTokens` and the RFC 6901 `pointer`.
    pub path: Path,
    /// The old value (absent for `add`).
    pub before: Option<Value>,
    /// The new value (absent for `remove`).
    pub after: Option<Value>,
    /// JSON type of `after` (or `before` for removals).
    pub value_type: &'static str,
    /// What the field means, e.g. `container.image`.
    pub semantic_type: Option<&'static str>,
    /// Broad area: workload, resources, networking, security, config, metadata, storage, unknown.
    pub change_category: &'static str,
    /// How much it matters.
    pub importance: Importance,
    /// Extra facts: `runtime-impact`, `rollout-trigger`, `same-value`, ….
    pub flags: Vec<&'static str>,
    /// For multi-line strings: a unified line diff of the two texts.
    pub line_diff: Option<String>,
}

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("op", &self.op)?;
        m.serialize_entry("path", &self.path.to_string())?;
        m.serialize_entry("pathTokens", &self.path.tokens())?;
        m.serialize_entry("pointer", &self.path.pointer())?;
        if let Some(b) = &self.before {
            m.serialize_entry("before", b)?;
        }
        if let Some(a) = &self.after {
            m.serialize_entry("after", a)?;
        }
        m.serialize_entry("valueType", self.value_type)?;
        if let Some(t) = self.semantic_type {
            m.serialize_entry("semanticType", t)?;
        }
        m.serialize_entry("changeCategory", self.change_category)?;
        m.serialize_entry("importance", &self.importance)?;
        if !self.flags.is_empty() {
            m.serialize_entry("flags", &self.flags)?;
        }
        if let Some(d) = &self.line_diff {
            m.serialize_entry("lineDiff", d)?;
        }
        m.end()
    }
}

impl Change {
    /// True when the change carries `flag`.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }
}

/// Per-resource totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSummary {
    /// Number of changes.
    pub total_changes: usize,
    /// Changes per importance.
    pub by_importance: ImportanceCounts,
    /// Sorted unique change categories.
    pub categories: Vec<&'static str>,
}

/// Counts per importance level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportanceCounts {
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
}

/// One resource that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDiff {
    /// Who it is.
    pub identity: Identity,
    /// The `apiVersion` on the old side when it differs from the new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_api_version: Option<String>,
    /// added, removed or modified.
    pub change_type: ChangeType,
    /// sha256 of the old object (canonical JSON, after redaction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_hash: Option<String>,
    /// sha256 of the new object (canonical JSON, after redaction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_hash: Option<String>,
    /// Field changes (modified resources only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Totals over `changes` (modified resources only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<ResourceSummary>,
    /// Resource-level facts, e.g. `chart-version-noise`, `hook`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<&'static str>,
    /// The template the resource came from (`# Source:` comment), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl ResourceDiff {
    /// True when the resource carries `flag`.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }
}

/// Resource counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResourceCounts {
    /// Only in the new manifest.
    pub added: usize,
    /// Only in the old manifest.
    pub removed: usize,
    /// In both and different.
    pub modified: usize,
    /// In both and equal.
    pub unchanged: usize,
}

/// Change counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeCounts {
    /// Field changes across modified resources.
    pub total: usize,
}

/// Totals of a comparison.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Resource counts.
    pub resources: ResourceCounts,
    /// Change counts.
    pub changes: ChangeCounts,
    /// Modified resources whose only changes are chart-version labels.
    pub chart_version_noise: usize,
    /// Resources left out by `suppressKinds`.
    pub suppressed_resources: usize,
    /// Changes left out by `suppressRegex`.
    pub suppressed_changes: usize,
}

/// Where one side of the comparison came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputInfo {
    /// What produced the manifest: `file`, `stdin`, `helm`, `native`.
    pub source: String,
    /// File name, chart path or revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// sha256 of the manifest text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Resources read.
    pub resources: usize,
}

/// The two inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Inputs {
    /// Old side.
    pub left: InputInfo,
    /// New side.
    pub right: InputInfo,
}

/// Facts about how the comparison was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// diff-core's version.
    pub engine_version: String,
    /// Deterministic id of this comparison.
    pub compare_id: String,
    /// RFC 3339 time of generation; the only field that varies between identical runs.
    pub generated_at: String,
    /// The two inputs.
    pub inputs: Inputs,
    /// Normalizations applied, by name.
    pub normalization_rules: Vec<String>,
    /// Things the reader should know, e.g. duplicate resources in a stream.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The `structuredDiff` document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StructuredDiff {
    /// How it was made.
    pub metadata: Metadata,
    /// Differing resources, sorted by (apiVersion, kind, namespace, name).
    pub resources: Vec<ResourceDiff>,
    /// Totals.
    pub stats: Stats,
}

/// Severity of a risk signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Informational.
    Low,
    /// Review.
    Medium,
    /// Likely to break or expose something.
    High,
}

impl Level {
    /// The lowercase word used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
}

/// What a signal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalCategory {
    /// Uptime, rollouts, capacity, upgrade failures.
    Availability,
    /// Access, exposure, privileges.
    Security,
    /// Everything else worth knowing.
    Other,
}

/// One risk signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Signal {
    /// Stable id of the rule that fired, e.g. `workload-removed`.
    pub rule: &'static str,
    /// `Kind/name`.
    pub resource: String,
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// Severity.
    pub level: Level,
    /// Area.
    pub category: SignalCategory,
    /// Short title.
    pub title: String,
    /// What it means and what to check.
    pub description: String,
    /// The path that triggered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Old value, rendered as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_value: Option<String>,
    /// New value, rendered as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_value: Option<String>,
}

/// The overall call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing differs.
    NoChanges,
    /// Changes, no medium or high signal.
    LowRisk,
    /// At least one medium signal.
    MediumRisk,
    /// At least one high signal.
    HighRisk,
}

impl Verdict {
    /// `high-risk`, `medium-risk`, `low-risk` or `no-changes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::NoChanges => "no-changes",
            Verdict::LowRisk => "low-risk",
            Verdict::MediumRisk => "medium-risk",
            Verdict::HighRisk => "high-risk",
        }
    }
}

/// A workload whose pods will be replaced, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rollout {
    /// `Kind/name`.
    pub resource: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// What in the pod template changed: `image`, `env`, `checksum annotation`, ….
    pub causes: Vec<String>,
}

/// A CustomResourceDefinition change, summarised instead of dumped.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdChange {
    /// The CRD's name (`plural.group`).
    pub name: String,
    /// added, removed or modified.
    pub change_type: String,
    /// Versions that appear.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions_added: Vec<String>,
    /// Versions that disappear.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions_removed: Vec<String>,
    /// `served`/`storage` flag changes, e.g. `v1beta1 served true→false`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flag_changes: Vec<String>,
    /// Schema properties added, as paths (`v1: spec.foo`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties_added: Vec<String>,
    /// Schema properties removed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties_removed: Vec<String>,
}

/// Signal totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpactTotals {
    /// High signals.
    pub high: usize,
    /// Medium signals.
    pub medium: usize,
    /// Low signals.
    pub low: usize,
    /// Added + removed + modified resources.
    pub changed_resources: usize,
}

/// The `impact` document: signals and a verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Impact {
    /// The overall call.
    pub verdict: Verdict,
    /// Signals, most severe first.
    pub signals: Vec<Signal>,
    /// Totals.
    pub totals: ImpactTotals,
    /// Workloads that will roll out.
    pub rollouts: Vec<Rollout>,
    /// CRD changes in summary.
    pub crd_changes: Vec<CrdChange>,
}
