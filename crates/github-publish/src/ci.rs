//! Publishing from a CI run (`chartimpact pr --post`), without a server: the same sticky
//! comment, `chartimpact/analysis` status and check run the server's publisher leaves, in one
//! call per analysis.
//!
//! A CI run remembers nothing between runs, so the comment is always found by marker. Before
//! the comment is written the pull request is read: when it was closed or its head moved on
//! (a newer push, whose own run posts its report), the comment is left alone; the status
//! still goes on the analysed commit, where it is true. A check run is attempted with any
//! token: GitHub Actions' `GITHUB_TOKEN` may write one, a personal token may not (GitHub
//! answers 403 and the check run is skipped).

use github_client::{CheckRunOutput, CheckRunRequest, CheckStatus, GithubClient, RepoName};
use github_ids::CommitSha;
use service::pr::PrReport;

use crate::outcome::{Outcome, failure_comment, failure_outcome, report_comment, report_outcome};
use crate::sticky::{IfMissing, StickyComment, Upserted};
use crate::{CHECK_NAME, Error, set_status};

/// The pull request a CI run publishes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestRef {
    /// The repository (`OWNER/REPO`).
    pub repo: RepoName,
    /// The pull request number.
    pub number: u64,
}

/// What happened to the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommentResult {
    /// Created, updated or found unchanged.
    Posted(Upserted),
    /// Not written: the pull request was closed or moved on to another head.
    Stale {
        /// Why, for people.
        reason: String,
    },
}

/// What happened to the check run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckRunResult {
    /// Created, completed, with this id.
    Created(u64),
    /// Not created because these credentials cannot write check runs (a personal token).
    Skipped {
        /// Why, for people.
        reason: String,
    },
    /// GitHub failed otherwise; the comment and status carry the result anyway.
    Failed {
        /// The error, for people.
        error: String,
    },
}

/// Everything one publication did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published {
    /// The commit the status and check run went on.
    pub head: CommitSha,
    /// The comment.
    pub comment: CommentResult,
    /// The status and its description.
    pub outcome: Outcome,
    /// The check run.
    pub check_run: CheckRunResult,
}

/// Publishes analyses of one pull request with a client acting as `author`.
#[derive(Debug, Clone)]
pub struct CiPublisher {
    client: GithubClient,
    author: String,
    details_url: Option<String>,
}

impl CiPublisher {
    /// A publisher writing through `client` as `author` (see [`crate::author_login`]). Build
    /// the client with `check_runs_with_token(true)` so a `GITHUB_TOKEN` can add the check run.
    pub fn new(client: GithubClient, author: String) -> Self {
        CiPublisher {
            client,
            author,
            details_url: None,
        }
    }

    /// Links the status and the check run to `url` (the CI run's page, where its log is).
    pub fn with_details_url(mut self, url: Option<String>) -> Self {
        self.details_url = url;
        self
    }

    /// Publishes a finished analysis: the report as the comment (or the short note when the
    /// repository's `commentOn` withholds it), the status on the report's head commit and a
    /// check run with the full report.
    pub async fn publish_report(
        &self,
        pr: &PullRequestRef,
        report: &PrReport,
    ) -> Result<Published, Error> {
        let head = commit(&report.head_commit)?;
        let (body, if_missing) = report_comment(report, None);
        let outcome = report_outcome(report);
        let text = report.markdown(None);
        self.publish(pr, head, &body, if_missing, outcome, Some(text))
            .await
    }

    /// Publishes an analysis that could not run on `head`: a comment with the error's `code`
    /// and `message` and `next_step`, an `error` status and a failed check run.
    pub async fn publish_failure(
        &self,
        pr: &PullRequestRef,
        head: &CommitSha,
        code: &str,
        message: &str,
        next_step: &str,
    ) -> Result<Published, Error> {
        let body = failure_comment(code, message, next_step);
        let outcome = failure_outcome(message);
        self.publish(pr, head.clone(), &body, IfMissing::Create, outcome, None)
            .await
    }

    async fn publish(
        &self,
        pr: &PullRequestRef,
        head: CommitSha,
        body: &str,
        if_missing: IfMissing,
        outcome: Outcome,
        text: Option<String>,
    ) -> Result<Published, Error> {
        let client = &self.client;
        let current = client
            .pull_request(&pr.repo, pr.number, None)
            .await
            .map_err(|source| Error::PullRequest {
                repo: pr.repo.clone(),
                number: pr.number,
                source: Box::new(source),
            })?;
        let comment = if current.state != "open" {
            CommentResult::Stale {
                reason: format!("pull request #{} is {}", pr.number, current.state),
            }
        } else if !current.head.sha.eq_ignore_ascii_case(head.as_str()) {
            CommentResult::Stale {
                reason: format!(
                    "the head of pull request #{} is now {} (this run analysed {}); its own run posts the report",
                    pr.number,
                    current.head.sha.get(..7).unwrap_or(&current.head.sha),
                    head.short()
                ),
            }
        } else {
            let sticky = StickyComment {
                repo: &pr.repo,
                number: pr.number,
                author: &self.author,
                installation: None,
            };
            CommentResult::Posted(sticky.upsert(client, body, if_missing, None).await?)
        };
        set_status(
            client,
            &pr.repo,
            &head,
            outcome.state,
            &outcome.description,
            self.details_url.clone(),
            None,
        )
        .await?;
        let check_run = self
            .check_run(&pr.repo, &head, &outcome, text.as_deref())
            .await;
        Ok(Published {
            head,
            comment,
            outcome,
            check_run,
        })
    }

    async fn check_run(
        &self,
        repo: &RepoName,
        head: &CommitSha,
        outcome: &Outcome,
        text: Option<&str>,
    ) -> CheckRunResult {
        let run = CheckRunRequest {
            name: CHECK_NAME.to_owned(),
            head_sha: head.to_string(),
            status: Some(CheckStatus::Completed),
            conclusion: Some(outcome.conclusion),
            details_url: self.details_url.clone(),
            output: Some(CheckRunOutput {
                title: outcome.description.clone(),
                summary: outcome.description.clone(),
                text: text.map(str::to_owned),
                annotations: Vec::new(),
            }),
            ..CheckRunRequest::default()
        };
        match self.client.create_check_run(repo, &run, None).await {
            Ok(id) => CheckRunResult::Created(id),
            Err(e @ github_client::Error::ChecksNeedApp) => CheckRunResult::Skipped {
                reason: e.to_string(),
            },
            Err(e) if e.status() == Some(403) => CheckRunResult::Skipped {
                reason: format!(
                    "these credentials cannot write check runs ({e}); a GitHub Actions GITHUB_TOKEN with `checks: write` can"
                ),
            },
            Err(e) => CheckRunResult::Failed {
                error: e.to_string(),
            },
        }
    }
}

fn commit(sha: &str) -> Result<CommitSha, Error> {
    sha.parse().map_err(|source| Error::Commit {
        commit: sha.to_owned(),
        source,
    })
}
