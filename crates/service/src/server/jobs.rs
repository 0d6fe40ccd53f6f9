//! Webhook jobs: what a job carries, the workers that run them, and the [`Publisher`] seam
//! through which results leave (a GitHub comment and status later; a recorder in tests).
//!
//! Jobs live in the store, so any replica's worker may run any job: a worker claims one with a
//! lease, renews the lease while it works (learning there whether a newer head superseded the
//! job or the PR was closed — then it stops and publishes nothing final), stores each chart's
//! result, publishes, and marks the job done. A crashed worker's lease runs out and another
//! worker takes the job again.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::analysis::span;
use super::{ApiError, AppState};
use crate::pr::{PrReport, PrRequest};
use crate::{CompareError, CompareRequest, Context};

/// What a queued job analyses (stored as the job's payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// A pull request: base and head commits.
    PullRequest {
        /// `owner/name`.
        repo: String,
        /// PR number.
        number: u64,
        /// Base commit.
        base_sha: String,
        /// Head commit.
        head_sha: String,
        /// Base branch.
        base_ref: String,
        /// Head branch.
        head_ref: String,
        /// The head lives in another repository (fetched as `refs/pull/N/head`).
        fork: bool,
        /// The base repository's default branch, where `.chartimpact.yaml` is read (absent in
        /// payloads stored before it was recorded: then the base commit is used).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_branch: Option<String>,
        /// GitHub App installation, when the delivery came from one.
        installation_id: Option<u64>,
    },
    /// A push to a branch: before and after commits.
    Push {
        /// `owner/name`.
        repo: String,
        /// Branch name.
        branch: String,
        /// Commit before the push.
        before: String,
        /// Commit after the push.
        after: String,
        /// GitHub App installation.
        installation_id: Option<u64>,
    },
    /// A published release: its tag against the previous release tag.
    Release {
        /// `owner/name`.
        repo: String,
        /// The release's tag.
        tag: String,
        /// GitHub App installation.
        installation_id: Option<u64>,
    },
}

impl JobPayload {
    /// The payload of a routed webhook target.
    pub fn from_target(t: &github_events::Target) -> Self {
        use github_events::Target as T;
        match t {
            T::PullRequest {
                repo,
                number,
                base_sha,
                head_sha,
                base_ref,
                head_ref,
                fork,
                default_branch,
                installation_id,
            } => JobPayload::PullRequest {
                repo: repo.to_string(),
                number: *number,
                base_sha: base_sha.to_string(),
                head_sha: head_sha.to_string(),
                base_ref: base_ref.clone(),
                head_ref: head_ref.clone(),
                fork: *fork,
                default_branch: default_branch.clone(),
                installation_id: *installation_id,
            },
            T::Push {
                repo,
                branch,
                before,
                after,
                installation_id,
            } => JobPayload::Push {
                repo: repo.to_string(),
                branch: branch.clone(),
                before: before.to_string(),
                after: after.to_string(),
                installation_id: *installation_id,
            },
            T::Release {
                repo,
                tag,
                installation_id,
            } => JobPayload::Release {
                repo: repo.to_string(),
                tag: tag.clone(),
                installation_id: *installation_id,
            },
        }
    }

    /// `owner/name`.
    pub fn repo(&self) -> &str {
        match self {
            JobPayload::PullRequest { repo, .. }
            | JobPayload::Push { repo, .. }
            | JobPayload::Release { repo, .. } => repo,
        }
    }

    /// `pull_request`, `push` or `release`.
    pub fn kind(&self) -> &'static str {
        match self {
            JobPayload::PullRequest { .. } => "pull_request",
            JobPayload::Push { .. } => "push",
            JobPayload::Release { .. } => "release",
        }
    }
}

/// A job as publishers see it.
#[derive(Debug, Clone)]
pub struct JobRef {
    /// The job's id.
    pub id: store::JobId,
    /// What it analyses.
    pub payload: JobPayload,
}

/// What a publisher is told.
#[derive(Debug, Clone)]
pub enum PublishUpdate {
    /// The analysis started (a pending status).
    Started {
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

/// A failed publication; retried with the job.
#[derive(Debug, thiserror::Error)]
#[error("publishing failed: {0}")]
pub struct PublishError(pub String);

/// The future a publisher returns.
pub type PublishFuture<'a> = Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + 'a>>;

/// A `/chartimpact rerun` comment whose job was queued: acknowledged where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RerunRequest {
    /// `owner/name`.
    pub repo: String,
    /// The pull request.
    pub number: u64,
    /// The comment holding the command.
    pub comment_id: u64,
    /// GitHub App installation, when the delivery came from one.
    pub installation_id: Option<u64>,
}

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

/// A publisher that only logs (the default until a GitHub publisher is configured).
#[derive(Debug, Default)]
pub struct LogPublisher;

impl Publisher for LogPublisher {
    fn publish<'a>(&'a self, update: &'a PublishUpdate) -> PublishFuture<'a> {
        Box::pin(async move {
            match update {
                PublishUpdate::Started { job } => {
                    tracing::info!(job = %job.id, repo = job.payload.repo(), "analysis started")
                }
                PublishUpdate::Finished { job, report, .. } => tracing::info!(
                    job = %job.id,
                    repo = job.payload.repo(),
                    charts = report.charts.len(),
                    verdict = report.verdict().as_str(),
                    "analysis finished"
                ),
                PublishUpdate::Stopped { job, reason } => {
                    tracing::info!(job = %job.id, repo = job.payload.repo(), reason, "analysis stopped")
                }
                PublishUpdate::Failed { job, code, .. } => {
                    tracing::warn!(job = %job.id, repo = job.payload.repo(), code, "analysis failed")
                }
            }
            Ok(())
        })
    }
}

/// One update as [`RecordingPublisher`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `started`, `finished`, `stopped` or `failed`.
    pub kind: &'static str,
    /// The job.
    pub job: store::JobId,
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
                    job: job.id,
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
                    job: job.id,
                    payload: job.payload.clone(),
                    outcome: Some(report.verdict().as_str().to_owned()),
                    markdown: Some(report.markdown(None)),
                    compare_ids: compare_ids.clone(),
                },
                PublishUpdate::Stopped { job, reason } => Recorded {
                    kind: "stopped",
                    job: job.id,
                    payload: job.payload.clone(),
                    outcome: Some((*reason).to_owned()),
                    markdown: None,
                    compare_ids: vec![],
                },
                PublishUpdate::Failed { job, code, .. } => Recorded {
                    kind: "failed",
                    job: job.id,
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

/// How workers run.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Workers in this process (default: the cores).
    pub workers: usize,
    /// Lease of a claimed job; renewed every third of it (60 s).
    pub lease: Duration,
    /// How often idle workers look for jobs queued by other replicas (1 s).
    pub poll_interval: Duration,
    /// Deadline of one job's analysis (10 min).
    pub job_timeout: Duration,
    /// Attempts before a job fails for good (5).
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, capped at 10 min (10 s).
    pub retry_base: Duration,
    /// Queue bounds; beyond them jobs are recorded as deferred, never dropped.
    pub limits: store::QueueLimits,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            job_timeout: Duration::from_secs(600),
            max_attempts: 5,
            retry_base: Duration::from_secs(10),
            limits: store::QueueLimits {
                max_queued: 1000,
                max_active_per_repo: 20,
            },
        }
    }
}

/// Runs `n` workers until `shutdown` flips; each finishes its current job first.
pub(crate) fn spawn_workers(
    state: &AppState,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "chartimpact".into());
    (0..state.inner.config.workers.workers.max(1))
        .map(|n| {
            let name = format!("{host}-{}-{n}", std::process::id());
            tokio::spawn(worker(state.clone(), name, shutdown.clone()))
        })
        .collect()
}

async fn worker(state: AppState, name: String, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let cfg = state.inner.config.workers.clone();
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Acknowledging deliveries comes first (GitHub waits for them; jobs can wait a few
        // milliseconds): no new claim while deliveries are being taken in, for at most 250 ms.
        for _ in 0..125 {
            if state.inner.intake.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let claimed = state
            .inner
            .store
            .claim_job(&name, cfg.lease, state.now(), cfg.limits)
            .await;
        match claimed {
            Ok(Some(job)) => run_job(&state, &name, job).await,
            Ok(None) => {
                tokio::select! {
                    () = state.inner.job_ready.notified() => {}
                    () = tokio::time::sleep(cfg.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::warn!(worker = %name, error = %e, "claiming a job failed; retrying");
                tokio::time::sleep(cfg.poll_interval).await;
            }
        }
    }
}

/// Why a job stopped before publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Superseded,
    Cancelled,
    Lost,
}

async fn run_job(state: &AppState, worker: &str, job: store::Job) {
    let started = Instant::now();
    let store = state.inner.store.clone();
    let cfg = state.inner.config.workers.clone();
    let payload: JobPayload = match serde_json::from_slice(&job.payload) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "unreadable job payload");
            let _ = store
                .fail_job(
                    job.id,
                    worker,
                    format!("unreadable payload: {e}"),
                    None,
                    state.now(),
                )
                .await;
            return;
        }
    };
    let job_ref = JobRef {
        id: job.id,
        payload: payload.clone(),
    };
    tracing::info!(job = %job.id, key = %job.key, revision = %job.revision, attempt = job.attempts, "job started");

    // The lease is renewed while the analysis runs; losing it (or the job being superseded or
    // cancelled) stops the work.
    let cancel = Arc::new(AtomicBool::new(false));
    let stop: Arc<Mutex<Option<Stop>>> = Arc::new(Mutex::new(None));
    let beat = {
        let (store, worker, cancel, stop, state) = (
            store.clone(),
            worker.to_owned(),
            cancel.clone(),
            stop.clone(),
            state.clone(),
        );
        let id = job.id;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(cfg.lease / 3).await;
                let lease = store
                    .heartbeat_job(id, &worker, cfg.lease, state.now())
                    .await;
                let why = match lease {
                    Ok(store::JobLease::Held) => continue,
                    Ok(store::JobLease::Superseded) => Stop::Superseded,
                    Ok(store::JobLease::Cancelled) => Stop::Cancelled,
                    Ok(store::JobLease::Lost) => Stop::Lost,
                    Err(e) => {
                        tracing::warn!(job = %id, error = %e, "lease renewal failed; retrying");
                        continue;
                    }
                };
                if let Ok(mut s) = stop.lock() {
                    *s = Some(why);
                }
                cancel.store(true, Ordering::Relaxed);
                break;
            }
        })
    };

    if let Err(e) = state
        .inner
        .publisher
        .publish(&PublishUpdate::Started {
            job: job_ref.clone(),
        })
        .await
    {
        tracing::warn!(job = %job.id, error = %e, "pending status not published");
    }

    let outcome = analyze(state, &payload, cancel.clone()).await;
    let stopped = stop.lock().ok().and_then(|s| *s);
    if let Some(why) = stopped {
        beat.abort();
        tracing::info!(job = %job.id, reason = ?why, "job stopped; nothing published");
        publish_stopped(state, &job_ref, why).await;
        super::metrics::job_finished(
            match why {
                Stop::Superseded => "superseded",
                Stop::Cancelled => "cancelled",
                Stop::Lost => "lease_lost",
            },
            started.elapsed(),
        );
        return;
    }

    let result = match outcome {
        Ok(report) => finish(state, worker, &job, &job_ref, report).await,
        Err(e) => Err(e),
    };
    beat.abort();
    match result {
        Ok(()) => super::metrics::job_finished("succeeded", started.elapsed()),
        Err(failure) => {
            let retryable = failure.retryable && job.attempts < job.max_attempts;
            let retry_at = retryable.then(|| {
                let factor = 1u32 << job.attempts.saturating_sub(1).min(6);
                let delay = (cfg.retry_base * factor).min(Duration::from_secs(600));
                state
                    .now()
                    .checked_add(span(delay))
                    .unwrap_or_else(|_| state.now())
            });
            if retryable {
                super::metrics::job_retried();
            } else {
                let _ = state
                    .inner
                    .publisher
                    .publish(&PublishUpdate::Failed {
                        job: job_ref.clone(),
                        code: failure.code,
                        message: failure.message.clone(),
                    })
                    .await;
            }
            let status = store
                .fail_job(
                    job.id,
                    worker,
                    failure.message.clone(),
                    retry_at,
                    state.now(),
                )
                .await;
            tracing::warn!(job = %job.id, code = failure.code, error = %failure.message, retry = retryable, status = ?status.as_ref().ok(), "job failed");
            if !retryable {
                super::metrics::job_finished("failed", started.elapsed());
            }
        }
    }
}

/// Tells the publisher a job stopped for good. A lost lease is not that: another worker
/// (maybe in this process, sharing the publisher) carries on with the same job.
async fn publish_stopped(state: &AppState, job: &JobRef, why: Stop) {
    let reason = match why {
        Stop::Superseded => "superseded",
        Stop::Cancelled => "cancelled",
        Stop::Lost => return,
    };
    let update = PublishUpdate::Stopped {
        job: job.clone(),
        reason,
    };
    if let Err(e) = state.inner.publisher.publish(&update).await {
        tracing::warn!(job = %job.id, error = %e, "stop not published");
    }
}

struct Failure {
    code: &'static str,
    message: String,
    retryable: bool,
}

impl From<CompareError> for Failure {
    fn from(e: CompareError) -> Self {
        let retryable = matches!(
            e,
            CompareError::RepositoryUnreachable(_)
                | CompareError::Timeout { .. }
                | CompareError::Internal(_)
                | CompareError::Cancelled
        );
        Failure {
            code: e.code(),
            message: e.to_string(),
            retryable,
        }
    }
}

/// The clone URL of `owner/name`: built from the configured git URL, never from the payload.
fn clone_url(git_url: &str, repo: &str) -> Result<String, Failure> {
    let name: github_events::RepoName = repo.parse().map_err(|e| Failure {
        code: "invalid_request",
        message: format!("repository {repo:?}: {e}"),
        retryable: false,
    })?;
    Ok(format!(
        "{}/{}/{}.git",
        git_url.trim_end_matches('/'),
        name.owner(),
        name.name()
    ))
}

async fn analyze(
    state: &AppState,
    payload: &JobPayload,
    cancel: Arc<AtomicBool>,
) -> Result<Arc<PrReport>, Failure> {
    let git_url = state
        .inner
        .config
        .webhooks
        .as_ref()
        .map_or("https://github.com", |w| w.git_url.as_str())
        .to_owned();
    let repository = clone_url(&git_url, payload.repo())?;
    let service = state.inner.service.clone();
    let timeout = state.inner.config.workers.job_timeout;
    let payload = payload.clone();
    tokio::task::spawn_blocking(move || {
        let mut ctx = Context::with_timeout(timeout);
        ctx.cancel = cancel;
        let (base, head, config_revision) = match &payload {
            JobPayload::PullRequest {
                base_sha,
                head_sha,
                number,
                fork,
                default_branch,
                ..
            } => {
                // A fork's head commit is only reachable from the base repository through
                // the pull request ref.
                let head = if *fork {
                    format!("refs/pull/{number}/head")
                } else {
                    head_sha.clone()
                };
                // The policy is the base repository's, from its default branch.
                (base_sha.clone(), head, default_branch.clone())
            }
            JobPayload::Push { before, after, .. } => (before.clone(), after.clone(), None),
            JobPayload::Release { tag, .. } => {
                let versions = service.versions(&repository, &ctx)?;
                let previous = versions
                    .tags
                    .iter()
                    .skip_while(|t| *t != tag)
                    .nth(1)
                    .cloned()
                    .ok_or_else(|| {
                        CompareError::InvalidRequest(format!(
                            "release {tag} has no earlier tag to compare with"
                        ))
                    })?;
                (previous, tag.clone(), None)
            }
        };
        let request = PrRequest {
            repository,
            base,
            head,
            config_revision,
            template: CompareRequest::default(),
        };
        service.analyze_pr(&request, &ctx).map(Arc::new)
    })
    .await
    .map_err(|e| Failure {
        code: "internal",
        message: format!("the analysis task failed: {e}"),
        retryable: true,
    })?
    .map_err(Failure::from)
}

async fn finish(
    state: &AppState,
    worker: &str,
    job: &store::Job,
    job_ref: &JobRef,
    report: Arc<PrReport>,
) -> Result<(), Failure> {
    // Serializing a response renders its text report: CPU work, kept off the async threads
    // that acknowledge webhook deliveries.
    let bodies = {
        let report = report.clone();
        tokio::task::spawn_blocking(move || {
            report
                .charts
                .iter()
                .map(|c| c.outcome.as_ref().ok().map(serde_json::to_vec))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| Failure {
            code: "internal",
            message: format!("serializing results failed: {e}"),
            retryable: true,
        })?
    };
    let mut compare_ids = Vec::new();
    for (chart, body) in report.charts.iter().zip(bodies) {
        if let (Ok(response), Some(body)) = (&chart.outcome, body) {
            let body = body.map_err(|e| Failure {
                code: "internal",
                message: format!("serializing a result failed: {e}"),
                retryable: false,
            })?;
            super::compare::save(state, response, body)
                .await
                .map_err(|e| Failure {
                    code: e.code,
                    message: e.message,
                    retryable: true,
                })?;
            compare_ids.push(response.compare_id.clone());
        }
    }
    // A newer head may have arrived while we worked: then this result is stale.
    match state
        .inner
        .store
        .heartbeat_job(
            job.id,
            worker,
            state.inner.config.workers.lease,
            state.now(),
        )
        .await
    {
        Ok(store::JobLease::Held) => {}
        Ok(other) => {
            tracing::info!(job = %job.id, lease = ?other, "result is stale; not published");
            let why = match other {
                store::JobLease::Superseded => Some(Stop::Superseded),
                store::JobLease::Cancelled => Some(Stop::Cancelled),
                _ => None,
            };
            if let Some(why) = why {
                publish_stopped(state, job_ref, why).await;
            }
            return Ok(());
        }
        Err(e) => {
            return Err(Failure {
                code: "store_unavailable",
                message: e.to_string(),
                retryable: true,
            });
        }
    }
    state
        .inner
        .publisher
        .publish(&PublishUpdate::Finished {
            job: job_ref.clone(),
            report: report.clone(),
            compare_ids: compare_ids.clone(),
        })
        .await
        .map_err(|e| Failure {
            code: "publish_failed",
            message: e.to_string(),
            retryable: true,
        })?;
    let done = state
        .inner
        .store
        .complete_job(job.id, worker, compare_ids, state.now())
        .await
        .map_err(|e| Failure {
            code: "store_unavailable",
            message: e.to_string(),
            retryable: true,
        })?;
    if !done {
        tracing::info!(job = %job.id, "job was superseded or cancelled as it finished");
    }
    Ok(())
}

/// A retention for people: whole days, else whole hours (at least one).
fn retention_words(d: Duration) -> String {
    let hours = (d.as_secs() / 3600).max(1);
    match (hours / 24, hours % 24) {
        (1, 0) => "1 day".to_owned(),
        (days, 0) => format!("{days} days"),
        _ if hours == 1 => "1 hour".to_owned(),
        _ => format!("{hours} hours"),
    }
}

/// `GET /api/jobs/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::not_found(format!("no job with id {id:?}"));
    let job_id: store::JobId = id.parse().map_err(|_| unknown())?;
    // A well-formed id may name a job that finished longer ago than the retention and was
    // purged (see `run_cleanup`): say so, so an old link is not mistaken for a bad one.
    let purged = || {
        ApiError::not_found(format!(
            "no job with id {id:?}: it may have been purged (finished jobs are kept {})",
            retention_words(state.inner.config.result_ttl)
        ))
    };
    let job = state
        .inner
        .store
        .get_job(job_id)
        .await
        .map_err(|e| ApiError::store(&e))?
        .ok_or_else(purged)?;
    let ts = |t: Option<jiff::Timestamp>| t.map(super::analysis::ts);
    Ok(axum::Json(json!({
        "success": true,
        "id": job.id.to_string(),
        "kind": job.kind,
        "key": job.key,
        "repository": job.repo,
        "revision": job.revision,
        "status": job.status.as_str(),
        "attempts": job.attempts,
        "maxAttempts": job.max_attempts,
        "createdAt": ts(Some(job.created_at)),
        "runAt": ts(Some(job.run_at)),
        "startedAt": ts(job.started_at),
        "finishedAt": ts(job.finished_at),
        "error": job.last_error,
        "compareIds": job.compare_ids,
        "supersededBy": job.superseded_by.map(|j| j.to_string()),
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retentions_read_in_days_or_hours() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert_eq!(retention_words(h(30 * 24)), "30 days");
        assert_eq!(retention_words(h(24)), "1 day");
        assert_eq!(retention_words(h(36)), "36 hours");
        assert_eq!(retention_words(h(1)), "1 hour");
        assert_eq!(retention_words(Duration::from_secs(5)), "1 hour");
    }
}
