//! Stored results as the API and the workers both write them, and the time helpers their
//! records use.

use std::time::Duration;

use service::{CompareRequest, CompareResponse, without_userinfo};

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

/// `origin` of a stored result a webhook job produced: such results are readable only with
/// full access (see [`crate::access`]).
pub(crate) const ORIGIN_WEBHOOK: &str = "webhook";

/// The request as a stored result remembers it, so "re-run" can repeat it. Nothing that may
/// be a credential is kept (stored results are readable by their id): inline values and each
/// `--set` expression become their SHA-256 digests (a client that still has them can tell they
/// match), and a repository URL loses any `user:password@` part (the API refuses those
/// anyway).
pub(crate) fn request_echo(request: &CompareRequest) -> serde_json::Value {
    let mut echo = serde_json::to_value(CompareRequest {
        repository: without_userinfo(&request.repository),
        helm_repository: request.helm_repository.as_deref().map(without_userinfo),
        values_content: None,
        set: Vec::new(),
        secret_handling: None,
        ..request.clone()
    })
    .unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut echo {
        if let Some(v) = &request.values_content
            && !v.trim().is_empty()
        {
            m.insert(
                "valuesContentSha256".into(),
                diff_core::sha256_hex(v.as_bytes()).into(),
            );
        }
        if !request.set.is_empty() {
            m.insert(
                "setSha256".into(),
                request
                    .set
                    .iter()
                    .map(|s| diff_core::sha256_hex(s.as_bytes()))
                    .collect::<Vec<_>>()
                    .into(),
            );
        }
    }
    echo
}

/// The stored form of a result: the response (secrets redacted) with the request beside it
/// (`request`), or, for a webhook job's result, `"origin": "webhook"`.
pub(crate) fn stored_document(
    response: &CompareResponse,
    request: Option<serde_json::Value>,
) -> serde_json::Result<Vec<u8>> {
    // The response is a JSON object: splice the request in before its closing brace rather
    // than round-tripping megabytes through a `Value`.
    let mut doc = serde_json::to_vec(response)?;
    if doc.last() == Some(&b'}') {
        doc.pop();
        match request {
            Some(request) => {
                doc.extend_from_slice(b",\"request\":");
                serde_json::to_writer(&mut doc, &request)?;
            }
            None => {
                doc.extend_from_slice(b",\"origin\":");
                serde_json::to_writer(&mut doc, ORIGIN_WEBHOOK)?;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_echo_keeps_digests_of_values_and_sets_never_the_text() {
        let request = CompareRequest {
            repository: "https://user:tok@github.com/o/r".into(),
            chart_path: "c".into(),
            version1: "a".into(),
            version2: "b".into(),
            values_content: Some("password: hunter2".into()),
            set: vec!["db.password=hunter2".into()],
            ..CompareRequest::default()
        };
        let echo = request_echo(&request).to_string();
        assert!(
            !echo.contains("hunter2") && !echo.contains("tok@"),
            "{echo}"
        );
        assert!(
            echo.contains("setSha256") && echo.contains("valuesContentSha256"),
            "{echo}"
        );
        assert!(echo.contains("https://github.com/o/r"), "{echo}");
    }
}
