//! Property tests: no input makes the reader panic, values written out as YAML in any of the
//! styles charts use read back equal, and a shallow read agrees with a full one.

use proptest::prelude::*;
use yaml11::{Limits, Mapping, Number, Value, parse_stream, parse_value, parse_value_shallow};

// ------------------------------------------------------------------ never panics

fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("\n".to_owned()),
        Just("  ".to_owned()),
        Just("- ".to_owned()),
        Just(": ".to_owned()),
        Just("? ".to_owned()),
        Just("---\n".to_owned()),
        Just("...\n".to_owned()),
        Just("|".to_owned()),
        Just(">-\n".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("<<: ".to_owned()),
        Just("!!str ".to_owned()),
        Just("%YAML 1.1\n".to_owned()),
        Just("\t".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{feff}".to_owned()),
        "[a-z0-9]{1,4}",
        "[\\[\\]{},:#'\"\\\\ -]{1,3}",
        "\\PC{1,3}",
        "[\\x00-\\x1f]",
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in yamlish()) {
        let _ = parse_stream(&text, &Limits::default());
        let tight = Limits { max_depth: 3, max_nodes: 20, max_documents: 3, max_bytes: 1 << 20, max_value_bytes: 1 << 20 };
        let _ = parse_stream(&text, &tight);
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,64}|[ -~\\n\\t]{0,64}") {
        let _ = parse_stream(&text, &Limits::default());
    }
}

// ------------------------------------------------------------------ round trip

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_/][a-z0-9_./-]{0,8}( [a-z0-9_./-]{1,4}){0,2}",
        "[ -~]{0,16}",
        "\\PC{0,8}",
        "[a-z #:\\t]{0,12}(\\n[a-z #:]{0,12}){1,3}\\n{0,3}",
        "[\\x00-\\x1f\\x7f\\u{85}\\u{2028}\\u{feff}a]{1,4}",
        prop::sample::select(vec![
            "",
            "yes",
            "No",
            "on",
            "~",
            "null",
            "0755",
            "0x1F",
            "1e3",
            ".inf",
            "<<",
            "-",
            "- a",
            "a: b",
            "#",
            "'",
            "\"",
            "---",
            "...",
            "%TAG",
            "@x",
            "`x",
            "&a",
            "*a",
            "!x",
            "|",
            ">",
            "2024-01-01",
            " lead",
            "trail ",
            "1_000",
        ])
        .prop_map(str::to_owned),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        string().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Sequence),
            prop::collection::vec((string(), inner), 0..5)
                .prop_map(|entries| Value::Mapping(entries.into_iter().collect::<Mapping>())),
        ]
    })
}

/// Writes values as YAML, picking styles from a seeded generator.
struct Emitter {
    seed: u64,
    out: String,
}

impl Emitter {
    fn pick(&mut self, n: u64) -> u64 {
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.seed >> 33) % n
    }

    fn indent(&mut self, col: usize) {
        self.out.extend(std::iter::repeat_n(' ', col));
    }

    /// A string that go-yaml reads back as this string when written plain: letters other
    /// than the y/n/t/f/o/~ that start YAML 1.1 keywords, then word characters and spaces.
    fn plain_ok(s: &str) -> bool {
        let Some(first) = s.chars().next() else {
            return false;
        };
        (first.is_ascii_lowercase() && !"ynotf".contains(first) || first == '_' || first == '/')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_./- ".contains(c))
            && !s.ends_with(' ')
            && !s.contains("  ")
    }

    fn needs_escape(c: char) -> bool {
        (c as u32) < 0x20
            || (0x7f..=0x9f).contains(&(c as u32))
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
    }

    fn double(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\t' if self.pick(2) == 0 => self.out.push_str("\\t"),
                c if Self::needs_escape(c) => {
                    let code = c as u32;
                    let esc = if code <= 0xff && self.pick(2) == 0 {
                        format!("\\x{code:02x}")
                    } else {
                        format!("\\u{code:04X}")
                    };
                    self.out.push_str(&esc);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn single_ok(s: &str) -> bool {
        !s.chars()
            .any(|c| c == '\n' || c == '\r' || Self::needs_escape(c) && c != '\t')
    }

    /// A literal block scalar is possible for text with line breaks and nothing odd.
    fn block_ok(s: &str) -> bool {
        let body = s.trim_end_matches('\n');
        !body.is_empty()
            && s.contains('\n')
            && !s
                .chars()
                .any(|c| c == '\r' || Self::needs_escape(c) && c != '\t' && c != '\n')
    }

    fn string(&mut self, s: &str, key: bool, block_at: Option<isize>) {
        if Self::plain_ok(s) && self.pick(3) != 0 {
            self.out.push_str(s);
        } else if let Some(parent) =
            block_at.filter(|_| !key && Self::block_ok(s) && self.pick(2) == 0)
        {
            let body = s.trim_end_matches('\n');
            let trailing = s.len() - body.len();
            let chomp = match trailing {
                0 => "-",
                1 => "",
                _ => "+",
            };
            let col = if parent < 0 { 2 } else { parent as usize + 2 };
            self.out.push_str(&format!("|2{chomp}\n"));
            for line in body.split('\n') {
                if !line.is_empty() {
                    self.indent(col);
                    self.out.push_str(line);
                }
                self.out.push('\n');
            }
            for _ in 1..trailing {
                self.out.push('\n');
            }
            // The caller must not end the line again.
            self.out.push('\u{0}');
        } else if Self::single_ok(s) && self.pick(2) == 0 {
            self.out.push('\'');
            self.out.push_str(&s.replace('\'', "''"));
            self.out.push('\'');
        } else {
            self.double(s);
        }
    }

    /// A scalar or a flow collection on the current line.
    fn inline(&mut self, v: &Value, block_at: Option<isize>, in_flow: bool) {
        match v {
            Value::Null => {
                let null = ["~", "null", "Null", "!!null ''"][self.pick(4) as usize];
                self.out.push_str(null);
            }
            Value::Bool(b) => {
                let t = if *b {
                    ["true", "yes", "On", "Y"]
                } else {
                    ["false", "no", "OFF", "n"]
                };
                let i = self.pick(4) as usize;
                self.out.push_str(t[i]);
            }
            Value::Number(Number::Int(i)) => match self.pick(4) {
                0 if *i >= 0 => self.out.push_str(&format!("0x{i:X}")),
                1 if *i >= 0 => self.out.push_str(&format!("0o{i:o}")),
                2 => self.out.push_str(&format!("!!int \"{i}\"")),
                _ => self.out.push_str(&i.to_string()),
            },
            Value::Number(Number::Float(f)) => {
                let text = if f.is_nan() {
                    ".nan".to_owned()
                } else if f.is_infinite() {
                    if *f > 0.0 { ".inf" } else { "-.Inf" }.to_owned()
                } else {
                    format!("{f:?}")
                };
                self.out.push_str(&text);
            }
            Value::String(s) => self.string(s, false, if in_flow { None } else { block_at }),
            Value::Sequence(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        let sep = if self.pick(3) == 0 { ",\n  " } else { ", " };
                        self.out.push_str(sep);
                    }
                    self.inline(item, None, true);
                }
                self.out.push(']');
            }
            Value::Mapping(m) => {
                self.out.push('{');
                for (i, (k, item)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.string(k, true, None);
                    self.out.push_str(": ");
                    self.inline(item, None, true);
                }
                self.out.push('}');
            }
        }
    }

    fn end_line(&mut self) {
        if self.out.ends_with('\u{0}') {
            self.out.pop();
        } else {
            if self.pick(5) == 0 {
                self.out.push_str(" # note");
            }
            self.out.push('\n');
        }
    }

    fn is_block(&mut self, v: &Value) -> bool {
        match v {
            Value::Sequence(s) => !s.is_empty() && self.pick(4) != 0,
            Value::Mapping(m) => !m.is_empty() && self.pick(4) != 0,
            _ => false,
        }
    }

    /// The value of a mapping entry whose key is at column `col`; the key is written.
    fn after_key(&mut self, v: &Value, col: usize) {
        self.out.push(':');
        if self.is_block(v) {
            self.end_line();
            let step = 1 + self.pick(4) as usize;
            match v {
                Value::Sequence(s) => {
                    let at = if self.pick(2) == 0 { col } else { col + step };
                    self.sequence(s, at, false);
                }
                Value::Mapping(m) => self.mapping(m, col + step, false),
                _ => unreachable!(),
            }
        } else {
            if !(v.is_null() && self.pick(2) == 0) {
                self.out.push(' ');
                self.inline(v, Some(col as isize), false);
            }
            self.end_line();
        }
    }

    /// A block mapping at column `col`; with `started`, the first key's line is begun.
    fn mapping(&mut self, m: &Mapping, col: usize, started: bool) {
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 || !started {
                if self.pick(6) == 0 {
                    self.out.push_str("# between\n");
                }
                self.indent(col);
            }
            self.string(k, true, None);
            self.after_key(v, col);
        }
    }

    fn sequence(&mut self, s: &[Value], col: usize, started: bool) {
        for (i, item) in s.iter().enumerate() {
            if i > 0 || !started {
                self.indent(col);
            }
            self.out.push('-');
            if self.is_block(item) {
                let compact = self.pick(2) == 0;
                if compact {
                    self.out.push(' ');
                } else {
                    self.end_line();
                }
                let step = if compact {
                    2
                } else {
                    1 + self.pick(4) as usize
                };
                match item {
                    Value::Sequence(inner) => self.sequence(inner, col + step, compact),
                    Value::Mapping(m) => self.mapping(m, col + step, compact),
                    _ => unreachable!(),
                }
            } else {
                if !(item.is_null() && self.pick(2) == 0) {
                    self.out.push(' ');
                    self.inline(item, Some(col as isize), false);
                }
                self.end_line();
            }
        }
    }

    fn document(v: &Value, seed: u64) -> String {
        let mut e = Emitter {
            seed,
            out: String::new(),
        };
        if e.pick(2) == 0 {
            e.out.push_str("---\n");
        }
        if e.is_block(v) {
            let col = e.pick(3) as usize;
            match v {
                Value::Sequence(s) => e.sequence(s, col, false),
                Value::Mapping(m) => e.mapping(m, col, false),
                _ => unreachable!(),
            }
        } else {
            e.inline(v, Some(-1), false);
            e.end_line();
        }
        e.out
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn emitted_values_read_back_equal(v in value(), seed in any::<u64>()) {
        let text = Emitter::document(&v, seed);
        let back = parse_value(&text, &Limits::default());
        prop_assert_eq!(back.as_ref(), Ok(&v), "text:\n{}", text);
    }
}

// ------------------------------------------------------------------ shallow reads

/// `v` with every node below level `keep` replaced by the placeholder of its kind.
pub(crate) fn truncate(v: &Value, keep: usize) -> Value {
    truncate_at(v, keep, 0)
}

fn truncate_at(v: &Value, keep: usize, level: usize) -> Value {
    if level > keep {
        return match v {
            Value::Null => Value::Null,
            Value::Sequence(_) => Value::Sequence(Vec::new()),
            Value::Mapping(_) => Value::Mapping(Mapping::new()),
            _ => Value::Bool(false),
        };
    }
    match v {
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .map(|i| truncate_at(i, keep, level + 1))
                .collect(),
        ),
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .map(|(k, i)| (k.clone(), truncate_at(i, keep, level + 1)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The shallow read equals the full read cut at `keep`, errors included.
fn same_as_full(text: &str, limits: &Limits, keep: usize) -> Result<(), TestCaseError> {
    let full = parse_value(text, limits).map(|v| truncate(&v, keep));
    let shallow = parse_value_shallow(text, limits, keep).map(|v| truncate(&v, keep));
    prop_assert_eq!(shallow, full, "keep {}, text:\n{}", keep, text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn shallow_reads_of_random_text_agree(text in yamlish(), keep in 0usize..4) {
        same_as_full(&text, &Limits::default(), keep)?;
        let tight = Limits { max_depth: 3, max_nodes: 20, max_documents: 3, max_bytes: 1 << 20, max_value_bytes: 1 << 20 };
        same_as_full(&text, &tight, keep)?;
    }

    #[test]
    fn shallow_reads_of_emitted_values_agree(v in value(), seed in any::<u64>(), keep in 0usize..4) {
        let text = Emitter::document(&v, seed);
        same_as_full(&text, &Limits::default(), keep)?;
        let shallow = parse_value_shallow(&text, &Limits::default(), keep);
        prop_assert_eq!(shallow, Ok(truncate(&v, keep)), "text:\n{}", text);
    }
}
