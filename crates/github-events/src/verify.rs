//! Signature verification: `X-Hub-Signature-256` over the raw request body.

use crate::hex;
use crate::secret::WebhookSecrets;

/// The prefix of every `X-Hub-Signature-256` value (reference `github.md` §1.2).
const PREFIX: &str = "sha256=";
/// Hex digits of an HMAC-SHA256 tag.
const HEX_LEN: usize = 64;

/// Checks a delivery's `X-Hub-Signature-256` header against the raw body bytes.
///
/// Call it with the body exactly as received, before any parsing or decoding: the signature
/// covers the raw bytes, and re-serialized JSON or the decoded `payload` of a form body does
/// not verify (reference `github.md` §0.6, R7; `signatures.json` vectors
/// `octokit-escaping-lowercase-reserialized` and `form-urlencoded-inner-json-wrong`).
///
/// - `signature_256` is the `X-Hub-Signature-256` header, `None` when absent. There is no
///   fallback to the legacy SHA-1 `X-Hub-Signature`: a SHA-1-only delivery is
///   [`VerifyError::Missing`] (R5).
/// - The value must be `sha256=` followed by exactly 64 **lowercase** hex digits, which is
///   what GitHub sends (R5: `"sha256=" + lowercase_hex(...)`; every vector in
///   `signatures.json` is lowercase). GitHub's own sample receivers compare the whole header
///   string, so they reject uppercase digits too; here they are [`VerifyError::Malformed`].
///   Surrounding whitespace is ignored (it is not part of an HTTP field value).
/// - The tag is compared with every secret in constant time (`ring::hmac::verify`), and all
///   secrets are tried so the time taken does not reveal which one matched (R6).
pub fn verify(
    signature_256: Option<&str>,
    body: &[u8],
    secrets: &WebhookSecrets,
) -> Result<(), VerifyError> {
    let header = signature_256.ok_or(VerifyError::Missing)?;
    let tag = parse_header(header.trim_matches(|c| c == ' ' || c == '\t'))?;
    let mut matched = false;
    for secret in secrets.iter() {
        matched |= secret.matches(body, &tag);
    }
    if matched {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// The 32 tag bytes of a well-formed header value.
fn parse_header(value: &str) -> Result<[u8; 32], VerifyError> {
    let malformed = |reason: String| Err(VerifyError::Malformed { reason });
    if value.is_empty() {
        return malformed("the header is empty".into());
    }
    let Some(digits) = value.strip_prefix(PREFIX) else {
        return if value.starts_with("sha1=") {
            malformed("a sha1= signature where sha256= is required".into())
        } else {
            malformed("it does not start with sha256=".into())
        };
    };
    if digits.len() != HEX_LEN {
        return malformed(format!(
            "expected {HEX_LEN} hex digits after sha256=, found {}",
            digits.len()
        ));
    }
    hex::decode_lower::<32>(digits.as_bytes()).or_else(|e| match e {
        hex::DecodeError::Uppercase => {
            malformed("hex digits must be lowercase, as GitHub sends them".into())
        }
        hex::DecodeError::NotHex => malformed("it has a character that is not a hex digit".into()),
    })
}

/// Why a delivery's signature was not accepted. Every variant means: answer 401, create no
/// job, log no payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// There is no `X-Hub-Signature-256` header (a legacy `X-Hub-Signature` alone does not
    /// count).
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    /// The header is not `sha256=` + 64 lowercase hex digits.
    #[error("malformed X-Hub-Signature-256 header: {reason}")]
    Malformed {
        /// What is wrong with it (never the header value itself).
        reason: String,
    },
    /// The header is well formed but matches none of the secrets.
    #[error("X-Hub-Signature-256 does not match the body with any configured secret")]
    Mismatch,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::WebhookSecret;

    fn docs_secrets() -> WebhookSecrets {
        WebhookSecrets::from_list(&["It's a Secret to Everybody"]).unwrap()
    }

    const DOCS_SIG: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn github_docs_vector() {
        assert_eq!(
            verify(Some(DOCS_SIG), b"Hello, World!", &docs_secrets()),
            Ok(())
        );
        assert_eq!(
            verify(Some(DOCS_SIG), b"Hello, World?", &docs_secrets()),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(docs_secrets().primary().sign(b"Hello, World!"), DOCS_SIG);
    }

    #[test]
    fn any_secret_of_several_matches() {
        let secrets = WebhookSecrets::new(vec![
            WebhookSecret::new("the-new-secret-0123").unwrap(),
            WebhookSecret::new("It's a Secret to Everybody").unwrap(),
        ])
        .unwrap();
        assert_eq!(verify(Some(DOCS_SIG), b"Hello, World!", &secrets), Ok(()));
    }

    #[test]
    fn malformed_headers() {
        let s = docs_secrets();
        let body = b"Hello, World!";
        let malformed = |h: &str| {
            matches!(
                verify(Some(h), body, &s),
                Err(VerifyError::Malformed { .. })
            )
        };
        assert!(malformed(""));
        assert!(malformed(
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        ));
        assert!(malformed("sha1=5a737efd2115ca2ae441ceb02117da3e343d12bb"));
        assert!(malformed(
            "SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        ));
        assert!(malformed(
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1"
        ));
        assert!(malformed(
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17aa"
        ));
        assert!(malformed(
            "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"
        ));
        assert!(malformed(
            "sha256=z57107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        ));
        // Multi-byte characters never panic on slicing.
        assert!(malformed(
            "sha256=ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé"
        ));
        assert_eq!(verify(None, body, &s), Err(VerifyError::Missing));
        assert_eq!(verify(Some(&format!(" {DOCS_SIG} ")), body, &s), Ok(()));
    }

    #[test]
    fn malformed_reason_does_not_echo_the_header() {
        let err = verify(Some("garbage-value"), b"", &docs_secrets()).unwrap_err();
        assert!(!err.to_string().contains("garbage-value"), "{err}");
    }
}
