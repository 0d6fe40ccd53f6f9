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

use crate::access::ClientAddr;
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
    /// Deliveries up to this size (1 MiB; GitHub's pull request events are tens of KiB) are
    /// read in any of the [`max_concurrent_deliveries`](Self::max_concurrent_deliveries)
    /// slots; a larger one (declared or found while reading) also needs one of the
    /// [`max_large_deliveries`](Self::max_large_deliveries) slots before more of it is read.
    /// The signature can only be checked once the whole body is in, so this bounds what
    /// unauthenticated senders make the server hold.
    pub small_body_limit: usize,
    /// Deliveries read and handled at once (32); more wait up to 2 s, then get 503.
    pub max_concurrent_deliveries: usize,
    /// Deliveries larger than `small_body_limit` read at once (2).
    pub max_large_deliveries: usize,
    /// How long delivery ids are remembered for deduplication (at least 7 days).
    pub delivery_retention: Duration,
    /// Public job ids, keyed by the secrets.
    pub(crate) job_ids: crate::public_id::JobIds,
}

impl WebhookConfig {
    /// Settings with GitHub's defaults around `secrets`.
    pub fn new(secrets: github_events::WebhookSecrets) -> Self {
        WebhookConfig {
            job_ids: crate::public_id::JobIds::new(&secrets),
            secrets,
            policy: github_events::RoutingPolicy::default(),
            git_url: "https://github.com".into(),
            body_limit: 25 << 20,
            small_body_limit: 1 << 20,
            max_concurrent_deliveries: 32,
            max_large_deliveries: 2,
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
    client: Option<axum::Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(cfg) = state.inner.config.webhooks.as_ref() else {
        return Err(ApiError::not_found(
            "webhooks are not enabled on this server (no --webhook-secrets)",
        ));
    };
    let started = Instant::now();
    let client = client.map_or(ClientAddr(std::net::Ipv4Addr::UNSPECIFIED.into()), |c| c.0);
    let limits = &state.inner.limits;
    if limits.signature_failures_exceeded(client) {
        outcome("refused_bad_signatures");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many deliveries with a wrong signature from {}; check the webhook secret \
                 and retry in a minute",
                client.0
            ),
        )
        .retry_after(Duration::from_secs(60)));
    }
    // Everything that can be checked without the body is, before any of it is read.
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
    if let Some(sig) = signature
        && !well_formed_signature(sig)
    {
        outcome("bad_signature");
        limits.signature_failed(client);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the X-Hub-Signature-256 header is not `sha256=` and 64 hex digits",
        ));
    }
    let delivery_id: github_events::DeliveryId = delivery.parse().map_err(|e| {
        outcome("bad_request");
        ApiError::bad_request(format!("X-GitHub-Delivery: {e}"))
    })?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cfg.body_limit as u64) {
        outcome("too_large");
        return Err(too_large(cfg.body_limit));
    }
    let Some(_slot) = limits.delivery_slot(false, Duration::from_secs(2)).await else {
        outcome("saturated");
        crate::metrics::rejected("webhook_saturated");
        return Err(busy());
    };
    let _intake = super::limits::Counted::enter(&state.inner.intake);
    let bytes = tokio::time::timeout(
        state.inner.config.body_read_timeout,
        read_delivery(&state, cfg, declared, body),
    )
    .await
    .map_err(|_| {
        outcome("slow_body");
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!(
                "the delivery's body did not arrive within {} s",
                state.inner.config.body_read_timeout.as_secs()
            ),
        )
    })??;
    // The signature covers the raw bytes as sent, before any decoding or parsing.
    if let Err(e) = github_events::verify(signature, &bytes, &cfg.secrets) {
        outcome("bad_signature");
        limits.signature_failed(client);
        tracing::warn!(delivery, event, client = %client.0, reason = %e, "webhook signature refused");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            format!("the delivery's signature does not verify: {e}"),
        ));
    }
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

/// `sha256=` and 64 hex digits: anything else cannot verify, so it is refused unread.
fn well_formed_signature(sig: &str) -> bool {
    sig.strip_prefix("sha256=")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the delivery is larger than the limit of {limit} bytes"),
    )
}

fn busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "saturated",
        "the server is taking in other deliveries; redeliver shortly",
    )
    .retry_after(Duration::from_secs(5))
}

/// Reads a delivery's body: up to `small_body_limit` in the slot already held, more only
/// with a large-delivery slot (waited for up to 5 s), never more than `body_limit`.
async fn read_delivery(
    state: &AppState,
    cfg: &WebhookConfig,
    declared: Option<u64>,
    body: Body,
) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt;
    let limits = &state.inner.limits;
    let large_wait = Duration::from_secs(5);
    // A large delivery waits a little for one of the few large slots, else it is turned away.
    let large_slot = async || {
        limits.delivery_slot(true, large_wait).await.ok_or_else(|| {
            outcome("saturated");
            busy()
        })
    };
    let mut large = None;
    if declared.is_some_and(|n| n > cfg.small_body_limit as u64) {
        large = Some(large_slot().await?);
    }
    let mut body = body;
    let mut out = Vec::with_capacity(
        declared
            .map_or(8 << 10, |n| n as usize)
            .min(cfg.small_body_limit),
    );
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(format!("the delivery's body could not be read: {e}"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let total = out.len().saturating_add(data.len());
        if total > cfg.body_limit {
            outcome("too_large");
            return Err(too_large(cfg.body_limit));
        }
        if total > cfg.small_body_limit && large.is_none() {
            large = Some(large_slot().await?);
        }
        out.extend_from_slice(&data);
    }
    Ok(out)
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
        Decision::Rerun {
            repo,
            repo_id,
            number,
            ..
        } => store
            .latest_job(&JobKey::pull_request(repo.clone(), *number).with_repo_id(*repo_id))
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
        let job_id = accepted.earlier_job.map(|(id, _)| public(state, id));
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
            repo_id,
            number,
            reason,
        } => {
            let key = JobKey::pull_request(repo, number).with_repo_id(repo_id);
            let cancelled = store
                .cancel_jobs(&key, reason, state.now())
                .await
                .map_err(|e| ApiError::store(&e))?;
            Ok((
                StatusCode::OK,
                json!({"status": "cancelled", "jobs": cancelled.iter().map(|j| public(state, *j)).collect::<Vec<_>>()}),
                "cancelled",
            ))
        }
        Decision::Run(target) => match accepted.enqueued {
            Some(out) => {
                state.inner.job_ready.notify_one();
                if out.status == store::JobStatus::Deferred {
                    announce_deferred(
                        state,
                        out.job_id,
                        JobPayload::from_target(&target),
                        delivery,
                    );
                }
                Ok(enqueued(state, &out))
            }
            None => Ok(nothing_to_rerun()),
        },
        Decision::Rerun {
            repo,
            number,
            comment_id,
            installation_id,
            ..
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
                        delivery: Some(delivery.clone()),
                    },
                );
                Ok(enqueued(state, &out))
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

/// The public id of a job (see [`crate::public_id`]).
pub(crate) fn public(state: &AppState, id: store::JobId) -> String {
    match &state.inner.config.webhooks {
        Some(w) => w.job_ids.encode(id),
        // Jobs exist only with webhooks on; a job read after they were turned off keeps a
        // number no one outside can use (jobs need the token then).
        None => id.to_string(),
    }
}

/// Tells the publisher a job waits for room in the queue (a pending "queue full, will retry"
/// status), off the delivery's path.
fn announce_deferred(
    state: &AppState,
    id: store::JobId,
    payload: JobPayload,
    delivery: &github_events::DeliveryId,
) {
    let delivery = Some(delivery.clone());
    let publisher = state.inner.publisher.clone();
    let public_id = public(state, id);
    tokio::spawn(async move {
        let update = crate::publish::PublishUpdate::Deferred {
            job: crate::job::JobRef {
                id,
                public_id,
                payload,
                delivery,
            },
        };
        if let Err(e) = publisher.publish(&update).await {
            tracing::warn!(job = %id, error = %e, "deferral not published");
        }
    });
}

/// The answer to a delivery whose job was enqueued (or coalesced).
fn enqueued(
    state: &AppState,
    out: &store::EnqueueOutcome,
) -> (StatusCode, serde_json::Value, &'static str) {
    (
        StatusCode::ACCEPTED,
        json!({
            "status": "accepted",
            "jobId": public(state, out.job_id),
            "coalesced": out.coalesced,
            "deferred": out.status == store::JobStatus::Deferred,
            "superseded": out.superseded.iter().map(|j| public(state, *j)).collect::<Vec<_>>(),
        }),
        if out.coalesced {
            "coalesced"
        } else {
            "accepted"
        },
    )
}
