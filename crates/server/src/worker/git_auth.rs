//! Git credentials for a job: the server's GitHub credentials, for the job's repository only.
//!
//! With App auth each job mints an installation token scoped to its one repository
//! (`repositories: [name]`), refreshed when it nears expiry or is refused mid-fetch; with a
//! token, that token. Either goes to git as basic auth (`x-access-token`) in a header, never
//! into a URL, a mirror, a result, an error or a log line.

use std::sync::{Arc, Mutex};

use github_client::{GitToken, GithubClient, RepoName};
use service::{CredentialSource, GitAuth, GitCredentials};

use super::Failure;

/// Seconds before expiry an installation token is replaced.
const REFRESH_MARGIN_SECS: i64 = 300;

/// The credentials a job's git fetches use. A job without credentials to use (no GitHub
/// client, or App auth on a delivery that named no installation) fetches anonymously, which
/// public repositories allow.
pub(crate) async fn for_job(
    client: Option<&GithubClient>,
    repo: &RepoName,
    installation: Option<u64>,
) -> Result<GitAuth, Failure> {
    let Some(client) = client else {
        return Ok(GitAuth::Anonymous);
    };
    let repo_ref = repo.clone();
    if client.is_app() && installation.is_none() {
        tracing::warn!(
            repo = %repo,
            "the delivery names no GitHub App installation: git fetches anonymously"
        );
        return Ok(GitAuth::Anonymous);
    }
    let token = client
        .git_token(&repo_ref, installation)
        .await
        .map_err(|e| Failure {
            code: if e.is_retryable() {
                "github_unavailable"
            } else {
                "repository_access_denied"
            },
            message: format!("no git credentials for {repo} from GitHub: {e}"),
            retryable: e.is_retryable(),
        })?;
    let identity = match installation.filter(|_| client.is_app()) {
        Some(id) => format!("github-app-installation-{id}"),
        None => {
            // The token's digest, not the token: a different token may read different things.
            let d = ring::digest::digest(&ring::digest::SHA256, token.token.expose().as_bytes());
            let hex: String = d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("github-token-{hex}")
        }
    };
    let source = JobTokens {
        client: client.clone(),
        repo: repo_ref,
        installation,
        runtime: tokio::runtime::Handle::current(),
        current: Mutex::new(token),
    };
    Ok(GitAuth::from_source(identity, Arc::new(source)))
}

/// The job's token, replaced by a fresh one (App auth) when it nears expiry or is refused.
struct JobTokens {
    client: GithubClient,
    repo: RepoName,
    installation: Option<u64>,
    /// Git runs on a blocking thread; minting is async, on the server's runtime.
    runtime: tokio::runtime::Handle,
    current: Mutex<GitToken>,
}

impl JobTokens {
    fn fresh_enough(token: &GitToken) -> bool {
        token.expires_at.is_none_or(|at| {
            at.as_second() - jiff::Timestamp::now().as_second() > REFRESH_MARGIN_SECS
        })
    }
}

impl CredentialSource for JobTokens {
    fn credentials(&self, refresh: bool) -> Result<GitCredentials, String> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if !refresh && Self::fresh_enough(&current) {
            return Ok(GitCredentials::github_token(current.token.expose()));
        }
        if !self.client.is_app() {
            return Err("the GitHub token was refused".into());
        }
        tracing::info!(
            repo = %self.repo,
            installation_id = self.installation,
            refresh,
            "minting a new installation token for git"
        );
        let minted = self
            .runtime
            .block_on(self.client.git_token(&self.repo, self.installation))
            .map_err(|e| e.to_string())?;
        *current = minted;
        Ok(GitCredentials::github_token(current.token.expose()))
    }

    fn can_refresh(&self) -> bool {
        self.client.is_app()
    }
}
