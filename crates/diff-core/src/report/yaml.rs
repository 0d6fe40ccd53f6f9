//! A small block-style YAML writer for showing objects in unified diffs.
//!
//! Keys keep document order; strings are quoted whenever a YAML 1.1 reader could take them
//! for something else (`yes`, `0755`, `1e3`, `~`), so what is shown reads back as what was
//! compared.

use std::fmt::Write;

use yaml11::{Number, Value};

/// The value as block YAML, ending with a newline.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Mapping(m) if !m.is_empty() => write_mapping(&mut out, v, 0),
        Value::Sequence(s) if !s.is_empty() => write_sequence(&mut out, v, 0),
        scalar => {
            write_scalar(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_mapping(out: &mut String, v: &Value, depth: usize) {
    let Value::Mapping(m) = v else { return };
    for (k, val) in m.iter() {
        indent(out, depth);
        write_string(out, k, depth, true);
        out.push(':');
        write_child(out, val, depth);
    }
}

fn write_sequence(out: &mut String, v: &Value, depth: usize) {
    let Value::Sequence(items) = v else { return };
    for item in items {
        indent(out, depth);
        out.push('-');
        match item {
            Value::Mapping(m) if !m.is_empty() => {
                // First entry on the dash line, the rest aligned under it.
                let mut first = true;
                for (k, val) in m.iter() {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, depth + 2);
                    }
                    write_string(out, k, depth + 2, true);
                    out.push(':');
                    write_child(out, val, depth + 2);
                }
            }
            Value::Sequence(s) if !s.is_empty() => {
                out.push('\n');
                write_sequence(out, item, depth + 2);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, depth + 2);
                out.push('\n');
            }
        }
    }
}

fn write_child(out: &mut String, val: &Value, depth: usize) {
    match val {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            write_mapping(out, val, depth + 2);
        }
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            write_sequence(out, val, depth);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, depth + 2);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(Number::Int(i)) => {
            let _ = write!(out, "{i}");
        }
        Value::Number(Number::Float(f)) => {
            if f.is_nan() {
                out.push_str(".nan");
            } else if f.is_infinite() {
                out.push_str(if *f > 0.0 { ".inf" } else { "-.inf" });
            } else if f.fract() == 0.0 && f.abs() < 1e15 {
                let _ = write!(out, "{f:.1}");
            } else {
                let _ = write!(out, "{f}");
            }
        }
        Value::String(s) => write_string(out, s, depth, false),
        Value::Mapping(_) => out.push_str("{}"),
        Value::Sequence(_) => out.push_str("[]"),
    }
}

fn write_string(out: &mut String, s: &str, depth: usize, key: bool) {
    if !key && s.contains('\n') && !s.contains('\r') && s.trim_start_matches('\n') == s {
        let chomp = if s.ends_with("\n\n") {
            "+"
        } else if s.ends_with('\n') {
            ""
        } else {
            "-"
        };
        let lead = if s.starts_with(' ') { "2" } else { "" };
        let _ = write!(out, "|{lead}{chomp}");
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                indent(out, depth);
                out.push_str(line);
            }
        }
        return;
    }
    if needs_quotes(s) {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    } else {
        out.push_str(s);
    }
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let first = s.as_bytes()[0];
    if b"-?:,[]{}#&*!|>'\"%@`".contains(&first)
        && !(first == b'-'
            && s.len() > 1
            && s.as_bytes()[1] != b' '
            && !s[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.'))
    {
        return true;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.chars().any(|c| c.is_control())
    {
        return true;
    }
    if plainly_a_string(s) {
        return false;
    }
    // Anything a YAML 1.1 reader would resolve to a non-string.
    !matches!(
        yaml11::parse_value(s, &yaml11::Limits::default()),
        Ok(Value::String(ref back)) if back == s
    )
}

/// Whether `s` (already past the checks above) reads back as itself without asking the YAML
/// reader, which costs a parser per string and was a tenth of a large compare's report: printable
/// ASCII starting with a letter resolves to something else in YAML 1.1 only as one of its
/// boolean and null words, and those (in any case) go to the reader.
fn plainly_a_string(s: &str) -> bool {
    const WORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let b = s.as_bytes();
    b[0].is_ascii_alphabetic()
        && b.iter().all(|c| (b' '..=b'~').contains(c))
        && !WORDS.iter().any(|w| s.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The shortcut answers as the YAML reader would, on strings made to look like YAML.
        #[test]
        fn plain_strings_are_strings_to_the_reader(
            s in "[A-Za-z][A-Za-z0-9 ._/:#,'\"!&*|>%@`{}\\[\\]=~<+-]{0,12}"
        ) {
            let trimmed_ok = s.trim() == s && !s.contains(": ") && !s.contains(" #") && !s.ends_with(':');
            if trimmed_ok && plainly_a_string(&s) {
                let back = yaml11::parse_value(&s, &yaml11::Limits::default());
                proptest::prop_assert!(
                    matches!(back, Ok(Value::String(ref b)) if *b == s),
                    "{s:?} reads back as {back:?}"
                );
            }
        }
    }

    #[test]
    fn yaml_words_and_non_ascii_still_go_to_the_reader() {
        for s in ["yes", "No", "ON", "off", "True", "NULL", "y", "N"] {
            assert!(!plainly_a_string(s), "{s}");
            assert!(needs_quotes(s), "{s}");
        }
        assert!(!plainly_a_string("é"));
        assert!(!plainly_a_string("1e3"));
        assert!(!plainly_a_string("~"));
        assert!(plainly_a_string("nginx:1.25"));
        assert!(!needs_quotes("nginx:1.25"));
        assert!(!needs_quotes("yesterday"));
    }

    fn round_trip(y: &str) {
        let v = yaml11::parse_value(y, &Default::default()).unwrap();
        let out = to_yaml(&v);
        let back = yaml11::parse_value(&out, &Default::default()).unwrap();
        assert_eq!(back, v, "emitted:\n{out}");
    }

    #[test]
    fn emits_block_style_in_document_order() {
        let v =
            yaml11::parse_value("b: 1\na:\n  c: [x, {d: e, f: 2}]\n", &Default::default()).unwrap();
        assert_eq!(to_yaml(&v), "b: 1\na:\n  c:\n  - x\n  - d: e\n    f: 2\n");
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        let v = yaml11::parse_value(
            "a: 'yes'\nb: '0755'\nc: '1e3'\nd: '~'\ne: 'x: y'\n",
            &Default::default(),
        )
        .unwrap();
        let out = to_yaml(&v);
        assert_eq!(
            out,
            "a: \"yes\"\nb: \"0755\"\nc: \"1e3\"\nd: \"~\"\ne: \"x: y\"\n"
        );
    }

    #[test]
    fn round_trips_typical_objects() {
        round_trip(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {app.kubernetes.io/name: x}\ndata:\n  a.conf: |\n    line one\n    line two\n  b: \"no newline\\nend\"\n  c: '-1'\n  d: '- x'\n",
        );
        round_trip(
            "spec:\n  replicas: 2\n  ratio: 1.0\n  empty: {}\n  none: []\n  nil: null\n  nested:\n  - - a\n    - b\n",
        );
    }
}
