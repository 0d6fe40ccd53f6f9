//! `GET /metrics`: the Prometheus text exposition, with gauges read at scrape time.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// `GET /metrics`.
pub(crate) async fn render(State(state): State<AppState>) -> Response {
    let caches = state.inner.service.cache_stats();
    for (cache, hits, misses) in [
        ("result", caches.result_hits, caches.result_misses),
        ("render", caches.render_hits, caches.render_misses),
    ] {
        metrics::counter!("chartimpact_cache_hits_total", "cache" => cache).absolute(hits);
        metrics::counter!("chartimpact_cache_misses_total", "cache" => cache).absolute(misses);
    }
    metrics::gauge!("chartimpact_compare_queue_depth").set(state.inner.limits.queued() as f64);
    if let Ok(q) = state.inner.store.queue_stats().await {
        for (status, n) in [
            ("queued", q.queued),
            ("deferred", q.deferred),
            ("running", q.running),
        ] {
            metrics::gauge!("chartimpact_jobs", "status" => status).set(n as f64);
        }
    }
    metrics::gauge!("chartimpact_compares_in_flight").set(state.inner.flights.in_flight() as f64);
    // Shown once GitHub has answered: before that the limit is unknown, and a zero would alert.
    // Both come from the same response, so their ratio is always meaningful.
    if let Some(rate) = state.inner.publisher.github_rate_limit()
        && let (Some(limit), Some(remaining)) = (rate.limit, rate.remaining)
    {
        metrics::gauge!("chartimpact_github_rate_limit_limit").set(limit as f64);
        metrics::gauge!("chartimpact_github_rate_limit_remaining").set(remaining as f64);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.inner.metrics.render(),
    )
        .into_response()
}
