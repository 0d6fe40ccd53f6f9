//! Parse errors name the JSON path; tolerated oddities do not error.

use github_events::{Event, ParseError, parse};
use serde_json::{Value, json};

use crate::support;

fn error_path(event: &str, body: &Value) -> String {
    let err = parse(event, &support::bytes(body)).unwrap_err();
    let path = err.path().unwrap().to_owned();
    assert!(err.to_string().contains(&path), "{err}");
    path
}

#[test]
fn invalid_values_name_their_path() {
    let mut pr = support::pull_request("o/r", "opened");
    pr["pull_request"]["head"]["sha"] = json!("not-a-sha");
    assert_eq!(error_path("pull_request", &pr), "pull_request.head.sha");
    let err = parse("pull_request", &support::bytes(&pr)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid pull_request payload at pull_request.head.sha"
    );
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("invalid commit sha"), "{source}");

    let mut pr = support::pull_request("o/r", "opened");
    pr["repository"]["full_name"] = json!("a/b/c");
    assert_eq!(error_path("pull_request", &pr), "repository.full_name");

    let mut pr = support::pull_request("o/r", "opened");
    pr["pull_request"]["head"]["repo"]["full_name"] = json!("../etc");
    assert_eq!(
        error_path("pull_request", &pr),
        "pull_request.head.repo.full_name"
    );

    let mut pr = support::pull_request("o/r", "opened");
    pr["number"] = json!("seven");
    assert_eq!(error_path("pull_request", &pr), "number");

    let mut pr = support::pull_request("o/r", "opened");
    pr["pull_request"]["labels"][0]["name"] = json!(5);
    assert_eq!(
        error_path("pull_request", &pr),
        "pull_request.labels[0].name"
    );

    let mut push = support::push("o/r", "refs/heads/main", support::HEAD);
    push["after"] = json!(12);
    assert_eq!(error_path("push", &push), "after");
}

#[test]
fn missing_fields_are_named() {
    let mut pr = support::pull_request("o/r", "opened");
    pr["pull_request"]["base"]
        .as_object_mut()
        .unwrap()
        .remove("ref");
    let err = parse("pull_request", &support::bytes(&pr)).unwrap_err();
    assert_eq!(err.path(), Some("pull_request.base.ref"));
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("missing field `ref`"), "{source}");

    let mut pr = support::pull_request("o/r", "opened");
    pr["pull_request"]["base"]["repo"] = Value::Null;
    assert_eq!(error_path("pull_request", &pr), "pull_request.base.repo");

    // Top-level fields are named too, never `.`.
    for field in ["action", "number", "repository", "pull_request"] {
        let mut pr = support::pull_request("o/r", "opened");
        pr.as_object_mut().unwrap().remove(field);
        assert_eq!(error_path("pull_request", &pr), field);
    }
    let mut push = support::push("o/r", "refs/heads/main", support::HEAD);
    push.as_object_mut().unwrap().remove("ref");
    assert_eq!(error_path("push", &push), "ref");
}

#[test]
fn not_json() {
    for body in [
        &b""[..],
        b"{",
        b"payload=%7B%7D",
        b"{\"action\":\"opened\"} trailing",
    ] {
        let err = parse("pull_request", body).unwrap_err();
        assert!(matches!(err, ParseError::Payload { .. }), "{err}");
    }
    assert!(parse("installation", b"[").is_err());
}

#[test]
fn nulls_and_unknowns_are_tolerated() {
    let mut pr = support::pull_request("o/r", "opened");
    pr["pull_request"]["draft"] = Value::Null;
    pr["pull_request"]["labels"] = Value::Null;
    pr["pull_request"]["head"]["repo"] = Value::Null;
    pr["repository"]["default_branch"] = Value::Null;
    pr["installation"] = Value::Null;
    pr["sender"] = Value::Null;
    pr["changes"] = json!({"title": {"from": "old"}, "base": null});
    pr["label"] = Value::Null;
    pr["x_future"] = json!({"deep": [1, {"x": null}]});
    pr["pull_request"]["x_future"] = json!(true);
    let Event::PullRequest(pr) = parse("pull_request", &support::bytes(&pr)).unwrap() else {
        panic!()
    };
    assert!(!pr.draft && pr.labels.is_empty() && pr.head_repo.is_none());
    assert!(!pr.base_changed);
    assert_eq!(
        (pr.installation_id, pr.sender, pr.label, pr.default_branch),
        (None, None, None, None)
    );

    let release = json!({
        "action": "published",
        "release": {"tag_name": "v1.2.0", "name": null, "body": null, "target_commitish": null,
                    "prerelease": null, "draft": false},
        "repository": {"id": 1, "full_name": "o/r"},
    });
    let Event::Release(r) = parse("release", &support::bytes(&release)).unwrap() else {
        panic!()
    };
    assert_eq!(
        (r.tag.as_str(), r.target_commitish, r.prerelease),
        ("v1.2.0", None, false)
    );

    let mut comment = support::comment("o/r", "x", "OWNER");
    comment["comment"]["body"] = Value::Null;
    comment["comment"]
        .as_object_mut()
        .unwrap()
        .remove("author_association");
    let Event::IssueComment(c) = parse("issue_comment", &support::bytes(&comment)).unwrap() else {
        panic!()
    };
    assert_eq!(
        (c.body.as_str(), c.author_association.as_str()),
        ("", "NONE")
    );
    assert!(c.is_pull_request);

    let ping = parse("ping", br#"{"zen":null,"hook":null}"#).unwrap();
    assert!(matches!(ping, Event::Ping(p) if p.events.is_empty() && p.hook_id.is_none()));
}

#[test]
fn made_up_events_are_other() {
    assert_eq!(
        parse("made_up_event", br#"{"action":"flew"}"#).unwrap(),
        Event::Other {
            event: "made_up_event".into(),
            action: Some("flew".into())
        }
    );
    assert_eq!(
        parse("workflow_job", b"{}").unwrap(),
        Event::Other {
            event: "workflow_job".into(),
            action: None
        }
    );
    assert!(matches!(
        parse("", b"{}"),
        Err(ParseError::EventName { .. })
    ));
    assert!(matches!(
        parse("pull request", b"{}"),
        Err(ParseError::EventName { .. })
    ));
}
