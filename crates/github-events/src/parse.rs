//! Payload parsing: private serde structs with only the fields we read, then public events.
//!
//! Nothing here uses `deny_unknown_fields`, every field that GitHub documents as nullable or
//! that older payloads lack is an `Option` or defaults, and `action` is a plain string, so
//! new fields, new actions and nulls (`pull_request.body`, `head.repo`, `head_commit`,
//! `release.name`, …) never break parsing (reference `github.md` §2.1, R11, R12).

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};

use crate::event::{
    Event, IssueCommentEvent, MergeGroupEvent, PingEvent, PullRequestEvent, PushEvent, ReleaseEvent,
};
use github_ids::shown;
use github_ids::{CommitSha, RepoName};

/// Parses a delivery's JSON payload (see [`payload_bytes`](crate::payload_bytes)) as the
/// event named by its `X-GitHub-Event` header.
///
/// `pull_request`, `push`, `release`, `ping` and `issue_comment` become typed events; any
/// other well-formed event name becomes [`Event::Other`] with the payload's `action`.
/// Errors name the JSON path of the offending value (`pull_request.head.sha`).
pub fn parse(event: &str, body: &[u8]) -> Result<Event, ParseError> {
    check_event_name(event)?;
    Ok(match event {
        "pull_request" => {
            Event::PullRequest(decode::<wire::PullRequestPayload>(event, body)?.into())
        }
        "push" => Event::Push(decode::<wire::PushPayload>(event, body)?.into()),
        "release" => Event::Release(decode::<wire::ReleasePayload>(event, body)?.into()),
        "ping" => Event::Ping(decode::<wire::PingPayload>(event, body)?.into()),
        "issue_comment" => {
            Event::IssueComment(decode::<wire::IssueCommentPayload>(event, body)?.into())
        }
        "merge_group" => Event::MergeGroup(decode::<wire::MergeGroupPayload>(event, body)?.into()),
        _ => Event::Other {
            event: event.to_owned(),
            action: decode::<wire::AnyPayload>(event, body)?
                .action
                .and_then(|a| a.as_str().map(str::to_owned)),
        },
    })
}

/// GitHub's event names are `snake_case` words; anything else is not from GitHub.
fn check_event_name(event: &str) -> Result<(), ParseError> {
    let ok = !event.is_empty()
        && event.len() <= 100
        && event
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ParseError::EventName {
            event: shown(event),
        })
    }
}

/// Deserializes the whole body as `T`, naming the JSON path on failure.
fn decode<T: DeserializeOwned>(event: &str, body: &[u8]) -> Result<T, ParseError> {
    let error = |path: String, source: serde_json::Error| ParseError::Payload {
        event: event.to_owned(),
        path,
        source,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let source = e.into_inner();
        // A missing field is reported at the object that lacks it: name the field itself.
        let path = match missing_field(&source.to_string()) {
            Some(field) if path == "." => field.to_owned(),
            Some(field) => format!("{path}.{field}"),
            None => path,
        };
        error(path, source)
    })?;
    de.end().map_err(|e| error(".".into(), e))?;
    Ok(value)
}

/// The field named by serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")?
        .split('`')
        .next()
        .filter(|f| !f.is_empty())
}

/// A pull request number: GitHub's start at 1.
fn pull_number<'de, D>(deserializer: D) -> Result<u64, D::Error>
where
    D: Deserializer<'de>,
{
    let n = u64::deserialize(deserializer)?;
    if n == 0 {
        return Err(serde::de::Error::custom(
            "0 is not a pull request number (they start at 1)",
        ));
    }
    Ok(n)
}

/// A payload that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The body is not JSON, or a value we read is missing, null where it may not be, of the
    /// wrong type, or invalid (a commit id that is not 40 hex digits, a bad `full_name`).
    #[error("invalid {event} payload at {path}")]
    Payload {
        /// The event name.
        event: String,
        /// The JSON path of the value, such as `pull_request.head.sha`; `.` for the document.
        path: String,
        /// What is wrong there.
        #[source]
        source: serde_json::Error,
    },
    /// The `X-GitHub-Event` value is empty or has characters no GitHub event name has.
    #[error("invalid event name {event:?}")]
    EventName {
        /// The value given (cut at 100 characters).
        event: String,
    },
}

impl ParseError {
    /// The JSON path of a payload error (`pull_request.head.sha`), if it is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ParseError::Payload { path, .. } => Some(path),
            ParseError::EventName { .. } => None,
        }
    }
}

/// `null` and absent both become `T::default()`.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// The wire format: only what we read.
mod wire {
    use super::*;

    #[derive(Deserialize)]
    pub(super) struct Repository {
        pub id: u64,
        pub full_name: RepoName,
        pub default_branch: Option<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct Installation {
        pub id: u64,
    }

    #[derive(Deserialize)]
    pub(super) struct User {
        pub login: String,
    }

    #[derive(Deserialize)]
    pub(super) struct Label {
        pub name: String,
    }

    #[derive(Deserialize)]
    pub(super) struct PullRequestPayload {
        pub action: String,
        #[serde(deserialize_with = "pull_number")]
        pub number: u64,
        pub pull_request: PullRequest,
        pub repository: Repository,
        pub label: Option<Label>,
        pub changes: Option<Changes>,
        pub installation: Option<Installation>,
        pub sender: Option<User>,
    }

    #[derive(Deserialize)]
    pub(super) struct PullRequest {
        pub state: String,
        #[serde(default, deserialize_with = "null_default")]
        pub draft: bool,
        pub head: Head,
        pub base: Base,
        #[serde(default, deserialize_with = "null_default")]
        pub labels: Vec<Label>,
        pub author_association: Option<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct Head {
        pub sha: CommitSha,
        #[serde(rename = "ref")]
        pub git_ref: String,
        /// Null when the fork was deleted (github/rest-api-description#161).
        pub repo: Option<HeadRepo>,
    }

    #[derive(Deserialize)]
    pub(super) struct HeadRepo {
        pub id: u64,
        pub full_name: RepoName,
    }

    #[derive(Deserialize)]
    pub(super) struct Base {
        pub sha: CommitSha,
        #[serde(rename = "ref")]
        pub git_ref: String,
        pub repo: BaseRepo,
    }

    #[derive(Deserialize)]
    pub(super) struct BaseRepo {
        pub id: u64,
    }

    #[derive(Deserialize)]
    pub(super) struct Changes {
        pub base: Option<IgnoredAny>,
    }

    #[derive(Deserialize)]
    pub(super) struct PushPayload {
        #[serde(rename = "ref")]
        pub git_ref: String,
        pub before: CommitSha,
        pub after: CommitSha,
        #[serde(default, deserialize_with = "null_default")]
        pub created: bool,
        #[serde(default, deserialize_with = "null_default")]
        pub deleted: bool,
        pub repository: Repository,
        pub installation: Option<Installation>,
    }

    #[derive(Deserialize)]
    pub(super) struct ReleasePayload {
        pub action: String,
        pub release: Release,
        pub repository: Repository,
        pub installation: Option<Installation>,
    }

    #[derive(Deserialize)]
    pub(super) struct Release {
        pub tag_name: String,
        pub target_commitish: Option<String>,
        #[serde(default, deserialize_with = "null_default")]
        pub prerelease: bool,
        #[serde(default, deserialize_with = "null_default")]
        pub draft: bool,
    }

    #[derive(Deserialize)]
    pub(super) struct PingPayload {
        pub hook_id: Option<u64>,
        pub hook: Option<Hook>,
        pub zen: Option<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct Hook {
        #[serde(default, deserialize_with = "null_default")]
        pub events: Vec<String>,
        #[serde(rename = "type")]
        pub hook_type: Option<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct MergeGroupPayload {
        pub action: String,
        pub merge_group: MergeGroup,
        pub repository: Repository,
        pub installation: Option<Installation>,
    }

    #[derive(Deserialize)]
    pub(super) struct MergeGroup {
        pub head_sha: CommitSha,
        pub head_ref: String,
        pub base_sha: CommitSha,
        pub base_ref: String,
    }

    #[derive(Deserialize)]
    pub(super) struct IssueCommentPayload {
        pub action: String,
        pub issue: Issue,
        pub comment: Comment,
        pub repository: Repository,
        pub installation: Option<Installation>,
    }

    #[derive(Deserialize)]
    pub(super) struct Issue {
        pub number: u64,
        pub pull_request: Option<IgnoredAny>,
    }

    #[derive(Deserialize)]
    pub(super) struct Comment {
        pub id: u64,
        pub body: Option<String>,
        pub user: User,
        pub author_association: Option<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct AnyPayload {
        pub action: Option<serde_json::Value>,
    }
}

impl From<wire::PullRequestPayload> for PullRequestEvent {
    fn from(p: wire::PullRequestPayload) -> Self {
        let pr = p.pull_request;
        let (head_repo, head_repo_id) = match pr.head.repo {
            Some(r) => (Some(r.full_name), Some(r.id)),
            None => (None, None),
        };
        PullRequestEvent {
            action: p.action,
            repo: p.repository.full_name,
            repo_id: p.repository.id,
            number: p.number,
            state: pr.state,
            draft: pr.draft,
            head_sha: pr.head.sha,
            head_ref: pr.head.git_ref,
            head_repo,
            head_repo_id,
            base_sha: pr.base.sha,
            base_ref: pr.base.git_ref,
            base_repo_id: pr.base.repo.id,
            default_branch: p.repository.default_branch,
            labels: pr.labels.into_iter().map(|l| l.name).collect(),
            author_association: pr.author_association.unwrap_or_else(|| "NONE".into()),
            label: p.label.map(|l| l.name),
            base_changed: p.changes.is_some_and(|c| c.base.is_some()),
            installation_id: p.installation.map(|i| i.id),
            sender: p.sender.map(|s| s.login),
        }
    }
}

impl From<wire::PushPayload> for PushEvent {
    fn from(p: wire::PushPayload) -> Self {
        PushEvent {
            repo: p.repository.full_name,
            repo_id: p.repository.id,
            git_ref: p.git_ref,
            before: p.before,
            after: p.after,
            deleted: p.deleted,
            created: p.created,
            default_branch: p.repository.default_branch,
            installation_id: p.installation.map(|i| i.id),
        }
    }
}

impl From<wire::ReleasePayload> for ReleaseEvent {
    fn from(p: wire::ReleasePayload) -> Self {
        ReleaseEvent {
            action: p.action,
            repo: p.repository.full_name,
            repo_id: p.repository.id,
            tag: p.release.tag_name,
            target_commitish: p.release.target_commitish,
            prerelease: p.release.prerelease,
            draft: p.release.draft,
            installation_id: p.installation.map(|i| i.id),
        }
    }
}

impl From<wire::PingPayload> for PingEvent {
    fn from(p: wire::PingPayload) -> Self {
        let (events, hook_type) = match p.hook {
            Some(h) => (h.events, h.hook_type),
            None => (Vec::new(), None),
        };
        PingEvent {
            hook_id: p.hook_id,
            events,
            hook_type,
            zen: p.zen,
        }
    }
}

impl From<wire::MergeGroupPayload> for MergeGroupEvent {
    fn from(p: wire::MergeGroupPayload) -> Self {
        MergeGroupEvent {
            action: p.action,
            repo: p.repository.full_name,
            repo_id: p.repository.id,
            head_sha: p.merge_group.head_sha,
            head_ref: p.merge_group.head_ref,
            base_sha: p.merge_group.base_sha,
            base_ref: p.merge_group.base_ref,
            installation_id: p.installation.map(|i| i.id),
        }
    }
}

impl From<wire::IssueCommentPayload> for IssueCommentEvent {
    fn from(p: wire::IssueCommentPayload) -> Self {
        IssueCommentEvent {
            action: p.action,
            repo: p.repository.full_name,
            repo_id: p.repository.id,
            number: p.issue.number,
            is_pull_request: p.issue.pull_request.is_some(),
            body: p.comment.body.unwrap_or_default(),
            author_association: p
                .comment
                .author_association
                .unwrap_or_else(|| "NONE".into()),
            user: p.comment.user.login,
            comment_id: p.comment.id,
            installation_id: p.installation.map(|i| i.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn minimal_pr(head_sha: &str, head_repo: &str) -> String {
        format!(
            r#"{{"action":"opened","number":7,
               "pull_request":{{"state":"open","draft":null,"labels":null,"body":null,
                 "head":{{"sha":"{head_sha}","ref":"f","repo":{head_repo}}},
                 "base":{{"sha":"{SHA_B}","ref":"main","repo":{{"id":1,"full_name":"o/r"}}}}}},
               "repository":{{"id":1,"full_name":"o/r","default_branch":null}},
               "installation":null,"sender":null,"x":[1,2,{{"y":null}}]}}"#
        )
    }

    #[test]
    fn minimal_pull_request_with_nulls() {
        let body = minimal_pr(SHA_A, "null");
        let Event::PullRequest(pr) = parse("pull_request", body.as_bytes()).unwrap() else {
            panic!("not a pull request");
        };
        assert_eq!(pr.number, 7);
        assert!(!pr.draft);
        assert!(pr.labels.is_empty());
        assert_eq!(pr.head_repo, None);
        assert!(pr.is_fork());
        assert_eq!(pr.installation_id, None);
    }

    #[test]
    fn errors_name_the_path() {
        let body = minimal_pr("not-a-sha", "null");
        let err = parse("pull_request", body.as_bytes()).unwrap_err();
        assert_eq!(err.path(), Some("pull_request.head.sha"));
        assert_eq!(
            err.to_string(),
            "invalid pull_request payload at pull_request.head.sha"
        );
        let body = minimal_pr(SHA_A, r#"{"id":2,"full_name":"../etc"}"#);
        let err = parse("pull_request", body.as_bytes()).unwrap_err();
        assert_eq!(err.path(), Some("pull_request.head.repo.full_name"));
    }

    #[test]
    fn a_missing_field_is_named_and_pull_request_zero_is_refused() {
        let err = parse("pull_request", br#"{"number":1}"#).unwrap_err();
        assert_eq!(err.path(), Some("action"));
        let err = parse("push", br#"{"before":"x"}"#).unwrap_err();
        assert!(err.path() != Some("."), "{err}");
        let body = minimal_pr(SHA_A, "null").replace(r#""number":7"#, r#""number":0"#);
        let err = parse("pull_request", body.as_bytes()).unwrap_err();
        assert_eq!(err.path(), Some("number"));
        assert!(
            std::error::Error::source(&err)
                .unwrap()
                .to_string()
                .contains("0 is not a pull request number")
        );
        let body = minimal_pr(SHA_A, "null").replace(r#""state":"open","#, "");
        let err = parse("pull_request", body.as_bytes()).unwrap_err();
        assert_eq!(err.path(), Some("pull_request.state"));
    }

    #[test]
    fn bad_json_and_trailing_data() {
        assert!(matches!(
            parse("push", b"{").unwrap_err(),
            ParseError::Payload { .. }
        ));
        assert!(matches!(
            parse("ping", b"{} {}").unwrap_err(),
            ParseError::Payload { .. }
        ));
        assert!(matches!(
            parse("made_up", b"not json").unwrap_err(),
            ParseError::Payload { .. }
        ));
    }

    #[test]
    fn other_events_keep_a_string_action() {
        assert_eq!(
            parse("made_up_event", br#"{"action":"x","a":1}"#).unwrap(),
            Event::Other {
                event: "made_up_event".into(),
                action: Some("x".into())
            }
        );
        assert_eq!(
            parse("made_up_event", br#"{"action":{"weird":true}}"#).unwrap(),
            Event::Other {
                event: "made_up_event".into(),
                action: None
            }
        );
    }

    #[test]
    fn event_names_are_checked() {
        for bad in ["", "pull request", "x\n", "ü"] {
            assert!(matches!(
                parse(bad, b"{}").unwrap_err(),
                ParseError::EventName { .. }
            ));
        }
    }
}
