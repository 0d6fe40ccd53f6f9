//! The parser: Go's `text/template/parse` package, producing the same trees and error messages.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::lex::{Item, ItemType, lex_into};

/// A byte offset into the template text.
pub(crate) type Pos = usize;

/// A parsed template: one file's top level, or one `define`/`block`.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    pub name: String,
    /// The name of the top-level template the text was parsed for (the file).
    pub parse_name: String,
    pub text: Arc<str>,
    /// Shared by the trees of files with identical text (see [`renamed`]).
    pub root: Arc<Vec<Node>>,
}

impl Tree {
    /// Go's `ErrorContext` location: `name:line:col` (column counted in bytes from 0).
    pub fn location(&self, pos: Pos) -> String {
        let pos = pos.min(self.text.len());
        let before = &self.text.as_bytes()[..pos];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let col = match before.iter().rposition(|&b| b == b'\n') {
            Some(i) => pos - (i + 1),
            None => pos,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }

    pub fn is_empty(&self) -> bool {
        is_empty_list(&self.root)
    }
}

/// Text of a template, sharing the template's source rather than copying it (charts carry
/// megabytes of CRD text that would otherwise exist twice while a set is alive).
#[derive(Clone)]
pub(crate) struct TextSpan {
    source: Arc<str>,
    start: usize,
    end: usize,
}

impl TextSpan {
    /// `piece` as a span of `source` when it lies inside it (a token's text always does),
    /// else its own copy.
    fn new(source: &Arc<str>, piece: &str) -> TextSpan {
        let base = source.as_ptr() as usize;
        let at = piece.as_ptr() as usize;
        if at >= base && at + piece.len() <= base + source.len() {
            return TextSpan {
                source: source.clone(),
                start: at - base,
                end: at - base + piece.len(),
            };
        }
        TextSpan {
            start: 0,
            end: piece.len(),
            source: Arc::from(piece),
        }
    }
}

impl std::ops::Deref for TextSpan {
    type Target = str;
    fn deref(&self) -> &str {
        &self.source[self.start..self.end]
    }
}

impl std::fmt::Debug for TextSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for TextSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

fn is_empty_list(nodes: &[Node]) -> bool {
    nodes.iter().all(|n| match n {
        Node::Text { text, .. } => text.trim_matches(|c: char| c.is_whitespace()).is_empty(),
        _ => false,
    })
}

#[derive(Debug)]
pub(crate) enum Node {
    Text {
        text: TextSpan,
    },
    Action {
        pos: Pos,
        pipe: Pipe,
    },
    If {
        pos: Pos,
        pipe: Pipe,
        list: Vec<Node>,
        else_list: Option<Vec<Node>>,
    },
    Range {
        pos: Pos,
        pipe: Pipe,
        list: Vec<Node>,
        else_list: Option<Vec<Node>>,
    },
    With {
        pos: Pos,
        pipe: Pipe,
        list: Vec<Node>,
        else_list: Option<Vec<Node>>,
    },
    Template {
        pos: Pos,
        name: String,
        pipe: Option<Pipe>,
    },
    Break {
        pos: Pos,
    },
    Continue {
        pos: Pos,
    },
}

#[derive(Debug)]
pub(crate) struct Pipe {
    pub pos: Pos,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub(crate) struct Command {
    pub pos: Pos,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub(crate) struct Number {
    pub text: String,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub int64: i64,
    pub uint64: u64,
    pub float64: f64,
}

#[derive(Debug)]
pub(crate) enum Arg {
    // Names are spans of the template's text: a chart's templates hold thousands of them,
    // and a string apiece was a tenth of parsing's allocations.
    Field {
        pos: Pos,
        idents: Vec<TextSpan>,
    },
    Chain {
        pos: Pos,
        node: Box<Arg>,
        fields: Vec<TextSpan>,
    },
    Identifier {
        pos: Pos,
        name: TextSpan,
    },
    Variable {
        pos: Pos,
        idents: Vec<TextSpan>,
    },
    Dot {
        pos: Pos,
    },
    Nil {
        pos: Pos,
    },
    Bool {
        pos: Pos,
        val: bool,
    },
    Number {
        pos: Pos,
        /// Boxed: a number's four readings are twice the size of every other argument.
        num: Box<Number>,
    },
    String {
        pos: Pos,
        quoted: TextSpan,
        /// Shared with every value the literal evaluates to.
        text: Arc<str>,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> Pos {
        match self {
            Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = node.as_ref() {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => write!(f, "{name}"),
            Arg::Variable { idents, .. } => {
                for (i, ident) in idents.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(ident)?;
                }
                Ok(())
            }
            Arg::Dot { .. } => write!(f, "."),
            Arg::Nil { .. } => write!(f, "nil"),
            Arg::Bool { val, .. } => write!(f, "{val}"),
            Arg::Number { num, .. } => write!(f, "{}", num.text),
            Arg::String { quoted, .. } => write!(f, "{quoted}"),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{}", self.decl.join(", "))?;
            write!(f, "{}", if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                write!(f, " | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node]) -> fmt::Result {
    for n in list {
        write!(f, "{n}")?;
    }
    Ok(())
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let branch = |f: &mut fmt::Formatter<'_>,
                      kw: &str,
                      pipe: &Pipe,
                      list: &[Node],
                      el: &Option<Vec<Node>>| {
            write!(f, "{{{{{kw} {pipe}}}}}")?;
            write_list(f, list)?;
            if let Some(el) = el {
                write!(f, "{{{{else}}}}")?;
                write_list(f, el)?;
            }
            write!(f, "{{{{end}}}}")
        };
        match self {
            Node::Text { text } => write!(f, "{text}"),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If {
                pipe,
                list,
                else_list,
                ..
            } => branch(f, "if", pipe, list, else_list),
            Node::Range {
                pipe,
                list,
                else_list,
                ..
            } => branch(f, "range", pipe, list, else_list),
            Node::With {
                pipe,
                list,
                else_list,
                ..
            } => branch(f, "with", pipe, list, else_list),
            Node::Template { name, pipe, .. } => match pipe {
                None => write!(f, "{{{{template {}}}}}", crate::gofmt::quote_go(name)),
                Some(p) => write!(f, "{{{{template {} {p}}}}}", crate::gofmt::quote_go(name)),
            },
            Node::Break { .. } => write!(f, "{{{{break}}}}"),
            Node::Continue { .. } => write!(f, "{{{{continue}}}}"),
        }
    }
}

/// A parse failure, formatted as Go formats it: `template: NAME:LINE: MESSAGE`.
#[derive(Debug, Clone)]
pub(crate) struct ParseError {
    pub name: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template: {}:{}: {}", self.name, self.line, self.message)
    }
}

enum Parsed {
    Node(Node),
    End,
    Else,
}

struct Parser<'f, 'i, 's> {
    /// The tokens, borrowed: the parser hands out references instead of copying a token at
    /// every look-ahead.
    items: &'i [Item],
    /// The template's text, which the tokens point into.
    src: &'s str,
    /// The message of the `Error` item the tokens end with, if they do.
    lex_error: &'i str,
    idx: usize,
    max_seen: usize,
    parse_name: String,
    text: Arc<str>,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
    has_func: &'f dyn Fn(&str) -> bool,
    trees: Vec<Tree>,
    /// Nodes, commands and arguments of the lists being parsed, stacked: each list is moved
    /// out into a vector of exactly its length when it ends. Built by pushing, a list would
    /// grow by reallocation and keep up to half its capacity unused, and most commands have one
    /// or two arguments in a vector made for four; the tree is a few times the template's size,
    /// so this is most of the memory a parse touches.
    nodes: Vec<Node>,
    cmds: Vec<Command>,
    args: Vec<Arg>,
}

type PResult<T> = Result<T, ParseError>;

/// Parses `text` as the template `name`, returning its tree and every `define`/`block` tree it
/// contains, in definition order (the top-level tree comes last).
pub(crate) fn parse(
    name: &str,
    text: &str,
    has_func: &dyn Fn(&str) -> bool,
) -> Result<Vec<Tree>, ParseError> {
    // One token list per thread, reused from template to template (see [`Item`]); taken out
    // for the parse, so that a parse on the same thread meanwhile would make its own.
    thread_local! {
        static TOKENS: RefCell<Vec<Item>> = const { RefCell::new(Vec::new()) };
    }
    let mut items = TOKENS.with(|t| std::mem::take(&mut *t.borrow_mut()));
    let parsed = parse_with(name, text, has_func, &mut items);
    // A list grown for a huge template is not kept for the rest of the process.
    if items.capacity() <= KEPT_TOKENS {
        TOKENS.with(|t| *t.borrow_mut() = items);
    }
    parsed
}

/// Tokens of the list a thread keeps between templates: 1 MiB, a template of ~500 KB.
const KEPT_TOKENS: usize = (1 << 20) / std::mem::size_of::<Item>();

fn parse_with(
    name: &str,
    text: &str,
    has_func: &dyn Fn(&str) -> bool,
    items: &mut Vec<Item>,
) -> Result<Vec<Tree>, ParseError> {
    let _stack = crate::budget::parse_scope();
    let text: Arc<str> = Arc::from(text);
    let src = text.clone();
    let lex_error = lex_into(&src, items);
    let mut p = Parser {
        items,
        src: &src,
        lex_error: lex_error.as_deref().unwrap_or(""),
        idx: 0,
        max_seen: 0,
        parse_name: name.to_string(),
        text: text.clone(),
        vars: vec!["$".into()],
        range_depth: 0,
        action_line: 0,
        has_func,
        trees: Vec::new(),
        nodes: Vec::new(),
        cmds: Vec::new(),
        args: Vec::new(),
    };
    let root = p.parse_top()?;
    let top = Tree {
        name: name.to_string(),
        parse_name: name.to_string(),
        text,
        root: Arc::new(root),
    };
    p.add_tree(top)?;
    Ok(p.trees)
}

impl<'i, 's> Parser<'_, 'i, 's> {
    /// Each parenthesis and control structure recurses: past what the stack allows, fail as Go
    /// does past 10,000 parentheses (Go's stacks grow; a Rust thread's do not).
    fn nest(&self) -> PResult<()> {
        crate::budget::stack().map_err(|_| {
            self.errorf(
                "max expression depth exceeded: parentheses and control structures nest deeper than the stack allows",
            )
        })
    }

    fn errorf(&self, msg: impl Into<String>) -> ParseError {
        let line = self.items.get(self.max_seen).map_or(1, |i| i.line as usize);
        ParseError {
            name: self.parse_name.clone(),
            line,
            message: msg.into(),
        }
    }

    fn item(&mut self, i: usize) -> &'i Item {
        let i = i.min(self.items.len().saturating_sub(1));
        if i > self.max_seen {
            self.max_seen = i;
        }
        &self.items[i]
    }
    fn next(&mut self) -> &'i Item {
        let it = self.item(self.idx);
        self.idx += 1;
        it
    }
    fn peek(&mut self) -> &'i Item {
        self.item(self.idx)
    }
    fn backup(&mut self) {
        self.idx -= 1;
    }
    fn next_non_space(&mut self) -> &'i Item {
        loop {
            let t = self.next();
            if t.typ != ItemType::Space {
                return t;
            }
        }
    }
    fn peek_non_space(&mut self) -> &'i Item {
        let t = self.next_non_space();
        self.backup();
        t
    }
    fn expect(&mut self, typ: ItemType, context: &str) -> PResult<&'i Item> {
        let t = self.next_non_space();
        if t.typ != typ {
            return Err(self.unexpected(t, context));
        }
        Ok(t)
    }
    fn unexpected(&self, token: &Item, context: &str) -> ParseError {
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line as usize {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if self.lex_error.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{}{extra}", self.lex_error));
        }
        self.errorf(format!(
            "unexpected {} in {context}",
            token.display(self.src)
        ))
    }

    fn add_tree(&mut self, tree: Tree) -> PResult<()> {
        if let Some(i) = self.trees.iter().position(|t| t.name == tree.name) {
            if self.trees[i].is_empty() {
                self.trees[i] = tree;
                return Ok(());
            }
            if !tree.is_empty() {
                return Err(self.errorf(format!(
                    "template: multiple definition of template {}",
                    crate::gofmt::quote_go(&tree.name)
                )));
            }
            return Ok(());
        }
        self.trees.push(tree);
        Ok(())
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let base = self.nodes.len();
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let save = self.idx;
                self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.idx = save;
            }
            match self.text_or_action()? {
                Parsed::Node(n) => self.nodes.push(n),
                Parsed::End => return Err(self.errorf("unexpected {{end}}")),
                Parsed::Else => return Err(self.errorf("unexpected {{else}}")),
            }
        }
        Ok(self.nodes.drain(base..).collect())
    }

    fn with_fresh_vars<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let r = f(self);
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        r
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let tok = self.next_non_space();
        if tok.typ != ItemType::String && tok.typ != ItemType::RawString {
            return Err(self.unexpected(tok, context));
        }
        let name = unquote(tok.val(self.src)).map_err(|e| self.errorf(e))?;
        self.expect(ItemType::RightDelim, context)?;
        let (list, end) = self.with_fresh_vars(|p| p.item_list())?;
        if let Parsed::Else = end {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        let tree = Tree {
            name,
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root: Arc::new(list),
        };
        self.add_tree(tree)
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Parsed)> {
        let base = self.nodes.len();
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => self.nodes.push(n),
                other => return Ok((self.nodes.drain(base..).collect(), other)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let tok = self.next_non_space();
        match tok.typ {
            ItemType::Text => Ok(Parsed::Node(Node::Text {
                text: TextSpan::new(&self.text, tok.val(self.src)),
            })),
            ItemType::LeftDelim => {
                let saved = self.action_line;
                self.action_line = tok.line as usize;
                let r = self.action();
                self.action_line = saved;
                r
            }
            _ => Err(self.unexpected(tok, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let tok = self.next_non_space();
        match tok.typ {
            ItemType::Block => return self.block_control().map(Parsed::Node),
            ItemType::Break | ItemType::Continue => {
                let kw = if tok.typ == ItemType::Break {
                    "break"
                } else {
                    "continue"
                };
                let t = self.next_non_space();
                if t.typ != ItemType::RightDelim {
                    return Err(self.unexpected(t, &format!("{{{{{kw}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{{{{{kw}}}}} outside {{{{range}}}}")));
                }
                return Ok(Parsed::Node(if kw == "break" {
                    Node::Break { pos: tok.pos() }
                } else {
                    Node::Continue { pos: tok.pos() }
                }));
            }
            ItemType::Else => {
                let peek = self.peek_non_space();
                if peek.typ == ItemType::If || peek.typ == ItemType::With {
                    return Ok(Parsed::Else);
                }
                let _t = self.expect(ItemType::RightDelim, "else")?;
                return Ok(Parsed::Else);
            }
            ItemType::End => {
                let _t = self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemType::If => return self.control("if").map(Parsed::Node),
            ItemType::Range => return self.control("range").map(Parsed::Node),
            ItemType::With => return self.control("with").map(Parsed::Node),
            ItemType::Template => return self.template_control().map(Parsed::Node),
            _ => {}
        }
        self.backup();
        let tok = self.peek();
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Parsed::Node(Node::Action {
            pos: tok.pos(),
            pipe,
        }))
    }

    fn control(&mut self, context: &str) -> PResult<Node> {
        self.nest()?;
        let mark = self.vars.len();
        let r = self.control_inner(context);
        self.vars.truncate(mark);
        r
    }

    fn control_inner(&mut self, context: &str) -> PResult<Node> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = r?;
        let mut else_list = None;
        match next {
            Parsed::End => {}
            Parsed::Else => {
                if context == "if" && self.peek().typ == ItemType::If {
                    self.next();
                    else_list = Some(vec![self.control("if")?]);
                } else if context == "with" && self.peek().typ == ItemType::With {
                    self.next();
                    else_list = Some(vec![self.control("with")?]);
                } else {
                    let (el, next) = self.item_list()?;
                    if !matches!(next, Parsed::End) {
                        return Err(self.errorf("expected end; found {{else}}"));
                    }
                    else_list = Some(el);
                }
            }
            Parsed::Node(_) => unreachable!("item_list returns only end/else"),
        }
        let pos = pipe.pos;
        Ok(match context {
            "if" => Node::If {
                pos,
                pipe,
                list,
                else_list,
            },
            "range" => Node::Range {
                pos,
                pipe,
                list,
                else_list,
            },
            _ => Node::With {
                pos,
                pipe,
                list,
                else_list,
            },
        })
    }

    fn parse_template_name(&mut self, tok: &Item, context: &str) -> PResult<String> {
        match tok.typ {
            ItemType::String | ItemType::RawString => {
                unquote(tok.val(self.src)).map_err(|e| self.errorf(e))
            }
            _ => Err(self.unexpected(tok, context)),
        }
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let tok = self.next_non_space();
        let name = self.parse_template_name(tok, context)?;
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        let (list, end) = self.with_fresh_vars(|p| p.item_list())?;
        if let Parsed::Else = end {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        let tree = Tree {
            name: name.clone(),
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root: Arc::new(list),
        };
        self.add_tree(tree)?;
        Ok(Node::Template {
            pos: tok.pos(),
            name,
            pipe: Some(pipe),
        })
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let tok = self.next_non_space();
        let name = self.parse_template_name(tok, context)?;
        let mut pipe = None;
        if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, ItemType::RightDelim)?);
        }
        Ok(Node::Template {
            pos: tok.pos(),
            name,
            pipe,
        })
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let tok = self.peek_non_space();
        let mut pipe = Pipe {
            pos: tok.pos(),
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        let base = self.cmds.len();
        'decls: loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            let save = self.idx;
            self.next_non_space();
            let token_after = self.peek();
            let next = self.peek_non_space();
            match next.typ {
                ItemType::Assign | ItemType::Declare => {
                    pipe.is_assign = next.typ == ItemType::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val(self.src).to_string());
                    self.vars.push(v.val(self.src).to_string());
                    break;
                }
                ItemType::Char if next.val(self.src) == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val(self.src).to_string());
                    self.vars.push(v.val(self.src).to_string());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().typ {
                            ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                                continue 'decls;
                            }
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => {
                    let _ = token_after;
                    self.idx = save;
                    break;
                }
            }
        }
        loop {
            let tok = self.next_non_space();
            if tok.typ == end {
                pipe.cmds = self.cmds.drain(base..).collect();
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match tok.typ {
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    self.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(tok, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool { .. }
                    | Arg::Dot { .. }
                    | Arg::Nil { .. }
                    | Arg::Number { .. }
                    | Arg::String { .. }
            ) {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos();
        let base = self.args.len();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                self.args.push(op);
            }
            let tok = self.next();
            match tok.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(tok, "operand")),
            }
            break;
        }
        if self.args.len() == base {
            return Err(self.errorf("empty command"));
        }
        Ok(Command {
            pos,
            args: self.args.drain(base..).collect(),
        })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ != ItemType::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos();
        // `term` made room for these in a field's or variable's names.
        let push_fields = |p: &mut Self, names: &mut Vec<TextSpan>| {
            while p.peek().typ == ItemType::Field {
                let name = &p.next().val(p.src)[1..];
                names.push(TextSpan::new(&p.text, name));
            }
        };
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                push_fields(self, &mut idents);
                Arg::Field { pos, idents }
            }
            Arg::Variable { mut idents, .. } => {
                push_fields(self, &mut idents);
                Arg::Variable { pos, idents }
            }
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                return Err(self.errorf(format!(
                    "unexpected . after term {}",
                    crate::gofmt::quote_go(&node.to_string())
                )));
            }
            other => {
                let mut fields = Vec::with_capacity(self.fields_ahead());
                push_fields(self, &mut fields);
                Arg::Chain {
                    pos,
                    node: Box::new(other),
                    fields,
                }
            }
        }))
    }

    /// How many `Field` tokens come next: the names a field chain continues with.
    fn fields_ahead(&self) -> usize {
        self.items[self.idx.min(self.items.len())..]
            .iter()
            .take_while(|t| t.typ == ItemType::Field)
            .count()
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let tok = self.next_non_space();
        let pos = tok.pos();
        Ok(Some(match tok.typ {
            ItemType::Identifier => {
                if !(self.has_func)(tok.val(self.src)) {
                    return Err(self.errorf(format!(
                        "function {} not defined",
                        crate::gofmt::quote_go(tok.val(self.src))
                    )));
                }
                Arg::Identifier {
                    pos,
                    name: TextSpan::new(&self.text, tok.val(self.src)),
                }
            }
            ItemType::Dot => Arg::Dot { pos },
            ItemType::Nil => Arg::Nil { pos },
            ItemType::Variable => {
                let idents = split_var(&self.text, tok.val(self.src), self.fields_ahead());
                if !self.vars.iter().any(|v| *v == *idents[0]) {
                    return Err(self.errorf(format!(
                        "undefined variable {}",
                        crate::gofmt::quote_go(&idents[0])
                    )));
                }
                Arg::Variable { pos, idents }
            }
            ItemType::Field => {
                let mut idents = Vec::with_capacity(1 + self.fields_ahead());
                idents.push(TextSpan::new(&self.text, &tok.val(self.src)[1..]));
                Arg::Field { pos, idents }
            }
            ItemType::Bool => Arg::Bool {
                pos,
                val: tok.val(self.src) == "true",
            },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                let num = new_number(tok.val(self.src), tok.typ).map_err(|e| self.errorf(e))?;
                Arg::Number {
                    pos,
                    num: Box::new(num),
                }
            }
            ItemType::LeftParen => {
                self.nest()?;
                let p = self.pipeline("parenthesized pipeline", ItemType::RightParen)?;
                Arg::Pipe(Box::new(p))
            }
            ItemType::String | ItemType::RawString => {
                let text = unquote(tok.val(self.src)).map_err(|e| self.errorf(e))?;
                Arg::String {
                    pos,
                    quoted: TextSpan::new(&self.text, tok.val(self.src)),
                    text: Arc::from(text),
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// A variable's names (`$x.a.b`), with room for `more` field names after them.
fn split_var(source: &Arc<str>, v: &str, more: usize) -> Vec<TextSpan> {
    let dots = memchr::memchr_iter(b'.', v.as_bytes()).count();
    let mut idents = Vec::with_capacity(dots + 1 + more);
    idents.extend(v.split('.').map(|name| TextSpan::new(source, name)));
    idents
}

/// Go's `strconv.Unquote` for the three quote styles.
pub(crate) fn unquote(s: &str) -> Result<String, String> {
    let err = || "invalid syntax".to_string();
    let b = s.as_bytes();
    if b.len() < 2 {
        return Err(err());
    }
    let q = b[0];
    if q != b[b.len() - 1] {
        return Err(err());
    }
    let body = &s[1..s.len() - 1];
    match q {
        b'`' => {
            if body.contains('`') {
                return Err(err());
            }
            Ok(body.replace('\r', ""))
        }
        // Most strings have no escape: one vectorised scan instead of a char-by-char pattern.
        b'"' if memchr::memchr3(b'\\', b'"', b'\n', body.as_bytes()).is_none() => {
            Ok(body.to_string())
        }
        b'"' | b'\'' => {
            let mut out = String::new();
            let mut rest = body;
            while !rest.is_empty() {
                let (c, tail) = unquote_char(rest, q as char).ok_or_else(err)?;
                out.push_str(&c);
                rest = tail;
                if q == b'\'' && !rest.is_empty() {
                    return Err(err());
                }
            }
            Ok(out)
        }
        _ => Err(err()),
    }
}

/// One character of a quoted literal; returns its UTF-8 text (a `\xNN` byte may not be valid
/// UTF-8 on its own, in which case it is kept as U+FFFD).
fn unquote_char(s: &str, quote: char) -> Option<(String, &str)> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if c == quote && quote != '`' {
        return None;
    }
    if c != '\\' {
        return Some((c.to_string(), chars.as_str()));
    }
    let e = chars.next()?;
    let rest = chars.as_str();
    let simple = match e {
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        '\\' => Some('\\'),
        '\'' if quote == '\'' => Some('\''),
        '"' if quote == '"' => Some('"'),
        _ => None,
    };
    if let Some(c) = simple {
        return Some((c.to_string(), rest));
    }
    let hex = |n: usize, rest: &str| -> Option<(u32, usize)> {
        if rest.len() < n || !rest.is_char_boundary(n) {
            return None;
        }
        u32::from_str_radix(&rest[..n], 16).ok().map(|v| (v, n))
    };
    match e {
        'x' => {
            let (v, n) = hex(2, rest)?;
            let c = if v < 0x80 {
                char::from_u32(v)?.to_string()
            } else {
                '\u{FFFD}'.to_string()
            };
            Some((c, &rest[n..]))
        }
        'u' => {
            let (v, n) = hex(4, rest)?;
            Some((char::from_u32(v)?.to_string(), &rest[n..]))
        }
        'U' => {
            let (v, n) = hex(8, rest)?;
            Some((char::from_u32(v)?.to_string(), &rest[n..]))
        }
        '0'..='7' => {
            if rest.len() < 2 || !rest.is_char_boundary(2) {
                return None;
            }
            let v = u32::from_str_radix(&format!("{e}{}", &rest[..2]), 8).ok()?;
            if v > 255 {
                return None;
            }
            let c = if v < 0x80 {
                char::from_u32(v)?.to_string()
            } else {
                '\u{FFFD}'.to_string()
            };
            Some((c, &rest[2..]))
        }
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`-style integer parsing with base prefixes and underscores.
fn parse_go_int(text: &str) -> Option<(bool, u128)> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    // Underscores only between digits (or after a base prefix).
    if digits.contains('_') {
        let with_prefix = if prefixed {
            format!("0{digits}")
        } else {
            digits.clone()
        };
        let b = with_prefix.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c == b'_' && (i == 0 || i + 1 == b.len() || b[i - 1] == b'_' || b[i + 1] == b'_') {
                return None;
            }
        }
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    u128::from_str_radix(&clean, radix).ok().map(|v| (neg, v))
}

pub(crate) fn new_number(text: &str, typ: ItemType) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        is_int: false,
        is_uint: false,
        is_float: false,
        int64: 0,
        uint64: 0,
        float64: 0.0,
    };
    if typ == ItemType::CharConstant {
        let (c, tail) =
            unquote_char(&text[1..], '\'').ok_or_else(|| "invalid syntax".to_string())?;
        if tail != "'" {
            return Err(format!("malformed character constant: {text}"));
        }
        let r = c.chars().next().map(|c| c as u32).unwrap_or(0xFFFD);
        n.int64 = r as i64;
        n.is_int = true;
        n.uint64 = r as u64;
        n.is_uint = true;
        n.float64 = r as f64;
        n.is_float = true;
        return Ok(n);
    }
    if typ == ItemType::Complex || text.ends_with('i') {
        return Err(format!(
            "illegal number syntax: {}",
            crate::gofmt::quote_go(text)
        ));
    }
    if let Some((neg, v)) = parse_go_int(text) {
        if !neg && v <= u64::MAX as u128 {
            n.is_uint = true;
            n.uint64 = v as u64;
        }
        let signed: i128 = if neg { -(v as i128) } else { v as i128 };
        if signed >= i64::MIN as i128 && signed <= i64::MAX as i128 {
            n.is_int = true;
            n.int64 = signed as i64;
            if signed == 0 {
                n.is_uint = true;
                n.uint64 = 0;
            }
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float64 = n.int64 as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float64 = n.uint64 as f64;
    } else if let Some(f) = parse_go_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!(
                "integer overflow: {}",
                crate::gofmt::quote_go(text)
            ));
        }
        n.is_float = true;
        n.float64 = f;
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            n.is_int = true;
            n.int64 = f as i64;
        }
        if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 {
            n.is_uint = true;
            n.uint64 = f as u64;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!(
            "illegal number syntax: {}",
            crate::gofmt::quote_go(text)
        ));
    }
    Ok(n)
}

fn parse_go_float(text: &str) -> Option<f64> {
    let t: String = text.chars().filter(|&c| c != '_').collect();
    let lower = t.to_ascii_lowercase();
    let (neg, body) = match lower.as_bytes().first() {
        Some(b'-') => (true, &lower[1..]),
        Some(b'+') => (false, &lower[1..]),
        _ => (false, lower.as_str()),
    };
    let v = if let Some(h) = body.strip_prefix("0x") {
        // Hex float: mantissa p exponent.
        let (mant, exp) = h.split_once('p')?;
        let exp: i32 = exp.parse().ok()?;
        let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
        let mut v = 0f64;
        for c in ip.chars() {
            v = v * 16.0 + c.to_digit(16)? as f64;
        }
        let mut scale = 1.0 / 16.0;
        for c in fp.chars() {
            v += c.to_digit(16)? as f64 * scale;
            scale /= 16.0;
        }
        v * 2f64.powi(exp)
    } else {
        if body.is_empty()
            || !body
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Trees by name, with Go's replacement rule: an empty definition never replaces a non-empty one.
/// The trees [`parse`] returns for `to` when it returned `trees` for `from` and both files hold
/// the same text: only the file's own name changes, the nodes are shared. `None` when a
/// `define` carries the file's name (renaming would rename it too): parse that one.
pub(crate) fn renamed(trees: &[Tree], from: &str, to: &str) -> Option<Vec<Tree>> {
    let (top, defines) = trees.split_last()?;
    if top.name != from || defines.iter().any(|t| t.name == from || t.name == to) {
        return None;
    }
    Some(
        trees
            .iter()
            .map(|t| Tree {
                name: if t.name == from {
                    to.to_string()
                } else {
                    t.name.clone()
                },
                parse_name: to.to_string(),
                text: t.text.clone(),
                root: t.root.clone(),
            })
            .collect(),
    )
}

pub(crate) fn associate(map: &mut HashMap<String, Arc<Tree>>, tree: Tree) {
    if let Some(old) = map.get(&tree.name)
        && tree.is_empty()
        && !old.is_empty()
    {
        return;
    }
    map.insert(tree.name.clone(), Arc::new(tree));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Vec<Tree>, ParseError> {
        parse("t", s, &|n| n == "printf" || n == "eq")
    }

    #[test]
    fn round_trips_node_strings() {
        let trees = p("{{if eq .A 1}}x{{else}}y{{end}}").unwrap();
        assert_eq!(
            trees[0].root[0].to_string(),
            "{{if eq .A 1}}x{{else}}y{{end}}"
        );
    }

    #[test]
    fn errors_like_go() {
        assert_eq!(
            p("{{end}}").unwrap_err().to_string(),
            "template: t:1: unexpected {{end}}"
        );
        assert_eq!(
            p("{{foo}}").unwrap_err().to_string(),
            "template: t:1: function \"foo\" not defined"
        );
        assert_eq!(
            p("{{if .x}}").unwrap_err().to_string(),
            "template: t:1: unexpected EOF"
        );
        assert_eq!(
            p("{{$x}}").unwrap_err().to_string(),
            "template: t:1: undefined variable \"$x\""
        );
        assert_eq!(
            p("\n{{.x").unwrap_err().to_string(),
            "template: t:2: unclosed action"
        );
    }

    #[test]
    fn defines_are_collected() {
        let trees = p(r#"{{define "a"}}A{{end}}{{block "b" .}}B{{end}}"#).unwrap();
        let names: Vec<_> = trees.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b", "t"]);
    }

    #[test]
    fn numbers() {
        let n = new_number("0x10", ItemType::Number).unwrap();
        assert_eq!(n.int64, 16);
        let n = new_number("1e3", ItemType::Number).unwrap();
        assert!(n.is_int && n.is_float);
        let n = new_number("'a'", ItemType::CharConstant).unwrap();
        assert_eq!(n.int64, 97);
    }

    /// The thread's token list serves parse after parse, whatever came before: a larger
    /// template, a failed parse, a lexer error.
    #[test]
    fn a_thread_parses_alike_after_any_earlier_parse() {
        let shown = |trees: &[Tree]| -> Vec<String> {
            trees
                .iter()
                .map(|t| {
                    format!(
                        "{} {:?}",
                        t.name,
                        t.root.iter().map(|n| n.to_string()).collect::<Vec<_>>()
                    )
                })
                .collect()
        };
        let short = "a {{- printf \"%s\" .b }} c\n{{ if eq .x 1 }}y{{ end }}";
        let alone = std::thread::scope(|s| s.spawn(|| shown(&p(short).unwrap())).join())
            .expect("parse thread");
        let large = "{{ define \"d\" }}{{ .a.b }}{{ end }}\n".repeat(2_000);
        for before in [
            large.as_str(),
            "{{ .a",
            "{{ printf }} {{ end }}",
            "{{ foo }}",
        ] {
            let _ = p(before);
            assert_eq!(shown(&p(short).unwrap()), alone, "after {before:.20}");
        }
        assert_eq!(
            p("{{ .a").unwrap_err().to_string(),
            "template: t:1: unclosed action"
        );
    }
}
