//! Pull-request analysis: every chart a change affects, each compared (per values scenario),
//! in one report — the same markdown `chartimpact pr` prints and the PR comment carries.

use std::fmt::Write;

use chart_source::{AffectedOptions, ChartStatus};
use serde::{Deserialize, Serialize};

use crate::engine::{CompareService, Context, Engine};
use crate::error::CompareError;
use crate::request::CompareRequest;
use crate::response::CompareResponse;

/// The marker that identifies ChartImpact's PR comment.
pub const COMMENT_MARKER: &str = "<!-- chartimpact:analysis:v1 -->";

/// `.chartimpact.yaml`: which charts to analyse and with which values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoConfig {
    /// Charts with their scenarios; charts not listed get the default scenario.
    #[serde(default)]
    pub charts: Vec<ChartConfig>,
}

/// One chart's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartConfig {
    /// Chart directory in the repository.
    pub path: String,
    /// Values scenarios (e.g. dev and prod values files).
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
}

/// A named set of values files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scenario {
    /// Name shown in the report.
    pub name: String,
    /// Values files in the repository, in order.
    #[serde(default)]
    pub values_files: Vec<String>,
}

impl RepoConfig {
    /// Parses `.chartimpact.yaml`.
    pub fn parse(text: &str) -> Result<RepoConfig, String> {
        let v = yaml11::parse_value(text, &yaml11::Limits::default()).map_err(|e| e.to_string())?;
        if v.is_null() {
            return Ok(RepoConfig::default());
        }
        let json = serde_json::to_value(&v).map_err(|e| e.to_string())?;
        serde_json::from_value(json).map_err(|e| format!(".chartimpact.yaml: {e}"))
    }
}

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct PrRequest {
    /// Repository URL or path.
    pub repository: String,
    /// Base revision.
    pub base: String,
    /// Head revision.
    pub head: String,
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
    /// `added`, `removed` or `modified`.
    pub status: &'static str,
    /// The comparison, or why it failed.
    pub outcome: Result<CompareResponse, CompareError>,
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
    /// Problems with `.chartimpact.yaml`, shown in the report.
    pub config_error: Option<String>,
    /// Per chart and scenario.
    pub charts: Vec<ChartResult>,
}

/// Compares every chart affected between `base` and `head`.
pub fn analyze(engine: &Engine, req: &PrRequest, ctx: &Context) -> Result<PrReport, CompareError> {
    let repo = engine
        .mirrors()
        .repository(&req.repository)
        .map_err(|e| CompareError::from_source(e, &req.repository, ""))?
        .with_interrupt(ctx.cancel.clone());
    let resolve = |rev: &str| {
        repo.resolve(rev)
            .map_err(|e| CompareError::from_source(e, &req.repository, rev))
    };
    let (base, head) = (resolve(&req.base)?, resolve(&req.head)?);
    let (config, config_error) = match repo.read_file(&head.commit, ".chartimpact.yaml") {
        Ok(Some(bytes)) => match RepoConfig::parse(&String::from_utf8_lossy(&bytes)) {
            Ok(c) => (c, None),
            Err(e) => (RepoConfig::default(), Some(e)),
        },
        _ => (RepoConfig::default(), None),
    };
    let mut affected_opts = AffectedOptions::new();
    for c in &config.charts {
        for s in &c.scenarios {
            for f in &s.values_files {
                affected_opts.values_file(&c.path, f);
            }
        }
    }
    let affected = repo
        .affected_charts(&base.commit, &head.commit, &affected_opts)
        .map_err(|e| CompareError::from_source(e, &req.repository, &req.head))?;
    let mut charts = Vec::new();
    for a in affected {
        if a.chart.library || a.chart.vendored {
            continue;
        }
        let status = match a.status {
            ChartStatus::Added => "added",
            ChartStatus::Removed => "removed",
            ChartStatus::Modified => "modified",
        };
        let scenarios: Vec<Option<&Scenario>> =
            match config.charts.iter().find(|c| c.path == a.chart.path) {
                Some(c) if !c.scenarios.is_empty() => c.scenarios.iter().map(Some).collect(),
                _ => vec![None],
            };
        for scenario in scenarios {
            let mut request = req.template.clone();
            request.repository = req.repository.clone();
            request.chart_path = a.chart.path.clone();
            request.version1 = base.commit.to_hex();
            request.version2 = head.commit.to_hex();
            request.allow_missing_chart = true;
            if let Some(s) = scenario {
                request.values_files = s.values_files.clone();
            }
            let outcome = engine.compare(&request, ctx).map(|mut r| {
                r.version1 = req.base.clone();
                r.version2 = req.head.clone();
                r
            });
            charts.push(ChartResult {
                chart_path: a.chart.path.clone(),
                chart_name: a.chart.name.clone(),
                scenario: scenario.map(|s| s.name.clone()),
                status,
                outcome,
            });
        }
    }
    charts.sort_by(|x, y| (&x.chart_path, &x.scenario).cmp(&(&y.chart_path, &y.scenario)));
    Ok(PrReport {
        repository: repo.url().normalized().to_owned(),
        base: req.base.clone(),
        head: req.head.clone(),
        base_commit: base.commit.to_hex(),
        head_commit: head.commit.to_hex(),
        config_error,
        charts,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonChart<'a> {
    chart_path: &'a str,
    chart_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scenario: Option<&'a str>,
    status: &'a str,
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

    /// JSON: `{success, repository, base, head, resolved, verdict, charts: [...]}`.
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
                error: c.outcome.as_ref().err().map(|e| e.to_string()),
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
            "configError": self.config_error,
            "charts": charts,
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The PR comment body: marker, verdict and a table of charts first, then each chart's
    /// report; never more than GitHub's 65,536 characters.
    pub fn markdown(&self, full_result_url: Option<&str>) -> String {
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
                "> ⚠️ `.chartimpact.yaml` is invalid and was ignored: {e}\n"
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
                        c.status,
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
                        c.status,
                        e.code()
                    );
                }
            }
        }
        head.push('\n');
        let limit = diff_core::report::MARKDOWN_LIMIT;
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
                        e.to_string().replace('\n', " ")
                    );
                }
            }
        }
        out
    }
}

pub(crate) fn verdict_words(v: diff_core::Verdict) -> &'static str {
    match v {
        diff_core::Verdict::HighRisk => "🔴 high risk: review before deploying",
        diff_core::Verdict::MediumRisk => "🟠 medium risk: consider reviewing",
        diff_core::Verdict::LowRisk => "🟢 low risk",
        diff_core::Verdict::NoChanges => "⚪ no changes",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_scenarios_and_reports_errors() {
        let c = RepoConfig::parse(
            "charts:\n- path: charts/app\n  scenarios:\n  - name: prod\n    valuesFiles: [charts/app/values-prod.yaml]\n",
        )
        .unwrap();
        assert_eq!(
            c.charts[0].scenarios[0].values_files,
            ["charts/app/values-prod.yaml"]
        );
        assert_eq!(RepoConfig::parse("").unwrap(), RepoConfig::default());
        assert!(
            RepoConfig::parse("charts: 3\n")
                .unwrap_err()
                .contains(".chartimpact.yaml")
        );
    }
}
