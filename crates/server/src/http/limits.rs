//! Admission: a global limit on expensive work with a bounded wait queue, and a per-client
//! rate limit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{ApiError, AppState, ServerConfig};

pub(crate) struct Limits {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_queued: usize,
    rate: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

/// A slot for expensive work; released on drop.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Limits {
    pub(crate) fn new(config: &ServerConfig) -> Self {
        let rate = config
            .rate_limit_per_minute
            .and_then(NonZeroU32::new)
            .map(|per_minute| {
                let burst = NonZeroU32::new(config.rate_limit_burst).unwrap_or(per_minute);
                RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
            });
        Limits {
            slots: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            waiting: AtomicUsize::new(0),
            max_queued: config.max_queued,
            rate,
        }
    }

    /// Waits for a slot, or refuses at once when the queue is full.
    pub(crate) async fn slot(&self) -> Result<Slot, ApiError> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(Slot { _permit: permit });
        }
        let guard = Counted::enter(&self.waiting);
        if guard.before >= self.max_queued {
            drop(guard);
            crate::metrics::rejected("saturated");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "saturated",
                "the server is busy with other comparisons; retry shortly",
            )
            .retry_after(Duration::from_secs(5)));
        }
        let permit = self.slots.clone().acquire_owned().await;
        drop(guard);
        permit
            .map(|p| Slot { _permit: p })
            .map_err(|_| ApiError::internal("the work queue is closed"))
    }

    /// Requests waiting for a slot now.
    pub(crate) fn queued(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Forgets clients that have not been seen for a while (memory stays bounded).
    pub(crate) fn forget_idle_clients(&self) {
        if let Some(rate) = &self.rate {
            rate.retain_recent();
            rate.shrink_to_fit();
        }
    }
}

/// Counts itself in `counter` for as long as it lives (requests waiting, deliveries in
/// progress).
pub(crate) struct Counted<'a> {
    counter: &'a AtomicUsize,
    /// The count before this one entered.
    pub(crate) before: usize,
}

impl<'a> Counted<'a> {
    pub(crate) fn enter(counter: &'a AtomicUsize) -> Self {
        let before = counter.fetch_add(1, Ordering::SeqCst);
        Counted { counter, before }
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Middleware: 429 with `Retry-After` when a client address is over its rate.
pub(crate) async fn rate_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(rate) = &state.inner.limits.rate {
        let ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        if let Err(not_until) = rate.check_key(&ip) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            crate::metrics::rejected("rate_limited");
            return ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests from {ip}; retry in {} s",
                    wait.as_secs().max(1)
                ),
            )
            .retry_after(wait)
            .into_response();
        }
    }
    next.run(req).await
}
