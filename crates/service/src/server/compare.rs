//! `POST /api/compare` and `POST /api/versions`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::body::{parse_json, read_limited};
use super::{ApiError, AppState};
use crate::{CompareRequest, CompareResponse, Context};

/// A finished, stored comparison as every caller of one flight receives it.
pub(crate) type Outcome = Result<Arc<Stored>, ApiError>;

pub(crate) struct Stored {
    compare_id: String,
    /// The response body (secrets as the request asked).
    body: Vec<u8>,
    deduplicated: bool,
}

pub(crate) async fn compare(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_limited(&headers, body, state.inner.config.compare_body_limit).await?;
    let request: CompareRequest = parse_json(&bytes)?;
    request.validate().map_err(ApiError::bad_request)?;
    // Field order is fixed by the struct, so equal requests give equal keys.
    let key = serde_json::to_string(&request).map_err(ApiError::internal)?;
    let work_state = state.clone();
    let (outcome, coalesced) = state
        .inner
        .flights
        .run(&key, async move { run_compare(work_state, request).await })
        .await;
    if coalesced {
        super::metrics::coalesced();
    }
    let stored = outcome?;
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        stored.body.clone(),
    )
        .into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&stored.compare_id) {
        h.insert("x-compare-id", v);
    }
    h.insert(
        "x-deduplication",
        HeaderValue::from_static(if stored.deduplicated || coalesced {
            "hit"
        } else {
            "miss"
        }),
    );
    Ok(response)
}

/// Compares, stores (redacted) and serializes: once per flight.
async fn run_compare(state: AppState, request: CompareRequest) -> Outcome {
    let _slot = state.inner.limits.slot().await?;
    let service = state.inner.service.clone();
    let timeout = state.inner.config.compare_timeout;
    let started = Instant::now();
    // Serializing renders the text report: CPU work, done on the blocking pool with the rest.
    let (response, body, document) = tokio::task::spawn_blocking(move || {
        let ctx = Context::with_timeout(timeout);
        let response = service.compare(&request, &ctx)?;
        // Stored results never hold revealed secrets: a `show`/`decode` comparison is stored
        // in its `suppress` form (the renders are cached, so this is a diff, not a render).
        let reveals = request
            .secret_handling
            .as_deref()
            .is_some_and(|s| s != "suppress");
        let body = serde_json::to_vec(&response)
            .map_err(|e| crate::CompareError::Internal(format!("serializing the result: {e}")))?;
        let document = if reveals {
            let redacted = CompareRequest {
                secret_handling: None,
                ..request.clone()
            };
            serde_json::to_vec(&service.compare(&redacted, &ctx)?).map_err(|e| {
                crate::CompareError::Internal(format!("serializing the result: {e}"))
            })?
        } else {
            body.clone()
        };
        Ok::<_, crate::CompareError>((response, body, document))
    })
    .await
    .map_err(|e| {
        if e.is_panic() {
            ApiError::internal(format_args!("the comparison panicked: {e}"))
        } else {
            ApiError::internal(e)
        }
    })?
    .inspect_err(|e| super::metrics::compare_failed(e.code()))?;
    super::metrics::compare_stages(&response.timings);

    let store_start = Instant::now();
    let deduplicated = save(&state, &response, document).await?;
    super::metrics::stage("store", store_start.elapsed());
    super::metrics::stage("request", started.elapsed());
    tracing::info!(
        compare_id = %response.compare_id,
        repository = %response.repository,
        chart = %response.chart_path,
        verdict = response.comparison.impact.verdict.as_str(),
        deduplicated,
        "compared"
    );
    Ok(Arc::new(Stored {
        compare_id: response.compare_id,
        body,
        deduplicated,
    }))
}

/// Stores `document` (the response as JSON, secrets redacted) under the response's id.
pub(crate) async fn save(
    state: &AppState,
    response: &CompareResponse,
    document: Vec<u8>,
) -> Result<bool, ApiError> {
    let compare_id: store::CompareId = response
        .compare_id
        .parse()
        .map_err(|e| ApiError::internal(format_args!("compare id: {e}")))?;
    let counts = &response.comparison.structured_diff.stats;
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    let record = store::NewResult {
        compare_id,
        repository: response.repository.clone(),
        chart_path: response.chart_path.clone(),
        version1: response.version1.clone(),
        version2: response.version2.clone(),
        commit1: response.resolved.version1.clone(),
        commit2: response.resolved.version2.clone(),
        verdict: response.comparison.impact.verdict.as_str().to_owned(),
        stats: store::ResultStats {
            added: n(counts.resources.added),
            removed: n(counts.resources.removed),
            modified: n(counts.resources.modified),
            unchanged: n(counts.resources.unchanged),
            total_changes: n(counts.changes.total),
        },
        document,
        created_at: state.now(),
        ttl: state.inner.config.result_ttl,
    };
    let saved = state
        .inner
        .store
        .save_result(record)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(saved.deduplicated)
}

/// `POST /api/versions` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionsRequest {
    repository: String,
}

pub(crate) async fn versions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_limited(&headers, body, state.inner.config.body_limit).await?;
    let request: VersionsRequest = parse_json(&bytes)?;
    if request.repository.trim().is_empty() {
        return Err(ApiError::bad_request("repository is required"));
    }
    let _slot = state.inner.limits.slot().await?;
    let service = state.inner.service.clone();
    let timeout = state.inner.config.versions_timeout;
    let versions = tokio::task::spawn_blocking(move || {
        service.versions(&request.repository, &Context::with_timeout(timeout))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(axum::Json(versions).into_response())
}
