//! `GET /api/openapi.json`: the API described as OpenAPI 3.1, written by hand (the types
//! stay free of documentation macros) and held to the router by tests.

use axum::http::header;
use axum::response::IntoResponse;

/// The OpenAPI 3.1 document of [`crate::ROUTES`].
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

pub(crate) async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
