//! Webhook secrets: the HMAC keys that `X-Hub-Signature-256` is computed with.

use std::fmt;

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::hex;

/// The shortest secret [`WebhookSecret::new`] accepts, in bytes.
///
/// GitHub asks for "a random string of text with high entropy" (reference `github.md` §1.8);
/// Atlantis recommends more than 24 characters. 16 bytes is the floor below which a secret
/// is refused outright; [`generate_secret`] makes 64-character secrets.
pub const MIN_SECRET_LEN: usize = 16;

/// One webhook secret, held only as a ready HMAC-SHA256 key.
///
/// The secret text is not kept, cannot be printed (`Debug` shows `WebhookSecret(***)`, and
/// there is no `Display`) and so cannot end up in a log line by accident.
#[derive(Clone)]
pub struct WebhookSecret {
    key: hmac::Key,
}

impl WebhookSecret {
    /// A secret from configuration. Refuses an empty secret and one shorter than
    /// [`MIN_SECRET_LEN`] bytes. The text is used exactly as given (no trimming).
    pub fn new(secret: &str) -> Result<Self, SecretError> {
        if secret.len() < MIN_SECRET_LEN && !secret.is_empty() {
            return Err(SecretError::TooShort {
                len: secret.len(),
                min: MIN_SECRET_LEN,
            });
        }
        Self::new_allow_short(secret)
    }

    /// A secret of any non-empty length, for published test vectors and interoperability
    /// tests (GitHub's and octokit's vectors use `mysecret` and `development`).
    /// Configuration must use [`WebhookSecret::new`].
    pub fn new_allow_short(secret: &str) -> Result<Self, SecretError> {
        if secret.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        })
    }

    /// The `X-Hub-Signature-256` header value GitHub would send for `body`:
    /// `sha256=` + lowercase hex of HMAC-SHA256 (reference `github.md` R5).
    /// For tests and tools that play GitHub.
    pub fn sign(&self, body: &[u8]) -> String {
        let tag = hmac::sign(&self.key, body);
        format!("sha256={}", hex::encode(tag.as_ref()))
    }

    /// Whether `tag` is the HMAC-SHA256 of `body` under this secret, compared in constant time.
    pub(crate) fn matches(&self, body: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.key, body, tag).is_ok()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// The accepted webhook secrets: one, or several while a secret is rotated.
///
/// Never empty. A delivery is accepted when its signature matches any of them
/// (reference `github.md` R6); every candidate is checked, so the time taken does not
/// reveal which one matched.
#[derive(Debug, Clone)]
pub struct WebhookSecrets(Vec<WebhookSecret>);

impl WebhookSecrets {
    /// Secrets already built. Refuses an empty list.
    pub fn new(secrets: Vec<WebhookSecret>) -> Result<Self, SecretError> {
        if secrets.is_empty() {
            return Err(SecretError::NoSecrets);
        }
        Ok(Self(secrets))
    }

    /// Secrets from configuration strings, each checked by [`WebhookSecret::new`].
    pub fn from_list(secrets: &[&str]) -> Result<Self, SecretError> {
        let secrets = secrets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                WebhookSecret::new(s).map_err(|source| SecretError::InList {
                    position: i + 1,
                    source: Box::new(source),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(secrets)
    }

    /// Secrets from a comma-separated list such as the `--webhook-secrets` flag:
    /// `"new-secret,old-secret"`. Whitespace around each entry is removed; an empty entry
    /// (`"a,,b"`, a trailing comma) is refused rather than skipped.
    pub fn parse_comma_list(list: &str) -> Result<Self, SecretError> {
        if list.trim().is_empty() {
            return Err(SecretError::NoSecrets);
        }
        let entries: Vec<&str> = list.split(',').map(str::trim).collect();
        Self::from_list(&entries)
    }

    /// How many secrets there are (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false`: a `WebhookSecrets` holds at least one secret.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first secret, the one new deliveries should be signed with.
    pub fn primary(&self) -> &WebhookSecret {
        &self.0[0]
    }

    /// All secrets, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &WebhookSecret> {
        self.0.iter()
    }
}

impl From<WebhookSecret> for WebhookSecrets {
    fn from(secret: WebhookSecret) -> Self {
        Self(vec![secret])
    }
}

/// A fresh webhook secret: 32 bytes from the operating system's CSPRNG (ring's
/// `SystemRandom`) as 64 lowercase hex characters, ready to paste into GitHub's webhook
/// settings and into `--webhook-secrets`.
///
/// # Panics
///
/// If the operating system has no random source, which ring treats as unrecoverable.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random number generator failed");
    hex::encode(&bytes)
}

/// Why a webhook secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The secret is the empty string.
    #[error("webhook secret is empty")]
    Empty,
    /// The secret is shorter than [`MIN_SECRET_LEN`].
    #[error("webhook secret is too short: {len} bytes, the minimum is {min}")]
    TooShort {
        /// Its length in bytes.
        len: usize,
        /// The minimum length in bytes.
        min: usize,
    },
    /// No secret at all was given.
    #[error("no webhook secrets configured")]
    NoSecrets,
    /// One entry of a list was refused.
    #[error("webhook secret {position} of the list is invalid")]
    InList {
        /// Its position in the list, from 1.
        position: usize,
        /// Why it was refused.
        #[source]
        source: Box<SecretError>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = WebhookSecret::new("a-very-secret-value").unwrap();
        assert_eq!(format!("{secret:?}"), "WebhookSecret(***)");
        let secrets = WebhookSecrets::from(secret);
        assert!(!format!("{secrets:?}").contains("very-secret"));
    }

    #[test]
    fn refuses_empty_and_short() {
        assert_eq!(WebhookSecret::new("").unwrap_err(), SecretError::Empty);
        let err = WebhookSecret::new("short").unwrap_err();
        assert_eq!(err, SecretError::TooShort { len: 5, min: 16 });
        assert_eq!(
            err.to_string(),
            "webhook secret is too short: 5 bytes, the minimum is 16"
        );
        assert!(WebhookSecret::new("0123456789abcdef").is_ok());
        assert!(WebhookSecret::new_allow_short("mysecret").is_ok());
        assert_eq!(
            WebhookSecret::new_allow_short("").unwrap_err(),
            SecretError::Empty
        );
    }

    #[test]
    fn lists() {
        let two = WebhookSecrets::parse_comma_list(" 0123456789abcdef , fedcba9876543210").unwrap();
        assert_eq!(two.len(), 2);
        assert!(!two.is_empty());
        assert_eq!(
            WebhookSecrets::parse_comma_list("").unwrap_err(),
            SecretError::NoSecrets
        );
        assert_eq!(
            WebhookSecrets::from_list(&[]).unwrap_err(),
            SecretError::NoSecrets
        );
        let err = WebhookSecrets::parse_comma_list("0123456789abcdef,").unwrap_err();
        assert_eq!(
            err,
            SecretError::InList {
                position: 2,
                source: Box::new(SecretError::Empty)
            }
        );
    }

    #[test]
    fn generated_secrets_are_64_lowercase_hex_and_differ() {
        let a = generate_secret();
        let b = generate_secret();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        assert_ne!(a, b);
        assert!(WebhookSecret::new(&a).is_ok());
    }
}
