//! Secret handling: what of a Secret's values may appear in output.
//!
//! Redaction runs on the objects before anything is diffed, hashed, stored or printed, so no
//! report, hash or stored result can leak a value in `suppress` mode.

use base64::Engine;
use yaml11::{Mapping, Value};

use crate::hash::sha256_hex;

/// What to do with Secret `data`/`stringData` values. In JSON: `suppress`, `show`, `decode`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SecretHandling {
    /// Values never appear: each is replaced by its byte size and a short sha256 prefix, so a
    /// reader still sees *that* a key changed.
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

/// The placeholder that stands for a secret value.
pub fn placeholder(bytes: &[u8]) -> String {
    format!(
        "<redacted: {} bytes, sha256:{}>",
        bytes.len(),
        &sha256_hex(bytes)[..8]
    )
}

/// Applies `mode` to a Secret object in place.
pub fn redact_secret(object: &mut Value, mode: SecretHandling) {
    if mode == SecretHandling::Show {
        return;
    }
    let Value::Mapping(root) = object else {
        return;
    };
    if let Some(Value::Mapping(data)) = root.get_mut("data") {
        for (_, v) in data.iter_mut() {
            let Value::String(encoded) = v else {
                continue;
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim().as_bytes())
                .ok();
            *v = match (mode, decoded) {
                (SecretHandling::Decode, Some(bytes)) => match String::from_utf8(bytes) {
                    Ok(text) => Value::String(text),
                    Err(e) => Value::String(placeholder(e.as_bytes())),
                },
                (_, Some(bytes)) => Value::String(placeholder(&bytes)),
                (_, None) => Value::String(placeholder(encoded.as_bytes())),
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
                *v = Value::String(placeholder(text.as_bytes()));
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

    #[test]
    fn suppress_hides_every_value_but_keeps_size_and_hash_prefix() {
        let mut s = secret();
        redact_secret(&mut s, SecretHandling::Suppress);
        let text = crate::hash::canonical_json(&s);
        assert!(!text.contains("aHVudGVyMg"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
        let pw = s.pointer(&["data", "password"]).unwrap().as_str().unwrap();
        assert!(pw.starts_with("<redacted: 7 bytes, sha256:"), "{pw}");
        assert_eq!(pw, placeholder(b"hunter2"));
    }

    #[test]
    fn decode_shows_plain_text() {
        let mut s = secret();
        redact_secret(&mut s, SecretHandling::Decode);
        assert_eq!(
            s.pointer(&["data", "password"]).unwrap().as_str(),
            Some("hunter2")
        );
    }

    #[test]
    fn show_leaves_values_alone() {
        let mut s = secret();
        redact_secret(&mut s, SecretHandling::Show);
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
