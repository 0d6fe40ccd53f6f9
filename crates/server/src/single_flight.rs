//! Identical concurrent work runs once: the first caller with a key runs it, later callers
//! with the same key wait for that run and share its result.
//!
//! The work is spawned as its own task, so a caller that goes away (a client disconnecting)
//! neither cancels it for the others nor leaves the key stuck.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// Shares in-flight results of type `T` by key.
pub struct SingleFlight<T> {
    flights: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T> Default for SingleFlight<T> {
    fn default() -> Self {
        SingleFlight {
            flights: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> SingleFlight<T> {
    /// Runs `work` unless a run for `key` is in flight, in which case waits for that one.
    /// Returns the result and whether it came from another caller's run.
    pub async fn run<F>(&self, key: &str, work: F) -> (T, bool)
    where
        F: Future<Output = T> + Send + 'static,
    {
        let (cell, leader) = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            match flights.get(key) {
                Some(cell) => (cell.clone(), false),
                None => {
                    let cell = Arc::new(OnceCell::new());
                    flights.insert(key.to_owned(), cell.clone());
                    (cell, true)
                }
            }
        };
        let mut ran = false;
        let value = cell
            .get_or_init(|| {
                ran = true;
                async move {
                    match tokio::spawn(work).await {
                        Ok(v) => v,
                        // The work panicked: re-raise here, where catch-panic makes it a 500.
                        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        Err(e) => panic!("single-flight work was cancelled: {e}"),
                    }
                }
            })
            .await
            .clone();
        {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            if flights.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                flights.remove(key);
            }
        }
        (value, !(leader || ran))
    }

    /// Keys in flight now.
    pub fn in_flight(&self) -> usize {
        self.flights.lock().map_or(0, |f| f.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn identical_concurrent_work_runs_once() {
        let flights = Arc::new(SingleFlight::<u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, gate) = tokio::sync::watch::channel(false);
        let mut joins = Vec::new();
        for _ in 0..8 {
            let (flights, runs, mut gate) = (flights.clone(), runs.clone(), gate.clone());
            joins.push(tokio::spawn(async move {
                flights
                    .run("k", async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        let _ = gate.wait_for(|open| *open).await;
                        42
                    })
                    .await
            }));
        }
        // Every caller has joined the flight before it is let finish.
        while flights.in_flight() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.send(true).unwrap();
        let mut shared = 0;
        for j in joins {
            let (v, coalesced) = j.await.unwrap();
            assert_eq!(v, 42);
            shared += usize::from(coalesced);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(shared, 7);
        assert_eq!(flights.in_flight(), 0, "the key is released");
    }

    #[tokio::test]
    async fn later_work_runs_again() {
        let flights = SingleFlight::<u32>::default();
        assert_eq!(flights.run("k", async { 1 }).await, (1, false));
        assert_eq!(flights.run("k", async { 2 }).await, (2, false));
    }
}
