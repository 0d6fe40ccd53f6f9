//! The events a webhook delivery can carry, with only the fields ChartImpact reads.

use github_ids::{CommitSha, RepoName};

/// One parsed delivery ([`parse`](crate::parse)).
// One short-lived value per delivery: boxing the pull request variant would only make every
// caller's pattern match noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `pull_request`.
    PullRequest(PullRequestEvent),
    /// `push`.
    Push(PushEvent),
    /// `release`.
    Release(ReleaseEvent),
    /// `ping`, sent when a hook is created.
    Ping(PingEvent),
    /// `issue_comment` (comments on issues and pull requests).
    IssueComment(IssueCommentEvent),
    /// `merge_group`: a merge queue asks for checks on the commit it would merge.
    MergeGroup(MergeGroupEvent),
    /// An event ChartImpact does not handle (`installation`, `check_run`, names GitHub adds
    /// later). Not an error: it is answered "ignored".
    Other {
        /// The `X-GitHub-Event` name.
        event: String,
        /// The payload's `action`, when it has a string one.
        action: Option<String>,
    },
}

impl Event {
    /// The `X-GitHub-Event` name of this event.
    pub fn name(&self) -> &str {
        match self {
            Event::PullRequest(_) => "pull_request",
            Event::Push(_) => "push",
            Event::Release(_) => "release",
            Event::Ping(_) => "ping",
            Event::IssueComment(_) => "issue_comment",
            Event::MergeGroup(_) => "merge_group",
            Event::Other { event, .. } => event,
        }
    }

    /// The payload's `action`, for events that have one.
    pub fn action(&self) -> Option<&str> {
        match self {
            Event::PullRequest(e) => Some(&e.action),
            Event::Release(e) => Some(&e.action),
            Event::IssueComment(e) => Some(&e.action),
            Event::MergeGroup(e) => Some(&e.action),
            Event::Other { action, .. } => action.as_deref(),
            Event::Push(_) | Event::Ping(_) => None,
        }
    }

    /// `repository.id` of [`Event::repo`]: the same for a repository across renames
    /// (reference R14).
    pub fn repo_id(&self) -> Option<u64> {
        match self {
            Event::PullRequest(e) => Some(e.repo_id),
            Event::Push(e) => Some(e.repo_id),
            Event::Release(e) => Some(e.repo_id),
            Event::IssueComment(e) => Some(e.repo_id),
            Event::MergeGroup(e) => Some(e.repo_id),
            Event::Ping(_) | Event::Other { .. } => None,
        }
    }

    /// The repository the event happened in (the base repository of a pull request), when
    /// the event is one ChartImpact reads a repository from.
    pub fn repo(&self) -> Option<&RepoName> {
        match self {
            Event::PullRequest(e) => Some(&e.repo),
            Event::Push(e) => Some(&e.repo),
            Event::Release(e) => Some(&e.repo),
            Event::IssueComment(e) => Some(&e.repo),
            Event::MergeGroup(e) => Some(&e.repo),
            Event::Ping(_) | Event::Other { .. } => None,
        }
    }
}

/// A `pull_request` delivery (reference `github.md` §2.1, §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestEvent {
    /// `action`: `opened`, `synchronize`, `closed`, …, or an action GitHub adds later.
    pub action: String,
    /// `repository.full_name`: the base repository, where comments and statuses go.
    pub repo: RepoName,
    /// `repository.id`.
    pub repo_id: u64,
    /// `number`.
    pub number: u64,
    /// `pull_request.state`: `open` or `closed`.
    pub state: String,
    /// `pull_request.draft` (`false` when absent or null).
    pub draft: bool,
    /// `pull_request.head.sha`.
    pub head_sha: CommitSha,
    /// `pull_request.head.ref`: the head branch name.
    pub head_ref: String,
    /// `pull_request.head.repo.full_name`; `None` when the fork was deleted (`head.repo` is
    /// null).
    pub head_repo: Option<RepoName>,
    /// `pull_request.head.repo.id`; `None` when the fork was deleted.
    pub head_repo_id: Option<u64>,
    /// `pull_request.base.sha`.
    pub base_sha: CommitSha,
    /// `pull_request.base.ref`: the base branch name.
    pub base_ref: String,
    /// `pull_request.base.repo.id`.
    pub base_repo_id: u64,
    /// `repository.default_branch`.
    pub default_branch: Option<String>,
    /// `pull_request.labels[].name`.
    pub labels: Vec<String>,
    /// `pull_request.author_association`: `OWNER`, `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`,
    /// `FIRST_TIME_CONTRIBUTOR`, `NONE`, … (`NONE` when absent).
    pub author_association: String,
    /// `label.name`: the label added or removed by a `labeled`/`unlabeled` action.
    pub label: Option<String>,
    /// Whether `changes.base` is present: an `edited` action that changed the base branch.
    pub base_changed: bool,
    /// `installation.id`, present on deliveries to a GitHub App.
    pub installation_id: Option<u64>,
    /// `sender.login`.
    pub sender: Option<String>,
}

impl PullRequestEvent {
    /// Whether the pull request comes from another repository: the head repository's id
    /// differs from the base repository's, or the head repository is gone (a deleted fork).
    ///
    /// Never the `head.repo.fork` flag, which says whether the repository *itself* is a fork
    /// (reference `github.md` §2.2, R12; webhook
    /// `pull_request.synchronize.synth-same-repo-fork-flag.json`).
    pub fn is_fork(&self) -> bool {
        match (self.head_repo_id, &self.head_repo) {
            (Some(head_id), Some(_)) => head_id != self.base_repo_id,
            _ => true,
        }
    }
}

/// A `push` delivery (reference `github.md` §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    /// `repository.full_name`.
    pub repo: RepoName,
    /// `repository.id`: what identifies the repository across renames (R14).
    pub repo_id: u64,
    /// `ref`: `refs/heads/<branch>` or `refs/tags/<tag>`.
    pub git_ref: String,
    /// `before`: all zeros when the ref was created.
    pub before: CommitSha,
    /// `after`: all zeros when the ref was deleted.
    pub after: CommitSha,
    /// `deleted`.
    pub deleted: bool,
    /// `created`.
    pub created: bool,
    /// `repository.default_branch`.
    pub default_branch: Option<String>,
    /// `installation.id`.
    pub installation_id: Option<u64>,
}

impl PushEvent {
    /// The branch pushed to: `refs/heads/x` → `x`; tags and other refs → `None`.
    pub fn branch(&self) -> Option<&str> {
        self.git_ref
            .strip_prefix("refs/heads/")
            .filter(|b| !b.is_empty())
    }

    /// The tag pushed: `refs/tags/v1` → `v1`; branches and other refs → `None`.
    pub fn tag(&self) -> Option<&str> {
        self.git_ref
            .strip_prefix("refs/tags/")
            .filter(|t| !t.is_empty())
    }

    /// Whether the push deleted its ref (`deleted`, or `after` is all zeros).
    pub fn is_deletion(&self) -> bool {
        self.deleted || self.after.is_zero()
    }
}

/// A `release` delivery (reference `github.md` §2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseEvent {
    /// `action`: `published`, `created`, `released`, …
    pub action: String,
    /// `repository.full_name`.
    pub repo: RepoName,
    /// `repository.id`: what identifies the repository across renames (R14).
    pub repo_id: u64,
    /// `release.tag_name`.
    pub tag: String,
    /// `release.target_commitish`: a branch name or a commit id.
    pub target_commitish: Option<String>,
    /// `release.prerelease`.
    pub prerelease: bool,
    /// `release.draft`.
    pub draft: bool,
    /// `installation.id`.
    pub installation_id: Option<u64>,
}

/// A `ping` delivery, sent when a hook is created (reference `github.md` §1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingEvent {
    /// `hook_id`.
    pub hook_id: Option<u64>,
    /// `hook.events`: the events the hook is subscribed to (`*` for all).
    pub events: Vec<String>,
    /// `hook.type`: `Repository`, `Organization` or `App`.
    pub hook_type: Option<String>,
    /// `zen`: a line of GitHub zen.
    pub zen: Option<String>,
}

/// A `merge_group` delivery: the merge queue's temporary branch needs its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeGroupEvent {
    /// `action`: `checks_requested` or `destroyed`.
    pub action: String,
    /// `repository.full_name`.
    pub repo: RepoName,
    /// `repository.id`: what identifies the repository across renames (R14).
    pub repo_id: u64,
    /// `merge_group.head_sha`: the commit the queue would merge (checks go there).
    pub head_sha: CommitSha,
    /// `merge_group.head_ref`: `refs/heads/gh-readonly-queue/main/pr-7-…`.
    pub head_ref: String,
    /// `merge_group.base_sha`: the target branch's commit.
    pub base_sha: CommitSha,
    /// `merge_group.base_ref`: `refs/heads/main`.
    pub base_ref: String,
    /// `installation.id`.
    pub installation_id: Option<u64>,
}

/// An `issue_comment` delivery: a comment on an issue or a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueCommentEvent {
    /// `action`: `created`, `edited` or `deleted`.
    pub action: String,
    /// `repository.full_name`.
    pub repo: RepoName,
    /// `repository.id`: what identifies the repository across renames (R14).
    pub repo_id: u64,
    /// `issue.number` (the pull request number for a comment on a pull request).
    pub number: u64,
    /// Whether `issue.pull_request` is present: the comment is on a pull request.
    pub is_pull_request: bool,
    /// `comment.body`; empty when null.
    pub body: String,
    /// `comment.author_association`: `OWNER`, `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`, …
    /// (`NONE` when absent).
    pub author_association: String,
    /// `comment.user.login`.
    pub user: String,
    /// `comment.id`.
    pub comment_id: u64,
    /// `installation.id`.
    pub installation_id: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(c: char) -> CommitSha {
        c.to_string().repeat(40).parse().unwrap()
    }

    fn pr() -> PullRequestEvent {
        PullRequestEvent {
            action: "opened".into(),
            repo: "o/r".parse().unwrap(),
            repo_id: 1,
            number: 7,
            state: "open".into(),
            draft: false,
            head_sha: sha('a'),
            head_ref: "feature".into(),
            head_repo: Some("o/r".parse().unwrap()),
            head_repo_id: Some(1),
            base_sha: sha('b'),
            base_ref: "main".into(),
            base_repo_id: 1,
            default_branch: Some("main".into()),
            labels: vec![],
            author_association: "OWNER".into(),
            label: None,
            base_changed: false,
            installation_id: None,
            sender: None,
        }
    }

    #[test]
    fn fork_is_decided_by_repo_ids() {
        let same = pr();
        assert!(!same.is_fork());
        let fork = PullRequestEvent {
            head_repo: Some("fork/r".parse().unwrap()),
            head_repo_id: Some(2),
            ..pr()
        };
        assert!(fork.is_fork());
        let deleted = PullRequestEvent {
            head_repo: None,
            head_repo_id: None,
            ..pr()
        };
        assert!(deleted.is_fork());
    }

    #[test]
    fn push_refs() {
        let push = |r: &str, after: CommitSha| PushEvent {
            repo: "o/r".parse().unwrap(),
            repo_id: 1,
            git_ref: r.into(),
            before: sha('1'),
            after,
            deleted: false,
            created: false,
            default_branch: None,
            installation_id: None,
        };
        assert_eq!(push("refs/heads/main", sha('2')).branch(), Some("main"));
        assert_eq!(
            push("refs/heads/release/1.x", sha('2')).branch(),
            Some("release/1.x")
        );
        assert_eq!(push("refs/tags/v1", sha('2')).branch(), None);
        assert_eq!(push("refs/tags/v1", sha('2')).tag(), Some("v1"));
        assert_eq!(push("refs/heads/", sha('2')).branch(), None);
        assert!(push("refs/heads/main", CommitSha::zero()).is_deletion());
        assert!(!push("refs/heads/main", sha('2')).is_deletion());
    }
}
