//! Routing: what to do with a parsed event, decided from the event and a policy alone.

use crate::event::{
    Event, IssueCommentEvent, MergeGroupEvent, PullRequestEvent, PushEvent, ReleaseEvent,
};
use crate::glob;
use github_ids::shown;
use github_ids::{CommitSha, JobKey, RepoName};

/// The comment that asks ChartImpact to analyse a pull request again.
pub const RERUN_COMMAND: &str = "/chartimpact rerun";

/// Author associations allowed to ask for a rerun, and whose fork pull requests run
/// (reference `github.md` §8 item 9): people with write access.
const RERUN_ASSOCIATIONS: [&str; 3] = ["OWNER", "MEMBER", "COLLABORATOR"];

/// Which events lead to work. The default runs pull requests from the repository itself
/// (no drafts, no forks, no labels), no pushes, published releases, in every repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingPolicy {
    /// Labels whose `labeled` action runs an analysis (compared case-insensitively, as GitHub
    /// treats label names).
    pub trigger_labels: Vec<String>,
    /// Analyse draft pull requests too.
    pub run_drafts: bool,
    /// Analyse pull requests from forks (`Target::PullRequest { fork: true, .. }`; reference
    /// `github.md` §8 item 9 and R18: off by default) — when their author has write access
    /// (`OWNER`, `MEMBER`, `COLLABORATOR`), or, for anyone else's, once a maintainer added one
    /// of the `trigger_labels` (only people with triage access can label).
    pub allow_forks: bool,
    /// Branches whose pushes are analysed: exact names, or patterns where `*` matches any run
    /// of characters (`release/*`, `*`).
    pub push_branches: Vec<String>,
    /// Repositories that are enabled, as `owner/name` patterns where `*` matches within one
    /// segment (`my-org/*`, `*/charts`, `*/*`), compared case-insensitively; a lone `*` means
    /// every repository, as does an empty list.
    pub repos: Vec<String>,
}

impl RoutingPolicy {
    /// Whether events from `repo` are handled at all.
    pub fn repo_enabled(&self, repo: &RepoName) -> bool {
        let full = repo.to_string();
        self.repos.is_empty()
            || self.repos.iter().any(|pattern| {
                pattern.trim() == "*" || glob::matches(pattern.trim(), &full, Some('/'), true)
            })
    }

    /// Whether pushes to `branch` are analysed.
    pub fn push_branch_enabled(&self, branch: &str) -> bool {
        self.push_branches
            .iter()
            .any(|pattern| glob::matches(pattern, branch, None, false))
    }

    /// Whether adding `label` to a pull request runs an analysis.
    pub fn is_trigger_label(&self, label: &str) -> bool {
        self.trigger_labels
            .iter()
            .any(|l| l.to_lowercase() == label.to_lowercase())
    }

    /// Checks the patterns, for configuration loading: every `repos` entry must be `*` or
    /// `owner/name` (each part non-empty, made of repository-name characters and `*`), every
    /// branch pattern and trigger label non-empty.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for pattern in &self.repos {
            let ok = pattern.trim() == "*"
                || pattern.split_once('/').is_some_and(|(owner, name)| {
                    let part_ok = |s: &str| {
                        !s.is_empty()
                            && s.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'*')
                            })
                    };
                    part_ok(owner) && part_ok(name)
                });
            if !ok {
                return Err(PolicyError::RepoPattern {
                    pattern: shown(pattern),
                });
            }
        }
        if self.push_branches.iter().any(|b| b.trim().is_empty()) {
            return Err(PolicyError::EmptyBranchPattern);
        }
        if self.trigger_labels.iter().any(|l| l.trim().is_empty()) {
            return Err(PolicyError::EmptyLabel);
        }
        Ok(())
    }
}

/// A routing policy that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A `repos` entry that is not an `owner/name` pattern.
    #[error(
        "invalid repository pattern {pattern:?}: expected owner/name, where '*' matches within a part"
    )]
    RepoPattern {
        /// The pattern (cut at 100 characters).
        pattern: String,
    },
    /// An empty `push_branches` entry.
    #[error("empty push branch pattern")]
    EmptyBranchPattern,
    /// An empty `trigger_labels` entry.
    #[error("empty trigger label")]
    EmptyLabel,
}

/// What to do with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Analyse this target (enqueue a job; a newer trigger for the same
    /// [`Target::job_key`] supersedes older work).
    Run(Target),
    /// The pull request was closed: cancel its queued and running jobs.
    Cancel {
        /// The base repository.
        repo: RepoName,
        /// Its `repository.id` (what the jobs are keyed by, R14).
        repo_id: u64,
        /// The pull request number.
        number: u64,
        /// Why, for people (`pull request closed`).
        reason: String,
    },
    /// Someone allowed to asked for a fresh analysis with a [`RERUN_COMMAND`] comment. The
    /// comment carries no head commit: the caller fetches the pull request first.
    Rerun {
        /// The base repository.
        repo: RepoName,
        /// Its `repository.id` (what the jobs are keyed by, R14).
        repo_id: u64,
        /// The pull request number.
        number: u64,
        /// `comment.id` of the command, so the caller can acknowledge it with a reaction.
        comment_id: u64,
        /// The GitHub App installation to act as (the reaction needs it).
        installation_id: Option<u64>,
    },
    /// Answer a `ping`; `events` are the hook's subscribed events (to warn when
    /// `pull_request`, `push` or `release` is missing: reference `github.md` R9).
    Pong {
        /// `hook.events` of the ping.
        events: Vec<String>,
        /// `hook_id`.
        hook_id: Option<u64>,
        /// `hook.type`: `Repository`, `Organization` or `App`.
        hook_type: Option<String>,
    },
    /// Nothing to do (answer 200 with the reason, R8).
    Ignore {
        /// A short reason for people, such as `ignored: pull_request action assigned`.
        reason: String,
    },
}

impl Decision {
    /// A one-word name of the decision, for metrics and logs: `run`, `cancel`, `rerun`,
    /// `pong` or `ignore`.
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Run(_) => "run",
            Decision::Cancel { .. } => "cancel",
            Decision::Rerun { .. } => "rerun",
            Decision::Pong { .. } => "pong",
            Decision::Ignore { .. } => "ignore",
        }
    }

    fn ignore(reason: impl Into<String>) -> Self {
        Decision::Ignore {
            reason: reason.into(),
        }
    }
}

/// What a job analyses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A pull request at its current head.
    PullRequest {
        /// The base repository, where results are posted.
        repo: RepoName,
        /// Its `repository.id`, which survives renames: the job key's identity (R14).
        repo_id: u64,
        /// The pull request number.
        number: u64,
        /// The base commit.
        base_sha: CommitSha,
        /// The head commit (results are posted to it).
        head_sha: CommitSha,
        /// The base branch.
        base_ref: String,
        /// The head branch (in the fork for a fork pull request).
        head_ref: String,
        /// Whether the head is in another repository (or a deleted fork): fetch
        /// `refs/pull/{number}/head` from the base repository (R18).
        fork: bool,
        /// `repository.default_branch` of the base repository: where the repository's
        /// `.chartimpact.yaml` is read, so a pull request cannot change its own policy.
        default_branch: Option<String>,
        /// The GitHub App installation to act as.
        installation_id: Option<u64>,
    },
    /// A push to a branch.
    Push {
        /// The repository.
        repo: RepoName,
        /// Its `repository.id`, which survives renames: the job key's identity (R14).
        repo_id: u64,
        /// The branch.
        branch: String,
        /// The commit before the push; all zeros for a new branch (compare against the
        /// default branch then, §2.3).
        before: CommitSha,
        /// The commit after the push.
        after: CommitSha,
        /// The GitHub App installation to act as.
        installation_id: Option<u64>,
    },
    /// A published release.
    Release {
        /// The repository.
        repo: RepoName,
        /// Its `repository.id`, which survives renames: the job key's identity (R14).
        repo_id: u64,
        /// The release's tag.
        tag: String,
        /// The GitHub App installation to act as.
        installation_id: Option<u64>,
    },
}

impl Target {
    /// The key that at most one job runs under at a time: `owner/name#pr/7`,
    /// `owner/name#push/main`, `owner/name#release/v1.2.0`, identified by the repository's id
    /// so that a rename does not make it another key (R14).
    pub fn job_key(&self) -> JobKey {
        let key = match self {
            Target::PullRequest { repo, number, .. } => JobKey::pull_request(repo.clone(), *number),
            Target::Push { repo, branch, .. } => JobKey::push(repo.clone(), branch),
            Target::Release { repo, tag, .. } => JobKey::release(repo.clone(), tag),
        };
        key.with_repo_id(self.repo_id())
    }

    /// `repository.id` of [`Target::repo`].
    pub fn repo_id(&self) -> u64 {
        match self {
            Target::PullRequest { repo_id, .. }
            | Target::Push { repo_id, .. }
            | Target::Release { repo_id, .. } => *repo_id,
        }
    }

    /// What makes two triggers for the same [`job_key`](Target::job_key) the same work: the
    /// head commit, the commit after the push, or the tag.
    pub fn sha_or_tag(&self) -> String {
        match self {
            Target::PullRequest { head_sha, .. } => head_sha.to_string(),
            Target::Push { after, .. } => after.to_string(),
            Target::Release { tag, .. } => tag.clone(),
        }
    }

    /// The repository results are posted to.
    pub fn repo(&self) -> &RepoName {
        match self {
            Target::PullRequest { repo, .. }
            | Target::Push { repo, .. }
            | Target::Release { repo, .. } => repo,
        }
    }

    /// The GitHub App installation to act as, when the delivery came to an App.
    pub fn installation_id(&self) -> Option<u64> {
        match self {
            Target::PullRequest {
                installation_id, ..
            }
            | Target::Push {
                installation_id, ..
            }
            | Target::Release {
                installation_id, ..
            } => *installation_id,
        }
    }
}

/// Decides what to do with an event (reference `github.md` R11):
///
/// - `pull_request`: `opened`, `reopened`, `synchronize`, `ready_for_review` run; `edited`
///   runs only when the base branch changed; `labeled` only for a trigger label; `closed`
///   cancels; every other action (including ones GitHub adds later) is ignored. Open
///   pull requests only; drafts only with `run_drafts`; forks only with `allow_forks`.
/// - `push`: a branch in `push_branches` runs; deleted branches and tags are ignored.
/// - `release`: `published` runs, every other action is ignored.
/// - `ping`: pong.
/// - `merge_group`: `checks_requested` runs like a push of the group's head (base → head).
/// - `issue_comment`: a new comment on a pull request that is exactly [`RERUN_COMMAND`]
///   (trimmed), by an `OWNER`, `MEMBER` or `COLLABORATOR`, reruns; others are ignored.
/// - Repositories outside `repos`, and every other event, are ignored.
pub fn route(event: &Event, policy: &RoutingPolicy) -> Decision {
    if let Some(repo) = event.repo()
        && !policy.repo_enabled(repo)
    {
        return Decision::ignore("repository not enabled for webhooks");
    }
    match event {
        Event::PullRequest(pr) => route_pull_request(pr, policy),
        Event::Push(push) => route_push(push, policy),
        Event::Release(release) => route_release(release),
        Event::Ping(ping) => Decision::Pong {
            events: ping.events.clone(),
            hook_id: ping.hook_id,
            hook_type: ping.hook_type.clone(),
        },
        Event::IssueComment(comment) => route_comment(comment),
        Event::MergeGroup(group) => route_merge_group(group),
        Event::Other { event, .. } => {
            Decision::ignore(format!("ignored: unsupported event {}", shown(event)))
        }
    }
}

fn route_pull_request(pr: &PullRequestEvent, policy: &RoutingPolicy) -> Decision {
    match pr.action.as_str() {
        "closed" => {
            return Decision::Cancel {
                repo: pr.repo.clone(),
                repo_id: pr.repo_id,
                number: pr.number,
                reason: "pull request closed".into(),
            };
        }
        "opened" | "reopened" | "synchronize" | "ready_for_review" => {}
        "edited" if pr.base_changed => {}
        "edited" => return Decision::ignore("ignored: pull_request edited without a base change"),
        "labeled" => match &pr.label {
            Some(label) if policy.is_trigger_label(label) => {}
            Some(label) => {
                return Decision::ignore(format!(
                    "ignored: label {:?} is not a trigger label",
                    shown(label)
                ));
            }
            None => return Decision::ignore("ignored: pull_request labeled without a label"),
        },
        other => {
            return Decision::ignore(format!("ignored: pull_request action {}", shown(other)));
        }
    }
    if pr.state != "open" {
        return Decision::ignore(format!("ignored: pull request is {}", shown(&pr.state)));
    }
    if pr.draft && !policy.run_drafts {
        return Decision::ignore("ignored: draft pull request");
    }
    let fork = pr.is_fork();
    if fork && !policy.allow_forks {
        return Decision::ignore("ignored: pull request from a fork");
    }
    if fork
        && !RERUN_ASSOCIATIONS.contains(&pr.author_association.as_str())
        && !pr.labels.iter().any(|l| policy.is_trigger_label(l))
    {
        return Decision::ignore(format!(
            "ignored: pull request from a fork by an author without write access ({}); {}",
            shown(&pr.author_association),
            match policy.trigger_labels.first() {
                Some(label) => format!(
                    "a maintainer can add the label {:?} to have it analysed",
                    shown(label)
                ),
                None => "configure a trigger label to let maintainers opt such pull requests in"
                    .to_owned(),
            }
        ));
    }
    Decision::Run(Target::PullRequest {
        repo: pr.repo.clone(),
        repo_id: pr.repo_id,
        number: pr.number,
        base_sha: pr.base_sha.clone(),
        head_sha: pr.head_sha.clone(),
        base_ref: pr.base_ref.clone(),
        head_ref: pr.head_ref.clone(),
        fork,
        default_branch: pr.default_branch.clone(),
        installation_id: pr.installation_id,
    })
}

fn route_push(push: &PushEvent, policy: &RoutingPolicy) -> Decision {
    let Some(branch) = push.branch() else {
        return if push.tag().is_some() {
            Decision::ignore("ignored: tag push")
        } else {
            Decision::ignore(format!("ignored: push to {}", shown(&push.git_ref)))
        };
    };
    if push.is_deletion() {
        return Decision::ignore("ignored: branch deleted");
    }
    if !policy.push_branch_enabled(branch) {
        return Decision::ignore(format!(
            "ignored: push to branch {} is not enabled",
            shown(branch)
        ));
    }
    Decision::Run(Target::Push {
        repo: push.repo.clone(),
        repo_id: push.repo_id,
        branch: branch.to_owned(),
        before: push.before.clone(),
        after: push.after.clone(),
        installation_id: push.installation_id,
    })
}

/// A merge queue's group is analysed like a push of its head onto the target branch: base →
/// head, with the commit status on the head the queue waits for.
fn route_merge_group(group: &MergeGroupEvent) -> Decision {
    if group.action != "checks_requested" {
        return Decision::ignore(format!(
            "ignored: merge_group action {}",
            shown(&group.action)
        ));
    }
    let branch = group
        .head_ref
        .strip_prefix("refs/heads/")
        .unwrap_or(&group.head_ref);
    if branch.is_empty() {
        return Decision::ignore("ignored: merge_group without a head branch");
    }
    Decision::Run(Target::Push {
        repo: group.repo.clone(),
        repo_id: group.repo_id,
        branch: branch.to_owned(),
        before: group.base_sha.clone(),
        after: group.head_sha.clone(),
        installation_id: group.installation_id,
    })
}

fn route_release(release: &ReleaseEvent) -> Decision {
    if release.action != "published" {
        return Decision::ignore(format!(
            "ignored: release action {}",
            shown(&release.action)
        ));
    }
    Decision::Run(Target::Release {
        repo: release.repo.clone(),
        repo_id: release.repo_id,
        tag: release.tag.clone(),
        installation_id: release.installation_id,
    })
}

fn route_comment(comment: &IssueCommentEvent) -> Decision {
    if comment.action != "created" {
        return Decision::ignore(format!(
            "ignored: issue_comment action {}",
            shown(&comment.action)
        ));
    }
    if !comment.is_pull_request {
        return Decision::ignore("ignored: comment on an issue, not a pull request");
    }
    if comment.body.trim() != RERUN_COMMAND {
        return Decision::ignore("ignored: comment is not a chartimpact command");
    }
    if !RERUN_ASSOCIATIONS.contains(&comment.author_association.as_str()) {
        return Decision::ignore(format!(
            "ignored: {RERUN_COMMAND} needs an owner, member or collaborator, not {}",
            shown(&comment.author_association)
        ));
    }
    Decision::Rerun {
        repo: comment.repo.clone(),
        repo_id: comment.repo_id,
        number: comment.number,
        comment_id: comment.comment_id,
        installation_id: comment.installation_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::PingEvent;

    fn sha(c: char) -> CommitSha {
        c.to_string().repeat(40).parse().unwrap()
    }

    fn pr(action: &str) -> PullRequestEvent {
        PullRequestEvent {
            action: action.into(),
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
            author_association: "MEMBER".into(),
            label: None,
            base_changed: false,
            installation_id: Some(3),
            sender: Some("octocat".into()),
        }
    }

    fn comment(body: &str, association: &str) -> IssueCommentEvent {
        IssueCommentEvent {
            action: "created".into(),
            repo: "o/r".parse().unwrap(),
            repo_id: 1,
            number: 7,
            is_pull_request: true,
            body: body.into(),
            author_association: association.into(),
            user: "octocat".into(),
            comment_id: 1,
            installation_id: None,
        }
    }

    #[test]
    fn pull_request_actions() {
        let policy = RoutingPolicy::default();
        for action in ["opened", "reopened", "synchronize", "ready_for_review"] {
            assert_eq!(
                route(&Event::PullRequest(pr(action)), &policy).kind(),
                "run"
            );
        }
        assert_eq!(
            route(&Event::PullRequest(pr("assigned")), &policy),
            Decision::Ignore {
                reason: "ignored: pull_request action assigned".into()
            }
        );
        let Decision::Run(target) = route(&Event::PullRequest(pr("opened")), &policy) else {
            panic!()
        };
        assert_eq!(target.job_key().to_string(), "o/r#pr/7");
        assert_eq!(target.job_key().identity(), "1#pr/7");
        assert_eq!(target.sha_or_tag(), "a".repeat(40));
        assert_eq!(target.installation_id(), Some(3));
    }

    #[test]
    fn labeled_needs_a_trigger_label() {
        let labeled = PullRequestEvent {
            label: Some("ChartImpact".into()),
            ..pr("labeled")
        };
        let policy = RoutingPolicy {
            trigger_labels: vec!["chartimpact".into()],
            ..RoutingPolicy::default()
        };
        assert_eq!(
            route(&Event::PullRequest(labeled.clone()), &policy).kind(),
            "run"
        );
        assert_eq!(
            route(&Event::PullRequest(labeled), &RoutingPolicy::default()).kind(),
            "ignore"
        );
    }

    #[test]
    fn closed_pull_requests_are_not_analysed_on_other_actions() {
        let closed_labeled = PullRequestEvent {
            state: "closed".into(),
            ..pr("reopened")
        };
        assert_eq!(
            route(
                &Event::PullRequest(closed_labeled),
                &RoutingPolicy::default()
            )
            .kind(),
            "ignore"
        );
    }

    #[test]
    fn rerun_comments() {
        let policy = RoutingPolicy::default();
        let rerun = Decision::Rerun {
            repo: "o/r".parse().unwrap(),
            repo_id: 1,
            number: 7,
            comment_id: 1,
            installation_id: None,
        };
        for who in RERUN_ASSOCIATIONS {
            assert_eq!(
                route(
                    &Event::IssueComment(comment(" /chartimpact rerun\n", who)),
                    &policy
                ),
                rerun
            );
        }
        for (body, who) in [
            ("/chartimpact rerun", "CONTRIBUTOR"),
            ("/chartimpact rerun", "NONE"),
            ("/chartimpact rerun please", "OWNER"),
            ("/ChartImpact rerun", "OWNER"),
            ("", "OWNER"),
        ] {
            assert_eq!(
                route(&Event::IssueComment(comment(body, who)), &policy).kind(),
                "ignore",
                "{body:?} by {who}"
            );
        }
        let on_issue = IssueCommentEvent {
            is_pull_request: false,
            ..comment("/chartimpact rerun", "OWNER")
        };
        assert_eq!(
            route(&Event::IssueComment(on_issue), &policy).kind(),
            "ignore"
        );
        let edited = IssueCommentEvent {
            action: "edited".into(),
            ..comment("/chartimpact rerun", "OWNER")
        };
        assert_eq!(
            route(&Event::IssueComment(edited), &policy).kind(),
            "ignore"
        );
    }

    #[test]
    fn ping_and_other() {
        let ping = Event::Ping(PingEvent {
            hook_id: Some(1),
            events: vec!["push".into()],
            hook_type: Some("Repository".into()),
            zen: None,
        });
        assert_eq!(
            route(&ping, &RoutingPolicy::default()),
            Decision::Pong {
                events: vec!["push".into()],
                hook_id: Some(1),
                hook_type: Some("Repository".into()),
            }
        );
        let other = Event::Other {
            event: "installation".into(),
            action: Some("created".into()),
        };
        assert_eq!(
            route(&other, &RoutingPolicy::default()),
            Decision::Ignore {
                reason: "ignored: unsupported event installation".into()
            }
        );
    }

    #[test]
    fn policy_validation() {
        assert_eq!(RoutingPolicy::default().validate(), Ok(()));
        let ok = RoutingPolicy {
            repos: vec!["org/*".into(), "*/*".into(), "a/b".into()],
            push_branches: vec!["main".into(), "release/*".into()],
            trigger_labels: vec!["chartimpact".into()],
            ..RoutingPolicy::default()
        };
        assert_eq!(ok.validate(), Ok(()));
        let star = RoutingPolicy {
            repos: vec!["*".into()],
            ..RoutingPolicy::default()
        };
        assert_eq!(star.validate(), Ok(()));
        assert!(star.repo_enabled(&"any-org/any-repo".parse().unwrap()));
        for bad in ["org", "a/b/c", "/b", "a/", "a b/c", "**x"] {
            let policy = RoutingPolicy {
                repos: vec![bad.into()],
                ..RoutingPolicy::default()
            };
            assert!(
                matches!(policy.validate(), Err(PolicyError::RepoPattern { .. })),
                "{bad}"
            );
        }
        let empty_branch = RoutingPolicy {
            push_branches: vec![" ".into()],
            ..RoutingPolicy::default()
        };
        assert_eq!(
            empty_branch.validate(),
            Err(PolicyError::EmptyBranchPattern)
        );
    }
}
