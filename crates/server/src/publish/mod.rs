//! The seam through which job results leave the server: a [`Publisher`] is told when an
//! analysis starts, finishes, stops or fails. [`GithubPublisher`] keeps one sticky PR comment,
//! a commit status and (with App auth) a check run; [`LogPublisher`] only logs; the
//! `testing` feature adds [`RecordingPublisher`] for tests and dry runs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use service::pr::PrReport;

use crate::job::{JobRef, RerunRequest};

mod github;
mod log;
#[cfg(feature = "testing")]
mod recording;

pub use github::{CHECK_NAME, GithubPublisher, RERUN_REACTION, STATUS_CONTEXT};
pub use log::LogPublisher;
#[cfg(feature = "testing")]
pub use recording::{Recorded, RecordingPublisher};

/// What a publisher is told.
#[derive(Debug, Clone)]
pub enum PublishUpdate {
    /// The analysis started (a pending status).
    Started {
        /// The job.
        job: JobRef,
    },
    /// The queue is full: the job waits and will run when there is room (a pending status
    /// that says so).
    Deferred {
        /// The job.
        job: JobRef,
    },
    /// The analysis finished: every affected chart's result.
    Finished {
        /// The job.
        job: JobRef,
        /// The report (the PR comment is its markdown).
        report: Arc<PrReport>,
        /// Stored result ids, in report order.
        compare_ids: Vec<String>,
    },
    /// The job stopped without a result: a newer head superseded it (`superseded`) or the
    /// pull request was closed (`cancelled`). Nothing final is published; what the start put
    /// up (a check run in progress) is closed.
    Stopped {
        /// The job.
        job: JobRef,
        /// `superseded` or `cancelled`.
        reason: &'static str,
    },
    /// The analysis could not run (after the last attempt): what failed and what to do.
    Failed {
        /// The job.
        job: JobRef,
        /// Stable code.
        code: &'static str,
        /// Message for people.
        message: String,
    },
}

impl PublishUpdate {
    /// The job it is about.
    pub fn job(&self) -> &JobRef {
        match self {
            PublishUpdate::Started { job }
            | PublishUpdate::Deferred { job }
            | PublishUpdate::Finished { job, .. }
            | PublishUpdate::Stopped { job, .. }
            | PublishUpdate::Failed { job, .. } => job,
        }
    }
}

/// A failed publication; retried with the job.
#[derive(Debug, thiserror::Error)]
#[error("publishing failed: {0}")]
pub struct PublishError(pub String);

/// The future a publisher returns.
pub type PublishFuture<'a> = Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + 'a>>;

/// Where job results go.
pub trait Publisher: Send + Sync + 'static {
    /// Publishes one update.
    fn publish<'a>(&'a self, update: &'a PublishUpdate) -> PublishFuture<'a>;

    /// Tells whoever asked for a rerun that it was heard (on GitHub: a reaction on the
    /// comment). Publishers without a place to answer do nothing.
    fn acknowledge_rerun<'a>(&'a self, rerun: &'a RerunRequest) -> PublishFuture<'a> {
        let _ = rerun;
        Box::pin(async { Ok(()) })
    }

    /// The GitHub API rate limit as the last response reported it, for `/metrics` (operators
    /// alert on it running low); `None` for publishers that do not call GitHub.
    fn github_rate_limit(&self) -> Option<github_client::RateLimitSnapshot> {
        None
    }
}
