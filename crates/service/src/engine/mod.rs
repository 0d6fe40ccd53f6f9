//! The engine behind [`CompareService`]: mirrors, renderers, caches and the deadline
//! watchdog; one module per operation ([`compare`], [`listing`], [`pr`]).

mod compare;
mod deps;
mod listing;
mod pr;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chart_repo::{ChartRepos, Credentials, Mirror};
use chart_source::{MirrorCache, Repository, UrlPolicy};
use helm_render::{Renderer, ValuesFile};

use crate::api::{CacheDisk, CacheStats, CompareService, DiskUsage};
use crate::context::Context;
use crate::error::CompareError;
use crate::pr::{PrReport, PrRequest};
use crate::render_cache::RenderCache;
use crate::request::{CompareRequest, RendererMode};
use crate::response::{ChartVersionsResponse, ChartsResponse, CompareResponse, VersionsResponse};

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

    fn pick(&self, mode: RendererMode) -> Result<Arc<dyn Renderer>, CompareError> {
        let found = match mode {
            RendererMode::Native => self.native.clone(),
            RendererMode::Helm => self.helm.clone(),
            RendererMode::Auto => self
                .auto
                .clone()
                .or_else(|| self.native.clone())
                .or_else(|| self.helm.clone()),
        };
        found.ok_or_else(|| {
            CompareError::RendererUnavailable(match mode {
                RendererMode::Helm => "the helm renderer needs a helm binary: install helm v3.17 (scripts/install-helm.sh) or use --renderer native".into(),
                RendererMode::Native => "the native renderer is not available in this build: use --renderer helm".into(),
                RendererMode::Auto => "no renderer is available: install helm v3.17 (scripts/install-helm.sh)".into(),
            })
        })
    }
}

/// The engine behind [`CompareService`].
pub struct Engine {
    mirrors: MirrorCache,
    /// Built on first use: most comparisons never talk to a chart repository, and the HTTP
    /// client (a thread, TLS roots) would cost every CLI run its start-up time.
    charts: std::sync::OnceLock<ChartRepos>,
    charts_builder: chart_repo::ChartReposBuilder,
    renderers: Renderers,
    renders: Option<RenderCache>,
    results: Mutex<HashMap<String, CompareResponse>>,
    result_capacity: usize,
    extra_values: Vec<ValuesFile>,
    counters: Counters,
    clock: Clock,
    mirror_cache_max_bytes: Option<u64>,
    render_cache_max_bytes: Option<u64>,
    render_memory_max_bytes: Option<u64>,
}

/// Where an engine takes the time of a comparison (`generatedAt`) from.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Builds an [`Engine`].
pub struct EngineBuilder {
    data_dir: PathBuf,
    policy: UrlPolicy,
    renderers: Renderers,
    render_cache: bool,
    branch_ttl: Duration,
    clock: Clock,
    chart_policy: Option<UrlPolicy>,
    helm_mirrors: Vec<Mirror>,
    helm_credentials: Credentials,
    plain_http: bool,
    mirror_cache_max_bytes: Option<u64>,
    render_cache_max_bytes: Option<u64>,
    render_memory_max_bytes: Option<u64>,
}

impl EngineBuilder {
    /// The most the git mirrors may take on disk; beyond it
    /// [`CompareService::enforce_disk_limits`] removes the least recently used (default:
    /// unlimited).
    pub fn mirror_cache_max_bytes(&mut self, max: Option<u64>) -> &mut Self {
        self.mirror_cache_max_bytes = max;
        self
    }

    /// The memory budget of each render (see docs/SECURITY.md; default: the renderer's own,
    /// 256 MiB). A chart that needs more is refused with `limits_exceeded`.
    pub fn render_memory_max_bytes(&mut self, max: Option<u64>) -> &mut Self {
        self.render_memory_max_bytes = max;
        self
    }

    /// The most the render cache may take on disk (default: unlimited).
    pub fn render_cache_max_bytes(&mut self, max: Option<u64>) -> &mut Self {
        self.render_cache_max_bytes = max;
        self
    }

    /// URL policy for repositories.
    pub fn policy(&mut self, policy: UrlPolicy) -> &mut Self {
        self.policy = policy;
        self
    }

    /// URL policy for Helm chart repositories and OCI registries (the charts a `helmRepository`
    /// request names and the dependencies charts declare). Default: the git policy's hosts,
    /// without local paths. `*` allows every host; `allow_private_addresses` also allows
    /// plain http.
    pub fn chart_repo_policy(&mut self, policy: UrlPolicy) -> &mut Self {
        self.chart_policy = Some(policy);
        self
    }

    /// Sends a chart repository's requests to a mirror (`--helm-repo-mirror`).
    pub fn helm_repo_mirrors(&mut self, mirrors: impl IntoIterator<Item = Mirror>) -> &mut Self {
        self.helm_mirrors.extend(mirrors);
        self
    }

    /// Credentials for chart repository hosts (held in memory only, never in a message).
    pub fn helm_repo_credentials(&mut self, credentials: Credentials) -> &mut Self {
        self.helm_credentials = credentials;
        self
    }

    /// Talk to OCI registries over plain http (helm's `--plain-http`; the chart repository
    /// policy must allow private addresses, which allows http).
    pub fn plain_http(&mut self, on: bool) -> &mut Self {
        self.plain_http = on;
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

    /// Where the time of a comparison comes from (default: the system clock).
    pub fn clock(&mut self, clock: Clock) -> &mut Self {
        self.clock = clock;
        self
    }

    /// The engine.
    pub fn build(&mut self) -> Result<Engine, CompareError> {
        let mirrors = MirrorCache::builder(self.data_dir.join("mirrors"))
            .policy(self.policy.clone())
            .branch_ttl(self.branch_ttl)
            .build()
            .map_err(|e| CompareError::internal_from("cannot open the mirror cache", e))?;
        let policy = self.chart_policy.clone().unwrap_or_else(|| UrlPolicy {
            allow_local: false,
            ..self.policy.clone()
        });
        let mut charts = ChartRepos::builder(&self.data_dir);
        charts
            .policy(policy)
            .credentials(self.helm_credentials.clone())
            .plain_http(self.plain_http);
        for m in &self.helm_mirrors {
            charts.mirror(m.clone());
        }
        Ok(Engine {
            mirrors,
            charts: std::sync::OnceLock::new(),
            charts_builder: charts,
            renderers: self.renderers.clone(),
            renders: self
                .render_cache
                .then(|| RenderCache::new(self.data_dir.join("renders"))),
            results: Mutex::new(HashMap::new()),
            result_capacity: 256,
            extra_values: Vec::new(),
            counters: Counters::default(),
            clock: self.clock.clone(),
            mirror_cache_max_bytes: self.mirror_cache_max_bytes,
            render_cache_max_bytes: self.render_cache_max_bytes,
            render_memory_max_bytes: self.render_memory_max_bytes,
        })
    }
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

impl Engine {
    /// An engine keeping mirrors and caches in `data_dir`.
    pub fn builder(data_dir: impl Into<PathBuf>) -> EngineBuilder {
        EngineBuilder {
            data_dir: data_dir.into(),
            policy: UrlPolicy::default(),
            renderers: Renderers::default(),
            render_cache: true,
            branch_ttl: Duration::from_secs(60),
            clock: Arc::new(SystemTime::now),
            chart_policy: None,
            helm_mirrors: Vec::new(),
            helm_credentials: Credentials::new(),
            plain_http: false,
            mirror_cache_max_bytes: None,
            render_cache_max_bytes: None,
            render_memory_max_bytes: None,
        }
    }

    /// Values files from outside the repository (the CLI's `--values`), applied to both sides
    /// after the repository's values files and before `valuesContent`.
    pub fn with_local_values(mut self, values: Vec<ValuesFile>) -> Self {
        self.extra_values = values;
        self
    }

    /// The mirror cache (for health checks).
    pub fn mirrors(&self) -> &MirrorCache {
        &self.mirrors
    }

    /// Seconds since the Unix epoch by the engine's clock.
    fn now(&self) -> u64 {
        (self.clock)()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// The chart repository client (its [`stats`](ChartRepos::stats) say what was
    /// downloaded), built on first use.
    pub fn chart_repos(&self) -> Result<&ChartRepos, CompareError> {
        if let Some(c) = self.charts.get() {
            return Ok(c);
        }
        // Opens the chart cache only: the HTTP client inside is built at the first request
        // (on a thread of its own, since servers call engines from async code).
        let built = self
            .charts_builder
            .build()
            .map_err(|e| CompareError::internal_from("cannot open the chart cache", e))?;
        Ok(self.charts.get_or_init(|| built))
    }

    /// A chart-repo call under `ctx`'s deadline and cancel flag.
    pub(crate) fn call(ctx: &Context) -> chart_repo::Call {
        chart_repo::Call {
            deadline: ctx.deadline(),
            cancel: Some(ctx.cancel.clone()),
        }
    }

    pub(crate) fn repository(&self, url: &str, ctx: &Context) -> Result<Repository, CompareError> {
        let repo = self
            .mirrors
            .repository_with(url, &ctx.git_auth)
            .map_err(|e| CompareError::from_source(e, url, ""))?;
        Ok(repo.with_interrupt(ctx.cancel.clone()))
    }

    /// Runs `f` while a watchdog sets the cancel flag at the deadline, so blocking work (git,
    /// rendering) stops instead of running on after the caller gave up.
    pub(crate) fn with_deadline<T>(
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
}

impl CompareService for Engine {
    fn analyze_pr(&self, request: &PrRequest, ctx: &Context) -> Result<PrReport, CompareError> {
        self.with_deadline(ctx, || self.analyze(request, ctx))
    }

    fn enforce_disk_limits(&self) -> Option<DiskUsage> {
        let mirrors = match self.mirror_cache_max_bytes {
            Some(max) => {
                let e = self.mirrors.evict_to(max);
                CacheDisk {
                    bytes: e.bytes,
                    max_bytes: Some(max),
                    evicted: e.evicted,
                    evicted_bytes: e.evicted_bytes,
                }
            }
            None => CacheDisk {
                bytes: self.mirrors.disk_usage(),
                ..CacheDisk::default()
            },
        };
        let renders = match (&self.renders, self.render_cache_max_bytes) {
            (Some(cache), Some(max)) => {
                let s = cache.enforce(max);
                CacheDisk {
                    bytes: s.bytes,
                    max_bytes: Some(max),
                    evicted: s.evicted,
                    evicted_bytes: s.evicted_bytes,
                }
            }
            (Some(cache), None) => CacheDisk {
                bytes: cache.size(),
                ..CacheDisk::default()
            },
            (None, _) => CacheDisk::default(),
        };
        Some(DiskUsage { mirrors, renders })
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
    ) -> Result<ChartsResponse, CompareError> {
        self.with_deadline(ctx, || self.list_charts(repository, revision, ctx))
    }

    fn affected_charts(
        &self,
        repository: &str,
        from: &str,
        to: &str,
        ctx: &Context,
    ) -> Result<ChartsResponse, CompareError> {
        self.with_deadline(ctx, || self.list_affected_charts(repository, from, to, ctx))
    }

    fn versions(&self, repository: &str, ctx: &Context) -> Result<VersionsResponse, CompareError> {
        self.with_deadline(ctx, || self.list_versions(repository, ctx))
    }

    fn chart_versions(
        &self,
        helm_repository: &str,
        chart: &str,
        ctx: &Context,
    ) -> Result<ChartVersionsResponse, CompareError> {
        self.with_deadline(ctx, || {
            self.list_chart_versions(helm_repository, chart, ctx)
        })
    }
}
