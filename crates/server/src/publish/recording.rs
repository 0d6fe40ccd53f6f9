//! A publisher that records what it would publish (tests; dry runs).

use std::sync::Mutex;

use super::{PublishError, PublishFuture, PublishUpdate, Publisher};
use crate::job::JobPayload;

/// One update as [`RecordingPublisher`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `started`, `deferred`, `finished`, `stopped` or `failed`.
    pub kind: &'static str,
    /// The job's public id (as links and `/api/jobs/{id}` name it).
    pub job: String,
    /// The job's payload.
    pub payload: JobPayload,
    /// Verdict (finished), reason (stopped) or error code (failed).
    pub outcome: Option<String>,
    /// The PR comment that would be posted (finished).
    pub markdown: Option<String>,
    /// Stored result ids (finished).
    pub compare_ids: Vec<String>,
}

/// A publisher that records what it would publish (tests; dry runs).
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    records: Mutex<Vec<Recorded>>,
    /// When set, every publish fails with this message (to test retries).
    pub fail_with: Mutex<Option<String>>,
}

impl RecordingPublisher {
    /// Everything published so far.
    pub fn records(&self) -> Vec<Recorded> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Publisher for RecordingPublisher {
    fn publish<'a>(&'a self, update: &'a PublishUpdate) -> PublishFuture<'a> {
        Box::pin(async move {
            if let Some(m) = self.fail_with.lock().ok().and_then(|f| f.clone()) {
                return Err(PublishError(m));
            }
            let record = match update {
                PublishUpdate::Started { job } => Recorded {
                    kind: "started",
                    job: job.public_id.clone(),
                    payload: job.payload.clone(),
                    outcome: None,
                    markdown: None,
                    compare_ids: vec![],
                },
                PublishUpdate::Deferred { job } => Recorded {
                    kind: "deferred",
                    job: job.public_id.clone(),
                    payload: job.payload.clone(),
                    outcome: None,
                    markdown: None,
                    compare_ids: vec![],
                },
                PublishUpdate::Finished {
                    job,
                    report,
                    compare_ids,
                } => Recorded {
                    kind: "finished",
                    job: job.public_id.clone(),
                    payload: job.payload.clone(),
                    outcome: Some(report.verdict().as_str().to_owned()),
                    markdown: Some(report.markdown(None)),
                    compare_ids: compare_ids.clone(),
                },
                PublishUpdate::Stopped { job, reason } => Recorded {
                    kind: "stopped",
                    job: job.public_id.clone(),
                    payload: job.payload.clone(),
                    outcome: Some((*reason).to_owned()),
                    markdown: None,
                    compare_ids: vec![],
                },
                PublishUpdate::Failed { job, code, .. } => Recorded {
                    kind: "failed",
                    job: job.public_id.clone(),
                    payload: job.payload.clone(),
                    outcome: Some((*code).to_owned()),
                    markdown: None,
                    compare_ids: vec![],
                },
            };
            if let Ok(mut r) = self.records.lock() {
                r.push(record);
            }
            Ok(())
        })
    }
}
