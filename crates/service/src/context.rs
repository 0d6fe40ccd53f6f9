//! What a call carries besides its request: a deadline that stops the work, a cancel flag
//! and a progress callback.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::CompareError;

/// A stage of a comparison, reported to a progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Resolving revisions (fetching into the mirror when needed).
    Resolve,
    /// Reading charts and values at both commits.
    Read,
    /// Rendering both sides.
    Render,
    /// Diffing and scoring.
    Diff,
}

impl Stage {
    /// A stable name for machines (`resolve`, `read`, `render`, `diff`).
    pub fn id(self) -> &'static str {
        match self {
            Stage::Resolve => "resolve",
            Stage::Read => "read",
            Stage::Render => "render",
            Stage::Diff => "diff",
        }
    }

    /// A word for progress displays.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Resolve => "resolving revisions",
            Stage::Read => "reading charts",
            Stage::Render => "rendering",
            Stage::Diff => "diffing",
        }
    }
}

/// Per-call context: a deadline, a cancellation flag, a progress callback and how git
/// authenticates.
#[derive(Clone, Default)]
pub struct Context {
    /// When to stop the work, and the timeout it came from (for the error message).
    deadline: Option<(Instant, Duration)>,
    /// Set to stop the work.
    pub cancel: Arc<AtomicBool>,
    /// Called when a stage starts.
    pub progress: Option<Arc<dyn Fn(Stage) + Send + Sync>>,
    /// How this call's git fetches authenticate (anonymous by default). Each identity has
    /// mirrors of its own: what one caller's credentials fetched is never served to another.
    pub git_auth: chart_source::GitAuth,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("deadline", &self.deadline)
            .field("cancel", &self.cancel)
            .field("git_auth", &self.git_auth)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context that stops the work after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        let mut ctx = Context::default();
        ctx.set_timeout(timeout);
        ctx
    }

    /// Stops the work `timeout` from now.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.deadline = Some((Instant::now() + timeout, timeout));
    }

    /// When the work will be stopped, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.map(|(at, _)| at)
    }

    pub(crate) fn stage(&self, s: Stage) -> Result<(), CompareError> {
        self.check()?;
        if let Some(p) = &self.progress {
            p(s);
        }
        Ok(())
    }

    pub(crate) fn check(&self) -> Result<(), CompareError> {
        if let Some(d) = self.deadline()
            && Instant::now() >= d
        {
            return Err(self.timeout_error());
        }
        if self.cancel.load(Ordering::Relaxed) {
            return Err(CompareError::Cancelled);
        }
        Ok(())
    }

    pub(crate) fn remaining(&self) -> Duration {
        self.deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(600))
    }

    pub(crate) fn timeout_error(&self) -> CompareError {
        CompareError::Timeout {
            seconds: self
                .deadline
                .map(|(_, after)| after.as_secs())
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_names_the_configured_limit_not_the_time_left() {
        let ctx = Context {
            deadline: Some((Instant::now(), Duration::from_secs(42))),
            ..Context::default()
        };
        match ctx.check() {
            Err(CompareError::Timeout { seconds }) => assert_eq!(seconds, 42),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
}
