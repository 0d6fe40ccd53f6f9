//! Body forms: JSON as-is, form-encoded `payload=`, everything else refused.

use std::borrow::Cow;

use github_events::{
    BodyError, Event, WebhookSecret, WebhookSecrets, parse, payload_bytes, verify,
};

use crate::shared::github_dir;
use crate::support;

const FORM: &str = "application/x-www-form-urlencoded";

/// Form-encodes bytes as a browser or GitHub would (space → `+`, unreserved kept).
fn form_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[test]
fn json_body_is_borrowed() {
    let body = support::bytes(&support::pull_request("o/r", "opened"));
    for ct in [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
    ] {
        let out = payload_bytes(Some(ct), &body).unwrap();
        assert!(matches!(out, Cow::Borrowed(_)), "{ct}");
        assert_eq!(&*out, &body[..]);
    }
}

#[test]
fn form_body_round_trip_with_own_payload() {
    let json = support::bytes(&support::comment(
        "o/r",
        "/chartimpact rerun\nplease + thanks",
        "OWNER",
    ));
    let form = format!("payload={}", form_encode(&json));
    let secret = WebhookSecret::new("form-secret-0123456789").unwrap();
    let secrets = WebhookSecrets::from(secret.clone());
    let signature = secret.sign(form.as_bytes());
    verify(Some(&signature), form.as_bytes(), &secrets).unwrap();
    for ct in [
        FORM,
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded",
    ] {
        let decoded = payload_bytes(Some(ct), form.as_bytes()).unwrap();
        assert_eq!(&*decoded, &json[..], "{ct}");
    }
    let decoded = payload_bytes(Some(FORM), form.as_bytes()).unwrap();
    let Event::IssueComment(c) = parse("issue_comment", &decoded).unwrap() else {
        panic!()
    };
    assert_eq!(c.body, "/chartimpact rerun\nplease + thanks");
}

#[test]
fn form_body_of_every_shared_webhook_file() {
    let dir = github_dir("form-encoded webhook files");
    for (name, event, bytes) in crate::shared::webhook_files(&dir) {
        let form = format!("payload={}", form_encode(&bytes));
        let decoded = payload_bytes(Some(FORM), form.as_bytes()).unwrap();
        assert_eq!(&*decoded, &bytes[..], "{name}");
        assert_eq!(
            parse(&event, &decoded).unwrap(),
            parse(&event, &bytes).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn form_errors() {
    assert_eq!(
        payload_bytes(Some(FORM), b"zen=hello").unwrap_err(),
        BodyError::MissingPayload
    );
    assert!(matches!(
        payload_bytes(Some(FORM), b"payload=%7B%2").unwrap_err(),
        BodyError::MalformedForm { .. }
    ));
}

#[test]
fn unsupported_content_types() {
    for ct in [
        None,
        Some(""),
        Some("text/plain"),
        Some("application/xml"),
        Some("multipart/form-data; boundary=x"),
        Some("json"),
    ] {
        let err = payload_bytes(ct, b"{}").unwrap_err();
        assert_eq!(
            err,
            BodyError::UnsupportedMediaType {
                content_type: ct.unwrap_or("").into()
            },
            "{ct:?}"
        );
        assert!(
            err.to_string().starts_with("unsupported content type"),
            "{err}"
        );
    }
}
