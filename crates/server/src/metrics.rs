//! Prometheus metrics: requests by route and status, compare latency by stage, caches,
//! admission, webhook deliveries, jobs and the GitHub rate limit. One recorder per process (the
//! `metrics` facade is global). The Helm chart's alerts and Grafana dashboard
//! (deploy/helm/chartimpact) use these names: rename one there too.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// The process's recorder handle, installed on first use.
pub(crate) fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // An embedder may have installed its own recorder; then ours stays empty.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics shows only what ours records");
            }
            handle
        })
        .clone()
}

pub(crate) fn request(route: &str, method: &Method, status: StatusCode, elapsed: Duration) {
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_string()),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!("chartimpact_http_requests_total", &labels).increment(1);
    metrics::histogram!(
        "chartimpact_http_request_duration_seconds",
        "route" => route.to_owned()
    )
    .record(elapsed.as_secs_f64());
}

pub(crate) fn rejected(reason: &'static str) {
    metrics::counter!("chartimpact_http_rejected_total", "reason" => reason).increment(1);
}

pub(crate) fn coalesced() {
    metrics::counter!("chartimpact_compare_coalesced_total").increment(1);
}

pub(crate) fn compare_failed(code: &'static str) {
    metrics::counter!("chartimpact_compares_total", "outcome" => code).increment(1);
}

pub(crate) fn compare_stages(timings: &BTreeMap<String, u64>) {
    metrics::counter!("chartimpact_compares_total", "outcome" => "ok").increment(1);
    for (stage, ms) in timings {
        self::stage(stage, Duration::from_millis(*ms));
    }
}

pub(crate) fn stage(stage: &str, elapsed: Duration) {
    metrics::histogram!("chartimpact_compare_stage_seconds", "stage" => stage.to_owned())
        .record(elapsed.as_secs_f64());
}

pub(crate) fn delivery(outcome: &'static str) {
    metrics::counter!("chartimpact_webhook_deliveries_total", "outcome" => outcome).increment(1);
}

pub(crate) fn job_finished(outcome: &'static str, elapsed: Duration) {
    metrics::counter!("chartimpact_jobs_total", "outcome" => outcome).increment(1);
    metrics::histogram!("chartimpact_job_duration_seconds", "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

pub(crate) fn job_retried() {
    metrics::counter!("chartimpact_job_retries_total").increment(1);
}
