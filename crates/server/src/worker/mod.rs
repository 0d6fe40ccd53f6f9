//! The job workers: jobs live in the store, so any replica's worker may run any job. A worker
//! claims one with a lease, renews the lease while it works (learning there whether a newer
//! head superseded the job or the PR was closed — then it stops and publishes nothing final),
//! stores each chart's result, publishes, and marks the job done. A crashed worker's lease
//! runs out and another worker takes the job again. [`cleanup`] removes what has expired.

pub(crate) mod cleanup;
mod git_auth;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use service::pr::{PrReport, PrRequest};
use service::{CompareError, Context};

use crate::AppState;
use crate::job::{JobPayload, JobRef};
use crate::publish::PublishUpdate;
use crate::results::span;

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
            Ok(Some(job)) => {
                // Every line the job logs, here and in the engine, carries its ids: the
                // public job id, the one the API and the published links show.
                let span = tracing::info_span!(
                    "job",
                    job_id = %crate::http::webhook::public(&state, job.id),
                    key = %job.key,
                    delivery_id = %crate::job::delivery_of(&job.payload).as_deref().unwrap_or("-"),
                    installation_id = tracing::field::Empty
                );
                tracing::Instrument::instrument(run_job(&state, &name, job), span).await
            }
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
        // The payload names the repository as the first delivery did; the job, as the
        // newest (R14).
        Ok(p) => JobPayload::with_repo(p, job.repo.clone()),
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
        public_id: crate::http::webhook::public(state, job.id),
        payload: payload.clone(),
        delivery: crate::job::delivery_id_of(&job.payload),
    };
    if let Some(id) = payload.installation_id() {
        tracing::Span::current().record("installation_id", id);
    }
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

    let outcome = analyze(state, &job_ref, cancel.clone()).await;
    let job_ref = with_newest_name(&*store, job_ref).await;
    let stopped = stop.lock().ok().and_then(|s| *s);
    if let Some(why) = stopped {
        beat.abort();
        tracing::info!(job = %job.id, reason = ?why, "job stopped; nothing published");
        publish_stopped(state, &job_ref, why).await;
        crate::metrics::job_finished(
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
        Ok(()) => crate::metrics::job_finished("succeeded", started.elapsed()),
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
                crate::metrics::job_retried();
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
                crate::metrics::job_finished("failed", started.elapsed());
            }
        }
    }
}

/// `job` under the repository name its row has now: a trigger coalesced into the job while it
/// ran may have come after a rename (the store then renamed the job, R14), and results go to
/// the newest name. A failed read keeps the name the job started with (GitHub redirects a
/// renamed repository's API paths).
async fn with_newest_name(store: &dyn store::Store, mut job: JobRef) -> JobRef {
    match store.get_job(job.id).await {
        Ok(Some(row)) if row.repo != *job.payload.repo() => {
            tracing::info!(job = %job.id, from = %job.payload.repo(), to = %row.repo, "repository renamed while the job ran; publishing under the new name");
            job.payload = job.payload.with_repo(row.repo);
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(job = %job.id, error = %e, "job not read again; publishing under the name it started with");
        }
    }
    job
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
        // What the request, the repository or the chart decides (a render limit included)
        // fails for good; only the network, deadlines and our own faults are retried.
        Failure {
            code: e.code(),
            message: e.message(),
            retryable: e.is_transient(),
        }
    }
}

/// The clone URL of a repository: built from the configured git URL and the validated name,
/// never from a URL in the payload.
fn clone_url(git_url: &str, repo: &github_events::RepoName) -> String {
    format!("{}/{repo}.git", git_url.trim_end_matches('/'))
}

/// The release before `tag`: the next older version of the same chart (tags come newest
/// first per chart), or for tags that are no versions the one before it in name order.
fn previous_tag(tags: &[service::RefInfo], tag: &str) -> Option<String> {
    let this = tags.iter().find(|t| t.name == tag)?;
    if this.version.is_some() {
        tags.iter()
            .skip_while(|t| t.name != tag)
            .skip(1)
            .find(|t| t.chart == this.chart && t.version.is_some())
            .map(|t| t.name.clone())
    } else {
        tags.iter()
            .filter(|t| t.version.is_none() && t.name.as_str() < tag)
            .map(|t| t.name.clone())
            .max()
    }
}

/// The commit id of a push that created its branch (`before` is all zeros).
fn is_zero_sha(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

async fn analyze(
    state: &AppState,
    job: &JobRef,
    cancel: Arc<AtomicBool>,
) -> Result<Arc<PrReport>, Failure> {
    let payload = &job.payload;
    let git_url = state
        .inner
        .config
        .webhooks
        .as_ref()
        .map_or("https://github.com", |w| w.git_url.as_str())
        .to_owned();
    let repository = clone_url(&git_url, payload.repo());
    let installation = payload.installation_id();
    // Token minting for the job carries its delivery too (R32).
    let git_client = state
        .inner
        .git_client
        .as_ref()
        .map(|c| match &job.delivery {
            Some(delivery) => c.for_delivery(delivery),
            None => c.clone(),
        });
    let git_auth = git_auth::for_job(git_client.as_ref(), payload.repo(), installation).await?;
    let service = state.inner.service.clone();
    let timeout = state.inner.config.workers.job_timeout;
    let payload = payload.clone();
    let stop = cancel.clone();
    let span = tracing::Span::current();
    let work = tokio::task::spawn_blocking(move || {
        let _span = span.enter();
        let mut ctx = Context::with_timeout(timeout);
        ctx.cancel = cancel;
        ctx.git_auth = git_auth;
        let mut request = PrRequest {
            repository,
            ..PrRequest::default()
        };
        match &payload {
            JobPayload::PullRequest {
                base_sha,
                head_sha,
                number,
                fork,
                default_branch,
                ..
            } => {
                request.base = base_sha.to_string();
                request.head = head_sha.to_string();
                // A fork's head commit is only reachable from the base repository through the
                // pull request ref, which must still point at the head this job was made for.
                if *fork {
                    request.head_ref = Some(format!("refs/pull/{number}/head"));
                }
                // The policy is the base repository's, from its default branch.
                request.config_revision = default_branch.clone();
            }
            JobPayload::Push { before, after, .. } => {
                request.head = after.to_string();
                if is_zero_sha(&before.to_string()) {
                    // A new branch: what it adds since it left the default branch.
                    request.base = "HEAD".into();
                    request.merge_base = true;
                } else {
                    request.base = before.to_string();
                }
            }
            JobPayload::Release { tag, .. } => {
                let versions = service.versions(&request.repository, &ctx)?;
                let previous = previous_tag(&versions.tag_details, tag).ok_or_else(|| {
                    CompareError::InvalidRequest(format!(
                        "release {tag} has no earlier tag to compare with"
                    ))
                })?;
                request.base = previous;
                request.head = tag.clone();
            }
        }
        match service.analyze_pr(&request, &ctx) {
            // A force push can leave `before` unreachable (gone from every branch): compare
            // with where the branch left the default branch instead.
            Err(CompareError::RevisionNotFound { revision, .. })
                if matches!(payload, JobPayload::Push { .. }) && revision == request.base =>
            {
                tracing::info!(
                    before = %request.base,
                    "the commit before the push is gone (force push); comparing with the merge base of the default branch"
                );
                request.base = "HEAD".into();
                request.merge_base = true;
                service.analyze_pr(&request, &ctx)
            }
            other => other,
        }
        .map(Arc::new)
    });
    // The engine stops at its deadline; work stuck where it does not look is given up on a
    // little later, so the job fails visibly (and its lease is let go) instead of holding a
    // worker and renewing its lease for ever.
    let mut work = work;
    match tokio::time::timeout(timeout + JOB_STOP_GRACE, &mut work).await {
        Ok(joined) => joined
            .map_err(|e| Failure {
                code: "internal",
                message: format!("the analysis task failed: {e}"),
                retryable: true,
            })?
            .map_err(Failure::from),
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            tracing::error!(
                timeout_s = timeout.as_secs(),
                "a job's analysis did not stop at its deadline; the job fails"
            );
            tokio::spawn(async move {
                let _ = work.await;
                tracing::info!("an analysis that overran its deadline has ended");
            });
            Err(Failure {
                code: "timeout",
                message: format!(
                    "the analysis took longer than {} s and did not stop; the job is not \
                     retried (a chart that does this does it again)",
                    timeout.as_secs()
                ),
                retryable: false,
            })
        }
    }
}

/// How long past its deadline a job's analysis may take to stop before the job fails anyway.
const JOB_STOP_GRACE: Duration = Duration::from_secs(5);

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
                .map(|c| {
                    c.outcome
                        .as_ref()
                        .ok()
                        .map(|r| crate::results::stored_document(r, None))
                })
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
            // `stored_document` marks it a webhook analysis's: readable only with full access.
            crate::results::save(state, response, body)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "storing a job's result failed");
                    Failure {
                        code: "store_unavailable",
                        message: "the result store is unavailable; the job will be retried".into(),
                        retryable: true,
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, chart: Option<&str>, version: Option<&str>) -> service::RefInfo {
        service::RefInfo {
            name: name.into(),
            commit: "0".repeat(40),
            version: version.map(str::to_owned),
            chart: chart.map(str::to_owned),
        }
    }

    #[test]
    fn the_previous_release_is_the_next_older_version_of_the_same_chart() {
        // As the versions listing orders them: newest first per chart, then unversioned by name.
        let tags = [
            tag("1.2.0", None, Some("1.2.0")),
            tag("1.1.0", None, Some("1.1.0")),
            tag("app-2.0.0", Some("app"), Some("2.0.0")),
            tag("app-1.0.0", Some("app"), Some("1.0.0")),
            tag("beta", None, None),
            tag("v1", None, None),
            tag("v2", None, None),
        ];
        let previous = |t: &str| previous_tag(&tags, t);
        assert_eq!(previous("1.2.0").as_deref(), Some("1.1.0"));
        assert_eq!(previous("1.1.0"), None);
        assert_eq!(previous("app-2.0.0").as_deref(), Some("app-1.0.0"));
        assert_eq!(previous("v2").as_deref(), Some("v1"));
        assert_eq!(previous("beta"), None);
        assert_eq!(previous("missing"), None);
    }

    #[test]
    fn only_all_zeros_is_a_new_branch() {
        assert!(is_zero_sha(&"0".repeat(40)));
        assert!(!is_zero_sha(""));
        assert!(!is_zero_sha("0000000000000000000000000000000000000001"));
    }
}
