//! Audit-log summaries of events: identifiers only, never payload contents or secrets.

use std::fmt;

use crate::event::Event;

/// The identifying fields of an event, for one audit log line (reference `github.md` R31).
///
/// It holds names and ids only: no comment bodies, labels, titles or anything else a
/// sender controls beyond the action string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSummary {
    /// The event name (`pull_request`).
    pub event: Option<String>,
    /// The action (`opened`), when the event has one.
    pub action: Option<String>,
    /// `owner/name`.
    pub repo: Option<String>,
    /// The pull request or issue number.
    pub number: Option<String>,
    /// The commit: a pull request's head, a push's `after`.
    pub sha: Option<String>,
}

/// The summary of `event`.
pub fn summary(event: &Event) -> EventSummary {
    let mut s = EventSummary {
        event: Some(event.name().to_owned()),
        action: event.action().map(str::to_owned),
        repo: event.repo().map(ToString::to_string),
        ..EventSummary::default()
    };
    match event {
        Event::PullRequest(pr) => {
            s.number = Some(pr.number.to_string());
            s.sha = Some(pr.head_sha.to_string());
        }
        Event::Push(push) => s.sha = Some(push.after.to_string()),
        Event::MergeGroup(group) => s.sha = Some(group.head_sha.to_string()),
        Event::IssueComment(comment) => s.number = Some(comment.number.to_string()),
        Event::Release(_) | Event::Ping(_) | Event::Other { .. } => {}
    }
    s
}

/// `event=pull_request action=opened repo=o/r number=7 sha=…`, leaving out absent fields.
impl fmt::Display for EventSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = [
            ("event", &self.event),
            ("action", &self.action),
            ("repo", &self.repo),
            ("number", &self.number),
            ("sha", &self.sha),
        ];
        let mut first = true;
        for (name, value) in fields {
            if let Some(value) = value {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{name}={value}")?;
                first = false;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::IssueCommentEvent;

    #[test]
    fn comment_bodies_stay_out() {
        let event = Event::IssueComment(IssueCommentEvent {
            action: "created".into(),
            repo: "o/r".parse().unwrap(),
            repo_id: 1,
            number: 9,
            is_pull_request: true,
            body: "secret-looking body".into(),
            author_association: "OWNER".into(),
            user: "octocat".into(),
            comment_id: 1,
            installation_id: None,
        });
        let s = summary(&event);
        assert_eq!(
            s.to_string(),
            "event=issue_comment action=created repo=o/r number=9"
        );
        assert!(!format!("{s:?}").contains("secret-looking"));
    }

    #[test]
    fn other_events() {
        let s = summary(&Event::Other {
            event: "installation".into(),
            action: None,
        });
        assert_eq!(s.to_string(), "event=installation");
        assert_eq!(s.repo, None);
    }
}
