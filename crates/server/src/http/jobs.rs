//! Webhook jobs: `GET /api/jobs/{id}` (a job's state, attempts, error and results), and for
//! operators `GET /api/jobs` (the newest jobs, by status and repository) and
//! `POST /api/jobs/{id}/rerun` (run a finished job again).

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::analysis::{param_u32, reject_unknown};
use super::webhook::public;
use crate::access::{Access, require_full};
use crate::job::JobPayload;
use crate::results::ts;
use crate::{ApiError, AppState};

/// `limit` of `GET /api/jobs`: default and cap.
const LIST_DEFAULT: u32 = 50;
const LIST_MAX: u32 = 200;

/// A retention for people: whole days, else whole hours (at least one).
fn retention_words(d: Duration) -> String {
    let hours = (d.as_secs() / 3600).max(1);
    match (hours / 24, hours % 24) {
        (1, 0) => "1 day".to_owned(),
        (days, 0) => format!("{days} days"),
        _ if hours == 1 => "1 hour".to_owned(),
        _ => format!("{hours} hours"),
    }
}

/// `GET /api/jobs/{id}`: jobs name repositories, pull requests, branches and errors, so only
/// a request with full access reads them; `id` is the public id (see [`crate::public_id`]).
pub(crate) async fn get(
    State(state): State<AppState>,
    access: Option<axum::Extension<Access>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_full(&state, &access, "reading a job")?;
    let job_id = decode(&state, &id)?;
    // A well-formed id may name a job that finished longer ago than the retention and was
    // purged (see `run_cleanup`): say so, so an old link is not mistaken for a bad one.
    let purged = || {
        ApiError::not_found(format!(
            "no job with id {id:?}: it may have been purged (finished jobs are kept {})",
            retention_words(state.inner.config.result_ttl)
        ))
    };
    let job = state
        .inner
        .store
        .get_job(job_id)
        .await
        .map_err(|e| ApiError::store(&e))?
        .ok_or_else(purged)?;
    let mut body = job_json(&state, &job);
    body["success"] = json!(true);
    Ok(axum::Json(body).into_response())
}

/// The job behind a public id (see [`crate::public_id`]); anything else is unknown.
fn decode(state: &AppState, id: &str) -> Result<store::JobId, ApiError> {
    state
        .inner
        .config
        .webhooks
        .as_ref()
        .and_then(|w| w.job_ids.decode(id))
        .ok_or_else(|| ApiError::not_found(format!("no job with id {id:?}")))
}

/// A job as the API shows it. `pullRequest` is read from the stored payload (absent for
/// pushes and releases); `durationMs` is the time from the first claim to the end.
pub(crate) fn job_json(state: &AppState, job: &store::Job) -> Value {
    let at = |t: Option<jiff::Timestamp>| t.map(ts);
    let payload = serde_json::from_slice::<JobPayload>(&job.payload).ok();
    let pull_request = match &payload {
        Some(JobPayload::PullRequest { number, .. }) => Some(*number),
        _ => None,
    };
    let duration_ms = match (job.started_at, job.finished_at) {
        (Some(start), Some(end)) => Some(end.duration_since(start).as_millis().max(0)),
        _ => None,
    };
    json!({
        "id": public(state, job.id),
        "kind": job.kind,
        "key": job.key,
        "repository": job.repo,
        "pullRequest": pull_request,
        "revision": job.revision,
        "status": job.status.as_str(),
        "attempts": job.attempts,
        "maxAttempts": job.max_attempts,
        "createdAt": at(Some(job.created_at)),
        "runAt": at(Some(job.run_at)),
        "startedAt": at(job.started_at),
        "finishedAt": at(job.finished_at),
        "durationMs": duration_ms,
        "worker": job.locked_by,
        "error": job.last_error,
        "compareIds": job.compare_ids,
        "supersededBy": job.superseded_by.map(|j| public(state, j)),
    })
}

/// `GET /api/jobs?status=&repository=&limit=&offset=`: the newest jobs first.
pub(crate) async fn list(
    State(state): State<AppState>,
    access: Option<axum::Extension<Access>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_full(&state, &access, "listing jobs")?;
    reject_unknown(&q, &["status", "repository", "limit", "offset"])?;
    let status = match q.get("status").map(String::as_str) {
        None | Some("") => None,
        Some(s) => Some(s.parse::<store::JobStatus>().map_err(|_| {
            let known: Vec<&str> = store::JobStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(format!(
                "unknown job status {s:?}; one of: {}",
                known.join(", ")
            ))
        })?),
    };
    let repo = match q.get("repository").map(String::as_str) {
        None | Some("") => None,
        Some(r) => Some(r.parse::<store::RepoName>().map_err(|e| {
            ApiError::bad_request(format!("repository {r:?} is not OWNER/REPO: {e}"))
        })?),
    };
    let limit = param_u32(&q, "limit")?
        .unwrap_or(LIST_DEFAULT)
        .clamp(1, LIST_MAX);
    let offset = param_u32(&q, "offset")?.unwrap_or(0);
    // One more than asked tells whether there is a next page.
    let query = store::JobQuery {
        status,
        repo,
        limit: limit + 1,
        offset,
    };
    let mut jobs = state
        .inner
        .store
        .list_jobs(query)
        .await
        .map_err(|e| ApiError::store(&e))?;
    let more = jobs.len() > limit as usize;
    jobs.truncate(limit as usize);
    Ok(axum::Json(json!({
        "success": true,
        "jobs": jobs.iter().map(|j| job_json(&state, j)).collect::<Vec<_>>(),
        "limit": limit,
        "offset": offset,
        "nextOffset": more.then_some(offset + limit),
    }))
    .into_response())
}

/// `POST /api/jobs/{id}/rerun`: enqueues the job again, with the same revision and payload
/// (what a `/chartimpact rerun` comment does). A job that may still run, or that a newer
/// revision superseded, is refused with 409: the newer one is the one to re-run.
pub(crate) async fn rerun(
    State(state): State<AppState>,
    access: Option<axum::Extension<Access>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_full(&state, &access, "re-running a job")?;
    let unknown = || ApiError::not_found(format!("no job with id {id:?}"));
    let job_id = decode(&state, &id)?;
    let store = &state.inner.store;
    let job = store
        .get_job(job_id)
        .await
        .map_err(|e| ApiError::store(&e))?
        .ok_or_else(unknown)?;
    let conflict = |message: String| ApiError::new(StatusCode::CONFLICT, "conflict", message);
    if job.status.is_active() {
        return Err(conflict(format!(
            "job {id} is {}: it runs without being asked again",
            job.status
        )));
    }
    if let Some(newer) = job.superseded_by {
        return Err(conflict(format!(
            "job {id} was superseded by job {} for a newer revision; re-run that one",
            public(&state, newer)
        )));
    }
    // Enqueueing an older revision would supersede the newer one's job.
    let latest = store
        .latest_job(&job.key)
        .await
        .map_err(|e| ApiError::store(&e))?;
    if let Some(newer) = latest.filter(|l| l.id != job.id && l.revision != job.revision) {
        return Err(conflict(format!(
            "job {} is for a newer revision of {} ({}); re-run that one",
            public(&state, newer.id),
            job.key,
            newer.revision
        )));
    }
    let workers = &state.inner.config.workers;
    let enqueued = store
        .enqueue_job(
            store::NewJob {
                key: job.key.clone(),
                revision: job.revision.clone(),
                payload: job.payload.clone(),
                max_attempts: workers.max_attempts,
                now: state.now(),
            },
            workers.limits,
        )
        .await
        .map_err(|e| ApiError::store(&e))?;
    state.inner.job_ready.notify_one();
    tracing::info!(job = %job_id, rerun = %enqueued.job_id, "job re-run by an operator");
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({
            "success": true,
            "jobId": public(&state, enqueued.job_id),
            "status": enqueued.status.as_str(),
            "coalesced": enqueued.coalesced,
        })),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retentions_read_in_days_or_hours() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert_eq!(retention_words(h(30 * 24)), "30 days");
        assert_eq!(retention_words(h(24)), "1 day");
        assert_eq!(retention_words(h(36)), "36 hours");
        assert_eq!(retention_words(h(1)), "1 hour");
        assert_eq!(retention_words(Duration::from_secs(5)), "1 hour");
    }
}
