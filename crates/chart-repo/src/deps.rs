//! Dependencies missing from a chart's `charts/`, resolved and fetched as `helm dependency
//! build` would (with `Chart.lock`: exact versions, the lock's digest checked against
//! Chart.yaml) or `helm dependency update` (no lock: the newest version each range admits).
//!
//! What is vendored stays as it is; each missing dependency is added as
//! `charts/<name>-<version>.tgz`, exactly the file `helm dependency build` writes, so aliases,
//! conditions, tags and import-values are processed by the renderer as Helm processes them,
//! and both renderers (native and the helm CLI) get the same chart.

use std::collections::BTreeMap;
use std::io::Write;

use helm_render::ChartFiles;
use helm_render::chart::{Chart, Dependency};
use serde::Deserialize;
use text_template::semver::{Constraints, Version};

use crate::cache::sha256_hex;
use crate::http::Call;
use crate::policy::redact_str;
use crate::repos::{ChartRepos, exact};
use crate::{Error, Result};

/// Reads charts that `file://` dependencies name, relative to the chart being resolved (the
/// engine reads them from the same git commit; a CLI user's from disk).
pub trait LocalCharts {
    /// The files of the chart directory at `path` (e.g. `../common`, from
    /// `repository: file://../common`) relative to the chart at `chart_path` (`""` for the
    /// chart being resolved). An error is a message for the user.
    fn read(&self, chart_path: &str, path: &str) -> std::result::Result<ChartFiles, String>;
}

/// How a dependency got into the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DependencySource {
    /// It was in `charts/` already (vendored in git or in the archive).
    Vendored,
    /// Fetched at the exact version `Chart.lock` pins.
    Locked,
    /// Fetched at the newest version the range in Chart.yaml admits (no lock file).
    Range,
    /// Packaged from a `file://` directory.
    Local,
}

impl DependencySource {
    /// `vendored`, `locked`, `range` or `local`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DependencySource::Vendored => "vendored",
            DependencySource::Locked => "locked",
            DependencySource::Range => "range",
            DependencySource::Local => "local",
        }
    }
}

/// One dependency of the chart (or of one of its dependencies), as resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolvedDependency {
    /// The chart that declares it: its name, `parent/child` for nested dependencies.
    pub parent: String,
    /// The dependency's chart name.
    pub name: String,
    /// Its alias, if any.
    pub alias: Option<String>,
    /// The version range Chart.yaml asks for.
    pub constraint: String,
    /// The version in the chart now.
    pub version: String,
    /// The repository as written (redacted), empty for a vendored one without a repository.
    pub repository: String,
    /// How it got there.
    pub source: DependencySource,
    /// sha256 (hex) of the fetched archive; `None` for vendored dependencies.
    pub digest: Option<String>,
}

/// A chart with its dependencies in `charts/`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Resolution {
    /// The chart's files, with fetched dependencies added as `charts/<name>-<version>.tgz`
    /// (unchanged when nothing was missing).
    pub files: ChartFiles,
    /// Every declared dependency, vendored or fetched, nested ones after their parent.
    pub dependencies: Vec<ResolvedDependency>,
}

impl Resolution {
    /// Whether anything was fetched or packaged.
    pub fn fetched(&self) -> bool {
        self.dependencies
            .iter()
            .any(|d| d.source != DependencySource::Vendored)
    }

    /// A digest of what was added (names, versions, archive digests), for cache keys: the same
    /// chart tree resolves to other versions when a range admits a newer release.
    pub fn fingerprint(&self) -> String {
        let mut text = String::new();
        for d in self
            .dependencies
            .iter()
            .filter(|d| d.source != DependencySource::Vendored)
        {
            text.push_str(&format!(
                "{}\0{}\0{}\0{}\n",
                d.parent,
                d.name,
                d.version,
                d.digest.as_deref().unwrap_or("")
            ));
        }
        sha256_hex(text.as_bytes())
    }
}

#[derive(Deserialize, Default)]
struct LockFile {
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    dependencies: Option<Vec<LockDep>>,
}

#[derive(Deserialize, Default, Clone)]
struct LockDep {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    repository: String,
    #[serde(default)]
    condition: String,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    enabled: bool,
    #[serde(default, rename = "import-values")]
    import_values: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    alias: String,
}

/// `serde_json::Value` as Go marshals an `interface{}` (map keys sorted).
fn go_json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => text_template::json_string(s),
        serde_json::Value::Array(a) => {
            format!("[{}]", a.iter().map(go_json).collect::<Vec<_>>().join(","))
        }
        serde_json::Value::Object(m) => {
            let sorted: BTreeMap<&String, &serde_json::Value> = m.iter().collect();
            format!(
                "{{{}}}",
                sorted
                    .iter()
                    .map(|(k, v)| format!("{}:{}", text_template::json_string(k), go_json(v)))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
    }
}

/// `chart.Dependency` marshalled as Go does (field order, `omitempty`).
#[allow(clippy::too_many_arguments)]
fn dep_json(
    name: &str,
    version: &str,
    repository: &str,
    condition: &str,
    tags: &[String],
    enabled: bool,
    import_values: Option<String>,
    alias: &str,
) -> String {
    let mut s = format!("{{\"name\":{}", text_template::json_string(name));
    if !version.is_empty() {
        s.push_str(&format!(
            ",\"version\":{}",
            text_template::json_string(version)
        ));
    }
    s.push_str(&format!(
        ",\"repository\":{}",
        text_template::json_string(repository)
    ));
    if !condition.is_empty() {
        s.push_str(&format!(
            ",\"condition\":{}",
            text_template::json_string(condition)
        ));
    }
    if !tags.is_empty() {
        let t: Vec<String> = tags.iter().map(|t| text_template::json_string(t)).collect();
        s.push_str(&format!(",\"tags\":[{}]", t.join(",")));
    }
    if enabled {
        s.push_str(",\"enabled\":true");
    }
    if let Some(iv) = import_values {
        s.push_str(&format!(",\"import-values\":{iv}"));
    }
    if !alias.is_empty() {
        s.push_str(&format!(",\"alias\":{}", text_template::json_string(alias)));
    }
    s.push('}');
    s
}

fn req_json(deps: &[Dependency], declared: bool) -> String {
    if !declared {
        return "null".into();
    }
    let items: Vec<String> = deps
        .iter()
        .map(|d| {
            let iv = (!d.import_values.is_empty()).then(|| {
                format!(
                    "[{}]",
                    d.import_values
                        .iter()
                        .map(text_template::to_json)
                        .collect::<Vec<_>>()
                        .join(",")
                )
            });
            dep_json(
                &d.name,
                &d.version,
                &d.repository,
                &d.condition,
                &d.tags,
                d.enabled,
                iv,
                &d.alias,
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn lock_json(deps: Option<&[LockDep]>) -> String {
    let Some(deps) = deps else {
        return "null".into();
    };
    let items: Vec<String> =
        deps.iter()
            .map(|d| {
                let iv =
                    d.import_values.as_ref().filter(|v| !v.is_empty()).map(|v| {
                        format!("[{}]", v.iter().map(go_json).collect::<Vec<_>>().join(","))
                    });
                dep_json(
                    &d.name,
                    &d.version,
                    &d.repository,
                    &d.condition,
                    d.tags.as_deref().unwrap_or(&[]),
                    d.enabled,
                    iv,
                    &d.alias,
                )
            })
            .collect();
    format!("[{}]", items.join(","))
}

/// Helm's `resolver.HashReq` and `HashV2Req`: the digests a lock file may carry for these
/// dependencies.
fn lock_digests(chart: &Chart, lock: &LockFile) -> [String; 2] {
    let req = req_json(
        &chart.metadata.dependencies,
        chart.metadata.dependencies_declared,
    );
    let both = format!("[{req},{}]", lock_json(lock.dependencies.as_deref()));
    let v2 = format!("{{\"dependencies\":{req}}}");
    [
        format!("sha256:{}", sha256_hex(both.as_bytes())),
        format!("sha256:{}", sha256_hex(v2.as_bytes())),
    ]
}

/// A deterministic `.tgz` of `files` under the top directory `name/` (what `helm package`
/// makes, minus timestamps): for dependencies whose own dependencies were added, and for
/// `file://` dependencies.
pub(crate) fn pack(name: &str, files: &ChartFiles) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| Error::InvalidArchive {
        url: name.to_owned(),
        reason: format!("packing: {e}"),
    };
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, data) in files.iter() {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("{name}/{path}"), data)
            .map_err(io)?;
    }
    // A directory's files are read on first use: one that could not be read then read as
    // empty and must not be packed as such.
    if let Some(e) = files.unreadable() {
        return Err(Error::InvalidArchive {
            url: name.to_owned(),
            reason: format!(
                "packing: {e}: {}",
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            ),
        });
    }
    let mut gz = tar.into_inner().map_err(io)?;
    gz.flush().map_err(io)?;
    gz.finish().map_err(io)
}

struct Ctx<'a> {
    local: Option<&'a dyn LocalCharts>,
    call: &'a Call,
    out: Vec<ResolvedDependency>,
}

impl ChartRepos {
    /// Fills in the dependencies missing from a chart's `charts/` (see the module docs of
    /// `deps`): with a `Chart.lock` (or `requirements.lock`) at its exact versions — after
    /// checking the lock is in sync with Chart.yaml, as `helm dependency build` does — and
    /// without one at the newest version each range admits, as `helm dependency update` does.
    /// Dependencies of fetched charts that are not in their archive are resolved the same way.
    ///
    /// A chart with nothing missing is returned unchanged without any network use. A chart
    /// that does not load is returned unchanged too: the renderer reports its error in its own
    /// words. `local` reads `file://` dependencies; without it they must be vendored.
    pub fn resolve_dependencies(
        &self,
        files: &ChartFiles,
        local: Option<&dyn LocalCharts>,
        call: &Call,
    ) -> Result<Resolution> {
        let mut ctx = Ctx {
            local,
            call,
            out: Vec::new(),
        };
        let resolved = self.resolve_in(files, "", 0, &mut ctx)?;
        Ok(Resolution {
            files: resolved.unwrap_or_else(|| files.clone()),
            dependencies: ctx.out,
        })
    }

    /// Resolves the chart `files` (at `path` below the top chart); `Some` when files were added.
    fn resolve_in(
        &self,
        files: &ChartFiles,
        path: &str,
        depth: usize,
        ctx: &mut Ctx<'_>,
    ) -> Result<Option<ChartFiles>> {
        let Ok(filtered) = files.clone().filtered() else {
            return Ok(None);
        };
        let Ok(chart) = Chart::load(&filtered) else {
            return Ok(None);
        };
        let label = if path.is_empty() {
            chart.name().to_owned()
        } else {
            path.to_owned()
        };
        let mut missing = Vec::new();
        for (i, d) in chart.metadata.dependencies.iter().enumerate() {
            match chart.dependencies.iter().find(|c| c.name() == d.name) {
                Some(present) => ctx.out.push(ResolvedDependency {
                    parent: label.clone(),
                    name: d.name.clone(),
                    alias: (!d.alias.is_empty()).then(|| d.alias.clone()),
                    constraint: d.version.clone(),
                    version: present.metadata.version.clone(),
                    repository: redact_str(&d.repository),
                    source: DependencySource::Vendored,
                    digest: None,
                }),
                None => missing.push(i),
            }
        }
        if missing.is_empty() {
            return Ok(None);
        }
        if depth >= self.inner.limits.max_dependency_depth {
            return Err(Error::Config(format!(
                "chart {label:?}: dependencies nested more than {} deep",
                self.inner.limits.max_dependency_depth
            )));
        }
        let lock = self.read_lock(files, &chart, &label)?;
        let mut out = files.clone();
        let mut added: BTreeMap<String, ()> = BTreeMap::new();
        for i in missing {
            let d = &chart.metadata.dependencies[i];
            let (repository, version, source) = match &lock {
                Some(l) => {
                    let entry =
                        lock_entry(l, &chart.metadata.dependencies, i).ok_or_else(|| {
                            Error::LockOutOfSync {
                                chart: label.clone(),
                                lock_file: lock_name(&chart),
                                deps_file: deps_name(&chart),
                            }
                        })?;
                    (
                        entry.repository.clone(),
                        entry.version.clone(),
                        DependencySource::Locked,
                    )
                }
                None => (
                    d.repository.clone(),
                    d.version.clone(),
                    DependencySource::Range,
                ),
            };
            let wrap = |source: Error| Error::Dependency {
                chart: label.clone(),
                dependency: d.name.clone(),
                repository: redact_str(&repository),
                source: Box::new(source),
            };
            let (bytes, name, ver, digest, source) = if repository.trim().is_empty() {
                return Err(wrap(Error::UnsupportedRepository {
                    reason: "it names no repository and is not in charts/; vendor it or name its repository".into(),
                }));
            } else if let Some(rel) = repository.strip_prefix("file://") {
                let (bytes, name, ver) = self
                    .package_local(path, rel, &d.name, &version, depth, ctx)
                    .map_err(wrap)?;
                let digest = sha256_hex(&bytes);
                (bytes, name, ver, digest, DependencySource::Local)
            } else {
                let archive = self
                    .fetch_chart(&repository, &d.name, &version, ctx.call)
                    .map_err(wrap)?;
                let child = format!("{label}/{}", archive.name);
                let inner = archive.files().map_err(wrap)?;
                let bytes = match self.resolve_in(&inner, &child, depth + 1, ctx)? {
                    Some(filled) => pack(&archive.name, &filled)?,
                    None => archive.bytes.as_ref().clone(),
                };
                (bytes, archive.name, archive.version, archive.digest, source)
            };
            ctx.out.push(ResolvedDependency {
                parent: label.clone(),
                name: d.name.clone(),
                alias: (!d.alias.is_empty()).then(|| d.alias.clone()),
                constraint: d.version.clone(),
                version: ver.clone(),
                repository: redact_str(&repository),
                source,
                digest: Some(digest),
            });
            let file = format!("charts/{name}-{ver}.tgz");
            if added.insert(file.clone(), ()).is_none() {
                out.insert(file, bytes);
            }
        }
        Ok(Some(out))
    }

    fn read_lock(
        &self,
        files: &ChartFiles,
        chart: &Chart,
        label: &str,
    ) -> Result<Option<LockFile>> {
        let name = lock_name(chart);
        let Some(data) = files.get(name).or_else(|| files.get("requirements.lock")) else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(data);
        let lock: LockFile = serde_saphyr::from_str::<Option<LockFile>>(&text)
            .map_err(|e| Error::InvalidLock {
                chart: label.to_owned(),
                lock_file: name,
                reason: e.to_string().lines().next().unwrap_or("").to_owned(),
            })?
            .unwrap_or_default();
        let digest = lock.digest.clone().unwrap_or_default();
        if !lock_digests(chart, &lock).contains(&digest) {
            return Err(Error::LockOutOfSync {
                chart: label.to_owned(),
                lock_file: name,
                deps_file: deps_name(chart),
            });
        }
        Ok(Some(lock))
    }

    /// `tarFromLocalDir`: the local chart, its version checked against the constraint,
    /// packaged (its own missing dependencies resolved first).
    fn package_local(
        &self,
        path: &str,
        rel: &str,
        name: &str,
        version: &str,
        depth: usize,
        ctx: &mut Ctx<'_>,
    ) -> Result<(Vec<u8>, String, String)> {
        let local = ctx.local.ok_or_else(|| Error::UnsupportedRepository {
            reason: format!(
                "file://{rel} is not in charts/ and local charts cannot be read here; vendor it into charts/"
            ),
        })?;
        let files = local
            .read(path, rel)
            .map_err(|reason| Error::UnsupportedRepository { reason })?
            .filtered()
            .map_err(|e| Error::InvalidArchive {
                url: format!("file://{rel}"),
                reason: e.to_string(),
            })?;
        let chart = Chart::load(&files).map_err(|e| Error::InvalidArchive {
            url: format!("file://{rel}"),
            reason: e.to_string(),
        })?;
        let v = chart.metadata.version.clone();
        let ok = match (Constraints::parse(version), Version::parse(&v)) {
            (Ok(c), Some(pv)) => c.check(&pv),
            _ => exact(version).is_some_and(|e| e == v),
        };
        if !ok {
            return Err(Error::VersionNotFound {
                repository: format!("file://{rel}"),
                chart: name.to_owned(),
                version: version.to_owned(),
                nearest: vec![v],
            });
        }
        let child = if path.is_empty() {
            chart.name().to_owned()
        } else {
            format!("{path}/{}", chart.name())
        };
        let files = self
            .resolve_in(&files, &child, depth + 1, ctx)?
            .unwrap_or(files);
        let bytes = pack(chart.name(), &files)?;
        Ok((bytes, chart.name().to_owned(), v))
    }
}

fn lock_name(chart: &Chart) -> &'static str {
    if chart.metadata.api_version == "v1" {
        "requirements.lock"
    } else {
        "Chart.lock"
    }
}

fn deps_name(chart: &Chart) -> &'static str {
    if chart.metadata.api_version == "v1" {
        "requirements.yaml"
    } else {
        "Chart.yaml"
    }
}

/// The lock entry for dependency `i`: the same position (Helm writes one per dependency, in
/// order), else the only entry of that name.
fn lock_entry<'a>(lock: &'a LockFile, deps: &[Dependency], i: usize) -> Option<&'a LockDep> {
    let entries = lock.dependencies.as_deref()?;
    let name = &deps[i].name;
    if entries.len() == deps.len() && entries[i].name == *name {
        return Some(&entries[i]);
    }
    let mut same = entries.iter().filter(|e| e.name == *name);
    match (same.next(), same.next()) {
        (Some(e), None) => Some(e),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(yaml: &str) -> Chart {
        let files: ChartFiles = [("Chart.yaml".to_owned(), yaml.as_bytes().to_vec())]
            .into_iter()
            .collect();
        Chart::load(&files).unwrap()
    }

    #[test]
    fn lock_digest_matches_helm_for_argo_cd() {
        // argo-cd 7.8.13's Chart.yaml dependencies and its Chart.lock (digest by helm).
        let c = chart(
            "apiVersion: v2\nname: argo-cd\nversion: 7.8.13\ndependencies:\n  - name: redis-ha\n    version: 4.29.4\n    repository: https://dandydeveloper.github.io/charts/\n    condition: redis-ha.enabled\n",
        );
        let lock: LockFile = serde_saphyr::from_str(
            "dependencies:\n- name: redis-ha\n  repository: https://dandydeveloper.github.io/charts/\n  version: 4.29.4\ndigest: sha256:1257baf1c5e0db036af659d44095223e28ac0c9ec1ed8300a02d5def2281c9c7\ngenerated: \"2024-11-13T09:07:36.494128+09:00\"\n",
        )
        .unwrap();
        assert!(lock_digests(&c, &lock).contains(lock.digest.as_ref().unwrap()));
    }

    #[test]
    fn go_json_escapes_as_go() {
        assert_eq!(
            text_template::json_string("<a & b>\u{1}"),
            r#""\u003ca \u0026 b\u003e\u0001""#
        );
        let v: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":[true,null]}"#).unwrap();
        assert_eq!(go_json(&v), r#"{"a":[true,null],"b":1}"#);
    }

    #[test]
    fn packs_deterministically_and_loadably() {
        let files: ChartFiles = [
            ("Chart.yaml", "apiVersion: v2\nname: lib\nversion: 1.0.0\n"),
            ("templates/x.yaml", "kind: X\n"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
        .collect();
        let a = pack("lib", &files).unwrap();
        assert_eq!(a, pack("lib", &files).unwrap());
        let back = ChartFiles::from_tgz(&a, helm_render::FileLimits::default()).unwrap();
        assert_eq!(back, files);
    }

    #[test]
    fn a_directory_file_gone_before_packing_is_an_error_not_an_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("templates")).unwrap();
        std::fs::write(
            dir.path().join("Chart.yaml"),
            "apiVersion: v2\nname: lib\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("templates/x.yaml"), "kind: X\n").unwrap();
        let files = ChartFiles::from_dir(dir.path(), helm_render::FileLimits::default()).unwrap();
        std::fs::remove_file(dir.path().join("templates/x.yaml")).unwrap();
        let err = pack("lib", &files).unwrap_err().to_string();
        assert!(err.contains("templates/x.yaml"), "{err}");
    }
}
