//! Views for operators: `GET /api/deliveries` (the webhook deliveries received, newest
//! first, each with the job it enqueued) and `GET /api/operations` (the queue's depth, the
//! workers, GitHub's rate limit as the last response reported it).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::analysis::{param_u32, reject_unknown};
use super::webhook::public;
use crate::access::{Access, require_full};
use crate::results::ts;
use crate::{ApiError, AppState};

/// `limit` of `GET /api/deliveries`: default and cap.
const LIST_DEFAULT: u32 = 50;
const LIST_MAX: u32 = 200;

/// `GET /api/deliveries?limit=&offset=`.
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    access: Option<axum::Extension<Access>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_full(&state, &access, "listing webhook deliveries")?;
    reject_unknown(&q, &["limit", "offset"])?;
    let limit = param_u32(&q, "limit")?
        .unwrap_or(LIST_DEFAULT)
        .clamp(1, LIST_MAX);
    let offset = param_u32(&q, "offset")?.unwrap_or(0);
    let mut listed = state
        .inner
        .store
        .list_deliveries(limit + 1, offset)
        .await
        .map_err(|e| ApiError::store(&e))?;
    let more = listed.len() > limit as usize;
    listed.truncate(limit as usize);
    let deliveries: Vec<_> = listed
        .iter()
        .map(|d| {
            json!({
                "id": d.id.to_string(),
                "event": d.event,
                "action": d.action,
                "repository": d.repo,
                "receivedAt": ts(d.received_at),
                "jobId": d.job_id.map(|j| public(&state, j)),
                "jobStatus": d.job_status.map(|s| s.as_str()),
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "success": true,
        "webhooksEnabled": state.inner.config.webhooks.is_some(),
        "deliveries": deliveries,
        "limit": limit,
        "offset": offset,
        "nextOffset": more.then_some(offset + limit),
    }))
    .into_response())
}

/// `GET /api/operations`: what an operator checks first.
pub(crate) async fn overview(
    State(state): State<AppState>,
    access: Option<axum::Extension<Access>>,
) -> Result<Response, ApiError> {
    require_full(&state, &access, "reading the operations overview")?;
    let queue = state
        .inner
        .store
        .queue_stats()
        .await
        .map_err(|e| ApiError::store(&e))?;
    let config = &state.inner.config;
    let github = state.inner.publisher.github_rate_limit().map(|r| {
        json!({
            "limit": r.limit,
            "remaining": r.remaining,
            "used": r.used,
            "resetAt": r.reset
                .and_then(|s| jiff::Timestamp::from_second(i64::try_from(s).ok()?).ok())
                .map(ts),
            "resource": r.resource,
        })
    });
    Ok(axum::Json(json!({
        "success": true,
        "webhooksEnabled": config.webhooks.is_some(),
        "queue": {
            "queued": queue.queued,
            "deferred": queue.deferred,
            "running": queue.running,
            "depth": queue.queued + queue.deferred,
        },
        "workers": if config.webhooks.is_some() { config.workers.workers } else { 0 },
        "maxAttempts": config.workers.max_attempts,
        // `null` when nothing publishes to GitHub; fields are `null` until GitHub answered.
        "githubRateLimit": github,
    }))
    .into_response())
}
