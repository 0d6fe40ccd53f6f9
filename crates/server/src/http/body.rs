//! Request bodies: read with a cap, parsed as strict JSON with the offending field named.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Reads at most `limit` bytes of `body`; more is a 413 that says the limit.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    };
    // An oversized body is still read (and dropped), up to a bound: answering before the
    // client has finished sending makes many clients (urllib, some proxies) see a broken pipe
    // instead of the 413. Beyond the bound the connection is simply closed.
    let drain_limit = limit.saturating_mul(16).clamp(16 << 20, 64 << 20);
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > drain_limit as u64
    {
        return Err(too_large());
    }
    let mut body = body;
    let mut out = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(format!("the request body could not be read: {e}"))
        })?;
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen > drain_limit {
                return Err(too_large());
            }
            if seen <= limit {
                out.extend_from_slice(&data);
            }
        }
    }
    if seen > limit {
        return Err(too_large());
    }
    Ok(out)
}

/// Parses JSON; errors say where and what (`unknown field \`valuesFiel\``).
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the request body is empty: send a JSON object",
        ));
    }
    let invalid = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", message);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // The field that did not fit, by its JSON name (`renderer: unknown variant …`).
        invalid(match e.path().to_string().as_str() {
            "." => format!("invalid request body: {}", e.inner()),
            path => format!("invalid request body: {path}: {}", e.inner()),
        })
    })?;
    de.end()
        .map_err(|e| invalid(format!("invalid request body: {e}")))?;
    Ok(value)
}
