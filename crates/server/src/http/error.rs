//! The one error type of the HTTP layer: a status, a stable `code` and a message that says
//! what to fix, sent as `{success: false, error, code}`. Internal details are logged, never sent.

use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use service::CompareError;

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `revision_not_found`.
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
    /// Sent as `Retry-After` (429, 503).
    pub retry_after: Option<Duration>,
    /// Machine-readable help merged into the body (e.g. `suggestions` for an unknown
    /// revision, `charts` for a missing chart), so a client can offer the fix.
    pub details: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl ApiError {
    /// An error with no `Retry-After`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            details: None,
        }
    }

    /// 400 `invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 `internal`: `detail` is logged, the client sees a generic message.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error: the server logged the details",
        )
    }

    /// 503 `store_unavailable`: the result could not be stored or read.
    pub fn store(e: &store::StoreError) -> Self {
        tracing::error!(error = %e, "store failed");
        let mut err = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the result store is unavailable; try again shortly",
        );
        err.retry_after = Some(Duration::from_secs(5));
        err
    }

    /// The `{success: false, error, code, …details}` body.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("success".into(), false.into());
        body.insert("error".into(), self.message.clone().into());
        body.insert("code".into(), self.code.into());
        for (k, v) in self.details.iter().flat_map(|m| m.iter()) {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
        serde_json::Value::Object(body)
    }

    /// Adds a `Retry-After`.
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }
}

impl From<CompareError> for ApiError {
    fn from(e: CompareError) -> Self {
        let status = match &e {
            CompareError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            CompareError::RepositoryNotAllowed(_) | CompareError::RepositoryAccessDenied(_) => {
                StatusCode::FORBIDDEN
            }
            CompareError::RevisionNotFound { .. }
            | CompareError::ChartNotFound { .. }
            | CompareError::HelmChartNotFound { .. }
            | CompareError::ChartVersionNotFound { .. }
            | CompareError::ValuesFileMissing { .. } => StatusCode::NOT_FOUND,
            CompareError::ChartRepository(_) => match e.code() {
                "repository_not_allowed" => StatusCode::FORBIDDEN,
                "invalid_request" => StatusCode::BAD_REQUEST,
                "internal" => return ApiError::internal(e.message()),
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            CompareError::RepositoryUnreachable(_)
            | CompareError::RenderFailed { .. }
            | CompareError::RenderLimit { .. }
            | CompareError::InvalidManifest { .. }
            | CompareError::LimitExceeded(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CompareError::Timeout { .. } => StatusCode::REQUEST_TIMEOUT,
            CompareError::Cancelled | CompareError::RendererUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => return ApiError::internal(e.message()),
        };
        let mut err = ApiError::new(status, e.code(), e.message());
        err.details = details(&e).map(Box::new);
        err
    }
}

/// The structured part of a compare error a client can act on.
fn details(e: &CompareError) -> Option<serde_json::Map<String, serde_json::Value>> {
    use serde_json::json;
    let value = match e {
        CompareError::RevisionNotFound {
            revision,
            suggestions,
            ..
        } => json!({ "revision": revision, "suggestions": suggestions }),
        CompareError::ChartNotFound {
            path,
            revision,
            charts,
        } => json!({ "chartPath": path, "revision": revision, "charts": charts }),
        CompareError::HelmChartNotFound { chart, nearest, .. } => {
            json!({ "chart": chart, "charts": nearest })
        }
        CompareError::ChartVersionNotFound {
            chart,
            version,
            nearest,
            ..
        } => json!({ "chart": chart, "version": version, "suggestions": nearest }),
        CompareError::ValuesFileMissing { path, revision } => {
            json!({ "valuesFile": path, "revision": revision })
        }
        CompareError::RenderFailed {
            chart, revision, ..
        }
        | CompareError::RenderLimit {
            chart, revision, ..
        }
        | CompareError::InvalidManifest {
            chart, revision, ..
        } => {
            json!({ "chartPath": chart, "revision": revision })
        }
        _ => return None,
    };
    match value {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(after) = self.retry_after {
            let secs = after.as_secs().max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// JSON 404 for paths no route matches.
pub(crate) async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route for {method} {}; see /api/openapi.json",
        uri.path()
    ))
}

/// JSON 405 for known paths with the wrong method.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}", uri.path()),
    )
}

/// What a panicking handler answers (tower-http's catch-panic calls this).
pub(crate) fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format_args!("handler panicked: {what}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_errors_map_to_statuses_and_codes() {
        let cases = [
            (
                CompareError::InvalidRequest("x".into()),
                400,
                "invalid_request",
            ),
            (
                CompareError::RepositoryNotAllowed(chart_source::Error::RepositoryNotAllowed {
                    url: "https://evil.example/x".into(),
                    reason: "host not allowed".into(),
                }),
                403,
                "repository_not_allowed",
            ),
            (
                CompareError::RevisionNotFound {
                    repository: "r".into(),
                    revision: "v9".into(),
                    suggestions: vec![],
                },
                404,
                "revision_not_found",
            ),
            (
                CompareError::RenderFailed {
                    chart: "c".into(),
                    revision: "v".into(),
                    message: "m".into(),
                },
                422,
                "render_failed",
            ),
            (
                CompareError::RenderLimit {
                    chart: "c".into(),
                    revision: "v".into(),
                    source: Box::new(helm_render::RenderError::Limit {
                        limit: "max_steps",
                        value: 10,
                        template: None,
                        message: "more than 10 template steps".into(),
                    }),
                },
                422,
                "limits_exceeded",
            ),
            (CompareError::Timeout { seconds: 1 }, 408, "timeout"),
            (
                CompareError::internal_from("x", std::io::Error::other("secret detail")),
                500,
                "internal",
            ),
        ];
        for (e, status, code) in cases {
            let a = ApiError::from(e);
            assert_eq!((a.status.as_u16(), a.code), (status, code));
            assert!(!a.message.contains("secret detail"));
        }
    }

    #[test]
    fn fixable_errors_carry_what_to_offer() {
        let a = ApiError::from(CompareError::RevisionNotFound {
            repository: "r".into(),
            revision: "v9".into(),
            suggestions: vec!["v1".into(), "main".into()],
        });
        let body = a.body();
        assert_eq!(body["suggestions"], serde_json::json!(["v1", "main"]));
        assert_eq!(body["revision"], "v9");
        assert_eq!(body["success"], false);
        let a = ApiError::from(CompareError::ChartNotFound {
            path: "charts/nope".into(),
            revision: "main".into(),
            charts: vec!["charts/app".into()],
        });
        assert_eq!(a.body()["charts"], serde_json::json!(["charts/app"]));
        // Details never replace the envelope's own fields.
        let mut a = ApiError::bad_request("x");
        a.details = Some(Box::new(serde_json::Map::from_iter([(
            "code".into(),
            "evil".into(),
        )])));
        assert_eq!(a.body()["code"], "invalid_request");
    }
}
