//! Scalar text: plain scalars with line folding, single- and double-quoted scalars with
//! their escapes, and literal and folded block scalars with chomping and indentation.
//!
//! Text that needs no folding or escapes is borrowed from the input.

use std::borrow::Cow;

use super::{BLOCK_STOP, FLOW_STOP, Reader, is_blank, is_break};
use crate::Error;

impl<'a> Reader<'a> {
    /// A plain scalar at `pos`; `indent` is the enclosing block indentation. Lines fold
    /// into one: a single line break becomes a space, `n` breaks become `n - 1` newlines.
    pub(super) fn plain(&mut self, indent: isize) -> Result<Cow<'a, str>, Error> {
        let flow = self.flow > 0;
        let stop = if flow { &FLOW_STOP } else { &BLOCK_STOP };
        let b = self.b;
        let len = b.len();
        let start = self.pos;
        let mut out: Option<String> = None;
        let (mut end, mut end_line, mut end_line_start);
        // Whether a run of non-blank characters could start at `i`.
        let run_starts = |i: usize| -> bool {
            if i >= len {
                return false;
            }
            let c = b[i];
            if c == b':' {
                return !(i + 1 >= len || matches!(b[i + 1], b' ' | b'\t' | b'\n' | b'\r'));
            }
            !stop[c as usize]
        };
        loop {
            // A run of non-blank characters.
            let mut i = self.pos;
            while i < len {
                let c = b[i];
                if stop[c as usize] {
                    if c == b':'
                        && !(i + 1 >= len || matches!(b[i + 1], b' ' | b'\t' | b'\n' | b'\r'))
                    {
                        i += 1;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            if let Some(o) = out.as_mut() {
                o.push_str(&self.src[self.pos..i]);
            }
            end = i;
            end_line = self.line;
            end_line_start = self.line_start;
            // Blanks after the run.
            let ws = i;
            while i < len && is_blank(b[i]) {
                i += 1;
            }
            if i >= len {
                break;
            }
            let c = b[i];
            if is_break(c) {
                // Maybe the scalar goes on, folded, on a later line.
                self.pos = i;
                let mut breaks = 0usize;
                loop {
                    self.newline();
                    breaks += 1;
                    // The next line's indentation, eight spaces at a time (it is long in deep
                    // documents, and read again by whatever follows the scalar).
                    while b.get(self.pos..self.pos + 8) == Some(b"        ") {
                        self.pos += 8;
                    }
                    while self.pos < len {
                        match b[self.pos] {
                            b' ' => self.pos += 1,
                            b'\t' => {
                                if (self.col() as isize) < indent + 1 {
                                    return self
                                        .err(self.pos, "tabs are not allowed for indentation");
                                }
                                self.pos += 1;
                            }
                            _ => break,
                        }
                    }
                    if self.pos < len && is_break(b[self.pos]) {
                        continue;
                    }
                    break;
                }
                let goes_on = self.pos < len
                    && !self.at_doc_marker()
                    && b[self.pos] != b'#'
                    && (flow || self.col() as isize > indent)
                    && run_starts(self.pos);
                if !goes_on {
                    break;
                }
                let o = out.get_or_insert_with(|| self.src[start..end].to_owned());
                if breaks == 1 {
                    o.push(' ');
                } else {
                    for _ in 1..breaks {
                        o.push('\n');
                    }
                }
                continue;
            }
            if c == b'#' && i > ws {
                break;
            }
            if i == ws || !run_starts(i) {
                break;
            }
            if let Some(o) = out.as_mut() {
                o.push_str(&self.src[ws..i]);
            }
            self.pos = i;
        }
        self.pos = end;
        self.line = end_line;
        self.line_start = end_line_start;
        self.token_line = end_line;
        Ok(match out {
            Some(o) => Cow::Owned(o),
            None => Cow::Borrowed(&self.src[start..end]),
        })
    }

    /// A single- or double-quoted scalar at `pos`.
    pub(super) fn quoted(&mut self, single: bool) -> Result<Cow<'a, str>, Error> {
        let open = self.pos;
        let quote = if single { b'\'' } else { b'"' };
        let b = self.b;
        let start = open + 1;
        // Fast path: no escapes and no line breaks before the closing quote.
        let mut i = start;
        while i < b.len() {
            let c = b[i];
            if c == quote {
                if single && b.get(i + 1) == Some(&b'\'') {
                    break;
                }
                self.pos = i + 1;
                self.token_line = self.line;
                return Ok(Cow::Borrowed(&self.src[start..i]));
            }
            if (c == b'\\' && !single) || is_break(c) {
                break;
            }
            i += 1;
        }
        self.pos = start;
        let mut out = String::with_capacity(i - start + 16);
        let unterminated = if single {
            "unterminated single-quoted string"
        } else {
            "unterminated double-quoted string"
        };
        loop {
            if self.at_doc_marker() {
                return self.err(self.pos, "document marker inside a quoted string");
            }
            if self.at_end() {
                return self.err(open, unterminated);
            }
            // Non-blank characters.
            let mut escaped_break = false;
            while self.pos < b.len() {
                let c = b[self.pos];
                match c {
                    b' ' | b'\t' | b'\n' | b'\r' => break,
                    b'\'' if single => {
                        if self.byte(self.pos + 1) == b'\'' {
                            out.push('\'');
                            self.pos += 2;
                        } else {
                            break;
                        }
                    }
                    b'"' if !single => break,
                    b'\\' if !single => {
                        let e = self.byte(self.pos + 1);
                        if is_break(e) && self.pos + 1 < b.len() {
                            self.pos += 1;
                            self.newline();
                            escaped_break = true;
                            break;
                        }
                        self.escape(&mut out)?;
                    }
                    _ => {
                        let run = self.pos;
                        while self.pos < b.len()
                            && !matches!(
                                b[self.pos],
                                b' ' | b'\t' | b'\n' | b'\r' | b'\\' | b'\'' | b'"'
                            )
                        {
                            self.pos += 1;
                        }
                        if self.pos == run {
                            // A quote character of the other kind.
                            self.pos += 1;
                        }
                        out.push_str(&self.src[run..self.pos]);
                    }
                }
            }
            if self.peek() == quote && !self.at_end() {
                break;
            }
            // Blanks and line breaks.
            let ws = self.pos;
            let mut leading = escaped_break;
            let mut breaks = 0usize;
            while self.pos < b.len() {
                let c = b[self.pos];
                if is_blank(c) {
                    self.pos += 1;
                } else if is_break(c) {
                    if leading {
                        breaks += 1;
                    }
                    leading = true;
                    self.newline();
                } else {
                    break;
                }
            }
            if escaped_break {
                for _ in 0..breaks {
                    out.push('\n');
                }
            } else if leading {
                if breaks == 0 {
                    out.push(' ');
                } else {
                    for _ in 0..breaks {
                        out.push('\n');
                    }
                }
            } else {
                out.push_str(&self.src[ws..self.pos]);
            }
        }
        self.pos += 1;
        self.token_line = self.line;
        Ok(Cow::Owned(out))
    }

    /// A backslash escape at `pos` inside a double-quoted scalar.
    fn escape(&mut self, out: &mut String) -> Result<(), Error> {
        let at = self.pos;
        let e = self.byte(at + 1);
        let simple = match e {
            b'0' => Some('\0'),
            b'a' => Some('\x07'),
            b'b' => Some('\x08'),
            b't' | b'\t' => Some('\t'),
            b'n' => Some('\n'),
            b'v' => Some('\x0b'),
            b'f' => Some('\x0c'),
            b'r' => Some('\r'),
            b'e' => Some('\x1b'),
            b' ' => Some(' '),
            b'"' => Some('"'),
            b'\'' => Some('\''),
            b'\\' => Some('\\'),
            b'N' => Some('\u{85}'),
            b'_' => Some('\u{a0}'),
            b'L' => Some('\u{2028}'),
            b'P' => Some('\u{2029}'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            self.pos += 2;
            return Ok(());
        }
        let width = match e {
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            _ => {
                if self.at_end() || self.pos + 1 >= self.b.len() {
                    return self.err(at, "unterminated double-quoted string");
                }
                let ch = self.src[at + 1..].chars().next().unwrap_or('?');
                return self.err(at, format!("unknown escape sequence \\{ch}"));
            }
        };
        let hex = self.src.get(at + 2..at + 2 + width).unwrap_or("");
        if hex.len() != width || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return self.err(
                at,
                format!("escape \\{} needs {width} hexadecimal digits", e as char),
            );
        }
        let code = u32::from_str_radix(hex, 16).unwrap_or(u32::MAX);
        let Some(c) = char::from_u32(code) else {
            return self.err(
                at,
                format!("escape \\{}{hex} is not a Unicode character", e as char),
            );
        };
        out.push(c);
        self.pos += 2 + width;
        Ok(())
    }

    /// A literal (`|`) or folded (`>`) block scalar whose indicator is at `pos`; `indent` is
    /// the enclosing block indentation. Leaves `pos` at the start of the line after it.
    pub(super) fn block_scalar(&mut self, indent: isize) -> Result<String, Error> {
        let header_line = self.line;
        let literal = self.peek() == b'|';
        self.pos += 1;
        let mut chomp = 0i8;
        let mut increment = 0usize;
        for _ in 0..2 {
            match self.peek() {
                b'+' | b'-' if chomp == 0 && !self.at_end() => {
                    chomp = if self.peek() == b'+' { 1 } else { -1 };
                    self.pos += 1;
                }
                b'0' if increment == 0 => {
                    return self.err(
                        self.pos,
                        "a block scalar's indentation indicator must be 1 to 9",
                    );
                }
                c @ b'1'..=b'9' if increment == 0 => {
                    increment = (c - b'0') as usize;
                    self.pos += 1;
                }
                _ => break,
            }
        }
        self.skip_inline_space();
        if self.peek() == b'#' {
            while !self.at_end() && !is_break(self.peek()) {
                self.pos += 1;
            }
        }
        if !self.at_end() && !is_break(self.peek()) {
            return self.err(
                self.pos,
                "expected a comment or a line break after the block scalar indicator",
            );
        }
        self.token_line = header_line;
        if !self.at_end() {
            self.newline();
        }
        let mut ind = if increment > 0 {
            if indent >= 0 {
                indent as usize + increment
            } else {
                increment
            }
        } else {
            0
        };
        let mut out = String::new();
        let mut trailing = 0usize;
        self.block_breaks(&mut ind, &mut trailing, indent)?;
        let mut leading_break = false;
        let mut leading_blank = false;
        while self.col() == ind && !self.at_end() {
            let trailing_blank = is_blank(self.peek());
            if !literal && leading_break && !leading_blank && !trailing_blank {
                if trailing == 0 {
                    out.push(' ');
                }
            } else if leading_break {
                out.push('\n');
            }
            for _ in 0..trailing {
                out.push('\n');
            }
            trailing = 0;
            leading_blank = trailing_blank;
            let line_start = self.pos;
            while self.pos < self.b.len() && !is_break(self.b[self.pos]) {
                self.pos += 1;
            }
            out.push_str(&self.src[line_start..self.pos]);
            if self.at_end() {
                leading_break = false;
                break;
            }
            self.newline();
            leading_break = true;
            self.block_breaks(&mut ind, &mut trailing, indent)?;
        }
        if chomp != -1 && leading_break {
            out.push('\n');
        }
        if chomp == 1 {
            for _ in 0..trailing {
                out.push('\n');
            }
        }
        if !self.at_end() && self.line > header_line {
            // Back to the start of the line that ended the scalar.
            self.pos = self.line_start;
        }
        Ok(out)
    }

    /// Indentation and empty lines inside a block scalar; settles the indentation at the
    /// first non-empty line when it was not given.
    fn block_breaks(
        &mut self,
        ind: &mut usize,
        breaks: &mut usize,
        indent: isize,
    ) -> Result<(), Error> {
        let mut max_indent = 0usize;
        loop {
            while (*ind == 0 || self.col() < *ind) && self.peek() == b' ' && !self.at_end() {
                self.pos += 1;
            }
            max_indent = max_indent.max(self.col());
            if (*ind == 0 || self.col() < *ind) && self.peek() == b'\t' && !self.at_end() {
                return self.err(
                    self.pos,
                    "tabs are not allowed in the indentation of a block scalar",
                );
            }
            if self.at_end() || !is_break(self.peek()) {
                break;
            }
            self.newline();
            *breaks += 1;
        }
        if *ind == 0 {
            *ind = max_indent.max((indent + 1).max(1) as usize);
        }
        Ok(())
    }
}
