//! Admission and lifetime: rate limit, concurrency limit, single flight, timeouts, graceful
//! shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use helm_render::{ChartFiles, Options, Outcome, RenderError, Renderer, RendererInfo};
use serde_json::json;

use super::{Setup, TestServer, assert_error, compare_body, repo};
use crate::{FakeRenderer, engine_with};

/// Renders like [`FakeRenderer`] after a pause; honours the render deadline like the real
/// renderers do (stops and reports a timeout).
pub struct SlowRenderer {
    pause: Duration,
    calls: AtomicUsize,
    inner: FakeRenderer,
}

impl Renderer for SlowRenderer {
    fn info(&self) -> RendererInfo {
        self.inner.info()
    }
    fn render(&self, chart: &ChartFiles, options: &Options) -> Result<Outcome, RenderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if options.timeout < self.pause {
            std::thread::sleep(options.timeout);
            return Err(RenderError::Timeout {
                seconds: options.timeout.as_secs_f64(),
            });
        }
        std::thread::sleep(self.pause);
        self.inner.render(chart, options)
    }
}

impl SlowRenderer {
    pub fn new(pause: Duration) -> Self {
        SlowRenderer {
            pause,
            calls: AtomicUsize::new(0),
            inner: FakeRenderer::default(),
        }
    }
}

fn slow(pause: Duration) -> Arc<SlowRenderer> {
    Arc::new(SlowRenderer::new(pause))
}

async fn start_slow(
    tmp: &std::path::Path,
    renderer: Arc<SlowRenderer>,
    setup: Setup,
) -> TestServer {
    let engine = engine_with(&tmp.join("data"), renderer);
    TestServer::start(Setup {
        service: Some(Arc::new(engine)),
        ..setup
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_concurrent_compares_render_once() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let renderer = slow(Duration::from_millis(500));
    let srv = Arc::new(start_slow(tmp.path(), renderer.clone(), Setup::default()).await);
    let mut joins = Vec::new();
    for _ in 0..6 {
        let (srv, body) = (srv.clone(), compare_body(&r));
        joins.push(tokio::spawn(async move {
            srv.post("/api/compare", &body).await
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for j in joins {
        let (s, _, b) = j.await.unwrap();
        assert_eq!(s, 200, "{b}");
        ids.insert(b["compareId"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(
        renderer.calls.load(Ordering::SeqCst),
        2,
        "one render per side, for all six"
    );
    let (_, text) = srv.get_text("/metrics").await;
    assert!(
        text.contains("chartimpact_compare_coalesced_total"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saturation_is_a_503_with_retry_after() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let mut setup = Setup::default();
    setup.config.max_concurrent = 1;
    setup.config.max_queued = 0;
    let srv = Arc::new(start_slow(tmp.path(), slow(Duration::from_millis(800)), setup).await);
    let busy = {
        let (srv, body) = (srv.clone(), compare_body(&r));
        tokio::spawn(async move { srv.post("/api/compare", &body).await })
    };
    // Wait until the first compare holds the only slot.
    let start = Instant::now();
    while srv.in_flight().await == 0 && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut other = compare_body(&r);
    other["version1"] = json!("v2");
    other["version2"] = json!("v1");
    let got = srv.post("/api/compare", &other).await;
    assert_error(&got, 503, "saturated");
    assert!(got.1.contains_key("retry-after"));
    assert_eq!(busy.await.unwrap().0, 200);
    // The slot is free again.
    assert_eq!(srv.post("/api/compare", &other).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_over_their_rate_get_429_with_retry_after() {
    let mut setup = Setup::default();
    setup.config.rate_limit_per_minute = Some(2);
    setup.config.rate_limit_burst = 2;
    let srv = TestServer::start(setup).await;
    assert_eq!(srv.get("/api/analysis").await.0, 200);
    assert_eq!(srv.get("/api/analysis").await.0, 200);
    let got = srv.get("/api/analysis").await;
    assert_error(&got, 429, "rate_limited");
    let retry: u64 = got.1["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Health and metrics stay reachable for probes.
    assert_eq!(srv.get("/api/health").await.0, 200);
    assert_eq!(srv.get_text("/metrics").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compare_past_its_deadline_is_stopped_with_408() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let renderer = slow(Duration::from_secs(30));
    let mut setup = Setup::default();
    setup.config.compare_timeout = Duration::from_secs(1);
    let srv = start_slow(tmp.path(), renderer, setup).await;
    let start = Instant::now();
    let got = srv.post("/api/compare", &compare_body(&r)).await;
    assert_error(&got, 408, "timeout");
    assert!(
        got.2["error"].as_str().unwrap().contains("1 s"),
        "{}",
        got.2
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the work stopped: {:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_requests_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let srv = start_slow(
        tmp.path(),
        slow(Duration::from_millis(700)),
        Setup::default(),
    )
    .await;
    let client = srv.client.clone();
    let url = format!("{}/api/compare", srv.url);
    let body = compare_body(&r);
    let in_flight = tokio::spawn(async move { client.post(url).json(&body).send().await });
    while srv.in_flight().await == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let url = srv.url.clone();
    srv.shutdown().await;
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // And nothing is accepted any more.
    assert!(reqwest::get(format!("{url}/api/health")).await.is_err());
}

impl TestServer {
    /// Compares in progress, read from health the way an operator would.
    async fn in_flight(&self) -> u64 {
        self.get("/api/health").await.2["queue"]["compareInFlight"]
            .as_u64()
            .unwrap_or(0)
    }
}
