//! Stored results: `GET /api/analysis/{id}`, `GET /api/analysis` and popular charts.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::access::{Access, is_full, needs_token, require_full};
use crate::results::{ORIGIN_WEBHOOK, span, ts};
use crate::{ApiError, AppState};

/// `limit` of the list route: default and cap.
const LIST_DEFAULT: u32 = 50;
const LIST_MAX: u32 = 200;
/// `limit` of popular charts: default and cap.
const POPULAR_DEFAULT: u32 = 20;
const POPULAR_MAX: u32 = 100;

/// `GET /api/analysis/{id}`: anyone may read a result by its id (ids are digests of what was
/// compared: knowing one means having asked for that comparison, or having been given the
/// link), except the results of webhook analyses, which need full access.
pub(crate) async fn get(
    State(state): State<AppState>,
    access: Option<axum::Extension<Access>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let unknown = || {
        ApiError::not_found(format!(
            "no stored analysis with id {id:?}: it never existed or has expired"
        ))
    };
    let Ok(compare_id) = id.parse::<store::CompareId>() else {
        return Err(unknown());
    };
    let now = state.now();
    let found = state
        .inner
        .store
        .get_result(&compare_id, now)
        .await
        .map_err(|e| ApiError::store(&e))?
        .ok_or_else(unknown)?;
    let s = &found.summary;
    let mut comparison: Value = serde_json::from_slice(&found.document)
        .map_err(|e| ApiError::internal(format_args!("stored document {id}: {e}")))?;
    if !is_full(&access) && comparison.get("origin").and_then(Value::as_str) == Some(ORIGIN_WEBHOOK)
    {
        return Err(needs_token(
            &state,
            "this result is from a webhook analysis (a pull request, push or release); reading it",
        ));
    }
    if let Value::Object(m) = &mut comparison {
        // The row's id is the permalink, even for a result stored in its redacted form.
        m.insert("compareId".into(), json!(s.compare_id.as_str()));
        m.insert("createdAt".into(), json!(ts(s.created_at)));
        m.insert("expiresAt".into(), json!(ts(s.expires_at)));
    }
    // As the Go ChartImpact documents it: stored size as a fraction of the original.
    let ratio = if s.uncompressed_size > 0 {
        s.compressed_size as f64 / s.uncompressed_size as f64
    } else {
        0.0
    };
    let body = json!({
        "success": true,
        "comparison": comparison,
        "metadata": {
            "storedAt": ts(s.created_at),
            "expiresAt": ts(s.expires_at),
            "isExpired": false,
            "isDeduplicated": s.compare_count > 1,
            "compareCount": s.compare_count,
            "uncompressedSize": s.uncompressed_size,
            "compressedSize": s.compressed_size,
            "compressionRatio": (ratio * 1000.0).round() / 1000.0,
        }
    });
    let mut response = axum::Json(body).into_response();
    let left = s.expires_at.duration_since(now);
    if left > jiff::SignedDuration::ZERO && left < jiff::SignedDuration::from_hours(24) {
        response.headers_mut().insert(
            "x-expiration-warning",
            HeaderValue::from_static("This result will expire soon"),
        );
    }
    Ok(response)
}

pub(crate) fn param_u32(q: &HashMap<String, String>, name: &str) -> Result<Option<u32>, ApiError> {
    q.get(name)
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                ApiError::bad_request(format!("{name} must be a non-negative integer, not {v:?}"))
            })
        })
        .transpose()
}

fn param_time(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<jiff::Timestamp>, ApiError> {
    q.get(name)
        .map(|v| {
            v.parse::<jiff::Timestamp>().map_err(|_| {
                ApiError::bad_request(format!(
                    "{name} must be an RFC 3339 time such as 2026-01-31T00:00:00Z, not {v:?}"
                ))
            })
        })
        .transpose()
}

pub(crate) fn reject_unknown(q: &HashMap<String, String>, known: &[&str]) -> Result<(), ApiError> {
    match q.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad_request(format!(
            "unknown query parameter {k:?}; accepted: {}",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

/// `GET /api/analysis`: lists repositories and revisions others compared, so full access only.
pub(crate) async fn list(
    State(state): State<AppState>,
    access: Option<axum::Extension<Access>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_full(&state, &access, "listing stored results")?;
    reject_unknown(
        &q,
        &[
            "repository",
            "chartPath",
            "since",
            "until",
            "limit",
            "offset",
        ],
    )?;
    let limit = param_u32(&q, "limit")?
        .unwrap_or(LIST_DEFAULT)
        .clamp(1, LIST_MAX);
    let offset = param_u32(&q, "offset")?.unwrap_or(0);
    let query = store::ListQuery {
        repository: q.get("repository").cloned(),
        chart_path: q.get("chartPath").cloned(),
        since: param_time(&q, "since")?,
        until: param_time(&q, "until")?,
        limit,
        offset,
        now: state.now(),
    };
    let page = state
        .inner
        .store
        .list_results(query)
        .await
        .map_err(|e| ApiError::store(&e))?;
    let comparisons: Vec<Value> = page
        .items
        .iter()
        .map(|s| {
            json!({
                "compareId": s.compare_id.as_str(),
                "repository": s.repository,
                "chartPath": s.chart_path,
                "version1": s.version1,
                "version2": s.version2,
                "commit1": s.commit1,
                "commit2": s.commit2,
                "verdict": s.verdict,
                "resourcesAdded": s.stats.added,
                "resourcesRemoved": s.stats.removed,
                "resourcesModified": s.stats.modified,
                "resourcesUnchanged": s.stats.unchanged,
                "totalChanges": s.stats.total_changes,
                // The names the Go ChartImpact's README documents.
                "hasChanges": s.stats.added + s.stats.removed + s.stats.modified > 0,
                "modifiedResourcesCount": s.stats.modified,
                "compareCount": s.compare_count,
                "uncompressedSize": s.uncompressed_size,
                "compressedSize": s.compressed_size,
                "createdAt": ts(s.created_at),
                "expiresAt": ts(s.expires_at),
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "success": true,
        "count": comparisons.len(),
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "comparisons": comparisons,
    }))
    .into_response())
}

/// `GET /api/analytics/charts/popular`: names the charts others compared, so full access only.
pub(crate) async fn popular(
    State(state): State<AppState>,
    access: Option<axum::Extension<Access>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_full(&state, &access, "the most compared charts")?;
    reject_unknown(&q, &["limit", "days"])?;
    let limit = param_u32(&q, "limit")?
        .unwrap_or(POPULAR_DEFAULT)
        .clamp(1, POPULAR_MAX);
    let window = match param_u32(&q, "days")? {
        Some(0) => return Err(ApiError::bad_request("days must be at least 1")),
        Some(days) => {
            Duration::from_secs(u64::from(days) * 86_400).min(state.inner.config.analytics_window)
        }
        None => state.inner.config.analytics_window,
    };
    let until = state.now();
    let since = until
        .checked_sub(span(window))
        .unwrap_or(jiff::Timestamp::MIN);
    let popular = state
        .inner
        .store
        .popular_charts(store::PopularQuery {
            since,
            until: until
                .checked_add(jiff::SignedDuration::from_millis(1))
                .unwrap_or(until),
            limit,
        })
        .await
        .map_err(|e| ApiError::store(&e))?;
    let charts: Vec<Value> = popular
        .charts
        .iter()
        .map(|c| {
            let rate = if c.comparison_count > 0 {
                c.with_changes as f64 / c.comparison_count as f64
            } else {
                0.0
            };
            let round = |v: f64| (v * 100.0).round() / 100.0;
            json!({
                "repository": c.repository,
                "chartPath": c.chart_path,
                "comparisonCount": c.comparison_count,
                "withChanges": c.with_changes,
                "changeRate": round(rate),
                "avgModified": round(c.avg_modified),
                // The Go code says avgModified, its README avgModifiedResources: both.
                "avgModifiedResources": round(c.avg_modified),
                "avgAdded": round(c.avg_added),
                "avgRemoved": round(c.avg_removed),
                "lastComparisonAt": ts(c.last_compared_at),
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "success": true,
        "popularCharts": charts,
        "totalComparisons": popular.total_comparisons,
        "periodStart": ts(since),
        "periodEnd": ts(until),
    }))
    .into_response())
}
