//! `.chartimpact.yaml`: a repository's own settings for pull-request analysis — which charts
//! and values scenarios, what to ignore, extra rules, and the policy (when the commit status
//! fails, when the PR comment is posted). The format is documented in `docs/REPO-CONFIG.md`.
//!
//! Unknown keys and bad values are errors that name the key and say what is allowed: the
//! report shows them (a typo must not silently turn a policy off).

use diff_core::{Comparison, Level, Signal, SignalCategory, Verdict};
use serde::Deserialize;

/// Where the file lives in the repository.
pub const CONFIG_FILE: &str = ".chartimpact.yaml";

/// The `rule` id of signals raised by a repository's own rules.
pub const REPOSITORY_RULE: &str = "repository-rule";

/// The parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepoConfig {
    /// Charts with their scenarios; charts not listed get the default scenario.
    #[serde(default)]
    pub charts: Vec<ChartConfig>,
    /// When the commit status is `failure` (default: never).
    #[serde(default)]
    pub fail_on: FailOn,
    /// When the PR comment is posted (default: always).
    #[serde(default)]
    pub comment_on: CommentOn,
    /// Resources and changes left out of the analysis.
    #[serde(default)]
    pub ignore: IgnoreConfig,
    /// The repository's own risk signals.
    #[serde(default)]
    pub rules: Vec<CustomRule>,
}

/// One chart's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartConfig {
    /// Chart directory in the repository.
    pub path: String,
    /// Values scenarios (e.g. dev and prod values files).
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
}

/// A named set of values files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Name shown in the report.
    pub name: String,
    /// Values files in the repository, in order.
    #[serde(default)]
    pub values_files: Vec<String>,
    /// `--set` values (`key=value`), applied after the values files.
    #[serde(default)]
    pub set: Vec<String>,
    /// Release name the chart is rendered as (default `release`, as a request's).
    #[serde(default)]
    pub release_name: Option<String>,
    /// Release namespace (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Kubernetes version the chart is rendered for (`.Capabilities.KubeVersion`).
    #[serde(default)]
    pub kube_version: Option<String>,
    /// API versions the cluster serves (`.Capabilities.APIVersions`), on top of the defaults.
    #[serde(default)]
    pub api_versions: Vec<String>,
}

/// `failOn`: the least verdict that makes the commit status `failure`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// High risk.
    High,
    /// Medium or high risk.
    Medium,
    /// Any change (low, medium or high risk).
    Low,
    /// Never: ChartImpact informs rather than blocks.
    #[default]
    Never,
}

impl FailOn {
    /// Whether a pull request with this verdict fails the policy.
    pub fn fails(self, verdict: Verdict) -> bool {
        let least = match self {
            FailOn::High => Verdict::HighRisk,
            FailOn::Medium => Verdict::MediumRisk,
            FailOn::Low => Verdict::LowRisk,
            FailOn::Never => return false,
        };
        verdict >= least
    }

    /// The word used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::High => "high",
            FailOn::Medium => "medium",
            FailOn::Low => "low",
            FailOn::Never => "never",
        }
    }
}

/// `commentOn`: when the PR comment is posted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentOn {
    /// On every analysis.
    #[default]
    Always,
    /// When a rendered resource changed (any verdict but no changes).
    Changes,
    /// When the verdict is medium or high risk.
    Risk,
}

impl CommentOn {
    /// Whether an analysis with this verdict gets a full comment.
    pub fn wants(self, verdict: Verdict) -> bool {
        match self {
            CommentOn::Always => true,
            CommentOn::Changes => verdict > Verdict::NoChanges,
            CommentOn::Risk => verdict >= Verdict::MediumRisk,
        }
    }

    /// The word used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            CommentOn::Always => "always",
            CommentOn::Changes => "changes",
            CommentOn::Risk => "risk",
        }
    }
}

/// `ignore`: left out before the changes are scored, so they never count toward a verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IgnoreConfig {
    /// Resource kinds (case-insensitive), e.g. `ConfigMap`.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Field path patterns (see [`PathPattern`]), e.g. `metadata.annotations`.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// A repository's own rule: a changed field matching `path` raises a signal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomRule {
    /// Field path pattern (see [`PathPattern`]).
    pub path: String,
    /// Only resources of these kinds (case-insensitive); empty means every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Severity of the signal.
    pub level: RuleLevel,
    /// Area of the signal (default `other`).
    #[serde(default)]
    pub category: RuleCategory,
    /// Title of the signal.
    pub title: String,
    /// What it means and what to check (default: which rule matched).
    #[serde(default)]
    pub description: Option<String>,
}

/// `level` of a custom rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
}

/// `category` of a custom rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleCategory {
    /// Uptime, rollouts, capacity.
    Availability,
    /// Access, exposure, privileges.
    Security,
    /// Everything else.
    #[default]
    Other,
}

/// A `.chartimpact.yaml` that cannot be used, with what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not YAML.
    #[error("{CONFIG_FILE} is not valid YAML: {0}")]
    Yaml(String),
    /// A key that does not exist, a value of the wrong type or not among the allowed ones.
    #[error("{CONFIG_FILE}: at `{at}`: {message}")]
    Invalid {
        /// Where, as a path of keys and indexes (`rules[0].level`).
        at: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The file could not be read at the revision.
    #[error("{CONFIG_FILE} could not be read at {revision}: {message}")]
    Unreadable {
        /// The revision it was read at.
        revision: String,
        /// Why.
        message: String,
    },
}

impl RepoConfig {
    /// Parses and checks `.chartimpact.yaml`; an empty file is the defaults.
    pub fn parse(text: &str) -> Result<RepoConfig, ConfigError> {
        let v = yaml11::parse_value(text, &yaml11::Limits::default())
            .map_err(|e| ConfigError::Yaml(e.to_string()))?;
        if v.is_null() {
            return Ok(RepoConfig::default());
        }
        let json = serde_json::to_value(&v).map_err(|e| ConfigError::Yaml(e.to_string()))?;
        let config: RepoConfig =
            serde_path_to_error::deserialize(json).map_err(|e| ConfigError::Invalid {
                at: e.path().to_string(),
                message: e.into_inner().to_string(),
            })?;
        config.check()?;
        Ok(config)
    }

    /// What serde cannot say: empty names and patterns, paths leaving the repository.
    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |at: String, message: &str| ConfigError::Invalid {
            at,
            message: message.to_owned(),
        };
        let relative = |p: &str| !p.starts_with('/') && !p.split('/').any(|s| s == "..");
        for (i, c) in self.charts.iter().enumerate() {
            if c.path.trim().is_empty() || !relative(&c.path) {
                return Err(invalid(
                    format!("charts[{i}].path"),
                    "give the chart directory relative to the repository root, e.g. charts/app",
                ));
            }
            for (j, s) in c.scenarios.iter().enumerate() {
                if s.name.trim().is_empty() {
                    return Err(invalid(
                        format!("charts[{i}].scenarios[{j}].name"),
                        "every scenario needs a name, e.g. prod",
                    ));
                }
                for (k, f) in s.values_files.iter().enumerate() {
                    if f.trim().is_empty() || !relative(f) {
                        return Err(invalid(
                            format!("charts[{i}].scenarios[{j}].valuesFiles[{k}]"),
                            "give the values file relative to the repository root",
                        ));
                    }
                }
            }
        }
        let kinds = |at: String, kinds: &[String]| {
            kinds
                .iter()
                .position(|k| k.trim().is_empty())
                .map_or(Ok(()), |n| {
                    Err(invalid(
                        format!("{at}[{n}]"),
                        "a kind cannot be empty (e.g. ConfigMap)",
                    ))
                })
        };
        kinds("ignore.kinds".into(), &self.ignore.kinds)?;
        for (n, p) in self.ignore.paths.iter().enumerate() {
            if p.trim().is_empty() {
                return Err(invalid(
                    format!("ignore.paths[{n}]"),
                    "a path pattern cannot be empty (e.g. metadata.annotations)",
                ));
            }
        }
        for (n, r) in self.rules.iter().enumerate() {
            if r.path.trim().is_empty() {
                return Err(invalid(
                    format!("rules[{n}].path"),
                    "a path pattern cannot be empty (e.g. spec.template.spec.containers[*].image)",
                ));
            }
            if r.title.trim().is_empty() {
                return Err(invalid(
                    format!("rules[{n}].title"),
                    "a rule needs a title, shown as the signal's title",
                ));
            }
            kinds(format!("rules[{n}].kinds"), &r.kinds)?;
        }
        Ok(())
    }

    /// `ignore.paths` as one regular expression over change paths (for `suppressRegex`).
    pub fn ignore_regex(&self) -> Option<String> {
        if self.ignore.paths.is_empty() {
            return None;
        }
        let alternatives: Vec<String> = self
            .ignore
            .paths
            .iter()
            .map(|p| PathPattern::new(p).regex)
            .collect();
        Some(format!("(?:{})", alternatives.join("|")))
    }

    /// Adds the signals of the repository's own rules to `comparison` (and decides its
    /// verdict again). Returns whether any rule matched.
    pub fn apply_rules(&self, comparison: &mut Comparison) -> bool {
        if self.rules.is_empty() {
            return false;
        }
        let compiled: Vec<(&CustomRule, regex::Regex)> = self
            .rules
            .iter()
            .filter_map(|r| Some((r, PathPattern::new(&r.path).compile()?)))
            .collect();
        let mut signals = Vec::new();
        for d in &comparison.structured_diff.resources {
            let id = &d.identity;
            for (rule, re) in &compiled {
                if !rule.kinds.is_empty()
                    && !rule.kinds.iter().any(|k| k.eq_ignore_ascii_case(&id.kind))
                {
                    continue;
                }
                let hits: Vec<_> = d
                    .changes
                    .iter()
                    .filter(|c| re.is_match(&c.path.to_string()))
                    .collect();
                let Some(first) = hits.first() else {
                    continue;
                };
                let description = rule.description.clone().unwrap_or_else(|| {
                    format!(
                        "The repository's rule for `{}` in {CONFIG_FILE} matched {} changed field(s).",
                        rule.path,
                        hits.len()
                    )
                });
                let single = hits.len() == 1;
                signals.push(Signal {
                    rule: REPOSITORY_RULE,
                    resource: format!("{}/{}", id.kind, id.name),
                    kind: id.kind.clone(),
                    namespace: id.namespace.clone(),
                    level: match rule.level {
                        RuleLevel::High => Level::High,
                        RuleLevel::Medium => Level::Medium,
                        RuleLevel::Low => Level::Low,
                    },
                    category: match rule.category {
                        RuleCategory::Availability => SignalCategory::Availability,
                        RuleCategory::Security => SignalCategory::Security,
                        RuleCategory::Other => SignalCategory::Other,
                    },
                    title: rule.title.clone(),
                    description,
                    field: Some(first.path.to_string()),
                    old_value: single.then(|| shown(first.before.as_ref())).flatten(),
                    new_value: single.then(|| shown(first.after.as_ref())).flatten(),
                });
            }
        }
        let matched = !signals.is_empty();
        comparison.impact.add_signals(signals);
        matched
    }

    /// A canonical text of the rules, mixed into the id of results they changed.
    pub fn rules_fingerprint(&self) -> String {
        self.rules
            .iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A value as a signal shows it: strings as they are, others as JSON, cut at 200 characters.
fn shown(v: Option<&diff_core::Value>) -> Option<String> {
    let v = v?;
    let text = match v.as_str() {
        Some(s) => s.to_owned(),
        None => serde_json::to_string(v).ok()?,
    };
    Some(match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    })
}

/// A field path pattern: the readable paths of changes (`spec.template.spec.containers[name=app].image`)
/// where `*` matches any run of characters. A pattern matches a path it equals and everything
/// below it, so `metadata.annotations` covers `metadata.annotations.checksum/config`.
#[derive(Debug, Clone)]
pub struct PathPattern {
    regex: String,
}

impl PathPattern {
    /// The pattern `glob`.
    pub fn new(glob: &str) -> PathPattern {
        let body: Vec<String> = glob.trim().split('*').map(regex::escape).collect();
        PathPattern {
            regex: format!("^{}(?:$|[.\\[])", body.join(".*")),
        }
    }

    /// Whether `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        self.compile().is_some_and(|re| re.is_match(path))
    }

    // Escaped text and `.*` always compile; `None` only if the pattern is absurdly large.
    fn compile(&self) -> Option<regex::Regex> {
        regex::Regex::new(&self.regex).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_policy_and_reports_what_to_fix() {
        let c = RepoConfig::parse(
            "charts:\n- path: charts/app\n  scenarios:\n  - name: prod\n    valuesFiles: [charts/app/values-prod.yaml]\n\
             failOn: medium\ncommentOn: changes\nignore:\n  kinds: [ConfigMap]\n  paths: [metadata.annotations]\n\
             rules:\n- path: spec.replicas\n  level: high\n  category: availability\n  title: Replicas changed\n",
        )
        .unwrap();
        assert_eq!(
            c.charts[0].scenarios[0].values_files,
            ["charts/app/values-prod.yaml"]
        );
        assert_eq!(c.fail_on, FailOn::Medium);
        assert_eq!(c.comment_on, CommentOn::Changes);
        assert_eq!(c.rules[0].level, RuleLevel::High);
        assert_eq!(RepoConfig::parse("").unwrap(), RepoConfig::default());

        let unknown = RepoConfig::parse("failon: high\n").unwrap_err().to_string();
        assert!(
            unknown.contains("unknown field `failon`") && unknown.contains("`failOn`"),
            "{unknown}"
        );
        let bad = RepoConfig::parse("failOn: hgh\n").unwrap_err().to_string();
        assert!(
            bad.contains("at `failOn`") && bad.contains("`high`, `medium`, `low`, `never`"),
            "{bad}"
        );
        let nested = RepoConfig::parse("rules:\n- path: a\n  level: severe\n  title: t\n")
            .unwrap_err()
            .to_string();
        assert!(nested.contains("at `rules[0].level`"), "{nested}");
        let untitled = RepoConfig::parse("rules:\n- path: a\n  level: low\n  title: ' '\n")
            .unwrap_err()
            .to_string();
        assert!(untitled.contains("rules[0].title"), "{untitled}");
        assert!(matches!(
            RepoConfig::parse("charts: [\n"),
            Err(ConfigError::Yaml(_))
        ));
        assert!(RepoConfig::parse("charts: 3\n").is_err());
    }

    #[test]
    fn policies() {
        assert!(!FailOn::Never.fails(Verdict::HighRisk));
        assert!(FailOn::Medium.fails(Verdict::HighRisk));
        assert!(FailOn::Medium.fails(Verdict::MediumRisk));
        assert!(!FailOn::Medium.fails(Verdict::LowRisk));
        assert!(FailOn::Low.fails(Verdict::LowRisk));
        assert!(!FailOn::Low.fails(Verdict::NoChanges));
        assert!(CommentOn::Always.wants(Verdict::NoChanges));
        assert!(!CommentOn::Changes.wants(Verdict::NoChanges));
        assert!(CommentOn::Changes.wants(Verdict::LowRisk));
        assert!(!CommentOn::Risk.wants(Verdict::LowRisk));
        assert!(CommentOn::Risk.wants(Verdict::MediumRisk));
    }

    #[test]
    fn path_patterns_match_subtrees_and_wildcards() {
        let p = PathPattern::new("metadata.annotations");
        assert!(p.matches("metadata.annotations"));
        assert!(p.matches("metadata.annotations.checksum/config"));
        assert!(!p.matches("metadata.annotationsX"));
        assert!(!p.matches("spec.metadata.annotations"));
        let image = PathPattern::new("spec.template.spec.containers[*].image");
        assert!(image.matches("spec.template.spec.containers[name=app].image"));
        assert!(!image.matches("spec.template.spec.containers[name=app].imagePullPolicy"));
        let c = RepoConfig {
            ignore: IgnoreConfig {
                paths: vec!["a.b".into(), "x[*]".into()],
                ..IgnoreConfig::default()
            },
            ..RepoConfig::default()
        };
        let re = regex::Regex::new(&c.ignore_regex().unwrap()).unwrap();
        assert!(re.is_match("a.b.c") && re.is_match("x[0].y") && !re.is_match("a.bc"));
    }
}
