//! Secret configuration: length refusal, lists for rotation, generation, no leaks.

use github_events::{
    MIN_SECRET_LEN, SecretError, WebhookSecret, WebhookSecrets, generate_secret, verify,
};

#[test]
fn refuses_short_and_empty_secrets() {
    assert_eq!(MIN_SECRET_LEN, 16);
    assert_eq!(WebhookSecret::new("").unwrap_err(), SecretError::Empty);
    let err = WebhookSecret::new("fifteen-chars..").unwrap_err();
    assert_eq!(err, SecretError::TooShort { len: 15, min: 16 });
    let message = err.to_string();
    assert!(
        message.contains("15") && message.contains("16"),
        "{message}"
    );
    assert!(WebhookSecret::new("sixteen-chars...").is_ok());
    // Length is in bytes: 8 two-byte characters are 16 bytes.
    assert!(WebhookSecret::new("éééééééé").is_ok());
}

#[test]
fn comma_lists() {
    let secrets =
        WebhookSecrets::parse_comma_list("first-secret-0123456, second-secret-0123456").unwrap();
    assert_eq!(secrets.len(), 2);
    let body = b"{}";
    let second = WebhookSecret::new("second-secret-0123456").unwrap();
    verify(Some(&second.sign(body)), body, &secrets).unwrap();
    verify(Some(&secrets.primary().sign(body)), body, &secrets).unwrap();

    assert_eq!(
        WebhookSecrets::parse_comma_list("  ").unwrap_err(),
        SecretError::NoSecrets
    );
    let err = WebhookSecrets::parse_comma_list("first-secret-0123456,short").unwrap_err();
    assert_eq!(
        err,
        SecretError::InList {
            position: 2,
            source: Box::new(SecretError::TooShort { len: 5, min: 16 })
        }
    );
    assert_eq!(err.to_string(), "webhook secret 2 of the list is invalid");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert_eq!(
        source,
        "webhook secret is too short: 5 bytes, the minimum is 16"
    );
    assert!(
        WebhookSecrets::parse_comma_list("first-secret-0123456,,second-secret-0123456").is_err()
    );
    assert!(WebhookSecrets::from_list(&["first-secret-0123456", ""]).is_err());
    assert_eq!(
        WebhookSecrets::new(vec![]).unwrap_err(),
        SecretError::NoSecrets
    );
}

#[test]
fn secrets_do_not_print() {
    let secrets = WebhookSecrets::parse_comma_list("hunter2-hunter2-hunter2").unwrap();
    let debug = format!("{secrets:?} {:?}", secrets.primary());
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("WebhookSecret(***)"), "{debug}");
}

#[test]
fn generated_secrets() {
    let secret = generate_secret();
    assert_eq!(secret.len(), 64);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_ne!(secret, generate_secret());
    WebhookSecrets::parse_comma_list(&secret).unwrap();
}
