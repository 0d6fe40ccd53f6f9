//! `POST /api/compare/stream`: the compare of `POST /api/compare`, answered as server-sent
//! events so a person watching sees each stage as it starts.
//!
//! Events, in order: `stage` (`{stage, label, elapsedMs}`) once per stage, then exactly one of
//! `result` (the compare response, as `POST /api/compare` answers it) or `error` (the error
//! envelope plus `status`, the HTTP status the plain route would have answered). A request that
//! fails before the comparison starts (bad JSON, rate limit) gets a plain JSON error instead.
//! When the client goes away the comparison is cancelled.
//!
//! The body is a POST (the request can carry inline values), so browsers read it with `fetch`
//! and a stream reader rather than `EventSource`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::compare::{read_request, run_compare};
use crate::{ApiError, AppState};
use service::{Context, Stage};

/// How often a comment line keeps idle proxies from closing the stream.
const KEEPALIVE: Duration = Duration::from_secs(10);

enum Event {
    Stage(Stage, Duration),
    Stored(Duration),
    Done(super::compare::Outcome),
}

/// Sets the comparison's cancel flag when the response body is dropped (client gone) before
/// the last event was sent.
struct CancelOnDrop(Option<Arc<AtomicBool>>);

impl CancelOnDrop {
    /// The comparison finished: nothing left to cancel.
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

pub(crate) async fn compare_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let request = read_request(&state, &headers, body).await?;

    let started = Instant::now();
    let (tx, rx) = mpsc::unbounded_channel();
    let mut ctx = Context::default();
    let cancel = ctx.cancel.clone();
    let progress_tx = tx.clone();
    ctx.progress = Some(Arc::new(move |stage| {
        let _ = progress_tx.send(Event::Stage(stage, started.elapsed()));
    }));
    tokio::spawn(async move {
        let outcome = run_compare(state, request, ctx).await;
        if outcome.is_ok() {
            let _ = tx.send(Event::Stored(started.elapsed()));
        }
        let _ = tx.send(Event::Done(outcome));
    });

    let frames = futures_util::stream::unfold(
        (rx, Some(CancelOnDrop(Some(cancel)))),
        |(mut rx, guard)| async move {
            let guard = guard?;
            let frame = match tokio::time::timeout(KEEPALIVE, rx.recv()).await {
                Err(_) => Bytes::from_static(b": keepalive\n\n"),
                Ok(None) => return None,
                Ok(Some(Event::Stage(stage, at))) => frame(
                    "stage",
                    &serde_json::json!({
                        "stage": stage.id(),
                        "label": stage.as_str(),
                        "elapsedMs": at.as_millis() as u64,
                    }),
                ),
                Ok(Some(Event::Stored(at))) => frame(
                    "stage",
                    &serde_json::json!({
                        "stage": "store",
                        "label": "storing the result",
                        "elapsedMs": at.as_millis() as u64,
                    }),
                ),
                Ok(Some(Event::Done(Ok(stored)))) => {
                    let mut f = Vec::with_capacity(stored.body().len() + 32);
                    f.extend_from_slice(b"event: result\ndata: ");
                    // Compact JSON has no raw newlines, so one `data:` line holds it.
                    f.extend_from_slice(stored.body());
                    f.extend_from_slice(b"\n\n");
                    guard.disarm();
                    return Some((
                        Ok::<_, std::convert::Infallible>(Bytes::from(f)),
                        (rx, None),
                    ));
                }
                Ok(Some(Event::Done(Err(e)))) => {
                    let mut body = e.body();
                    body["status"] = e.status.as_u16().into();
                    guard.disarm();
                    return Some((Ok(frame("error", &body)), (rx, None)));
                }
            };
            Some((Ok(frame), (rx, Some(guard))))
        },
    );
    let mut response = (StatusCode::OK, Body::from_stream(frames)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Reverse proxies (nginx) would otherwise buffer the events until the end.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

fn frame(event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}
