//! The durable job queue (table `jobs`): the types of the public API, the SQL both backends
//! run, the row decoding and the decisions both backends share.
//!
//! The rules are in the [crate docs](crate#jobs).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;

use crate::engine::{Engine, SqlStore};
use crate::sql::{Conn, Statement};
use crate::{JobKey, RepoName, StoreError, time};

/// The id of a job: a positive integer assigned by the store, never reused.
///
/// ```
/// use store::JobId;
///
/// let id: JobId = "42".parse().unwrap();
/// assert_eq!(id.get(), 42);
/// assert_eq!(id.to_string(), "42");
/// assert!("0".parse::<JobId>().is_err());
/// assert!("-3".parse::<JobId>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(i64);

/// Why a string is not a [`JobId`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("job id must be a positive integer, got {0:?}")]
pub struct InvalidJobId(String);

impl JobId {
    /// The id `value`, when positive.
    pub fn new(value: i64) -> Option<JobId> {
        (value > 0).then_some(JobId(value))
    }

    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for JobId {
    type Err = InvalidJobId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Digits only: no sign, no spaces.
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidJobId(s.to_owned()));
        }
        s.parse::<i64>()
            .ok()
            .and_then(JobId::new)
            .ok_or_else(|| InvalidJobId(s.to_owned()))
    }
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Waiting to be claimed once `run_at` has come.
    Queued,
    /// Waiting because the queue or its repository was full when it was enqueued; claimed
    /// after the queued jobs leave room.
    Deferred,
    /// Claimed by a worker holding a lease.
    Running,
    /// Done; its compare ids are recorded.
    Succeeded,
    /// Gave up: a permanent error, attempts exhausted or the worker lost too often.
    Failed,
    /// Replaced by a job for a newer revision of the same key.
    Superseded,
    /// Cancelled (e.g. the pull request was closed).
    Cancelled,
}

/// Why a string is not a [`JobStatus`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown job status {0:?}")]
pub struct InvalidJobStatus(String);

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [JobStatus; 7] = [
        JobStatus::Queued,
        JobStatus::Deferred,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Superseded,
        JobStatus::Cancelled,
    ];

    /// The name as stored and shown: `queued`, `deferred`, `running`, `succeeded`, `failed`,
    /// `superseded`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Deferred => "deferred",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Superseded => "superseded",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Queued, deferred or running: the job may still run.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            JobStatus::Queued | JobStatus::Deferred | JobStatus::Running
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = InvalidJobStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| InvalidJobStatus(s.to_owned()))
    }
}

/// What a worker's [`heartbeat`](crate::Store::heartbeat_job) found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobLease {
    /// The job is still the worker's; the lease was renewed.
    Held,
    /// The job is not the worker's any more (another worker took it over after the lease
    /// expired, or it was failed meanwhile), or there is no such job: stop, publish nothing.
    Lost,
    /// A newer revision of the key superseded the job: stop, publish nothing. The lease is
    /// released, so the newer job can start.
    Superseded,
    /// The job was cancelled: stop, publish nothing. The lease is released.
    Cancelled,
}

/// A job to enqueue.
#[derive(Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What it is about, e.g. `acme/charts#pr/7`: one active job per key. Its repository is
    /// what the per-repository limit counts, and its [kind](JobKey::kind) is recorded as the
    /// job's.
    pub key: JobKey,
    /// The trigger: the head sha (or tag). The same key and revision is the same job.
    pub revision: String,
    /// Opaque to the store (JSON, by convention).
    pub payload: Vec<u8>,
    /// How many times the job may be claimed (at least one attempt is always made).
    pub max_attempts: u32,
    /// The caller's clock: the job's creation time, and when it is first due.
    pub now: Timestamp,
}

impl fmt::Debug for NewJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewJob")
            .field("key", &self.key)
            .field("revision", &self.revision)
            .field("payload_len", &self.payload.len())
            .field("max_attempts", &self.max_attempts)
            .field("now", &self.now)
            .finish()
    }
}

/// How full the queue may get before new jobs are deferred, and how many jobs of one
/// repository run at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QueueLimits {
    /// New jobs beyond this many queued jobs (over all repositories) are deferred, and
    /// deferred jobs are claimed only while fewer are queued.
    pub max_queued: u32,
    /// New jobs of a repository with this many jobs queued or running are deferred, and no
    /// job of a repository with this many running jobs is claimed.
    pub max_active_per_repo: u32,
}

impl QueueLimits {
    /// No limits: nothing is deferred.
    pub const UNLIMITED: QueueLimits = QueueLimits {
        max_queued: u32::MAX,
        max_active_per_repo: u32::MAX,
    };
}

/// What [`Store::enqueue_job`](crate::Store::enqueue_job) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnqueueOutcome {
    /// The new job, or the active job it was coalesced into.
    pub job_id: JobId,
    /// An active job of the same key and revision existed: nothing was inserted.
    pub coalesced: bool,
    /// The active jobs of the key with another revision, now superseded (ascending).
    pub superseded: Vec<JobId>,
    /// The new job's status, [`Queued`](JobStatus::Queued) or
    /// [`Deferred`](JobStatus::Deferred); when coalesced, the existing job's (which may be
    /// [`Running`](JobStatus::Running)).
    pub status: JobStatus,
}

/// A stored job. Instants have millisecond precision.
#[derive(Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// What triggered it: `pull_request`, `push` or `release`.
    pub kind: String,
    /// What it is about (one active job per key).
    pub key: JobKey,
    /// The repository.
    pub repo: RepoName,
    /// The trigger's revision.
    pub revision: String,
    /// As enqueued.
    pub payload: Vec<u8>,
    /// Where it is in its life.
    pub status: JobStatus,
    /// How many times it was claimed.
    pub attempts: u32,
    /// How many claims it may have.
    pub max_attempts: u32,
    /// When it is (or was last) due.
    pub run_at: Timestamp,
    /// When it was enqueued.
    pub created_at: Timestamp,
    /// When it was first claimed.
    pub started_at: Option<Timestamp>,
    /// When it succeeded, failed, was superseded or cancelled while not running, or its
    /// worker let go of it (or was told to stop) after it was superseded or cancelled; `None`
    /// for a superseded or cancelled job whose worker was lost before hearing of it.
    pub finished_at: Option<Timestamp>,
    /// The worker holding it, or that held it last.
    pub locked_by: Option<String>,
    /// Until when the worker holds it; `None` once released (completed, failed, retried, or
    /// the worker was told it was superseded or cancelled).
    pub lease_until: Option<Timestamp>,
    /// Why the last attempt failed, or why it was cancelled.
    pub last_error: Option<String>,
    /// The compare results it produced (set when it succeeded).
    pub compare_ids: Vec<String>,
    /// The job that superseded it.
    pub superseded_by: Option<JobId>,
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("key", &self.key)
            .field("repo", &self.repo)
            .field("revision", &self.revision)
            .field("payload_len", &self.payload.len())
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("max_attempts", &self.max_attempts)
            .field("run_at", &self.run_at)
            .field("created_at", &self.created_at)
            .field("started_at", &self.started_at)
            .field("finished_at", &self.finished_at)
            .field("locked_by", &self.locked_by)
            .field("lease_until", &self.lease_until)
            .field("last_error", &self.last_error)
            .field("compare_ids", &self.compare_ids)
            .field("superseded_by", &self.superseded_by)
            .finish()
    }
}

/// How many jobs are active, by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueStats {
    /// Queued jobs (due or waiting for a retry).
    pub queued: u64,
    /// Deferred jobs.
    pub deferred: u64,
    /// Running jobs, including ones whose lease expired and that are not taken over yet.
    pub running: u64,
}

/// Which jobs [`Store::list_jobs`](crate::Store::list_jobs) returns, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobQuery {
    /// Only jobs in this status.
    pub status: Option<JobStatus>,
    /// Only jobs of this repository.
    pub repo: Option<RepoName>,
    /// At most this many (the store caps it at [`JobQuery::MAX_LIMIT`]; 0 means the cap).
    pub limit: u32,
    /// Skip this many of the newest.
    pub offset: u32,
}

impl JobQuery {
    /// The most jobs one call returns.
    pub const MAX_LIMIT: u32 = 500;

    pub(crate) fn bounded_limit(&self) -> i64 {
        i64::from(match self.limit {
            0 => Self::MAX_LIMIT,
            n => n.min(Self::MAX_LIMIT),
        })
    }
}

// ---- SQL ------------------------------------------------------------------------------------

macro_rules! job_columns {
    () => {
        "id, kind, job_key, repo, revision, payload, status, attempts, max_attempts, run_at, \
         created_at, started_at, finished_at, locked_by, lease_until, last_error, compare_ids, \
         superseded_by, repo_id"
    };
}

macro_rules! active {
    () => {
        "('queued', 'deferred', 'running')"
    };
}

/// `$1` key identity: the key's active jobs (at most one), with the key as written.
pub(crate) const ACTIVE_OF_KEY: &str = concat!(
    "SELECT id, revision, status, job_key FROM jobs WHERE key_identity = $1 AND status IN ",
    active!(),
    " ORDER BY id"
);

/// `$1` key identity, `$2` now: supersedes the key's active jobs; running ones stay
/// unfinished until their worker lets go.
pub(crate) const SUPERSEDE: &str = concat!(
    "UPDATE jobs SET status = 'superseded', \
     finished_at = CASE WHEN status = 'running' THEN NULL ELSE $2 END \
     WHERE key_identity = $1 AND status IN ",
    active!(),
    " RETURNING id"
);

/// `$1` job, `$2` the job that superseded it.
pub(crate) const SET_SUPERSEDED_BY: &str = "UPDATE jobs SET superseded_by = $2 WHERE id = $1";

/// `$1` repository identity: jobs queued in all, and jobs queued or running in the
/// repository.
pub(crate) const ENQUEUE_COUNTS: &str = "SELECT \
     (SELECT COUNT(*) FROM jobs WHERE status = 'queued'), \
     (SELECT COUNT(*) FROM jobs WHERE repo_identity = $1 AND status IN ('queued', 'running'))";

/// `$1` job, `$2` repository name, `$3` key as written: an active job coalesced with a
/// trigger that came under a new name of its repository takes the new name (R14), which its
/// worker then calls GitHub with.
pub(crate) const RENAME: &str = "UPDATE jobs SET repo = $2, job_key = $3 WHERE id = $1";

/// Bind with `bind_insert!`.
pub(crate) const INSERT: &str = "INSERT INTO jobs \
     (kind, job_key, repo, revision, payload, status, max_attempts, run_at, created_at, \
      repo_id, key_identity, repo_identity) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11) RETURNING id";

/// Binds a [`PreparedJob`] and its status to [`INSERT`].
macro_rules! bind_insert {
    ($query:expr, $p:expr, $status:expr) => {
        $query
            .bind($p.kind)
            .bind($p.written_key.as_str())
            .bind(&$p.repo)
            .bind($p.revision.as_str())
            .bind($p.payload.as_slice())
            .bind($status.as_str())
            .bind($p.max_attempts)
            .bind($p.now_ms)
            .bind($p.repo_id)
            .bind($p.key.as_str())
            .bind($p.repo_identity.as_str())
    };
}

macro_rules! exhausted_expired {
    () => {
        "SELECT id FROM jobs WHERE status = 'running' AND lease_until < $1 \
         AND attempts >= max_attempts"
    };
}

macro_rules! fail_lost {
    ($select:expr) => {
        concat!(
            "UPDATE jobs SET status = 'failed', finished_at = $1, lease_until = NULL, \
             last_error = 'worker lost (lease of ' || COALESCE(locked_by, 'unknown worker') \
             || ' expired) after ' || attempts || ' attempts' \
             WHERE id IN (",
            $select,
            ") RETURNING id, attempts, locked_by"
        )
    };
}

/// `$1` now: fails the running jobs whose lease expired with no attempts left (SQLite).
pub(crate) const FAIL_LOST: &str = fail_lost!(exhausted_expired!());

/// [`FAIL_LOST`], skipping rows other transactions hold (PostgreSQL).
pub(crate) const FAIL_LOST_SKIP_LOCKED: &str =
    fail_lost!(concat!(exhausted_expired!(), " FOR UPDATE SKIP LOCKED"));

/// `$1` now, `$3` max running per repository: a candidate `c` whose key no other job holds,
/// in a repository with room.
macro_rules! claim_room {
    () => {
        "NOT EXISTS (SELECT 1 FROM jobs k \
              WHERE k.key_identity = c.key_identity AND k.id <> c.id AND k.lease_until >= $1) \
         AND (SELECT COUNT(*) FROM jobs r WHERE r.repo_identity = c.repo_identity AND r.id <> c.id \
              AND r.status = 'running' AND r.lease_until >= $1) < $3"
    };
}

/// `$1` now, `$2` max queued, `$3` max running per repository. The leading `status IN` lets
/// both planners read only the active rows from `jobs_claim`, however much history the table
/// holds.
macro_rules! claimable {
    () => {
        concat!(
            "SELECT c.id, c.repo_identity FROM jobs c \
             WHERE c.status IN ('queued', 'deferred', 'running') \
             AND ((c.status = 'queued' AND c.run_at <= $1) \
              OR (c.status = 'deferred' AND c.run_at <= $1 \
                  AND (SELECT COUNT(*) FROM jobs q WHERE q.status = 'queued') < $2) \
              OR (c.status = 'running' AND c.lease_until < $1 AND c.attempts < c.max_attempts)) \
             AND ",
            claim_room!()
        )
    };
}

/// The first claimable job of one status (`$cond` starts with `c.status = …`), read from
/// `jobs_claim` in `(run_at, id)` order and stopping at the first that qualifies.
macro_rules! first_claimable {
    ($cond:expr) => {
        concat!(
            "SELECT * FROM (SELECT c.id, c.repo_identity, c.run_at FROM jobs c WHERE ",
            $cond,
            " AND ",
            claim_room!(),
            " ORDER BY c.run_at, c.id LIMIT 1)"
        )
    };
}

/// The next job to claim (SQLite, inside `BEGIN IMMEDIATE`): the same rows as
/// [`claimable!`], as the first of the first claimable job of each status, so a claim reads
/// a few index entries instead of checking every active job (they are many while a burst of
/// webhooks queues up, and claims hold the write lock the webhook intake waits for).
pub(crate) const NEXT: &str = concat!(
    "SELECT id, repo_identity FROM (",
    first_claimable!("c.status = 'queued' AND c.run_at <= $1"),
    " UNION ALL ",
    first_claimable!(
        "c.status = 'deferred' AND c.run_at <= $1 \
         AND (SELECT COUNT(*) FROM jobs q WHERE q.status = 'queued') < $2"
    ),
    " UNION ALL ",
    first_claimable!("c.status = 'running' AND c.lease_until < $1 AND c.attempts < c.max_attempts"),
    ") ORDER BY run_at, id LIMIT 1"
);

/// The next job to claim on PostgreSQL, `$4` repositories to leave out; locks the row and
/// skips rows other claimers hold.
pub(crate) const NEXT_SKIP_LOCKED: &str = concat!(
    claimable!(),
    " AND c.repo_identity <> ALL($4) ORDER BY c.run_at, c.id LIMIT 1 FOR UPDATE OF c SKIP LOCKED"
);

/// `$1` repository identity, `$2` job, `$3` now: the repository's other running jobs with
/// live leases.
pub(crate) const RUNNING_IN_REPO: &str = "SELECT COUNT(*) FROM jobs \
     WHERE repo_identity = $1 AND status = 'running' AND id <> $2 AND lease_until >= $3";

/// `$1` job, `$2` worker, `$3` lease until, `$4` now.
pub(crate) const CLAIM: &str = concat!(
    "UPDATE jobs SET status = 'running', locked_by = $2, lease_until = $3, \
     started_at = COALESCE(started_at, $4), attempts = attempts + 1 \
     WHERE id = $1 RETURNING ",
    job_columns!()
);

/// `$1` job, `$2` worker, `$3` lease until: renews the worker's lease.
pub(crate) const RENEW: &str =
    "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND status = 'running' AND locked_by = $2";

/// `$1` job.
pub(crate) const LEASE_STATE: &str =
    "SELECT status, locked_by, attempts, max_attempts FROM jobs WHERE id = $1";

/// [`LEASE_STATE`], locking the row (PostgreSQL).
pub(crate) const LEASE_STATE_FOR_UPDATE: &str =
    "SELECT status, locked_by, attempts, max_attempts FROM jobs WHERE id = $1 FOR UPDATE";

/// `$1` job, `$2` worker, `$3` now, `$4` compare ids (JSON).
pub(crate) const COMPLETE: &str = "UPDATE jobs SET status = 'succeeded', finished_at = $3, \
     lease_until = NULL, compare_ids = $4 \
     WHERE id = $1 AND status = 'running' AND locked_by = $2";

/// `$1` job, `$2` worker, `$3` now: a superseded or cancelled job's worker lets go of it (or
/// was told to stop).
pub(crate) const RELEASE: &str = "UPDATE jobs SET lease_until = NULL, \
     finished_at = COALESCE(finished_at, $3) \
     WHERE id = $1 AND locked_by = $2 AND status IN ('superseded', 'cancelled') \
     AND lease_until IS NOT NULL";

/// `$1` job, `$2` run at, `$3` error.
pub(crate) const RETRY: &str = "UPDATE jobs SET status = 'queued', run_at = $2, \
     lease_until = NULL, last_error = $3 WHERE id = $1";

/// `$1` job, `$2` now, `$3` error.
pub(crate) const FAIL: &str = "UPDATE jobs SET status = 'failed', finished_at = $2, \
     lease_until = NULL, last_error = $3 WHERE id = $1";

/// `$1` key identity, `$2` reason, `$3` now: cancels the key's active jobs; running ones
/// stay unfinished until their worker lets go.
pub(crate) const CANCEL: &str = concat!(
    "UPDATE jobs SET status = 'cancelled', last_error = $2, \
     finished_at = CASE WHEN status = 'running' THEN NULL ELSE $3 END \
     WHERE key_identity = $1 AND status IN ",
    active!(),
    " RETURNING id"
);

/// `$1` cutoff: removes the finished jobs of before it. A superseded or cancelled job whose
/// worker never let go has no `finished_at`; it goes once its lease expired before the cutoff
/// (it no longer holds its key). Active jobs are never matched.
pub(crate) const PURGE_FINISHED: &str = "DELETE FROM jobs \
     WHERE status IN ('succeeded', 'failed', 'superseded', 'cancelled') \
     AND COALESCE(finished_at, lease_until, created_at) < $1";

/// `$1` job.
pub(crate) const GET: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");

/// `$1` status or NULL, `$2` repository or NULL, `$3` limit, `$4` offset: newest first.
pub(crate) const LIST: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR repo = $2) \
     ORDER BY id DESC LIMIT $3 OFFSET $4"
);

/// `$1` key identity.
pub(crate) const LATEST: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE key_identity = $1 ORDER BY id DESC LIMIT 1"
);

pub(crate) const STATS: &str = concat!(
    "SELECT status, COUNT(*) FROM jobs WHERE status IN ",
    active!(),
    " GROUP BY status"
);

/// PostgreSQL advisory lock classes (the first key of `pg_advisory_xact_lock(int, int)`; the
/// second is `hashtext` of the name). Two-key locks never collide with the migrator's
/// one-key lock.
pub(crate) mod lock {
    /// Changes to the jobs of one key (enqueue, cancel).
    pub(crate) const KEY: i32 = 0x6a6f_6273; // "jobs"
    /// Claims in one repository.
    pub(crate) const REPO: i32 = 0x7265_706f; // "repo"

    /// `$1` class, `$2` name.
    pub(crate) const TAKE: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";
}

// ---- values as stored ----------------------------------------------------------------------

/// A [`NewJob`] as bound.
pub(crate) struct PreparedJob {
    pub(crate) kind: &'static str,
    /// The key's [identity](JobKey::identity): what the queue compares (it is bound several
    /// times).
    pub(crate) key: String,
    /// The key as written (`owner/name#pr/7`), for people.
    pub(crate) written_key: String,
    pub(crate) repo: RepoName,
    pub(crate) repo_id: Option<i64>,
    /// [`JobKey::repo_identity`]: what per-repository limits count.
    pub(crate) repo_identity: String,
    pub(crate) revision: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) max_attempts: i64,
    pub(crate) now_ms: i64,
}

impl From<NewJob> for PreparedJob {
    fn from(j: NewJob) -> Self {
        PreparedJob {
            kind: j.key.kind(),
            key: j.key.identity(),
            written_key: j.key.to_string(),
            repo: j.key.repo().clone(),
            // Beyond i64 (never a GitHub id) the name stays the identity.
            repo_id: j.key.repo_id().and_then(|id| i64::try_from(id).ok()),
            repo_identity: j.key.repo_identity(),
            revision: j.revision,
            payload: j.payload,
            max_attempts: i64::from(j.max_attempts),
            now_ms: time::floor_ms(j.now),
        }
    }
}

/// `now` as compared with stored instants.
pub(crate) fn now_ms(now: Timestamp) -> i64 {
    time::floor_ms(now)
}

/// `retry_at` as stored: rounded up, so a retry is never due before its time.
pub(crate) fn retry_ms(retry_at: Timestamp) -> i64 {
    time::ceil_ms(retry_at)
}

/// The end of a lease taken at `now_ms`.
pub(crate) fn lease_until_ms(now_ms: i64, lease: Duration) -> i64 {
    time::add_ttl_ms(now_ms, lease)
}

/// Compare ids as stored: a JSON array of strings.
pub(crate) fn encode_compare_ids(ids: &[String]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

/// The status of a job row, or why it is corrupt.
pub(crate) fn status(id: i64, s: &str) -> Result<JobStatus, StoreError> {
    s.parse()
        .map_err(|e: InvalidJobStatus| StoreError::corrupt_job(id, e.to_string()))
}

/// A job id read from the database.
pub(crate) fn job_id(id: i64) -> Result<JobId, StoreError> {
    JobId::new(id).ok_or_else(|| StoreError::corrupt_job(id, "id out of range"))
}

pub(crate) fn ids(rows: Vec<i64>) -> Result<Vec<JobId>, StoreError> {
    let mut ids = rows
        .into_iter()
        .map(job_id)
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

/// Whether a new job is deferred, from [`ENQUEUE_COUNTS`].
pub(crate) fn enqueue_status(queued: i64, repo_active: i64, limits: QueueLimits) -> JobStatus {
    if queued >= i64::from(limits.max_queued)
        || repo_active >= i64::from(limits.max_active_per_repo)
    {
        JobStatus::Deferred
    } else {
        JobStatus::Queued
    }
}

/// A job's lease columns ([`LEASE_STATE`]).
#[derive(sqlx::FromRow)]
pub(crate) struct LeaseRow {
    status: String,
    locked_by: Option<String>,
    attempts: i64,
    max_attempts: i64,
}

/// What `fail_job` does to a job.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FailAction {
    /// Queue it again at the retry time.
    Retry,
    /// Fail it for good.
    Fail,
    /// Superseded or cancelled under the worker: let go of it, record nothing.
    Release(JobStatus),
    /// Not the worker's: leave it.
    Leave(JobStatus),
}

impl LeaseRow {
    fn status(&self, id: i64) -> Result<JobStatus, StoreError> {
        status(id, &self.status)
    }

    fn is_held_by(&self, worker: &str) -> bool {
        self.locked_by.as_deref() == Some(worker)
    }

    /// What a heartbeat of `worker` finds, the lease not being renewable.
    pub(crate) fn lease(&self, id: i64, worker: &str) -> Result<JobLease, StoreError> {
        let status = self.status(id)?;
        Ok(match status {
            JobStatus::Superseded if self.is_held_by(worker) => JobLease::Superseded,
            JobStatus::Cancelled if self.is_held_by(worker) => JobLease::Cancelled,
            _ => JobLease::Lost,
        })
    }

    pub(crate) fn fail_action(
        &self,
        id: i64,
        worker: &str,
        retry: bool,
    ) -> Result<FailAction, StoreError> {
        let status = self.status(id)?;
        Ok(match status {
            JobStatus::Running if self.is_held_by(worker) => {
                if retry && self.attempts < self.max_attempts {
                    FailAction::Retry
                } else {
                    FailAction::Fail
                }
            }
            JobStatus::Superseded | JobStatus::Cancelled if self.is_held_by(worker) => {
                FailAction::Release(status)
            }
            other => FailAction::Leave(other),
        })
    }
}

/// What [`FAIL_LOST`] returned: the jobs failed because their worker was lost once too often.
pub(crate) fn log_lost(lost: &[(i64, i64, Option<String>)]) {
    for (id, attempts, worker) in lost {
        tracing::warn!(
            job = id,
            attempts,
            worker = worker.as_deref().unwrap_or_default(),
            "job failed: its worker was lost with no attempts left"
        );
    }
}

pub(crate) fn log_claimed(job: Option<&Job>) {
    if let Some(job) = job {
        if job.attempts > 1 {
            tracing::info!(job = %job.id, key = %job.key, attempts = job.attempts, "job claimed again");
        } else {
            tracing::debug!(job = %job.id, key = %job.key, "job claimed");
        }
    }
}

/// The outcome of an enqueue that inserted job `id` (status `status`), superseding the jobs
/// `superseded`.
pub(crate) fn enqueued(
    id: i64,
    superseded: Vec<i64>,
    status: JobStatus,
) -> Result<EnqueueOutcome, StoreError> {
    let outcome = EnqueueOutcome {
        job_id: job_id(id)?,
        coalesced: false,
        superseded: ids(superseded)?,
        status,
    };
    tracing::debug!(job = %outcome.job_id, %status, superseded = ?outcome.superseded, "job enqueued");
    Ok(outcome)
}

/// A heartbeat's answer: renewed (`renewed` rows), or what the job's row says.
pub(crate) fn heartbeat_outcome(
    id: JobId,
    worker: &str,
    renewed: u64,
    state: Option<LeaseRow>,
) -> Result<JobLease, StoreError> {
    if renewed > 0 {
        return Ok(JobLease::Held);
    }
    let lease = match state {
        Some(state) => state.lease(id.get(), worker)?,
        None => JobLease::Lost,
    };
    tracing::info!(job = %id, worker, ?lease, "lease not renewed");
    Ok(lease)
}

/// A completion's answer: `done` rows completed, `released` rows let go of.
pub(crate) fn complete_outcome(id: JobId, worker: &str, done: u64, released: u64) -> bool {
    if done > 0 {
        // The worker logs the finished analysis; this is per job, so not at info.
        tracing::debug!(job = %id, worker, "job succeeded");
    } else if released > 0 {
        tracing::info!(job = %id, worker, "superseded or cancelled job let go");
    } else {
        tracing::warn!(job = %id, worker, "completion refused: the job is not this worker's");
    }
    done > 0
}

/// What `fail_job` does to the job whose lease state is `state` (`None`: no such job).
pub(crate) fn fail_action(
    id: JobId,
    worker: &str,
    state: Option<LeaseRow>,
    retry: bool,
) -> Result<FailAction, StoreError> {
    match state {
        Some(state) => state.fail_action(id.get(), worker, retry),
        None => Err(StoreError::NotFound {
            what: "job",
            id: id.to_string(),
        }),
    }
}

/// The status `fail_job` returns after `action`.
pub(crate) fn fail_outcome(action: &FailAction, error: &str) -> JobStatus {
    match *action {
        FailAction::Retry => {
            tracing::warn!(error, "job attempt failed, retry scheduled");
            JobStatus::Queued
        }
        FailAction::Fail => {
            tracing::warn!(error, "job failed");
            JobStatus::Failed
        }
        FailAction::Release(status) => {
            tracing::info!(%status, "superseded or cancelled job let go");
            status
        }
        FailAction::Leave(status) => {
            tracing::warn!(%status, "failure not recorded: the job is not this worker's");
            status
        }
    }
}

/// A whole `jobs` row.
#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: i64,
    kind: String,
    job_key: JobKey,
    repo: RepoName,
    revision: String,
    payload: Vec<u8>,
    status: String,
    attempts: i64,
    max_attempts: i64,
    run_at: i64,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    locked_by: Option<String>,
    lease_until: Option<i64>,
    last_error: Option<String>,
    compare_ids: String,
    superseded_by: Option<i64>,
    repo_id: Option<i64>,
}

impl JobRow {
    pub(crate) fn into_job(self) -> Result<Job, StoreError> {
        let id = self.id;
        let corrupt = |reason: String| StoreError::corrupt_job(id, reason);
        let count = |name: &str, v: i64| {
            u32::try_from(v).map_err(|_| corrupt(format!("{name} {v} out of range")))
        };
        let instant = |name: &str, v: i64| {
            time::from_ms(v).ok_or_else(|| corrupt(format!("{name} {v} out of range")))
        };
        let optional = |name: &str, v: Option<i64>| v.map(|v| instant(name, v)).transpose();
        Ok(Job {
            id: job_id(id)?,
            status: status(id, &self.status)?,
            attempts: count("attempts", self.attempts)?,
            max_attempts: count("max_attempts", self.max_attempts)?,
            run_at: instant("run_at", self.run_at)?,
            created_at: instant("created_at", self.created_at)?,
            started_at: optional("started_at", self.started_at)?,
            finished_at: optional("finished_at", self.finished_at)?,
            lease_until: optional("lease_until", self.lease_until)?,
            compare_ids: serde_json::from_str(&self.compare_ids)
                .map_err(|e| corrupt(format!("compare ids are not a JSON string array: {e}")))?,
            superseded_by: self
                .superseded_by
                .map(|v| {
                    JobId::new(v).ok_or_else(|| corrupt(format!("superseded_by {v} out of range")))
                })
                .transpose()?,
            key: match self.repo_id {
                Some(repo_id) => self.job_key.with_repo_id(
                    u64::try_from(repo_id)
                        .map_err(|_| corrupt(format!("repo_id {repo_id} out of range")))?,
                ),
                None => self.job_key,
            },
            kind: self.kind,
            repo: self.repo,
            revision: self.revision,
            payload: self.payload,
            locked_by: self.locked_by,
            last_error: self.last_error,
        })
    }
}

/// An active job of a key ([`ACTIVE_OF_KEY`]).
#[derive(sqlx::FromRow)]
pub(crate) struct ActiveRow {
    pub(crate) id: i64,
    pub(crate) revision: String,
    pub(crate) status: String,
    /// The key as written: the repository's name when the job was enqueued (or renamed).
    pub(crate) job_key: String,
}

/// The active job of the key with this revision, if any: the enqueue is coalesced into it.
pub(crate) fn coalesce_into(
    active: &[ActiveRow],
    revision: &str,
) -> Result<Option<EnqueueOutcome>, StoreError> {
    active
        .iter()
        .find(|row| row.revision == revision)
        .map(|row| {
            Ok(EnqueueOutcome {
                job_id: job_id(row.id)?,
                coalesced: true,
                superseded: Vec::new(),
                status: status(row.id, &row.status)?,
            })
        })
        .transpose()
}

/// [`STATS`] rows to counts.
pub(crate) fn stats(rows: Vec<(String, i64)>) -> Result<QueueStats, StoreError> {
    let mut stats = QueueStats::default();
    for (status, count) in rows {
        let count = u64::try_from(count).unwrap_or(0);
        match status.parse::<JobStatus>() {
            Ok(JobStatus::Queued) => stats.queued = count,
            Ok(JobStatus::Deferred) => stats.deferred = count,
            Ok(JobStatus::Running) => stats.running = count,
            _ => {
                return Err(StoreError::corrupt_job(
                    0,
                    format!("unexpected status {status:?} in the queue counts"),
                ));
            }
        }
    }
    Ok(stats)
}

// ---- operations -----------------------------------------------------------------------------

impl<E: Engine> SqlStore<E> {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = %E::BACKEND, key = %job.key, revision = %job.revision))]
    pub(crate) async fn enqueue(
        &self,
        job: NewJob,
        limits: QueueLimits,
    ) -> Result<EnqueueOutcome, StoreError> {
        let p = PreparedJob::from(job);
        let op = "enqueue job";
        let mut tx = self.begin_write(op).await?;
        let outcome = enqueue_in::<E>(tx.conn(), &p, limits, op).await?;
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(outcome)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = %E::BACKEND, job = %id, worker = %worker))]
    pub(crate) async fn heartbeat(
        &self,
        id: JobId,
        worker: &str,
        lease: Duration,
        now: Timestamp,
    ) -> Result<JobLease, StoreError> {
        let op = "heartbeat job";
        let now_ms = now_ms(now);
        let mut tx = self.begin_write(op).await?;
        let renewed = E::sql(RENEW)
            .bind(id.get())
            .bind(worker)
            .bind(lease_until_ms(now_ms, lease))
            .execute(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        let state: Option<LeaseRow> = if renewed == 0 {
            E::sql(LEASE_STATE)
                .bind(id.get())
                .fetch_optional(tx.conn())
                .await
                .map_err(StoreError::query(op))?
        } else {
            None
        };
        let lease = heartbeat_outcome(id, worker, renewed, state)?;
        if matches!(lease, JobLease::Superseded | JobLease::Cancelled) {
            // The worker has been told: the key's next job may start.
            release::<E>(tx.conn(), id, worker, now_ms, op).await?;
        }
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(lease)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = %E::BACKEND, job = %id, worker = %worker))]
    pub(crate) async fn complete(
        &self,
        id: JobId,
        worker: &str,
        compare_ids: Vec<String>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let op = "complete job";
        let now_ms = now_ms(now);
        let mut tx = self.begin_write(op).await?;
        let done = E::sql(COMPLETE)
            .bind(id.get())
            .bind(worker)
            .bind(now_ms)
            .bind(encode_compare_ids(&compare_ids))
            .execute(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        let released = if done == 0 {
            release::<E>(tx.conn(), id, worker, now_ms, op).await?
        } else {
            0
        };
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(complete_outcome(id, worker, done, released))
    }

    #[tracing::instrument(skip_all, fields(backend = %E::BACKEND, job = %id, worker = %worker))]
    pub(crate) async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: String,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<JobStatus, StoreError> {
        let op = "fail job";
        let now_ms = now_ms(now);
        let mut tx = self.begin_write(op).await?;
        let state: Option<LeaseRow> = E::sql(E::LEASE_STATE_TO_FAIL)
            .bind(id.get())
            .fetch_optional(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        let action = fail_action(id, worker, state, retry_at.is_some())?;
        let statement = match &action {
            FailAction::Retry => Some(
                E::sql(RETRY)
                    .bind(id.get())
                    .bind(retry_at.map(retry_ms))
                    .bind(error.as_str()),
            ),
            FailAction::Fail => Some(
                E::sql(FAIL)
                    .bind(id.get())
                    .bind(now_ms)
                    .bind(error.as_str()),
            ),
            FailAction::Release(_) => {
                release::<E>(tx.conn(), id, worker, now_ms, op).await?;
                None
            }
            FailAction::Leave(_) => None,
        };
        if let Some(statement) = statement {
            statement
                .execute(tx.conn())
                .await
                .map_err(StoreError::query(op))?;
        }
        tx.commit().await.map_err(StoreError::query(op))?;
        Ok(fail_outcome(&action, &error))
    }

    #[tracing::instrument(skip_all, fields(backend = %E::BACKEND, key = %key))]
    pub(crate) async fn cancel(
        &self,
        key: &JobKey,
        reason: String,
        now: Timestamp,
    ) -> Result<Vec<JobId>, StoreError> {
        let op = "cancel jobs";
        let mut tx = self.begin_write(op).await?;
        let identity = key.identity();
        E::lock_key(tx.conn(), &identity)
            .await
            .map_err(StoreError::query(op))?;
        let cancelled: Vec<i64> = E::sql(CANCEL)
            .bind(identity.as_str())
            .bind(reason.as_str())
            .bind(now_ms(now))
            .fetch_scalars(tx.conn())
            .await
            .map_err(StoreError::query(op))?;
        tx.commit().await.map_err(StoreError::query(op))?;
        let cancelled = ids(cancelled)?;
        tracing::info!(?cancelled, %reason, "jobs cancelled");
        Ok(cancelled)
    }

    pub(crate) async fn job_by_id(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        self.job(E::sql(GET).bind(id.get())).await
    }

    pub(crate) async fn latest(&self, key: &JobKey) -> Result<Option<Job>, StoreError> {
        self.job(E::sql(LATEST).bind(key.identity())).await
    }

    pub(crate) async fn list_jobs(&self, query: JobQuery) -> Result<Vec<Job>, StoreError> {
        let op = "list jobs";
        let mut conn = self.conn(op).await?;
        let rows: Vec<JobRow> = E::sql(LIST)
            .bind(query.status.map(JobStatus::as_str))
            .bind(query.repo.as_ref())
            .bind(query.bounded_limit())
            .bind(i64::from(query.offset))
            .fetch_all(&mut conn)
            .await
            .map_err(StoreError::query(op))?;
        rows.into_iter().map(JobRow::into_job).collect()
    }

    async fn job(&self, statement: Statement<E::Db>) -> Result<Option<Job>, StoreError> {
        let op = "get job";
        let mut conn = self.conn(op).await?;
        let row: Option<JobRow> = statement
            .fetch_optional(&mut conn)
            .await
            .map_err(StoreError::query(op))?;
        row.map(JobRow::into_job).transpose()
    }

    pub(crate) async fn stats(&self) -> Result<QueueStats, StoreError> {
        let op = "queue stats";
        let mut conn = self.conn(op).await?;
        let rows: Vec<(String, i64)> = E::sql(STATS)
            .fetch_all(&mut conn)
            .await
            .map_err(StoreError::query(op))?;
        stats(rows)
    }

    #[tracing::instrument(skip_all, fields(backend = %E::BACKEND))]
    pub(crate) async fn purge_jobs(&self, before: Timestamp) -> Result<u64, StoreError> {
        let purged = self
            .write_one(
                "purge finished jobs",
                E::sql(PURGE_FINISHED).bind(time::ceil_ms(before)),
            )
            .await?;
        tracing::info!(purged, "finished jobs purged");
        Ok(purged)
    }
}

/// A superseded or cancelled job's worker lets go of it (or was told to stop), inside the
/// transaction on `conn`; how many rows changed.
async fn release<E: Engine>(
    conn: &mut Conn<E::Db>,
    id: JobId,
    worker: &str,
    now_ms: i64,
    op: &'static str,
) -> Result<u64, StoreError> {
    E::sql(RELEASE)
        .bind(id.get())
        .bind(worker)
        .bind(now_ms)
        .execute(conn)
        .await
        .map_err(StoreError::query(op))
}

/// Gives active job `id` the repository name of `p`, a trigger coalesced into it that came
/// after the repository was renamed (R14).
pub(crate) async fn rename<E: Engine>(
    conn: &mut Conn<E::Db>,
    id: i64,
    p: &PreparedJob,
    op: &'static str,
) -> Result<(), StoreError> {
    E::sql(RENAME)
        .bind(id)
        .bind(&p.repo)
        .bind(p.written_key.as_str())
        .execute(conn)
        .await
        .map_err(StoreError::query(op))?;
    tracing::info!(job = id, repo = %p.repo, "job's repository renamed");
    Ok(())
}

/// Enqueues `p` inside the write transaction on `conn` (see
/// [`Store::enqueue_job`](crate::Store::enqueue_job)), serialized with the key's other
/// enqueues and cancels.
pub(crate) async fn enqueue_in<E: Engine>(
    conn: &mut Conn<E::Db>,
    p: &PreparedJob,
    limits: QueueLimits,
    op: &'static str,
) -> Result<EnqueueOutcome, StoreError> {
    E::lock_key(&mut *conn, &p.key)
        .await
        .map_err(StoreError::query(op))?;
    let active: Vec<ActiveRow> = E::sql(ACTIVE_OF_KEY)
        .bind(p.key.as_str())
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::query(op))?;
    if let Some(outcome) = coalesce_into(&active, &p.revision)? {
        if active
            .iter()
            .any(|row| row.id == outcome.job_id.get() && row.job_key != p.written_key)
        {
            rename::<E>(&mut *conn, outcome.job_id.get(), p, op).await?;
        }
        tracing::debug!(job = %outcome.job_id, status = %outcome.status, "enqueue coalesced");
        return Ok(outcome);
    }
    // Only enqueues, which hold the key, make a job of the key active: none became active
    // since the select.
    let superseded: Vec<i64> = if active.is_empty() {
        Vec::new()
    } else {
        E::sql(SUPERSEDE)
            .bind(p.key.as_str())
            .bind(p.now_ms)
            .fetch_scalars(&mut *conn)
            .await
            .map_err(StoreError::query(op))?
    };
    let (queued, repo_active): (i64, i64) = E::sql(ENQUEUE_COUNTS)
        .bind(p.repo_identity.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::query(op))?;
    let status = enqueue_status(queued, repo_active, limits);
    let id: i64 = bind_insert!(E::sql(INSERT), p, status)
        .fetch_scalar(&mut *conn)
        .await
        .map_err(StoreError::query(op))?;
    for old in &superseded {
        E::sql(SET_SUPERSEDED_BY)
            .bind(old)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::query(op))?;
    }
    enqueued(id, superseded, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> JobRow {
        JobRow {
            id: 7,
            kind: "pull_request".into(),
            job_key: "acme/charts#pr/7".parse().unwrap(),
            repo: "acme/charts".parse().unwrap(),
            revision: "abc".into(),
            payload: b"{}".to_vec(),
            status: "running".into(),
            attempts: 1,
            max_attempts: 3,
            run_at: 1_000,
            created_at: 1_000,
            started_at: Some(2_000),
            finished_at: None,
            locked_by: Some("w1".into()),
            lease_until: Some(62_000),
            last_error: None,
            compare_ids: r#"["a","b"]"#.into(),
            superseded_by: None,
            repo_id: Some(42),
        }
    }

    #[test]
    fn job_ids_are_positive_integers() {
        for ok in ["1", "42", "9223372036854775807"] {
            let id: JobId = ok.parse().unwrap();
            assert_eq!(id.to_string(), ok);
        }
        for bad in ["", "0", "-1", "+1", " 1", "1.0", "x", "9223372036854775808"] {
            let err = bad.parse::<JobId>().unwrap_err();
            assert!(err.to_string().starts_with("job id must be"), "{err}");
        }
        assert_eq!(JobId::new(0), None);
        assert_eq!(JobId::new(5).map(JobId::get), Some(5));
    }

    #[test]
    fn statuses_round_trip() {
        for status in JobStatus::ALL {
            assert_eq!(status.as_str().parse::<JobStatus>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        let active: Vec<_> = JobStatus::ALL
            .into_iter()
            .filter(|s| s.is_active())
            .collect();
        assert_eq!(
            active,
            [JobStatus::Queued, JobStatus::Deferred, JobStatus::Running]
        );
        assert!("Queued".parse::<JobStatus>().is_err());
    }

    #[test]
    fn row_decodes() {
        let job = row().into_job().unwrap();
        assert_eq!(job.id.get(), 7);
        assert_eq!(job.key.to_string(), "acme/charts#pr/7");
        assert_eq!(job.key.identity(), "42#pr/7");
        assert_eq!(job.status, JobStatus::Running);
        assert_eq!(job.compare_ids, ["a", "b"]);
        assert_eq!(
            job.lease_until,
            Some(Timestamp::from_millisecond(62_000).unwrap())
        );
        assert!(!format!("{job:?}").contains("payload:"));
    }

    #[test]
    fn bad_rows_are_corrupt() {
        type Mutation = fn(&mut JobRow);
        let cases: [(Mutation, &str); 6] = [
            (
                |r| r.status = "paused".into(),
                "unknown job status \"paused\"",
            ),
            (|r| r.attempts = -1, "attempts -1 out of range"),
            (|r| r.lease_until = Some(i64::MAX), "lease_until"),
            (|r| r.compare_ids = "{".into(), "compare ids are not"),
            (
                |r| r.superseded_by = Some(0),
                "superseded_by 0 out of range",
            ),
            (|r| r.repo_id = Some(-1), "repo_id -1 out of range"),
        ];
        for (mutate, want) in cases {
            let mut r = row();
            mutate(&mut r);
            let err = r.into_job().unwrap_err();
            assert!(
                matches!(err, StoreError::CorruptJob { job_id: 7, .. }),
                "{err:?}"
            );
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    #[test]
    fn limits_defer() {
        let limits = QueueLimits {
            max_queued: 2,
            max_active_per_repo: 1,
        };
        assert_eq!(enqueue_status(1, 0, limits), JobStatus::Queued);
        assert_eq!(enqueue_status(2, 0, limits), JobStatus::Deferred);
        assert_eq!(enqueue_status(0, 1, limits), JobStatus::Deferred);
        assert_eq!(
            enqueue_status(1_000_000, 1_000_000, QueueLimits::UNLIMITED),
            JobStatus::Queued
        );
    }

    #[test]
    fn fail_actions() {
        let lease = |status: &str, by: &str, attempts| LeaseRow {
            status: status.into(),
            locked_by: Some(by.into()),
            attempts,
            max_attempts: 2,
        };
        let act = |r: LeaseRow, retry| r.fail_action(1, "w1", retry).unwrap();
        assert_eq!(act(lease("running", "w1", 1), true), FailAction::Retry);
        assert_eq!(act(lease("running", "w1", 1), false), FailAction::Fail);
        assert_eq!(act(lease("running", "w1", 2), true), FailAction::Fail);
        assert_eq!(
            act(lease("running", "w2", 1), true),
            FailAction::Leave(JobStatus::Running)
        );
        assert_eq!(
            act(lease("superseded", "w1", 1), true),
            FailAction::Release(JobStatus::Superseded)
        );
        assert_eq!(
            act(lease("cancelled", "w2", 1), true),
            FailAction::Leave(JobStatus::Cancelled)
        );
        assert_eq!(
            lease("superseded", "w2", 1).lease(1, "w1").unwrap(),
            JobLease::Lost
        );
        assert_eq!(
            lease("cancelled", "w1", 1).lease(1, "w1").unwrap(),
            JobLease::Cancelled
        );
    }

    #[test]
    fn compare_ids_are_json() {
        let ids = vec!["a\"b".to_owned(), "ü\n".to_owned()];
        let stored = encode_compare_ids(&ids);
        let back: Vec<String> = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, ids);
        assert_eq!(encode_compare_ids(&[]), "[]");
    }

    #[test]
    fn debug_does_not_dump_payloads() {
        let job = NewJob {
            key: "o/r#push/main".parse().unwrap(),
            revision: "v".into(),
            payload: vec![b'x'; 1000],
            max_attempts: 3,
            now: Timestamp::UNIX_EPOCH,
        };
        let debug = format!("{job:?}");
        assert!(debug.contains("payload_len: 1000"), "{debug}");
        assert!(!debug.contains("xxxx"), "{debug}");
    }
}
