//! The publisher of a server without GitHub credentials: results are stored and logged.
//! Jobs are named by their public id, the one `/api/jobs/{id}` and delivery answers use.

use super::{PublishFuture, PublishUpdate, Publisher};

/// A publisher that only logs (the default until a GitHub publisher is configured).
#[derive(Debug, Default)]
pub struct LogPublisher;

impl Publisher for LogPublisher {
    fn publish<'a>(&'a self, update: &'a PublishUpdate) -> PublishFuture<'a> {
        Box::pin(async move {
            match update {
                PublishUpdate::Started { job } => {
                    tracing::info!(job = %job.public_id, repo = %job.payload.repo(), "analysis started")
                }
                PublishUpdate::Deferred { job } => {
                    tracing::info!(job = %job.id, repo = %job.payload.repo(), "queue full; the analysis will run when there is room")
                }
                PublishUpdate::Finished { job, report, .. } => tracing::info!(
                    job = %job.public_id,
                    repo = %job.payload.repo(),
                    charts = report.charts.len(),
                    verdict = report.verdict().as_str(),
                    "analysis finished"
                ),
                PublishUpdate::Stopped { job, reason } => {
                    tracing::info!(job = %job.public_id, repo = %job.payload.repo(), reason, "analysis stopped")
                }
                PublishUpdate::Failed { job, code, .. } => {
                    tracing::warn!(job = %job.public_id, repo = %job.payload.repo(), code, "analysis failed")
                }
            }
            Ok(())
        })
    }
}
