//! Pull-request analysis: every chart a change affects, each compared (per values scenario),
//! in one report — the same markdown `chartimpact pr` prints and the PR comment carries.

use std::fmt::Write;

use serde::Serialize;

use crate::error::CompareError;
use crate::request::CompareRequest;
use crate::response::{ChartChange, CompareResponse};

/// The marker that identifies ChartImpact's PR comment.
pub const COMMENT_MARKER: &str = "<!-- chartimpact:analysis:v1 -->";

pub use crate::repo_config::{
    CONFIG_FILE, ChartConfig, CommentOn, ConfigError, FailOn, RepoConfig, Scenario,
};

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct PrRequest {
    /// Repository URL or path.
    pub repository: String,
    /// Base revision.
    pub base: String,
    /// Head revision.
    pub head: String,
    /// Where `.chartimpact.yaml` is read (default: the base revision). Never the head: a pull
    /// request must not be able to change the policy it is judged by.
    pub config_revision: Option<String>,
    /// Compare against the merge base of `base` and `head` instead of `base` itself: a new
    /// branch against where it left the default branch.
    pub merge_base: bool,
    /// A ref to fetch the head through (`refs/pull/7/head` for a fork), which must point at
    /// `head` (a full commit id): a pull request that moved on since is refused rather than
    /// a different commit analysed and reported as this one.
    pub head_ref: Option<String>,
    /// Render and diff options applied to every chart (repository, chart path and versions
    /// are filled in per chart).
    pub template: CompareRequest,
}

/// One chart (and scenario) of a pull request.
#[derive(Debug)]
pub struct ChartResult {
    /// Chart directory.
    pub chart_path: String,
    /// Chart name.
    pub chart_name: String,
    /// Scenario name, when the config names scenarios.
    pub scenario: Option<String>,
    /// How the change touches the chart.
    pub status: ChartChange,
    /// The comparison, or why it failed.
    pub outcome: Result<CompareResponse, CompareError>,
    /// Where the comparison's high signals come from in the head's files, for annotations
    /// (reference R29): one per high signal whose resource's template is known, in signal
    /// order.
    pub sources: Vec<SignalSource>,
}

/// The file of the chart (`templates/x.yaml`, relative to the chart's directory) that renders
/// the resource `signal` is about, when the comparison knows it.
pub fn signal_template<'a>(
    resources: &'a [diff_core::ResourceDiff],
    signal: &diff_core::Signal,
) -> Option<&'a str> {
    resources
        .iter()
        .find(|r| {
            r.identity.kind == signal.kind
                && r.identity.namespace == signal.namespace
                && signal.resource == format!("{}/{}", r.identity.kind, r.identity.name)
        })
        .and_then(|r| r.source.as_deref())
        // `chart/templates/x.yaml`: the chart's name comes first, then its files.
        .and_then(|s| s.split_once('/').map(|(_, rest)| rest))
}

/// Where one high signal of a chart comes from in the pull request's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalSource {
    /// The signal: its index in the comparison's `impact.signals`.
    pub signal: usize,
    /// The resource's template, from the repository root (`charts/app/templates/x.yaml`).
    pub path: String,
    /// The line (1-based) where the template writes the signal's field (the last key of its
    /// path found, in the resource's document); else the document's `kind:` line; else 1.
    pub line: u32,
    /// When the change comes from values: the line of the changed value that the template's
    /// line reads (`.Values.…`), in the values file that sets it.
    pub values: Option<ValuesLine>,
}

/// A line of a values file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuesLine {
    /// The values file, from the repository root.
    pub path: String,
    /// The line (1-based) of the changed key.
    pub line: u32,
}

/// The analysis of a pull request.
#[derive(Debug)]
pub struct PrReport {
    /// Repository.
    pub repository: String,
    /// Base revision as given.
    pub base: String,
    /// Head revision as given.
    pub head: String,
    /// Base commit.
    pub base_commit: String,
    /// Head commit.
    pub head_commit: String,
    /// The revision `.chartimpact.yaml` was read at.
    pub config_revision: String,
    /// Problems with `.chartimpact.yaml`, shown in the report (the defaults apply then).
    pub config_error: Option<ConfigError>,
    /// When the commit status fails (`failOn`).
    pub fail_on: FailOn,
    /// When the PR comment is posted (`commentOn`).
    pub comment_on: CommentOn,
    /// Per chart and scenario.
    pub charts: Vec<ChartResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonChart<'a> {
    chart_path: &'a str,
    chart_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scenario: Option<&'a str>,
    status: ChartChange,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a CompareResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
}

impl PrReport {
    /// The worst verdict over all charts (`no-changes` when there are none).
    pub fn verdict(&self) -> diff_core::Verdict {
        self.charts
            .iter()
            .filter_map(|c| c.outcome.as_ref().ok())
            .map(|r| r.comparison.impact.verdict)
            .max()
            .unwrap_or(diff_core::Verdict::NoChanges)
    }

    /// Whether the repository's `failOn` policy fails this pull request (the commit status is
    /// `failure` then).
    pub fn fails_policy(&self) -> bool {
        self.fail_on.fails(self.verdict())
    }

    /// Whether the full report is posted as the PR comment: when `commentOn` asks for it, and
    /// always when a chart failed or the config is invalid (someone has to act on those).
    pub fn wants_comment(&self) -> bool {
        self.comment_on.wants(self.verdict())
            || self.config_error.is_some()
            || self.charts.iter().any(|c| c.outcome.is_err())
    }

    /// The comment that replaces an earlier full report when this analysis does not qualify
    /// for one (`commentOn`): says so, so the earlier content is never left looking current.
    pub fn summary_markdown(&self) -> String {
        let short = |c: &str| c.get(..7).unwrap_or(c).to_owned();
        format!(
            "{COMMENT_MARKER}\n## ChartImpact: {}\n\nComparing `{}` ({}) → `{}` ({}). The full report \
             is not posted: this repository's `{CONFIG_FILE}` sets `commentOn: {}`. An earlier \
             report that stood here no longer applies.\n",
            verdict_words(self.verdict()),
            self.base,
            short(&self.base_commit),
            self.head,
            short(&self.head_commit),
            self.comment_on.as_str(),
        )
    }

    /// JSON: `{success, repository, base, head, resolved, verdict, policy, charts: [...]}`.
    pub fn to_json(&self) -> String {
        let charts: Vec<JsonChart<'_>> = self
            .charts
            .iter()
            .map(|c| JsonChart {
                chart_path: &c.chart_path,
                chart_name: &c.chart_name,
                scenario: c.scenario.as_deref(),
                status: c.status,
                result: c.outcome.as_ref().ok(),
                error: c.outcome.as_ref().err().map(CompareError::message),
                code: c.outcome.as_ref().err().map(CompareError::code),
            })
            .collect();
        let doc = serde_json::json!({
            "success": true,
            "repository": self.repository,
            "base": self.base,
            "head": self.head,
            "resolved": {"base": self.base_commit, "head": self.head_commit},
            "verdict": self.verdict(),
            "policy": {
                "failOn": self.fail_on.as_str(),
                "commentOn": self.comment_on.as_str(),
                "fails": self.fails_policy(),
            },
            "configError": self.config_error.as_ref().map(ToString::to_string),
            "charts": charts,
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The PR comment body: marker, verdict and a table of charts first, then each chart's
    /// report; never more than GitHub's 65,536 characters.
    pub fn markdown(&self, full_result_url: Option<&str>) -> String {
        self.markdown_within(full_result_url, diff_core::report::MARKDOWN_LIMIT)
    }

    /// [`PrReport::markdown`] with the charts' reports cut to fit `limit` characters (the
    /// summary table is always whole): a comment GitHub refused as too long is posted again
    /// at half the size.
    pub fn markdown_within(&self, full_result_url: Option<&str>, limit: usize) -> String {
        let mut head = String::new();
        let _ = writeln!(head, "{COMMENT_MARKER}");
        let _ = writeln!(head, "## ChartImpact: {}\n", verdict_words(self.verdict()));
        let short = |c: &str| c.get(..7).unwrap_or(c).to_owned();
        let _ = writeln!(
            head,
            "Comparing `{}` ({}) → `{}` ({}).\n",
            self.base,
            short(&self.base_commit),
            self.head,
            short(&self.head_commit)
        );
        if let Some(e) = &self.config_error {
            let _ = writeln!(
                head,
                "> ⚠️ `{CONFIG_FILE}` is invalid and was ignored (read at `{rev}`): {e}\n>\n\
                 > Fix the file on `{rev}` (format: docs/REPO-CONFIG.md). Until then the defaults \
                 apply: every affected chart, nothing ignored, no custom rules, `failOn: never`, \
                 `commentOn: always`.\n",
                rev = self.config_revision,
            );
        }
        if self.fail_on != FailOn::Never {
            let _ = writeln!(
                head,
                "Policy `failOn: {}`: {}.\n",
                self.fail_on.as_str(),
                if self.fails_policy() {
                    "**this change fails it**"
                } else {
                    "passed"
                }
            );
        }
        if self.charts.is_empty() {
            let _ = writeln!(head, "No chart is affected by this change.");
            return head;
        }
        let _ = writeln!(
            head,
            "| Chart | Scenario | Status | Verdict | Added | Removed | Modified | High | Medium | Low |"
        );
        let _ = writeln!(head, "|---|---|---|---|---:|---:|---:|---:|---:|---:|");
        for c in &self.charts {
            let scen = c.scenario.as_deref().unwrap_or("default");
            match &c.outcome {
                Ok(r) => {
                    let st = &r.comparison.structured_diff.stats.resources;
                    let t = &r.comparison.impact.totals;
                    let _ = writeln!(
                        head,
                        "| `{}` | {scen} | {} | {} | {} | {} | {} | {} | {} | {} |",
                        c.chart_path,
                        c.status.as_str(),
                        r.comparison.impact.verdict.as_str(),
                        st.added,
                        st.removed,
                        st.modified,
                        t.high,
                        t.medium,
                        t.low
                    );
                }
                Err(e) => {
                    let _ = writeln!(
                        head,
                        "| `{}` | {scen} | {} | ❌ {} | | | | | | |",
                        c.chart_path,
                        c.status.as_str(),
                        e.code()
                    );
                }
            }
        }
        head.push('\n');
        let budget = limit.saturating_sub(head.len() + 512) / self.charts.len().max(1);
        let mut out = head;
        for c in &self.charts {
            let title = match &c.scenario {
                Some(s) => format!("{} ({s})", c.chart_path),
                None => c.chart_path.clone(),
            };
            match &c.outcome {
                Ok(r) => {
                    let opts = diff_core::report::MarkdownOptions {
                        title,
                        max_len: budget,
                        full_result_url: full_result_url.map(|u| {
                            format!("{}/api/analysis/{}", u.trim_end_matches('/'), r.compare_id)
                        }),
                        heading_level: 3,
                    };
                    out.push_str(&diff_core::report::markdown(&r.comparison, &opts));
                    out.push('\n');
                }
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "### ❌ {title}\n\n{}\n",
                        e.message().replace('\n', " ")
                    );
                }
            }
        }
        out
    }
}

/// The verdict in words for people, with its colour: the headline of a report.
pub fn verdict_words(v: diff_core::Verdict) -> &'static str {
    match v {
        diff_core::Verdict::HighRisk => "🔴 high risk: review before deploying",
        diff_core::Verdict::MediumRisk => "🟠 medium risk: consider reviewing",
        diff_core::Verdict::LowRisk => "🟢 low risk",
        diff_core::Verdict::NoChanges => "⚪ no changes",
    }
}
