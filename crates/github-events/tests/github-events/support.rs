//! Payloads built by the tests themselves, shaped like GitHub's.

use serde_json::{Value, json};

pub const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
pub const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";

/// A `pull_request` payload for `owner/name` #7 with the given action.
pub fn pull_request(repo: &str, action: &str) -> Value {
    json!({
        "action": action,
        "number": 7,
        "pull_request": {
            "number": 7,
            "state": "open",
            "draft": false,
            "title": "Bump chart",
            "body": null,
            "labels": [{"id": 1, "name": "chartimpact"}],
            "head": {"sha": HEAD, "ref": "feature", "repo": {"id": 10, "full_name": repo, "fork": false}},
            "base": {"sha": BASE, "ref": "main", "repo": {"id": 10, "full_name": repo}},
        },
        "repository": {"id": 10, "full_name": repo, "default_branch": "main"},
        "installation": {"id": 99},
        "sender": {"login": "octocat"},
    })
}

/// A `push` payload for `owner/name` to `git_ref`.
pub fn push(repo: &str, git_ref: &str, after: &str) -> Value {
    json!({
        "ref": git_ref,
        "before": BASE,
        "after": after,
        "created": false,
        "deleted": after.bytes().all(|b| b == b'0'),
        "head_commit": null,
        "commits": [],
        "repository": {"id": 10, "full_name": repo, "default_branch": "main"},
    })
}

/// An `issue_comment` payload on pull request #7.
/// `comment.id` of [`comment`]'s payloads.
pub const COMMENT_ID: u64 = 5;

pub fn comment(repo: &str, body: &str, association: &str) -> Value {
    json!({
        "action": "created",
        "issue": {"number": 7, "pull_request": {"url": "https://api.github.com/repos/o/r/pulls/7"}},
        "comment": {"id": COMMENT_ID, "body": body, "user": {"login": "octocat"}, "author_association": association},
        "repository": {"id": 10, "full_name": repo},
    })
}

pub fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}
