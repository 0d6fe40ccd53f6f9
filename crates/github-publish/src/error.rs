//! The one error type of the crate.

use std::path::PathBuf;

use github_ids::RepoName;

/// Why a publication (or reading the CI environment) failed. GitHub's own answer is the
/// [`source`](std::error::Error::source); [`Error::full_message`] joins the chain for a log
/// line. Messages never carry tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, listing, creating, updating or deleting the sticky comment failed.
    #[error("could not {action} on {repo}#{number}")]
    Comment {
        /// What was attempted (`list the comments`, `update our comment`, …).
        action: &'static str,
        /// The repository.
        repo: RepoName,
        /// The pull request.
        number: u64,
        /// GitHub's answer.
        #[source]
        source: Box<github_client::Error>,
    },
    /// Setting the commit status failed.
    #[error("could not set the {context} status on {repo}@{sha}", context = crate::STATUS_CONTEXT)]
    Status {
        /// The repository.
        repo: RepoName,
        /// The commit.
        sha: String,
        /// GitHub's answer.
        #[source]
        source: Box<github_client::Error>,
    },
    /// Reading the pull request failed.
    #[error("could not read pull request {repo}#{number}")]
    PullRequest {
        /// The repository.
        repo: RepoName,
        /// The pull request.
        number: u64,
        /// GitHub's answer.
        #[source]
        source: Box<github_client::Error>,
    },
    /// Which account the credentials act as could not be found out (it decides which
    /// comment is ours).
    #[error("could not tell which account the GitHub credentials belong to (GET /user)")]
    Author {
        /// GitHub's answer.
        #[source]
        source: Box<github_client::Error>,
    },
    /// A CI environment variable is malformed.
    #[error("{variable}: {reason}")]
    Environment {
        /// The variable.
        variable: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The event payload of a GitHub Actions run (`GITHUB_EVENT_PATH`) is unusable.
    #[error("the GitHub Actions event at {path}: {reason}", path = path.display())]
    Event {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Something needed to post is neither on the command line nor in the environment.
    #[error("{what} is not known: {how}")]
    Missing {
        /// What is missing.
        what: &'static str,
        /// Where it comes from.
        how: &'static str,
    },
    /// The GitHub client could not be built (an unusable API URL).
    #[error("cannot use the GitHub API at {api_url}")]
    Client {
        /// The URL.
        api_url: String,
        /// Why.
        #[source]
        source: Box<github_client::Error>,
    },
    /// A commit id that is not 40 hex digits.
    #[error("{commit:?} is not a commit id")]
    Commit {
        /// What was given.
        commit: String,
        /// Why it was refused.
        #[source]
        source: github_ids::IdError,
    },
}

impl Error {
    /// The message followed by each source's, joined by `: ` (for one log line).
    pub fn full_message(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    /// The HTTP status GitHub answered, when the failure was GitHub's answer.
    pub fn github_status(&self) -> Option<u16> {
        match self {
            Error::Comment { source, .. }
            | Error::Status { source, .. }
            | Error::PullRequest { source, .. }
            | Error::Author { source } => source.status(),
            _ => None,
        }
    }
}
