//! Admission: a global limit on expensive work with a bounded wait queue, and a per-client
//! rate limit.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::access::ClientAddr;
use crate::{ApiError, AppState, ServerConfig};

/// Failed webhook signatures a client may send per minute before its deliveries are refused
/// unread (GitHub's never fail; a wrong secret shows in the first few).
pub(crate) const MAX_SIGNATURE_FAILURES: u32 = 20;

pub(crate) struct Limits {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_queued: usize,
    max_concurrent: usize,
    rate: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Work that passed its deadline without stopping: its answer went out and its slot was
    /// freed, but a thread still runs it (see [`Limits::overran`]).
    overrunning: Arc<AtomicUsize>,
    /// Deliveries that failed their signature, per client and minute: a client that keeps
    /// failing is refused before its body is read.
    bad_signatures: std::sync::Mutex<std::collections::HashMap<IpAddr, (std::time::Instant, u32)>>,
    /// Webhook deliveries being read and handled at once.
    deliveries: Arc<Semaphore>,
    /// Deliveries over the small size, read at once (they hold up to the full body limit).
    large_deliveries: Arc<Semaphore>,
}

/// A slot for expensive work; released on drop.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// A slot of the webhook intake; released on drop.
pub(crate) struct DeliverySlot {
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
        let max_concurrent = config.max_concurrent.max(1);
        let intake = config.webhooks.as_ref();
        Limits {
            slots: Arc::new(Semaphore::new(max_concurrent)),
            waiting: AtomicUsize::new(0),
            max_queued: config.max_queued,
            max_concurrent,
            rate,
            overrunning: Arc::new(AtomicUsize::new(0)),
            bad_signatures: Default::default(),
            deliveries: Arc::new(Semaphore::new(
                intake.map_or(1, |w| w.max_concurrent_deliveries.max(1)),
            )),
            large_deliveries: Arc::new(Semaphore::new(
                intake.map_or(1, |w| w.max_large_deliveries.max(1)),
            )),
        }
    }

    /// Work that overran its deadline: the caller has been answered and `slot` may be freed,
    /// while `work` (the thread still running it) is watched until it ends. Only as many
    /// overrunning threads as there are slots are let go; beyond that a slot stays taken until
    /// its thread ends, so runaway work cannot multiply.
    pub(crate) fn overran<T: Send + 'static>(&self, slot: Slot, work: tokio::task::JoinHandle<T>) {
        let counter = self.overrunning.clone();
        let before = counter.fetch_add(1, Ordering::SeqCst);
        let keep = (before >= self.max_concurrent).then_some(slot);
        crate::metrics::overrunning(before + 1);
        tokio::spawn(async move {
            let _ = work.await;
            let left = counter.fetch_sub(1, Ordering::SeqCst) - 1;
            crate::metrics::overrunning(left);
            drop(keep);
            tracing::info!(
                still_overrunning = left,
                "work that overran its deadline has ended"
            );
        });
    }

    /// Work running past its deadline now.
    pub(crate) fn overrunning(&self) -> usize {
        self.overrunning.load(Ordering::SeqCst)
    }

    /// A slot of the webhook intake, waiting up to `wait`; `None` when the intake stays full.
    pub(crate) async fn delivery_slot(&self, large: bool, wait: Duration) -> Option<DeliverySlot> {
        let pool = if large {
            &self.large_deliveries
        } else {
            &self.deliveries
        };
        let permit = tokio::time::timeout(wait, pool.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        Some(DeliverySlot { _permit: permit })
    }

    /// Whether `client` failed [`MAX_SIGNATURE_FAILURES`] signatures within the last minute
    /// (checked before its next body is read).
    pub(crate) fn signature_failures_exceeded(&self, client: ClientAddr) -> bool {
        let failures = self
            .bad_signatures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        failures.get(&client.limit_key()).is_some_and(|(since, n)| {
            since.elapsed() < Duration::from_secs(60) && *n >= MAX_SIGNATURE_FAILURES
        })
    }

    /// Counts a failed signature of `client`.
    pub(crate) fn signature_failed(&self, client: ClientAddr) {
        let mut failures = self
            .bad_signatures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let entry = failures
            .entry(client.limit_key())
            .or_insert((std::time::Instant::now(), 0));
        if entry.0.elapsed() >= Duration::from_secs(60) {
            *entry = (std::time::Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
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
        self.bad_signatures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (since, _)| since.elapsed() < Duration::from_secs(60));
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
        let client = req
            .extensions()
            .get::<ClientAddr>()
            .copied()
            .unwrap_or(ClientAddr(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        let ip = client.0;
        if let Err(not_until) = rate.check_key(&client.limit_key()) {
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
