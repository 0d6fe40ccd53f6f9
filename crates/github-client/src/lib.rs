//! GitHub REST over reqwest for ChartImpact: authentication (a token, or a GitHub App JWT
//! exchanged for cached installation tokens), PR reads, the primitives of the sticky PR
//! comment, commit statuses and check runs.
//!
//! The main type is [`GithubClient`], built with an injectable API URL so tests run it
//! against the fake GitHub of the `testkit` crate. It applies the rules of the project's
//! GitHub research notes (`reference/github.md` §3–§5, requirements R19–R30):
//!
//! - every request sends `User-Agent`, `Accept: application/vnd.github+json`,
//!   `X-GitHub-Api-Version: 2022-11-28` and `Authorization: Bearer …` (R19);
//! - writes are serialized per installation with a minimum spacing (R19);
//! - reads retry 5xx and network errors with exponential backoff, creates (`POST`) never
//!   retry blindly; rate-limit refusals (403/429) are waited out using `retry-after`,
//!   `x-ratelimit-reset` or a secondary-limit minimum, within bounded retries (R20);
//! - the last `x-ratelimit-*` headers are kept ([`GithubClient::rate_limit`]) and requests
//!   pause while `remaining` is below a floor (R21);
//! - PR and list reads send `If-None-Match` and reuse the cached body on 304 (R22);
//! - pagination follows `Link: rel="next"` verbatim with `per_page=100`; PR files stop at
//!   3,000 with [`Error::TooManyFiles`] (R23);
//! - redirects are followed only on the API host, at most 3 hops (R24);
//! - App JWTs are RS256 with `iat = now − 60`, `exp = now + 540`; installation tokens are
//!   cached and refreshed with < 60 s left, and a 401 triggers one refresh (R25);
//! - status descriptions are cut to 140 chars (R28), check run annotations go out in chunks
//!   of 50 (R29), and check runs are refused up front with token auth (R30) unless the token
//!   is declared an installation token that may write them (GitHub Actions' `GITHUB_TOKEN`,
//!   [`ClientBuilder::check_runs_with_token`]);
//! - the work of one webhook delivery goes through [`GithubClient::for_delivery`], whose
//!   requests (token minting included) carry `X-GitHub-Delivery` (R32).
//!
//! Secrets live in [`SecretString`], whose `Debug` prints `***`; tokens never appear in logs
//! or errors (R31).
//!
//! # Example
//!
//! ```no_run
//! use github_client::{Auth, GithubClient, RepoName, StatusRequest, StatusState};
//!
//! # async fn demo() -> Result<(), github_client::Error> {
//! let client = GithubClient::builder("https://api.github.com")
//!     .auth(Auth::Token("ghp_example".into()))
//!     .build()?;
//! let repo = RepoName::new("octo-org", "charts").expect("a valid repository name");
//! let pr = client.pull_request(&repo, 42, None).await?;
//! let files = client.pull_request_files(&repo, 42, None).await?;
//! client
//!     .create_status(
//!         &repo,
//!         &pr.head.sha,
//!         &StatusRequest {
//!             state: StatusState::Success,
//!             context: "chartimpact/analysis".into(),
//!             description: Some(format!("{} files analysed", files.len())),
//!             target_url: None,
//!         },
//!         None,
//!     )
//!     .await?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod api;
mod auth;
mod client;
mod error;
mod link;
mod models;
mod ratelimit;
mod secret;

pub use auth::Auth;
pub use client::{API_VERSION, ClientBuilder, GithubClient};
pub use error::Error;
/// Repositories are named by [`github_ids::RepoName`], validated where the name came in.
pub use github_ids::{DeliveryId, RepoName};
pub use models::{
    Annotation, AnnotationLevel, CheckConclusion, CheckRunOutput, CheckRunRequest, CheckStatus,
    Comment, GitToken, MAX_ANNOTATIONS_PER_REQUEST, MAX_CHECK_OUTPUT_CHARS, MAX_COMMENT_CHARS,
    MAX_PR_FILES, MAX_STATUS_CONTEXT_CHARS, MAX_STATUS_DESCRIPTION_CHARS, PrBranch, PullFile,
    PullRequest, RateLimitSnapshot, StatusRequest, StatusState, User,
};
pub use reqwest::Method;
pub use secret::SecretString;
