//! `GET /api/jobs/{id}`: a webhook job's state, attempts, error and results.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::results::ts;
use crate::{ApiError, AppState};

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

/// `GET /api/jobs/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::not_found(format!("no job with id {id:?}"));
    let job_id: store::JobId = id.parse().map_err(|_| unknown())?;
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
    let ts = |t: Option<jiff::Timestamp>| t.map(ts);
    Ok(axum::Json(json!({
        "success": true,
        "id": job.id.to_string(),
        "kind": job.kind,
        "key": job.key,
        "repository": job.repo,
        "revision": job.revision,
        "status": job.status.as_str(),
        "attempts": job.attempts,
        "maxAttempts": job.max_attempts,
        "createdAt": ts(Some(job.created_at)),
        "runAt": ts(Some(job.run_at)),
        "startedAt": ts(job.started_at),
        "finishedAt": ts(job.finished_at),
        "error": job.last_error,
        "compareIds": job.compare_ids,
        "supersededBy": job.superseded_by.map(|j| j.to_string()),
    }))
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
