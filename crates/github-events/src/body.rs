//! Request body forms: the JSON document inside a delivery.

use std::borrow::Cow;

use github_ids::shown;

/// The JSON payload of a delivery, from its `Content-Type` and raw body.
///
/// Call it after [`verify`](crate::verify), which checks the raw body (for a form delivery
/// the signature covers the whole form body, not the decoded JSON: reference `github.md`
/// §1.6, vector `form-urlencoded`).
///
/// - `application/json`: the body as it is (borrowed).
/// - `application/x-www-form-urlencoded`: the url-decoded value of the `payload` field
///   (`+` is a space, `%XX` a byte). GitHub's repository and organization hooks can be set
///   to this form (§1.6).
/// - Anything else, or no `Content-Type` at all: [`BodyError::UnsupportedMediaType`]
///   (answer 415, R4).
///
/// Media type parameters such as `; charset=utf-8` are ignored and the type is compared
/// case-insensitively.
pub fn payload_bytes<'a>(
    content_type: Option<&str>,
    body: &'a [u8],
) -> Result<Cow<'a, [u8]>, BodyError> {
    let unsupported = || BodyError::UnsupportedMediaType {
        content_type: shown(content_type.unwrap_or("")),
    };
    let media_type = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|t| t.trim_matches(|c: char| c == ' ' || c == '\t'))
        .ok_or_else(unsupported)?;
    if media_type.eq_ignore_ascii_case("application/json") {
        Ok(Cow::Borrowed(body))
    } else if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        form_payload(body).map(Cow::Owned)
    } else {
        Err(unsupported())
    }
}

/// The decoded `payload` field of a form body.
fn form_payload(body: &[u8]) -> Result<Vec<u8>, BodyError> {
    let mut payload = None;
    for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        if url_decode(key)? != b"payload" {
            continue;
        }
        if payload.is_some() {
            return Err(BodyError::MalformedForm {
                reason: "more than one payload field".into(),
            });
        }
        payload = Some(url_decode(value)?);
    }
    payload.ok_or(BodyError::MissingPayload)
}

/// `application/x-www-form-urlencoded` decoding of one key or value.
fn url_decode(input: &[u8]) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let digit = |j: usize| input.get(j).and_then(|c| char::from(*c).to_digit(16));
                match (digit(i + 1), digit(i + 2)) {
                    // Two hex digits are at most 0xff.
                    (Some(hi), Some(lo)) => out.push(u8::try_from(hi * 16 + lo).unwrap_or(0)),
                    _ => {
                        return Err(BodyError::MalformedForm {
                            reason: format!("bad percent escape at byte {i}"),
                        });
                    }
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

/// Why a delivery body holds no JSON payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The content type is neither JSON nor form-encoded (answer 415).
    #[error(
        "unsupported content type {content_type:?}: expected application/json or application/x-www-form-urlencoded"
    )]
    UnsupportedMediaType {
        /// The `Content-Type` header as sent (empty when absent; cut at 100 characters).
        content_type: String,
    },
    /// A form body without a `payload` field (answer 400).
    #[error("form body has no payload field")]
    MissingPayload,
    /// A form body that cannot be decoded (answer 400).
    #[error("malformed form body: {reason}")]
    MalformedForm {
        /// What is wrong with it.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_borrowed_whatever_the_parameters() {
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=UTF-8",
            " application/json ",
        ] {
            let out = payload_bytes(Some(ct), b"{}").unwrap();
            assert!(matches!(out, Cow::Borrowed(b"{}")), "{ct}");
        }
    }

    #[test]
    fn form_payload_is_decoded() {
        let body =
            b"payload=%7B%22zen%22%3A%22Keep+it+logically+awesome.%22%2C%22hook_id%22%3A1%7D";
        let out = payload_bytes(Some("application/x-www-form-urlencoded"), body).unwrap();
        assert_eq!(
            &*out,
            br#"{"zen":"Keep it logically awesome.","hook_id":1}"#
        );
        let out = payload_bytes(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"other=1&payload=%e2%99%a5%2B&x",
        )
        .unwrap();
        assert_eq!(&*out, "♥+".as_bytes());
    }

    #[test]
    fn form_errors() {
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(
            payload_bytes(form, b"zen=1").unwrap_err(),
            BodyError::MissingPayload
        );
        assert_eq!(
            payload_bytes(form, b"").unwrap_err(),
            BodyError::MissingPayload
        );
        assert!(matches!(
            payload_bytes(form, b"payload=%7").unwrap_err(),
            BodyError::MalformedForm { .. }
        ));
        assert!(matches!(
            payload_bytes(form, b"payload=%zz").unwrap_err(),
            BodyError::MalformedForm { .. }
        ));
        assert!(matches!(
            payload_bytes(form, b"payload=1&payload=2").unwrap_err(),
            BodyError::MalformedForm { .. }
        ));
    }

    #[test]
    fn other_types_are_unsupported() {
        for ct in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/jsonx"),
        ] {
            assert!(matches!(
                payload_bytes(ct, b"{}").unwrap_err(),
                BodyError::UnsupportedMediaType { .. }
            ));
        }
        let err = payload_bytes(Some("text/xml; charset=utf-8"), b"").unwrap_err();
        assert_eq!(
            err,
            BodyError::UnsupportedMediaType {
                content_type: "text/xml; charset=utf-8".into()
            }
        );
        let long = "x".repeat(500);
        let err = payload_bytes(Some(&long), b"").unwrap_err();
        assert!(err.to_string().len() < 250);
    }
}
