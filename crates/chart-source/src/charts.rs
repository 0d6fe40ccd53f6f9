//! Chart detection in a tree and the charts affected between two commits.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::{ChangedPath, tree::normalize_repo_path};

/// A chart found in a repository (a directory holding a `Chart.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartInfo {
    /// The chart directory relative to the repository root (`"."` for the root itself).
    pub path: String,
    /// `name` from Chart.yaml (empty if missing or unreadable).
    pub name: String,
    /// `version` from Chart.yaml.
    pub version: Option<String>,
    /// `apiVersion` from Chart.yaml (`v1` or `v2`).
    pub api_version: Option<String>,
    /// Whether `type: library` is set.
    pub library: bool,
    /// `dependencies` from Chart.yaml.
    pub dependencies: Vec<Dependency>,
    /// Whether the chart is vendored inside another chart's `charts/` directory.
    pub vendored: bool,
    /// Why Chart.yaml could not be read, if it could not (the chart is still listed).
    pub error: Option<String>,
}

/// One entry of a chart's `dependencies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// Dependency name.
    pub name: String,
    /// Version constraint.
    pub version: Option<String>,
    /// Repository (`https://…`, `oci://…`, `file://../x`, or an alias like `@stable`).
    pub repository: Option<String>,
    /// For `file://` repositories, the dependency's directory relative to the repository root,
    /// when it stays inside the repository.
    pub local_path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ChartYaml {
    #[serde(default)]
    api_version: Option<Loose>,
    #[serde(default)]
    name: Option<Loose>,
    #[serde(default)]
    version: Option<Loose>,
    #[serde(default, rename = "type")]
    chart_type: Option<Loose>,
    #[serde(default)]
    dependencies: Option<Vec<DependencyYaml>>,
}

#[derive(Deserialize)]
struct DependencyYaml {
    #[serde(default)]
    name: Option<Loose>,
    #[serde(default)]
    version: Option<Loose>,
    #[serde(default)]
    repository: Option<Loose>,
}

/// Any YAML scalar, kept as text (a `version: 1.0` must not fail the whole file).
struct Loose(String);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Loose;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E>(self, v: &str) -> Result<Loose, E> {
                Ok(Loose(v.to_owned()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Loose, E> {
                Ok(Loose(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Loose, E> {
                Ok(Loose(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Loose, E> {
                Ok(Loose(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Loose, E> {
                Ok(Loose(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Loose, E> {
                Ok(Loose(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Builds a [`ChartInfo`] from a Chart.yaml's bytes found in `dir`.
pub(crate) fn chart_info(dir: &str, data: &[u8]) -> ChartInfo {
    let text = String::from_utf8_lossy(data);
    let (parsed, error) = match serde_saphyr::from_str::<Option<ChartYaml>>(&text) {
        Ok(c) => (c.unwrap_or_default(), None),
        Err(e) => (ChartYaml::default(), Some(first_line(&e.to_string()))),
    };
    let s = |v: Option<Loose>| v.map(|l| l.0).filter(|s| !s.is_empty());
    let dependencies = parsed
        .dependencies
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            let repository = s(d.repository);
            let local_path = repository
                .as_deref()
                .and_then(|r| r.strip_prefix("file://"))
                .and_then(|rel| resolve_relative(dir, rel));
            Dependency {
                name: s(d.name).unwrap_or_default(),
                version: s(d.version),
                repository,
                local_path,
            }
        })
        .collect();
    ChartInfo {
        path: if dir.is_empty() {
            ".".into()
        } else {
            dir.to_owned()
        },
        name: s(parsed.name).unwrap_or_default(),
        version: s(parsed.version),
        api_version: s(parsed.api_version),
        library: s(parsed.chart_type).is_some_and(|t| t == "library"),
        dependencies,
        vendored: false,
        error,
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// `dir` joined with a relative path, normalized; `None` if it leaves the repository.
fn resolve_relative(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    })
}

/// Marks charts that sit inside another chart's `charts/` directory.
pub(crate) fn mark_vendored(charts: &mut [ChartInfo]) {
    let dirs: Vec<String> = charts.iter().map(|c| c.path.clone()).collect();
    for chart in charts.iter_mut() {
        chart.vendored = dirs.iter().any(|parent| {
            let prefix = if parent == "." {
                "charts/".to_owned()
            } else {
                format!("{parent}/charts/")
            };
            parent != &chart.path && chart.path.starts_with(&prefix)
        });
    }
}

/// Why a chart is affected by a change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AffectReason {
    /// Files under the chart directory changed (at most 20 listed).
    Files {
        /// Repository-relative paths.
        paths: Vec<String>,
        /// How many files changed in total.
        count: usize,
    },
    /// A values file named for this chart changed.
    ValuesFile {
        /// Repository-relative path.
        path: String,
    },
    /// A local (`file://`) dependency or library chart it uses is affected.
    Dependency {
        /// The dependency's directory.
        path: String,
    },
}

/// How a chart changed between the two commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChartStatus {
    /// The chart exists only at the newer commit.
    Added,
    /// The chart exists only at the older commit.
    Removed,
    /// The chart exists at both commits and is affected.
    Modified,
}

/// A chart affected by the changes between two commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedChart {
    /// The chart (as found at the newer commit, or at the older one when removed).
    pub chart: ChartInfo,
    /// Added, removed or modified.
    pub status: ChartStatus,
    /// Why it is affected.
    pub reasons: Vec<AffectReason>,
}

/// Inputs outside a chart directory that affect it, named by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AffectedOptions {
    values_files: BTreeMap<String, BTreeSet<String>>,
}

impl AffectedOptions {
    /// Empty options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares that `file` (repository-relative) is a values file of the chart at `chart`
    /// (for example from `.chartimpact.yaml` scenarios), so changing it affects the chart.
    pub fn values_file(&mut self, chart: &str, file: &str) -> &mut Self {
        let chart = normalize_repo_path(chart).map(|c| if c.is_empty() { ".".into() } else { c });
        let file = normalize_repo_path(file);
        if let (Ok(chart), Ok(file)) = (chart, file) {
            self.values_files.entry(chart).or_default().insert(file);
        }
        self
    }
}

/// Computes the affected charts from the charts at both sides and the changed paths.
pub(crate) fn affected(
    before: &[ChartInfo],
    after: &[ChartInfo],
    changed: &[ChangedPath],
    options: &AffectedOptions,
) -> Vec<AffectedChart> {
    let mut by_path: BTreeMap<String, (Option<&ChartInfo>, Option<&ChartInfo>)> = BTreeMap::new();
    for c in before {
        by_path.entry(c.path.clone()).or_default().0 = Some(c);
    }
    for c in after {
        by_path.entry(c.path.clone()).or_default().1 = Some(c);
    }
    let under = |dir: &str, path: &str| dir == "." || path.starts_with(&format!("{dir}/"));
    let mut reasons: BTreeMap<String, Vec<AffectReason>> = BTreeMap::new();
    for dir in by_path.keys() {
        let files: Vec<&str> = changed
            .iter()
            .map(|c| c.path.as_str())
            .filter(|p| under(dir, p))
            .collect();
        let mut rs = Vec::new();
        if !files.is_empty() {
            rs.push(AffectReason::Files {
                paths: files.iter().take(20).map(|s| (*s).to_owned()).collect(),
                count: files.len(),
            });
        }
        for vf in options.values_files.get(dir).into_iter().flatten() {
            if !under(dir, vf) && changed.iter().any(|c| &c.path == vf) {
                rs.push(AffectReason::ValuesFile { path: vf.clone() });
            }
        }
        reasons.insert(dir.clone(), rs);
    }
    // Propagate through local dependencies until nothing changes.
    loop {
        let mut grew = false;
        for (dir, (old, new)) in &by_path {
            let chart = new.or(*old).expect("one side exists");
            for dep in &chart.dependencies {
                let Some(dep_dir) = &dep.local_path else {
                    continue;
                };
                let dep_affected = reasons.get(dep_dir).is_some_and(|r| !r.is_empty())
                    || changed.iter().any(|c| under(dep_dir, &c.path));
                let list = reasons.entry(dir.clone()).or_default();
                let already = list
                    .iter()
                    .any(|r| matches!(r, AffectReason::Dependency { path } if path == dep_dir));
                if dep_affected && !already && dep_dir != dir {
                    list.push(AffectReason::Dependency {
                        path: dep_dir.clone(),
                    });
                    grew = true;
                }
            }
        }
        if !grew {
            break;
        }
    }
    let mut out = Vec::new();
    for (dir, (old, new)) in by_path {
        let rs = reasons.remove(&dir).unwrap_or_default();
        let (chart, status) = match (old, new) {
            (None, Some(n)) => (n, ChartStatus::Added),
            (Some(o), None) => (o, ChartStatus::Removed),
            (Some(_), Some(n)) if !rs.is_empty() => (n, ChartStatus::Modified),
            _ => continue,
        };
        out.push(AffectedChart {
            chart: chart.clone(),
            status,
            reasons: rs,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Change;

    #[test]
    fn reads_chart_yaml_leniently() {
        let info = chart_info(
            "charts/app",
            b"apiVersion: v2\nname: app\nversion: 1.0\ntype: application\ndependencies:\n- name: common\n  version: 2.x\n  repository: file://../common\n- name: redis\n  repository: https://charts.bitnami.com/bitnami\n",
        );
        assert_eq!(info.name, "app");
        assert_eq!(info.version.as_deref(), Some("1"));
        assert_eq!(
            info.dependencies[0].local_path.as_deref(),
            Some("charts/common")
        );
        assert_eq!(info.dependencies[1].local_path, None);
        let broken = chart_info(".", b"name: [unclosed");
        assert!(broken.error.is_some());
        assert_eq!(broken.path, ".");
        assert_eq!(resolve_relative("a", "../../x"), None);
    }

    #[test]
    fn propagates_through_local_dependencies() {
        let common = chart_info("lib/common", b"name: common\ntype: library\n");
        let app = chart_info(
            "apps/web",
            b"name: web\ndependencies:\n- name: common\n  repository: file://../../lib/common\n",
        );
        let other = chart_info("apps/other", b"name: other\n");
        let charts = vec![common, app, other];
        let changed = vec![ChangedPath {
            path: "lib/common/templates/_helpers.tpl".into(),
            change: Change::Modified,
        }];
        let got = affected(&charts, &charts, &changed, &AffectedOptions::new());
        let paths: Vec<&str> = got.iter().map(|a| a.chart.path.as_str()).collect();
        assert_eq!(paths, ["apps/web", "lib/common"]);
        assert_eq!(
            got[0].reasons,
            vec![AffectReason::Dependency {
                path: "lib/common".into()
            }]
        );
    }
}
