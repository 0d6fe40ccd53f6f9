//! `POST /api/webhooks/github`: verify over the raw bytes, parse, route, deduplicate the
//! delivery, enqueue — and answer within milliseconds. Nothing slow happens here: the work is
//! a job that a worker (of any replica) runs.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use github_events::{Decision, Event};
use serde_json::json;

use super::body::read_limited;
use super::jobs::JobPayload;
use super::{ApiError, AppState};

/// Webhook intake settings; the route answers 404 without them.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Secrets deliveries may be signed with (several while rotating).
    pub secrets: github_events::WebhookSecrets,
    /// Which events run, per the repository's rollout.
    pub policy: github_events::RoutingPolicy,
    /// Clone URLs are `{git_url}/{owner}/{name}.git` (`https://github.com`).
    pub git_url: String,
    /// Largest delivery (25 MiB, GitHub's own cap).
    pub body_limit: usize,
    /// How long delivery ids are remembered for deduplication (at least 7 days).
    pub delivery_retention: Duration,
}

impl WebhookConfig {
    /// Settings with GitHub's defaults around `secrets`.
    pub fn new(secrets: github_events::WebhookSecrets) -> Self {
        WebhookConfig {
            secrets,
            policy: github_events::RoutingPolicy::default(),
            git_url: "https://github.com".into(),
            body_limit: 25 << 20,
            delivery_retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn outcome(outcome: &'static str) {
    super::metrics::delivery(outcome);
}

pub(crate) async fn github(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(cfg) = state.inner.config.webhooks.clone() else {
        return Err(ApiError::not_found(
            "webhooks are not enabled on this server (no --webhook-secrets)",
        ));
    };
    let started = Instant::now();
    let bytes = read_limited(&headers, body, cfg.body_limit)
        .await
        .inspect_err(|e| {
            if e.status == StatusCode::PAYLOAD_TOO_LARGE {
                outcome("too_large");
            }
        })?;
    let missing = |name: &str| {
        outcome("bad_request");
        ApiError::bad_request(format!(
            "the {name} header is required on GitHub deliveries"
        ))
    };
    let event = header(&headers, "x-github-event").ok_or_else(|| missing("X-GitHub-Event"))?;
    let delivery =
        header(&headers, "x-github-delivery").ok_or_else(|| missing("X-GitHub-Delivery"))?;
    let signature = header(&headers, "x-hub-signature-256");
    if signature.is_none() && header(&headers, "x-hub-signature").is_none() {
        return Err(missing("X-Hub-Signature-256"));
    }
    // The signature covers the raw bytes as sent, before any decoding or parsing.
    if let Err(e) = github_events::verify(signature, &bytes, &cfg.secrets) {
        outcome("bad_signature");
        tracing::warn!(delivery, event, reason = %e, "webhook signature refused");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            format!("the delivery's signature does not verify: {e}"),
        ));
    }
    let delivery_id: github_events::DeliveryId = delivery.parse().map_err(|e| {
        outcome("bad_request");
        ApiError::bad_request(format!("X-GitHub-Delivery: {e}"))
    })?;
    let payload =
        github_events::payload_bytes(header(&headers, header::CONTENT_TYPE.as_str()), &bytes)
            .map_err(|e| {
                outcome("unsupported_media_type");
                ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    e.to_string(),
                )
            })?;
    let parsed = github_events::parse(event, &payload).map_err(|e| {
        outcome("bad_payload");
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_payload", e.to_string())
    })?;
    let summary = github_events::summary(&parsed);
    let decision = github_events::route(&parsed, &cfg.policy);

    let response = handle(&state, &cfg, &delivery_id, event, &parsed, decision).await?;
    let (status, reason) = (response.0, response.2);
    // The audit line: who sent what and what became of it — never payloads or secrets.
    tracing::info!(
        delivery = %delivery_id,
        event,
        action = summary.action.as_deref().unwrap_or("-"),
        repo = summary.repo.as_deref().unwrap_or("-"),
        pr = summary.number.as_deref().unwrap_or("-"),
        sha = summary.sha.as_deref().unwrap_or("-"),
        outcome = reason,
        ms = started.elapsed().as_millis() as u64,
        "webhook delivery"
    );
    outcome(reason);
    super::metrics::stage("webhook_ack", started.elapsed());
    Ok(answer(status, response.1))
}

async fn handle(
    state: &AppState,
    cfg: &WebhookConfig,
    delivery: &github_events::DeliveryId,
    event: &str,
    parsed: &Event,
    decision: Decision,
) -> Result<(StatusCode, serde_json::Value, &'static str), ApiError> {
    let store = &state.inner.store;
    let summary = github_events::summary(parsed);
    let record = store
        .record_delivery(store::NewDelivery {
            id: delivery.to_string(),
            event: event.to_owned(),
            action: summary.action.clone(),
            repo: summary.repo.clone(),
            received_at: state.now(),
        })
        .await
        .map_err(|e| ApiError::store(&e))?;
    if !record.first_seen {
        // A repeat of a delivery whose job failed runs it again; anything else is answered
        // as a duplicate with no new work.
        let failed = matches!(record.job_status, Some(store::JobStatus::Failed));
        if !failed {
            return Ok((
                StatusCode::OK,
                json!({"status": "duplicate", "jobId": record.job_id.map(|j| j.to_string())}),
                "duplicate",
            ));
        }
    }
    match decision {
        Decision::Pong { events } => {
            tracing::info!(events = ?events, "webhook ping");
            Ok((
                StatusCode::OK,
                json!({"status": "pong", "events": events}),
                "ping",
            ))
        }
        Decision::Ignore { reason } => Ok((
            StatusCode::OK,
            json!({"status": "ignored", "reason": reason}),
            "ignored",
        )),
        Decision::Cancel {
            repo,
            number,
            reason,
        } => {
            let key = format!("{repo}#pr/{number}");
            let cancelled = store
                .cancel_jobs(&key, reason, state.now())
                .await
                .map_err(|e| ApiError::store(&e))?;
            Ok((
                StatusCode::OK,
                json!({"status": "cancelled", "jobs": cancelled.iter().map(|j| j.to_string()).collect::<Vec<_>>()}),
                "cancelled",
            ))
        }
        Decision::Rerun { repo, number } => {
            let key = format!("{repo}#pr/{number}");
            let Some(previous) = store
                .latest_job(&key)
                .await
                .map_err(|e| ApiError::store(&e))?
            else {
                return Ok((
                    StatusCode::OK,
                    json!({"status": "ignored", "reason": "no earlier analysis of this pull request to re-run"}),
                    "ignored",
                ));
            };
            let job = store::NewJob {
                kind: previous.kind.clone(),
                key: previous.key.clone(),
                repo: previous.repo.clone(),
                revision: previous.revision.clone(),
                payload: previous.payload.clone(),
                max_attempts: state.inner.config.workers.max_attempts,
                now: state.now(),
            };
            enqueue(state, delivery, job).await
        }
        Decision::Run(target) => {
            let payload = JobPayload::from_target(&target);
            let job = store::NewJob {
                kind: payload.kind().to_owned(),
                key: target.job_key(),
                repo: target.repo().to_string(),
                revision: target.sha_or_tag(),
                payload: serde_json::to_vec(&payload).map_err(ApiError::internal)?,
                max_attempts: state.inner.config.workers.max_attempts,
                now: state.now(),
            };
            let _ = cfg;
            enqueue(state, delivery, job).await
        }
    }
}

async fn enqueue(
    state: &AppState,
    delivery: &github_events::DeliveryId,
    job: store::NewJob,
) -> Result<(StatusCode, serde_json::Value, &'static str), ApiError> {
    let store = &state.inner.store;
    let out = store
        .enqueue_job(job, state.inner.config.workers.limits)
        .await
        .map_err(|e| ApiError::store(&e))?;
    store
        .link_delivery(delivery.as_str(), out.job_id)
        .await
        .map_err(|e| ApiError::store(&e))?;
    state.inner.job_ready.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        json!({
            "status": "accepted",
            "jobId": out.job_id.to_string(),
            "coalesced": out.coalesced,
            "deferred": out.status == store::JobStatus::Deferred,
            "superseded": out.superseded.iter().map(|j| j.to_string()).collect::<Vec<_>>(),
        }),
        if out.coalesced {
            "coalesced"
        } else {
            "accepted"
        },
    ))
}
