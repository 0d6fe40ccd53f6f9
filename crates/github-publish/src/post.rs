//! Where `chartimpact pr --post` publishes: the pull request, the API and the token, from the
//! command line where given and from the CI environment otherwise.
//!
//! The token is only ever read from the environment (`GITHUB_TOKEN`): a token on a command
//! line ends up in shell histories and process listings.

use github_client::{Auth, GithubClient, SecretString};
use github_ids::RepoName;

use crate::actions::CiEnvironment;
use crate::ci::{CiPublisher, PullRequestRef};
use crate::{Error, author_login};

/// The variable the token is read from.
pub const TOKEN_VARIABLE: &str = "GITHUB_TOKEN";

/// What the command line says about where to post (unset fields come from the environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostRequest {
    /// `--github-repository OWNER/REPO`.
    pub repository: Option<RepoName>,
    /// `--pull-request N`.
    pub pull_request: Option<u64>,
    /// `--github-api-url URL`.
    pub api_url: Option<String>,
}

impl PostRequest {
    /// A request naming what the command line named.
    pub fn new(
        repository: Option<RepoName>,
        pull_request: Option<u64>,
        api_url: Option<String>,
    ) -> Self {
        PostRequest {
            repository,
            pull_request,
            api_url,
        }
    }
}

/// A resolved place to post: the pull request, the API and the credentials.
#[derive(Debug, Clone)]
pub struct PostTarget {
    /// The pull request.
    pub pr: PullRequestRef,
    /// The REST API's base URL.
    pub api_url: String,
    /// Running inside GitHub Actions (its `GITHUB_TOKEN` may not read `/user`).
    pub in_actions: bool,
    /// The CI run's page, linked from the status and the check run.
    pub details_url: Option<String>,
    token: SecretString,
}

impl PostTarget {
    /// Fills what `given` leaves open from `env`, and takes `token` (the value of
    /// [`TOKEN_VARIABLE`]). Each missing piece is an error saying which flag or variable
    /// provides it.
    pub fn resolve(
        given: &PostRequest,
        env: &CiEnvironment,
        token: Option<String>,
    ) -> Result<PostTarget, Error> {
        let repo = given
            .repository
            .clone()
            .or_else(|| env.repository.clone())
            .ok_or(Error::Missing {
                what: "the repository to post to",
                how: "pass --github-repository OWNER/REPO (GitHub Actions sets GITHUB_REPOSITORY)",
            })?;
        let number = given
            .pull_request
            .or_else(|| env.pull_request.as_ref().map(|p| p.number))
            .ok_or(Error::Missing {
                what: "the pull request to post to",
                how: "pass --pull-request N (in GitHub Actions, a pull_request event's GITHUB_EVENT_PATH names it)",
            })?;
        if number == 0 {
            return Err(Error::Environment {
                variable: "--pull-request",
                reason: "pull request numbers start at 1".into(),
            });
        }
        let token = token
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .ok_or(Error::Missing {
                what: "a GitHub token",
                how: "set GITHUB_TOKEN (in a workflow: `env: GITHUB_TOKEN: ${{ github.token }}`, with `pull-requests: write` and `statuses: write` permissions)",
            })?;
        let api_url = given
            .api_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| env.api_url.clone());
        Ok(PostTarget {
            pr: PullRequestRef { repo, number },
            api_url,
            in_actions: env.in_actions,
            details_url: env.run_url.clone(),
            token: SecretString::new(token),
        })
    }

    /// A client for the target's API with its token. Check runs are attempted with the token:
    /// GitHub Actions' `GITHUB_TOKEN` may write them, other tokens get a 403 that the
    /// publisher reports as skipped.
    pub fn client(&self) -> Result<GithubClient, Error> {
        GithubClient::builder(&self.api_url)
            .auth(Auth::Token(self.token.clone()))
            .check_runs_with_token(true)
            .build()
            .map_err(|source| Error::Client {
                api_url: self.api_url.clone(),
                source: Box::new(source),
            })
    }

    /// A publisher acting as the token's account (asked from GitHub once).
    pub async fn publisher(&self) -> Result<CiPublisher, Error> {
        let client = self.client()?;
        let author = author_login(&client, None, self.in_actions).await?;
        Ok(CiPublisher::new(client, author).with_details_url(self.details_url.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::DEFAULT_API_URL;

    fn env(vars: &[(&str, &str)]) -> CiEnvironment {
        CiEnvironment::read(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    #[test]
    fn flags_win_over_the_environment_and_each_gap_names_its_remedy() {
        let actions = env(&[
            ("GITHUB_REPOSITORY", "acme/from-env"),
            ("GITHUB_API_URL", "https://ghe.example/api/v3"),
        ]);
        let given = PostRequest::new(Some("acme/charts".parse().unwrap()), Some(7), None);
        let t = PostTarget::resolve(&given, &actions, Some("tok".into())).unwrap();
        assert_eq!(t.pr.repo.to_string(), "acme/charts");
        assert_eq!(t.pr.number, 7);
        assert_eq!(t.api_url, "https://ghe.example/api/v3");
        assert!(
            !format!("{t:?}").contains("tok\""),
            "the token stays hidden: {t:?}"
        );

        let none = env(&[]);
        let err = PostTarget::resolve(&PostRequest::default(), &none, Some("t".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--github-repository"), "{err}");
        let only_repo = PostRequest::new(Some("a/b".parse().unwrap()), None, None);
        let err = PostTarget::resolve(&only_repo, &none, Some("t".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--pull-request"), "{err}");
        let full = PostRequest::new(Some("a/b".parse().unwrap()), Some(1), None);
        for token in [None, Some("  ".to_owned())] {
            let err = PostTarget::resolve(&full, &none, token)
                .unwrap_err()
                .to_string();
            assert!(err.contains("GITHUB_TOKEN"), "{err}");
        }
        let t = PostTarget::resolve(&full, &none, Some("t".into())).unwrap();
        assert_eq!(t.api_url, DEFAULT_API_URL);
        let zero = PostRequest::new(Some("a/b".parse().unwrap()), Some(0), None);
        assert!(PostTarget::resolve(&zero, &none, Some("t".into())).is_err());
    }
}
