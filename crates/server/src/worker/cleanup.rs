//! The task that removes expired rows: results, old analytics events, delivery ids and
//! finished jobs.

use crate::AppState;
use crate::results::span;

/// Removes expired results (and analytics events older than the window) every
/// `cleanup_interval`; health checks never delete anything.
pub(crate) async fn cleanup_task(state: AppState) {
    let mut tick = tokio::time::interval(state.inner.config.cleanup_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        run_cleanup(&state).await;
    }
}

/// One cleanup pass; returns the rows removed.
pub(crate) async fn run_cleanup(state: &AppState) -> u64 {
    let now = state.now();
    let events_before = now
        .checked_sub(span(state.inner.config.analytics_window))
        .unwrap_or(jiff::Timestamp::MIN);
    state.inner.limits.forget_idle_clients();
    if let Some(w) = &state.inner.config.webhooks {
        let before = now
            .checked_sub(span(w.delivery_retention))
            .unwrap_or(jiff::Timestamp::MIN);
        if let Err(e) = state.inner.store.delete_deliveries_before(before).await {
            tracing::warn!(error = %e, "cleanup of old delivery ids failed; will retry");
        }
    }
    // Finished jobs are kept as long as the results they produced (the result TTL), so a
    // job's page outlives none of its permalinks; queued, deferred and running jobs stay.
    let jobs_before = now
        .checked_sub(span(state.inner.config.result_ttl))
        .unwrap_or(jiff::Timestamp::MIN);
    match state
        .inner
        .store
        .purge_jobs_finished_before(jobs_before)
        .await
    {
        Ok(n) if n > 0 => tracing::info!(purged = n, "finished jobs purged"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "purging finished jobs failed; will retry"),
    }
    match state.inner.store.delete_expired(now, events_before).await {
        Ok(n) => {
            if n > 0 {
                tracing::info!(removed = n, "expired results removed");
            }
            n
        }
        Err(e) => {
            tracing::warn!(error = %e, "cleanup of expired results failed; will retry");
            0
        }
    }
}

impl AppState {
    /// Removes expired results now (the background task does this every `cleanup_interval`).
    pub async fn cleanup_expired(&self) -> u64 {
        run_cleanup(self).await
    }
}
