//! Request and response types: only the fields the service reads or sends.

use serde::{Deserialize, Serialize};

/// Maximum comment body GitHub accepts, in characters (reference §3.1, R27).
pub const MAX_COMMENT_CHARS: usize = 65_536;
/// Maximum commit status description, in characters (reference §3.2, R28).
pub const MAX_STATUS_DESCRIPTION_CHARS: usize = 140;
/// Maximum commit status context, in characters (reference §3.2, R28).
pub const MAX_STATUS_CONTEXT_CHARS: usize = 255;
/// Maximum check run `output.summary` / `output.text`, in characters (reference §3.3, R29).
pub const MAX_CHECK_OUTPUT_CHARS: usize = 65_535;
/// Maximum annotations per check run request (reference §3.3, R29).
pub const MAX_ANNOTATIONS_PER_REQUEST: usize = 50;
/// The files API lists at most this many files of a PR (reference §3.4, R23).
pub const MAX_PR_FILES: usize = 3_000;

/// The identity the client acts as (to recognise our own comments, reference R26).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct User {
    /// Login as it appears in `comment.user.login` (`<slug>[bot]` for an App).
    pub login: String,
    /// `User` or `Bot`.
    pub user_type: String,
    /// The user id (token auth) or the App id (App auth).
    pub id: u64,
    /// The App id when authenticated as an App (compare with
    /// `Comment::app_id`).
    pub app_id: Option<u64>,
}

/// One side of a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrBranch {
    /// Commit id.
    pub sha: String,
    /// Branch name (`ref`).
    pub ref_name: String,
    /// `owner/name` of the repository holding the branch; `None` when a fork was deleted.
    pub repo_full_name: Option<String>,
    /// Id of that repository.
    pub repo_id: Option<u64>,
}

/// A pull request as `GET /repos/{o}/{r}/pulls/{n}` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullRequest {
    /// PR number.
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// Draft PR.
    pub draft: bool,
    /// Merged (when GitHub says).
    pub merged: bool,
    /// Head branch.
    pub head: PrBranch,
    /// Base branch.
    pub base: PrBranch,
}

/// One changed file of a PR (reference §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PullFile {
    /// Path after the change.
    pub filename: String,
    /// `added|removed|modified|renamed|copied|changed|unchanged`.
    pub status: String,
    /// Path before a rename (reference R23: both paths matter).
    #[serde(default)]
    pub previous_filename: Option<String>,
    /// Added lines.
    #[serde(default)]
    pub additions: u64,
    /// Deleted lines.
    #[serde(default)]
    pub deletions: u64,
    /// Changed lines.
    #[serde(default)]
    pub changes: u64,
}

/// An issue (PR) comment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Comment {
    /// Comment id.
    pub id: u64,
    /// Markdown body.
    pub body: String,
    /// Author login (`<slug>[bot]` for Apps).
    pub user_login: String,
    /// Author type, `User` or `Bot`.
    pub user_type: String,
    /// `performed_via_github_app.id`, when an App wrote it (reference R26).
    pub app_id: Option<u64>,
    /// Creation time as GitHub printed it.
    pub created_at: Option<String>,
}

/// Commit status state (reference §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StatusState {
    /// Analysis running.
    Pending,
    /// Finished, nothing blocking.
    Success,
    /// Finished, a blocking finding.
    Failure,
    /// We failed.
    Error,
}

/// Body of `POST /repos/{o}/{r}/statuses/{sha}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequest {
    /// State.
    pub state: StatusState,
    /// Context, e.g. `chartimpact/analysis` (truncated to 255 chars).
    pub context: String,
    /// Short description (truncated to 140 chars with `…`, reference R28).
    pub description: Option<String>,
    /// Link shown next to the status.
    pub target_url: Option<String>,
}

/// Check run status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckStatus {
    /// Queued.
    Queued,
    /// Running.
    InProgress,
    /// Done (needs a conclusion).
    Completed,
}

/// Check run conclusion (`stale` is GitHub's alone, reference R29).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckConclusion {
    /// Needs a person.
    ActionRequired,
    /// Superseded or stopped.
    Cancelled,
    /// Failed.
    Failure,
    /// Neither.
    Neutral,
    /// Passed.
    Success,
    /// Skipped.
    Skipped,
    /// Took too long.
    TimedOut,
}

/// Annotation severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AnnotationLevel {
    /// Informational.
    Notice,
    /// Warning.
    Warning,
    /// Failure.
    Failure,
}

/// A check run annotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// File path in the repository.
    pub path: String,
    /// First line.
    pub start_line: u64,
    /// Last line.
    pub end_line: u64,
    /// Severity.
    pub annotation_level: AnnotationLevel,
    /// Message.
    pub message: String,
    /// Short title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Check run `output`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckRunOutput {
    /// Title.
    pub title: String,
    /// Summary markdown (truncated to 65,535 chars).
    pub summary: String,
    /// Details markdown (truncated to 65,535 chars).
    pub text: Option<String>,
    /// Annotations; any number, sent in chunks of 50 (reference R29).
    pub annotations: Vec<Annotation>,
}

/// Body of a check run create or update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckRunRequest {
    /// Name (fixed per service, e.g. `chartimpact`).
    pub name: String,
    /// Commit the run belongs to (sent on create only).
    pub head_sha: String,
    /// Status.
    pub status: Option<CheckStatus>,
    /// Conclusion (implies `completed`).
    pub conclusion: Option<CheckConclusion>,
    /// Link to details.
    pub details_url: Option<String>,
    /// Our id for the run (the job id, reference R29).
    pub external_id: Option<String>,
    /// Start time.
    pub started_at: Option<jiff::Timestamp>,
    /// Completion time.
    pub completed_at: Option<jiff::Timestamp>,
    /// Output.
    pub output: Option<CheckRunOutput>,
}

/// The last `x-ratelimit-*` headers seen (reference §4, R21).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitSnapshot {
    /// `x-ratelimit-limit`.
    pub limit: Option<u64>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<u64>,
    /// `x-ratelimit-used`.
    pub used: Option<u64>,
    /// `x-ratelimit-reset`, epoch seconds.
    pub reset: Option<u64>,
    /// `x-ratelimit-resource` (`core`, `search`, …).
    pub resource: Option<String>,
}

/// Cuts `s` to at most `max` chars, ending with `…` when it had to cut (char boundary safe).
pub(crate) fn truncate_chars(s: &str, max: usize, ellipsis: bool) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if ellipsis && max > 0 {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    } else {
        s.chars().take(max).collect()
    }
}

// ---- wire shapes (private) ----

#[derive(Deserialize)]
pub(crate) struct RawUser {
    pub login: String,
    // Lenient: only the login is needed to recognise our comments, and some GitHub-compatible
    // servers (and embedded user objects) leave the id out.
    #[serde(default)]
    pub id: u64,
    #[serde(rename = "type", default)]
    pub user_type: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawApp {
    pub id: u64,
    pub slug: String,
}

#[derive(Deserialize)]
pub(crate) struct RawRepo {
    #[serde(default)]
    pub id: u64,
    pub full_name: String,
}

#[derive(Deserialize)]
pub(crate) struct RawBranch {
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    #[serde(default)]
    pub repo: Option<RawRepo>,
}

impl From<RawBranch> for PrBranch {
    fn from(b: RawBranch) -> Self {
        PrBranch {
            sha: b.sha,
            ref_name: b.ref_name,
            repo_full_name: b.repo.as_ref().map(|r| r.full_name.clone()),
            repo_id: b.repo.map(|r| r.id),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct RawPull {
    pub number: u64,
    pub state: String,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub merged: Option<bool>,
    pub head: RawBranch,
    pub base: RawBranch,
}

impl From<RawPull> for PullRequest {
    fn from(p: RawPull) -> Self {
        PullRequest {
            number: p.number,
            state: p.state,
            draft: p.draft.unwrap_or(false),
            merged: p.merged.unwrap_or(false),
            head: p.head.into(),
            base: p.base.into(),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct RawAppRef {
    pub id: u64,
}

#[derive(Deserialize)]
pub(crate) struct RawComment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<RawUser>,
    #[serde(default)]
    pub performed_via_github_app: Option<RawAppRef>,
    #[serde(default)]
    pub created_at: Option<String>,
}

impl From<RawComment> for Comment {
    fn from(c: RawComment) -> Self {
        let (user_login, user_type) = match c.user {
            Some(u) => (u.login, u.user_type.unwrap_or_default()),
            None => (String::new(), String::new()),
        };
        Comment {
            id: c.id,
            body: c.body.unwrap_or_default(),
            user_login,
            user_type,
            app_id: c.performed_via_github_app.map(|a| a.id),
            created_at: c.created_at,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct RawId {
    pub id: u64,
}

/// A token git authenticates with ([`GithubClient::git_token`](crate::GithubClient::git_token)).
#[derive(Debug, Clone)]
pub struct GitToken {
    /// The token (send as the password of user `x-access-token`).
    pub token: crate::SecretString,
    /// When it stops working; `None` for a personal token.
    pub expires_at: Option<jiff::Timestamp>,
}

#[derive(Deserialize)]
pub(crate) struct RawInstallationToken {
    pub token: String,
    pub expires_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        let s = "é".repeat(200);
        let t = truncate_chars(&s, 140, true);
        assert_eq!(t.chars().count(), 140);
        assert!(t.ends_with('…'));
        assert_eq!(truncate_chars("short", 140, true), "short");
        assert_eq!(truncate_chars("abcdef", 3, false), "abc");
    }

    #[test]
    fn rest_examples_deserialize() {
        let pr: RawPull = serde_json::from_str(
            r#"{"number":2,"state":"open","draft":false,"head":{"sha":"a","ref":"x","repo":null},"base":{"sha":"b","ref":"main","repo":{"id":1,"full_name":"o/r"}}}"#,
        )
        .unwrap();
        let pr = PullRequest::from(pr);
        assert_eq!(pr.head.repo_full_name, None);
        assert_eq!(pr.base.repo_full_name.as_deref(), Some("o/r"));
    }
}
