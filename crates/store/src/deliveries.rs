//! Webhook deliveries (table `webhook_deliveries`): which `X-GitHub-Delivery` ids were seen,
//! and the job each one enqueued.
//!
//! GitHub redelivers an event with its original delivery id (automatically after a timeout,
//! or when someone presses "Redeliver"). The webhook handler records the id first:
//! [`DeliveryRecord::first_seen`] tells a new delivery from a repeat, and for a repeat
//! [`DeliveryRecord::job_status`] tells what became of the job it enqueued. A delivery recorded
//! but never linked (the server stopped between recording and enqueueing) is a repeat with no
//! job; enqueueing it again is harmless, as enqueues coalesce.
//!
//! [`Store::accept_delivery`](crate::Store::accept_delivery) does the whole intake of a
//! delivery (record, deduplicate, enqueue, link) in one transaction.

use jiff::Timestamp;

use crate::engine::{Engine, SqlStore};
use crate::jobs::{self, EnqueueOutcome, JobId, JobStatus, PreparedJob, QueueLimits};
use crate::sql::Conn;
use crate::{DeliveryId, RepoName, StoreError, time};

/// A webhook delivery to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// The `X-GitHub-Delivery` header.
    pub id: DeliveryId,
    /// The `X-GitHub-Event` header, e.g. `pull_request`.
    pub event: String,
    /// The payload's `action`, e.g. `synchronize`.
    pub action: Option<String>,
    /// The repository, e.g. `acme/charts`.
    pub repo: Option<RepoName>,
    /// When it arrived (the caller's clock).
    pub received_at: Timestamp,
}

/// What [`Store::record_delivery`](crate::Store::record_delivery) found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The delivery id was not recorded before (this call recorded it).
    pub first_seen: bool,
    /// The job the delivery enqueued, once linked.
    pub job_id: Option<JobId>,
    /// That job's status now.
    pub job_status: Option<JobStatus>,
}

/// What [`Store::accept_delivery`](crate::Store::accept_delivery) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptOutcome {
    /// The delivery id was not recorded before (this call recorded it).
    pub first_seen: bool,
    /// For a repeat: the job the delivery was linked to before this call, and its status then.
    pub earlier_job: Option<(JobId, JobStatus)>,
    /// The job was enqueued (or coalesced) and the delivery linked to it; `None` when no job
    /// was given or the delivery is a [duplicate](AcceptOutcome::is_duplicate).
    pub enqueued: Option<EnqueueOutcome>,
}

impl AcceptOutcome {
    /// A repeat of a delivery whose job did not fail (or that has no job): nothing new to do.
    /// A repeat of a delivery whose job failed is not a duplicate: it runs again.
    pub fn is_duplicate(&self) -> bool {
        is_duplicate(self.first_seen, self.earlier_job)
    }
}

fn is_duplicate(first_seen: bool, earlier_job: Option<(JobId, JobStatus)>) -> bool {
    !first_seen && !matches!(earlier_job, Some((_, JobStatus::Failed)))
}

// ---- SQL ------------------------------------------------------------------------------------

/// `$1` id, `$2` event, `$3` action, `$4` repo, `$5` received at.
const INSERT: &str = "INSERT INTO webhook_deliveries \
     (delivery_id, event, action, repo, received_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (delivery_id) DO NOTHING";

/// [`INSERT`] returning a row only when the delivery was inserted (bind with
/// `bind_delivery!`).
const INSERT_NEW: &str = "INSERT INTO webhook_deliveries \
     (delivery_id, event, action, repo, received_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (delivery_id) DO NOTHING RETURNING received_at";

/// `$1` id: the linked job and its status.
const GET: &str = "SELECT d.job_id, j.status FROM webhook_deliveries d \
     LEFT JOIN jobs j ON j.id = d.job_id WHERE d.delivery_id = $1";

/// `$1` job.
const JOB_EXISTS: &str = "SELECT COUNT(*) FROM jobs WHERE id = $1";

/// `$1` id, `$2` job.
pub(crate) const LINK: &str = "UPDATE webhook_deliveries SET job_id = $2 WHERE delivery_id = $1";

/// `$1` deliveries received before this are removed.
const DELETE_BEFORE: &str = "DELETE FROM webhook_deliveries WHERE received_at < $1";

/// Binds a [`NewDelivery`] to [`INSERT`] or [`INSERT_NEW`].
macro_rules! bind_delivery {
    ($query:expr, $d:expr) => {
        $query
            .bind(&$d.id)
            .bind($d.event.as_str())
            .bind($d.action.as_deref())
            .bind($d.repo.as_ref())
            .bind($crate::time::floor_ms($d.received_at))
    };
}

/// The answer to a link: `jobs` rows had the job's id, `linked` deliveries were updated.
fn link_outcome(
    delivery_id: &DeliveryId,
    job: JobId,
    jobs: i64,
    linked: u64,
) -> Result<(), StoreError> {
    if jobs == 0 {
        return Err(StoreError::NotFound {
            what: "job",
            id: job.to_string(),
        });
    }
    if linked == 0 {
        return Err(StoreError::NotFound {
            what: "webhook delivery",
            id: delivery_id.to_string(),
        });
    }
    Ok(())
}

/// The [`GET`] row of a delivery.
#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    job_id: Option<i64>,
    status: Option<String>,
}

impl DeliveryRow {
    /// The job a repeated delivery was linked to, and its status.
    pub(crate) fn earlier_job(self) -> Result<Option<(JobId, JobStatus)>, StoreError> {
        match (self.job_id, self.status) {
            (Some(id), Some(status)) => Ok(Some((jobs::job_id(id)?, jobs::status(id, &status)?))),
            _ => Ok(None),
        }
    }

    pub(crate) fn into_record(self, first_seen: bool) -> Result<DeliveryRecord, StoreError> {
        Ok(DeliveryRecord {
            first_seen,
            job_id: self.job_id.map(jobs::job_id).transpose()?,
            job_status: match (self.job_id, self.status) {
                (Some(id), Some(status)) => Some(jobs::status(id, &status)?),
                _ => None,
            },
        })
    }
}

// ---- operations -----------------------------------------------------------------------------

impl<E: Engine> SqlStore<E> {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = %E::BACKEND, delivery = %d.id))]
    pub(crate) async fn record(&self, d: NewDelivery) -> Result<DeliveryRecord, StoreError> {
        let op = "record delivery";
        let mut tx = self.begin_write(op).await?;
        let inserted = bind_delivery!(E::sql(INSERT), d)
            .execute(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        let row: DeliveryRow = E::sql(GET)
            .bind(&d.id)
            .fetch_one(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        row.into_record(inserted == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = %E::BACKEND, delivery = %delivery_id, job = %job))]
    pub(crate) async fn link(
        &self,
        delivery_id: &DeliveryId,
        job: JobId,
    ) -> Result<(), StoreError> {
        let op = "link delivery";
        let mut tx = self.begin_write(op).await?;
        let jobs: i64 = E::sql(JOB_EXISTS)
            .bind(job.get())
            .fetch_scalar(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        let linked = if jobs == 0 {
            0
        } else {
            E::sql(LINK)
                .bind(delivery_id)
                .bind(job.get())
                .execute(tx.conn())
                .await
                .map_err(StoreError::query(op))?
        };
        tx.commit().await.map_err(StoreError::query(op))?;
        link_outcome(delivery_id, job, jobs, linked)
    }

    #[tracing::instrument(skip_all, fields(backend = %E::BACKEND))]
    pub(crate) async fn delete_deliveries(&self, before: Timestamp) -> Result<u64, StoreError> {
        let deleted = self
            .write_one(
                "delete deliveries",
                E::sql(DELETE_BEFORE).bind(time::ceil_ms(before)),
            )
            .await?;
        tracing::info!(deleted, "old webhook deliveries deleted");
        Ok(deleted)
    }
}

/// The intake of one delivery inside the write transaction on `conn` (see
/// [`Store::accept_delivery`](crate::Store::accept_delivery)).
pub(crate) async fn accept_in<E: Engine>(
    conn: &mut Conn<E::Db>,
    d: &NewDelivery,
    p: Option<&PreparedJob>,
    limits: QueueLimits,
) -> Result<AcceptOutcome, StoreError> {
    let op = "accept delivery";
    // On PostgreSQL a concurrent accept of the same id waits here for the other to commit,
    // then sees its row (and job link) in the read below.
    let first_seen = bind_delivery!(E::sql(INSERT_NEW), d)
        .fetch_optional::<(i64,)>(&mut *conn)
        .await
        .map_err(StoreError::query(op))?
        .is_some();
    let earlier_job = if first_seen {
        None
    } else {
        let row: DeliveryRow = E::sql(GET)
            .bind(&d.id)
            .fetch_one(&mut *conn)
            .await
            .map_err(StoreError::query(op))?;
        row.earlier_job()?
    };
    let mut outcome = AcceptOutcome {
        first_seen,
        earlier_job,
        enqueued: None,
    };
    if let Some(p) = p.filter(|_| !outcome.is_duplicate()) {
        let enqueued = jobs::enqueue_in::<E>(&mut *conn, p, limits, op).await?;
        E::sql(LINK)
            .bind(&d.id)
            .bind(enqueued.job_id.get())
            .execute(&mut *conn)
            .await
            .map_err(StoreError::query(op))?;
        outcome.enqueued = Some(enqueued);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_repeats_of_unfailed_jobs_are_duplicates() {
        let job = |status| Some((JobId::new(1).unwrap(), status));
        assert!(!is_duplicate(true, None));
        assert!(is_duplicate(false, None));
        assert!(!is_duplicate(false, job(JobStatus::Failed)));
        for status in JobStatus::ALL
            .into_iter()
            .filter(|s| *s != JobStatus::Failed)
        {
            assert!(is_duplicate(false, job(status)), "{status}");
        }
        let row = DeliveryRow {
            job_id: Some(3),
            status: Some("failed".into()),
        };
        assert_eq!(
            row.earlier_job().unwrap(),
            Some((JobId::new(3).unwrap(), JobStatus::Failed))
        );
        let unlinked = DeliveryRow {
            job_id: None,
            status: None,
        };
        assert_eq!(unlinked.earlier_job().unwrap(), None);
    }

    #[test]
    fn row_decodes() {
        let row = DeliveryRow {
            job_id: Some(3),
            status: Some("deferred".into()),
        };
        assert_eq!(
            row.into_record(false).unwrap(),
            DeliveryRecord {
                first_seen: false,
                job_id: JobId::new(3),
                job_status: Some(JobStatus::Deferred),
            }
        );
        let unlinked = DeliveryRow {
            job_id: None,
            status: None,
        };
        assert_eq!(unlinked.into_record(true).unwrap().job_id, None);
        let bad = DeliveryRow {
            job_id: Some(3),
            status: Some("?".into()),
        };
        assert!(matches!(
            bad.into_record(true),
            Err(StoreError::CorruptJob { job_id: 3, .. })
        ));
    }
}
