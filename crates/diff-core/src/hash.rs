//! Hashes over objects and text.

use std::fmt::Write;

use yaml11::Value;

/// Lowercase hex sha256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Canonical JSON of a value: mapping keys sorted, no whitespace.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Mapping(m) => {
            out.push('{');
            for (i, (k, v)) in m.sorted().into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Sequence(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).unwrap_or_default()),
    }
}

/// sha256 over the canonical JSON of the whole object.
pub fn object_hash(v: &Value) -> String {
    sha256_hex(canonical_json(v).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let docs =
            yaml11::parse_stream("b: 1\na: {d: [x, 2.5], c: null}\n", &Default::default()).unwrap();
        assert_eq!(
            canonical_json(&docs[0].value),
            r#"{"a":{"c":null,"d":["x",2.5]},"b":1}"#
        );
    }

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a = yaml11::parse_value("a: 1\nb: 2\n", &Default::default()).unwrap();
        let b = yaml11::parse_value("b: 2\na: 1\n", &Default::default()).unwrap();
        assert_eq!(object_hash(&a), object_hash(&b));
    }
}
