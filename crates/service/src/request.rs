//! The compare request: the API's JSON body, which CLI flags map onto.

use serde::{Deserialize, Serialize};

/// A request to compare a chart at two revisions of a git repository (`repository` +
/// `chartPath`), or at two versions published in a Helm repository or OCI registry
/// (`helmRepository` + `chart`).
///
/// Field names are the Go ChartImpact's (camelCase); unknown fields are refused so a typo is
/// an error, not a silently ignored option.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompareRequest {
    /// Git repository URL or (when allowed) local path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repository: String,
    /// Path of the chart directory inside the git repository.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chart_path: String,
    /// A Helm chart repository URL (`https://…`, the one `helm repo add` takes) or
    /// `oci://host/path`: compare two published versions of `chart` instead of git revisions
    /// (extension; instead of `repository` and `chartPath`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_repository: Option<String>,
    /// The chart's name in `helmRepository`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    /// Old revision: tag, branch, commit, `HEAD`, `refs/pull/N/head`; with `helmRepository`
    /// a chart version (or a range such as `^19`, as Helm picks it).
    pub version1: String,
    /// New revision (or chart version).
    pub version2: String,
    /// A values file in the repository, read at each revision (with `helmRepository`: a file
    /// inside the chart, e.g. `ci/production-values.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_file: Option<String>,
    /// More values files in the repository, after `valuesFile` (extension).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values_files: Vec<String>,
    /// Inline YAML values, applied after the values files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_content: Option<String>,
    /// `--set` expressions, applied last (extension).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    /// Ignore labels and annotations.
    #[serde(default)]
    pub ignore_labels: bool,
    /// `suppress` (default), `show` or `decode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_handling: Option<diff_core::SecretHandling>,
    /// Context lines (3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_lines: Option<usize>,
    /// Kinds to leave out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppress_kinds: Vec<String>,
    /// Paths to leave out (regex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress_regex: Option<String>,
    /// Release name (`release`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_name: Option<String>,
    /// Release namespace (`default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Kubernetes version for `.Capabilities`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    /// Extra API versions for `.Capabilities.APIVersions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_versions: Vec<String>,
    /// `auto` (default), `native` or `helm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renderer: Option<RendererMode>,
    /// A side where the chart does not exist renders as an empty manifest instead of failing
    /// (for pull requests that add or remove a chart). Not part of the API.
    #[serde(skip)]
    pub allow_missing_chart: bool,
}

/// Which renderer a comparison uses. In JSON and on the command line: `auto`, `native`,
/// `helm`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RendererMode {
    /// Native, unless the chart needs something only helm does and a helm binary exists.
    #[default]
    Auto,
    /// The in-process renderer.
    Native,
    /// A `helm` binary.
    Helm,
}

impl RendererMode {
    /// `auto`, `native` or `helm`.
    pub fn as_str(self) -> &'static str {
        match self {
            RendererMode::Auto => "auto",
            RendererMode::Native => "native",
            RendererMode::Helm => "helm",
        }
    }
}

impl std::fmt::Display for RendererMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RendererMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(RendererMode::Auto),
            "native" => Ok(RendererMode::Native),
            "helm" => Ok(RendererMode::Helm),
            other => Err(format!(
                "renderer {other:?} is unknown: use auto, native or helm"
            )),
        }
    }
}

/// Largest inline values accepted, in bytes.
pub const MAX_VALUES_CONTENT: usize = 1 << 20;

impl CompareRequest {
    /// Checks the fields that can be checked without touching git, naming the first problem.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(helm) = &self.helm_repository {
            if !self.repository.trim().is_empty() || !self.chart_path.trim().is_empty() {
                return Err(
                    "give either repository and chartPath (a chart in git) or helmRepository \
                     and chart (a chart from a Helm repository), not both"
                        .into(),
                );
            }
            let chart = self.chart.as_deref().unwrap_or("");
            for (name, v) in [
                ("helmRepository", helm.as_str()),
                ("chart", chart),
                ("version1", &self.version1),
                ("version2", &self.version2),
            ] {
                if v.trim().is_empty() {
                    return Err(format!("{name} is required"));
                }
            }
            if chart.contains('/') || chart.trim() != chart {
                return Err(format!(
                    "chart {chart:?} must be a chart's name in the repository (no slashes)"
                ));
            }
        } else {
            if self.chart.is_some() {
                return Err(
                    "chart names a chart in a Helm repository: give helmRepository too, or \
                     chartPath for a chart in git"
                        .into(),
                );
            }
            for (name, v) in [
                ("repository", &self.repository),
                ("chartPath", &self.chart_path),
                ("version1", &self.version1),
                ("version2", &self.version2),
            ] {
                if v.trim().is_empty() {
                    return Err(format!("{name} is required"));
                }
            }
        }
        if self.chart_path.starts_with('/') || self.chart_path.split('/').any(|p| p == "..") {
            return Err(format!(
                "chartPath {:?} must be a relative path inside the repository",
                self.chart_path
            ));
        }
        for f in self.repo_values_files() {
            if f.starts_with('/') || f.split('/').any(|p| p == "..") {
                return Err(format!(
                    "valuesFile {f:?} must be a relative path inside the repository"
                ));
            }
        }
        if let Some(v) = &self.values_content {
            if v.len() > MAX_VALUES_CONTENT {
                return Err(format!(
                    "valuesContent is {} bytes, over the limit of {MAX_VALUES_CONTENT}",
                    v.len()
                ));
            }
            yaml11::parse_value(v, &yaml11::Limits::default())
                .map_err(|e| format!("valuesContent is not valid YAML: {e}"))?;
        }
        Ok(())
    }

    /// The Helm repository and chart name of a `helmRepository` + `chart` request.
    pub fn helm_chart(&self) -> Option<(&str, &str)> {
        Some((
            self.helm_repository.as_deref()?.trim(),
            self.chart.as_deref().unwrap_or("").trim(),
        ))
    }

    /// The repository values files, in order (`valuesFile` then `valuesFiles`; empty ones skipped).
    pub fn repo_values_files(&self) -> impl Iterator<Item = &String> {
        self.values_file
            .iter()
            .chain(&self.values_files)
            .filter(|f| !f.is_empty())
    }

    /// The diff options this request asks for.
    pub fn diff_options(&self) -> Result<diff_core::DiffOptions, String> {
        let mut b = diff_core::DiffOptionsBuilder::new();
        b.namespace(self.namespace.as_deref().unwrap_or("default"))
            .ignore_labels(self.ignore_labels)
            .context_lines(self.context_lines.unwrap_or(3));
        if let Some(s) = self.secret_handling {
            b.secret_handling(s);
        }
        for k in &self.suppress_kinds {
            b.suppress_kind(k);
        }
        if let Some(r) = &self.suppress_regex {
            b.suppress_regex(r);
        }
        b.build().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> CompareRequest {
        CompareRequest {
            repository: "https://github.com/o/r".into(),
            chart_path: "charts/app".into(),
            version1: "v1".into(),
            version2: "v2".into(),
            ..CompareRequest::default()
        }
    }

    #[test]
    fn go_chartimpact_example_is_accepted() {
        let r: CompareRequest = serde_json::from_str(
            r#"{"repository":"https://github.com/argoproj/argo-helm","chartPath":"charts/argo-cd","version1":"argo-cd-9.1.5","version2":"argo-cd-9.1.6","valuesFile":"","valuesContent":"","ignoreLabels":false,"secretHandling":"suppress","contextLines":3,"suppressKinds":[],"suppressRegex":""}"#,
        )
        .unwrap();
        assert_eq!(r.chart_path, "charts/argo-cd");
        assert_eq!(r.context_lines, Some(3));
    }

    #[test]
    fn choices_are_typed_and_unknown_ones_name_the_choices() {
        let r: CompareRequest = serde_json::from_str(
            r#"{"repository":"x","chartPath":"c","version1":"a","version2":"b","renderer":"helm","secretHandling":"decode"}"#,
        )
        .unwrap();
        assert_eq!(r.renderer, Some(RendererMode::Helm));
        assert_eq!(r.secret_handling, Some(diff_core::SecretHandling::Decode));
        let back = serde_json::to_string(&r).unwrap();
        assert!(
            back.contains(r#""renderer":"helm""#) && back.contains(r#""secretHandling":"decode""#),
            "{back}"
        );
        let e = serde_json::from_str::<CompareRequest>(
            r#"{"repository":"x","chartPath":"c","version1":"a","version2":"b","renderer":"wasm"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("wasm") && e.contains("native") && e.contains("helm"),
            "{e}"
        );
        assert_eq!("native".parse::<RendererMode>(), Ok(RendererMode::Native));
        assert!(
            "wasm"
                .parse::<RendererMode>()
                .unwrap_err()
                .contains("auto, native or helm")
        );
    }

    #[test]
    fn unknown_fields_are_named() {
        let e = serde_json::from_str::<CompareRequest>(
            r#"{"repository":"x","chartPath":"c","version1":"a","version2":"b","valuesFiel":"v"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("valuesFiel"), "{e}");
    }

    #[test]
    fn validation_names_the_field() {
        let mut r = req();
        r.version2 = " ".into();
        assert_eq!(r.validate().unwrap_err(), "version2 is required");
        let mut r = req();
        r.chart_path = "../etc".into();
        assert!(r.validate().unwrap_err().contains("chartPath"));
        let mut r = req();
        r.values_file = Some("/etc/passwd".into());
        assert!(r.validate().unwrap_err().contains("valuesFile"));
        let mut r = req();
        r.values_content = Some("a: [1".into());
        assert!(
            r.validate()
                .unwrap_err()
                .contains("valuesContent is not valid YAML")
        );
        assert!(req().validate().is_ok());
    }

    #[test]
    fn the_helm_repository_form_needs_a_chart_name_and_not_git_fields() {
        let r: CompareRequest = serde_json::from_str(
            r#"{"helmRepository":"https://charts.example.com","chart":"redis","version1":"18.0.0","version2":"19.0.0"}"#,
        )
        .unwrap();
        assert!(r.validate().is_ok());
        assert_eq!(
            r.helm_chart(),
            Some(("https://charts.example.com", "redis"))
        );
        let back = serde_json::to_string(&r).unwrap();
        assert!(
            !back.contains("chartPath") && !back.contains(r#""repository""#),
            "{back}"
        );
        let mut both = r.clone();
        both.repository = "https://github.com/o/r".into();
        assert!(both.validate().unwrap_err().contains("not both"));
        let mut nameless = r.clone();
        nameless.chart = None;
        assert_eq!(nameless.validate().unwrap_err(), "chart is required");
        let mut path = r.clone();
        path.chart = Some("charts/redis".into());
        assert!(path.validate().unwrap_err().contains("no slashes"));
        let mut orphan = req();
        orphan.chart = Some("redis".into());
        assert!(orphan.validate().unwrap_err().contains("helmRepository"));
    }
}
