//! `GET /api/health`: what this server can do right now, with no side effects.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::AppState;

/// One renderer as health reports it (found once at start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RendererStatus {
    /// `native` or `helm`.
    pub name: String,
    /// Whether it can run.
    pub available: bool,
    /// Its version, when available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why it is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RendererStatus {
    /// The native and helm renderers of `renderers`, as health reports them.
    pub fn of(renderers: &service::Renderers) -> Vec<RendererStatus> {
        let status = |name: &str,
                      r: &Option<std::sync::Arc<dyn helm_render::Renderer>>,
                      missing: &str| match r {
            Some(r) => RendererStatus {
                name: name.into(),
                available: true,
                version: Some(r.info().version),
                reason: None,
            },
            None => RendererStatus {
                name: name.into(),
                available: false,
                version: None,
                reason: Some(missing.into()),
            },
        };
        vec![
            status("native", &renderers.native, "not in this build"),
            status(
                "helm",
                &renderers.helm,
                "no helm binary on PATH or in CHARTIMPACT_HELM; charts that need it (fromToml) fail to render",
            ),
        ]
    }
}

/// `ok` when everything works; `degraded` when the helm renderer or git is missing (compares
/// of some charts or of local repositories fail); `unavailable` (HTTP 503) when the database
/// does not answer, so a load balancer takes the replica out.
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let store = &state.inner.store;
    let db = tokio::time::timeout(Duration::from_secs(2), store.ping()).await;
    let (db_ok, db_error) = match db {
        Ok(Ok(())) => (true, None),
        Ok(Err(e)) => (false, Some(e.to_string())),
        Err(_) => (false, Some("no answer within 2 s".to_owned())),
    };
    let renderers = &state.inner.renderers;
    let available = |name: &str| renderers.iter().any(|r| r.name == name && r.available);
    let helm_ok = available("helm");
    let git_ok = state.inner.git_version.is_some();
    let status = if !db_ok {
        "unavailable"
    } else if !helm_ok || !git_ok || !available("native") {
        "degraded"
    } else {
        "ok"
    };
    let body = json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "engineVersion": diff_core::ENGINE_VERSION,
        "renderers": renderers,
        "git": {
            "available": git_ok,
            "version": state.inner.git_version,
        },
        "database": {
            "ok": db_ok,
            "backend": store.backend().to_string(),
            "schemaVersion": store.schema_version(),
            "error": db_error,
        },
        "queue": {
            "compareQueued": state.inner.limits.queued(),
            "compareInFlight": state.inner.flights.in_flight(),
        },
        // The Go ChartImpact's names, for its web UI.
        "helmOk": helm_ok,
        "gitOk": git_ok,
        "dbOk": db_ok,
        "storageType": store.backend().to_string(),
        "analyticsSupported": true,
    });
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}
