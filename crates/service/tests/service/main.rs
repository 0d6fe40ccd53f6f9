//! The compare engine end to end on local git repositories (no network).

mod corpus;
mod engine;
mod pr;
#[cfg(feature = "server")]
mod server;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use helm_render::{ChartFiles, Options, Outcome, RenderError, Renderer, RendererInfo};

pub use testkit::git;

/// A repository whose successive commits hold exactly the given trees. The index is rebuilt
/// from scratch for every commit, so git's stat cache can never keep a stale file.
pub struct RepoBuilder {
    pub dir: PathBuf,
}

impl RepoBuilder {
    pub fn new(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q", "-b", "main"]);
        RepoBuilder { dir }
    }

    /// Replaces the work tree with `files` (path → content), commits and tags it.
    pub fn commit(&self, files: &[(String, Vec<u8>)], tag: &str) {
        for entry in std::fs::read_dir(&self.dir).unwrap().flatten() {
            if entry.file_name() != ".git" {
                let p = entry.path();
                if p.is_dir() {
                    std::fs::remove_dir_all(p).unwrap();
                } else {
                    std::fs::remove_file(p).unwrap();
                }
            }
        }
        for (p, data) in files {
            let path = self.dir.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, data).unwrap();
        }
        let _ = std::fs::remove_file(self.dir.join(".git/index"));
        git(&self.dir, &["add", "-A", "-f", "."]);
        git(&self.dir, &["commit", "-q", "--allow-empty", "-m", tag]);
        git(&self.dir, &["tag", tag]);
    }
}

/// Every file under `dir`, as (prefix/relative path, bytes).
pub fn tree(dir: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, prefix, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((format!("{prefix}{rel}"), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, prefix, &mut out);
    out
}

pub fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    list.iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect()
}

/// A renderer for tests: prints each `templates/*.yaml` verbatim, with the values files'
/// text appended as a ConfigMap, and counts its calls. `fail` makes it report a chart error.
#[derive(Default)]
pub struct FakeRenderer {
    pub calls: AtomicUsize,
    pub fail: Option<String>,
}

impl Renderer for FakeRenderer {
    fn info(&self) -> RendererInfo {
        RendererInfo {
            name: "native",
            version: "fake-1".into(),
        }
    }

    fn render(&self, chart: &ChartFiles, options: &Options) -> Result<Outcome, RenderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(m) = &self.fail {
            return Err(RenderError::Chart { message: m.clone() });
        }
        let mut manifest = String::new();
        for (path, data) in chart.iter() {
            if path.starts_with("templates/") && path.ends_with(".yaml") {
                manifest.push_str("---\n");
                manifest.push_str(&String::from_utf8_lossy(data));
            }
        }
        let values: Vec<String> = options
            .values
            .iter()
            .map(|v| String::from_utf8_lossy(&v.content).into_owned())
            .collect();
        manifest.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: values\ndata:\n  values: {:?}\n",
            values.join("|")
        ));
        Ok(Outcome {
            manifest,
            renderer: self.info(),
        })
    }
}

pub fn engine_with(dir: &Path, renderer: Arc<dyn Renderer>) -> service::Engine {
    service::Engine::builder(dir)
        .policy(chart_source::UrlPolicy {
            allow_local: true,
            ..Default::default()
        })
        .renderers(service::Renderers {
            native: Some(renderer),
            ..Default::default()
        })
        .build()
        .unwrap()
}
