//! Test-only helpers for ChartImpact: an in-process fake of the GitHub REST API, git
//! fixtures ([`git`], [`RepoBuilder`]), a [`FakeRenderer`] for tests above rendering, and chart
//! repositories on loopback ([`chart_repos`]: a Helm repository server, a real OCI registry),
//! and [`GitHttpServer`]: `git http-backend` behind basic auth, for private repositories.
//!
//! [`FakeGithub`] is an axum server on `127.0.0.1:0` holding its state behind a mutex
//! (the bors pattern, STYLE.md rule 17). It behaves like api.github.com for the calls the
//! service makes: `GET /user`, `GET /app`, installation tokens, PRs and their files (paged
//! with `Link`), issue comments (paged; create/update/delete; reactions), commit statuses and
//! check runs. It sends `x-ratelimit-*` headers and ETags (304 on `If-None-Match`), answers
//! 401 without credentials and 404 `{"message":"Not Found"}` for unknown things, enforces
//! the documented limits (comment ≤ 65,536 chars, status description ≤ 140, ≤ 50
//! annotations per request; reference §3) and validates request bodies against the JSON
//! Schemas in `tests/data/github/rest/schemas` (a failing body is a 422, recorded in
//! [`FakeGithub::validation_failures`]).
//!
//! Tests seed it ([`FakeGithub::add_pull_request`]), inspect it
//! ([`FakeGithub::comments`], [`FakeGithub::statuses`], [`FakeGithub::check_runs`],
//! [`FakeGithub::requests`]) and inject faults ([`FakeGithub::fail_next`], [`Fault`]).
//! [`FakeGithub::start_replay`] serves recorded octokit exchanges (nock format) instead.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let gh = testkit::FakeGithub::start().await;
//! gh.add_pull_request("octo", "charts", 7, "headsha", "basesha", ["charts/app/values.yaml"]);
//! gh.fail_next("GET", "/repos/octo/charts/pulls/7", 502, &[]);
//! assert!(gh.url().starts_with("http://127.0.0.1:"));
//! assert!(gh.comments("octo", "charts", 7).is_empty());
//! # }
//! ```
#![deny(missing_docs)]

pub mod chart_repos;
mod git;
mod git_http;
mod render;
mod replay;
pub mod schema;
mod server;
mod state;

pub use git::{RepoBuilder, files, git, tree};
pub use git_http::{GitCredentialCheck, GitHttpServer, GitRequest};
pub use render::FakeRenderer;
pub use replay::{ReplayEntry, ReplayMismatch, load_fixture};
pub use server::{
    FakeGithub, MAX_ANNOTATIONS, MAX_COMMENT_CHARS, MAX_PR_FILES, MAX_STATUS_CONTEXT_CHARS,
    MAX_STATUS_DESCRIPTION_CHARS, github_data_dir, github_fixture,
};
/// The RSA key (PKCS#1 PEM) of the test GitHub App: register it with
/// [`FakeGithub::set_app`] and give it to the client's App auth. A throwaway key made for
/// tests, shared with github-client's own tests.
pub const TEST_APP_PRIVATE_KEY: &str =
    include_str!("../../github-client/tests/fixtures/test-app-key.pem");

pub use state::{
    Fault, FileSeed, PullSeed, RecordedRequest, StoredCheckRun, StoredComment, StoredStatus,
    ValidationFailure,
};
