//! Secret handling: what of a Secret's values may appear in output.
//!
//! Redaction runs on the objects before anything is diffed, hashed, stored or printed, so no
//! report, hash or stored result can leak a value in `suppress` mode.

use base64::Engine;
use yaml11::{Mapping, Value};

/// What to do with Secret `data`/`stringData` values. In JSON: `suppress`, `show`, `decode`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SecretHandling {
    /// Values never appear: each is replaced by its size class and a short keyed mark, so a
    /// reader still sees *that* a key changed (the placeholder, `redact::placeholder`).
    #[default]
    Suppress,
    /// Values appear as written (base64 for `data`).
    Show,
    /// `data` values are base64-decoded so the reader sees the plain text.
    Decode,
}

impl SecretHandling {
    /// `suppress`, `show` or `decode`.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretHandling::Suppress => "suppress",
            SecretHandling::Show => "show",
            SecretHandling::Decode => "decode",
        }
    }
}

impl std::str::FromStr for SecretHandling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "suppress" => Ok(SecretHandling::Suppress),
            "show" => Ok(SecretHandling::Show),
            "decode" => Ok(SecretHandling::Decode),
            other => Err(format!(
                "unknown secret handling {other:?}: use suppress, show or decode"
            )),
        }
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// True for core-group Secrets.
pub fn is_secret(api_version: &str, kind: &str) -> bool {
    kind == "Secret" && api_version == "v1"
}

/// The key of one comparison's secret marks. Derived from the full text of both renders (by a
/// digest no output carries), so the same inputs give the same marks, equal values on both
/// sides get equal marks, and a guessed value can be checked against a mark only by someone
/// who can rebuild both renders byte for byte, every other secret included. A plain hash of
/// the value (what marks were before) let anyone holding a stored result test guesses of a
/// weak password offline.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct MarkKey([u8; 32]);

impl MarkKey {
    /// The key of a comparison between renders whose [`Manifest::secret_digest`]s are given.
    ///
    /// [`Manifest::secret_digest`]: crate::Manifest::secret_digest
    pub fn of(before: &[u8; 32], after: &[u8; 32]) -> MarkKey {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(b"chartimpact secret mark key v1\0");
        ctx.update(before);
        ctx.update(after);
        let mut k = [0u8; 32];
        k.copy_from_slice(ctx.finish().as_ref());
        MarkKey(k)
    }
}

impl std::fmt::Debug for MarkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MarkKey(***)")
    }
}

/// The digest of a render's text that [`MarkKey::of`] takes (domain-separated from the
/// sha256 that results publish).
pub(crate) fn secret_digest(text: &[u8]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"chartimpact render text for secret marks v1\0");
    ctx.update(text);
    let mut d = [0u8; 32];
    d.copy_from_slice(ctx.finish().as_ref());
    d
}

/// The placeholder that stands for a secret value: its size class (a power-of-two range, not
/// the exact length) and the first 8 hex digits of its HMAC under the comparison's key.
pub fn placeholder(bytes: &[u8], key: &MarkKey) -> String {
    let hmac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key.0);
    let mark = crate::hash::sha256_hex(ring::hmac::sign(&hmac, bytes).as_ref());
    format!(
        "<redacted: {}, mark:{}>",
        size_class(bytes.len()),
        &mark[..8]
    )
}

/// `0 bytes`, `1 byte`, `2 bytes`, `3–4 bytes`, `5–8 bytes`, `9–16 bytes`, …
fn size_class(n: usize) -> String {
    match n {
        0 => "0 bytes".into(),
        1 => "1 byte".into(),
        2 => "2 bytes".into(),
        _ => {
            let hi = n.next_power_of_two();
            format!("{}–{hi} bytes", hi / 2 + 1)
        }
    }
}

/// Applies `mode` to a Secret object in place; `key` makes the marks of `suppress`.
pub fn redact_secret(object: &mut Value, mode: SecretHandling, key: &MarkKey) {
    if mode == SecretHandling::Show {
        return;
    }
    let Value::Mapping(root) = object else {
        return;
    };
    if let Some(Value::Mapping(data)) = root.get_mut("data") {
        for (_, v) in data.iter_mut() {
            let Value::String(encoded) = v else {
                // Not valid in a Secret, but rendered all the same: a number or a map may be
                // the secret itself.
                *v = Value::String(placeholder(crate::hash::canonical_json(v).as_bytes(), key));
                continue;
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim().as_bytes())
                .ok();
            *v = match (mode, decoded) {
                (SecretHandling::Decode, Some(bytes)) => match String::from_utf8(bytes) {
                    Ok(text) => Value::String(text),
                    Err(e) => Value::String(placeholder(e.as_bytes(), key)),
                },
                (_, Some(bytes)) => Value::String(placeholder(&bytes, key)),
                (_, None) => Value::String(placeholder(encoded.as_bytes(), key)),
            };
        }
    }
    if mode == SecretHandling::Suppress {
        if let Some(Value::Mapping(data)) = root.get_mut("stringData") {
            for (_, v) in data.iter_mut() {
                let text = match &*v {
                    Value::String(s) => s.clone(),
                    other => crate::hash::canonical_json(other),
                };
                *v = Value::String(placeholder(text.as_bytes(), key));
            }
        }
        redact_last_applied(root);
    }
}

/// `last-applied-configuration` holds a JSON copy of the object, secret values included.
fn redact_last_applied(root: &mut Mapping) {
    let Some(Value::Mapping(meta)) = root.get_mut("metadata") else {
        return;
    };
    let Some(Value::Mapping(annotations)) = meta.get_mut("annotations") else {
        return;
    };
    if let Some(v) = annotations.get_mut(LAST_APPLIED) {
        let len = v.as_str().map(str::len).unwrap_or(0);
        *v = Value::String(format!(
            "<redacted: last-applied-configuration, {len} bytes>"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Value {
        yaml11::parse_value(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"password\":\"aHVudGVyMg==\"}}'\ndata:\n  password: aHVudGVyMg==\nstringData:\n  token: s3cr3t\n",
            &Default::default(),
        )
        .unwrap()
    }

    const KEY: MarkKey = MarkKey([7; 32]);

    #[test]
    fn suppress_hides_every_value_but_keeps_a_size_class_and_a_keyed_mark() {
        let mut s = secret();
        redact_secret(&mut s, SecretHandling::Suppress, &KEY);
        let text = crate::hash::canonical_json(&s);
        assert!(!text.contains("aHVudGVyMg"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
        let pw = s.pointer(&["data", "password"]).unwrap().as_str().unwrap();
        assert!(pw.starts_with("<redacted: 5–8 bytes, mark:"), "{pw}");
        assert_eq!(pw, placeholder(b"hunter2", &KEY));
        // The exact length and a plain hash of the value (a public guess checker) are gone.
        assert!(
            !pw.contains(&crate::hash::sha256_hex(b"hunter2")[..8]),
            "{pw}"
        );
        assert_ne!(pw, placeholder(b"hunter2", &MarkKey([8; 32])));
        assert_ne!(pw, placeholder(b"hunter3", &KEY));
    }

    #[test]
    fn values_that_are_not_strings_are_redacted_too() {
        let mut s = yaml11::parse_value(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  pin: 4242\n  nested: {a: s3cr3t}\n",
            &Default::default(),
        )
        .unwrap();
        redact_secret(&mut s, SecretHandling::Suppress, &KEY);
        let text = crate::hash::canonical_json(&s);
        assert!(!text.contains("4242") && !text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn size_classes_are_powers_of_two() {
        assert_eq!(size_class(0), "0 bytes");
        assert_eq!(size_class(1), "1 byte");
        assert_eq!(size_class(3), "3–4 bytes");
        assert_eq!(size_class(16), "9–16 bytes");
        assert_eq!(size_class(17), "17–32 bytes");
    }

    #[test]
    fn decode_shows_plain_text() {
        let mut s = secret();
        redact_secret(&mut s, SecretHandling::Decode, &KEY);
        assert_eq!(
            s.pointer(&["data", "password"]).unwrap().as_str(),
            Some("hunter2")
        );
    }

    #[test]
    fn show_leaves_values_alone() {
        let mut s = secret();
        redact_secret(&mut s, SecretHandling::Show, &KEY);
        assert_eq!(s, secret());
    }

    #[test]
    fn parses_modes_and_rejects_others() {
        assert_eq!(
            "decode".parse::<SecretHandling>(),
            Ok(SecretHandling::Decode)
        );
        assert!(
            "reveal"
                .parse::<SecretHandling>()
                .unwrap_err()
                .contains("suppress, show or decode")
        );
    }

    #[test]
    fn only_core_secrets_are_secrets() {
        assert!(is_secret("v1", "Secret"));
        assert!(!is_secret("bitnami.com/v1alpha1", "Secret"));
    }
}
