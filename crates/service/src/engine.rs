//! The compare engine: resolve, read, render (both sides in parallel), diff, score.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chart_source::{CommitId, MirrorCache, Repository, UrlPolicy};
use helm_render::{RenderError, Renderer, ValuesFile};

use crate::error::CompareError;
use crate::render_cache::RenderCache;
use crate::request::CompareRequest;
use crate::response::{CompareResponse, RefInfo, RendererUsed, ResolvedCommits, VersionsResponse};

/// A stage of a comparison, reported to a progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Resolving revisions (fetching into the mirror when needed).
    Resolve,
    /// Reading charts and values at both commits.
    Read,
    /// Rendering both sides.
    Render,
    /// Diffing and scoring.
    Diff,
}

impl Stage {
    /// A stable name for machines (`resolve`, `read`, `render`, `diff`).
    pub fn id(self) -> &'static str {
        match self {
            Stage::Resolve => "resolve",
            Stage::Read => "read",
            Stage::Render => "render",
            Stage::Diff => "diff",
        }
    }

    /// A word for progress displays.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Resolve => "resolving revisions",
            Stage::Read => "reading charts",
            Stage::Render => "rendering",
            Stage::Diff => "diffing",
        }
    }
}

/// Per-call context: a deadline, a cancellation flag and a progress callback.
#[derive(Clone, Default)]
pub struct Context {
    /// When to stop the work, and the timeout it came from (for the error message).
    deadline: Option<(Instant, Duration)>,
    /// Set to stop the work.
    pub cancel: Arc<AtomicBool>,
    /// Called when a stage starts.
    pub progress: Option<Arc<dyn Fn(Stage) + Send + Sync>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("deadline", &self.deadline)
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context that stops the work after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        let mut ctx = Context::default();
        ctx.set_timeout(timeout);
        ctx
    }

    /// Stops the work `timeout` from now.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.deadline = Some((Instant::now() + timeout, timeout));
    }

    /// When the work will be stopped, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.map(|(at, _)| at)
    }

    fn stage(&self, s: Stage) -> Result<(), CompareError> {
        self.check()?;
        if let Some(p) = &self.progress {
            p(s);
        }
        Ok(())
    }

    fn check(&self) -> Result<(), CompareError> {
        if let Some(d) = self.deadline()
            && Instant::now() >= d
        {
            return Err(self.timeout_error());
        }
        if self.cancel.load(Ordering::Relaxed) {
            return Err(CompareError::Cancelled);
        }
        Ok(())
    }

    fn remaining(&self) -> Duration {
        self.deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(600))
    }

    fn timeout_error(&self) -> CompareError {
        CompareError::Timeout {
            seconds: self
                .deadline
                .map(|(_, after)| after.as_secs())
                .unwrap_or_default(),
        }
    }
}

/// The library API: what the CLI, the server and embedders call.
pub trait CompareService: Send + Sync {
    /// Compares a chart at two revisions. Blocking; async callers use `spawn_blocking`.
    fn compare(
        &self,
        request: &CompareRequest,
        ctx: &Context,
    ) -> Result<CompareResponse, CompareError>;

    /// Tags and branches of a repository, without cloning it.
    fn versions(&self, repository: &str, ctx: &Context) -> Result<VersionsResponse, CompareError>;

    /// The charts of a repository at `revision` (`HEAD` when `None`). The default answers
    /// `Internal`: only services that read repositories can do this.
    fn charts(
        &self,
        repository: &str,
        revision: Option<&str>,
        ctx: &Context,
    ) -> Result<crate::response::ChartsResponse, CompareError> {
        let _ = (repository, revision, ctx);
        Err(CompareError::Internal(
            "this service cannot list charts".into(),
        ))
    }

    /// Compares every chart affected between two revisions (a pull request, a push). The
    /// default answers `Internal`: only services that read repositories can do this.
    fn analyze_pr(
        &self,
        request: &crate::pr::PrRequest,
        ctx: &Context,
    ) -> Result<crate::pr::PrReport, CompareError> {
        let _ = (request, ctx);
        Err(CompareError::Internal(
            "this service cannot analyse pull requests".into(),
        ))
    }

    /// Cache hits and misses so far (for metrics); zero when the service keeps no caches.
    fn cache_stats(&self) -> CacheStats {
        CacheStats::default()
    }
}

/// Hits and misses of an engine's caches since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Comparisons answered from the in-memory result cache.
    pub result_hits: u64,
    /// Comparisons computed.
    pub result_misses: u64,
    /// Sides whose render came from the render cache.
    pub render_hits: u64,
    /// Sides rendered.
    pub render_misses: u64,
}

#[derive(Debug, Default)]
struct Counters {
    result_hits: AtomicU64,
    result_misses: AtomicU64,
    render_hits: AtomicU64,
    render_misses: AtomicU64,
}

impl Counters {
    fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The renderers an engine may use, by mode.
#[derive(Clone, Default)]
pub struct Renderers {
    /// `auto`: used when the request says `auto` (or nothing).
    pub auto: Option<Arc<dyn Renderer>>,
    /// `native`.
    pub native: Option<Arc<dyn Renderer>>,
    /// `helm`.
    pub helm: Option<Arc<dyn Renderer>>,
}

impl Renderers {
    /// What this machine can run: the native renderer, a `helm` binary when one is found
    /// (`CHARTIMPACT_HELM` or `PATH`), and `auto` over both.
    pub fn installed() -> Renderers {
        Renderers {
            auto: Some(Arc::new(helm_render::AutoRenderer::locate())),
            native: Some(Arc::new(helm_render::NativeRenderer::new())),
            helm: helm_render::HelmCliRenderer::locate().map(|h| Arc::new(h) as Arc<dyn Renderer>),
        }
    }

    fn pick(&self, mode: &str) -> Result<Arc<dyn Renderer>, CompareError> {
        let found = match mode {
            "native" => self.native.clone(),
            "helm" => self.helm.clone(),
            _ => self
                .auto
                .clone()
                .or_else(|| self.native.clone())
                .or_else(|| self.helm.clone()),
        };
        found.ok_or_else(|| {
            CompareError::RendererUnavailable(match mode {
                "helm" => "the helm renderer needs a helm binary: install helm v3.17 (scripts/install-helm.sh) or use --renderer native".into(),
                "native" => "the native renderer is not available in this build: use --renderer helm".into(),
                _ => "no renderer is available: install helm v3.17 (scripts/install-helm.sh)".into(),
            })
        })
    }
}

/// The engine behind [`CompareService`].
pub struct Engine {
    mirrors: MirrorCache,
    renderers: Renderers,
    renders: Option<RenderCache>,
    results: Mutex<HashMap<String, CompareResponse>>,
    result_capacity: usize,
    extra_values: Vec<ValuesFile>,
    counters: Counters,
}

/// Builds an [`Engine`].
pub struct EngineBuilder {
    data_dir: PathBuf,
    policy: UrlPolicy,
    renderers: Renderers,
    render_cache: bool,
    branch_ttl: Duration,
}

impl EngineBuilder {
    /// URL policy for repositories.
    pub fn policy(&mut self, policy: UrlPolicy) -> &mut Self {
        self.policy = policy;
        self
    }

    /// The renderers to use.
    pub fn renderers(&mut self, r: Renderers) -> &mut Self {
        self.renderers = r;
        self
    }

    /// Whether rendered manifests are cached on disk (default on).
    pub fn render_cache(&mut self, on: bool) -> &mut Self {
        self.render_cache = on;
        self
    }

    /// How long a fetched branch stays fresh.
    pub fn branch_ttl(&mut self, ttl: Duration) -> &mut Self {
        self.branch_ttl = ttl;
        self
    }

    /// The engine.
    pub fn build(&mut self) -> Result<Engine, CompareError> {
        let mirrors = MirrorCache::builder(self.data_dir.join("mirrors"))
            .policy(self.policy.clone())
            .branch_ttl(self.branch_ttl)
            .build()
            .map_err(|e| CompareError::Internal(format!("cannot open the mirror cache: {e}")))?;
        Ok(Engine {
            mirrors,
            renderers: self.renderers.clone(),
            renders: self
                .render_cache
                .then(|| RenderCache::new(self.data_dir.join("renders"))),
            results: Mutex::new(HashMap::new()),
            result_capacity: 256,
            extra_values: Vec::new(),
            counters: Counters::default(),
        })
    }
}

/// What one side of a comparison produced.
struct Side {
    manifest: String,
    renderer: RendererUsed,
}

pub(crate) fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_le_bytes());
        ctx.update(p);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl Engine {
    /// An engine keeping mirrors and caches in `data_dir`.
    pub fn builder(data_dir: impl Into<PathBuf>) -> EngineBuilder {
        EngineBuilder {
            data_dir: data_dir.into(),
            policy: UrlPolicy::default(),
            renderers: Renderers::default(),
            render_cache: true,
            branch_ttl: Duration::from_secs(60),
        }
    }

    /// Values files from outside the repository (the CLI's `--values`), applied to both sides
    /// after the repository's values files and before `valuesContent`.
    pub fn with_local_values(mut self, values: Vec<ValuesFile>) -> Self {
        self.extra_values = values;
        self
    }

    /// The mirror cache (for `detect`, `pr` and health checks).
    pub fn mirrors(&self) -> &MirrorCache {
        &self.mirrors
    }

    fn repository(&self, url: &str, ctx: &Context) -> Result<Repository, CompareError> {
        let repo = self
            .mirrors
            .repository(url)
            .map_err(|e| CompareError::from_source(e, url, ""))?;
        Ok(repo.with_interrupt(ctx.cancel.clone()))
    }

    /// Runs `f` while a watchdog sets the cancel flag at the deadline, so blocking work (git,
    /// rendering) stops instead of running on after the caller gave up.
    fn with_deadline<T>(
        &self,
        ctx: &Context,
        f: impl FnOnce() -> Result<T, CompareError>,
    ) -> Result<T, CompareError> {
        let Some(deadline) = ctx.deadline() else {
            return f();
        };
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let cancel = ctx.cancel.clone();
        let timed_out = Arc::new(AtomicBool::new(false));
        let flag = timed_out.clone();
        let watchdog = std::thread::spawn(move || {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(left) {
                flag.store(true, Ordering::Relaxed);
                cancel.store(true, Ordering::Relaxed);
            }
        });
        let result = f();
        drop(done);
        let _ = watchdog.join();
        match result {
            Err(CompareError::Cancelled) if timed_out.load(Ordering::Relaxed) => {
                Err(ctx.timeout_error())
            }
            other => other,
        }
    }

    fn render_side(
        &self,
        repo: &Repository,
        req: &CompareRequest,
        (revision, commit): (&str, &CommitId),
        (renderer, mode): (&Arc<dyn Renderer>, &str),
        ctx: &Context,
    ) -> Result<Side, CompareError> {
        // The tree id is enough to find a cached render: no file is read on a cache hit.
        let tree_id = match repo.chart_tree_id(commit, &req.chart_path) {
            Ok(id) => id,
            Err(chart_source::Error::ChartNotFound { .. }) if req.allow_missing_chart => {
                let info = renderer.info();
                return Ok(Side {
                    manifest: String::new(),
                    renderer: RendererUsed {
                        name: info.name.to_owned(),
                        version: info.version,
                    },
                });
            }
            Err(e) => return Err(CompareError::from_source(e, &req.repository, revision)),
        };
        let mut values = Vec::new();
        for path in req.repo_values_files() {
            let content = repo
                .read_file(commit, path)
                .map_err(|e| CompareError::from_source(e, &req.repository, revision))?
                .ok_or_else(|| CompareError::ValuesFileMissing {
                    path: path.clone(),
                    revision: revision.to_owned(),
                })?;
            values.push(ValuesFile {
                name: path.clone(),
                content,
            });
        }
        values.extend(self.extra_values.iter().cloned());
        if let Some(v) = req
            .values_content
            .as_deref()
            .filter(|v| !v.trim().is_empty())
        {
            values.push(ValuesFile {
                name: "valuesContent".into(),
                content: v.as_bytes().to_vec(),
            });
        }
        let options = helm_render::Options {
            release_name: req.release_name.clone().unwrap_or_else(|| "release".into()),
            namespace: req.namespace.clone().unwrap_or_else(|| "default".into()),
            values,
            set: req.set.clone(),
            kube_version: req.kube_version.clone(),
            api_versions: req.api_versions.clone(),
            timeout: ctx.remaining(),
            ..helm_render::Options::default()
        };
        let key = sha256_hex(&[
            b"render-v1",
            tree_id.to_hex().as_bytes(),
            options.fingerprint().as_bytes(),
            mode.as_bytes(),
            renderer.cache_identity().as_bytes(),
        ]);
        if let Some(cache) = &self.renders
            && let Some((name, version, manifest)) = cache.get(&key)
        {
            Counters::bump(&self.counters.render_hits);
            return Ok(Side {
                manifest,
                renderer: RendererUsed { name, version },
            });
        }
        Counters::bump(&self.counters.render_misses);
        let chart = repo
            .read_chart(commit, &req.chart_path)
            .map_err(|e| CompareError::from_source(e, &req.repository, revision))?;
        let files: helm_render::ChartFiles = chart
            .into_files()
            .into_iter()
            .map(|(k, f)| (k, f.data))
            .collect();
        let out = renderer.render(&files, &options).map_err(|e| match e {
            RenderError::Chart { message } => CompareError::RenderFailed {
                chart: req.chart_path.clone(),
                revision: revision.to_owned(),
                message,
            },
            RenderError::Timeout { .. } => ctx.timeout_error(),
            RenderError::OutputTooLarge { limit } => {
                CompareError::LimitExceeded(format!("rendered output over {limit} bytes"))
            }
            RenderError::Unavailable { reason, .. } => CompareError::RendererUnavailable(reason),
            RenderError::Option(m) => CompareError::InvalidRequest(m),
            RenderError::Load(e) => CompareError::RenderFailed {
                chart: req.chart_path.clone(),
                revision: revision.to_owned(),
                message: e.to_string(),
            },
            other => CompareError::Internal(other.to_string()),
        })?;
        if let Some(cache) = &self.renders {
            cache.put(
                &key,
                out.renderer.name,
                &out.renderer.version,
                &out.manifest,
            );
        }
        Ok(Side {
            manifest: out.manifest,
            renderer: RendererUsed {
                name: out.renderer.name.to_owned(),
                version: out.renderer.version,
            },
        })
    }

    fn run(&self, req: &CompareRequest, ctx: &Context) -> Result<CompareResponse, CompareError> {
        let total = Instant::now();
        req.validate().map_err(CompareError::InvalidRequest)?;
        let diff_options = req.diff_options().map_err(CompareError::InvalidRequest)?;
        let mode = req.renderer.as_deref().unwrap_or("auto");
        let renderer = self.renderers.pick(mode)?;
        let mut timings = BTreeMap::new();

        ctx.stage(Stage::Resolve)?;
        let t = Instant::now();
        let repo = self.repository(&req.repository, ctx)?;
        let resolve = |rev: &str| {
            repo.resolve(rev)
                .map_err(|e| CompareError::from_source(e, repo.url().normalized(), rev))
        };
        let r1 = resolve(&req.version1)?;
        let r2 = resolve(&req.version2)?;
        timings.insert("resolve".to_owned(), ms(t.elapsed()));

        let compare_id = sha256_hex(&[
            b"chartimpact-compare-v1",
            diff_core::ENGINE_VERSION.as_bytes(),
            repo.url().normalized().as_bytes(),
            req.chart_path.as_bytes(),
            r1.commit.to_hex().as_bytes(),
            r2.commit.to_hex().as_bytes(),
            req.repo_values_files()
                .cloned()
                .collect::<Vec<_>>()
                .join("\0")
                .as_bytes(),
            // One digest per local values file, so ("ab", "c") and ("a", "bc") differ.
            self.extra_values
                .iter()
                .map(|v| sha256_hex(&[&v.content]))
                .collect::<Vec<_>>()
                .join(",")
                .as_bytes(),
            req.values_content.as_deref().unwrap_or("").as_bytes(),
            req.set.join("\0").as_bytes(),
            diff_options.fingerprint().as_bytes(),
            req.release_name.as_deref().unwrap_or("release").as_bytes(),
            req.kube_version.as_deref().unwrap_or("").as_bytes(),
            req.api_versions.join("\0").as_bytes(),
            mode.as_bytes(),
        ]);
        if let Some(hit) = self
            .results
            .lock()
            .ok()
            .and_then(|m| m.get(&compare_id).cloned())
        {
            Counters::bump(&self.counters.result_hits);
            return Ok(hit);
        }
        Counters::bump(&self.counters.result_misses);

        ctx.stage(Stage::Render)?;
        let t = Instant::now();
        let (old, new) = std::thread::scope(|s| {
            let old = s.spawn(|| {
                self.render_side(
                    &repo,
                    req,
                    (&req.version1, &r1.commit),
                    (&renderer, mode),
                    ctx,
                )
            });
            let new = self.render_side(
                &repo,
                req,
                (&req.version2, &r2.commit),
                (&renderer, mode),
                ctx,
            );
            let old = old
                .join()
                .unwrap_or_else(|_| Err(CompareError::Internal("render thread panicked".into())));
            (old, new)
        });
        let (old, new) = (old?, new?);
        timings.insert("render".to_owned(), ms(t.elapsed()));

        ctx.stage(Stage::Diff)?;
        let t = Instant::now();
        let parse = diff_core::ParseOptions {
            namespace: req.namespace.clone().unwrap_or_else(|| "default".into()),
            ..diff_core::ParseOptions::default()
        };
        let name = |rev: &str| format!("{}@{rev}", req.chart_path);
        let before = diff_core::parse_manifest(&name(&req.version1), &old.manifest, &parse)
            .map_err(|e| CompareError::InvalidManifest(e.to_string()))?;
        let after = diff_core::parse_manifest(&name(&req.version2), &new.manifest, &parse)
            .map_err(|e| CompareError::InvalidManifest(e.to_string()))?;
        let mut comparison = diff_core::compare_with_sources(
            &before,
            &after,
            &diff_options,
            &diff_core::Sources {
                left: old.renderer.name.clone(),
                right: new.renderer.name.clone(),
            },
        );
        comparison.structured_diff.metadata.compare_id = compare_id.clone();
        timings.insert("diff".to_owned(), ms(t.elapsed()));
        timings.insert("total".to_owned(), ms(total.elapsed()));

        let response = CompareResponse {
            compare_id: compare_id.clone(),
            repository: repo.url().normalized().to_owned(),
            chart_path: req.chart_path.clone(),
            version1: req.version1.clone(),
            version2: req.version2.clone(),
            resolved: ResolvedCommits {
                version1: r1.commit.to_hex(),
                version2: r2.commit.to_hex(),
            },
            renderer: new.renderer,
            comparison,
            timings,
            context_lines: diff_options.context_lines(),
        };
        if let Ok(mut m) = self.results.lock() {
            if m.len() >= self.result_capacity {
                m.clear();
            }
            m.insert(compare_id, response.clone());
        }
        Ok(response)
    }
}

impl CompareService for Engine {
    fn analyze_pr(
        &self,
        request: &crate::pr::PrRequest,
        ctx: &Context,
    ) -> Result<crate::pr::PrReport, CompareError> {
        self.with_deadline(ctx, || crate::pr::analyze(self, request, ctx))
    }

    fn cache_stats(&self) -> CacheStats {
        let c = &self.counters;
        CacheStats {
            result_hits: c.result_hits.load(Ordering::Relaxed),
            result_misses: c.result_misses.load(Ordering::Relaxed),
            render_hits: c.render_hits.load(Ordering::Relaxed),
            render_misses: c.render_misses.load(Ordering::Relaxed),
        }
    }

    fn compare(
        &self,
        req: &CompareRequest,
        ctx: &Context,
    ) -> Result<CompareResponse, CompareError> {
        self.with_deadline(ctx, || self.run(req, ctx))
    }

    fn charts(
        &self,
        repository: &str,
        revision: Option<&str>,
        ctx: &Context,
    ) -> Result<crate::response::ChartsResponse, CompareError> {
        self.with_deadline(ctx, || {
            ctx.check()?;
            let repo = self.repository(repository, ctx)?;
            let revision = revision
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .unwrap_or("HEAD");
            let resolved = repo
                .resolve(revision)
                .map_err(|e| CompareError::from_source(e, repo.url().normalized(), revision))?;
            let mut charts: Vec<_> = repo
                .charts(&resolved.commit)
                .map_err(|e| CompareError::from_source(e, repo.url().normalized(), revision))?
                .into_iter()
                .map(|c| crate::response::ChartEntry {
                    path: c.path,
                    name: c.name,
                    version: c.version,
                    library: c.library,
                    vendored: c.vendored,
                })
                .collect();
            // What a person most likely wants first: top-level application charts.
            charts.sort_by(|a, b| {
                (a.vendored, a.library, &a.path).cmp(&(b.vendored, b.library, &b.path))
            });
            Ok(crate::response::ChartsResponse {
                success: true,
                revision: revision.to_owned(),
                commit: resolved.commit.to_hex(),
                charts,
            })
        })
    }

    fn versions(&self, repository: &str, ctx: &Context) -> Result<VersionsResponse, CompareError> {
        self.with_deadline(ctx, || {
            ctx.check()?;
            let v = self
                .mirrors
                .versions(repository)
                .map_err(|e| CompareError::from_source(e, repository, ""))?;
            let mut branches: Vec<_> = v.branches.iter().collect();
            // Default branch first, then by name.
            branches.sort_by_key(|b| (Some(&b.name) != v.default_branch.as_ref(), b.name.clone()));
            Ok(VersionsResponse {
                success: true,
                tags: v.tags.iter().map(|t| t.name.clone()).collect(),
                branches: branches.iter().map(|b| b.name.clone()).collect(),
                default_branch: v.default_branch.clone(),
                tag_details: v
                    .tags
                    .iter()
                    .map(|t| RefInfo {
                        name: t.name.clone(),
                        commit: t.commit.to_hex(),
                        version: t.version.as_ref().map(|v| v.to_string()),
                        chart: t.chart.clone(),
                    })
                    .collect(),
                branch_details: branches
                    .iter()
                    .map(|b| RefInfo {
                        name: b.name.clone(),
                        commit: b.commit.to_hex(),
                        version: None,
                        chart: None,
                    })
                    .collect(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_names_the_configured_limit_not_the_time_left() {
        let ctx = Context {
            deadline: Some((Instant::now(), Duration::from_secs(42))),
            ..Context::default()
        };
        match ctx.check() {
            Err(CompareError::Timeout { seconds }) => assert_eq!(seconds, 42),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
}
