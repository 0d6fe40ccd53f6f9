//! Group commit of webhook deliveries on SQLite.
//!
//! SQLite runs one write transaction at a time, and every statement is a round trip to the
//! connection's worker thread. Accepting deliveries one transaction each (seven round trips
//! apiece) made a burst of deliveries queue behind each other. Here one task accepts them: it
//! takes every delivery waiting, then, holding the store's writer lock, accepts them all in
//! one `BEGIN IMMEDIATE` transaction in arrival order. It reads what is known of the whole
//! group (which delivery ids are recorded, the active jobs of its keys, the queue counts) with
//! one statement each, and inserts the new jobs and the new deliveries with one statement
//! each, so a group costs about seven round trips whatever its size. Each caller is answered
//! after the commit, so a `202` still means the delivery and its job are durable.
//!
//! The group's decisions are those [`accept_in`] makes for one delivery at a time (dedup,
//! coalescing, supersession, deferral by the caller's limits), made on the group's state as
//! it changes: a later delivery of the group sees what the earlier ones did. When anything in
//! a group fails, the transaction is rolled back and its deliveries are accepted again one
//! transaction each, so a failing delivery gets its own error and the others are not lost.
//!
//! The task runs on its own (not in a caller's future), so a caller that goes away (a
//! connection closed mid-request) cannot abandon the other deliveries of its group.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{BEGIN_WRITE, SqliteEngine};
use crate::deliveries::accept_in;
use crate::jobs::{self, PreparedJob};
use crate::{
    AcceptOutcome, DeliveryId, EnqueueOutcome, JobStatus, NewDelivery, QueueLimits, StoreError,
    time,
};

/// The most deliveries one transaction accepts, so a group holds the writer briefly and its
/// statements stay far below SQLite's limits.
const MAX_GROUP: usize = 256;

/// What is being done, in errors.
const OP: &str = "accept delivery";

/// `$1` a JSON array of delivery ids: those recorded, with their linked job and its status.
const KNOWN_DELIVERIES: &str = "SELECT d.delivery_id, d.job_id, j.status \
     FROM webhook_deliveries d LEFT JOIN jobs j ON j.id = d.job_id \
     WHERE d.delivery_id IN (SELECT value FROM json_each($1))";

/// `$1` a JSON array of key identities: their active jobs, with the keys as written.
const ACTIVE_OF_KEYS: &str = "SELECT id, key_identity, revision, status, job_key FROM jobs \
     WHERE key_identity IN (SELECT value FROM json_each($1)) \
     AND status IN ('queued', 'deferred', 'running') ORDER BY id";

/// `$1` a JSON array of `[kind, key as written, repo, revision, payload (hex), status,
/// max_attempts, now, repo_id, key identity, repo identity]`: inserts jobs, in order (see
/// [`INSERT`](jobs::INSERT)).
const INSERT_JOBS: &str = "INSERT INTO jobs \
     (kind, job_key, repo, revision, payload, status, max_attempts, run_at, created_at, \
      repo_id, key_identity, repo_identity) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, unhex(value ->> 4), \
     value ->> 5, value ->> 6, value ->> 7, value ->> 7, value ->> 8, value ->> 9, value ->> 10 \
     FROM json_each($1) ORDER BY key RETURNING id, key_identity, revision";

/// `$1` a JSON array of `[id, event, action, repo, received_at, job_id]`: records new
/// deliveries, in order. No `ON CONFLICT`: the group checked they are new, holding the write
/// lock, so a conflict is an error (and the group is redone one delivery at a time).
const INSERT_DELIVERIES: &str = "INSERT INTO webhook_deliveries \
     (delivery_id, event, action, repo, received_at, job_id) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
     FROM json_each($1) ORDER BY key";

/// A delivery waiting to be accepted.
struct Pending {
    delivery: NewDelivery,
    job: Option<PreparedJob>,
    limits: QueueLimits,
    reply: oneshot::Sender<Result<AcceptOutcome, StoreError>>,
}

/// The handle of the task that accepts deliveries; the task ends when this is dropped.
pub(super) struct Intake {
    queue: mpsc::UnboundedSender<Pending>,
}

impl Intake {
    /// Starts the task, writing to `pool` while holding `writer` (the store's writer lock).
    pub(super) fn spawn(pool: SqlitePool, writer: Arc<Mutex<()>>) -> Intake {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, writer, waiting));
        Intake { queue }
    }

    /// Accepts a delivery with the group it joins, once that group is committed (or has
    /// failed).
    pub(super) async fn accept(
        &self,
        delivery: NewDelivery,
        job: Option<PreparedJob>,
        limits: QueueLimits,
    ) -> Result<AcceptOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        // Only a stopped task (its runtime shut down) drops a delivery without an answer.
        let stopped = || StoreError::Query {
            operation: OP,
            source: sqlx::Error::WorkerCrashed,
        };
        self.queue
            .send(Pending {
                delivery,
                job,
                limits,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(
    pool: SqlitePool,
    writer: Arc<Mutex<()>>,
    mut waiting: mpsc::UnboundedReceiver<Pending>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        let writing = writer.lock().await;
        // Deliveries that arrived while another writer held the lock join this group.
        while group.len() < MAX_GROUP {
            match waiting.try_recv() {
                Ok(pending) => group.push(pending),
                Err(_) => break,
            }
        }
        let outcomes = accept_group(&pool, &group).await;
        drop(writing);
        for (pending, outcome) in group.drain(..).zip(outcomes) {
            // A caller that went away is not answered; its delivery stays accepted (a
            // redelivery is then a duplicate).
            let _ = pending.reply.send(outcome);
        }
    }
}

/// Accepts `group` in one transaction, or else one transaction per delivery; one answer per
/// delivery, in order.
async fn accept_group(
    pool: &SqlitePool,
    group: &[Pending],
) -> Vec<Result<AcceptOutcome, StoreError>> {
    let error = match together(pool, group).await {
        Ok(outcomes) => return outcomes.into_iter().map(Ok).collect(),
        Err(e) => e,
    };
    if let [_] = group {
        return vec![Err(error)];
    }
    tracing::debug!(error = %error, deliveries = group.len(), "group of deliveries failed; accepting them one by one");
    let mut outcomes = Vec::with_capacity(group.len());
    for p in group {
        outcomes.push(alone(pool, p).await);
    }
    outcomes
}

/// One delivery in its own transaction.
async fn alone(pool: &SqlitePool, p: &Pending) -> Result<AcceptOutcome, StoreError> {
    let mut tx = pool
        .begin_with(BEGIN_WRITE)
        .await
        .map_err(StoreError::query(OP))?;
    let outcome = accept_in::<SqliteEngine>(&mut tx, &p.delivery, p.job.as_ref(), p.limits).await?;
    tx.commit().await.map_err(StoreError::query(OP))?;
    Ok(outcome)
}

/// A job the group knows: one in the database, or one it decided to insert (the `n`th, in
/// [`GroupState::new_jobs`]), whose id is known once the pending inserts are flushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobRef {
    Stored(i64),
    New(usize),
}

/// An active job of a key, as the group knows it.
struct Active {
    job: JobRef,
    revision: String,
    /// The key as written (with the repository name it runs under).
    written_key: String,
}

/// A job the group inserts.
struct NewJobRow<'a> {
    job: &'a PreparedJob,
    /// As inserted, then as changed by later deliveries of the group (superseded).
    status: JobStatus,
    /// Its id, once inserted.
    id: Option<i64>,
}

/// What the group knows of the database as it goes: read once, then kept up to date with
/// what the group itself decides (nothing else writes while it holds the write lock).
///
/// Decided job inserts are held back and inserted together ([`GroupState::flush`]), before
/// any other statement runs, so every statement sees what the deliveries before it did.
#[derive(Default)]
struct GroupState<'a> {
    /// Recorded deliveries and the job each is linked to.
    deliveries: HashMap<DeliveryId, Option<JobRef>>,
    /// The status of every stored job the group has read.
    statuses: HashMap<i64, String>,
    /// The active jobs of the group's keys (a key with none has an empty list).
    active: HashMap<String, Vec<Active>>,
    /// Queued jobs in all, once read.
    queued: Option<i64>,
    /// Queued and running jobs per repository (by identity), once read.
    repo_active: HashMap<String, i64>,
    /// The jobs the group inserts, in order.
    new_jobs: Vec<NewJobRow<'a>>,
    /// How many of `new_jobs` are inserted.
    flushed: usize,
    /// Superseded jobs and the job that superseded each, recorded last.
    superseded_by: Vec<(i64, JobRef)>,
}

/// What a delivery's enqueue decided.
struct Enqueued {
    job: JobRef,
    coalesced: bool,
    superseded: Vec<i64>,
    status: JobStatus,
}

/// A delivery's outcome, with job ids to resolve once every job is inserted.
struct Draft {
    first_seen: bool,
    earlier_job: Option<(JobRef, JobStatus)>,
    enqueued: Option<Enqueued>,
}

impl GroupState<'_> {
    fn status(&self, job: JobRef) -> Result<JobStatus, StoreError> {
        match job {
            JobRef::Stored(id) => {
                jobs::status(id, self.statuses.get(&id).map_or("", String::as_str))
            }
            JobRef::New(n) => Ok(self.new_jobs[n].status),
        }
    }

    fn id(&self, job: JobRef) -> Result<crate::JobId, StoreError> {
        let id = match job {
            JobRef::Stored(id) => Some(id),
            JobRef::New(n) => self.new_jobs[n].id,
        };
        // Every job is inserted before ids are asked for.
        jobs::job_id(id.unwrap_or(0))
    }

    /// Inserts the jobs decided since the last flush, in one statement.
    async fn flush(&mut self, tx: &mut SqliteConnection) -> Result<(), StoreError> {
        let pending = &mut self.new_jobs[self.flushed..];
        if pending.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = pending
            .iter()
            .map(|n| {
                let j = n.job;
                serde_json::json!([
                    j.kind,
                    j.written_key,
                    j.repo,
                    j.revision,
                    hex(&j.payload),
                    n.status.as_str(),
                    j.max_attempts,
                    j.now_ms,
                    j.repo_id,
                    j.key,
                    j.repo_identity,
                ])
            })
            .collect();
        let mut inserted: Vec<(i64, String, String)> = sqlx::query_as(INSERT_JOBS)
            .bind(serde_json::Value::Array(rows).to_string())
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(OP))?;
        // Ids grow in insertion order (AUTOINCREMENT, and this transaction is the only
        // writer); the keys and revisions returned check that.
        inserted.sort_unstable_by_key(|row| row.0);
        let matches = inserted.len() == pending.len()
            && inserted
                .iter()
                .zip(pending.iter())
                .all(|(row, n)| row.1 == n.job.key && row.2 == n.job.revision);
        if !matches {
            return Err(StoreError::Query {
                operation: OP,
                source: sqlx::Error::Protocol("inserted jobs came back out of order".to_owned()),
            });
        }
        for (n, row) in pending.iter_mut().zip(inserted) {
            n.id = Some(row.0);
        }
        self.flushed = self.new_jobs.len();
        Ok(())
    }
}

/// `bytes` as lowercase hex (for `unhex` in [`INSERT_JOBS`]).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Accepts `group` in one transaction, committed when every delivery went through and rolled
/// back otherwise.
async fn together(pool: &SqlitePool, group: &[Pending]) -> Result<Vec<AcceptOutcome>, StoreError> {
    let mut tx = pool
        .begin_with(BEGIN_WRITE)
        .await
        .map_err(StoreError::query(OP))?;
    match accept_all(&mut tx, group).await {
        Ok(outcomes) => {
            tx.commit().await.map_err(StoreError::query(OP))?;
            Ok(outcomes)
        }
        Err(e) => {
            // Rolled back before the writer lock is let go (and the group is redone).
            tx.rollback().await.map_err(StoreError::query(OP))?;
            Err(e)
        }
    }
}

/// The group's statements, inside the write transaction `tx`.
async fn accept_all(
    tx: &mut SqliteConnection,
    group: &[Pending],
) -> Result<Vec<AcceptOutcome>, StoreError> {
    let mut state = read_state(&mut *tx, group).await?;
    let mut drafts = Vec::with_capacity(group.len());
    let mut new_deliveries = Vec::new();
    let mut relinked = Vec::new();
    for p in group {
        let d = &p.delivery;
        let (first_seen, earlier_job) = match state.deliveries.get(&d.id) {
            None => (true, None),
            Some(None) => (false, None),
            Some(Some(job)) => (false, Some((*job, state.status(*job)?))),
        };
        if first_seen {
            state.deliveries.insert(d.id.clone(), None);
            new_deliveries.push(d);
        }
        let duplicate = !first_seen && !matches!(earlier_job, Some((_, JobStatus::Failed)));
        let mut draft = Draft {
            first_seen,
            earlier_job,
            enqueued: None,
        };
        if let Some(job) = p.job.as_ref().filter(|_| !duplicate) {
            let enqueued = enqueue(&mut *tx, &mut state, job, p.limits).await?;
            state.deliveries.insert(d.id.clone(), Some(enqueued.job));
            if !first_seen {
                // A repeat of a delivery whose job failed: relinked to the new job.
                relinked.push((d.id.as_str(), enqueued.job));
            }
            draft.enqueued = Some(enqueued);
        }
        drafts.push(draft);
    }
    state.flush(&mut *tx).await?;
    for (old, new) in &state.superseded_by {
        sqlx::query(jobs::SET_SUPERSEDED_BY)
            .bind(old)
            .bind(state.id(*new)?.get())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(OP))?;
    }
    for (delivery, job) in &relinked {
        sqlx::query(crate::deliveries::LINK)
            .bind(*delivery)
            .bind(state.id(*job)?.get())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(OP))?;
    }
    if !new_deliveries.is_empty() {
        let mut rows = Vec::with_capacity(new_deliveries.len());
        for d in &new_deliveries {
            let job = match state.deliveries.get(&d.id).copied().flatten() {
                Some(job) => Some(state.id(job)?.get()),
                None => None,
            };
            rows.push(serde_json::json!([
                d.id,
                d.event,
                d.action,
                d.repo,
                time::floor_ms(d.received_at),
                job,
            ]));
        }
        let inserted = sqlx::query(INSERT_DELIVERIES)
            .bind(serde_json::Value::Array(rows).to_string())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(OP))?
            .rows_affected();
        if inserted != new_deliveries.len() as u64 {
            return Err(StoreError::Query {
                operation: OP,
                source: sqlx::Error::Protocol(format!(
                    "{inserted} of {} new deliveries recorded",
                    new_deliveries.len()
                )),
            });
        }
    }
    drafts
        .into_iter()
        .map(|draft| {
            Ok(AcceptOutcome {
                first_seen: draft.first_seen,
                earlier_job: match draft.earlier_job {
                    Some((job, status)) => Some((state.id(job)?, status)),
                    None => None,
                },
                enqueued: match draft.enqueued {
                    Some(e) if e.coalesced => Some(EnqueueOutcome {
                        job_id: state.id(e.job)?,
                        coalesced: true,
                        superseded: Vec::new(),
                        status: e.status,
                    }),
                    Some(e) => Some(jobs::enqueued(
                        state.id(e.job)?.get(),
                        e.superseded,
                        e.status,
                    )?),
                    None => None,
                },
            })
        })
        .collect()
}

/// Reads what the group needs to know: its deliveries already recorded, and the active jobs
/// of its keys.
async fn read_state<'a>(
    tx: &mut SqliteConnection,
    group: &'a [Pending],
) -> Result<GroupState<'a>, StoreError> {
    let mut state = GroupState::default();
    let ids: Vec<&str> = group.iter().map(|p| p.delivery.id.as_str()).collect();
    let known: Vec<(DeliveryId, Option<i64>, Option<String>)> = sqlx::query_as(KNOWN_DELIVERIES)
        .bind(json_array(&ids))
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::query(OP))?;
    for (delivery, job, status) in known {
        // As `DeliveryRow::earlier_job`: a link without a job row is no earlier job.
        let linked = match (job, status) {
            (Some(job), Some(status)) => {
                state.statuses.insert(job, status);
                Some(JobRef::Stored(job))
            }
            _ => None,
        };
        state.deliveries.insert(delivery, linked);
    }
    let keys: Vec<&str> = group
        .iter()
        .filter_map(|p| p.job.as_ref().map(|j| j.key.as_str()))
        .collect();
    if !keys.is_empty() {
        for key in &keys {
            state.active.insert((*key).to_owned(), Vec::new());
        }
        let active: Vec<(i64, String, String, String, String)> = sqlx::query_as(ACTIVE_OF_KEYS)
            .bind(json_array(&keys))
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(OP))?;
        for (id, key, revision, status, written_key) in active {
            state.statuses.insert(id, status);
            state.active.entry(key).or_default().push(Active {
                job: JobRef::Stored(id),
                revision,
                written_key,
            });
        }
    }
    Ok(state)
}

fn json_array(items: &[&str]) -> String {
    serde_json::Value::from(items).to_string()
}

/// Enqueues `p` as [`enqueue_in`](crate::jobs::enqueue_in) decides, with the group's state instead
/// of reads where the group knows the answer; the insert itself is held back.
async fn enqueue<'a>(
    tx: &mut SqliteConnection,
    state: &mut GroupState<'a>,
    p: &'a PreparedJob,
    limits: QueueLimits,
) -> Result<Enqueued, StoreError> {
    let q = || StoreError::query(OP);
    let active = state.active.get(&p.key).map_or(&[][..], Vec::as_slice);
    if let Some(same) = active.iter().find(|a| a.revision == p.revision) {
        let (job, renamed) = (same.job, same.written_key != p.written_key);
        if renamed {
            // Rare (a repository renamed between two triggers of one revision): the job is
            // written first if it is the group's own.
            state.flush(&mut *tx).await?;
            let id = state.id(job)?.get();
            jobs::rename::<SqliteEngine>(&mut *tx, id, p, OP).await?;
            if let Some(same) = state
                .active
                .get_mut(&p.key)
                .and_then(|active| active.iter_mut().find(|a| a.job == job))
            {
                same.written_key = p.written_key.clone();
            }
        }
        return Ok(Enqueued {
            job,
            coalesced: true,
            superseded: Vec::new(),
            status: state.status(job)?,
        });
    }
    let superseding: Vec<JobRef> = active.iter().map(|a| a.job).collect();
    let superseded: Vec<i64> = if superseding.is_empty() {
        Vec::new()
    } else {
        state.flush(&mut *tx).await?;
        let superseded: Vec<i64> = sqlx::query_scalar(jobs::SUPERSEDE)
            .bind(p.key.as_str())
            .bind(p.now_ms)
            .fetch_all(&mut *tx)
            .await
            .map_err(q())?;
        for job in superseding {
            match job {
                JobRef::Stored(id) => {
                    state
                        .statuses
                        .insert(id, JobStatus::Superseded.as_str().to_owned());
                }
                JobRef::New(n) => state.new_jobs[n].status = JobStatus::Superseded,
            }
        }
        // Rare in a burst: the counts are read again rather than adjusted.
        state.queued = None;
        state.repo_active.clear();
        superseded
    };
    let (queued, repo_active) = match (state.queued, state.repo_active.get(&p.repo_identity)) {
        (Some(queued), Some(repo_active)) => (queued, *repo_active),
        _ => {
            state.flush(&mut *tx).await?;
            let (queued, repo_active): (i64, i64) = sqlx::query_as(jobs::ENQUEUE_COUNTS)
                .bind(p.repo_identity.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(q())?;
            (queued, repo_active)
        }
    };
    let status = jobs::enqueue_status(queued, repo_active, limits);
    let job = JobRef::New(state.new_jobs.len());
    state.new_jobs.push(NewJobRow {
        job: p,
        status,
        id: None,
    });
    let counted = i64::from(status == JobStatus::Queued);
    state.queued = Some(queued + counted);
    state
        .repo_active
        .insert(p.repo_identity.clone(), repo_active + counted);
    state
        .superseded_by
        .extend(superseded.iter().map(|old| (*old, job)));
    state.active.insert(
        p.key.clone(),
        vec![Active {
            job,
            revision: p.revision.clone(),
            written_key: p.written_key.clone(),
        }],
    );
    Ok(Enqueued {
        job,
        coalesced: false,
        superseded,
        status,
    })
}
