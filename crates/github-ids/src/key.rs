//! Job keys: what one job analyses.

use std::fmt;
use std::str::FromStr;

use crate::{IdError, RepoName, shown};

/// What one job analyses, and the unit of "at most one job at a time": a pull request, the
/// pushes to one branch, or one release of a repository.
///
/// Written `owner/name#pr/7`, `owner/name#push/main` or `owner/name#release/v1.2.0`;
/// `Display` and `FromStr` round-trip. A newer trigger of the same key (a new head, a new
/// push) supersedes the older one's job; the repository is what per-repository limits count.
///
/// A repository keeps its numeric id (`repository.id` of a delivery) when it is renamed or
/// moves to another owner, and its name does not. So a key that knows the id
/// ([`with_repo_id`](JobKey::with_repo_id)) is identified by it (reference R14): its
/// [`identity`](JobKey::identity) is `{repo_id}#pr/7` whatever the repository is called, and
/// two deliveries for the same pull request with a rename in between are the same key. The
/// name stays for people and for API calls. The id is not part of the written form (it is
/// stored beside it), so `FromStr` gives a key without one.
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
///
/// // Renamed between two deliveries: another name, the same identity.
/// let before = JobKey::pull_request(RepoName::new("acme", "charts")?, 7).with_repo_id(42);
/// let after = JobKey::pull_request(RepoName::new("acme", "helm-charts")?, 7).with_repo_id(42);
/// assert_eq!(before.identity(), "42#pr/7");
/// assert_eq!(before.identity(), after.identity());
/// assert_eq!(after.repo_identity(), "42");
/// assert_eq!(after.to_string(), "acme/helm-charts#pr/7");
/// // Without an id, the name is the identity.
/// assert_eq!(key.identity(), "acme/charts#push/release/1.x");
/// assert_eq!(key.repo_identity(), "acme/charts");
/// # Ok::<(), github_ids::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobKey {
    repo: RepoName,
    repo_id: Option<u64>,
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
            repo_id: None,
            subject: Subject::PullRequest(number),
        }
    }

    /// The pushes to `branch` of `repo`.
    pub fn push(repo: RepoName, branch: impl Into<String>) -> Self {
        JobKey {
            repo,
            repo_id: None,
            subject: Subject::Push(branch.into()),
        }
    }

    /// The release tagged `tag` in `repo`.
    pub fn release(repo: RepoName, tag: impl Into<String>) -> Self {
        JobKey {
            repo,
            repo_id: None,
            subject: Subject::Release(tag.into()),
        }
    }

    /// The same key, identified by the repository's numeric id (`repository.id`).
    pub fn with_repo_id(mut self, repo_id: u64) -> Self {
        self.repo_id = Some(repo_id);
        self
    }

    /// The repository, by the name it had when the key was made.
    pub fn repo(&self) -> &RepoName {
        &self.repo
    }

    /// The repository's numeric id, when known.
    pub fn repo_id(&self) -> Option<u64> {
        self.repo_id
    }

    /// What tells the repository apart across renames: its id in decimal when known, else its
    /// name (`owner/name`). The two forms never collide: a name has a `/`, an id has none.
    pub fn repo_identity(&self) -> String {
        match self.repo_id {
            Some(id) => id.to_string(),
            None => self.repo.to_string(),
        }
    }

    /// What tells the key apart across renames, and so what "the same key" means: the
    /// [repository's identity](JobKey::repo_identity) and the subject, e.g. `42#pr/7`, or the
    /// written form (`owner/name#pr/7`) when the id is unknown.
    pub fn identity(&self) -> String {
        let repo = self.repo_identity();
        match &self.subject {
            Subject::PullRequest(number) => format!("{repo}#pr/{number}"),
            Subject::Push(branch) => format!("{repo}#push/{branch}"),
            Subject::Release(tag) => format!("{repo}#release/{tag}"),
        }
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
        Ok(JobKey {
            repo,
            repo_id: None,
            subject,
        })
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
    fn the_repository_id_identifies_a_key_across_renames() {
        let old = JobKey::pull_request(repo(), 7).with_repo_id(9);
        let renamed = JobKey::pull_request("acme/helm".parse().unwrap(), 7).with_repo_id(9);
        assert_eq!(old.identity(), renamed.identity());
        assert_eq!(old.identity(), "9#pr/7");
        assert_ne!(old, renamed, "the names differ");
        assert_eq!(renamed.repo().to_string(), "acme/helm");
        assert_eq!(renamed.repo_id(), Some(9));
        // Another repository, or another subject, is another key.
        let other = JobKey::pull_request(repo(), 7).with_repo_id(10);
        assert_ne!(old.identity(), other.identity());
        let push = JobKey::push(repo(), "pr/7").with_repo_id(9);
        assert_ne!(push.identity(), old.identity());
        assert_eq!(push.identity(), "9#push/pr/7");
        assert_eq!(
            JobKey::release(repo(), "v1").with_repo_id(9).identity(),
            "9#release/v1"
        );
        // An id never looks like a name, so keys with and without one never share an identity.
        let unnamed = JobKey::pull_request(repo(), 7);
        assert_eq!(unnamed.identity(), "acme/charts#pr/7");
        assert_eq!(unnamed.repo_id(), None);
        // The written form is the name's; it parses back without the id.
        assert_eq!(old.to_string(), "acme/charts#pr/7");
        assert_eq!(old.to_string().parse::<JobKey>().unwrap(), unnamed);
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
