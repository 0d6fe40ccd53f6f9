//! What a GitHub Actions run tells about the pull request it runs for: the repository
//! (`GITHUB_REPOSITORY`), and from the event payload at `GITHUB_EVENT_PATH` the pull request's
//! number and its base and head commits.
//!
//! Everything is read through a lookup function rather than the process environment, so a
//! caller decides where the variables come from (and tests pass their own).

use std::path::PathBuf;

use github_ids::{CommitSha, RepoName};
use serde_json::Value;

use crate::Error;

/// The login of GitHub Actions' `GITHUB_TOKEN`: comments it writes show this author.
pub const ACTIONS_BOT_LOGIN: &str = "github-actions[bot]";

/// The API GitHub.com serves (`GITHUB_API_URL` names another, e.g. GitHub Enterprise's).
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// What the CI environment says (every field optional: outside Actions all are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CiEnvironment {
    /// `GITHUB_ACTIONS=true`: running inside GitHub Actions.
    pub in_actions: bool,
    /// `GITHUB_REPOSITORY`, when set.
    pub repository: Option<RepoName>,
    /// The pull request of the triggering event, when it is about one.
    pub pull_request: Option<EventPullRequest>,
    /// `GITHUB_API_URL`, else [`DEFAULT_API_URL`].
    pub api_url: String,
    /// The page of this workflow run (`GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/
    /// GITHUB_RUN_ID`), where the status and check run link to.
    pub run_url: Option<String>,
}

/// The pull request an Actions event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventPullRequest {
    /// Its number.
    pub number: u64,
    /// Its base commit at the time of the event (`None` for events that do not carry it,
    /// e.g. a comment on the pull request).
    pub base_sha: Option<CommitSha>,
    /// Its head commit at the time of the event (likewise).
    pub head_sha: Option<CommitSha>,
}

impl CiEnvironment {
    /// Reads the environment through `var` (e.g. `|k| std::env::var(k).ok()`). An unset or
    /// empty variable counts as absent; a malformed one is an error naming it.
    pub fn read(var: impl Fn(&str) -> Option<String>) -> Result<CiEnvironment, Error> {
        let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let repository = var("GITHUB_REPOSITORY")
            .map(|v| {
                v.trim()
                    .parse::<RepoName>()
                    .map_err(|e| Error::Environment {
                        variable: "GITHUB_REPOSITORY",
                        reason: format!("{v:?} is not OWNER/REPO: {e}"),
                    })
            })
            .transpose()?;
        let pull_request = match var("GITHUB_EVENT_PATH") {
            Some(path) => read_event(PathBuf::from(path))?,
            None => None,
        };
        let run_url = match (var("GITHUB_SERVER_URL"), &repository, var("GITHUB_RUN_ID")) {
            (Some(server), Some(repo), Some(run)) if run.bytes().all(|b| b.is_ascii_digit()) => {
                Some(format!(
                    "{}/{repo}/actions/runs/{run}",
                    server.trim_end_matches('/')
                ))
            }
            _ => None,
        };
        Ok(CiEnvironment {
            in_actions: var("GITHUB_ACTIONS").as_deref() == Some("true"),
            run_url,
            repository,
            pull_request,
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_owned()),
        })
    }
}

/// The pull request of the event payload at `path`; `None` when the event is not about one
/// (a push, a schedule).
pub fn read_event(path: PathBuf) -> Result<Option<EventPullRequest>, Error> {
    let bad = |reason: String| Error::Event {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let event: Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    pull_request_of(&event).map_err(bad)
}

/// `pull_request` and `pull_request_target` carry the pull request with both commits; a
/// comment on a pull request (`issue_comment`) only its number.
fn pull_request_of(event: &Value) -> Result<Option<EventPullRequest>, String> {
    let sha = |side: &Value, which: &str| -> Result<Option<CommitSha>, String> {
        match side.pointer("/sha").and_then(Value::as_str) {
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|e| format!("pull_request.{which}.sha {s:?}: {e}")),
            None => Ok(None),
        }
    };
    if let Some(pr) = event.get("pull_request").filter(|v| v.is_object()) {
        let number = pr
            .get("number")
            .or_else(|| event.get("number"))
            .and_then(Value::as_u64)
            .ok_or("pull_request.number is missing")?;
        return Ok(Some(EventPullRequest {
            number,
            base_sha: sha(&pr["base"], "base")?,
            head_sha: sha(&pr["head"], "head")?,
        }));
    }
    let issue = &event["issue"];
    if issue.get("pull_request").is_some_and(|v| v.is_object())
        && let Some(number) = issue.get("number").and_then(Value::as_u64)
    {
        return Ok(Some(EventPullRequest {
            number,
            base_sha: None,
            head_sha: None,
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pull_request_events_carry_number_and_both_commits() {
        let (b, h) = ("a".repeat(40), "B".repeat(40));
        let pr = pull_request_of(&json!({"action": "synchronize", "number": 7,
            "pull_request": {"number": 7, "base": {"sha": b}, "head": {"sha": h}}}))
        .unwrap()
        .unwrap();
        assert_eq!(pr.number, 7);
        assert_eq!(pr.base_sha.unwrap().as_str(), b);
        assert_eq!(pr.head_sha.unwrap().as_str(), "b".repeat(40));
        let on_comment =
            pull_request_of(&json!({"issue": {"number": 9, "pull_request": {"url": "u"}}}))
                .unwrap()
                .unwrap();
        assert_eq!((on_comment.number, on_comment.head_sha), (9, None));
        assert_eq!(
            pull_request_of(&json!({"ref": "refs/heads/main"})).unwrap(),
            None
        );
        assert_eq!(
            pull_request_of(&json!({"issue": {"number": 3}})).unwrap(),
            None
        );
        let err = pull_request_of(&json!({"pull_request": {"number": 1, "head": {"sha": "nope"}}}))
            .unwrap_err();
        assert!(err.contains("pull_request.head.sha \"nope\""), "{err}");
    }

    #[test]
    fn the_environment_is_read_through_the_lookup() {
        let dir = std::env::temp_dir().join(format!("ci-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let event = dir.join("event.json");
        std::fs::write(
            &event,
            r#"{"pull_request": {"number": 12, "base": {}, "head": {}}}"#,
        )
        .unwrap();
        let vars = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/charts"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
            ("GITHUB_API_URL", ""),
            ("GITHUB_SERVER_URL", "https://github.com/"),
            ("GITHUB_RUN_ID", "99"),
        ];
        let env = CiEnvironment::read(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        assert!(env.in_actions);
        assert_eq!(
            env.run_url.as_deref(),
            Some("https://github.com/acme/charts/actions/runs/99")
        );
        assert_eq!(env.repository.unwrap().to_string(), "acme/charts");
        assert_eq!(env.pull_request.unwrap().number, 12);
        assert_eq!(env.api_url, DEFAULT_API_URL);

        let outside = CiEnvironment::read(|_| None).unwrap();
        assert_eq!(
            outside,
            CiEnvironment {
                api_url: DEFAULT_API_URL.into(),
                ..Default::default()
            }
        );

        let err =
            CiEnvironment::read(|k| (k == "GITHUB_REPOSITORY").then(|| "acme".into())).unwrap_err();
        assert!(err.to_string().contains("GITHUB_REPOSITORY"), "{err}");
        std::fs::write(&event, "{").unwrap();
        let err = read_event(event.clone()).unwrap_err();
        assert!(err.to_string().contains("event.json"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
