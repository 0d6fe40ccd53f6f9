//! Requests from web pages on other sites.
//!
//! A page anywhere on the web can make its visitor's browser POST to a server on their
//! machine or network: a `text/plain` or form POST is a "simple" request that no CORS
//! preflight stops, and the browser sends it whatever the answer will be. Browsers always say
//! where such a request comes from (`Origin`), so a state-changing request that carries an
//! `Origin` other than this server's own or one allowed by `--cors-origins` is refused before
//! its body is read, and one from a page must be JSON. Clients that are not browsers (curl,
//! scripts, GitHub) send no `Origin` and are not affected.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState};

/// Middleware of the API's POST routes (not the webhook intake).
pub(crate) async fn browser_guard(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return next.run(req).await;
    };
    let origin = origin.to_str().unwrap_or("null");
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let own = origin
        .split_once("://")
        .is_some_and(|(_, authority)| !host.is_empty() && authority.eq_ignore_ascii_case(host));
    let allowed = own
        || state
            .inner
            .config
            .cors_origins
            .iter()
            .any(|p| p == "*" || crate::origin_matches(p.trim(), origin));
    if !allowed {
        crate::metrics::rejected("forbidden_origin");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            format!(
                "requests from web pages on other sites are refused (Origin {origin}); \
                 allow a site with --cors-origins"
            ),
        )
        .into_response();
    }
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        crate::metrics::rejected("unsupported_media_type");
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "requests from web pages must be JSON: send Content-Type: application/json",
        )
        .into_response();
    }
    next.run(req).await
}
