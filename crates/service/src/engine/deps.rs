//! Dependencies of a chart read from git: what `charts/` lacks is resolved as `helm dependency
//! build` (with `Chart.lock`) or `update` (ranges) would, `file://` charts are read from the
//! same commit, and subchart version changes become impact signals.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use chart_source::{CommitId, Repository};
use helm_render::ChartFiles;

use crate::response::{Dependencies, DependencyInfo};

/// Reads `file://` dependencies from the commit the chart is read from.
///
/// chart-repo names the chart a `file://` path is relative to by its label: `""` for the
/// chart being resolved, then `name`, `name/child` for the local charts it packages; each
/// label's directory is remembered as its chart is read.
pub(super) struct GitLocalCharts<'a> {
    repo: &'a Repository,
    commit: &'a CommitId,
    dirs: RefCell<HashMap<String, String>>,
}

impl<'a> GitLocalCharts<'a> {
    pub(super) fn new(repo: &'a Repository, commit: &'a CommitId, chart_path: &str) -> Self {
        let dirs = HashMap::from([(String::new(), chart_path.trim_matches('/').to_owned())]);
        GitLocalCharts {
            repo,
            commit,
            dirs: RefCell::new(dirs),
        }
    }
}

impl chart_repo::LocalCharts for GitLocalCharts<'_> {
    fn read(&self, chart_path: &str, path: &str) -> Result<ChartFiles, String> {
        let base = self.dirs.borrow().get(chart_path).cloned().ok_or_else(|| {
            format!("file://{path} is declared by a chart whose directory is not known; vendor it into charts/")
        })?;
        let dir = join_repo_path(&base, path)
            .ok_or_else(|| format!("file://{path} (from {base:?}) leads outside the repository"))?;
        let files: ChartFiles = self
            .repo
            .read_chart(self.commit, &dir)
            .map_err(|e| format!("file://{path} ({dir}): {e}"))?
            .into_files()
            .into_iter()
            .map(|(k, f)| (k, f.data))
            .collect();
        if let Some(name) = chart_name(&files) {
            let label = if chart_path.is_empty() {
                name
            } else {
                format!("{chart_path}/{name}")
            };
            self.dirs.borrow_mut().insert(label, dir);
        }
        Ok(files)
    }
}

fn chart_name(files: &ChartFiles) -> Option<String> {
    let doc = yaml11::parse_value(
        std::str::from_utf8(files.get("Chart.yaml")?).ok()?,
        &yaml11::Limits::default(),
    )
    .ok()?;
    doc.get("name")?.as_str().map(str::to_owned)
}

/// `base` joined with a relative `path` (`..` steps allowed while they stay in the
/// repository); `None` when it would leave it.
fn join_repo_path(base: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = base
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// Whether the chart at `chart_path` declares dependencies (`Chart.yaml`'s `dependencies`, or
/// a v1 chart's `requirements.yaml`), read without loading the chart. An unreadable
/// Chart.yaml counts as declaring some: the full read reports what is wrong.
pub(super) fn declares_dependencies(
    repo: &Repository,
    commit: &CommitId,
    chart_path: &str,
) -> bool {
    let dir = chart_path.trim_matches('/');
    let at = |f: &str| {
        if dir.is_empty() || dir == "." {
            f.to_owned()
        } else {
            format!("{dir}/{f}")
        }
    };
    if matches!(
        repo.read_file(commit, &at("requirements.yaml")),
        Ok(Some(_))
    ) {
        return true;
    }
    let Ok(Some(chart_yaml)) = repo.read_file(commit, &at("Chart.yaml")) else {
        return true;
    };
    let Ok(text) = std::str::from_utf8(&chart_yaml) else {
        return true;
    };
    match yaml11::parse_value(text, &yaml11::Limits::default()) {
        Ok(doc) => doc
            .get("dependencies")
            .and_then(|d| d.as_sequence())
            .is_some_and(|d| !d.is_empty()),
        Err(_) => true,
    }
}

/// The dependencies whose version differs between the two sides, matched by the chart
/// declaring them and the name they render under.
pub(super) fn subchart_changes(deps: &Dependencies) -> Vec<diff_core::impact::SubchartChange> {
    let old: BTreeMap<(&str, &str), &DependencyInfo> = deps
        .version1
        .iter()
        .map(|d| ((d.parent.as_str(), d.key()), d))
        .collect();
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for d in &deps.version2 {
        let key = (d.parent.as_str(), d.key());
        if !seen.insert(key) {
            continue;
        }
        if let Some(o) = old.get(&key)
            && o.version != d.version
        {
            out.push(diff_core::impact::SubchartChange {
                parent: d.parent.clone(),
                name: d.name.clone(),
                alias: d.alias.clone(),
                from: o.version.clone(),
                to: d.version.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_stay_in_the_repository() {
        assert_eq!(
            join_repo_path("charts/app", "../common").as_deref(),
            Some("charts/common")
        );
        assert_eq!(join_repo_path("app", "./lib/").as_deref(), Some("app/lib"));
        assert_eq!(join_repo_path("", "../x"), None);
        assert_eq!(join_repo_path("a", "../../x"), None);
    }

    #[test]
    fn version_changes_are_matched_by_parent_and_alias() {
        let dep = |parent: &str, name: &str, alias: Option<&str>, v: &str| DependencyInfo {
            parent: parent.into(),
            name: name.into(),
            alias: alias.map(Into::into),
            constraint: "*".into(),
            version: v.into(),
            repository: String::new(),
            source: "vendored".into(),
            digest: None,
        };
        let deps = Dependencies {
            version1: vec![
                dep("app", "redis", None, "1.0.0"),
                dep("app", "redis", Some("cache"), "1.0.0"),
                dep("app", "gone", None, "1.0.0"),
            ],
            version2: vec![
                dep("app", "redis", None, "1.0.0"),
                dep("app", "redis", Some("cache"), "2.0.0"),
                dep("app", "new", None, "1.0.0"),
            ],
        };
        let c = subchart_changes(&deps);
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].key(), c[0].from.as_str(), c[0].to.as_str()),
            ("cache", "1.0.0", "2.0.0")
        );
    }
}
