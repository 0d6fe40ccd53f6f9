//! Stored results as the API and the workers both write them, and the time helpers their
//! records use.

use std::time::Duration;

use service::{CompareRequest, CompareResponse};

use crate::AppState;

/// Why a result could not be stored.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SaveError {
    /// The engine produced an id the store does not accept (our bug).
    #[error("the compare id is not one the store accepts")]
    Id(#[source] store::InvalidCompareId),
    /// The store refused or is unreachable.
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

pub(crate) fn ts(t: jiff::Timestamp) -> String {
    // Whole milliseconds, UTC, RFC 3339 — the same width for every value.
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub(crate) fn span(d: Duration) -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX)
}

/// `url` without the user-info part of `scheme://userinfo@host/…` (credentials a caller wrote
/// into a repository URL).
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority
        .rfind('@')
        .map_or(authority, |at| &authority[at + 1..]);
    format!("{scheme}://{host}{tail}")
}

/// The request as a stored result remembers it, so "re-run" can repeat it. Inline values are
/// left out (they may hold credentials and stored results are listed to anyone); their digest
/// stays, so a client that still has them can tell they match. Credentials in repository
/// URLs are removed.
pub(crate) fn request_echo(request: &CompareRequest) -> serde_json::Value {
    let mut echo = serde_json::to_value(CompareRequest {
        values_content: None,
        secret_handling: None,
        repository: without_userinfo(&request.repository),
        helm_repository: request.helm_repository.as_deref().map(without_userinfo),
        ..request.clone()
    })
    .unwrap_or_default();
    if let (serde_json::Value::Object(m), Some(v)) = (&mut echo, &request.values_content)
        && !v.trim().is_empty()
    {
        m.insert(
            "valuesContentSha256".into(),
            diff_core::sha256_hex(v.as_bytes()).into(),
        );
    }
    echo
}

/// The stored form of a result: the response (secrets redacted) with the request beside it.
pub(crate) fn stored_document(
    response: &CompareResponse,
    request: serde_json::Value,
) -> serde_json::Result<Vec<u8>> {
    // The response is a JSON object: splice the request in before its closing brace rather
    // than round-tripping megabytes through a `Value`.
    let mut doc = serde_json::to_vec(response)?;
    if doc.last() == Some(&b'}') {
        doc.pop();
        doc.extend_from_slice(b",\"request\":");
        serde_json::to_writer(&mut doc, &request)?;
        doc.push(b'}');
    }
    Ok(doc)
}

/// Stores `document` (the response as JSON, secrets redacted) under the response's id;
/// `true` when an identical result was stored already.
pub(crate) async fn save(
    state: &AppState,
    response: &CompareResponse,
    document: Vec<u8>,
) -> Result<bool, SaveError> {
    let compare_id: store::CompareId = response.compare_id.parse().map_err(SaveError::Id)?;
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
    let saved = state.inner.store.save_result(record).await?;
    Ok(saved.deduplicated)
}
