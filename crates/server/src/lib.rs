//! The HTTP API: the Go ChartImpact's routes and `{success, error}` envelope, better behaved.
//!
//! [`router`] builds the axum [`Router`] the `chartimpact-server` binary serves, so tests run
//! the very same stack over loopback. [`AppState`] wires a [`CompareService`] (blocking; run
//! on tokio's blocking pool) to a [`store::Store`] (results are persisted before the response
//! returns, so a permalink never 404s) under the limits of a [`ServerConfig`]:
//!
//! - request bodies are read with a cap (413 `body_too_large`), parsed strictly (unknown fields
//!   named, 400 `invalid_json`);
//! - compares and version listings share a concurrency limit with a bounded wait queue
//!   (503 `saturated` + `Retry-After`), and clients a per-IP rate limit (429 `rate_limited`);
//! - identical concurrent compares run once ([`single_flight`]), everyone gets the result;
//! - each compare has a deadline that stops the work itself (408 `timeout`);
//! - a panic becomes a logged 500 `internal` error; unknown routes get a JSON 404;
//! - CORS from a configured origin list; a request id on every response and log line;
//! - Prometheus metrics on `/metrics`, an OpenAPI 3.1 document on `/api/openapi.json`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use server::{AppState, ServerConfig};
//!
//! let engine = service::Engine::builder("/var/lib/chartimpact").build()?;
//! let store = store::open("sqlite:///var/lib/chartimpact/chartimpact.db", &Default::default()).await?;
//! let state = AppState::new(Arc::new(engine), store, ServerConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! server::serve(listener, state, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod access;
mod http;
mod job;
mod metrics;
mod public_id;
mod publish;
mod results;
mod serve;
pub mod single_flight;
pub mod tls;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use service::CompareService;

use crate::http::{
    analysis, compare, error, health, jobs, limits, openapi, operations, origin, stream, ui,
    webhook,
};

pub use access::{AccessConfig, IpNet, Token, TokenError};
pub use http::error::ApiError;
pub use http::health::RendererStatus;
pub use http::openapi::OPENAPI_JSON;
pub use http::ui::{CONTENT_SECURITY_POLICY, UI_ROUTES};
pub use http::webhook::WebhookConfig;
pub use job::{JobPayload, JobRef, RerunRequest};
pub use publish::{
    CHECK_NAME, GithubPublisher, LogPublisher, PublishError, PublishFuture, PublishUpdate,
    Publisher, RERUN_REACTION, STATUS_CONTEXT,
};
#[cfg(feature = "testing")]
pub use publish::{Recorded, RecordingPublisher};
pub use worker::WorkerConfig;

/// Every route the API serves, as `(method, path)`; the OpenAPI document must describe
/// exactly these (a test holds the two together).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/compare"),
    ("POST", "/api/compare/stream"),
    ("POST", "/api/versions"),
    ("POST", "/api/charts"),
    ("GET", "/api/health"),
    ("GET", "/api/analysis/{id}"),
    ("GET", "/api/analysis"),
    ("GET", "/api/analytics/charts/popular"),
    ("POST", "/api/webhooks/github"),
    ("GET", "/api/jobs/{id}"),
    ("GET", "/api/jobs"),
    ("POST", "/api/jobs/{id}/rerun"),
    ("GET", "/api/deliveries"),
    ("GET", "/api/operations"),
    ("GET", "/api/openapi.json"),
    ("GET", "/metrics"),
];

/// Limits and policies of the HTTP API. `Default` is what `chartimpact-server` starts with.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest `POST /api/compare` body (1 MiB).
    pub compare_body_limit: usize,
    /// Largest body of any other route (64 KiB).
    pub body_limit: usize,
    /// Deadline of one comparison; the work is stopped when it passes (120 s).
    pub compare_timeout: Duration,
    /// Deadline of one version listing (60 s).
    pub versions_timeout: Duration,
    /// Compares and version listings running at once (twice the cores, at least 2).
    pub max_concurrent: usize,
    /// Requests waiting for a slot before new ones get 503 (32).
    pub max_queued: usize,
    /// Requests per minute per client address on rate-limited routes; `None` = unlimited (120).
    pub rate_limit_per_minute: Option<u32>,
    /// Requests a client may send at once before the per-minute rate applies (30).
    pub rate_limit_burst: u32,
    /// Origins allowed by CORS; `*` allows any (without credentials); empty = no CORS headers.
    pub cors_origins: Vec<String>,
    /// How long stored results live (30 days); finished jobs are kept as long.
    pub result_ttl: Duration,
    /// How often expired results are removed (1 hour).
    pub cleanup_interval: Duration,
    /// How often the disk caches are brought within their size limits (1 minute).
    pub disk_check_interval: Duration,
    /// Window of `/api/analytics/charts/popular` (90 days) and how long its events are kept.
    pub analytics_window: Duration,
    /// GitHub webhook intake; `None` (the default) answers the route with 404.
    pub webhooks: Option<WebhookConfig>,
    /// The job workers (run only when webhooks are on).
    pub workers: WorkerConfig,
    /// Tokens and trusted proxies: who may read what (see [`access`]).
    pub access: AccessConfig,
    /// How long a client may take to send a request's headers, and how long an idle
    /// keep-alive connection stays open (10 s).
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body (30 s).
    pub body_read_timeout: Duration,
    /// Connections open at once; more are closed as they arrive (1024).
    pub max_connections: usize,
    /// Connections open at once from one client address (an IPv6 /64), trusted proxies
    /// excepted (64).
    pub max_connections_per_client: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ServerConfig {
            compare_body_limit: 1 << 20,
            body_limit: 64 << 10,
            compare_timeout: Duration::from_secs(120),
            versions_timeout: Duration::from_secs(60),
            max_concurrent: (cores * 2).max(2),
            max_queued: 32,
            rate_limit_per_minute: Some(120),
            rate_limit_burst: 30,
            cors_origins: Vec::new(),
            result_ttl: Duration::from_secs(30 * 24 * 3600),
            cleanup_interval: Duration::from_secs(3600),
            disk_check_interval: Duration::from_secs(60),
            analytics_window: Duration::from_secs(90 * 24 * 3600),
            webhooks: None,
            workers: WorkerConfig::default(),
            access: AccessConfig::default(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_connections_per_client: 64,
        }
    }
}

/// The current time; injectable so tests can move past a TTL.
pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    service: Arc<dyn CompareService>,
    store: Arc<dyn store::Store>,
    config: ServerConfig,
    clock: Clock,
    renderers: Vec<RendererStatus>,
    git_version: Option<String>,
    limits: limits::Limits,
    flights: single_flight::SingleFlight<compare::Outcome>,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    publisher: Arc<dyn Publisher>,
    /// The GitHub credentials job fetches authenticate with (scoped per job).
    git_client: Option<github_client::GithubClient>,
    /// Wakes an idle worker when a job is queued here.
    job_ready: tokio::sync::Notify,
    /// Webhook deliveries being acknowledged right now: workers hold off new claims while
    /// any are, so a burst's acknowledgements do not queue behind job writes.
    intake: std::sync::atomic::AtomicUsize,
    /// Whether [`serve`] listens on a loopback address only (see [`access`]).
    local_listener: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// State for a server over `service` and `store`.
    pub fn new(
        service: Arc<dyn CompareService>,
        store: Arc<dyn store::Store>,
        config: ServerConfig,
    ) -> Self {
        AppStateBuilder::new(service, store, config).build()
    }

    /// A builder for the less common knobs (clock, renderer list for health).
    pub fn builder(
        service: Arc<dyn CompareService>,
        store: Arc<dyn store::Store>,
        config: ServerConfig,
    ) -> AppStateBuilder {
        AppStateBuilder::new(service, store, config)
    }

    fn now(&self) -> jiff::Timestamp {
        (self.inner.clock)()
    }

    fn local_listener(&self) -> bool {
        self.inner
            .local_listener
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Builds an [`AppState`].
pub struct AppStateBuilder {
    service: Arc<dyn CompareService>,
    store: Arc<dyn store::Store>,
    config: ServerConfig,
    clock: Clock,
    renderers: Vec<RendererStatus>,
    git_version: Option<String>,
    publisher: Arc<dyn Publisher>,
    git_client: Option<github_client::GithubClient>,
}

impl AppStateBuilder {
    fn new(
        service: Arc<dyn CompareService>,
        store: Arc<dyn store::Store>,
        config: ServerConfig,
    ) -> Self {
        AppStateBuilder {
            service,
            store,
            config,
            clock: Arc::new(jiff::Timestamp::now),
            renderers: Vec::new(),
            git_version: None,
            publisher: Arc::new(LogPublisher),
            git_client: None,
        }
    }

    /// The GitHub credentials webhook jobs read repositories with: with App auth an
    /// installation token minted per job for its one repository, with a token that token;
    /// sent to git as basic auth (`x-access-token`), never written anywhere. Without it jobs
    /// fetch anonymously (public repositories only).
    pub fn git_credentials(mut self, client: github_client::GithubClient) -> Self {
        self.git_client = Some(client);
        self
    }

    /// Where job results go (default: the log).
    pub fn publisher(mut self, publisher: Arc<dyn Publisher>) -> Self {
        self.publisher = publisher;
        self
    }

    /// Where the time comes from (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The renderers health reports (found once at start: health checks have no side effects).
    pub fn renderers(mut self, renderers: Vec<RendererStatus>) -> Self {
        self.renderers = renderers;
        self
    }

    /// The `git` version health reports (`None`: git is missing).
    pub fn git_version(mut self, version: Option<String>) -> Self {
        self.git_version = version;
        self
    }

    /// The state.
    pub fn build(self) -> AppState {
        let limits = limits::Limits::new(&self.config);
        AppState {
            inner: Arc::new(Inner {
                service: self.service,
                store: self.store,
                clock: self.clock,
                renderers: self.renderers,
                git_version: self.git_version,
                limits,
                flights: single_flight::SingleFlight::default(),
                metrics: metrics::handle(),
                publisher: self.publisher,
                git_client: self.git_client,
                job_ready: tokio::sync::Notify::new(),
                intake: std::sync::atomic::AtomicUsize::new(0),
                local_listener: std::sync::atomic::AtomicBool::new(false),
                config: self.config,
            }),
        }
    }
}

/// The API as an axum router (state applied; serve it with connect info, as [`serve`] does,
/// so the rate limit can see client addresses).
pub fn router(state: AppState) -> Router {
    let cors = cors_layer(&state.inner.config.cors_origins);
    let api = Router::new()
        .route("/api/compare", post(compare::compare))
        .route("/api/compare/stream", post(stream::compare_stream))
        .route("/api/versions", post(compare::versions))
        .route("/api/charts", post(compare::charts))
        .route("/api/analysis", get(analysis::list))
        .route("/api/analysis/{id}", get(analysis::get))
        .route("/api/analytics/charts/popular", get(analysis::popular))
        .route("/api/jobs", get(jobs::list))
        .route("/api/jobs/{id}", get(jobs::get))
        .route("/api/jobs/{id}/rerun", post(jobs::rerun))
        .route("/api/deliveries", get(operations::deliveries))
        .route("/api/operations", get(operations::overview))
        // Layers run bottom-up: the origin check first (before a byte of the body is read),
        // then the rate limit, then access.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            access::api_access,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            limits::rate_limit,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            origin::browser_guard,
        ));
    let metrics_route = Router::new()
        .route("/metrics", get(http::metrics::render))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            access::metrics_access,
        ));
    let router = Router::new()
        .merge(api)
        .merge(metrics_route)
        .route("/api/health", get(health::health))
        // GitHub's deliveries are authenticated by their signature and arrive in bursts: not
        // rate limited, but bounded by the intake's own limits (see `webhook`).
        .route("/api/webhooks/github", post(webhook::github))
        .route("/api/openapi.json", get(openapi::document))
        .route("/assets/{name}", get(ui::asset));
    let router = UI_ROUTES
        .iter()
        .fold(router, |r, path| r.route(path, get(ui::page)))
        .fallback(fallback)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state.clone())
        .layer(middleware::from_fn(record_request))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .layer(middleware::from_fn(ui::security_headers));
    let router = match cors {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            access::attribute,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // The path only: query strings can carry more than an operator wants in logs.
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), NextRequestId))
}

/// Serves `state` on `listener` (a `TcpListener`, or a [`tls::TlsListener`]) until `shutdown`
/// resolves, then lets in-flight requests finish. Also runs the store's cleanup task and, when
/// webhooks are on, the job workers, for as long as it serves.
///
/// Connections are served by hyper directly (not `axum::serve`) for what an exposed server
/// needs: a deadline for request headers (slow clients do not hold connections), idle
/// keep-alive connections closed, and limits on open connections overall and per client.
pub async fn serve<L>(
    listener: L,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let loopback = listener.local_addr().is_ok_and(|a| a.ip().is_loopback());
    state
        .inner
        .local_listener
        .store(loopback, std::sync::atomic::Ordering::Relaxed);
    if !loopback && state.inner.config.access.api_token.is_none() {
        tracing::warn!(
            "listening beyond this machine without an API token: compares are open to anyone \
             who can reach the server, stored results are readable by their id, and the result \
             list, analytics, jobs and webhook results are refused to everyone; set \
             --api-token (CHARTIMPACT_API_TOKEN) to read them"
        );
    }
    let cleanup = tokio::spawn(worker::cleanup::cleanup_task(state.clone()));
    let disk = tokio::spawn(worker::cleanup::disk_task(state.clone()));
    let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
    let workers = if state.inner.config.webhooks.is_some() {
        worker::spawn_workers(&state, workers_stop)
    } else {
        Vec::new()
    };
    let app = router(state.clone());
    let result = serve::accept_loop(listener, app, &state.inner.config, shutdown).await;
    cleanup.abort();
    disk.abort();
    // Workers finish the job in hand; a job still running after the grace period is left to
    // its lease, and another worker (or this server, restarted) takes it again.
    let _ = stop_workers.send(true);
    let drain = async {
        for w in workers {
            let _ = w.await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), drain)
        .await
        .is_err()
    {
        tracing::warn!(
            "jobs still running after 30 s; their leases will hand them to another worker"
        );
    }
    result
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: a per-process random prefix and a counter — unique, short, no uuid crate.
#[derive(Clone, Copy)]
struct NextRequestId;

impl MakeRequestId for NextRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        use std::sync::OnceLock;
        use std::sync::atomic::{AtomicU64, Ordering};
        static PREFIX: OnceLock<String> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let prefix = PREFIX.get_or_init(|| {
            let mut b = [0u8; 4];
            let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
            b.iter().map(|x| format!("{x:02x}")).collect()
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{prefix}-{n}"))
            .ok()
            .map(RequestId::new)
    }
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let base = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            axum::http::header::CONTENT_TYPE,
            axum::http::header::AUTHORIZATION,
            REQUEST_ID.clone(),
        ])
        .expose_headers([
            REQUEST_ID.clone(),
            axum::http::header::RETRY_AFTER,
            HeaderName::from_static("x-compare-id"),
        ])
        .max_age(Duration::from_secs(600));
    // Credentials are never allowed: the API has no cookies, and a wildcard with credentials
    // would let any site act as the user.
    if origins.iter().any(|o| o == "*") {
        return Some(base.allow_origin(AllowOrigin::any()));
    }
    let patterns: Vec<String> = origins.iter().map(|o| o.trim().to_owned()).collect();
    Some(base.allow_origin(AllowOrigin::predicate(move |origin, _| {
        origin
            .to_str()
            .is_ok_and(|o| patterns.iter().any(|p| origin_matches(p, o)))
    })))
}

/// `https://*.example.com` matches one or more labels in place of the `*`; anything else is
/// an exact, case-insensitive match.
pub(crate) fn origin_matches(pattern: &str, origin: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(origin),
        Some((head, tail)) => {
            let o = origin.to_ascii_lowercase();
            o.len() > head.len() + tail.len()
                && o.starts_with(&head.to_ascii_lowercase())
                && o.ends_with(&tail.to_ascii_lowercase())
                && !o[head.len()..o.len() - tail.len()].contains('/')
        }
    }
}

/// Unknown paths: the UI's "page not found" for a browser, JSON for everyone else.
async fn fallback(
    method: Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    use axum::response::IntoResponse;
    if method == Method::GET && ui::wants_page(uri.path(), &headers) {
        return ui::not_found_page(&headers);
    }
    error::not_found(method, uri).await.into_response()
}

/// Counts requests by route and status and times them.
async fn record_request(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = req.method().clone();
    let start = std::time::Instant::now();
    let response = next.run(req).await;
    metrics::request(&route, &method, response.status(), start.elapsed());
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(route, status = 500, "request failed");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_patterns() {
        assert!(origin_matches(
            "https://app.example.com",
            "https://APP.example.com"
        ));
        assert!(!origin_matches(
            "https://app.example.com",
            "https://app.example.com.evil"
        ));
        assert!(origin_matches(
            "https://*.example.com",
            "https://a.b.example.com"
        ));
        assert!(!origin_matches(
            "https://*.example.com",
            "https://example.com"
        ));
        assert!(!origin_matches(
            "https://*.example.com",
            "https://evil.com/.example.com"
        ));
        assert!(!origin_matches(
            "https://*.example.com",
            "http://a.example.com"
        ));
    }
}
