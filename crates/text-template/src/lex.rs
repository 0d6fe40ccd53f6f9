//! The lexer: Go's `text/template/parse/lex.go` state machine, run eagerly into a token list.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords (appear after all the rest).
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemType::Block
                | ItemType::Break
                | ItemType::Continue
                | ItemType::Dot
                | ItemType::Define
                | ItemType::Else
                | ItemType::End
                | ItemType::If
                | ItemType::Nil
                | ItemType::Range
                | ItemType::Template
                | ItemType::With
        )
    }
}

/// A token: its kind, line, and where its text lies in the template. 16 bytes, and no borrow
/// of the text, so that one list serves every template a thread parses: a template has about
/// one token per eight bytes of text, and a list of its own for each template was a fresh
/// page of memory (a page fault) every few hundred bytes of text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Item {
    pub typ: ItemType,
    pub line: u32,
    start: u32,
    end: u32,
}

impl Item {
    fn new(typ: ItemType, start: usize, end: usize, line: u32) -> Item {
        // `lex_into` refuses texts whose offsets do not fit in 32 bits.
        Item {
            typ,
            line,
            start: start as u32,
            end: end as u32,
        }
    }

    /// Byte offset of the token in the template.
    pub fn pos(&self) -> usize {
        self.start as usize
    }

    /// The token's text in `input`, the template it was read from; empty for an `Error`
    /// (the message is what [`lex_into`] returned).
    pub fn val<'s>(&self, input: &'s str) -> &'s str {
        &input[self.start as usize..self.end as usize]
    }

    /// The token as Go's parser names it in an error message.
    pub fn display<'a>(&'a self, input: &'a str) -> impl std::fmt::Display + 'a {
        Shown { item: self, input }
    }
}

struct Shown<'a> {
    item: &'a Item,
    input: &'a str,
}

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let val = self.item.val(self.input);
        match self.item.typ {
            ItemType::Eof => write!(f, "EOF"),
            ItemType::Error => write!(f, "lexer error"),
            t if t.is_keyword() => write!(f, "<{val}>"),
            _ => {
                if val.chars().count() > 10 {
                    let head: String = val.chars().take(10).collect();
                    write!(f, "{}...", crate::gofmt::quote_go(&head))
                } else {
                    write!(f, "{}", crate::gofmt::quote_go(val))
                }
            }
        }
    }
}

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c == '_' || c.is_ascii_alphanumeric();
    }
    c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim(b: &[u8]) -> bool {
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// Whether `b` starts with a trimming right delimiter, ` -}}`.
fn at_trimmed_right_delim(b: &[u8]) -> bool {
    has_right_trim(b) && b[2..].starts_with(RIGHT_DELIM.as_bytes())
}

/// Number of `\n` bytes. Lines are counted over all template text (megabytes for CRDs);
/// memchr counts with vector instructions, ten times faster than a byte loop.
fn newlines(b: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', b).count()
}

/// [`newlines`] as a line count (templates are capped far below 4 GiB).
fn lines(b: &[u8]) -> u32 {
    newlines(b) as u32
}

/// `s.find("{{")`, searching for the first byte with `memchr` (templates are mostly text with
/// few braces; a substring search over megabytes of CRD text was a visible cost).
fn find_left_delim(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'{', &b[from..]) {
        let at = from + i;
        if b.get(at + 1) == Some(&b'{') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    line: u32,
    start_line: u32,
    paren_depth: i32,
    items: Vec<Item>,
    error: Option<String>,
    done: bool,
}

/// Tokens a list is made for at least: 256 KiB, the tokens of a template of ~150 KB.
const MIN_TOKENS: usize = 16 << 10;

/// Tokenizes `input` into `items` (emptied first; its memory is reused): the list ends with an
/// `Eof` item, or with an `Error` item and the error's message returned.
pub(crate) fn lex_into(input: &str, items: &mut Vec<Item>) -> Option<String> {
    items.clear();
    if u32::try_from(input.len()).is_err() {
        items.push(Item::new(ItemType::Error, 0, 0, 1));
        return Some("template is larger than 4 GiB".into());
    }
    // About sixteen tokens per action at most (delimiters, spaces, words, the text before it): sized from
    // the number of `{{` so that the list is not copied a dozen times as it grows, and at least
    // for a large template, so that a list reused for template after template is not copied
    // to fresh memory each time a larger one comes (pages reserved and never written cost
    // nothing).
    let actions = memchr::memmem::find_iter(input.as_bytes(), LEFT_DELIM).count();
    items.reserve((actions * 16 + 2).max(MIN_TOKENS));
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        paren_depth: 0,
        items: std::mem::take(items),
        error: None,
        done: false,
    };
    let mut inside = false;
    while !l.done {
        if inside {
            inside = l.lex_inside_action();
        } else {
            inside = l.lex_text();
        }
    }
    *items = l.items;
    l.error
}

/// Tokenizes `input` into a list of its own.
#[cfg(test)]
fn lex(input: &str) -> Vec<Item> {
    let mut items = Vec::new();
    lex_into(input, &mut items);
    items
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }
    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }
    fn peek(&self) -> Option<char> {
        // Actions are nearly always ASCII: decode a character only when it is not.
        match self.input.as_bytes().get(self.pos) {
            Some(&b) if b.is_ascii() => Some(b as char),
            Some(_) => self.rest().chars().next(),
            None => None,
        }
    }
    /// Skips ASCII letters, digits and `_` (the common case of [`is_alnum`] runs).
    fn skip_ascii_alnum(&mut self) {
        const WORD: [bool; 256] = {
            let mut t = [false; 256];
            let mut c = 0;
            while c < 256 {
                t[c] = c == b'_' as usize || (c as u8).is_ascii_alphanumeric();
                c += 1;
            }
            t
        };
        let b = self.input.as_bytes();
        let mut i = self.pos;
        while let Some(&c) = b.get(i) {
            if !WORD[c as usize] {
                break;
            }
            i += 1;
        }
        self.pos = i;
    }
    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
    }
    fn emit(&mut self, typ: ItemType) {
        self.items
            .push(Item::new(typ, self.start, self.pos, self.start_line));
        self.start = self.pos;
        self.start_line = self.line;
        if typ == ItemType::Eof {
            self.done = true;
        }
    }
    fn ignore(&mut self) {
        self.line += lines(&self.input.as_bytes()[self.start..self.pos]);
        self.start = self.pos;
        self.start_line = self.line;
    }
    fn errorf(&mut self, msg: String) {
        self.items.push(Item::new(
            ItemType::Error,
            self.start,
            self.start,
            self.start_line,
        ));
        self.error = Some(msg);
        self.done = true;
    }
    fn accept(&mut self, valid: &str) -> bool {
        if let Some(c) = self.peek()
            && valid.contains(c)
        {
            self.next();
            return true;
        }
        false
    }
    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }
    /// Whether `}}` or ` -}}` comes next, and which (checked at every token of an action).
    /// Works on bytes: slicing the `str` checks a character boundary each time.
    fn at_right_delim(&self) -> (bool, bool) {
        let b = &self.input.as_bytes()[self.pos..];
        if at_trimmed_right_delim(b) {
            return (true, true);
        }
        (b.starts_with(RIGHT_DELIM.as_bytes()), false)
    }
    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT_DELIM),
        }
    }

    /// Returns true when an action was entered.
    fn lex_text(&mut self) -> bool {
        if let Some(x) = find_left_delim(self.rest()) {
            if x > 0 {
                self.pos += x;
                let delim_end = self.pos + LEFT_DELIM.len();
                let mut trim = 0;
                if has_left_trim(&self.input[delim_end..]) {
                    let text = &self.input[self.start..self.pos];
                    trim = text.len() - text.trim_end_matches(is_space).len();
                }
                self.pos -= trim;
                self.line += lines(&self.input.as_bytes()[self.start..self.pos]);
                let item = Item::new(ItemType::Text, self.start, self.pos, self.start_line);
                self.start = self.pos;
                self.start_line = self.line;
                self.pos += trim;
                self.ignore();
                if item.end > item.start {
                    self.items.push(item);
                }
            }
            return self.lex_left_delim();
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += lines(&self.input.as_bytes()[self.start..self.pos]);
            self.items.push(Item::new(
                ItemType::Text,
                self.start,
                self.pos,
                self.start_line,
            ));
            self.start = self.pos;
            self.start_line = self.line;
        }
        self.emit(ItemType::Eof);
        false
    }

    fn lex_left_delim(&mut self) -> bool {
        self.pos += LEFT_DELIM.len();
        let trim = has_left_trim(self.rest());
        let after = if trim { 2 } else { 0 };
        if self.input[self.pos + after..].starts_with(LEFT_COMMENT) {
            self.pos += after;
            self.ignore();
            return self.lex_comment();
        }
        let item = Item::new(ItemType::LeftDelim, self.start, self.pos, self.start_line);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        self.items.push(item);
        true
    }

    fn lex_comment(&mut self) -> bool {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = memchr::memmem::find(self.rest().as_bytes(), RIGHT_COMMENT.as_bytes()) else {
            self.errorf("unclosed comment".into());
            return false;
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            self.errorf("comment ends before closing delimiter".into());
            return false;
        }
        // Comments are dropped (Go emits them only in ParseComments mode).
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT_DELIM.len();
        if trim {
            let r = self.rest();
            self.pos += r.len() - r.trim_start_matches(is_space).len();
        }
        self.ignore();
        false
    }

    fn lex_right_delim(&mut self) -> bool {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += RIGHT_DELIM.len();
        let item = Item::new(ItemType::RightDelim, self.start, self.pos, self.start_line);
        self.items.push(item);
        self.start = self.pos;
        self.start_line = self.line;
        if trim {
            let r = self.rest();
            self.pos += r.len() - r.trim_start_matches(is_space).len();
            self.ignore();
        }
        false
    }

    /// Returns whether we are still inside the action.
    fn lex_inside_action(&mut self) -> bool {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.lex_right_delim();
            }
            self.errorf("unclosed left paren".into());
            return false;
        }
        let Some(r) = self.next() else {
            self.errorf("unclosed action".into());
            return false;
        };
        match r {
            c if is_space(c) => {
                self.backup(Some(c));
                return self.lex_space();
            }
            '=' => self.emit(ItemType::Assign),
            ':' => {
                if self.next() != Some('=') {
                    self.errorf("expected :=".into());
                    return false;
                }
                self.emit(ItemType::Declare);
            }
            '|' => self.emit(ItemType::Pipe),
            '"' => return self.lex_quote(),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_variable(),
            '\'' => return self.lex_char(),
            '.' => match self.input.as_bytes().get(self.pos) {
                Some(b) if b.is_ascii_digit() => {
                    self.backup(Some('.'));
                    return self.lex_number();
                }
                _ => return self.lex_field_or_variable(ItemType::Field),
            },
            '+' | '-' | '0'..='9' => {
                self.backup(Some(r));
                return self.lex_number();
            }
            c if is_alnum(c) => {
                self.backup(Some(c));
                return self.lex_identifier();
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(ItemType::LeftParen);
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    self.errorf("unexpected right paren".into());
                    return false;
                }
                self.emit(ItemType::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(ItemType::Char),
            c => {
                self.errorf(format!(
                    "unrecognized character in action: {}",
                    crate::gofmt::format_unicode_sharp(c)
                ));
                return false;
            }
        }
        !self.done
    }

    fn lex_space(&mut self) -> bool {
        let mut num = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next();
            num += 1;
        }
        if at_trimmed_right_delim(&self.input.as_bytes()[self.pos - 1..]) {
            let c = self.input[..self.pos].chars().next_back();
            self.backup(c);
            if num == 1 {
                return self.lex_right_delim();
            }
        }
        self.emit(ItemType::Space);
        true
    }

    fn lex_identifier(&mut self) -> bool {
        loop {
            self.skip_ascii_alnum();
            let r = self.next();
            match r {
                Some(c) if is_alnum(c) => {}
                _ => {
                    self.backup(r);
                    let word = &self.input[self.start..self.pos];
                    if !self.at_terminator() {
                        let c = self.peek().unwrap_or('\0');
                        self.errorf(format!(
                            "bad character {}",
                            crate::gofmt::format_unicode_sharp(c)
                        ));
                        return false;
                    }
                    let typ = match word {
                        "block" => ItemType::Block,
                        "break" => ItemType::Break,
                        "continue" => ItemType::Continue,
                        "define" => ItemType::Define,
                        "else" => ItemType::Else,
                        "end" => ItemType::End,
                        "if" => ItemType::If,
                        "range" => ItemType::Range,
                        "nil" => ItemType::Nil,
                        "template" => ItemType::Template,
                        "with" => ItemType::With,
                        "true" | "false" => ItemType::Bool,
                        _ => ItemType::Identifier,
                    };
                    self.emit(typ);
                    return true;
                }
            }
        }
    }

    fn lex_variable(&mut self) -> bool {
        if self.at_terminator() {
            self.emit(ItemType::Variable);
            return true;
        }
        self.lex_field_or_variable(ItemType::Variable)
    }

    fn lex_field_or_variable(&mut self, typ: ItemType) -> bool {
        if self.at_terminator() {
            self.emit(if typ == ItemType::Variable {
                ItemType::Variable
            } else {
                ItemType::Dot
            });
            return true;
        }
        loop {
            self.skip_ascii_alnum();
            let r = self.next();
            match r {
                Some(c) if is_alnum(c) => {}
                _ => {
                    self.backup(r);
                    break;
                }
            }
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\0');
            self.errorf(format!(
                "bad character {}",
                crate::gofmt::format_unicode_sharp(c)
            ));
            return false;
        }
        self.emit(typ);
        true
    }

    fn lex_char(&mut self) -> bool {
        loop {
            match self.next() {
                Some('\\') => {
                    let r = self.next();
                    if r.is_some() && r != Some('\n') {
                        continue;
                    }
                    self.errorf("unterminated character constant".into());
                    return false;
                }
                None | Some('\n') => {
                    self.errorf("unterminated character constant".into());
                    return false;
                }
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(ItemType::CharConstant);
        true
    }

    fn lex_number(&mut self) -> bool {
        if !self.scan_number() {
            let t = self.input[self.start..self.pos].to_string();
            self.errorf(format!("bad number syntax: {}", crate::gofmt::quote_go(&t)));
            return false;
        }
        if let Some('+' | '-') = self.peek() {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let t = self.input[self.start..self.pos].to_string();
                self.errorf(format!("bad number syntax: {}", crate::gofmt::quote_go(&t)));
                return false;
            }
            self.emit(ItemType::Complex);
            return true;
        }
        self.emit(ItemType::Number);
        true
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if let Some(c) = self.peek()
            && is_alnum(c)
        {
            self.next();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) -> bool {
        loop {
            // Jump to the next byte that can end or escape the string (all ASCII, so never
            // inside a multi-byte character).
            let b = &self.input.as_bytes()[self.pos..];
            self.pos += memchr::memchr3(b'\\', b'"', b'\n', b).unwrap_or(b.len());
            match self.next() {
                Some('\\') => {
                    let r = self.next();
                    if r.is_some() && r != Some('\n') {
                        continue;
                    }
                    self.errorf("unterminated quoted string".into());
                    return false;
                }
                None | Some('\n') => {
                    self.errorf("unterminated quoted string".into());
                    return false;
                }
                Some('"') => break,
                _ => {}
            }
        }
        self.emit(ItemType::String);
        true
    }

    fn lex_raw_quote(&mut self) -> bool {
        // A raw string may span lines: count them as the cursor jumps to the closing quote.
        let b = &self.input.as_bytes()[self.pos..];
        let skip = memchr::memchr(b'`', b).unwrap_or(b.len());
        self.line += lines(&b[..skip]);
        self.pos += skip;
        loop {
            match self.next() {
                None => {
                    self.errorf("unterminated raw quoted string".into());
                    return false;
                }
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(ItemType::RawString);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(s: &str) -> Vec<ItemType> {
        lex(s).iter().map(|i| i.typ).collect()
    }

    #[test]
    fn newlines_counts_across_lane_and_chunk_boundaries() {
        for len in [
            0,
            1,
            31,
            32,
            33,
            255 * 32 - 1,
            255 * 32,
            255 * 32 + 1,
            20_000,
        ] {
            // A newline every third byte overflows a lane unless chunks stop at 255 blocks.
            let text: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'\n' } else { b'x' })
                .collect();
            let all_newlines = vec![b'\n'; len];
            assert_eq!(newlines(&text), len.div_ceil(3), "len {len}");
            assert_eq!(newlines(&all_newlines), len, "len {len}");
        }
    }

    #[test]
    fn trims_around_actions() {
        let text = "a  {{- .x -}}  b";
        let items = lex(text);
        assert_eq!(items[0].val(text), "a");
        assert_eq!(items.last().map(|i| i.typ), Some(ItemType::Eof));
        let texts: Vec<_> = items
            .iter()
            .filter(|i| i.typ == ItemType::Text)
            .map(|i| i.val(text))
            .collect();
        assert_eq!(texts, vec!["a", "b"]);
    }

    #[test]
    fn keywords_and_fields() {
        use ItemType::*;
        assert_eq!(
            types("{{if .A.b}}{{end}}"),
            vec![
                LeftDelim, If, Space, Field, Field, RightDelim, LeftDelim, End, RightDelim, Eof
            ]
        );
    }

    #[test]
    fn comment_is_dropped() {
        use ItemType::*;
        assert_eq!(types("x {{- /* c */ -}} y"), vec![Text, Text, Eof]);
    }

    #[test]
    fn a_reused_list_holds_only_the_new_tokens() {
        let shown = |items: &[Item], text: &str| -> Vec<(ItemType, u32, usize, String)> {
            items
                .iter()
                .map(|i| (i.typ, i.line, i.pos(), i.val(text).to_string()))
                .collect()
        };
        let long = "{{ if .a }}x\n{{ end }}".repeat(1_000);
        let short = "a\n {{- .b | quote }} c";
        let mut items = Vec::new();
        assert_eq!(lex_into(&long, &mut items), None);
        assert_eq!(lex_into(short, &mut items), None);
        assert_eq!(shown(&items, short), shown(&lex(short), short));
        assert_eq!(
            lex_into("x {{ .a", &mut items).as_deref(),
            Some("unclosed action")
        );
        assert_eq!(
            items.iter().map(|i| i.typ).collect::<Vec<_>>(),
            vec![
                ItemType::Text,
                ItemType::LeftDelim,
                ItemType::Space,
                ItemType::Field,
                ItemType::Error
            ]
        );
    }
}
