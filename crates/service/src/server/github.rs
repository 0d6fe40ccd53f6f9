//! The GitHub [`Publisher`]: one sticky PR comment (found by its marker and our own login,
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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use github_client::{
    CheckConclusion, CheckRunOutput, CheckRunRequest, CheckStatus, GithubClient, RepoRef,
    StatusRequest, StatusState,
};

use super::jobs::{
    JobPayload, JobRef, PublishError, PublishFuture, PublishUpdate, Publisher, RerunRequest,
};
use crate::pr::COMMENT_MARKER;

/// Status context every commit status of ours carries.
pub const STATUS_CONTEXT: &str = "chartimpact/analysis";
/// Name of our check run.
pub const CHECK_NAME: &str = "ChartImpact";
/// The reaction that acknowledges a `/chartimpact rerun` comment.
pub const RERUN_REACTION: &str = "rocket";

/// How long the id of an in-progress check run is remembered for its job. A job that stops
/// without publishing (superseded, cancelled) never completes its run; its entry goes after
/// this, longer than any job runs with all its retries.
const CHECK_RUN_MEMORY: Duration = Duration::from_secs(6 * 3600);

/// Publishes job results on GitHub.
pub struct GithubPublisher {
    client: GithubClient,
    public_url: Option<String>,
    login: tokio::sync::OnceCell<String>,
    per_pr: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The in-progress check run of each running job (App auth), completed with its result.
    check_runs: Mutex<HashMap<String, (u64, Instant)>>,
}

impl GithubPublisher {
    /// A publisher over `client`; links point at `public_url` (this server's public base URL).
    pub fn new(client: GithubClient, public_url: Option<String>) -> Self {
        GithubPublisher {
            client,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            login: tokio::sync::OnceCell::new(),
            per_pr: Mutex::new(HashMap::new()),
            check_runs: Mutex::new(HashMap::new()),
        }
    }

    /// Creates the job's check run as `in_progress` (App auth only; a token cannot write
    /// checks). A retried attempt of the same job keeps the run it already has.
    async fn start_check_run(&self, job: &JobRef) {
        let Some((repo, sha, installation)) = target(&job.payload) else {
            return;
        };
        if !self.client.is_app() || self.check_run_of(job, false).is_some() {
            return;
        }
        let run = CheckRunRequest {
            name: CHECK_NAME.to_owned(),
            head_sha: sha,
            status: Some(CheckStatus::InProgress),
            details_url: self.job_url(job),
            external_id: Some(job.id.to_string()),
            output: Some(CheckRunOutput {
                title: "Analysing the Helm charts this change affects…".to_owned(),
                summary: "ChartImpact is rendering and comparing every chart this change affects."
                    .to_owned(),
                ..CheckRunOutput::default()
            }),
            ..CheckRunRequest::default()
        };
        match self
            .client
            .create_check_run(&repo, &run, installation)
            .await
        {
            Ok(id) => {
                let mut runs = self.check_runs.lock().unwrap_or_else(|e| e.into_inner());
                runs.retain(|_, (_, at)| at.elapsed() < CHECK_RUN_MEMORY);
                runs.insert(job.id.to_string(), (id, Instant::now()));
            }
            Err(e) => tracing::warn!(job = %job.id, error = %e, "check run not started"),
        }
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

    /// Completes the job's check run with `conclusion`: the in-progress run when this process
    /// started it, else a new completed one (the job started on another replica, or the start
    /// failed). Failures are logged: the comment and status carry the result too.
    async fn complete_check_run(
        &self,
        job: &JobRef,
        conclusion: CheckConclusion,
        output: CheckRunOutput,
        details_url: Option<String>,
    ) {
        let Some((repo, sha, installation)) = target(&job.payload) else {
            return;
        };
        if !self.client.is_app() {
            return;
        }
        let run = CheckRunRequest {
            name: CHECK_NAME.to_owned(),
            head_sha: sha,
            status: Some(CheckStatus::Completed),
            conclusion: Some(conclusion),
            details_url,
            external_id: Some(job.id.to_string()),
            output: Some(output),
            ..CheckRunRequest::default()
        };
        let done = match self.check_run_of(job, true) {
            Some(id) => {
                self.client
                    .update_check_run(&repo, id, &run, installation)
                    .await
            }
            None => self
                .client
                .create_check_run(&repo, &run, installation)
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
            .map(|u| format!("{u}/api/jobs/{}", job.id))
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
    async fn login(&self, installation: Option<u64>) -> Result<&str, PublishError> {
        self.login
            .get_or_try_init(|| async {
                self.client
                    .current_user(installation)
                    .await
                    .map(|u| u.login)
                    .map_err(|e| PublishError(e.to_string()))
            })
            .await
            .map(String::as_str)
    }

    async fn status(
        &self,
        repo: &RepoRef,
        sha: &str,
        state: StatusState,
        description: String,
        target_url: Option<String>,
        installation: Option<u64>,
    ) -> Result<(), PublishError> {
        let status = StatusRequest {
            state,
            context: STATUS_CONTEXT.to_owned(),
            description: Some(description),
            target_url,
        };
        self.client
            .create_status(repo, sha, &status, installation)
            .await
            .map_err(|e| PublishError(e.to_string()))
    }

    /// Creates (when `create`) or updates our one comment on the PR; removes older duplicates.
    async fn upsert_comment(
        &self,
        repo: &RepoRef,
        number: u64,
        body: &str,
        create: bool,
        installation: Option<u64>,
    ) -> Result<(), PublishError> {
        let err = |e: github_client::Error| PublishError(e.to_string());
        let login = self.login(installation).await?.to_owned();
        let comments = self
            .client
            .issue_comments(repo, number, installation)
            .await
            .map_err(err)?;
        let mut ours: Vec<_> = comments
            .into_iter()
            .filter(|c| c.body.contains(COMMENT_MARKER) && c.user_login == login)
            .collect();
        ours.sort_by_key(|c| c.id);
        match ours.split_first() {
            None if !create => {}
            None => {
                self.client
                    .create_issue_comment(repo, number, body, installation)
                    .await
                    .map_err(err)?;
            }
            Some((keep, extra)) => {
                if keep.body != body {
                    self.client
                        .update_issue_comment(repo, keep.id, body, installation)
                        .await
                        .map_err(err)?;
                }
                for c in extra {
                    self.client
                        .delete_issue_comment(repo, c.id, installation)
                        .await
                        .map_err(err)?;
                }
            }
        }
        Ok(())
    }

    async fn publish_update(&self, update: &PublishUpdate) -> Result<(), PublishError> {
        match update {
            PublishUpdate::Started { job } => {
                let Some((repo, sha, installation)) = target(&job.payload) else {
                    return Ok(());
                };
                let pending = self
                    .status(
                        &repo,
                        &sha,
                        StatusState::Pending,
                        "Analysing the Helm charts this change affects…".into(),
                        self.job_url(job),
                        installation,
                    )
                    .await;
                self.start_check_run(job).await;
                pending
            }
            PublishUpdate::Finished {
                job,
                report,
                compare_ids,
            } => {
                let Some((repo, sha, installation)) = target(&job.payload) else {
                    return Ok(());
                };
                let verdict = report.verdict();
                let failed = report.charts.iter().filter(|c| c.outcome.is_err()).count();
                let fails_policy = report.fails_policy();
                let description = if failed > 0 {
                    format!(
                        "{} of {} chart comparisons failed; see the comment",
                        failed,
                        report.charts.len()
                    )
                } else if fails_policy {
                    format!(
                        "{}: fails this repository's policy (failOn: {})",
                        crate::pr::verdict_words(verdict),
                        report.fail_on.as_str()
                    )
                } else if report.charts.is_empty() {
                    "No Helm chart is affected".to_owned()
                } else {
                    format!(
                        "{}: {} chart comparison(s)",
                        crate::pr::verdict_words(verdict),
                        report.charts.len()
                    )
                };
                let url = self.result_url(job, compare_ids);
                if let JobPayload::PullRequest {
                    number, head_sha, ..
                } = &job.payload
                {
                    let lock = self.lock_for(&format!("{repo}#{number}"));
                    let _serial = lock.lock().await;
                    // Stale results are not posted: the PR closed or moved on meanwhile.
                    let pr = self
                        .client
                        .pull_request(&repo, *number, installation)
                        .await
                        .map_err(|e| PublishError(e.to_string()))?;
                    if pr.state != "open" || pr.head.sha != *head_sha {
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
                    if report.wants_comment() {
                        let body = report.markdown(self.job_url(job).as_deref());
                        self.upsert_comment(&repo, *number, &body, true, installation)
                            .await?;
                    } else {
                        let body = report.summary_markdown();
                        self.upsert_comment(&repo, *number, &body, false, installation)
                            .await?;
                    }
                }
                let state = if failed > 0 {
                    StatusState::Error
                } else if fails_policy {
                    StatusState::Failure
                } else {
                    StatusState::Success
                };
                self.status(
                    &repo,
                    &sha,
                    state,
                    description.clone(),
                    url.clone(),
                    installation,
                )
                .await?;
                let conclusion = if failed > 0 || fails_policy {
                    CheckConclusion::Failure
                } else if report.fail_on != crate::pr::FailOn::Never {
                    // A policy was set and passed.
                    CheckConclusion::Success
                } else {
                    CheckConclusion::Neutral
                };
                self.complete_check_run(
                    job,
                    conclusion,
                    CheckRunOutput {
                        title: description.clone(),
                        summary: description,
                        text: Some(report.markdown(None)),
                        annotations: Vec::new(),
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
                    let body = format!(
                        "{COMMENT_MARKER}\n## ChartImpact: the analysis could not run\n\n`{code}`: {message}\n\nPush a fix, or comment `/chartimpact rerun` to try again.\n"
                    );
                    self.upsert_comment(&repo, *number, &body, true, installation)
                        .await?;
                }
                let error = self
                    .status(
                        &repo,
                        &sha,
                        StatusState::Error,
                        format!("Analysis failed: {message}"),
                        self.job_url(job),
                        installation,
                    )
                    .await;
                self.complete_check_run(
                    job,
                    CheckConclusion::Failure,
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

/// Repository, commit and installation a job's statuses go to (releases have no commit here).
fn target(payload: &JobPayload) -> Option<(RepoRef, String, Option<u64>)> {
    let (repo, sha, installation) = match payload {
        JobPayload::PullRequest {
            repo,
            head_sha,
            installation_id,
            ..
        } => (repo, head_sha.clone(), *installation_id),
        JobPayload::Push {
            repo,
            after,
            installation_id,
            ..
        } => (repo, after.clone(), *installation_id),
        JobPayload::Release { .. } => return None,
    };
    let (owner, name) = repo.split_once('/')?;
    Some((RepoRef::new(owner, name), sha, installation))
}

impl Publisher for GithubPublisher {
    fn publish<'a>(&'a self, update: &'a PublishUpdate) -> PublishFuture<'a> {
        Box::pin(self.publish_update(update))
    }

    fn acknowledge_rerun<'a>(&'a self, rerun: &'a RerunRequest) -> PublishFuture<'a> {
        Box::pin(async move {
            let Some((owner, name)) = rerun.repo.split_once('/') else {
                return Ok(());
            };
            self.client
                .add_reaction(
                    &RepoRef::new(owner, name),
                    rerun.comment_id,
                    RERUN_REACTION,
                    rerun.installation_id,
                )
                .await
                .map_err(|e| PublishError(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publisher() -> GithubPublisher {
        // Never contacted: only the lock map is exercised.
        let client = GithubClient::builder("http://127.0.0.1:9")
            .auth(github_client::Auth::Token("unused".into()))
            .build()
            .unwrap();
        GithubPublisher::new(client, None)
    }

    fn keys(p: &GithubPublisher) -> Vec<String> {
        let mut k: Vec<String> = p.per_pr.lock().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[tokio::test]
    async fn per_pr_locks_are_dropped_once_nobody_holds_them() {
        let p = publisher();
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
