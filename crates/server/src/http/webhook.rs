//! `POST /api/webhooks/github`: verify over the raw bytes, parse, route, deduplicate the
//! delivery, enqueue — and answer within milliseconds. Nothing slow happens here: the work is
//! a job that a worker (of any replica) runs.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use github_events::{Decision, JobKey};
use serde_json::json;

use super::body::read_limited;
use crate::job::{JobPayload, RerunRequest};
use crate::{ApiError, AppState};

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
    crate::metrics::delivery(outcome);
}

pub(crate) async fn github(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(cfg) = state.inner.config.webhooks.as_ref() else {
        return Err(ApiError::not_found(
            "webhooks are not enabled on this server (no --webhook-secrets)",
        ));
    };
    let started = Instant::now();
    let _intake = super::limits::Counted::enter(&state.inner.intake);
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

    let response = handle(
        &state,
        &delivery_id,
        event,
        &summary,
        parsed.repo(),
        decision,
    )
    .await?;
    let (status, reason) = (response.0, response.2);
    let job = response
        .1
        .get("jobId")
        .and_then(|j| j.as_str())
        .unwrap_or("-");
    // The audit line: who sent what and what became of it — never payloads or secrets.
    tracing::info!(
        delivery = %delivery_id,
        event,
        action = summary.action.as_deref().unwrap_or("-"),
        repo = summary.repo.as_deref().unwrap_or("-"),
        pr = summary.number.as_deref().unwrap_or("-"),
        sha = summary.sha.as_deref().unwrap_or("-"),
        job,
        outcome = reason,
        ms = started.elapsed().as_millis() as u64,
        "webhook delivery"
    );
    outcome(reason);
    crate::metrics::stage("webhook_ack", started.elapsed());
    Ok(answer(status, response.1))
}

/// Records the delivery and, when it is not a duplicate, acts on `decision`: all the store
/// writes of a delivery (record, enqueue, link) are one transaction.
async fn handle(
    state: &AppState,
    delivery: &github_events::DeliveryId,
    event: &str,
    summary: &github_events::EventSummary,
    repo: Option<&github_events::RepoName>,
    decision: Decision,
) -> Result<(StatusCode, serde_json::Value, &'static str), ApiError> {
    let store = &state.inner.store;
    let workers = &state.inner.config.workers;
    let job = match &decision {
        Decision::Run(target) => {
            let payload = JobPayload::from_target(target);
            Some(store::NewJob {
                key: target.job_key(),
                revision: target.sha_or_tag(),
                payload: crate::job::stored_payload(&payload, delivery.as_str())
                    .map_err(ApiError::internal)?,
                max_attempts: workers.max_attempts,
                now: state.now(),
            })
        }
        // Re-runs the pull request's latest job, if any (else the delivery is only recorded).
        Decision::Rerun { repo, number, .. } => store
            .latest_job(&JobKey::pull_request(repo.clone(), *number))
            .await
            .map_err(|e| ApiError::store(&e))?
            .map(|previous| store::NewJob {
                key: previous.key,
                revision: previous.revision,
                payload: crate::job::restamp_payload(&previous.payload, delivery.as_str()),
                max_attempts: workers.max_attempts,
                now: state.now(),
            }),
        Decision::Pong { .. } | Decision::Ignore { .. } | Decision::Cancel { .. } => None,
    };
    let accepted = store
        .accept_delivery(
            store::NewDelivery {
                id: delivery.clone(),
                event: event.to_owned(),
                action: summary.action.clone(),
                repo: repo.cloned(),
                received_at: state.now(),
            },
            job,
            workers.limits,
        )
        .await
        .map_err(|e| ApiError::store(&e))?;
    if accepted.is_duplicate() {
        // A repeat of a delivery whose job failed runs it again; anything else is answered
        // as a duplicate with no new work.
        let job_id = accepted.earlier_job.map(|(id, _)| id.to_string());
        return Ok((
            StatusCode::OK,
            json!({"status": "duplicate", "jobId": job_id}),
            "duplicate",
        ));
    }
    match decision {
        Decision::Pong {
            events,
            hook_id,
            hook_type,
        } => {
            tracing::info!(
                delivery = %delivery,
                hook_id,
                hook_type = hook_type.as_deref().unwrap_or("-"),
                events = ?events,
                "webhook ping"
            );
            let subscribed = |name: &str| events.iter().any(|e| e == name || e == "*");
            // An App's ping lists no events (they are the App's settings, not the hook's).
            if !events.is_empty() && !subscribed("pull_request") {
                tracing::warn!(
                    hook_id,
                    events = ?events,
                    "this webhook is not subscribed to pull_request events: pull requests will not \
                     be analysed; subscribe it to pull_request (and push, release if wanted)"
                );
            }
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
            let key = JobKey::pull_request(repo, number);
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
        Decision::Run(target) => match accepted.enqueued {
            Some(out) => {
                state.inner.job_ready.notify_one();
                if out.status == store::JobStatus::Deferred {
                    announce_deferred(state, out.job_id, JobPayload::from_target(&target));
                }
                Ok(enqueued(&out))
            }
            None => Ok(nothing_to_rerun()),
        },
        Decision::Rerun {
            repo,
            number,
            comment_id,
            installation_id,
        } => match accepted.enqueued {
            Some(out) => {
                state.inner.job_ready.notify_one();
                acknowledge(
                    state,
                    RerunRequest {
                        repo,
                        number,
                        comment_id,
                        installation_id,
                    },
                );
                Ok(enqueued(&out))
            }
            // No earlier analysis of the pull request: nothing ran, so nothing is acknowledged.
            None => Ok(nothing_to_rerun()),
        },
    }
}

fn nothing_to_rerun() -> (StatusCode, serde_json::Value, &'static str) {
    (
        StatusCode::OK,
        json!({"status": "ignored", "reason": "no earlier analysis of this pull request to re-run"}),
        "ignored",
    )
}

/// Acknowledges a rerun command off the delivery's path: GitHub waits for our answer to the
/// delivery, not for the reaction, and a failed reaction must not fail the delivery.
fn acknowledge(state: &AppState, rerun: RerunRequest) {
    let publisher = state.inner.publisher.clone();
    tokio::spawn(async move {
        if let Err(e) = publisher.acknowledge_rerun(&rerun).await {
            tracing::warn!(repo = %rerun.repo, pr = rerun.number, error = %e, "rerun command not acknowledged");
        }
    });
}

/// Tells the publisher a job waits for room in the queue (a pending "queue full, will retry"
/// status), off the delivery's path.
fn announce_deferred(state: &AppState, id: store::JobId, payload: JobPayload) {
    let publisher = state.inner.publisher.clone();
    tokio::spawn(async move {
        let update = crate::publish::PublishUpdate::Deferred {
            job: crate::job::JobRef { id, payload },
        };
        if let Err(e) = publisher.publish(&update).await {
            tracing::warn!(job = %id, error = %e, "deferral not published");
        }
    });
}

/// The answer to a delivery whose job was enqueued (or coalesced).
fn enqueued(out: &store::EnqueueOutcome) -> (StatusCode, serde_json::Value, &'static str) {
    (
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
    )
}
