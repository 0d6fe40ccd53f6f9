//! Pull-request analysis: every chart a change affects, each compared (per values scenario),
//! in one report — the same markdown `chartimpact pr` prints and the PR comment carries.

use std::fmt::Write;

use chart_source::{AffectedOptions, ChartStatus};
use serde::Serialize;

use crate::engine::{CompareService, Context, Engine};
use crate::error::CompareError;
use crate::request::CompareRequest;
use crate::response::CompareResponse;

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
    // The policy's revision: the caller's (the default branch on GitHub) when the mirror has
    // it, else the base. A missing default branch is no fault of the file, and the base is as
    // safe (the pull request does not control it either).
    let (config_revision, config_commit) = match req.config_revision.as_deref() {
        Some(rev) if rev != req.base => match repo.resolve(rev) {
            Ok(r) => (rev.to_owned(), r.commit),
            Err(e) => {
                tracing::warn!(revision = rev, error = %e, "policy revision not found; reading .chartimpact.yaml at the base");
                (req.base.clone(), base.commit)
            }
        },
        _ => (req.base.clone(), base.commit),
    };
    let config = repo
        .read_file(&config_commit, CONFIG_FILE)
        .map_err(|e| ConfigError::Unreadable {
            revision: config_revision.clone(),
            message: e.to_string(),
        })
        .and_then(|bytes| match bytes {
            Some(b) => RepoConfig::parse(&String::from_utf8_lossy(&b)),
            None => Ok(RepoConfig::default()),
        });
    let (config, config_error) = match config {
        Ok(c) => (c, None),
        Err(e) => (RepoConfig::default(), Some(e)),
    };
    // Ignored kinds and paths are left out before scoring, so they never count.
    let mut template = req.template.clone();
    template
        .suppress_kinds
        .extend(config.ignore.kinds.iter().cloned());
    if let Some(re) = config.ignore_regex() {
        template.suppress_regex = Some(match template.suppress_regex.take() {
            Some(given) => format!("(?:{given})|{re}"),
            None => re,
        });
    }
    let rules_fingerprint = config.rules_fingerprint();
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
            let mut request = template.clone();
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
                if config.apply_rules(&mut r.comparison) {
                    // The rules changed the result: it is stored under its own id, apart
                    // from the plain comparison of the same revisions.
                    r.compare_id = crate::engine::sha256_hex(&[
                        b"chartimpact-repository-rules-v1",
                        r.compare_id.as_bytes(),
                        rules_fingerprint.as_bytes(),
                    ]);
                    r.comparison.structured_diff.metadata.compare_id = r.compare_id.clone();
                }
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
        config_revision,
        config_error,
        fail_on: config.fail_on,
        comment_on: config.comment_on,
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

/// The verdict in words for people, with its colour: the headline of a report.
pub fn verdict_words(v: diff_core::Verdict) -> &'static str {
    match v {
        diff_core::Verdict::HighRisk => "🔴 high risk: review before deploying",
        diff_core::Verdict::MediumRisk => "🟠 medium risk: consider reviewing",
        diff_core::Verdict::LowRisk => "🟢 low risk",
        diff_core::Verdict::NoChanges => "⚪ no changes",
    }
}
