//! The GitHub [`Publisher`], built on [`github_publish`] (the comment, status and outcome
//! logic `chartimpact pr --post` uses too): one sticky PR comment (found by its marker and our own login,
//! updated in place, extra copies removed, no PATCH when nothing changed), a commit status
//! `chartimpact/analysis` (pending → success / failure / error), and with GitHub App auth a
//! check run: created `in_progress` when the job starts, completed with the result (or
//! `cancelled` when the result is stale, `failure` when the analysis could not run).
//!
//! The repository's `.chartimpact.yaml` policy decides two things here: `failOn` makes the
//! status `failure` (never by default: ChartImpact informs rather than blocks), and
//! `commentOn` withholds the full report. A withheld report creates no comment; an existing
//! one is replaced by a short note saying the report is withheld, so a report of an earlier
//! head never stays up looking current.
//!
//! Before a final comment is posted the pull request is read again: when it was closed or its
//! head moved on, the result is stale and nothing is posted. Publications for one pull request
//! are serialized in this process (and jobs of one PR never run at once, by the queue).
//!
//! The ids of the sticky comment and of the latest check run of each pull request are kept in
//! the store ([`store::Publication`]), shared by all replicas and kept over restarts: the
//! comment is read and updated by its id without listing the conversation (a deleted one is
//! looked for by marker, then created again), and a check run started by one replica is the
//! one another replica completes. Listing by marker stays the fallback, and removes extra
//! copies from the past whenever it runs. The store only saves requests: when it fails, the
//! publisher logs it and falls back to listing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use github_client::{
    CheckConclusion, CheckRunOutput, CheckRunRequest, CheckStatus, GithubClient, StatusState,
};
use github_events::{CommitSha, RepoName};
pub use github_publish::{CHECK_NAME, STATUS_CONTEXT};
use github_publish::{IfMissing, StickyComment, outcome};

use super::{PublishError, PublishFuture, PublishUpdate, Publisher};
use crate::job::{JobPayload, JobRef, RerunRequest};
/// The reaction that acknowledges a `/chartimpact rerun` comment.
pub const RERUN_REACTION: &str = "rocket";

/// What the reader of a failed analysis's comment can do when the server runs ChartImpact.
const FAILURE_NEXT_STEP: &str = "Push a fix, or comment `/chartimpact rerun` to try again.";

/// A publication error as the job's retry sees it (GitHub's answer included, no secrets).
fn failed(e: github_publish::Error) -> PublishError {
    PublishError(e.full_message())
}

/// How long the id of an in-progress check run is remembered in memory for its job (push
/// jobs have no pull request to store it under; for pull requests the store has it too). A
/// job that stops without publishing never completes its run; its entry goes after this,
/// longer than any job runs with all its retries.
const CHECK_RUN_MEMORY: Duration = Duration::from_secs(6 * 3600);

/// The smallest size a refused comment is cut down to before giving up.
const MIN_COMMENT_LIMIT: usize = 512;

/// Publishes job results on GitHub.
pub struct GithubPublisher {
    client: GithubClient,
    public_url: Option<String>,
    login: tokio::sync::OnceCell<String>,
    per_pr: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The in-progress check run of each job this process started (App auth).
    check_runs: Mutex<HashMap<String, (u64, Instant)>>,
    /// Comment and check run ids per pull request, shared with the other replicas.
    store: Arc<dyn store::Store>,
    /// Whether skipping check runs (token auth) was logged already.
    checks_skipped_logged: std::sync::atomic::AtomicBool,
}

impl GithubPublisher {
    /// A publisher over `client`; links point at `public_url` (this server's public base URL).
    /// Comment and check run ids are kept in `store` (the server's store, so every replica
    /// sharing it updates the same comment and check run).
    pub fn new(
        client: GithubClient,
        public_url: Option<String>,
        store: Arc<dyn store::Store>,
    ) -> Self {
        GithubPublisher {
            client,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            login: tokio::sync::OnceCell::new(),
            per_pr: Mutex::new(HashMap::new()),
            check_runs: Mutex::new(HashMap::new()),
            store,
            checks_skipped_logged: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The client for `job`'s calls: they carry the delivery that queued the job (R32).
    fn client_for(&self, job: &JobRef) -> GithubClient {
        match &job.delivery {
            Some(delivery) => self.client.for_delivery(delivery),
            None => self.client.clone(),
        }
    }

    /// The stored ids of a pull request; a store failure is logged and treated as none (the
    /// comment is then found by marker).
    async fn publication(&self, repo: &RepoName, number: u64) -> store::Publication {
        match self.store.get_publication(repo, number).await {
            Ok(p) => p.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(repo = %repo, pr = number, error = %e, "stored publication ids not read; falling back to listing");
                store::Publication::default()
            }
        }
    }

    async fn remember_comment(&self, repo: &RepoName, number: u64, id: u64) {
        if let Err(e) = self.store.set_comment_id(repo, number, id).await {
            tracing::warn!(repo = %repo, pr = number, error = %e, "comment id not stored");
        }
    }

    /// Creates the job's check run as `in_progress` (App auth only; a token cannot write
    /// checks) and stores its id for the pull request. An attempt of a job that already has a
    /// run keeps it: a retry in this process, or a job taken over from a lost replica.
    async fn start_check_run(&self, job: &JobRef) {
        let Some((repo, sha, installation)) = target(&job.payload) else {
            return;
        };
        if !self.client.is_app() {
            // Only an App may write checks; the comment and the status carry the result.
            if !self
                .checks_skipped_logged
                .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                tracing::info!(
                    "check runs skipped: they need GitHub App auth (--github-app-id); results \
                     go to the PR comment and the commit status"
                );
            }
            return;
        }
        if self.check_run_of(job, false).is_some() {
            return;
        }
        let pr = pull_request_of(&job.payload);
        if let Some((pr_repo, number)) = pr {
            let stored = self.publication(pr_repo, number).await.check_run;
            if let Some(run) = stored.filter(|r| r.job == job.id && r.head_sha == *sha) {
                self.remember_run(job, run.id);
                return;
            }
        }
        let run = CheckRunRequest {
            name: CHECK_NAME.to_owned(),
            head_sha: sha.to_string(),
            status: Some(CheckStatus::InProgress),
            details_url: self.job_url(job),
            external_id: Some(job.public_id.clone()),
            started_at: Some(jiff::Timestamp::now()),
            output: Some(CheckRunOutput {
                title: outcome::PENDING_DESCRIPTION.to_owned(),
                summary: "ChartImpact is rendering and comparing every chart this change affects."
                    .to_owned(),
                ..CheckRunOutput::default()
            }),
            ..CheckRunRequest::default()
        };
        match self
            .client_for(job)
            .create_check_run(repo, &run, installation)
            .await
        {
            Ok(id) => {
                self.remember_run(job, id);
                if let Some((pr_repo, number)) = pr {
                    let run = store::CheckRunRef {
                        head_sha: sha.clone(),
                        id,
                        job: job.id,
                    };
                    if let Err(e) = self.store.set_check_run(pr_repo, number, &run).await {
                        tracing::warn!(job = %job.id, error = %e, "check run id not stored");
                    }
                }
            }
            Err(e) => tracing::warn!(job = %job.id, error = %e, "check run not started"),
        }
    }

    fn remember_run(&self, job: &JobRef, id: u64) {
        let mut runs = self.check_runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.retain(|_, (_, at)| at.elapsed() < CHECK_RUN_MEMORY);
        runs.insert(job.id.to_string(), (id, Instant::now()));
    }

    /// The job's in-progress check run, if this process started one (`take`: forget it).
    fn check_run_of(&self, job: &JobRef, take: bool) -> Option<u64> {
        let mut runs = self.check_runs.lock().unwrap_or_else(|e| e.into_inner());
        let key = job.id.to_string();
        if take {
            runs.remove(&key).map(|(id, _)| id)
        } else {
            runs.get(&key).map(|(id, _)| *id)
        }
    }

    /// Completes the job's check run with `conclusion`: the in-progress run this process
    /// started, else the pull request's stored run on the same commit (started by another
    /// replica, or by this one before a restart), else a new completed one (the start failed).
    /// Failures are logged: the comment and status carry the result too.
    async fn complete_check_run(
        &self,
        job: &JobRef,
        conclusion: CheckConclusion,
        output: CheckRunOutput,
        details_url: Option<String>,
    ) {
        self.complete_check_run_on(job, None, conclusion, output, details_url)
            .await;
    }

    /// [`Self::complete_check_run`], on `commit` when the job's payload names none (a
    /// release: its tag's commit is known once analysed).
    async fn complete_check_run_on(
        &self,
        job: &JobRef,
        commit: Option<&str>,
        conclusion: CheckConclusion,
        output: CheckRunOutput,
        details_url: Option<String>,
    ) {
        let Some((repo, sha, installation)) = owned_target(&job.payload, commit) else {
            return;
        };
        let (repo, sha) = (&repo, &sha);
        if !self.client.is_app() {
            return;
        }
        let run = CheckRunRequest {
            name: CHECK_NAME.to_owned(),
            head_sha: sha.to_string(),
            status: Some(CheckStatus::Completed),
            conclusion: Some(conclusion),
            details_url,
            external_id: Some(job.public_id.clone()),
            output: Some(output),
            ..CheckRunRequest::default()
        };
        let mut started = self.check_run_of(job, true);
        if started.is_none()
            && let Some((pr_repo, number)) = pull_request_of(&job.payload)
        {
            started = self
                .publication(pr_repo, number)
                .await
                .check_run
                .filter(|r| r.head_sha == *sha)
                .map(|r| r.id);
        }
        let client = self.client_for(job);
        let done = match started {
            Some(id) => client.update_check_run(repo, id, &run, installation).await,
            None => client
                .create_check_run(repo, &run, installation)
                .await
                .map(|_| ()),
        };
        if let Err(e) = done {
            tracing::warn!(job = %job.id, error = %e, "check run not completed");
        }
    }

    /// The lock that serializes publications for one pull request (`owner/name#N`).
    ///
    /// Entries nobody holds or waits for (only the map has the `Arc`) are dropped on the way,
    /// so the map holds the pull requests being published right now, not every one ever seen.
    /// Dropping such an entry is safe: whoever comes next gets a fresh, unlocked mutex.
    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.per_pr.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|k, lock| k == key || Arc::strong_count(lock) > 1);
        map.entry(key.to_owned()).or_default().clone()
    }

    fn job_url(&self, job: &JobRef) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|u| format!("{u}/api/jobs/{}", job.public_id))
    }

    fn result_url(&self, job: &JobRef, compare_ids: &[String]) -> Option<String> {
        match compare_ids {
            [one] => self
                .public_url
                .as_ref()
                .map(|u| format!("{u}/api/analysis/{one}")),
            _ => self.job_url(job),
        }
    }

    /// Our login, as comments show it (asked once).
    async fn login(
        &self,
        client: &GithubClient,
        installation: Option<u64>,
    ) -> Result<&str, PublishError> {
        self.login
            .get_or_try_init(|| async {
                github_publish::author_login(client, installation, false)
                    .await
                    .map_err(failed)
            })
            .await
            .map(String::as_str)
    }

    #[allow(clippy::too_many_arguments)]
    async fn status(
        &self,
        client: &GithubClient,
        repo: &RepoName,
        sha: &CommitSha,
        state: StatusState,
        description: &str,
        target_url: Option<String>,
        installation: Option<u64>,
    ) -> Result<(), PublishError> {
        github_publish::set_status(
            client,
            repo,
            sha,
            state,
            description,
            target_url,
            installation,
        )
        .await
        .map_err(failed)
    }

    /// Makes our one comment on the PR say `body` (see [`StickyComment::upsert`]), starting
    /// from its stored id when there is one; the id it ends up with is stored.
    async fn upsert_comment(
        &self,
        client: &GithubClient,
        repo: &RepoName,
        number: u64,
        body: &str,
        if_missing: IfMissing,
        installation: Option<u64>,
    ) -> Result<(), PublishError> {
        let author = self.login(client, installation).await?.to_owned();
        let stored = self.publication(repo, number).await.comment_id;
        let sticky = StickyComment {
            repo,
            number,
            author: &author,
            installation,
        };
        let done = sticky
            .upsert(client, body, if_missing, stored)
            .await
            .map_err(failed)?;
        if let Some(id) = done.id
            && stored != Some(id)
        {
            self.remember_comment(repo, number, id).await;
        }
        Ok(())
    }

    async fn publish_update(&self, update: &PublishUpdate) -> Result<(), PublishError> {
        let client = &self.client_for(update.job());
        match update {
            PublishUpdate::Started { job } => {
                let Some((repo, sha, installation)) = target(&job.payload) else {
                    return Ok(());
                };
                let pending = self
                    .status(
                        client,
                        repo,
                        sha,
                        StatusState::Pending,
                        outcome::PENDING_DESCRIPTION,
                        self.job_url(job),
                        installation,
                    )
                    .await;
                self.start_check_run(job).await;
                pending
            }
            PublishUpdate::Deferred { job } => {
                let Some((repo, sha, installation)) = target(&job.payload) else {
                    return Ok(());
                };
                self.status(
                    client,
                    repo,
                    sha,
                    StatusState::Pending,
                    "Queue full: the analysis will run when there is room",
                    self.job_url(job),
                    installation,
                )
                .await
            }
            PublishUpdate::Finished {
                job,
                report,
                compare_ids,
            } => {
                let Some((repo, sha, installation)) =
                    owned_target(&job.payload, Some(&report.head_commit))
                else {
                    return Ok(());
                };
                let (repo, sha) = (&repo, &sha);
                let result = outcome::report_outcome(report);
                let url = self.result_url(job, compare_ids);
                if let JobPayload::PullRequest {
                    number, head_sha, ..
                } = &job.payload
                {
                    let lock = self.lock_for(&format!("{repo}#{number}"));
                    let _serial = lock.lock().await;
                    // Stale results are not posted: the PR closed or moved on meanwhile.
                    let pr = client
                        .pull_request(repo, *number, installation)
                        .await
                        .map_err(|e| PublishError(e.to_string()))?;
                    if pr.state != "open" || pr.head.sha != head_sha.as_str() {
                        tracing::info!(job = %job.id, state = %pr.state, "pull request closed or moved on; result not posted");
                        // The run was started on this commit: it must not stay in progress.
                        let why = "The pull request was closed or moved on to a newer commit.";
                        self.complete_check_run(
                            job,
                            CheckConclusion::Cancelled,
                            CheckRunOutput {
                                title: "Not posted: the result is stale".to_owned(),
                                summary: why.to_owned(),
                                ..CheckRunOutput::default()
                            },
                            self.job_url(job),
                        )
                        .await;
                        return Ok(());
                    }
                    let job_url = self.job_url(job);
                    let (mut body, if_missing) =
                        outcome::report_comment(report, job_url.as_deref());
                    loop {
                        match self
                            .upsert_comment(client, repo, *number, &body, if_missing, installation)
                            .await
                        {
                            // GitHub measures differently than we do (or changed its limit):
                            // the same report, each chart's part at half the size.
                            Err(e)
                                if report.wants_comment()
                                    && e.0.contains("answered 422")
                                    && body.chars().count() / 2 >= MIN_COMMENT_LIMIT =>
                            {
                                let chars = body.chars().count();
                                tracing::warn!(job = %job.id, chars, "comment refused as too long; posting it at half the size");
                                body = report.markdown_within(job_url.as_deref(), chars / 2);
                            }
                            other => break other?,
                        }
                    }
                }
                self.status(
                    client,
                    repo,
                    sha,
                    result.state,
                    &result.description,
                    url.clone(),
                    installation,
                )
                .await?;
                self.complete_check_run_on(
                    job,
                    Some(&report.head_commit),
                    result.conclusion,
                    CheckRunOutput {
                        title: result.description.clone(),
                        summary: result.description,
                        text: Some(report.markdown(None)),
                        annotations: high_signal_annotations(report),
                    },
                    url,
                )
                .await;
                Ok(())
            }
            PublishUpdate::Stopped { job, reason } => {
                let (title, summary) = if *reason == "cancelled" {
                    (
                        "Cancelled: the pull request was closed",
                        "The analysis stopped because the pull request was closed.",
                    )
                } else {
                    (
                        "Superseded by a newer commit",
                        "The analysis stopped because a newer commit was pushed; that commit is analysed instead.",
                    )
                };
                self.complete_check_run(
                    job,
                    CheckConclusion::Cancelled,
                    CheckRunOutput {
                        title: title.to_owned(),
                        summary: summary.to_owned(),
                        ..CheckRunOutput::default()
                    },
                    self.job_url(job),
                )
                .await;
                Ok(())
            }
            PublishUpdate::Failed { job, code, message } => {
                let Some((repo, sha, installation)) = target(&job.payload) else {
                    return Ok(());
                };
                if let JobPayload::PullRequest { number, .. } = &job.payload {
                    let lock = self.lock_for(&format!("{repo}#{number}"));
                    let _serial = lock.lock().await;
                    let body = outcome::failure_comment(code, message, FAILURE_NEXT_STEP);
                    self.upsert_comment(
                        client,
                        repo,
                        *number,
                        &body,
                        IfMissing::Create,
                        installation,
                    )
                    .await?;
                }
                let result = outcome::failure_outcome(message);
                let error = self
                    .status(
                        client,
                        repo,
                        sha,
                        result.state,
                        &result.description,
                        self.job_url(job),
                        installation,
                    )
                    .await;
                self.complete_check_run(
                    job,
                    result.conclusion,
                    CheckRunOutput {
                        title: "The analysis could not run".to_owned(),
                        summary: format!("`{code}`: {message}"),
                        ..CheckRunOutput::default()
                    },
                    self.job_url(job),
                )
                .await;
                error
            }
        }
    }
}

/// The pull request (repository, number) a job's publication ids are stored under.
fn pull_request_of(payload: &JobPayload) -> Option<(&RepoName, u64)> {
    match payload {
        JobPayload::PullRequest { repo, number, .. } => Some((repo, *number)),
        _ => None,
    }
}

/// One annotation per high signal, on the template the resource came from (Helm's `# Source:`
/// comment, under the chart's directory) or, when the renderer named none, on the chart's
/// `Chart.yaml`. Rendering loses the template line a field came from, so annotations point
/// at the file's first line and name the field.
fn high_signal_annotations(report: &service::pr::PrReport) -> Vec<github_client::Annotation> {
    let mut out = Vec::new();
    for chart in &report.charts {
        let Ok(result) = &chart.outcome else {
            continue;
        };
        let resources = &result.comparison.structured_diff.resources;
        for (index, signal) in result.comparison.impact.signals.iter().enumerate() {
            if signal.level != diff_core::Level::High {
                continue;
            }
            let mut message = format!("{}: {}", signal.resource, signal.description);
            if let Some(field) = &signal.field {
                message.push_str(&format!(" (field `{field}`)"));
            }
            if let Some(scenario) = &chart.scenario {
                message.push_str(&format!(" [scenario {scenario}]"));
            }
            let title = format!("High risk: {}", signal.title);
            let annotation = |path: String, line: u32, message: String, title: String| {
                github_client::Annotation {
                    path,
                    start_line: u64::from(line),
                    end_line: u64::from(line),
                    annotation_level: github_client::AnnotationLevel::Warning,
                    message,
                    title: Some(title),
                }
            };
            // The line behind the signal in the head's template, and the value it reads
            // when that changed (R29); see `service::pr::SignalSource`.
            if let Some(source) = chart.sources.iter().find(|s| s.signal == index) {
                out.push(annotation(
                    source.path.clone(),
                    source.line,
                    message.clone(),
                    title.clone(),
                ));
                if let Some(values) = &source.values {
                    out.push(annotation(
                        values.path.clone(),
                        values.line,
                        format!("This value changed; {message}"),
                        format!("{title} (changed value)"),
                    ));
                }
                continue;
            }
            // No template known (or the report came from elsewhere): the chart's template or
            // Chart.yaml, line 1.
            let source = service::pr::signal_template(resources, signal);
            let path = format!(
                "{}/{}",
                chart.chart_path.trim_end_matches('/'),
                source.unwrap_or("Chart.yaml")
            );
            out.push(annotation(path, 1, message, title));
        }
    }
    out
}

/// [`target`], owned, and for a release on `commit`, its tag's commit (known once the tag
/// was resolved).
fn owned_target(
    payload: &JobPayload,
    commit: Option<&str>,
) -> Option<(RepoName, CommitSha, Option<u64>)> {
    if let Some((repo, sha, installation)) = target(payload) {
        return Some((repo.clone(), sha.clone(), installation));
    }
    match payload {
        JobPayload::Release {
            repo,
            installation_id,
            ..
        } => Some((repo.clone(), commit?.parse().ok()?, *installation_id)),
        _ => None,
    }
}

/// Repository, commit and installation a job's statuses go to (releases have no commit here).
fn target(payload: &JobPayload) -> Option<(&RepoName, &CommitSha, Option<u64>)> {
    match payload {
        JobPayload::PullRequest {
            repo,
            head_sha,
            installation_id,
            ..
        } => Some((repo, head_sha, *installation_id)),
        JobPayload::Push {
            repo,
            after,
            installation_id,
            ..
        } => Some((repo, after, *installation_id)),
        JobPayload::Release { .. } => None,
    }
}

impl Publisher for GithubPublisher {
    fn publish<'a>(&'a self, update: &'a PublishUpdate) -> PublishFuture<'a> {
        Box::pin(self.publish_update(update))
    }

    fn acknowledge_rerun<'a>(&'a self, rerun: &'a RerunRequest) -> PublishFuture<'a> {
        Box::pin(async move {
            let client = match &rerun.delivery {
                Some(delivery) => self.client.for_delivery(delivery),
                None => self.client.clone(),
            };
            client
                .add_reaction(
                    &rerun.repo,
                    rerun.comment_id,
                    RERUN_REACTION,
                    rerun.installation_id,
                )
                .await
                .map_err(|e| PublishError(e.to_string()))
        })
    }

    fn github_rate_limit(&self) -> Option<github_client::RateLimitSnapshot> {
        Some(self.client.rate_limit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn publisher(dir: &std::path::Path) -> GithubPublisher {
        // Never contacted: only the lock map is exercised.
        let client = GithubClient::builder("http://127.0.0.1:9")
            .auth(github_client::Auth::Token("unused".into()))
            .build()
            .unwrap();
        let url = format!("sqlite://{}", dir.join("store.db").display());
        let store = store::open(&url, &store::OpenOptions::default())
            .await
            .unwrap();
        GithubPublisher::new(client, None, store)
    }

    fn keys(p: &GithubPublisher) -> Vec<String> {
        let mut k: Vec<String> = p.per_pr.lock().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[tokio::test]
    async fn per_pr_locks_are_dropped_once_nobody_holds_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = publisher(dir.path()).await;
        let held = p.lock_for("o/r#1");
        let guard = held.lock().await;
        drop(p.lock_for("o/r#2"));
        let waiting = p.lock_for("o/r#3");
        // #2 is unused and goes; #1 (locked) and #3 (a caller about to lock) stay.
        drop(p.lock_for("o/r#4"));
        assert_eq!(keys(&p), ["o/r#1", "o/r#3", "o/r#4"]);
        // The same PR gets the same mutex while it is held: publications stay serialized.
        let again = p.lock_for("o/r#1");
        assert!(Arc::ptr_eq(&again, &held));
        assert!(again.try_lock().is_err());
        drop(guard);
        drop((again, held, waiting));
        drop(p.lock_for("o/r#5"));
        assert_eq!(keys(&p), ["o/r#5"]);
    }
}
