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
                push_json_string(out, k);
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

/// sha256 over the canonical JSON of the whole object (streamed, never held in memory).
pub fn object_hash(v: &Value) -> String {
    struct Sink(ring::digest::Context, String);
    impl Sink {
        fn flush(&mut self) {
            self.0.update(self.1.as_bytes());
            self.1.clear();
        }
    }
    fn walk(v: &Value, sink: &mut Sink) {
        match v {
            Value::Mapping(m) => {
                sink.1.push('{');
                for (i, (k, v)) in m.sorted().into_iter().enumerate() {
                    if i > 0 {
                        sink.1.push(',');
                    }
                    push_json_string(&mut sink.1, k);
                    sink.1.push(':');
                    walk(v, sink);
                }
                sink.1.push('}');
            }
            Value::Sequence(items) => {
                sink.1.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        sink.1.push(',');
                    }
                    walk(v, sink);
                }
                sink.1.push(']');
            }
            Value::String(s) => push_json_string(&mut sink.1, s),
            scalar => sink
                .1
                .push_str(&serde_json::to_string(scalar).unwrap_or_default()),
        }
        if sink.1.len() > 8192 {
            sink.flush();
        }
    }
    let mut sink = Sink(
        ring::digest::Context::new(&ring::digest::SHA256),
        String::with_capacity(16384),
    );
    walk(v, &mut sink);
    sink.flush();
    hex(sink.0.finish().as_ref())
}

/// Appends `s` as a JSON string, escaped exactly as serde_json escapes it.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
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
    fn streamed_hash_equals_hash_of_canonical_json() {
        let v = yaml11::parse_value(
            "b: \"q\\\"uote\\\\ \\t\\u0001 é\"\na: {d: [x, 2.5, 1, true, null], c: {}}\n",
            &Default::default(),
        )
        .unwrap();
        assert_eq!(object_hash(&v), sha256_hex(canonical_json(&v).as_bytes()));
        let json = canonical_json(&v);
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["b"], "q\"uote\\ \t\u{1} é");
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
