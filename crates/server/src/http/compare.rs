//! `POST /api/compare` and `POST /api/versions`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::body::{parse_json, read_limited};
use crate::results::{SaveError, request_echo, save, stored_document};
use crate::{ApiError, AppState};
use service::{CompareRequest, Context};

/// A finished, stored comparison as every caller of one flight receives it.
pub(crate) type Outcome = Result<Arc<Stored>, ApiError>;

pub(crate) struct Stored {
    compare_id: String,
    /// The response body (secrets as the request asked).
    body: Vec<u8>,
    deduplicated: bool,
}

impl Stored {
    /// The response body as `POST /api/compare` sends it.
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }
}

/// The body of `POST /api/compare` (and its streaming twin): read under the compare body
/// limit, parsed strictly, validated.
/// A JSON request body of at most `limit` bytes, read within the server's body timeout and
/// parsed strictly (unknown fields named).
async fn read_json<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, ApiError> {
    let bytes = read_limited(headers, body, limit, state.inner.config.body_read_timeout).await?;
    parse_json(&bytes)
}

pub(crate) async fn read_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<CompareRequest, ApiError> {
    let limit = state.inner.config.compare_body_limit;
    let request: CompareRequest = read_json(state, headers, body, limit).await?;
    refuse_credentials("repository", &request.repository)?;
    if let Some(helm) = &request.helm_repository {
        refuse_credentials("helmRepository", helm)?;
    }
    request.validate().map_err(ApiError::bad_request)?;
    Ok(request)
}

/// A repository URL with `user:password@` is refused: credentials in a request end up in
/// logs, caches and errors, and the server has its own for the hosts it serves (never echoing
/// the URL back, which would put the credential in the answer).
pub(crate) fn refuse_credentials(field: &str, url: &str) -> Result<(), ApiError> {
    if service::has_userinfo(url) {
        crate::metrics::rejected("credentials_in_url");
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "credentials_in_url",
            format!(
                "{field} carries credentials (user:password@…): send the URL without them. \
                 This server does not take credentials in requests; its operator configures \
                 them for the hosts that need them (see docs/SECURITY.md)"
            ),
        ));
    }
    Ok(())
}

pub(crate) async fn compare(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let request = read_request(&state, &headers, body).await?;
    // Field order is fixed by the struct, so equal requests give equal keys.
    let key = serde_json::to_string(&request).map_err(ApiError::internal)?;
    let work_state = state.clone();
    let (outcome, coalesced) = state
        .inner
        .flights
        .run(&key, async move {
            run_compare(work_state, request, Context::default()).await
        })
        .await;
    if coalesced {
        crate::metrics::coalesced();
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

/// Compares, stores (redacted) and serializes: once per flight. `ctx` brings the caller's
/// progress callback and cancel flag; the server's deadline is set here.
pub(crate) async fn run_compare(
    state: AppState,
    request: CompareRequest,
    mut ctx: Context,
) -> Outcome {
    let slot = state.inner.limits.slot().await?;
    let service = state.inner.service.clone();
    let timeout = state.inner.config.compare_timeout;
    ctx.set_timeout(timeout);
    let cancel = ctx.cancel.clone();
    let started = Instant::now();
    let echo = request_echo(&request);
    // Serializing renders the text report: CPU work, done on the blocking pool with the rest.
    let work = tokio::task::spawn_blocking(move || {
        let response = service.compare(&request, &ctx)?;
        // Stored results never hold revealed secrets: a `show`/`decode` comparison is stored
        // in its `suppress` form (the renders are cached, so this is a diff, not a render).
        let reveals = request
            .secret_handling
            .is_some_and(|s| s != diff_core::SecretHandling::Suppress);
        let body = serde_json::to_vec(&response)
            .map_err(|e| service::CompareError::internal_from("serializing the result", e))?;
        let stored = if reveals {
            let redacted = CompareRequest {
                secret_handling: None,
                ..request.clone()
            };
            service.compare(&redacted, &ctx)?
        } else {
            response.clone()
        };
        let document = stored_document(&stored, Some(echo))
            .map_err(|e| service::CompareError::internal_from("serializing the result", e))?;
        Ok::<_, service::CompareError>((response, body, document))
    });
    let (response, body, document) = finish_by_deadline(&state, slot, work, timeout, &cancel)
        .await?
        .inspect_err(|e| crate::metrics::compare_failed(e.code()))?;
    crate::metrics::compare_stages(&response.timings);

    let store_start = Instant::now();
    let deduplicated = save(&state, &response, document)
        .await
        .map_err(|e| match e {
            SaveError::Store(e) => ApiError::store(&e),
            SaveError::Id(e) => ApiError::internal(e),
        })?;
    crate::metrics::stage("store", store_start.elapsed());
    crate::metrics::stage("request", started.elapsed());
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

/// How long past its deadline work may take to stop before the caller is answered anyway:
/// the engine checks its cancel flag often, so this is only reached by work stuck in a place
/// that does not (a render budget the chart found a way around, a system call).
const STOP_GRACE: Duration = Duration::from_secs(1);

/// Waits for `work` until its deadline (plus [`STOP_GRACE`]): the answer is the work's, or a
/// 408 when it overran. Overrunning work is cancelled and left to its thread; the slot is freed
/// (see [`super::limits::Limits::overran`]), so stuck work cannot take every slot.
pub(crate) async fn finish_by_deadline<T: Send + 'static>(
    state: &AppState,
    slot: super::limits::Slot,
    work: tokio::task::JoinHandle<T>,
    timeout: Duration,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<T, ApiError> {
    let mut work = work;
    match tokio::time::timeout(timeout + STOP_GRACE, &mut work).await {
        Ok(joined) => {
            drop(slot);
            joined.map_err(|e| {
                if e.is_panic() {
                    ApiError::internal(format_args!("the comparison panicked: {e}"))
                } else {
                    ApiError::internal(e)
                }
            })
        }
        Err(_) => {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            crate::metrics::compare_failed("timeout");
            crate::metrics::rejected("deadline_overrun");
            tracing::warn!(
                timeout_s = timeout.as_secs(),
                "work did not stop at its deadline; answered 408 and left it to finish"
            );
            state.inner.limits.overran(slot, work);
            Err(ApiError::from(service::CompareError::Timeout {
                seconds: timeout.as_secs(),
            }))
        }
    }
}

/// `POST /api/versions` body: a git repository, or a chart in a Helm repository.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct VersionsRequest {
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    helm_repository: Option<String>,
    #[serde(default)]
    chart: Option<String>,
}

pub(crate) async fn versions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let limit = state.inner.config.body_limit;
    let request: VersionsRequest = read_json(&state, &headers, body, limit).await?;
    for (field, url) in [
        ("repository", &request.repository),
        ("helmRepository", &request.helm_repository),
    ] {
        if let Some(url) = url {
            refuse_credentials(field, url)?;
        }
    }
    match (request.repository, request.helm_repository, request.chart) {
        (None, Some(helm), Some(chart)) => {
            if chart.trim().is_empty() {
                return Err(ApiError::bad_request("chart is required"));
            }
            listing(&state, helm, move |service, helm, ctx| {
                service.chart_versions(helm, &chart, ctx)
            })
            .await
        }
        (None, Some(_), None) => Err(ApiError::bad_request(
            "chart is required with helmRepository",
        )),
        (Some(repository), None, None) => {
            listing(&state, repository, |service, repository, ctx| {
                service.versions(repository, ctx)
            })
            .await
        }
        (None, None, _) => Err(ApiError::bad_request(
            "repository (a git repository) or helmRepository and chart are required",
        )),
        _ => Err(ApiError::bad_request(
            "give either repository (a git repository) or helmRepository and chart, not both",
        )),
    }
}

/// Runs a lookup in a repository (versions, charts) on the blocking pool, in a slot of the
/// concurrency limit shared with compares, under the listing deadline.
async fn listing<T, F>(
    state: &AppState,
    repository: String,
    lookup: F,
) -> Result<Response, ApiError>
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&dyn service::CompareService, &str, &Context) -> Result<T, service::CompareError>
        + Send
        + 'static,
{
    if repository.trim().is_empty() {
        return Err(ApiError::bad_request("repository is required"));
    }
    let slot = state.inner.limits.slot().await?;
    let service = state.inner.service.clone();
    let timeout = state.inner.config.versions_timeout;
    let ctx = Context::with_timeout(timeout);
    let cancel = ctx.cancel.clone();
    let work = tokio::task::spawn_blocking(move || lookup(service.as_ref(), &repository, &ctx));
    let found = finish_by_deadline(state, slot, work, timeout, &cancel).await??;
    Ok(axum::Json(found).into_response())
}

/// `POST /api/charts` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChartsRequest {
    repository: String,
    /// Tag, branch or commit; the default branch's head when absent.
    #[serde(default)]
    revision: Option<String>,
}

pub(crate) async fn charts(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let limit = state.inner.config.body_limit;
    let request: ChartsRequest = read_json(&state, &headers, body, limit).await?;
    refuse_credentials("repository", &request.repository)?;
    let revision = request.revision;
    listing(
        &state,
        request.repository,
        move |service, repository, ctx| service.charts(repository, revision.as_deref(), ctx),
    )
    .await
}
