//! Job keys: what one job analyses.

use std::fmt;
use std::str::FromStr;

use crate::{IdError, RepoName, shown};

/// What one job analyses, and the unit of "at most one job at a time": a pull request, the
/// pushes to one branch, or one release of a repository.
///
/// Written `owner/name#pr/7`, `owner/name#push/main` or `owner/name#release/v1.2.0`;
/// `Display` and `FromStr` round-trip. A newer trigger of the same key (a new head, a new
/// push) supersedes the older one's job; the [repository](JobKey::repo) is what per-repository
/// limits count.
///
/// ```
/// use github_ids::{JobKey, RepoName};
///
/// let repo = RepoName::new("acme", "charts")?;
/// let key = JobKey::push(repo, "release/1.x");
/// assert_eq!(key.to_string(), "acme/charts#push/release/1.x");
/// assert_eq!(key.kind(), "push");
/// assert_eq!(key.to_string().parse::<JobKey>()?, key);
/// assert!("acme/charts#tag/v1".parse::<JobKey>().is_err());
/// # Ok::<(), github_ids::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobKey {
    repo: RepoName,
    subject: Subject,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Subject {
    PullRequest(u64),
    Push(String),
    Release(String),
}

impl JobKey {
    /// Pull request `number` of `repo`.
    pub fn pull_request(repo: RepoName, number: u64) -> Self {
        JobKey {
            repo,
            subject: Subject::PullRequest(number),
        }
    }

    /// The pushes to `branch` of `repo`.
    pub fn push(repo: RepoName, branch: impl Into<String>) -> Self {
        JobKey {
            repo,
            subject: Subject::Push(branch.into()),
        }
    }

    /// The release tagged `tag` in `repo`.
    pub fn release(repo: RepoName, tag: impl Into<String>) -> Self {
        JobKey {
            repo,
            subject: Subject::Release(tag.into()),
        }
    }

    /// The repository.
    pub fn repo(&self) -> &RepoName {
        &self.repo
    }

    /// What triggers the key's jobs: `pull_request`, `push` or `release` (the webhook events).
    pub fn kind(&self) -> &'static str {
        match self.subject {
            Subject::PullRequest(_) => "pull_request",
            Subject::Push(_) => "push",
            Subject::Release(_) => "release",
        }
    }
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let repo = &self.repo;
        match &self.subject {
            Subject::PullRequest(number) => write!(f, "{repo}#pr/{number}"),
            Subject::Push(branch) => write!(f, "{repo}#push/{branch}"),
            Subject::Release(tag) => write!(f, "{repo}#release/{tag}"),
        }
    }
}

impl FromStr for JobKey {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: String| IdError::JobKey {
            input: shown(s),
            reason,
        };
        // A repository name has no `#`; a branch or tag may.
        let (repo, subject) = s
            .split_once('#')
            .ok_or_else(|| invalid("expected owner/name#…".into()))?;
        let repo: RepoName = repo.parse().map_err(|e: IdError| invalid(e.to_string()))?;
        let subject = if let Some(number) = subject.strip_prefix("pr/") {
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("a pull request number is digits".into()));
            }
            let number = number
                .parse()
                .map_err(|_| invalid("the pull request number is too large".into()))?;
            Subject::PullRequest(number)
        } else if let Some(branch) = subject.strip_prefix("push/") {
            Subject::Push(branch.to_owned())
        } else if let Some(tag) = subject.strip_prefix("release/") {
            Subject::Release(tag.to_owned())
        } else {
            return Err(invalid(
                "expected #pr/NUMBER, #push/BRANCH or #release/TAG after the repository".into(),
            ));
        };
        Ok(JobKey { repo, subject })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> RepoName {
        "acme/charts".parse().unwrap()
    }

    #[test]
    fn keys_round_trip() {
        let keys = [
            (
                JobKey::pull_request(repo(), 7),
                "acme/charts#pr/7",
                "pull_request",
            ),
            (
                JobKey::push(repo(), "main"),
                "acme/charts#push/main",
                "push",
            ),
            (
                JobKey::push(repo(), "feat/#12-x"),
                "acme/charts#push/feat/#12-x",
                "push",
            ),
            (
                JobKey::release(repo(), "v1.2.0"),
                "acme/charts#release/v1.2.0",
                "release",
            ),
            (JobKey::push(repo(), ""), "acme/charts#push/", "push"),
            (
                JobKey::pull_request(repo(), u64::MAX),
                "acme/charts#pr/18446744073709551615",
                "pull_request",
            ),
        ];
        for (key, text, kind) in keys {
            assert_eq!(key.to_string(), text);
            assert_eq!(text.parse::<JobKey>().unwrap(), key);
            assert_eq!(key.kind(), kind);
            assert_eq!(key.repo(), &repo());
        }
    }

    #[test]
    fn malformed_keys_are_refused_with_the_reason() {
        for (bad, reason) in [
            ("", "expected owner/name#"),
            ("acme/charts", "expected owner/name#"),
            ("acme#pr/1", "invalid repository name"),
            ("acme/charts#pr/", "digits"),
            ("acme/charts#pr/-1", "digits"),
            ("acme/charts#pr/1x", "digits"),
            ("acme/charts#pr/99999999999999999999", "too large"),
            ("acme/charts#issue/1", "expected #pr/NUMBER"),
        ] {
            let err = bad.parse::<JobKey>().unwrap_err();
            assert!(matches!(err, IdError::JobKey { .. }), "{bad}: {err:?}");
            assert!(err.to_string().contains(reason), "{bad}: {err}");
        }
    }

    #[test]
    fn serde_through_strings() {
        let key = JobKey::pull_request(repo(), 3);
        assert_eq!(
            serde_json::to_string(&key).unwrap(),
            r#""acme/charts#pr/3""#
        );
        let back: JobKey = serde_json::from_str(r#""acme/charts#pr/3""#).unwrap();
        assert_eq!(back, key);
        assert!(serde_json::from_str::<JobKey>(r#""nope""#).is_err());
    }
}
