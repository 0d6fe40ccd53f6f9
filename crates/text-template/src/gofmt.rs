//! Go's `fmt` printing (`Sprint`, `Sprintln`, `Sprintf`) and `strconv` float formatting.

use crate::value::{MAX_VALUE_DEPTH, Value};

/// `fmt.Sprint(v)` of one value (`%v`).
pub fn sprint_value(v: &Value) -> String {
    let mut p = Printer::default();
    p.print_arg(v, 'v', 0);
    p.buf
}

/// A `[]byte` as `%v` prints it, `[104 105]`, appended to `out`.
pub(crate) fn write_byte_numbers(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 4 + 2);
    out.push('[');
    for (i, &x) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if x >= 100 {
            out.push(char::from(b'0' + x / 100));
        }
        if x >= 10 {
            out.push(char::from(b'0' + x / 10 % 10));
        }
        out.push(char::from(b'0' + x % 10));
    }
    out.push(']');
}

/// `fmt.Sprint(args...)`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut p = Printer::default();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v', 0);
        prev_string = is_string;
    }
    p.buf
}

/// `fmt.Sprintln(args...)`: spaces always, newline at the end.
pub fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::default();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v', 0);
    }
    p.buf.push('\n');
    p.buf
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::default();
    p.do_printf(format, args);
    p.buf
}

/// Go's `strconv.Quote`.
pub fn quote_go(s: &str) -> String {
    quote_with(s, '"', false)
}

fn is_go_printable(c: char) -> bool {
    if c.is_control() {
        return false;
    }
    let u = c as u32;
    !matches!(u,
        0x00A0 | 0x00AD | 0x061C | 0x1680 | 0x180E | 0x2000..=0x200F | 0x2028..=0x202F | 0x205F..=0x206F
        | 0x3000 | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xFFFE | 0xFFFF)
}

pub(crate) fn quote_with(s: &str, quote: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        if c == quote || c == '\\' {
            out.push('\\');
            out.push(c);
            continue;
        }
        if ascii_only {
            if (c as u32) < 0x80 && is_go_printable(c) {
                out.push(c);
                continue;
            }
        } else if is_go_printable(c) {
            out.push(c);
            continue;
        }
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// `%#U`: `U+0041 'A'`.
pub(crate) fn format_unicode_sharp(c: char) -> String {
    if is_go_printable(c) {
        format!("U+{:04X} '{}'", c as u32, c)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Decimal digits of a float and the position of the decimal point (Go's `decimalSlice`).
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

/// Shortest digits that round-trip (`prec < 0`) or `prec` significant digits, correctly rounded,
/// trailing zeros removed.
fn float_digits(v: f64, sig: Option<usize>) -> Digits {
    let v = v.abs();
    if v == 0.0 {
        return Digits {
            d: vec![b'0'],
            dp: 1,
        };
    }
    let s = match sig {
        None => format!("{v:e}"),
        Some(p) => format!("{:.*e}", p.saturating_sub(1), v),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    Digits { d, dp: exp + 1 }
}

fn fmt_e(out: &mut String, digs: &Digits, prec: usize, e: char) {
    out.push(digs.d[0] as char);
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        let m = digs.d.len().min(prec + 1);
        if i < m {
            out.push_str(std::str::from_utf8(&digs.d[i..m]).unwrap_or(""));
            i = m;
        }
        while i <= prec {
            out.push('0');
            i += 1;
        }
    }
    out.push(e);
    let exp = if digs.d == [b'0'] { 0 } else { digs.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

fn fmt_f(out: &mut String, digs: &Digits, prec: usize) {
    let nd = digs.d.len() as i32;
    if digs.dp > 0 {
        let m = nd.min(digs.dp) as usize;
        out.push_str(std::str::from_utf8(&digs.d[..m]).unwrap_or(""));
        for _ in m as i32..digs.dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i32 {
            let j = digs.dp + i - 1;
            out.push(if j >= 0 && j < nd {
                digs.d[j as usize] as char
            } else {
                '0'
            });
        }
    }
}

/// Go's `strconv.FormatFloat(v, fmt, prec, 64)` for `fmt` in `e E f g G`.
pub fn format_float(v: f64, fmt: char, prec: i32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    let shortest = prec < 0;
    match fmt {
        'e' | 'E' => {
            let digs = float_digits(
                v,
                if shortest {
                    None
                } else {
                    Some(prec as usize + 1)
                },
            );
            let p = if shortest {
                digs.d.len().saturating_sub(1)
            } else {
                prec as usize
            };
            fmt_e(&mut out, &digs, p, fmt);
        }
        'f' => {
            if shortest {
                let digs = float_digits(v, None);
                let p = (digs.d.len() as i32 - digs.dp).max(0) as usize;
                fmt_f(&mut out, &digs, p);
            } else {
                out.push_str(&format!("{:.*}", prec as usize, v.abs()));
            }
        }
        _ => {
            let e = if fmt == 'G' { 'E' } else { 'e' };
            let mut p = prec;
            if p == 0 {
                p = 1;
            }
            let digs = float_digits(v, if shortest { None } else { Some(p as usize) });
            let nd = digs.d.len() as i32;
            let mut eprec = p;
            if shortest {
                p = nd;
                eprec = 6;
            } else if eprec > nd && nd >= digs.dp {
                eprec = nd;
            }
            let exp = digs.dp - 1;
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(&mut out, &digs, (p - 1).max(0) as usize, e);
            } else {
                if p > digs.dp {
                    p = nd;
                }
                fmt_f(&mut out, &digs, (p - digs.dp).max(0) as usize);
            }
        }
    }
    out
}

#[derive(Default, Clone, PartialEq)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

#[derive(Default)]
struct Printer {
    buf: String,
    f: Flags,
}

impl Printer {
    fn pad(&mut self, s: &str) {
        let Some(w) = self.f.wid else {
            self.buf.push_str(s);
            return;
        };
        let n = s.chars().count();
        if n >= w {
            self.buf.push_str(s);
            return;
        }
        let padc = if self.f.zero && !self.f.minus {
            '0'
        } else {
            ' '
        };
        if self.f.minus {
            self.buf.push_str(s);
            for _ in n..w {
                self.buf.push(' ');
            }
        } else {
            for _ in n..w {
                self.buf.push(padc);
            }
            self.buf.push_str(s);
        }
    }

    fn bad_verb(&mut self, verb: char, v: &Value) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        if v.is_nil() {
            self.buf.push_str("<nil>");
        } else {
            self.buf.push_str(&v.type_name());
            self.buf.push('=');
            let saved = std::mem::take(&mut self.f);
            self.print_arg(v, 'v', 0);
            self.f = saved;
        }
        self.buf.push(')');
    }

    fn fmt_integer(&mut self, v: i64, base: u32, verb: char, signed: bool) {
        let neg = signed && v < 0;
        let u = if signed { v.unsigned_abs() } else { v as u64 };
        let mut prec: Option<usize> = self.f.prec;
        if prec.is_none()
            && self.f.zero
            && !self.f.minus
            && let Some(w) = self.f.wid
        {
            let mut p = w;
            if neg || self.f.plus || self.f.space {
                p = p.saturating_sub(1);
            }
            prec = Some(p);
        }
        let mut digits = if prec == Some(0) && u == 0 {
            String::new()
        } else {
            let mut s = String::new();
            let mut x = u;
            loop {
                let d = std::char::from_digit((x % base as u64) as u32, base).unwrap_or('0');
                s.push(if verb == 'X' {
                    d.to_ascii_uppercase()
                } else {
                    d
                });
                x /= base as u64;
                if x == 0 {
                    break;
                }
            }
            s.chars().rev().collect()
        };
        if let Some(p) = prec {
            while digits.len() < p {
                digits.insert(0, '0');
            }
        }
        let mut prefix = String::new();
        if self.f.sharp {
            match base {
                2 => prefix.push_str("0b"),
                8 if !digits.starts_with('0') => {
                    prefix.push('0');
                }
                16 => prefix.push_str(if verb == 'X' { "0X" } else { "0x" }),
                _ => {}
            }
        }
        if verb == 'O' {
            prefix = "0o".into();
        }
        let sign = if neg {
            "-"
        } else if self.f.plus {
            "+"
        } else if self.f.space {
            " "
        } else {
            ""
        };
        let s = format!("{sign}{prefix}{digits}");
        let saved = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = saved;
    }

    fn fmt_float(&mut self, v: f64, verb: char, prec: i32) {
        let mut num = format_float(v, if verb == 'F' { 'f' } else { verb }, prec);
        if !num.starts_with(['-', '+']) {
            num.insert(0, '+');
        }
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(0..1, " ");
        }
        if num[1..].starts_with(['I', 'N']) {
            let saved = self.f.zero;
            self.f.zero = false;
            if num[1..].starts_with('N') && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad(&num);
            self.f.zero = saved;
            return;
        }
        if self.f.sharp && !num.contains('.') && !num.contains('e') {
            num.push('.');
        }
        if self.f.plus || !num.starts_with('+') {
            if self.f.zero
                && !self.f.minus
                && let Some(w) = self.f.wid
                && w > num.len()
            {
                let (sign, rest) = num.split_at(1);
                self.buf.push_str(sign);
                for _ in 0..w - num.len() {
                    self.buf.push('0');
                }
                self.buf.push_str(rest);
                return;
            }
            self.pad(&num);
            return;
        }
        let rest = num[1..].to_string();
        self.pad(&rest);
    }

    fn fmt_string(&mut self, s: &str, verb: char, v: &Value) {
        match verb {
            'v' | 's' => {
                let s = match self.f.prec {
                    Some(p) => s.chars().take(p).collect::<String>(),
                    None => s.to_string(),
                };
                self.pad(&s);
            }
            'q' => {
                let s = match self.f.prec {
                    Some(p) => s.chars().take(p).collect::<String>(),
                    None => s.to_string(),
                };
                let q = if self.f.sharp
                    && !s.contains('`')
                    && s.chars().all(|c| c == '\t' || !c.is_control())
                {
                    format!("`{s}`")
                } else {
                    quote_with(&s, '"', self.f.plus)
                };
                self.pad(&q);
            }
            'x' | 'X' => {
                let bytes = s.as_bytes();
                let bytes = match self.f.prec {
                    Some(p) => &bytes[..p.min(bytes.len())],
                    None => bytes,
                };
                self.fmt_hex_bytes(bytes, verb);
            }
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_hex_bytes(&mut self, bytes: &[u8], verb: char) {
        let mut s = String::new();
        for (i, b) in bytes.iter().enumerate() {
            if self.f.space && i > 0 {
                s.push(' ');
            }
            if self.f.sharp && (self.f.space || i == 0) {
                s.push_str(if verb == 'X' { "0X" } else { "0x" });
            }
            if verb == 'X' {
                s.push_str(&format!("{b:02X}"));
            } else {
                s.push_str(&format!("{b:02x}"));
            }
        }
        self.pad(&s);
    }

    fn print_arg(&mut self, v: &Value, verb: char, depth: usize) {
        if depth > MAX_VALUE_DEPTH {
            self.buf.push_str("...");
            return;
        }
        // A list or map held many times over prints exponentially more than it holds: stop
        // once the execution's budget is spent (the executor reports the limit).
        if !crate::budget::visit(self.buf.len()) {
            return;
        }
        if verb == 'T' {
            let t = v.type_name();
            self.pad(&t);
            return;
        }
        match v {
            Value::Invalid | Value::Nil => match verb {
                'v' => self.pad("<nil>"),
                _ => self.bad_verb(verb, v),
            },
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(verb, v),
            },
            Value::Int(i) | Value::Int64(i) => self.print_int(*i, verb, v),
            Value::Float(f) => match verb {
                'v' => self.fmt_float(*f, 'g', -1),
                'b' | 'g' | 'G' | 'x' | 'X' => {
                    if matches!(verb, 'x' | 'X' | 'b') {
                        self.bad_verb(verb, v);
                    } else {
                        let p = self.f.prec.map(|p| p as i32).unwrap_or(-1);
                        self.fmt_float(*f, verb, p);
                    }
                }
                'f' | 'e' | 'E' | 'F' => {
                    let p = self.f.prec.map(|p| p as i32).unwrap_or(6);
                    self.fmt_float(*f, verb, p);
                }
                _ => self.bad_verb(verb, v),
            },
            Value::String(s) if verb == 'v' && self.f.sharp_v => {
                let q = quote_go(s);
                self.pad(&q);
            }
            Value::String(s) => self.fmt_string(s, verb, v),
            Value::Bytes(b) => match verb {
                's' | 'q' => {
                    let s = crate::gostr::from_go_bytes(b).into_owned();
                    self.fmt_string(&s, verb, v);
                }
                'x' | 'X' => self.fmt_hex_bytes(b, verb),
                // Plain `%v`/`%d`, written straight: printing `.Files` prints every byte of
                // the chart's files this way (megabytes for a chart with CRDs), and the general
                // path below took a second for envoy-gateway's 2.8 MB.
                'v' | 'd' if self.f == Flags::default() => write_byte_numbers(&mut self.buf, b),
                _ => {
                    self.buf.push('[');
                    for (i, x) in b.iter().enumerate() {
                        if i > 0 {
                            self.buf.push(' ');
                        }
                        self.print_int(*x as i64, verb, &Value::Int(*x as i64));
                    }
                    self.buf.push(']');
                }
            },
            Value::List(l) if verb == 'v' && self.f.sharp_v => {
                self.buf.push_str(l.type_name());
                self.buf.push('{');
                for (i, x) in l.items().iter().enumerate() {
                    if i > 0 {
                        self.buf.push_str(", ");
                    }
                    self.print_sharp_elem(x, depth);
                }
                self.buf.push('}');
            }
            Value::Map(m) if verb == 'v' && self.f.sharp_v => {
                self.buf.push_str(m.type_name());
                self.buf.push('{');
                for (i, (k, x)) in m.entries().iter().enumerate() {
                    if i > 0 {
                        self.buf.push_str(", ");
                    }
                    self.buf.push_str(&quote_go(k));
                    self.buf.push(':');
                    self.print_sharp_elem(x, depth);
                }
                self.buf.push('}');
            }
            Value::List(l) => {
                self.buf.push('[');
                for (i, x) in l.items().iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.print_arg(x, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Map(m) => {
                self.buf.push_str("map[");
                for (i, (k, x)) in m.entries().iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.fmt_string(k, verb, &Value::str(k));
                    self.buf.push(':');
                    self.print_arg(x, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Object(o) => {
                let s = o.format();
                self.pad(&s);
            }
        }
    }

    /// An element of a `[]interface {}` or `map[string]interface {}` under `%#v`.
    fn print_sharp_elem(&mut self, x: &Value, depth: usize) {
        if matches!(x, Value::Nil | Value::Invalid) {
            self.buf.push_str("interface {}(nil)");
        } else {
            self.print_arg(x, 'v', depth + 1);
        }
    }

    fn print_int(&mut self, i: i64, verb: char, v: &Value) {
        match verb {
            'v' | 'd' => {
                if self.f.sharp_v {
                    self.fmt_integer(i, 10, 'd', true);
                } else {
                    self.fmt_integer(i, 10, 'd', true)
                }
            }
            'b' => self.fmt_integer(i, 2, verb, true),
            'o' | 'O' => self.fmt_integer(i, 8, verb, true),
            'x' | 'X' => self.fmt_integer(i, 16, verb, true),
            'c' => {
                let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
                self.pad(&c.to_string());
            }
            'q' => {
                let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
                let q = quote_with(&c.to_string(), '\'', self.f.plus);
                self.pad(&q);
            }
            'U' => {
                let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
                let s = if self.f.sharp {
                    format_unicode_sharp(c)
                } else {
                    format!("U+{:04X}", i)
                };
                self.pad(&s);
            }
            _ => self.bad_verb(verb, v),
        }
    }

    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let b = format.as_bytes();
        let end = b.len();
        let mut arg_num = 0usize;
        let mut reordered = false;
        REORDERED.with(|r| r.set(false));
        let mut i = 0;
        while i < end {
            let last = i;
            while i < end && b[i] != b'%' {
                i += 1;
            }
            if i > last {
                self.buf.push_str(&format[last..i]);
            }
            if i >= end {
                break;
            }
            i += 1; // skip %
            self.f = Flags::default();
            // flags
            while i < end {
                match b[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = true,
                    b'+' => self.f.plus = true,
                    b'-' => self.f.minus = true,
                    b' ' => self.f.space = true,
                    _ => break,
                }
                i += 1;
            }
            if self.f.minus {
                self.f.zero = false;
            }
            // argument index
            let (na, ni, ok) = arg_index(b, i, arg_num, args.len());
            arg_num = na;
            i = ni;
            if !ok {
                reordered = true;
            }
            let mut bad_index = !ok;
            // width
            if i < end && b[i] == b'*' {
                i += 1;
                match int_from_arg(args, arg_num) {
                    Some(w) => {
                        if w < 0 {
                            self.f.minus = true;
                            self.f.zero = false;
                        }
                        self.f.wid = Some(w.unsigned_abs() as usize);
                    }
                    None => self.buf.push_str("%!(BADWIDTH)"),
                }
                arg_num = (arg_num + 1).min(args.len().max(arg_num));
            } else {
                let (num, next) = parse_num(b, i);
                self.f.wid = num;
                i = next;
            }
            // precision
            if i < end && b[i] == b'.' {
                i += 1;
                let (na, ni, ok) = arg_index(b, i, arg_num, args.len());
                arg_num = na;
                i = ni;
                if !ok {
                    bad_index = true;
                    reordered = true;
                }
                if i < end && b[i] == b'*' {
                    i += 1;
                    match int_from_arg(args, arg_num) {
                        Some(p) if p >= 0 => self.f.prec = Some(p as usize),
                        Some(_) => self.f.prec = None,
                        None => self.buf.push_str("%!(BADPREC)"),
                    }
                    arg_num = (arg_num + 1).min(args.len().max(arg_num));
                } else {
                    let (num, next) = parse_num(b, i);
                    self.f.prec = Some(num.unwrap_or(0));
                    i = next;
                }
            }
            let (na, ni, ok) = arg_index(b, i, arg_num, args.len());
            arg_num = na;
            i = ni;
            if !ok {
                bad_index = true;
                reordered = true;
            }
            if i >= end {
                self.buf.push_str("%!(NOVERB)");
                break;
            }
            let verb = format[i..].chars().next().unwrap_or('?');
            i += verb.len_utf8();
            if verb == '%' {
                self.buf.push('%');
                continue;
            }
            if bad_index {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(BADINDEX)");
                continue;
            }
            if arg_num >= args.len() {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(MISSING)");
                continue;
            }
            if verb == 'w' {
                self.bad_verb(verb, &args[arg_num]);
                arg_num += 1;
                continue;
            }
            if verb == 'v' {
                if self.f.sharp {
                    self.f.sharp = false;
                    self.f.sharp_v = true;
                }
                if self.f.plus {
                    self.f.plus = false;
                    self.f.plus_v = true;
                }
            }
            // Widths and precisions are at most about 10^7 (Go's limits), but a format can ask
            // for them many times over: check the budget before padding.
            let asked = self.f.wid.unwrap_or(0) + self.f.prec.unwrap_or(0);
            if crate::budget::room((self.buf.len() + asked) as u64).is_err() {
                return;
            }
            let a = args[arg_num].clone();
            self.print_arg(&a, verb, 0);
            arg_num += 1;
        }
        if REORDERED.with(|r| r.get()) {
            reordered = true;
        }
        if !reordered && arg_num < args.len() {
            self.f = Flags::default();
            self.buf.push_str("%!(EXTRA ");
            for (k, a) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.push_str(", ");
                }
                if a.is_nil() {
                    self.buf.push_str("<nil>");
                } else {
                    self.buf.push_str(&a.type_name());
                    self.buf.push('=');
                    self.print_arg(a, 'v', 0);
                }
            }
            self.buf.push(')');
        }
    }
}

thread_local! {
    static REORDERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Go's `tooLarge`: the largest width or precision `fmt` takes from an argument.
const MAX_ARG_WIDTH: i64 = 1_000_000;

/// Go's `intFromArg`: an integer argument within ±10^6, or none (`%!(BADWIDTH)`).
fn int_from_arg(args: &[Value], n: usize) -> Option<i64> {
    match args.get(n)? {
        Value::Int(i) | Value::Int64(i) if (-MAX_ARG_WIDTH..=MAX_ARG_WIDTH).contains(i) => Some(*i),
        _ => None,
    }
}

/// Go's `parsenum`: the digits at `i` as a number and the index after them. A number that
/// grows past 10^6 before its last digit is "most likely crazy": none, and the rest of the
/// format is consumed (Go then prints `%!(NOVERB)`).
fn parse_num(b: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let mut num: i64 = 0;
    let mut any = false;
    while i < b.len() && b[i].is_ascii_digit() {
        if num > MAX_ARG_WIDTH {
            return (None, b.len());
        }
        num = num * 10 + i64::from(b[i] - b'0');
        any = true;
        i += 1;
    }
    (any.then_some(num as usize), i)
}

/// Parses `[n]` at `i`; returns the new argument number, the new index, and whether it was ok.
fn arg_index(b: &[u8], i: usize, arg_num: usize, num_args: usize) -> (usize, usize, bool) {
    if i >= b.len() || b[i] != b'[' {
        return (arg_num, i, true);
    }
    REORDERED.with(|r| r.set(true));
    let mut j = i + 1;
    while j < b.len() && b[j] != b']' {
        j += 1;
    }
    if j >= b.len() {
        return (arg_num, i + 1, false);
    }
    let n: Option<usize> = std::str::from_utf8(&b[i + 1..j])
        .ok()
        .and_then(|s| s.parse().ok());
    match n {
        Some(n) if n >= 1 && n <= num_args => (n - 1, j + 1, true),
        _ => (arg_num, j + 1, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_print_as_numbers_with_and_without_flags() {
        let b = Value::Bytes(std::sync::Arc::from(&[0u8, 9, 10, 99, 100, 255, b'{'][..]));
        assert_eq!(sprint_value(&b), "[0 9 10 99 100 255 123]");
        assert_eq!(
            sprintf("%d", std::slice::from_ref(&b)),
            "[0 9 10 99 100 255 123]"
        );
        // Flags go the general way: each number padded, as Go does.
        assert_eq!(
            sprintf("%4v|%-3d|%+d", &[b.clone(), b.clone(), b.clone()]),
            "[   0    9   10   99  100  255  123]|[0   9   10  99  100 255 123]|[+0 +9 +10 +99 +100 +255 +123]"
        );
        assert_eq!(
            sprint_value(&Value::Bytes(std::sync::Arc::from(&[][..]))),
            "[]"
        );
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(sprint_value(&Value::Float(1e6)), "1e+06");
        assert_eq!(sprint_value(&Value::Float(123456.0)), "123456");
        assert_eq!(sprint_value(&Value::Float(1234567.0)), "1.234567e+06");
        assert_eq!(sprint_value(&Value::Float(1e-5)), "1e-05");
        assert_eq!(sprint_value(&Value::Float(1.5e300)), "1.5e+300");
        assert_eq!(sprint_value(&Value::Float(0.1)), "0.1");
        assert_eq!(sprint_value(&Value::Float(-2.5)), "-2.5");
        assert_eq!(sprint_value(&Value::Float(0.0001)), "0.0001");
        assert_eq!(format_float(1.23456, 'f', 2), "1.23");
        assert_eq!(format_float(1.0, 'e', 6), "1.000000e+00");
        assert_eq!(format_float(123456789.0, 'g', 3), "1.23e+08");
        assert_eq!(format_float(100.0, 'g', 3), "100");
    }

    #[test]
    fn printf_verbs() {
        let a = |v: &[Value], f: &str| sprintf(f, v);
        assert_eq!(
            a(&[Value::Int(42)], "%05d|%-5d|%x|%X|%o|%b"),
            "00042|%!d(MISSING)|%!x(MISSING)|%!X(MISSING)|%!o(MISSING)|%!b(MISSING)"
        );
        assert_eq!(a(&[Value::str("hi")], "%q"), "\"hi\"");
        assert_eq!(a(&[Value::str("hi")], "%-5s|"), "hi   |");
        assert_eq!(a(&[Value::Float(1.23456)], "%5.2f"), " 1.23");
        assert_eq!(a(&[Value::Float(8080.0)], "%d"), "%!d(float64=8080)");
        assert_eq!(a(&[Value::Bool(true)], "%t %v"), "true %!v(MISSING)");
        assert_eq!(a(&[Value::Int(1), Value::Int(2)], "%d"), "1%!(EXTRA int=2)");
        assert_eq!(a(&[Value::Nil], "%s"), "%!s(<nil>)");
        assert_eq!(a(&[Value::Int(7)], "%T"), "int");
        let m = Value::map([("b", Value::Int(2)), ("a", Value::Int(1))]);
        assert_eq!(a(&[m], "%v"), "map[a:1 b:2]");
        assert_eq!(a(&[Value::string_list(["a", "b"])], "%v"), "[a b]");
    }

    #[test]
    fn sprint_spacing() {
        assert_eq!(
            sprint(&[Value::Int(1), Value::Int(2), Value::str("a"), Value::Int(3)]),
            "1 2a3"
        );
        assert_eq!(sprintln(&[Value::str("a"), Value::Int(1)]), "a 1\n");
    }
}
