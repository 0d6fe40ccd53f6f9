//! Helm's `toYaml`: sigs.k8s.io/yaml marshals to JSON, reads that back with go-yaml v2 and
//! writes it with go-yaml v2's emitter. This reproduces the emitter's block style: sorted keys,
//! indentless sequences in mappings, its quoting decisions, `|` blocks for multi-line strings
//! and line folding at 80 columns.

use crate::value::{MAX_VALUE_DEPTH, Value};

const BEST_WIDTH: usize = 80;

/// The value as go-yaml v2 would write it (ends with a newline).
pub(crate) fn to_yaml(v: &Value) -> String {
    emit(v, false)
}

/// Helm's `toYamlPretty`: a go-yaml v3 encoder with indent 2, which indents sequences under
/// their mapping key (ends with a newline).
pub(crate) fn to_yaml_pretty(v: &Value) -> String {
    emit(v, true)
}

fn emit(v: &Value, indent_sequences: bool) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        indent_sequences,
    };
    let mut held = 0;
    let d = data(v, 0, indent_sequences, &mut held);
    if crate::budget::exceeded().is_some() {
        // The value expands past the budget; the executor reports the limit.
        return String::new();
    }
    match &d {
        D::Map(m) if !m.is_empty() => e.map(m, 0, true),
        D::Seq(s) if !s.is_empty() => e.seq(s, 0, true),
        other => e.scalar(other, 2, false),
    }
    e.out.push('\n');
    e.out
}

/// The JSON data model after the JSON round trip.
enum D {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<D>),
    Map(Vec<(String, D)>),
}

/// `v3`: go-yaml v3 writes it (toYamlPretty), whose key order differs slightly from v2's.
/// `held` counts the bytes built so far: a value that holds one list or map many times builds
/// a tree exponentially larger than itself, so the walk stops when the budget has no room.
fn data(v: &Value, depth: usize, v3: bool, held: &mut usize) -> D {
    *held += std::mem::size_of::<D>()
        + match v {
            // The text and its allocation.
            Value::String(s) => s.len() + 24,
            Value::Bytes(b) => b.len() * 4 / 3 + 28,
            Value::Map(m) => m.len() * std::mem::size_of::<(String, D)>(),
            _ => 0,
        };
    if depth > MAX_VALUE_DEPTH || !crate::budget::visit(*held) {
        return D::Null;
    }
    match v {
        Value::Invalid | Value::Nil => D::Null,
        Value::Bool(b) => D::Bool(*b),
        Value::Int(i) | Value::Int64(i) => D::Int(*i),
        Value::Float(f) => {
            if f.fract() == 0.0
                && f.abs() < 1e21
                && *f >= -9.223372036854776e18
                && *f < 9.223372036854776e18
            {
                D::Int(*f as i64)
            } else {
                D::Float(*f)
            }
        }
        Value::String(s) => D::Str(s.to_string()),
        Value::Bytes(b) => {
            use base64::Engine as _;
            D::Str(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::List(l) => D::Seq(
            l.items()
                .iter()
                .map(|x| data(x, depth + 1, v3, held))
                .collect(),
        ),
        Value::Map(m) => {
            let mut entries: Vec<(String, D)> = m
                .entries()
                .iter()
                .map(|(k, x)| (k.clone(), data(x, depth + 1, v3, held)))
                .collect();
            // Maps iterate in byte order; go-yaml orders keys its own way. Most maps are
            // already in that order, so check before sorting.
            if entries.windows(2).any(|w| !key_less(&w[0].0, &w[1].0, v3)) {
                entries = merge_sort(entries, &|a, b| key_less(&a.0, &b.0, v3));
            }
            D::Map(entries)
        }
        Value::Object(o) => data(&o.to_data(), depth + 1, v3, held),
    }
}

/// A stable merge sort that accepts any `less`. go-yaml's key order is not total (digits
/// against letters can form cycles), and std's sorts may panic on such an order.
fn merge_sort<T>(mut v: Vec<T>, less: &impl Fn(&T, &T) -> bool) -> Vec<T> {
    if v.len() <= 1 {
        return v;
    }
    let right = v.split_off(v.len() / 2);
    let (left, right) = (merge_sort(v, less), merge_sort(right, less));
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        // Take from the right only when it is strictly less: equal keys keep their order.
        let next = if less(b, a) { r.next() } else { l.next() };
        out.extend(next);
    }
    out.extend(l);
    out.extend(r);
    out
}

/// go-yaml's order of string keys (`keyList.Less`): runs of digits compare as numbers, a letter
/// sorts after a character that is not one (`mirror_percent` before `mirrorPercent`), other
/// characters by code point, a prefix first. go-yaml v3 adds one rule: right after an equal
/// digit, a letter sorts before a non-letter.
fn key_less(a: &str, b: &str, v3: bool) -> bool {
    if a.is_ascii() && b.is_ascii() {
        runes_less(a.as_bytes(), b.as_bytes(), char::from, v3)
    } else {
        let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        runes_less(&ar, &br, |c| c, v3)
    }
}

fn runes_less<T: Copy>(ar: &[T], br: &[T], ch: impl Fn(T) -> char, v3: bool) -> bool {
    // Go's unicode.IsLetter / IsDigit; exact for ASCII, the closest std predicates otherwise.
    let is_letter = |c: char| c.is_ascii_alphabetic() || (!c.is_ascii() && c.is_alphabetic());
    let is_digit = |c: char| c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric());
    // A run of digits from `from` read as a number, counting on from `start`.
    let digit_run = |r: &[T], from: usize, start: i64| {
        let mut n = start;
        let mut end = from;
        while end < r.len() && is_digit(ch(r[end])) {
            n = n
                .wrapping_mul(10)
                .wrapping_add(ch(r[end]) as i64 - '0' as i64);
            end += 1;
        }
        (n, end)
    };
    let mut after_digit = false;
    for i in 0..ar.len().min(br.len()) {
        let (x, y) = (ch(ar[i]), ch(br[i]));
        if x == y {
            after_digit = is_digit(x);
            continue;
        }
        let (xl, yl) = (is_letter(x), is_letter(y));
        if xl && yl {
            return x < y;
        }
        if xl || yl {
            return if v3 && after_digit { xl } else { yl };
        }
        // go-yaml's quirk: where a run of digits continues one with a non-zero digit before
        // it, both numbers count on from 1 instead of 0, so a zero there is not "leading".
        let mut start = 0;
        if x == '0' || y == '0' {
            let mut j = i;
            while j > 0 && is_digit(ch(ar[j - 1])) {
                j -= 1;
                if ch(ar[j]) != '0' {
                    start = 1;
                    break;
                }
            }
        }
        let (an, ae) = digit_run(ar, i, start);
        let (bn, be) = digit_run(br, i, start);
        if an != bn {
            return an < bn;
        }
        if ae != be {
            return ae < be;
        }
        return x < y;
    }
    ar.len() < br.len()
}

/// Whether go-yaml v2 would read `s`, unquoted, as something other than a string.
fn resolves_non_string(s: &str) -> bool {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return true,
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "true" | "True"
        | "TRUE" | "false" | "False" | "FALSE" | "on" | "On" | "ON" | "off" | "Off" | "OFF" => {
            return true;
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            return true;
        }
        "<<" => return true,
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return false;
    }
    let plain = s.replace('_', "");
    if crate::funcs::conv::parse_int_base0(&plain).is_some() {
        return true;
    }
    if is_yaml_float(&plain) {
        return true;
    }
    if plain.chars().all(|c| c.is_ascii_digit()) && !plain.is_empty() {
        return true; // uint overflow of int64 still resolves to a number
    }
    is_timestamp(s) || is_base60_float(s)
}

fn is_yaml_float(s: &str) -> bool {
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let start = i;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return false;
        }
    } else {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return false;
        }
    }
    i == b.len()
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let t = s.trim_start_matches(['+', '-']);
    let (main, _frac) = match t.split_once('.') {
        Some((m, f)) => {
            if !f.chars().all(|c| c.is_ascii_digit() || c == '_') {
                return false;
            }
            (m, f)
        }
        None => (t, ""),
    };
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if head.is_empty()
        || !head.as_bytes()[0].is_ascii_digit()
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let mut n = 0;
    for p in parts {
        n += 1;
        let ok = match p.len() {
            1 => p.as_bytes()[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&p.as_bytes()[0]) && p.as_bytes()[1].is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    n > 0
}

fn is_timestamp(s: &str) -> bool {
    // Date part: YYYY-M-D (1 or 2 digit month/day), optionally followed by a time.
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let rest = &s[5..];
    let mut it = rest.splitn(2, '-');
    let mon = it.next().unwrap_or("");
    let Some(tail) = it.next() else { return false };
    if mon.is_empty() || mon.len() > 2 || !mon.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let day_len = tail.chars().take_while(|c| c.is_ascii_digit()).count();
    if day_len == 0 || day_len > 2 {
        return false;
    }
    let after = &tail[day_len..];
    if after.is_empty() {
        return true;
    }
    let Some(time) = after.strip_prefix(['T', 't', ' ']) else {
        return false;
    };
    // 15:4:5 with optional fraction and zone.
    let parts: Vec<&str> = time.splitn(3, ':').collect();
    if parts.len() < 3 {
        return false;
    }
    let ok_num = |p: &str| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit());
    if !ok_num(parts[0]) || !ok_num(parts[1]) {
        return false;
    }
    let sec_len = parts[2].chars().take_while(|c| c.is_ascii_digit()).count();
    (1..=2).contains(&sec_len)
}

struct Emitter {
    out: String,
    column: usize,
    /// go-yaml v3 with indent 2 (`toYamlPretty`) rather than v2 (`toYaml`).
    indent_sequences: bool,
}

#[derive(Default)]
struct Analysis {
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain: false,
            block_plain: true,
            single_quoted: true,
            block: false,
        };
    }
    let mut a = Analysis {
        multiline: false,
        flow_plain: true,
        block_plain: true,
        single_quoted: true,
        block: true,
    };
    let (mut block_ind, mut flow_ind) = (false, false);
    if value.starts_with("---") || value.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let chars: Vec<char> = value.chars().collect();
    let mut preceded_ws = true;
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut prev_space, mut prev_break) =
        (false, false, false, false);
    for (i, &c) in chars.iter().enumerate() {
        let followed_ws =
            i + 1 >= chars.len() || matches!(chars[i + 1], ' ' | '\t') || is_break(chars[i + 1]);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    if followed_ws {
                        block_ind = true;
                    }
                }
                '-' if followed_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    if followed_ws {
                        block_ind = true;
                    }
                }
                '#' if preceded_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == chars.len() {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == chars.len() {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = matches!(c, ' ' | '\t') || is_break(c);
    }
    a.multiline = line_breaks;
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single_quoted = false;
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

impl Emitter {
    fn put(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.out.push_str(s);
    }

    /// [`Emitter::put`] for one character that is not a line break (a string per character
    /// was a tenth of a large `toYaml`).
    fn put_char(&mut self, c: char) {
        self.column += 1;
        self.out.push(c);
    }

    fn newline_indent(&mut self, indent: usize) {
        self.out.push('\n');
        self.column = 0;
        for _ in 0..indent {
            self.out.push(' ');
        }
        self.column = indent;
    }

    fn map(&mut self, m: &[(String, D)], indent: usize, first_inline: bool) {
        // Indentation grows with depth: deep values write more than they hold.
        if !crate::budget::visit(self.out.len()) {
            return;
        }
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 || !first_inline {
                self.newline_indent(indent);
            }
            self.string(k, indent + 2, true);
            self.put(":");
            match v {
                D::Map(vm) if !vm.is_empty() => self.map(vm, indent + 2, false),
                D::Seq(vs) if !vs.is_empty() => {
                    let at = if self.indent_sequences {
                        indent + 2
                    } else {
                        indent
                    };
                    self.seq(vs, at, false)
                }
                other => {
                    self.put(" ");
                    self.scalar(other, indent + 2, false);
                }
            }
        }
    }

    fn seq(&mut self, s: &[D], indent: usize, first_inline: bool) {
        if !crate::budget::visit(self.out.len()) {
            return;
        }
        for (i, v) in s.iter().enumerate() {
            if i > 0 || !first_inline {
                self.newline_indent(indent);
            }
            self.put("- ");
            match v {
                D::Map(vm) if !vm.is_empty() => self.map(vm, indent + 2, true),
                D::Seq(vs) if !vs.is_empty() => self.seq(vs, indent + 2, true),
                other => self.scalar(other, indent + 2, false),
            }
        }
    }

    fn scalar(&mut self, v: &D, indent: usize, key: bool) {
        match v {
            D::Null => self.put("null"),
            D::Bool(b) => self.put(if *b { "true" } else { "false" }),
            D::Int(i) => self.put(&i.to_string()),
            D::Float(f) => {
                let s = if f.is_nan() {
                    ".nan".to_string()
                } else if f.is_infinite() {
                    if *f > 0.0 {
                        "+.inf".to_string()
                    } else {
                        "-.inf".to_string()
                    }
                } else {
                    crate::gofmt::format_float(*f, 'g', -1)
                };
                self.put(&s);
            }
            D::Str(s) => self.string(s, indent, key),
            D::Seq(_) => self.put("[]"),
            D::Map(_) => self.put("{}"),
        }
    }

    fn string(&mut self, s: &str, indent: usize, key: bool) {
        let can_plain = !s.is_empty() && !resolves_non_string(s);
        let mut style = if s.contains('\n') {
            Style::Literal
        } else if can_plain {
            Style::Plain
        } else {
            Style::Double
        };
        let a = analyze(s);
        if style == Style::Plain && !a.block_plain {
            style = Style::Single;
        }
        if style == Style::Plain && s.is_empty() && key {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || key) {
            style = Style::Double;
        }
        let _ = a.multiline;
        match style {
            Style::Plain => self.write_plain(s, indent, !key),
            Style::Single => self.write_single(s, indent, !key),
            Style::Double => self.write_double(s, indent, !key),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    fn write_plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.newline_indent(indent);
                } else {
                    self.put(" ");
                }
                spaces = true;
            } else {
                self.put_char(c);
                spaces = false;
            }
            i += 1;
        }
    }

    fn write_single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.put("'");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.newline_indent(indent);
                } else {
                    self.put(" ");
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put("''");
                } else {
                    self.put_char(c);
                }
                spaces = false;
            }
        }
        self.put("'");
    }

    fn write_double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.put("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\x07' => "\\a".to_string(),
                    '\x08' => "\\b".to_string(),
                    '\t' => "\\t".to_string(),
                    '\n' => "\\n".to_string(),
                    '\x0b' => "\\v".to_string(),
                    '\x0c' => "\\f".to_string(),
                    '\r' => "\\r".to_string(),
                    '\x1b' => "\\e".to_string(),
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    '\u{85}' => "\\N".to_string(),
                    '\u{A0}' => "\\_".to_string(),
                    '\u{2028}' => "\\L".to_string(),
                    '\u{2029}' => "\\P".to_string(),
                    c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                self.put(&esc);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.newline_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put("\\");
                    }
                } else {
                    self.put(" ");
                }
                spaces = true;
            } else {
                self.put_char(c);
                spaces = false;
            }
        }
        self.put("\"");
    }

    fn write_literal(&mut self, s: &str, indent: usize) {
        self.put("|");
        if s.starts_with(' ') || s.starts_with('\n') {
            self.put("2");
        }
        if !s.ends_with('\n') {
            self.put("-");
        } else if s.len() == 1 || s[..s.len() - 1].ends_with('\n') {
            self.put("+");
        }
        self.out.push('\n');
        self.column = 0;
        let mut at_line_start = true;
        for c in s.chars() {
            if c == '\n' {
                self.out.push('\n');
                self.column = 0;
                at_line_start = true;
            } else {
                if at_line_start {
                    for _ in 0..indent {
                        self.out.push(' ');
                    }
                    self.column = indent;
                    at_line_start = false;
                }
                self.put_char(c);
            }
        }
        if s.ends_with('\n') {
            // The final break is already written; go-yaml writes nothing more.
            self.out.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_style() {
        let v = Value::map([
            (
                "b",
                Value::list(vec![
                    Value::str("x"),
                    Value::map([("k", Value::Float(1.0)), ("j", Value::Bool(true))]),
                ]),
            ),
            (
                "a",
                Value::map([("n", Value::Nil), ("s", Value::str("yes"))]),
            ),
            ("c", Value::str("line1\nline2")),
            ("d", Value::map(Vec::<(String, Value)>::new())),
        ]);
        assert_eq!(
            to_yaml(&v),
            "a:\n  \"n\": null\n  s: \"yes\"\nb:\n- x\n- j: true\n  k: 1\nc: |-\n  line1\n  line2\nd: {}\n"
        );
    }

    fn keys_in_yaml_order(keys: &[&str], pretty: bool) -> Vec<String> {
        let v = Value::map(keys.iter().map(|k| (*k, Value::Int(1))));
        let out = if pretty {
            to_yaml_pretty(&v)
        } else {
            to_yaml(&v)
        };
        out.lines()
            .map(|l| l.trim_end_matches(": 1").trim_matches('"').to_string())
            .collect()
    }

    #[test]
    fn keys_follow_go_yaml_order_not_byte_order() {
        // Orders helm 3.17.1 printed (stable over repeated runs).
        let keys = [
            "mirrorPercent",
            "mirror_percent",
            "a10",
            "a9",
            "a01",
            "a1",
            "a001",
            "k8s",
            "k8S",
            "k8_",
            "_a",
            "A",
            "10",
            "2",
        ];
        assert_eq!(
            keys_in_yaml_order(&keys, false),
            [
                "_a",
                "2",
                "10",
                "A",
                "a1",
                "a01",
                "a001",
                "a9",
                "a10",
                "k8_",
                "k8S",
                "k8s",
                "mirror_percent",
                "mirrorPercent"
            ]
        );
        // go-yaml v3 (toYamlPretty): after an equal digit a letter comes first.
        assert_eq!(
            keys_in_yaml_order(&["k8_", "k8S", "k8s"], true),
            ["k8S", "k8s", "k8_"]
        );
    }

    #[test]
    fn a_cyclic_key_order_is_sorted_without_panicking_and_stably() {
        // v1alpha1 < v2 < v10 < v1alpha1 in go-yaml's order (helm's output varies per run).
        let keys = ["v1alpha1", "v2", "v10", "v1beta1", "a1b", "a9", "a10"];
        let first = keys_in_yaml_order(&keys, false);
        assert_eq!(first.len(), keys.len());
        assert_eq!(keys_in_yaml_order(&keys, false), first);
    }

    #[test]
    fn quoting() {
        let q = |s: &str| to_yaml(&Value::str(s));
        assert_eq!(q("plain"), "plain\n");
        assert_eq!(q(""), "\"\"\n");
        assert_eq!(q("123"), "\"123\"\n");
        assert_eq!(q("a: b"), "'a: b'\n");
        assert_eq!(q("*x"), "'*x'\n");
        assert_eq!(q("2024-01-01"), "\"2024-01-01\"\n");
        assert_eq!(q("tab\there"), "\"tab\\there\"\n");
    }
}
