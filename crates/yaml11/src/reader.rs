//! The reader: one pass over the text that builds [`Value`]s directly.
//!
//! The structure follows the token rules of libyaml as go-yaml v2 ports it (block indentation,
//! "simple keys" on one line, where `- `, `? ` and tabs may appear, what ends a plain scalar),
//! but there is no token queue or event stream: a recursive descent over the bytes decides
//! each node in place, borrows scalar text from the input where it needs no folding or
//! escapes, and allocates only the final strings.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::scalar::{self, Resolved, YAML_TAG_PREFIX};
use crate::{Document, Error, Limits, Mapping, Value};

mod scan;

/// Reads every document of `text`.
pub(crate) fn parse_stream(text: &str, limits: &Limits) -> Result<Vec<Document>, Error> {
    Reader::within_limits(text, limits)?.stream()
}

/// Reads every document of `text`, keeping values only down to nesting level `keep` (a
/// document's root is level 0); deeper nodes are read and checked but come back as
/// placeholders of their kind (see [`crate::parse_value_shallow`]).
pub(crate) fn parse_stream_shallow(
    text: &str,
    limits: &Limits,
    keep: usize,
) -> Result<Vec<Document>, Error> {
    let mut shallow = Reader::within_limits(text, limits)?;
    shallow.keep = keep;
    match shallow.stream() {
        // Anchors and merge keys copy values between levels, so placeholders could leak into
        // what is kept: such (rare) input is read in full instead.
        Err(_) if shallow.needs_full => parse_stream(text, limits),
        other => other,
    }
}

/// Longest implicit key, in characters, as libyaml counts it.
const MAX_SIMPLE_KEY: usize = 1024;

const BOM: &[u8] = "\u{feff}".as_bytes();

/// Bytes that end a run of plain-scalar characters in block context (`:` only before a blank).
static BLOCK_STOP: [bool; 256] = stop_table(b" \t\r\n:");
/// The same inside flow collections, where `,?[]{}` end a plain scalar too (go-yaml v2).
static FLOW_STOP: [bool; 256] = stop_table(b" \t\r\n:,?[]{}");

const fn stop_table(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn is_break(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Characters of anchor names and tag handles: libyaml's `is_alpha`.
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn is_uri_char(c: u8) -> bool {
    is_word(c) || b";/?:@&=+$,.!~*'()[]%".contains(&c)
}

/// Where a node sits, for the rules about what may start on the same line.
#[derive(Clone, Copy)]
struct Ctx {
    /// A block collection (`- `, `? `, `: `, or an implicit key) may start on the current line:
    /// true after `-`, `?` or an explicit `:`, false after a `key:` or `---`.
    compact: bool,
    /// A `- ` at the parent's own indentation starts a sequence (values of block mappings).
    indentless: bool,
}

/// Anchor and tag in front of a node.
#[derive(Default)]
struct Props<'a> {
    anchor: Option<&'a str>,
    tag: Option<String>,
    /// Offset of the first property, for messages.
    at: usize,
}

impl Props<'_> {
    fn is_empty(&self) -> bool {
        self.anchor.is_none() && self.tag.is_none()
    }
}

/// A node that may still turn out to be an implicit mapping key.
struct Cand<'a> {
    props: Props<'a>,
    body: Body<'a>,
    /// Offset where the node's content starts.
    at: usize,
}

enum Body<'a> {
    /// Scalar text; `plain` when unquoted (only plain scalars are resolved without a tag).
    Scalar { text: Cow<'a, str>, plain: bool },
    /// The value of an alias.
    Alias(Value),
    /// A flow collection, already finished (its properties applied).
    Collection(Value),
    /// No content: properties only.
    Empty,
}

/// A mapping key in its final string form.
struct Key {
    text: String,
    /// The `<<` merge key.
    merge: bool,
}

enum Anchor {
    /// Defined by a node that is still being read.
    Pending(u64),
    Done {
        value: Value,
        nodes: usize,
        text: usize,
        height: usize,
    },
}

struct Reader<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    /// 1-based line of `pos`.
    line: usize,
    /// Offset where the current line starts.
    line_start: usize,
    /// Line on which the last token ended: a token on a later line is the first on its line.
    token_line: usize,
    limits: &'a Limits,
    /// 1-based index of the document being read.
    doc: usize,
    /// Open collections around the current position.
    depth: usize,
    /// Values built so far in this document, counting alias expansions.
    nodes: usize,
    /// Bytes of values built so far in the stream (see [`NODE_BYTES`]), counting alias
    /// expansions.
    bytes: usize,
    /// Open flow collections.
    flow: usize,
    anchors: HashMap<&'a str, Anchor>,
    anchor_seq: u64,
    /// `%TAG` handles of the current document.
    tag_handles: Vec<(String, String)>,
    /// Whether the last finished node was an alias (merge keys treat those differently).
    last_alias: bool,
    /// Offset of the first character go-yaml refuses to read, or `usize::MAX`.
    bad_char: usize,
    /// Deepest nesting level whose values are built; `usize::MAX` builds everything.
    keep: usize,
    /// A shallow read met an anchor or a merge key and stopped: read again in full.
    needs_full: bool,
}

impl<'a> Reader<'a> {
    /// A reader for `src`, refusing input over the size limit before looking at it.
    fn within_limits(src: &'a str, limits: &'a Limits) -> Result<Self, Error> {
        if src.len() > limits.max_bytes {
            return Err(Error::TooLarge {
                size: src.len(),
                limit: limits.max_bytes,
            });
        }
        Ok(Reader::new(src, limits))
    }

    fn new(src: &'a str, limits: &'a Limits) -> Self {
        Reader {
            src,
            b: src.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            token_line: 0,
            limits,
            doc: 1,
            depth: 0,
            nodes: 0,
            // Every string read from the input is at most as long as the input.
            bytes: src.len(),
            flow: 0,
            anchors: HashMap::new(),
            anchor_seq: 0,
            tag_handles: Vec::new(),
            last_alias: false,
            bad_char: first_bad_char(src.as_bytes()),
            keep: usize::MAX,
            needs_full: false,
        }
    }

    // ---------------------------------------------------------------- positions and errors

    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    /// The byte at `pos`, or 0 at the end (a NUL in the input is reported separately).
    fn peek(&self) -> u8 {
        self.byte(self.pos)
    }

    fn byte(&self, at: usize) -> u8 {
        self.b.get(at).copied().unwrap_or(0)
    }

    fn blankz(&self, at: usize) -> bool {
        at >= self.b.len() || matches!(self.b[at], b' ' | b'\t' | b'\n' | b'\r')
    }

    fn col(&self) -> usize {
        self.pos - self.line_start
    }

    fn on_new_line(&self) -> bool {
        self.line > self.token_line
    }

    /// Consumes the line break at `pos` (`\n`, `\r\n` or `\r`).
    fn newline(&mut self) {
        if self.b[self.pos] == b'\r' && self.byte(self.pos + 1) == b'\n' {
            self.pos += 2;
        } else {
            self.pos += 1;
        }
        self.line += 1;
        self.line_start = self.pos;
    }

    /// `---` or `...` at column 0 followed by a blank or the end.
    fn at_doc_marker(&self) -> bool {
        self.pos == self.line_start
            && self.b.len() >= self.pos + 3
            && matches!(&self.b[self.pos..self.pos + 3], b"---" | b"...")
            && self.blankz(self.pos + 3)
    }

    fn at_doc_start(&self) -> bool {
        self.at_doc_marker() && self.b[self.pos] == b'-'
    }

    fn at_doc_end(&self) -> bool {
        self.at_doc_marker() && self.b[self.pos] == b'.'
    }

    /// A document marker or a directive: nothing of the current document goes on there.
    fn at_boundary(&self) -> bool {
        self.at_end()
            || self.at_doc_marker()
            || (self.pos == self.line_start && self.peek() == b'%')
    }

    fn syntax(&self, at: usize, message: impl Into<String>) -> Error {
        if self.bad_char <= at {
            return self.bad_char_error();
        }
        let (line, column) = location(self.src, at);
        Error::Syntax {
            document: self.doc,
            line,
            column,
            message: message.into(),
        }
    }

    fn bad_char_error(&self) -> Error {
        let at = self.bad_char;
        let (line, column) = location(self.src, at);
        let c = self.src[at..].chars().next().unwrap_or('\0');
        Error::Syntax {
            document: self.doc,
            line,
            column,
            message: format!(
                "control character U+{:04X} is not allowed in YAML",
                c as u32
            ),
        }
    }

    fn err<T>(&self, at: usize, message: impl Into<String>) -> Result<T, Error> {
        Err(self.syntax(at, message))
    }

    // ---------------------------------------------------------------- limits

    fn enter(&mut self) -> Result<(), Error> {
        if self.depth >= self.limits.max_depth {
            return Err(Error::TooDeep {
                document: self.doc,
                line: self.line,
                limit: self.limits.max_depth,
            });
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Whether a node that starts or ends at the current depth (its nesting level) is built
    /// rather than a shallow placeholder.
    fn kept(&self) -> bool {
        self.depth <= self.keep
    }

    /// In a shallow read, stops at a construct that needs the values it would drop.
    fn check_shallow(&mut self, at: usize) -> Result<(), Error> {
        if self.keep == usize::MAX {
            return Ok(());
        }
        self.needs_full = true;
        self.err(at, "anchors and merge keys need a full read")
    }

    fn count(&mut self, n: usize) -> Result<(), Error> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(Error::TooManyNodes {
                document: self.doc,
                limit: self.limits.max_nodes,
            });
        }
        self.count_bytes(n.saturating_mul(NODE_BYTES))
    }

    fn count_bytes(&mut self, n: usize) -> Result<(), Error> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.limits.max_value_bytes {
            return Err(Error::TooManyBytes {
                document: self.doc,
                limit: self.limits.max_value_bytes,
            });
        }
        Ok(())
    }

    // ---------------------------------------------------------------- whitespace

    /// Skips spaces, comments and line breaks up to the next token.
    ///
    /// Tabs separate tokens inside flow collections, and in block context only after
    /// something on the same line that a key cannot follow (`key:\tvalue`); elsewhere a tab
    /// would be indentation, which YAML forbids.
    fn skip_space(&mut self, tabs_inline: bool) -> Result<(), Error> {
        let mut tabs = self.flow > 0 || (tabs_inline && !self.on_new_line());
        loop {
            // Indentation is long in deep documents (40 columns and more in CRD schemas):
            // step over spaces eight at a time first.
            while self.b.get(self.pos..self.pos + 8) == Some(b"        ") {
                self.pos += 8;
            }
            while let Some(&c) = self.b.get(self.pos) {
                if c == b' ' || (c == b'\t' && tabs) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            match self.peek() {
                b'#' => {
                    // Values files are mostly comments: jump to the line's end.
                    let rest = &self.b[self.pos..];
                    self.pos += memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
                }
                b'\n' | b'\r' if !self.at_end() => {
                    self.newline();
                    tabs = self.flow > 0;
                    if self.b[self.pos..].starts_with(BOM) {
                        self.pos += BOM.len();
                    }
                }
                b'\t' if !self.at_end() => {
                    return self.err(self.pos, "tabs are not allowed for indentation");
                }
                _ => return Ok(()),
            }
        }
    }

    /// Skips spaces and tabs up to the end of the current line.
    fn skip_inline_space(&mut self) {
        while self.pos < self.b.len() && is_blank(self.b[self.pos]) {
            self.pos += 1;
        }
    }

    // ---------------------------------------------------------------- documents

    fn stream(&mut self) -> Result<Vec<Document>, Error> {
        let mut docs = Vec::new();
        if self.b.starts_with(BOM) {
            self.pos = BOM.len();
            self.line_start = self.pos;
        }
        let mut seen = 0usize;
        // Only the first document may start without `---`.
        let mut first = true;
        loop {
            self.doc = seen + 1;
            self.skip_space(false)?;
            if self.at_end() {
                break;
            }
            self.tag_handles.clear();
            let mut directives = false;
            let mut version = false;
            while self.pos == self.line_start && self.peek() == b'%' {
                self.directive(&mut version)?;
                directives = true;
                self.skip_space(false)?;
            }
            if !directives && self.at_doc_end() {
                self.pos += 3;
                self.token_line = self.line;
                if first {
                    // libyaml opens an implicit, empty document here.
                    first = false;
                    seen += 1;
                    self.check_documents(seen)?;
                }
                continue;
            }
            let explicit = self.at_doc_start();
            if directives && !explicit {
                return self.err(self.pos, "expected '---' after the directives");
            }
            if !explicit && !first {
                return self.err(self.pos, "expected '---' before the next document");
            }
            first = false;
            seen += 1;
            self.check_documents(seen)?;
            self.anchors.clear();
            self.nodes = 0;
            if explicit {
                self.pos += 3;
                self.token_line = self.line;
            }
            self.skip_space(explicit)?;
            let line = self.line;
            let ctx = Ctx {
                compact: !explicit,
                indentless: false,
            };
            let root = self.block_node(-1, ctx)?;
            self.skip_space(true)?;
            if self.at_doc_end() {
                self.pos += 3;
                self.token_line = self.line;
            } else if !self.at_boundary() {
                return self.err(
                    self.pos,
                    "unexpected content after the document's root node",
                );
            }
            if self.bad_char < self.pos {
                return Err(self.bad_char_error());
            }
            if !root.is_null() {
                docs.push(Document {
                    index: seen,
                    line,
                    value: root,
                });
            }
        }
        if self.bad_char != usize::MAX {
            self.doc = seen.max(1);
            return Err(self.bad_char_error());
        }
        Ok(docs)
    }

    fn check_documents(&self, seen: usize) -> Result<(), Error> {
        if seen > self.limits.max_documents {
            return Err(Error::TooManyDocuments {
                limit: self.limits.max_documents,
            });
        }
        Ok(())
    }

    /// `%YAML 1.1` or `%TAG !handle! prefix`, at column 0.
    fn directive(&mut self, version: &mut bool) -> Result<(), Error> {
        let start = self.pos;
        self.pos += 1;
        let name_start = self.pos;
        while is_word(self.peek()) && !self.at_end() {
            self.pos += 1;
        }
        let name = &self.src[name_start..self.pos];
        if name.is_empty() || !self.blankz(self.pos) {
            return self.err(start, "expected a directive name after '%'");
        }
        match name {
            "YAML" => {
                self.skip_inline_space();
                let v_start = self.pos;
                while self.peek().is_ascii_digit() || self.peek() == b'.' {
                    self.pos += 1;
                }
                let v = &self.src[v_start..self.pos];
                let parts: Vec<&str> = v.split('.').collect();
                if parts.len() != 2 || parts.iter().any(|p| p.is_empty() || p.len() > 9) {
                    return self.err(v_start, "expected a version such as 1.1 after %YAML");
                }
                if *version {
                    return self.err(start, "duplicate %YAML directive");
                }
                *version = true;
                if parts[0].parse::<u32>() != Ok(1) || parts[1].parse::<u32>() != Ok(1) {
                    return self.err(
                        start,
                        format!("unsupported YAML version {v}: go-yaml v2 reads only 1.1"),
                    );
                }
            }
            "TAG" => {
                self.skip_inline_space();
                let h_start = self.pos;
                if self.peek() != b'!' {
                    return self.err(h_start, "expected a tag handle after %TAG");
                }
                self.pos += 1;
                while is_word(self.peek()) && !self.at_end() {
                    self.pos += 1;
                }
                if self.peek() == b'!' {
                    self.pos += 1;
                } else if self.pos - h_start > 1 {
                    return self.err(h_start, "a tag handle must end with '!'");
                }
                let handle = self.src[h_start..self.pos].to_owned();
                if !is_blank(self.peek()) {
                    return self.err(self.pos, "expected a space after the tag handle");
                }
                self.skip_inline_space();
                let p_start = self.pos;
                let prefix = self.uri(start, None)?;
                if prefix.is_empty() {
                    return self.err(p_start, "expected a tag prefix after the handle");
                }
                if self.tag_handles.iter().any(|(h, _)| *h == handle) {
                    return self.err(start, format!("duplicate %TAG directive for {handle}"));
                }
                self.tag_handles.push((handle, prefix));
            }
            _ => return self.err(start, format!("unknown directive %{name}")),
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
                "expected a comment or a line break after the directive",
            );
        }
        self.token_line = self.line;
        Ok(())
    }

    // ---------------------------------------------------------------- block structure

    /// Reads a node in block context whose parent collection is indented `indent` columns
    /// (-1 for a document's root). Called right after the indicator that introduces it.
    fn block_node(&mut self, indent: isize, ctx: Ctx) -> Result<Value, Error> {
        self.skip_space(!ctx.compact)?;
        let mut props = Props::default();
        // Where an implicit key would start: at the first property when it may start one.
        let mut key_start: Option<usize> = None;
        let mut compact = ctx.compact;
        loop {
            if self.at_boundary() {
                return self.empty_node(props);
            }
            if self.on_new_line() {
                let col = self.col() as isize;
                if col <= indent {
                    if ctx.indentless && col == indent && self.at_block_entry() {
                        return self.block_sequence(props);
                    }
                    return self.empty_node(props);
                }
                compact = true;
                key_start = None;
            }
            match self.peek() {
                b'&' | b'!' => {
                    if compact && key_start.is_none() {
                        key_start = Some(self.pos);
                    }
                    self.property(&mut props)?;
                    compact = false;
                    self.skip_space(true)?;
                }
                _ => break,
            }
        }
        let here = self.pos;
        let c = self.peek();
        let indicator = self.blankz(here + 1);
        match c {
            b'-' if indicator => {
                if !compact {
                    return self.err(here, "block sequence entries are not allowed here");
                }
                return self.block_sequence(props);
            }
            b'?' | b':' if indicator => {
                if !compact {
                    let what = if c == b'?' {
                        "explicit mapping keys are not allowed here"
                    } else {
                        "mapping values are not allowed here"
                    };
                    return self.err(here, what);
                }
                return self.block_mapping(self.col(), props, None);
            }
            b'|' | b'>' => {
                let text = self.block_scalar(indent)?;
                return self.scalar_value(props, Cow::Owned(text), false, here);
            }
            _ => {}
        }
        let may_be_key = compact || key_start.is_some();
        let start = key_start.unwrap_or(here);
        let start_line = self.line;
        // Properties on the key's own line belong to the key; a flow collection applies its
        // properties while it is read (it cannot be a key anyway).
        let cand_props = if key_start.is_some() || c == b'[' || c == b'{' {
            std::mem::take(&mut props)
        } else {
            Props::default()
        };
        let cand = self.content(indent, cand_props)?;
        let after = self.pos;
        self.skip_inline_space();
        if self.peek() == b':' && self.blankz(self.pos + 1) {
            if !may_be_key {
                return self.err(self.pos, "mapping values are not allowed here");
            }
            self.check_simple_key(start, start_line)?;
            let key = self.cand_key(cand)?;
            let m = start - self.line_start;
            self.pos += 1;
            self.token_line = self.line;
            return self.block_mapping(m, props, Some(key));
        }
        self.pos = after;
        // Properties from an earlier line belong to this node.
        let mut cand = cand;
        if !props.is_empty() {
            cand.props = props;
        }
        self.cand_value(cand)
    }

    /// An implicit key must start and end on one line, within 1024 characters.
    fn check_simple_key(&self, start: usize, start_line: usize) -> Result<(), Error> {
        if self.line != start_line {
            return self.err(self.pos, "an implicit mapping key must be on a single line");
        }
        if self.pos - start > MAX_SIMPLE_KEY
            && self.src[start..self.pos].chars().count() > MAX_SIMPLE_KEY
        {
            return self.err(
                start,
                "an implicit mapping key is longer than 1024 characters",
            );
        }
        Ok(())
    }

    fn at_block_entry(&self) -> bool {
        self.peek() == b'-' && !self.at_end() && self.blankz(self.pos + 1)
    }

    /// A block sequence whose first `- ` is at `pos`.
    fn block_sequence(&mut self, props: Props<'a>) -> Result<Value, Error> {
        let s = self.col();
        let keep = self.kept();
        self.enter()?;
        let anchor = self.begin_anchor(&props);
        let mut items = Vec::new();
        loop {
            // At `- `.
            self.pos += 1;
            self.token_line = self.line;
            let ctx = Ctx {
                compact: true,
                indentless: false,
            };
            let item = self.block_node(s as isize, ctx)?;
            push_kept(keep, &mut items, item);
            self.skip_space(true)?;
            if self.at_boundary() {
                break;
            }
            if !self.on_new_line() {
                return self.err(self.pos, "unexpected text after a sequence entry");
            }
            let col = self.col();
            if col < s {
                break;
            }
            if col > s {
                return self.err(self.pos, "bad indentation of a sequence entry");
            }
            if !self.at_block_entry() {
                // A sequence at its mapping's indentation ends where the next key starts;
                // anything else at this column is an error the mapping reports.
                break;
            }
        }
        self.leave();
        self.finish_collection(Value::Sequence(items), props, anchor)
    }

    /// A block mapping at column `m`: either right after the `:` of `first`, or at a `?`
    /// or `:` indicator.
    fn block_mapping(
        &mut self,
        m: usize,
        props: Props<'a>,
        first: Option<Key>,
    ) -> Result<Value, Error> {
        let keep = self.kept();
        self.enter()?;
        let anchor = self.begin_anchor(&props);
        let mut entries = Entries::default();
        let mut pending = first;
        loop {
            let (key, value_ctx) = match pending.take() {
                Some(key) => (key, Some(false)),
                None => self.block_key(m)?,
            };
            let at = self.pos;
            let value = match value_ctx {
                Some(compact) => {
                    let ctx = Ctx {
                        compact,
                        indentless: true,
                    };
                    self.block_node(m as isize, ctx)?
                }
                None => Value::Null,
            };
            if keep {
                entries.push(self, key, value, at)?;
            }
            self.skip_space(true)?;
            if self.at_boundary() {
                break;
            }
            if !self.on_new_line() {
                return self.err(self.pos, "unexpected text after a mapping value");
            }
            let col = self.col();
            if col < m {
                break;
            }
            if col > m {
                return self.err(self.pos, "bad indentation of a mapping entry");
            }
        }
        self.leave();
        let map = entries.finish();
        self.finish_collection(Value::Mapping(map), props, anchor)
    }

    /// Reads the key of a block mapping entry at column `m` and its `:`. Returns the key and,
    /// when a value follows, whether it may be a compact collection (after an explicit `:`);
    /// `? key` without a `:` has no value.
    fn block_key(&mut self, m: usize) -> Result<(Key, Option<bool>), Error> {
        let at = self.pos;
        let c = self.peek();
        let indicator = self.blankz(at + 1);
        if c == b'?' && indicator {
            self.pos += 1;
            self.token_line = self.line;
            let ctx = Ctx {
                compact: true,
                indentless: true,
            };
            // The key's text is kept whenever its mapping is, however deep the key node is.
            let keep = self.keep;
            if self.depth <= keep.saturating_add(1) {
                self.keep = usize::MAX;
            }
            let key_value = self.block_node(m as isize, ctx);
            self.keep = keep;
            let key = self.key_from_value(key_value?, at)?;
            self.skip_space(true)?;
            if !self.at_boundary()
                && self.on_new_line()
                && self.col() == m
                && self.peek() == b':'
                && self.blankz(self.pos + 1)
            {
                self.pos += 1;
                self.token_line = self.line;
                return Ok((key, Some(true)));
            }
            return Ok((key, None));
        }
        if c == b':' && indicator {
            self.pos += 1;
            self.token_line = self.line;
            return self.err(at, "a mapping key is missing (null keys are not supported)");
        }
        if c == b'-' && indicator {
            return self.err(at, "expected a mapping key, found a sequence entry");
        }
        if c == b'|' || c == b'>' {
            return self.err(at, "expected a mapping key, found a block scalar");
        }
        let line = self.line;
        let mut props = Props::default();
        while matches!(self.peek(), b'&' | b'!') {
            self.property(&mut props)?;
            self.skip_inline_space();
        }
        let cand = self.content(m as isize, props)?;
        self.skip_inline_space();
        if !(self.peek() == b':' && self.blankz(self.pos + 1)) || self.line != line {
            return self.err(at, "could not find expected ':' after a mapping key");
        }
        self.check_simple_key(at, line)?;
        let key = self.cand_key(cand)?;
        self.pos += 1;
        self.token_line = self.line;
        Ok((key, Some(false)))
    }

    /// The content of a node after its properties: alias, flow collection, quoted or plain
    /// scalar. `indent` is the enclosing block indentation.
    fn content(&mut self, indent: isize, props: Props<'a>) -> Result<Cand<'a>, Error> {
        let at = self.pos;
        let c = self.peek();
        let body = match c {
            b'*' => {
                let value = self.alias()?;
                Body::Alias(value)
            }
            b'[' | b'{' => {
                let value = self.flow_collection(indent, props)?;
                return Ok(Cand {
                    props: Props::default(),
                    body: Body::Collection(value),
                    at,
                });
            }
            b'\'' | b'"' => Body::Scalar {
                text: self.quoted(c == b'\'')?,
                plain: false,
            },
            _ => {
                if !self.plain_start() {
                    return self.err(at, self.cannot_start(c));
                }
                Body::Scalar {
                    text: self.plain(indent)?,
                    plain: true,
                }
            }
        };
        Ok(Cand { props, body, at })
    }

    fn cannot_start(&self, c: u8) -> String {
        if self.at_end() {
            return "unexpected end of input".into();
        }
        match c {
            b'|' | b'>' if self.flow > 0 => {
                "block scalars are not allowed inside flow collections".into()
            }
            b'-' if self.flow > 0 => {
                "block sequence entries are not allowed inside flow collections".into()
            }
            b'\t' => "tabs are not allowed for indentation".into(),
            _ => {
                let ch = self.src[self.pos..].chars().next().unwrap_or('?');
                format!("character {ch:?} cannot start a value")
            }
        }
    }

    /// Whether a plain scalar may start at `pos` (go-yaml v2's rule).
    fn plain_start(&self) -> bool {
        if self.at_end() {
            return false;
        }
        let c = self.peek();
        match c {
            b'-' => !self.blankz(self.pos + 1),
            b'?' | b':' => self.flow == 0 && !self.blankz(self.pos + 1),
            b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&'
            | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' => false,
            _ => true,
        }
    }

    /// A node with no content, only properties (or nothing at all).
    fn empty_node(&mut self, props: Props<'a>) -> Result<Value, Error> {
        let at = self.pos;
        self.scalar_value(props, Cow::Borrowed(""), true, at)
    }

    // ---------------------------------------------------------------- flow collections

    fn flow_collection(&mut self, indent: isize, props: Props<'a>) -> Result<Value, Error> {
        let open = self.pos;
        let seq = self.peek() == b'[';
        let close = if seq { b']' } else { b'}' };
        let keep = self.kept();
        self.enter()?;
        let anchor = self.begin_anchor(&props);
        self.pos += 1;
        self.flow += 1;
        self.token_line = self.line;
        let mut items = Vec::new();
        let mut entries = Entries::default();
        let mut first = true;
        loop {
            self.flow_space(open, seq)?;
            if self.peek() == close {
                self.pos += 1;
                break;
            }
            if !first {
                if self.peek() != b',' {
                    let msg = if seq {
                        "expected ',' or ']' in a flow sequence"
                    } else {
                        "expected ',' or '}' in a flow mapping"
                    };
                    return self.err(self.pos, msg);
                }
                self.pos += 1;
                self.token_line = self.line;
                self.flow_space(open, seq)?;
                if self.peek() == close {
                    self.pos += 1;
                    break;
                }
            }
            first = false;
            let entry_at = self.pos;
            let entry_line = self.line;
            let (key_cand, explicit) = if self.peek() == b'?' {
                self.pos += 1;
                self.token_line = self.line;
                self.flow_space(open, seq)?;
                let c = self.peek();
                if c == b':' || c == b',' || c == close {
                    (
                        Cand {
                            props: Props::default(),
                            body: Body::Empty,
                            at: self.pos,
                        },
                        true,
                    )
                } else {
                    (self.flow_node(indent)?, true)
                }
            } else {
                (self.flow_node(indent)?, false)
            };
            self.flow_space(open, seq)?;
            if self.peek() == b':' {
                if !explicit {
                    if self.line != entry_line {
                        // libyaml no longer sees a key here, only a stray ':'.
                        let msg = if seq {
                            "expected ',' or ']' in a flow sequence"
                        } else {
                            "expected ',' or '}' in a flow mapping"
                        };
                        return self.err(self.pos, msg);
                    }
                    self.check_simple_key(entry_at, entry_line)?;
                }
                let key = self.cand_key(key_cand)?;
                self.pos += 1;
                self.token_line = self.line;
                self.flow_space(open, seq)?;
                let c = self.peek();
                let value = if c == b',' || c == close {
                    Value::Null
                } else {
                    let v = self.flow_node(indent)?;
                    self.cand_value(v)?
                };
                self.push_flow_pair(keep, seq, &mut items, &mut entries, key, value, entry_at)?;
            } else if seq && !explicit {
                let item = self.cand_value(key_cand)?;
                push_kept(keep, &mut items, item);
            } else {
                let key = self.cand_key(key_cand)?;
                self.push_flow_pair(
                    keep,
                    seq,
                    &mut items,
                    &mut entries,
                    key,
                    Value::Null,
                    entry_at,
                )?;
            }
        }
        self.flow -= 1;
        self.leave();
        self.token_line = self.line;
        let value = if seq {
            Value::Sequence(items)
        } else {
            Value::Mapping(entries.finish())
        };
        self.finish_collection(value, props, anchor)
    }

    /// A `key: value` pair inside a flow collection: an entry of a flow mapping, or a
    /// single-pair mapping inside a flow sequence (counted, and only kept when `keep`).
    #[allow(clippy::too_many_arguments)]
    fn push_flow_pair(
        &mut self,
        keep: bool,
        seq: bool,
        items: &mut Vec<Value>,
        entries: &mut Entries,
        key: Key,
        value: Value,
        at: usize,
    ) -> Result<(), Error> {
        if !keep {
            return if seq { self.count(1) } else { Ok(()) };
        }
        if seq {
            let mut pair = Entries::default();
            pair.push(self, key, value, at)?;
            self.count(1)?;
            items.push(Value::Mapping(pair.finish()));
            Ok(())
        } else {
            entries.push(self, key, value, at)
        }
    }

    /// Skips space inside a flow collection; the collection must not end before its bracket.
    fn flow_space(&mut self, open: usize, seq: bool) -> Result<(), Error> {
        self.skip_space(true)?;
        if self.at_end() {
            let what = if seq {
                "unterminated flow sequence: missing ']'"
            } else {
                "unterminated flow mapping: missing '}'"
            };
            return self.err(open, what);
        }
        if self.at_doc_marker() || (self.pos == self.line_start && self.peek() == b'%') {
            return self.err(self.pos, "document marker inside a flow collection");
        }
        Ok(())
    }

    /// Properties and content of a node inside a flow collection.
    fn flow_node(&mut self, indent: isize) -> Result<Cand<'a>, Error> {
        let mut props = Props::default();
        while matches!(self.peek(), b'&' | b'!') && !self.at_end() {
            self.property(&mut props)?;
            self.skip_space(true)?;
        }
        let at = self.pos;
        match self.peek() {
            b',' | b']' | b'}' | b':' if !self.at_end() => {
                if props.is_empty() {
                    return self.err(at, "expected a value");
                }
                Ok(Cand {
                    props,
                    body: Body::Empty,
                    at,
                })
            }
            _ if self.at_doc_marker() => self.err(at, "document marker inside a flow collection"),
            _ => self.content(indent, props),
        }
    }

    // ---------------------------------------------------------------- nodes to values

    /// The value of a node that did not become a key.
    fn cand_value(&mut self, cand: Cand<'a>) -> Result<Value, Error> {
        match cand.body {
            Body::Scalar { text, plain } => self.scalar_value(cand.props, text, plain, cand.at),
            Body::Empty => self.scalar_value(cand.props, Cow::Borrowed(""), true, cand.at),
            Body::Alias(value) => {
                if !cand.props.is_empty() {
                    return self.err(cand.props.at, "an alias cannot have an anchor or a tag");
                }
                self.last_alias = true;
                Ok(value)
            }
            Body::Collection(value) => Ok(value),
        }
    }

    /// Resolves a scalar, counts it and records its anchor.
    fn scalar_value(
        &mut self,
        props: Props<'a>,
        text: Cow<'a, str>,
        plain: bool,
        at: usize,
    ) -> Result<Value, Error> {
        if !self.kept() && props.tag.is_none() {
            self.count(1)?;
            self.last_alias = false;
            return Ok(placeholder(plain && scalar::is_null(&text)));
        }
        let resolved = match &props.tag {
            None if plain => scalar::resolve_plain(&text),
            None => Resolved::Str,
            Some(tag) => scalar::resolve_tagged(tag, &text).map_err(|m| self.syntax(at, m))?,
        };
        let value = if resolved == Resolved::Binary {
            Value::String(scalar::decode_binary(&text).map_err(|m| self.syntax(at, m))?)
        } else if !self.kept() {
            placeholder(resolved == Resolved::Null)
        } else {
            resolved.into_value(text)
        };
        self.count(1)?;
        if let Some(name) = props.anchor {
            self.define(name, None, &value);
        }
        self.last_alias = false;
        Ok(value)
    }

    /// The key string of a node that is followed by `:`.
    fn cand_key(&mut self, cand: Cand<'a>) -> Result<Key, Error> {
        let at = cand.at;
        match cand.body {
            Body::Scalar { text, plain } if cand.props.anchor.is_none() => {
                let merge = plain
                    && text == "<<"
                    && match &cand.props.tag {
                        None => true,
                        Some(t) => t == "!" || t == "tag:yaml.org,2002:merge",
                    };
                if merge {
                    self.check_shallow(at)?;
                }
                let resolved = match &cand.props.tag {
                    None if plain => scalar::resolve_plain(&text),
                    None => Resolved::Str,
                    Some(tag) => {
                        scalar::resolve_tagged(tag, &text).map_err(|m| self.syntax(at, m))?
                    }
                };
                let text = self.key_text(resolved, text, at)?;
                Ok(Key { text, merge })
            }
            _ => {
                let value = self.cand_value(cand)?;
                self.key_from_value(value, at)
            }
        }
    }

    /// The string sigs.k8s.io/yaml makes of a resolved scalar key.
    fn key_text(&self, r: Resolved, text: Cow<'a, str>, at: usize) -> Result<String, Error> {
        // Keys are read inside their mapping, one level below it.
        let in_kept_mapping = self.depth <= self.keep.saturating_add(1);
        if !in_kept_mapping && !matches!(r, Resolved::Null | Resolved::UInt(_) | Resolved::Binary) {
            // The key of a mapping a shallow read drops: only its errors matter.
            return Ok(String::new());
        }
        Ok(match r {
            Resolved::Binary => scalar::decode_binary(&text).map_err(|m| self.syntax(at, m))?,
            Resolved::Str | Resolved::Timestamp | Resolved::Merge => text.into_owned(),
            Resolved::Bool(b) => b.to_string(),
            Resolved::Int(i) => i.to_string(),
            Resolved::Float(f) => scalar::float_key(f),
            Resolved::Null => {
                return self.err(at, "null is not supported as a mapping key");
            }
            Resolved::UInt(_) => {
                return self.err(at, format!("mapping key {text} is too large an integer"));
            }
        })
    }

    fn key_from_value(&self, value: Value, at: usize) -> Result<Key, Error> {
        let text = match value {
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(crate::Number::Int(i)) => i.to_string(),
            Value::Number(crate::Number::Float(f)) => scalar::float_key(f),
            Value::Null => return self.err(at, "null is not supported as a mapping key"),
            Value::Sequence(_) | Value::Mapping(_) => {
                return self.err(at, "a mapping key must be a scalar, not a collection");
            }
        };
        Ok(Key { text, merge: false })
    }

    // ---------------------------------------------------------------- anchors and aliases

    fn begin_anchor(&mut self, props: &Props<'a>) -> Option<u64> {
        let name = props.anchor?;
        self.anchor_seq += 1;
        self.anchors.insert(name, Anchor::Pending(self.anchor_seq));
        Some(self.anchor_seq)
    }

    /// Records `value` under `name`, unless a later node redefined the anchor meanwhile.
    fn define(&mut self, name: &'a str, id: Option<u64>, value: &Value) {
        if let Some(id) = id
            && !matches!(self.anchors.get(name), Some(Anchor::Pending(p)) if *p == id)
        {
            return;
        }
        let (nodes, text, height) = measure(value);
        self.anchors.insert(
            name,
            Anchor::Done {
                value: value.clone(),
                nodes,
                text,
                height,
            },
        );
    }

    fn finish_collection(
        &mut self,
        value: Value,
        props: Props<'a>,
        anchor: Option<u64>,
    ) -> Result<Value, Error> {
        self.count(1)?;
        if let Some(name) = props.anchor {
            self.define(name, anchor, &value);
        }
        self.last_alias = false;
        Ok(value)
    }

    fn alias(&mut self) -> Result<Value, Error> {
        let at = self.pos;
        let name = self.anchor_name()?;
        self.token_line = self.line;
        let (nodes, text, height) = match self.anchors.get(name) {
            None => return self.err(at, format!("unknown anchor '{name}' referenced")),
            Some(Anchor::Pending(_)) => {
                return self.err(at, format!("anchor '{name}' value contains itself"));
            }
            Some(Anchor::Done {
                nodes,
                text,
                height,
                ..
            }) => (*nodes, *text, *height),
        };
        if self.depth + height > self.limits.max_depth {
            return Err(Error::TooDeep {
                document: self.doc,
                line: self.line,
                limit: self.limits.max_depth,
            });
        }
        // Count before the copy is made, so "billion laughs" stops at once.
        self.count(nodes)?;
        self.count_bytes(text)?;
        match self.anchors.get(name) {
            Some(Anchor::Done { value, .. }) => Ok(value.clone()),
            _ => self.err(at, format!("unknown anchor '{name}' referenced")),
        }
    }

    /// `&name` or `*name` at `pos`; returns the name.
    fn anchor_name(&mut self) -> Result<&'a str, Error> {
        let at = self.pos;
        self.pos += 1;
        let start = self.pos;
        while self.pos < self.b.len() && is_word(self.b[self.pos]) {
            self.pos += 1;
        }
        let ok_end = self.blankz(self.pos)
            || matches!(
                self.peek(),
                b'?' | b':' | b',' | b']' | b'}' | b'%' | b'@' | b'`'
            );
        if self.pos == start || !ok_end {
            let what = if self.b[at] == b'&' {
                "anchor"
            } else {
                "alias"
            };
            return self.err(
                at,
                format!("{what} names may use only letters, digits, '_' and '-'"),
            );
        }
        Ok(&self.src[start..self.pos])
    }

    /// An anchor or a tag at `pos`.
    fn property(&mut self, props: &mut Props<'a>) -> Result<(), Error> {
        let at = self.pos;
        if props.is_empty() {
            props.at = at;
        }
        if self.peek() == b'&' {
            self.check_shallow(at)?;
            if props.anchor.is_some() {
                return self.err(at, "a node cannot have two anchors");
            }
            props.anchor = Some(self.anchor_name()?);
        } else {
            if props.tag.is_some() {
                return self.err(at, "a node cannot have two tags");
            }
            props.tag = Some(self.tag()?);
        }
        self.token_line = self.line;
        Ok(())
    }

    /// A tag at `pos`, expanded to its full form.
    fn tag(&mut self) -> Result<String, Error> {
        let start = self.pos;
        let tag = if self.byte(start + 1) == b'<' {
            self.pos += 2;
            let uri = self.uri(start, None)?;
            if uri.is_empty() || self.peek() != b'>' {
                return self.err(start, "a verbatim tag must look like !<uri>");
            }
            self.pos += 1;
            uri
        } else {
            self.pos += 1;
            while self.pos < self.b.len() && is_word(self.b[self.pos]) {
                self.pos += 1;
            }
            if self.peek() == b'!' && !self.at_end() {
                // `!!suffix` or `!name!suffix`.
                self.pos += 1;
                let handle = &self.src[start..self.pos];
                let suffix = self.uri(start, None)?;
                if suffix.is_empty() {
                    return self.err(start, format!("the tag {handle} has no suffix"));
                }
                let prefix = match self.tag_handles.iter().find(|(h, _)| h == handle) {
                    Some((_, p)) => p.clone(),
                    None if handle == "!!" => YAML_TAG_PREFIX.to_owned(),
                    None => return self.err(start, format!("undefined tag handle {handle}")),
                };
                prefix + &suffix
            } else {
                // `!suffix`, or the lone non-specific `!`.
                let head = &self.src[start + 1..self.pos];
                let suffix = self.uri(start, Some(head))?;
                if suffix.is_empty() {
                    "!".to_owned()
                } else {
                    let prefix = match self.tag_handles.iter().find(|(h, _)| h == "!") {
                        Some((_, p)) => p.clone(),
                        None => "!".to_owned(),
                    };
                    prefix + &suffix
                }
            }
        };
        if !self.blankz(self.pos) {
            return self.err(start, "a tag must be followed by a space or a line break");
        }
        Ok(tag)
    }

    /// URI characters at `pos` with `%XX` escapes decoded, after `head`.
    fn uri(&mut self, start: usize, head: Option<&str>) -> Result<String, Error> {
        let mut out = String::from(head.unwrap_or(""));
        let mut bytes = Vec::new();
        while self.pos < self.b.len() && is_uri_char(self.b[self.pos]) {
            let c = self.b[self.pos];
            if c == b'%' {
                let hex = self.src.get(self.pos + 1..self.pos + 3).unwrap_or("");
                let Ok(byte) = u8::from_str_radix(hex, 16) else {
                    return self.err(start, "invalid %-escape in a tag");
                };
                if hex.starts_with(['+', '-']) {
                    return self.err(start, "invalid %-escape in a tag");
                }
                bytes.push(byte);
                self.pos += 3;
            } else {
                if !bytes.is_empty() {
                    let Ok(s) = String::from_utf8(std::mem::take(&mut bytes)) else {
                        return self.err(start, "a %-escape in a tag is not UTF-8");
                    };
                    out.push_str(&s);
                }
                out.push(c as char);
                self.pos += 1;
            }
        }
        if !bytes.is_empty() {
            let Ok(s) = String::from_utf8(bytes) else {
                return self.err(start, "a %-escape in a tag is not UTF-8");
            };
            out.push_str(&s);
        }
        Ok(out)
    }
}

/// Entries of a mapping being read, in document order, with merge keys expanded in place.
/// Small mappings are kept free of duplicates as they grow; large ones are cleaned at the end.
#[derive(Default)]
struct Entries {
    list: Vec<(String, Value)>,
    /// Some entries were added without looking for an earlier one with the same key.
    unchecked: bool,
}

/// Up to this many entries, a duplicate key is looked for on every insert.
const SMALL_MAPPING: usize = 16;

impl Entries {
    /// Adds an entry; a `<<` key merges its mapping (or sequence of mappings) here, so that,
    /// as in go-yaml v2, merged keys override earlier ones and later keys override merged ones.
    fn push(&mut self, r: &Reader<'_>, key: Key, value: Value, at: usize) -> Result<(), Error> {
        if !key.merge {
            self.add(key.text, value);
            return Ok(());
        }
        let bad = || {
            r.syntax(
                at,
                "a merge key (<<) needs a mapping or a sequence of mappings",
            )
        };
        match value {
            Value::Mapping(m) => {
                for (k, v) in m.into_entries() {
                    self.add(k, v);
                }
            }
            Value::Sequence(items) if !r.last_alias => {
                // go-yaml merges the last mapping first, so earlier ones win.
                if items.iter().any(|v| !matches!(v, Value::Mapping(_))) {
                    return Err(bad());
                }
                for item in items.into_iter().rev() {
                    if let Value::Mapping(m) = item {
                        for (k, v) in m.into_entries() {
                            self.add(k, v);
                        }
                    }
                }
            }
            _ => return Err(bad()),
        }
        Ok(())
    }

    /// Adds one entry; a key seen before keeps its position and takes the new value.
    fn add(&mut self, key: String, value: Value) {
        if self.list.len() < SMALL_MAPPING {
            if let Some(slot) = self.list.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
                return;
            }
        } else {
            self.unchecked = true;
        }
        self.list.push((key, value));
    }

    /// The mapping, duplicates resolved: the last value wins at the first key's position.
    fn finish(self) -> Mapping {
        let list = self.list;
        if !self.unchecked {
            return Mapping::from_unique_entries(list);
        }
        let mut first: HashMap<&str, usize> = HashMap::with_capacity(list.len());
        let mut slot = Vec::with_capacity(list.len());
        let mut unique = 0usize;
        for (k, _) in &list {
            match first.get(k.as_str()) {
                Some(&s) => slot.push(s),
                None => {
                    first.insert(k, unique);
                    slot.push(unique);
                    unique += 1;
                }
            }
        }
        drop(first);
        if unique == list.len() {
            return Mapping::from_unique_entries(list);
        }
        let mut out: Vec<(String, Value)> = Vec::with_capacity(unique);
        for ((k, v), s) in list.into_iter().zip(slot) {
            if s == out.len() {
                out.push((k, v));
            } else {
                out[s].1 = v;
            }
        }
        Mapping::from_unique_entries(out)
    }
}

/// Adds a sequence item unless a shallow read drops the sequence's contents.
fn push_kept(keep: bool, items: &mut Vec<Value>, item: Value) {
    if keep {
        items.push(item);
    }
}

/// What a shallow read leaves of a scalar below its `keep` level: whether it was null.
fn placeholder(null: bool) -> Value {
    if null {
        Value::Null
    } else {
        Value::Bool(false)
    }
}

/// Values in `v` and its nesting height (a scalar is 0).
/// Nodes, bytes of text (strings and keys) and height of a value.
fn measure(v: &Value) -> (usize, usize, usize) {
    match v {
        Value::Sequence(items) => {
            let (mut nodes, mut text, mut height) = (1, 0, 0);
            for item in items {
                let (n, t, h) = measure(item);
                nodes += n;
                text += t;
                height = height.max(h);
            }
            (nodes, text, height + 1)
        }
        Value::Mapping(m) => {
            let (mut nodes, mut text, mut height) = (1, 0, 0);
            for (k, item) in m.iter() {
                let (n, t, h) = measure(item);
                nodes += n;
                text += t + k.len();
                height = height.max(h);
            }
            (nodes, text, height + 1)
        }
        Value::String(s) => (1, s.len(), 0),
        _ => (1, 0, 0),
    }
}

/// What one value costs in memory besides its text, for [`crate::Limits::max_value_bytes`]: a
/// mapping entry (key `String` and `Value`), rounded up for the allocator and vector growth
/// (measured: alias-expanded values take about 86 bytes a node).
const NODE_BYTES: usize = 80;

/// Offset of the first character go-yaml's reader refuses: control characters other than
/// tab and line breaks, DEL, C1 controls except NEL, and U+FFFE/U+FFFF.
fn first_bad_char(b: &[u8]) -> usize {
    // Bytes that may start a refused character; anything else is fine.
    static SUSPECT: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 0x20 {
            t[c] = c != 0x09 && c != 0x0a && c != 0x0d;
            c += 1;
        }
        t[0x7f] = true;
        t[0xc2] = true;
        t[0xef] = true;
        t
    };
    // Whether a block may hold a suspect byte: a branch-free test over the block that compiles
    // to vector compares, so clean ASCII text (nearly all of it) is passed over quickly.
    fn maybe_suspect(block: &[u8]) -> bool {
        block.iter().fold(false, |any, &c| {
            any | (c >= 0x7f) | ((c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r'))
        })
    }
    const BLOCK: usize = 64;
    let mut from = 0;
    loop {
        // Skip clean blocks; search byte by byte from the first block that is not clean.
        while from + BLOCK <= b.len() && !maybe_suspect(&b[from..from + BLOCK]) {
            from += BLOCK;
        }
        if from >= b.len() {
            break;
        }
        let end = (from + BLOCK).min(b.len());
        let Some(off) = b[from..end].iter().position(|&c| SUSPECT[c as usize]) else {
            from = end;
            continue;
        };
        let i = from + off;
        let c = b[i];
        let bad = match c {
            b'\t' | b'\n' | b'\r' => false,
            0..=0x1f | 0x7f => true,
            0xc2 => matches!(b.get(i + 1), Some(&n) if (0x80..=0x9f).contains(&n) && n != 0x85),
            0xef => b.get(i + 1) == Some(&0xbf) && matches!(b.get(i + 2), Some(0xbe | 0xbf)),
            _ => false,
        };
        if bad {
            return i;
        }
        from = i + 1;
    }
    usize::MAX
}

/// 1-based line and column (in characters) of byte offset `at`.
fn location(src: &str, at: usize) -> (usize, usize) {
    let at = at.min(src.len());
    let b = src.as_bytes();
    let mut line = 1;
    let mut start = 0;
    let mut i = 0;
    while i < at {
        match b[i] {
            b'\n' => {
                line += 1;
                start = i + 1;
            }
            b'\r' if b.get(i + 1) != Some(&b'\n') => {
                line += 1;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let column = src.get(start..at).map_or(at - start, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{first_bad_char, parse_stream};
    use crate::{Error, Limits, Value};

    fn docs(text: &str) -> Vec<serde_json::Value> {
        match parse_stream(text, &Limits::default()) {
            Ok(docs) => docs
                .iter()
                .map(|d| serde_json::to_value(&d.value).unwrap())
                .collect(),
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn one(text: &str) -> serde_json::Value {
        let mut d = docs(text);
        assert_eq!(d.len(), 1, "{text:?}: {d:?}");
        d.remove(0)
    }

    fn value(text: &str) -> Value {
        parse_stream(text, &Limits::default())
            .unwrap()
            .remove(0)
            .value
    }

    /// (line, column, message) of a syntax error.
    fn err(text: &str) -> (usize, usize, String) {
        match parse_stream(text, &Limits::default()) {
            Err(Error::Syntax {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("{text:?}: expected a syntax error, got {other:?}"),
        }
    }

    fn err_msg(text: &str) -> String {
        err(text).2
    }

    // ------------------------------------------------------------------ block structure

    #[test]
    fn block_mappings_nest_by_indentation() {
        assert_eq!(
            one("a: 1\nb:\n  c: x\n  d:\n    e: [1]\nf: y\n"),
            json!({"a": 1, "b": {"c": "x", "d": {"e": [1]}}, "f": true})
        );
    }

    #[test]
    fn root_may_be_indented() {
        assert_eq!(one("  a: 1\n  b: 2\n"), json!({"a": 1, "b": 2}));
    }

    #[test]
    fn sequences_at_the_parents_indentation() {
        assert_eq!(
            one("a:\n- 1\n- x: 2\n  z: 3\nb: 4\n"),
            json!({"a": [1, {"x": 2, "z": 3}], "b": 4})
        );
        assert_eq!(one("- a:\n  - x\n  b: 1\n"), json!([{"a": ["x"], "b": 1}]));
    }

    #[test]
    fn compact_nested_sequences_and_mappings() {
        assert_eq!(
            one("- - a\n  - b\n- - - c\n- d\n"),
            json!([["a", "b"], [["c"]], "d"])
        );
        assert_eq!(
            one("- name: a\n  value: 1\n-   name: b\n    value: 2\n"),
            json!([{"name": "a", "value": 1}, {"name": "b", "value": 2}])
        );
    }

    #[test]
    fn empty_values_are_null() {
        assert_eq!(
            one("a:\nb:   # comment\nc: ~\nd:\n-\n- \n"),
            json!({"a": null, "b": null, "c": null, "d": [null, null]})
        );
        assert_eq!(one("- \n- a\n-\n"), json!([null, "a", null]));
    }

    #[test]
    fn explicit_keys() {
        assert_eq!(
            one("? a\n: 1\n? b\n? |\n  c\n: - x\n"),
            json!({"a": 1, "b": null, "c\n": ["x"]})
        );
        // `? a : b` makes the key itself a mapping, which Kubernetes cannot use.
        assert!(err_msg("? a : b\n").contains("must be a scalar"));
    }

    #[test]
    fn comments_everywhere() {
        let text = "# head\na: 1 # after a value\n# between\nb: # after a key\n  # inside\n  - x # after an item\n  # between items\n  - 'y'# right after a quote\nc: d#not a comment\n# tail";
        assert_eq!(
            one(text),
            json!({"a": 1, "b": ["x", "y"], "c": "d#not a comment"})
        );
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_in_the_first_position() {
        assert_eq!(
            serde_json::to_string(&value("a: 1\nb: 2\na: 3\n")).unwrap(),
            r#"{"a":3,"b":2}"#
        );
        let big: String = (0..40).map(|i| format!("k{}: {i}\n", i % 30)).collect();
        let v = value(&big);
        let m = v.as_mapping().unwrap();
        assert_eq!(m.len(), 30);
        assert_eq!(m.get("k0"), Some(&Value::from(30i64)));
        assert_eq!(m.keys().next().unwrap(), "k0");
    }

    #[test]
    fn keys_take_their_string_form() {
        assert_eq!(
            one(
                "1: a\ntrue: b\nyes: c\n0x10: d\n1.5: e\n1e6: f\n0755: g\n\"2\": h\n.inf: i\n2001-01-01: j\n"
            ),
            json!({"1": "a", "true": "c", "16": "d", "1.5": "e", "1e+06": "f", "493": "g", "2": "h", ".inf": "i", "2001-01-01": "j"})
        );
        assert!(err_msg("~: a\n").contains("null"));
        assert!(err_msg(": a\n").contains("null"));
        assert!(err_msg("[a, b]: c\n").contains("must be a scalar"));
        assert!(err_msg("{a: 1}: c\n").contains("must be a scalar"));
        assert!(err_msg("18446744073709551615: a\n").contains("too large"));
    }

    // ------------------------------------------------------------------ plain scalars

    #[test]
    fn plain_scalars_fold_lines() {
        assert_eq!(
            one("a: one\n  two\n\n  three\n\n\n  four\nb: x y  z\n"),
            json!({"a": "one two\nthree\n\nfour", "b": "x y  z"})
        );
        assert_eq!(one("- a\n  b\n- c\n"), json!(["a b", "c"]));
        assert_eq!(one("a\nb\n"), json!("a b"));
        // A comment ends a plain scalar; what follows is no continuation.
        assert!(err_msg("k: a # c\n  b\n").contains("bad indentation"));
    }

    #[test]
    fn plain_scalars_keep_indicators_that_do_not_end_them() {
        assert_eq!(
            one("url: http://x:80/a?b=c#d\nt: a:b\nm: -1\nd: -x\nq: ?x\nc: :x\nh: a #b\n"),
            json!({"url": "http://x:80/a?b=c#d", "t": "a:b", "m": -1, "d": "-x", "q": "?x", "c": ":x", "h": "a"})
        );
    }

    #[test]
    fn yaml11_resolution_of_plain_values() {
        assert_eq!(
            one(
                "a: yes\nb: Off\nc: 0755\nd: 0o17\ne: 0x1F\nf: 1_000\ng: .5\nh: -.inf\ni: ~\nj: 2024-01-01\nk: 1e3\nl: 08\nm: 12345678901234567890\n"
            ),
            json!({"a": true, "b": false, "c": 493, "d": 15, "e": 31, "f": 1000, "g": 0.5, "h": "-.inf", "i": null, "j": "2024-01-01", "k": 1000.0, "l": 8.0, "m": 12345678901234567890.0})
        );
    }

    #[test]
    fn quoted_and_block_scalars_are_strings() {
        assert_eq!(
            one("a: 'yes'\nb: \"0755\"\nc: |\n  1\nd: >-\n  true\n"),
            json!({"a": "yes", "b": "0755", "c": "1\n", "d": "true"})
        );
    }

    // ------------------------------------------------------------------ quoted scalars

    #[test]
    fn single_quoted() {
        assert_eq!(
            one("a: 'it''s'\nb: 'one\n  two\n\n  three  '\nc: ''\nd: 'x\\y\"z'\n"),
            json!({"a": "it's", "b": "one two\nthree  ", "c": "", "d": "x\\y\"z"})
        );
    }

    #[test]
    fn double_quoted_escapes() {
        assert_eq!(
            one(r#"a: "\0\a\b\t\	\n\v\f\r\e\ \"\\\N\_\L\P\x41\u00e9\U0001F600'""#),
            json!({"a": "\0\u{7}\u{8}\t\t\n\u{b}\u{c}\r\u{1b} \"\\\u{85}\u{a0}\u{2028}\u{2029}Aé😀'"})
        );
    }

    #[test]
    fn double_quoted_folding_and_escaped_breaks() {
        assert_eq!(
            one("a: \"one\n   two  \n\n three\"\nb: \"x\\\n   y\"\nc: \"p \\\n\n  q\"\n"),
            json!({"a": "one two\nthree", "b": "xy", "c": "p \nq"})
        );
    }

    #[test]
    fn quoted_errors() {
        assert_eq!(
            err("a: 1\nb: \"abc\n"),
            (2, 4, "unterminated double-quoted string".into())
        );
        assert_eq!(
            err("b: 'abc"),
            (1, 4, "unterminated single-quoted string".into())
        );
        assert!(err_msg(r#"a: "\/""#).contains("unknown escape sequence \\/"));
        assert!(err_msg(r#"a: "\uD800""#).contains("not a Unicode character"));
        assert!(err_msg(r#"a: "\x4""#).contains("hexadecimal"));
        assert!(err_msg("a: \"x\n---\ny\"").contains("document marker"));
    }

    // ------------------------------------------------------------------ block scalars

    #[test]
    fn literal_and_folded_with_chomping() {
        let text = "a: |\n  one\n   two\n\n  three\n\n\nb: |-\n  x\n\nc: |+\n  x\n\nd: >\n  one\n  two\n\n  three\n    more\n  four\ne: >-\n  p\n  q\nf: |\n\n  lead\n";
        assert_eq!(
            one(text),
            json!({
                "a": "one\n two\n\nthree\n",
                "b": "x",
                "c": "x\n\n",
                "d": "one two\nthree\n  more\nfour\n",
                "e": "p q",
                "f": "\nlead\n",
            })
        );
    }

    #[test]
    fn block_scalar_indentation_indicator() {
        assert_eq!(
            one("a: |2\n    indented\n  base\nb: >1-\n  x\n"),
            json!({"a": "  indented\nbase\n", "b": " x"})
        );
        assert_eq!(one("- |1\n  x\n"), json!([" x\n"]));
        assert!(err_msg("a: |0\n  x\n").contains("1 to 9"));
        assert!(err_msg("a: | x\n").contains("line break"));
    }

    #[test]
    fn block_scalar_ends_at_dedent_eof_and_document_markers() {
        assert_eq!(one("a: |\n  x\n  y"), json!({"a": "x\ny"}));
        assert_eq!(one("a: |\n"), json!({"a": ""}));
        assert_eq!(
            one("a: >\n  # not a comment\nb: 1\n"),
            json!({"a": "# not a comment\n", "b": 1})
        );
        assert_eq!(
            docs("a: |\n  x\n---\nb: |\n  y\n...\n"),
            vec![json!({"a": "x\n"}), json!({"b": "y\n"})]
        );
        assert!(err_msg("a: |\n  x\n\ty\n").contains("tab"));
    }

    // ------------------------------------------------------------------ flow collections

    #[test]
    fn flow_collections() {
        assert_eq!(
            one("a: {b: 1, c: [x, 'y', \"z\"], d: {}, e: []}\n"),
            json!({"a": {"b": 1, "c": ["x", "y", "z"], "d": {}, "e": []}})
        );
        assert_eq!(
            one("a: [1,\n  2, # comment\n\n3,\n  ]\nb: {\n  x: 1,\n  \"y\":2\n}\n"),
            json!({"a": [1, 2, 3], "b": {"x": 1, "y": 2}})
        );
        assert_eq!(
            one("[a: 1, ? b : 2, ? c, {d: 3}]"),
            json!([{"a": 1}, {"b": 2}, {"c": null}, {"d": 3}])
        );
        assert_eq!(one("{a, b: , c: 1}"), json!({"a": null, "b": null, "c": 1}));
        assert_eq!(one("[a b, c\n d]"), json!(["a b", "c d"]));
        assert_eq!(
            one("{a:b, c: http://x}"),
            json!({"a:b": null, "c": "http://x"})
        );
    }

    #[test]
    fn flow_errors() {
        assert_eq!(
            err("a: [1, 2\nb: 3\n"),
            (2, 2, "expected ',' or ']' in a flow sequence".into())
        );
        assert_eq!(
            err("a: {b: 1"),
            (1, 4, "unterminated flow mapping: missing '}'".into())
        );
        assert!(err_msg("[a, , b]").contains("expected a value"));
        assert!(err_msg("[- a]").contains("not allowed inside flow"));
        assert!(err_msg("{a: |\n x}").contains("not allowed inside flow"));
        assert!(err_msg("[a\n---\n]").contains("document marker"));
        assert!(err_msg("{a\n: 1}").contains("expected ',' or '}'"));
        // go-yaml v2 ends plain scalars at '?' inside flow collections.
        assert!(err_msg("{url: http://x?y=1}").contains("expected ','"));
    }

    // ------------------------------------------------------------------ anchors and merges

    #[test]
    fn anchors_and_aliases() {
        assert_eq!(
            one("a: &x {p: 1}\nb: *x\nc: &s hello\nd: [*s, *x]\n&k key: *k\n"),
            json!({"a": {"p": 1}, "b": {"p": 1}, "c": "hello", "d": ["hello", {"p": 1}], "key": "key"})
        );
        // An anchor on its own line names the collection below it.
        assert_eq!(
            one("a: &m\n  x: 1\nb: *m\nc: &q\n- 1\nd: *q\n"),
            json!({"a": {"x": 1}, "b": {"x": 1}, "c": [1], "d": [1]})
        );
        // A later definition replaces an earlier one.
        assert_eq!(one("- &a 1\n- *a\n- &a 2\n- *a\n"), json!([1, 1, 2, 2]));
    }

    #[test]
    fn alias_errors() {
        assert_eq!(
            err("a: *nope\n"),
            (1, 4, "unknown anchor 'nope' referenced".into())
        );
        assert!(err_msg("a: &a [*a]\n").contains("contains itself"));
        assert!(err_msg("a: &a.b x\n").contains("anchor names"));
        assert!(err_msg("y: &y 1\na: &x *y\n").contains("alias cannot have"));
        // Anchors do not cross documents.
        assert!(err_msg("a: &x 1\n---\nb: *x\n").contains("unknown anchor"));
    }

    #[test]
    fn merge_keys_follow_go_yaml_v2() {
        let text = "base: &b {x: 1, v: 1}\nother: &o {v: 2, z: 2}\none:\n  <<: *b\n  v: 9\ntwo:\n  <<: [*b, *o]\nthree:\n  v: 0\n  <<: *b\nfour:\n  <<: {w: 4}\n";
        assert_eq!(
            one(text),
            json!({
                "base": {"x": 1, "v": 1},
                "other": {"v": 2, "z": 2},
                "one": {"x": 1, "v": 9},
                // The first mapping of the list wins.
                "two": {"v": 1, "z": 2, "x": 1},
                // A merge overrides keys set before it (go-yaml v2 sets them in order).
                "three": {"v": 1, "x": 1},
                "four": {"w": 4},
            })
        );
        // A quoted "<<" is an ordinary key.
        assert_eq!(one("\"<<\": 1\n"), json!({"<<": 1}));
        assert!(err_msg("a:\n  <<: 1\n").contains("merge"));
        assert!(err_msg("s: &s [{a: 1}]\nm:\n  <<: *s\n").contains("merge"));
        assert!(err_msg("m:\n  <<: [{a: 1}, 2]\n").contains("merge"));
    }

    // ------------------------------------------------------------------ tags and directives

    #[test]
    fn tags() {
        assert_eq!(
            one(
                "a: !!str 123\nb: !!int \"42\"\nc: !!float 1\nd: !!bool 'yes'\ne: !!null ''\nf: !!binary aGVsbG8=\ng: !foo 12\nh: ! 12\ni: !<tag:yaml.org,2002:int> '7'\nj: !!map {k: v}\nk: !!str\nl: !custom\n  x: 1\n"
            ),
            json!({"a": "123", "b": 42, "c": 1.0, "d": true, "e": null, "f": "hello", "g": "12", "h": "12", "i": 7, "j": {"k": "v"}, "k": "", "l": {"x": 1}})
        );
        assert_eq!(
            err("a: !!int abc\n"),
            (1, 10, "cannot decode !!str `abc` as a !!int".into())
        );
        assert!(err_msg("a: !e!x 1\n").contains("undefined tag handle !e!"));
        assert!(err_msg("a: !!binary aGk\n").contains("invalid base64"));
        assert!(err_msg("a: !!int &x &y 1\n").contains("two anchors"));
    }

    #[test]
    fn directives() {
        assert_eq!(
            docs("%YAML 1.1\n%TAG !e! tag:yaml.org,2002:\n---\na: !e!int '5'\n"),
            vec![json!({"a": 5})]
        );
        assert!(err_msg("%YAML 1.2\n---\na: 1\n").contains("only 1.1"));
        assert!(err_msg("%YAML 1.1\n%YAML 1.1\n---\n").contains("duplicate"));
        assert!(err_msg("%FOO bar\n---\n").contains("unknown directive"));
        assert!(err_msg("%YAML 1.1\na: 1\n").contains("'---'"));
        // %TAG lasts for one document only.
        assert!(
            err_msg("%TAG !e! tag:x,1:\n--- !e!a 1\n--- !e!b 2\n").contains("undefined tag handle")
        );
    }

    // ------------------------------------------------------------------ documents

    #[test]
    fn documents_are_numbered_counting_empty_ones() {
        let text = "# lead\n---\n# Source: a.yaml\napiVersion: v1\n---\n# only a comment\n---\n---\nnull\n--- {a: 1}\n--- |\n  text\n...\n--- 'x'\n";
        let d = parse_stream(text, &Limits::default()).unwrap();
        let got: Vec<(usize, usize)> = d.iter().map(|d| (d.index, d.line)).collect();
        assert_eq!(got, [(1, 4), (5, 10), (6, 11), (7, 14)]);
        assert_eq!(d[2].value, Value::from("text\n"));
    }

    #[test]
    fn document_markers() {
        assert_eq!(
            docs("a: 1\n---\nb: 2\n"),
            vec![json!({"a": 1}), json!({"b": 2})]
        );
        assert_eq!(
            docs("a: 1\n...\n---\nb: 2\n...\n"),
            vec![json!({"a": 1}), json!({"b": 2})]
        );
        assert_eq!(docs(""), Vec::<serde_json::Value>::new());
        assert_eq!(docs("# nothing\n\n"), Vec::<serde_json::Value>::new());
        assert_eq!(docs("---\n"), Vec::<serde_json::Value>::new());
        // `---` ends a plain scalar at column 0 only.
        assert_eq!(docs("a\n --- b\n"), vec![json!("a --- b")]);
        assert_eq!(docs("a: ---x\n"), vec![json!({"a": "---x"})]);
        assert!(err_msg("--- a: 1\n").contains("mapping values are not allowed here"));
        assert!(err_msg("--- - a\n").contains("not allowed here"));
        assert!(err_msg("a: 1\n...\nb: 2\n").contains("'---'"));
        assert!(err_msg("'a' b\n").contains("after the document's root node"));
    }

    #[test]
    fn bom_crlf_and_tabs() {
        assert_eq!(
            docs(
                "\u{feff}a: 1\r\nb:\r\n  - x\r\n  - |\r\n    l1\r\n    l2\r\n---\r\n\u{feff}c: 'p\r\n  q'\r\n"
            ),
            vec![json!({"a": 1, "b": ["x", "l1\nl2\n"]}), json!({"c": "p q"})]
        );
        assert_eq!(
            one("a:\tb\nc: d\t# comment\ne: [1,\t2]\n"),
            json!({"a": "b", "c": "d", "e": [1, 2]})
        );
        assert_eq!(
            err("a:\n\tb: 1\n"),
            (2, 1, "tabs are not allowed for indentation".into())
        );
        assert!(err_msg("-\ta\n").contains("tab"));
    }

    // ------------------------------------------------------------------ structural errors

    #[test]
    fn indentation_errors() {
        assert_eq!(
            err("a:\n  b: 1\n   c: 2\n"),
            (3, 5, "mapping values are not allowed here".into())
        );
        assert_eq!(
            err("a:\n    b: 1\n  c: 2\n"),
            (3, 3, "bad indentation of a mapping entry".into())
        );
        assert_eq!(
            err("a:\n  - '1'\n   - 2\n"),
            (3, 4, "bad indentation of a sequence entry".into())
        );
        // Without the quotes, "- 2" continues the plain scalar (as in go-yaml v2).
        assert_eq!(one("a:\n  - 1\n   - 2\n"), json!({"a": ["1 - 2"]}));
        assert_eq!(
            err("a: b: c\n"),
            (1, 5, "mapping values are not allowed here".into())
        );
        assert_eq!(
            err("a: 'b' c\n"),
            (1, 8, "unexpected text after a mapping value".into())
        );
        assert_eq!(
            err("a: 1\nb\n"),
            (
                2,
                1,
                "could not find expected ':' after a mapping key".into()
            )
        );
        assert!(err_msg("a: - b\n").contains("block sequence entries are not allowed here"));
        assert!(err_msg("a: 1\n- b\n").contains("found a sequence entry"));
        assert!(err_msg("a\nb: c\n").contains("single line"));
        assert!(err_msg("a: @x\n").contains("cannot start"));
        assert!(err_msg(&format!("{}: v\n", "k".repeat(1100))).contains("1024"));
    }

    #[test]
    fn errors_name_the_document_and_a_character_column() {
        match parse_stream("a: 1\n---\nb: 1\n---\nc: \"é\u{e9}\n", &Limits::default()) {
            Err(Error::Syntax {
                document,
                line,
                column,
                ..
            }) => assert_eq!((document, line, column), (3, 5, 4)),
            other => panic!("{other:?}"),
        }
        match parse_stream("a: 1\n---\nb: x\u{1}y\n", &Limits::default()) {
            Err(Error::Syntax {
                document,
                line,
                column,
                message,
            }) => {
                assert_eq!((document, line, column), (2, 3, 5));
                assert!(message.contains("U+0001"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    // ------------------------------------------------------------------ limits

    #[test]
    fn limits() {
        let small = |f: fn(&mut Limits)| {
            let mut l = Limits::default();
            f(&mut l);
            l
        };
        assert_eq!(
            parse_stream("a: 1\n", &small(|l| l.max_bytes = 3)),
            Err(Error::TooLarge { size: 5, limit: 3 })
        );
        assert_eq!(
            parse_stream("a\n---\nb\n---\nc\n", &small(|l| l.max_documents = 2)),
            Err(Error::TooManyDocuments { limit: 2 })
        );
        let deep_flow = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(matches!(
            parse_stream(&deep_flow, &Limits::default()),
            Err(Error::TooDeep { limit: 256, .. })
        ));
        let deep_block: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(matches!(
            parse_stream(&deep_block, &Limits::default()),
            Err(Error::TooDeep { .. })
        ));
        assert!(parse_stream(&"[".repeat(200), &Limits::default()).is_err());
        // Aliases cannot stack nesting past the limit either.
        let mut stacked = String::from("a0: &a0 [x]\n");
        for i in 1..300 {
            stacked.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
        }
        assert!(matches!(
            parse_stream(&stacked, &Limits::default()),
            Err(Error::TooDeep { .. })
        ));
    }

    /// `first_bad_char` as a plain scan of characters.
    fn first_bad_char_reference(b: &[u8]) -> usize {
        let text = String::from_utf8_lossy(b);
        let mut at = 0;
        for c in text.chars() {
            let bad = match c {
                '\t' | '\n' | '\r' | '\u{85}' => false,
                '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => true,
                _ => false,
            };
            if bad {
                return at;
            }
            at += c.len_utf8();
        }
        usize::MAX
    }

    #[test]
    fn bad_characters_are_found_in_any_block() {
        let specials: [&str; 7] = [
            "\u{1}", "\u{7f}", "\u{80}", "\u{9f}", "\u{fffe}", "\u{ffff}", "\u{1b}",
        ];
        let harmless: [&str; 5] = ["\t", "\r\n", "\u{85}", "é", "\u{fffd}"];
        for base in ["a: b\n", "é: ü\n"] {
            let text: String = base.repeat(60);
            for at in (0..text.len())
                .filter(|&i| text.is_char_boundary(i))
                .step_by(7)
            {
                for ins in specials.iter().chain(&harmless) {
                    let mut t = text.clone();
                    t.insert_str(at, ins);
                    assert_eq!(
                        first_bad_char(t.as_bytes()),
                        first_bad_char_reference(t.as_bytes()),
                        "{ins:?} at {at} in {base:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let refs = vec![format!("*{}", w[0]); 9].join(",");
            text.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
        }
        let r = parse_stream(&text, &Limits::default());
        assert!(
            matches!(r, Err(Error::TooManyBytes { document: 1, .. })),
            "{r:?}"
        );
        // Counted in bytes too: a tighter byte budget stops it at the same point of the input.
        let limits = Limits {
            max_value_bytes: 1 << 20,
            ..Limits::default()
        };
        let r = parse_stream(&text, &limits);
        assert!(
            matches!(
                r,
                Err(Error::TooManyBytes {
                    limit: 1_048_576,
                    ..
                })
            ),
            "{r:?}"
        );
        // The work done is bounded by the limit, not by the expansion.
        let limits = Limits {
            max_nodes: 100_000,
            ..Limits::default()
        };
        let start = std::time::Instant::now();
        let r = parse_stream(&text, &limits);
        assert!(
            matches!(r, Err(Error::TooManyNodes { limit: 100_000, .. })),
            "{r:?}"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
