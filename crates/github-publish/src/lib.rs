//! How ChartImpact shows its analysis of a pull request on GitHub, in one place for the two
//! ways it runs: the server's webhook pipeline and `chartimpact pr --post` in a CI job.
//!
//! - [`StickyComment`]: one comment of ours per pull request, found by
//!   [`COMMENT_MARKER`] among the comments of the account we write as, edited in place, older
//!   copies deleted, an unchanged body never sent again;
//! - [`outcome`]: what a [`service::pr::PrReport`] means on GitHub — the
//!   `chartimpact/analysis` status state and its description (≤ 140 characters), the check
//!   run's conclusion, and which comment the repository's `.chartimpact.yaml` asks for;
//! - [`set_status`]: the commit status under [`STATUS_CONTEXT`];
//! - [`CiPublisher`]: all of it for one analysis from a CI run (comment, status, check run
//!   when the token can), [`PostTarget`]: where a CI run posts (command-line flags, else the
//!   GitHub Actions environment; the token only from `GITHUB_TOKEN`), and [`actions`]: the
//!   pull request a GitHub Actions run is for.
//!
//! The server keeps what only it needs on top (comment and check-run ids remembered in its
//! store, check runs that start `in_progress`); both build on [`github_client`] and neither
//! needs a web framework.
//!
//! # Example
//!
//! ```no_run
//! use github_publish::{CiPublisher, PullRequestRef, author_login};
//!
//! # async fn demo(report: service::pr::PrReport) -> Result<(), Box<dyn std::error::Error>> {
//! let client = github_client::GithubClient::builder("https://api.github.com")
//!     .auth(github_client::Auth::Token("ghp_example".into()))
//!     .check_runs_with_token(true)
//!     .build()?;
//! let author = author_login(&client, None, false).await?;
//! let pr = PullRequestRef { repo: "acme/charts".parse()?, number: 7 };
//! let done = CiPublisher::new(client, author).publish_report(&pr, &report).await?;
//! println!("{:?}: {}", done.comment, done.outcome.description);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod actions;
mod ci;
mod error;
pub mod outcome;
mod post;
mod sticky;

use github_client::{GithubClient, StatusRequest, StatusState};

pub use ci::{CheckRunResult, CiPublisher, CommentResult, Published, PullRequestRef};
pub use error::Error;
pub use github_ids::{CommitSha, RepoName};
pub use outcome::Outcome;
pub use post::{PostRequest, PostTarget, TOKEN_VARIABLE};
pub use service::pr::COMMENT_MARKER;
pub use sticky::{Change, IfMissing, StickyComment, Upserted};

/// The context of every commit status of ours.
pub const STATUS_CONTEXT: &str = "chartimpact/analysis";
/// The name of our check run.
pub const CHECK_NAME: &str = "ChartImpact";

/// Sets the `chartimpact/analysis` status of `sha` (the description is cut to 140
/// characters by the client).
pub async fn set_status(
    client: &GithubClient,
    repo: &RepoName,
    sha: &github_ids::CommitSha,
    state: StatusState,
    description: &str,
    target_url: Option<String>,
    installation: Option<u64>,
) -> Result<(), Error> {
    let status = StatusRequest {
        state,
        context: STATUS_CONTEXT.to_owned(),
        description: Some(description.to_owned()),
        target_url,
    };
    client
        .create_status(repo, sha.as_str(), &status, installation)
        .await
        .map_err(|source| Error::Status {
            repo: repo.clone(),
            sha: sha.to_string(),
            source: Box::new(source),
        })
}

/// The login our comments show: the token's user (`GET /user`), or `<slug>[bot]` for an
/// App. GitHub Actions' `GITHUB_TOKEN` may not read `/user` (403); with `in_actions` that
/// answer means its comments are [`actions::ACTIONS_BOT_LOGIN`]'s.
pub async fn author_login(
    client: &GithubClient,
    installation: Option<u64>,
    in_actions: bool,
) -> Result<String, Error> {
    match client.current_user(installation).await {
        Ok(user) => Ok(user.login),
        Err(e) if in_actions && !client.is_app() && e.status() == Some(403) => {
            Ok(actions::ACTIONS_BOT_LOGIN.to_owned())
        }
        Err(source) => Err(Error::Author {
            source: Box::new(source),
        }),
    }
}
