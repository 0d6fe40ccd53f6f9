//! `signatures.json`: every HMAC vector and every signed webhook file gives the expected
//! verification result, over the raw bytes.

use github_events::{
    Decision, Event, RoutingPolicy, VerifyError, WebhookSecret, WebhookSecrets, parse,
    payload_bytes, route, verify,
};
use serde_json::Value;

use crate::shared::{base64_decode, github_dir};

fn load() -> (std::path::PathBuf, Value) {
    let dir = github_dir("signature vectors");
    let json = std::fs::read(dir.join("signatures.json")).unwrap();
    (dir, serde_json::from_slice(&json).unwrap())
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn every_vector() {
    let (_, doc) = load();
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 7, "expected at least 7 vectors");
    let (mut valid, mut invalid) = (0, 0);
    for v in vectors {
        let id = str_field(v, "id");
        let body = base64_decode(str_field(v, "body_base64"));
        assert_eq!(
            body.len() as u64,
            v["body_len"].as_u64().unwrap(),
            "{id}: body_len"
        );
        // Short published secrets (`mysecret`, `development`) are below the configuration
        // minimum; the test-vector constructor takes them.
        let secret = WebhookSecret::new_allow_short(str_field(v, "secret")).unwrap();
        let secrets = WebhookSecrets::from(secret.clone());
        let header = str_field(v, "x_hub_signature_256");
        let result = verify(Some(header), &body, &secrets);
        if v["valid"].as_bool().unwrap() {
            assert_eq!(result, Ok(()), "{id}: valid vector rejected");
            assert_eq!(secret.sign(&body), header, "{id}: sign");
            valid += 1;
        } else {
            assert_eq!(
                result,
                Err(VerifyError::Mismatch),
                "{id}: invalid vector accepted"
            );
            if let Some(actual) = v["actual_hmac_of_body"].as_str() {
                assert_eq!(secret.sign(&body), actual, "{id}: actual hmac");
                assert_eq!(verify(Some(actual), &body, &secrets), Ok(()), "{id}");
            }
            invalid += 1;
        }
        // A wrong secret never verifies.
        let other = WebhookSecrets::from_list(&["some-other-secret-0123"]).unwrap();
        assert_eq!(
            verify(Some(header), &body, &other),
            Err(VerifyError::Mismatch),
            "{id}"
        );
        // Nor does the right secret among others fail to.
        if v["valid"].as_bool().unwrap() {
            let rotated = WebhookSecrets::new(vec![
                WebhookSecret::new("some-other-secret-0123").unwrap(),
                secret,
            ])
            .unwrap();
            assert_eq!(
                verify(Some(header), &body, &rotated),
                Ok(()),
                "{id}: rotation"
            );
        }
    }
    assert!(
        valid >= 5 && invalid >= 2,
        "{valid} valid, {invalid} invalid vectors"
    );
}

#[test]
fn github_docs_vector_with_a_configured_secret() {
    let (_, doc) = load();
    let v = doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "github-docs")
        .unwrap();
    // Long enough to be a configuration secret.
    let secrets = WebhookSecrets::from_list(&[str_field(v, "secret")]).unwrap();
    let body = base64_decode(str_field(v, "body_base64"));
    assert_eq!(
        verify(Some(str_field(v, "x_hub_signature_256")), &body, &secrets),
        Ok(())
    );
}

#[test]
fn form_vector_decodes_to_its_payload() {
    let (_, doc) = load();
    let v = doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "form-urlencoded")
        .unwrap();
    let body = base64_decode(str_field(v, "body_base64"));
    let secrets = WebhookSecrets::from_list(&[str_field(v, "secret")]).unwrap();
    verify(Some(str_field(v, "x_hub_signature_256")), &body, &secrets).unwrap();
    let json = payload_bytes(Some(str_field(v, "content_type")), &body).unwrap();
    assert_eq!(&*json, str_field(v, "payload_field_json").as_bytes());
    // The signature is over the form body, not the JSON inside it.
    assert_eq!(
        verify(Some(str_field(v, "x_hub_signature_256")), &json, &secrets),
        Err(VerifyError::Mismatch)
    );
    let Event::Ping(ping) = parse("ping", &json).unwrap() else {
        panic!("not a ping")
    };
    assert_eq!(ping.hook_id, Some(1));
    assert_eq!(ping.zen.as_deref(), Some("Keep it logically awesome."));
}

#[test]
fn signed_webhook_files() {
    let (dir, doc) = load();
    let files = doc["webhook_files"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    for f in files {
        let name = str_field(f, "file");
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(
            bytes.len() as u64,
            f["bytes"].as_u64().unwrap(),
            "{name}: size"
        );
        let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, str_field(f, "sha256_of_file"), "{name}: bytes changed");

        let secrets = WebhookSecrets::from_list(&[str_field(f, "secret")]).unwrap();
        let headers = &f["headers"];
        let sig = str_field(headers, "X-Hub-Signature-256");
        assert_eq!(sig, str_field(f, "x_hub_signature_256"));
        assert_eq!(verify(Some(sig), &bytes, &secrets), Ok(()), "{name}");

        // A delivery with only the legacy SHA-1 header is refused as missing the SHA-256
        // one, and a SHA-1 value in the SHA-256 header is malformed.
        assert_eq!(
            verify(None, &bytes, &secrets),
            Err(VerifyError::Missing),
            "{name}"
        );
        assert!(
            matches!(
                verify(Some(str_field(f, "x_hub_signature_sha1")), &bytes, &secrets),
                Err(VerifyError::Malformed { .. })
            ),
            "{name}"
        );
        // One flipped byte of the body breaks it.
        let mut tampered = bytes.clone();
        let last = tampered.len() - 2;
        tampered[last] ^= 0x01;
        assert_eq!(
            verify(Some(sig), &tampered, &secrets),
            Err(VerifyError::Mismatch)
        );
        // Uppercase hex is not what GitHub sends.
        let upper = format!("sha256={}", sig["sha256=".len()..].to_uppercase());
        assert!(matches!(
            verify(Some(&upper), &bytes, &secrets),
            Err(VerifyError::Malformed { .. })
        ));

        // The verified bytes then parse and route.
        let json = payload_bytes(Some(str_field(headers, "Content-Type")), &bytes).unwrap();
        let event = parse(str_field(headers, "X-GitHub-Event"), &json).unwrap();
        assert_eq!(event.name(), str_field(f, "event"));
        assert_eq!(event.action(), f["action"].as_str(), "{name}");
        let delivery: github_events::DeliveryId =
            str_field(headers, "X-GitHub-Delivery").parse().unwrap();
        assert_eq!(delivery.as_str(), str_field(headers, "X-GitHub-Delivery"));
        let decision = route(&event, &RoutingPolicy::default());
        let expected = match name {
            "webhooks/pull_request.opened.1.json"
            | "webhooks/pull_request.synchronize.1.json"
            | "webhooks/release.published.1.json" => "run",
            "webhooks/push.5.json" => "ignore", // no push branches by default
            "webhooks/ping.1.json" => "pong",
            other => panic!("unexpected file {other}"),
        };
        assert_eq!(decision.kind(), expected, "{name}: {decision:?}");
        if let Decision::Pong { events, .. } = decision {
            assert_eq!(events, ["*"]);
        }
    }
}
