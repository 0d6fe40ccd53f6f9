//! The executor: Go's `text/template/exec.go` semantics over [`Value`]s.

use std::collections::HashMap;
use std::sync::Arc;

use crate::context::{ExecContext, Limit};
use crate::error::{Error, ExecError};
use crate::funcs::{FuncError, FuncMap, Function, Sig, Ty, builtin};
use crate::gofmt;
use crate::parse::{self, Arg, Command, Node, Pipe, Tree};
use crate::value::{ElemType, Value};

/// How a missing map key is treated (Go's `missingkey` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// Go's default: the invalid value, printed `<no value>`.
    Invalid,
    /// The zero value of the map's element type (Helm's setting).
    #[default]
    Zero,
    /// An error (Helm's `--strict`).
    Error,
}

/// Options of a template set.
#[derive(Clone, Debug)]
pub struct Options {
    /// Treatment of missing map keys.
    pub missing_key: MissingKey,
    /// The set's own name: it appears in "no template associated with template" errors and is
    /// the name `tpl` parses its text under (Helm's `gotpl`).
    pub set_name: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            missing_key: MissingKey::Zero,
            set_name: "gotpl".into(),
        }
    }
}

/// Below this much template text, [`TemplateSet::parse_all`] stays on the calling thread:
/// starting a thread costs more than parsing a small chart.
const PARALLEL_PARSE_BYTES: usize = 256 << 10;

type Parsed = Result<Vec<Tree>, parse::ParseError>;

/// A template parsed apart from any set ([`TemplateSet::parse_detached`]), to join one later
/// ([`TemplateSet::parse_all_with`]).
pub struct ParsedTemplate {
    name: String,
    parsed: Parsed,
}

impl std::fmt::Debug for ParsedTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedTemplate")
            .field("name", &self.name)
            .field("ok", &self.parsed.is_ok())
            .finish()
    }
}

impl ParsedTemplate {
    /// The result as if the text had been parsed as `name`; `None` when only parsing it again
    /// gives that (a `define` named like either file, or an error, whose message names the
    /// file).
    fn adopt(self, name: &str) -> Option<Parsed> {
        if self.name == name {
            return Some(self.parsed);
        }
        match self.parsed {
            Ok(trees) => parse::renamed(&trees, &self.name, name).map(Ok),
            Err(_) => None,
        }
    }
}

/// Parses `templates` on `threads` threads, largest first so that one big template does not
/// finish last; returns every result in input order.
fn parse_in_parallel(
    templates: &[(&str, &str)],
    threads: usize,
    has: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Parsed> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut by_size: Vec<usize> = (0..templates.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(templates[i].1.len()));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = by_size.get(k) else {
                return done;
            };
            let (name, text) = templates[i];
            done.push((i, parse::parse(name, text, has)));
        }
    };
    let mut all = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            // A parser panic is a bug; surface it on the calling thread.
            all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    });
    // Every index was claimed exactly once, so sorting restores input order.
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

/// For each template, the index of the first template with the same text (its own index when
/// it is the first).
fn first_of_same_text(templates: &[(&str, &str)]) -> Vec<usize> {
    // Keyed by length and a few bytes, confirmed by comparing the texts: hashing whole texts
    // would cost as much as comparing the few that collide.
    let key = |text: &str| {
        let b = text.as_bytes();
        let edge = |s: &[u8]| s.iter().fold(0u64, |h, &x| h.rotate_left(5) ^ u64::from(x));
        (
            b.len(),
            edge(&b[..b.len().min(32)]),
            edge(&b[b.len().saturating_sub(32)..]),
        )
    };
    let mut seen: HashMap<(usize, u64, u64), Vec<usize>> = HashMap::new();
    let mut first = Vec::with_capacity(templates.len());
    for (i, (_, text)) in templates.iter().enumerate() {
        let same = seen.entry(key(text)).or_default();
        match same.iter().find(|&&j| templates[j].1 == *text) {
            Some(&j) => first.push(j),
            None => {
                same.push(i);
                first.push(i);
            }
        }
    }
    first
}

/// A set of named templates sharing definitions, like Go's `*template.Template` with its
/// associated templates. Parse once, execute many times, from many threads.
#[derive(Clone)]
pub struct TemplateSet {
    trees: HashMap<String, Arc<Tree>>,
    funcs: Arc<FuncMap>,
    options: Options,
}

impl std::fmt::Debug for TemplateSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateSet")
            .field("templates", &self.names())
            .finish()
    }
}

impl TemplateSet {
    /// An empty set with these functions (Go's builtins come on top unless overridden).
    pub fn new(funcs: FuncMap) -> Self {
        TemplateSet {
            trees: HashMap::new(),
            funcs: Arc::new(funcs),
            options: Options::default(),
        }
    }

    /// An empty set with Helm's function map.
    pub fn helm() -> Self {
        // The map is the same for every set (two hundred entries): build it once per process.
        static HELM: std::sync::OnceLock<Arc<FuncMap>> = std::sync::OnceLock::new();
        TemplateSet {
            trees: HashMap::new(),
            funcs: HELM.get_or_init(|| Arc::new(FuncMap::helm())).clone(),
            options: Options::default(),
        }
    }

    /// Sets the options.
    pub fn set_options(&mut self, options: Options) -> &mut Self {
        self.options = options;
        self
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The functions.
    pub fn funcs(&self) -> &FuncMap {
        &self.funcs
    }

    /// Parses `text` as the template `name` (Go's `t.New(name).Parse(text)`): its `define`s
    /// join the set, replacing earlier ones of the same name unless they are empty.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let funcs = self.funcs.clone();
        let has = |n: &str| funcs.contains(n) || builtin::is_builtin(n);
        let trees = parse::parse(name, text, &has).map_err(Error::from)?;
        for t in trees {
            parse::associate(&mut self.trees, t);
        }
        Ok(())
    }

    /// Parses each `(name, text)` like [`TemplateSet::parse`], in order: later `define`s
    /// replace earlier ones exactly as that many `parse` calls would. Large inputs are parsed
    /// on every available core (parsing is independent per template; only joining the set is
    /// ordered). On failure, the first template in order that does not parse is returned by
    /// its index with its error, and the set is left unchanged.
    pub fn parse_all(&mut self, templates: &[(&str, &str)]) -> Result<(), (usize, Error)> {
        self.parse_all_with(templates, &mut |_| None)
    }

    /// [`TemplateSet::parse_all`], taking from `ahead` what was already parsed: `ahead(i)` is
    /// the [`ParsedTemplate`] of `templates[i]`'s text if there is one (parsed under any name:
    /// it is renamed, or parsed again when renaming cannot be exact). Templates `ahead` has no
    /// result for are parsed here. The outcome is the same as `parse_all`'s.
    pub fn parse_all_with(
        &mut self,
        templates: &[(&str, &str)],
        ahead: &mut dyn FnMut(usize) -> Option<ParsedTemplate>,
    ) -> Result<(), (usize, Error)> {
        let funcs = self.funcs.clone();
        let has = |n: &str| funcs.contains(n) || builtin::is_builtin(n);
        // A library chart vendored into every subchart (Bitnami's `common`) brings the same
        // text many times: each distinct text is parsed once, its copies share the nodes.
        let first = first_of_same_text(templates);
        let distinct: Vec<usize> = (0..templates.len()).filter(|&i| first[i] == i).collect();
        let mut results: Vec<Option<Parsed>> = distinct
            .iter()
            .map(|&i| ahead(i).and_then(|p| p.adopt(templates[i].0)))
            .collect();
        let missing: Vec<usize> = (0..distinct.len())
            .filter(|&k| results[k].is_none())
            .collect();
        let total: usize = missing
            .iter()
            .map(|&k| templates[distinct[k]].1.len())
            .sum();
        let threads = if total < PARALLEL_PARSE_BYTES {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(missing.len())
        };
        if threads <= 1 {
            // In order, stopping at the first failure (nothing after it is needed).
            for k in 0..distinct.len() {
                if results[k].is_none() {
                    let (name, text) = templates[distinct[k]];
                    results[k] = Some(parse::parse(name, text, &has));
                }
                if matches!(results[k], Some(Err(_))) {
                    break;
                }
            }
        } else {
            let work: Vec<(&str, &str)> = missing.iter().map(|&k| templates[distinct[k]]).collect();
            for (k, r) in missing.iter().zip(parse_in_parallel(&work, threads, &has)) {
                results[*k] = Some(r);
            }
        }
        // Joined in input order; the first template that does not parse, in that order, is the
        // error.
        let mut slot_of = vec![usize::MAX; templates.len()];
        for (k, &i) in distinct.iter().enumerate() {
            slot_of[i] = k;
        }
        // A text's trees are moved into the set unless a later copy still needs them.
        let mut copied = vec![false; templates.len()];
        for (i, &j) in first.iter().enumerate() {
            copied[j] |= j != i;
        }
        let mut joined: Vec<Vec<Tree>> = Vec::with_capacity(templates.len());
        for (i, (name, text)) in templates.iter().enumerate() {
            let j = first[i];
            let trees = if j == i {
                let slot = &mut results[slot_of[i]];
                match slot {
                    Some(Ok(trees)) if !copied[i] => std::mem::take(trees),
                    Some(Ok(trees)) => trees.clone(),
                    Some(Err(e)) => return Err((i, Error::from(e.clone()))),
                    None => unreachable!("parsing stops only after a failure"),
                }
            } else {
                let Some(Ok(original)) = &results[slot_of[j]] else {
                    unreachable!("an earlier copy failed, so this one was not reached")
                };
                match parse::renamed(original, templates[j].0, name) {
                    Some(trees) => trees,
                    None => parse::parse(name, text, &has).map_err(|e| (i, Error::from(e)))?,
                }
            };
            joined.push(trees);
        }
        // Grown once: a chart brings hundreds of definitions.
        self.trees.reserve(joined.iter().map(Vec::len).sum());
        for trees in joined {
            for t in trees {
                parse::associate(&mut self.trees, t);
            }
        }
        Ok(())
    }

    /// Parses `text` as the template `name` with this set's functions, apart from the set:
    /// any thread can, ahead of [`TemplateSet::parse_all_with`].
    pub fn parse_detached(&self, name: &str, text: &str) -> ParsedTemplate {
        let funcs = self.funcs.clone();
        let has = |n: &str| funcs.contains(n) || builtin::is_builtin(n);
        ParsedTemplate {
            name: name.to_owned(),
            parsed: parse::parse(name, text, &has),
        }
    }

    /// Whether a template of that name is defined.
    pub fn contains(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The names of all templates, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.trees.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Executes the template `name` with `data` as dot (Go's `ExecuteTemplate`).
    pub fn execute(
        &self,
        name: &str,
        data: &Value,
        ctx: &mut ExecContext,
    ) -> Result<String, Error> {
        let scope = Scope {
            trees: &self.trees,
            parent: None,
        };
        // Output is mostly the template's own text (manifests, CRDs): start at its size rather
        // than growing a large output through a dozen reallocations.
        let hint = self.trees.get(name).map_or(0, |t| t.text.len());
        let mut out = String::with_capacity(hint.min(ctx.limits.max_output_bytes));
        ctx.begin();
        let session = crate::budget::enter(ctx);
        let mut cx = CallCtx {
            ctx,
            scope: &scope,
            funcs: &self.funcs,
            options: &self.options,
            depth: 0,
        };
        let result = cx.run_template(name, data, &mut out);
        session.finish(ctx);
        match result {
            Ok(()) => Ok(out),
            Err(Fail::Limit(limit)) => Err(Error::Limit {
                limit,
                template: ctx.limit_template.take().unwrap_or_else(|| name.to_owned()),
            }),
            Err(Fail::NoTemplate(msg)) => Err(Error::NoTemplate { message: msg }),
            Err(Fail::Exec(e)) => Err(Error::Exec(e)),
        }
    }
}

/// Template lookup through `tpl` overlays.
pub(crate) struct Scope<'a> {
    trees: &'a HashMap<String, Arc<Tree>>,
    parent: Option<&'a Scope<'a>>,
}

impl Scope<'_> {
    fn lookup(&self, name: &str) -> Option<Arc<Tree>> {
        match self.trees.get(name) {
            Some(t) => Some(t.clone()),
            None => self.parent.and_then(|p| p.lookup(name)),
        }
    }
}

pub(crate) enum Fail {
    Exec(ExecError),
    Limit(Limit),
    NoTemplate(String),
}

impl Fail {
    fn message(&self) -> String {
        match self {
            Fail::Exec(e) => e.to_string(),
            Fail::Limit(l) => l.to_string(),
            Fail::NoTemplate(m) => m.clone(),
        }
    }
}

/// What a template function sees of the execution: the template set (for `include`/`tpl`),
/// the injected randomness and clock, and the limits.
pub struct CallCtx<'a> {
    pub(crate) ctx: &'a mut ExecContext,
    scope: &'a Scope<'a>,
    funcs: &'a FuncMap,
    options: &'a Options,
    depth: usize,
}

impl<'a> CallCtx<'a> {
    /// The execution context (randomness, clock, counters).
    pub fn context(&mut self) -> &mut ExecContext {
        self.ctx
    }

    fn run_template(&mut self, name: &str, data: &Value, out: &mut String) -> Result<(), Fail> {
        let Some(tree) = self.scope.lookup(name) else {
            return Err(Fail::NoTemplate(format!(
                "template: no template {} associated with template {}",
                gofmt::quote_go(name),
                gofmt::quote_go(&self.options.set_name)
            )));
        };
        self.run_tree(&tree, data, out)
    }

    fn run_tree(&mut self, tree: &Tree, data: &Value, out: &mut String) -> Result<(), Fail> {
        if self.depth >= self.ctx.limits.max_depth {
            if self.ctx.limit_template.is_none() {
                self.ctx.limit_template = Some(tree.name.clone());
            }
            return Err(self.ctx.hit(Limit::Depth(self.ctx.limits.max_depth)));
        }
        let dot = match data {
            Value::Nil => Value::Invalid,
            other => other.clone(),
        };
        let mut st = State {
            cx: CallCtx {
                ctx: &mut *self.ctx,
                scope: self.scope,
                funcs: self.funcs,
                options: self.options,
                depth: self.depth + 1,
            },
            tree,
            out,
            vars: {
                let mut vars = Vec::with_capacity(8);
                vars.push(("$", dot.clone()));
                vars
            },
            at: At::None,
            dot_iface: false,
        };
        st.walk_list(&dot, &tree.root)?;
        Ok(())
    }

    /// Executes the named template with `data` (Go's `ExecuteTemplate`, which Helm's `include`
    /// calls). Errors come back formatted as Go formats them.
    pub fn execute_template(&mut self, name: &str, data: &Value) -> Result<String, FuncError> {
        let mut out = String::new();
        match self.run_template(name, data, &mut out) {
            Ok(()) => Ok(out),
            Err(f) => Err(FuncError::new(f.message())),
        }
    }

    /// Parses `text` under the set's name in an overlay of the set (its `define`s are visible
    /// only inside) and executes it with `data`, as Helm's `tpl` does.
    pub fn execute_text(&mut self, text: &str, data: &Value) -> Result<String, TextError> {
        let funcs = self.funcs;
        let has = |n: &str| funcs.contains(n) || builtin::is_builtin(n);
        let name = self.options.set_name.clone();
        let trees = parse::parse(&name, text, &has).map_err(|e| TextError::Parse(e.to_string()))?;
        let mut overlay: HashMap<String, Arc<Tree>> = HashMap::new();
        let mut main = None;
        for t in trees {
            if t.name == name {
                main = Some(Arc::new(t));
            } else {
                parse::associate(&mut overlay, t);
            }
        }
        let main = main.ok_or_else(|| TextError::Parse("no template".into()))?;
        let scope = Scope {
            trees: &overlay,
            parent: Some(self.scope),
        };
        let mut inner = CallCtx {
            ctx: &mut *self.ctx,
            scope: &scope,
            funcs: self.funcs,
            options: self.options,
            depth: self.depth,
        };
        let mut out = String::new();
        inner
            .run_tree(&main, data, &mut out)
            .map_err(|f| TextError::Exec(f.message()))?;
        Ok(out)
    }

    /// Fails with the memory budget's error if allocating `bytes` more would exceed what is
    /// left of it ([`crate::Limits::max_memory_bytes`], counted over the whole execution).
    /// Call it before an allocation whose size the input chose; the result is counted when
    /// the function returns it.
    pub fn check_output(&mut self, bytes: usize) -> Result<(), FuncError> {
        Self::reserve(bytes as u64)
    }

    /// [`CallCtx::check_output`] for sizes computed in `u64` (saturating: an overflowing
    /// size is over any budget).
    pub(crate) fn reserve(bytes: u64) -> Result<(), FuncError> {
        crate::budget::room(bytes).map_err(|l| FuncError::new(l.to_string()))
    }

    /// Counts `bytes` allocated in place (an entry added to an existing map) against the
    /// memory budget.
    pub(crate) fn charge(bytes: u64) -> Result<(), FuncError> {
        crate::budget::charge(bytes).map_err(|l| FuncError::new(l.to_string()))
    }

    /// `units` steps of work done inside a function (bulk or expensive work); also reads the
    /// clock, so work that is slow per step stops at the deadline.
    pub(crate) fn work(units: u64) -> Result<(), FuncError> {
        crate::budget::work(units)
            .and_then(|()| crate::budget::check_deadline())
            .map_err(|l| FuncError::new(l.to_string()))
    }
}

/// Why [`CallCtx::execute_text`] failed.
#[derive(Debug, Clone)]
pub enum TextError {
    /// The text did not parse.
    Parse(String),
    /// Executing it failed.
    Exec(String),
}

#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
}

impl At<'_> {
    fn pos(&self) -> Option<usize> {
        match self {
            At::None => None,
            At::Node(n) => Some(match n {
                Node::Text { .. } => 0,
                Node::Action { pos, .. }
                | Node::If { pos, .. }
                | Node::Range { pos, .. }
                | Node::With { pos, .. }
                | Node::Template { pos, .. }
                | Node::Break { pos }
                | Node::Continue { pos } => *pos,
            }),
            At::Pipe(p) => Some(p.pos),
            At::Cmd(c) => Some(c.pos),
            At::Arg(a) => Some(a.pos()),
        }
    }
    fn context(&self) -> String {
        match self {
            At::None => String::new(),
            At::Node(n) => n.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Arg(a) => a.to_string(),
        }
    }
}

enum Flow {
    Normal,
    Break,
    Continue,
}

type R<T> = Result<T, Fail>;

struct State<'t, 'c> {
    cx: CallCtx<'c>,
    tree: &'t Tree,
    out: &'c mut String,
    /// Variables in scope, innermost last; names borrowed from the tree.
    vars: Vec<(&'t str, Value)>,
    at: At<'t>,
    /// Whether dot has Go's static type `interface{}` (a map or slice element).
    dot_iface: bool,
}

impl<'t, 'c> State<'t, 'c> {
    fn errorf(&self, msg: impl Into<String>) -> Fail {
        let msg = msg.into();
        let message = match self.at.pos() {
            None => format!("template: {}: {}", self.tree.name, msg),
            Some(pos) => format!(
                "template: {}: executing {} at <{}>: {}",
                self.tree.location(pos),
                gofmt::quote_go(&self.tree.name),
                self.at.context(),
                msg
            ),
        };
        Fail::Exec(ExecError::new(self.tree.name.clone(), message))
    }

    /// Stops the execution at `limit`, remembering the template that was running.
    fn limit(&mut self, limit: Limit) -> Fail {
        if self.cx.ctx.limit_template.is_none() {
            self.cx.ctx.limit_template = Some(self.tree.name.clone());
        }
        self.cx.ctx.hit(limit)
    }

    fn step(&mut self) -> R<()> {
        crate::budget::step().map_err(|l| self.limit(l))
    }

    fn write(&mut self, s: &str) -> R<()> {
        self.cx.ctx.output_bytes += s.len();
        if self.cx.ctx.output_bytes > self.cx.ctx.limits.max_output_bytes {
            let l = Limit::OutputBytes(self.cx.ctx.limits.max_output_bytes);
            return Err(self.limit(l));
        }
        crate::budget::charge(s.len() as u64).map_err(|l| self.limit(l))?;
        self.out.push_str(s);
        Ok(())
    }

    fn var_value(&self, name: &str) -> R<Value> {
        for (n, v) in self.vars.iter().rev() {
            if *n == name {
                return Ok(v.clone());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn set_var(&mut self, name: &str, value: Value) -> R<()> {
        for (n, v) in self.vars.iter_mut().rev() {
            if *n == name {
                *v = value;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn walk_list(&mut self, dot: &Value, list: &'t [Node]) -> R<Flow> {
        for n in list {
            match self.walk(dot, n)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &'t Node) -> R<Flow> {
        self.at = At::Node(node);
        self.step()?;
        match node {
            Node::Text { text } => self.write(text)?,
            Node::Action { pipe, .. } => {
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    // A string prints as itself: written without a formatted copy.
                    if let Value::String(s) = &val {
                        self.write(s)?;
                    } else {
                        let s = self.printable(&val)?;
                        self.write(&s)?;
                    }
                }
            }
            Node::If {
                pipe,
                list,
                else_list,
                ..
            } => return self.walk_if_with(false, dot, pipe, list, else_list),
            Node::With {
                pipe,
                list,
                else_list,
                ..
            } => return self.walk_if_with(true, dot, pipe, list, else_list),
            Node::Range { .. } => return self.walk_range(dot, node),
            Node::Template { name, pipe, .. } => {
                let Some(tree) = self.cx.scope.lookup(name) else {
                    return Err(
                        self.errorf(format!("template {} not defined", gofmt::quote_go(name)))
                    );
                };
                let new_dot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Value::Invalid,
                };
                if self.cx.depth >= self.cx.ctx.limits.max_depth {
                    return Err(self.limit(Limit::Depth(self.cx.ctx.limits.max_depth)));
                }
                let mut st = State {
                    cx: CallCtx {
                        ctx: &mut *self.cx.ctx,
                        scope: self.cx.scope,
                        funcs: self.cx.funcs,
                        options: self.cx.options,
                        depth: self.cx.depth + 1,
                    },
                    tree: &tree,
                    out: &mut *self.out,
                    vars: {
                        let mut vars = Vec::with_capacity(8);
                        vars.push(("$", new_dot.clone()));
                        vars
                    },
                    at: At::None,
                    dot_iface: false,
                };
                st.walk_list(&new_dot, &tree.root)?;
            }
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Continue { .. } => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn printable(&mut self, v: &Value) -> R<String> {
        let s = match v {
            Value::Invalid => "<no value>".to_string(),
            other => gofmt::sprint_value(other),
        };
        // Printing a value that holds one list many times can exceed the budget; the printer
        // stopped early and left the limit.
        if let Some(l) = crate::budget::exceeded() {
            return Err(self.limit(l));
        }
        Ok(s)
    }

    fn walk_if_with(
        &mut self,
        with: bool,
        dot: &Value,
        pipe: &'t Pipe,
        list: &'t [Node],
        else_list: &'t Option<Vec<Node>>,
    ) -> R<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, pipe)?;
        let truth = val.truth();
        let r = if truth {
            if with {
                let saved = std::mem::replace(&mut self.dot_iface, false);
                let r = self.walk_list(&val, list);
                self.dot_iface = saved;
                r
            } else {
                self.walk_list(dot, list)
            }
        } else if let Some(el) = else_list {
            self.walk_list(dot, el)
        } else {
            Ok(Flow::Normal)
        };
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, dot: &Value, node: &'t Node) -> R<Flow> {
        let Node::Range {
            pipe,
            list,
            else_list,
            ..
        } = node
        else {
            unreachable!()
        };
        self.at = At::Node(node);
        let outer_mark = self.vars.len();
        let val = self.eval_pipeline(dot, pipe)?;
        let mark = self.vars.len();
        let saved_iface = self.dot_iface;
        let mut ran = false;
        let mut result = Ok(Flow::Normal);
        // The snapshot below holds an index (or key) and a value per element: count it before
        // it is made (a key's text is counted with the map's entries).
        let len = match &val {
            Value::List(l) => l.len(),
            Value::Bytes(b) => b.len(),
            Value::Map(m) => m.len(),
            Value::Object(o) => o.len().unwrap_or(0),
            _ => 0,
        };
        crate::budget::charge((len as u64).saturating_mul(crate::budget::RANGE_ITEM_BYTES))
            .map_err(|l| self.limit(l))?;
        let items: Option<Vec<(Value, Value)>> = match &val {
            Value::List(l) => Some(
                l.items()
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                    .collect(),
            ),
            Value::Bytes(b) => Some(
                b.iter()
                    .enumerate()
                    .map(|(i, v)| (Value::Int(i as i64), Value::Int(*v as i64)))
                    .collect(),
            ),
            Value::Map(m) => Some(
                m.entries()
                    .into_iter()
                    .map(|(k, v)| (Value::str(k), v))
                    .collect(),
            ),
            Value::Invalid | Value::Nil => None,
            Value::Object(o) => match (o.items(), o.to_data()) {
                (Some(items), _) => Some(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (Value::Int(i as i64), v))
                        .collect(),
                ),
                (None, Value::Map(m)) if o.kind() == "map" => Some(
                    m.entries()
                        .into_iter()
                        .map(|(k, v)| (Value::str(k), v))
                        .collect(),
                ),
                _ => {
                    return Err(self.errorf(format!(
                        "range can't iterate over {}",
                        gofmt::sprint_value(&val)
                    )));
                }
            },
            _ => {
                return Err(self.errorf(format!(
                    "range can't iterate over {}",
                    gofmt::sprint_value(&val)
                )));
            }
        };
        let elem_iface = match &val {
            Value::List(l) => l.elem == ElemType::Any,
            Value::Map(m) => !m.string_values,
            _ => false,
        };
        if let Some(items) = items {
            for (index, elem) in items {
                ran = true;
                if !pipe.decl.is_empty() {
                    if pipe.is_assign {
                        if pipe.decl.len() > 1 {
                            self.set_var(&pipe.decl[0], index.clone())?;
                        } else {
                            self.set_var(&pipe.decl[0], elem.clone())?;
                        }
                    } else {
                        let n = self.vars.len();
                        self.vars[n - 1].1 = elem.clone();
                    }
                }
                if pipe.decl.len() > 1 {
                    if pipe.is_assign {
                        self.set_var(&pipe.decl[1], elem.clone())?;
                    } else {
                        let n = self.vars.len();
                        self.vars[n - 2].1 = index.clone();
                    }
                }
                self.dot_iface = elem_iface;
                let r = self.walk_list(&elem, list);
                self.dot_iface = saved_iface;
                self.vars.truncate(mark);
                match r {
                    Ok(Flow::Break) => break,
                    Ok(_) => {}
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        if result.is_ok()
            && !ran
            && let Some(el) = else_list
        {
            result = self.walk_list(dot, el);
        }
        self.vars.truncate(outer_mark);
        result.map(|f| match f {
            Flow::Break | Flow::Continue => Flow::Normal,
            other => other,
        })
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> R<Value> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let mut v = self.eval_command(dot, cmd, value.take())?;
            if matches!(v, Value::Nil) {
                v = Value::Invalid;
            }
            value = Some(v);
        }
        let value = value.unwrap_or_default();
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(var, value.clone())?;
            } else {
                self.vars.push((var.as_str(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'t [Arg], final_: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &'t Command, final_: Option<Value>) -> R<Value> {
        self.step()?;
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at = At::Arg(first);
                let iface = self.dot_iface;
                return self.eval_field_chain(
                    dot,
                    dot.clone(),
                    iface,
                    first,
                    idents,
                    &cmd.args,
                    final_,
                );
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, &cmd.args, final_),
            Arg::Identifier { name, .. } => {
                return self.eval_function(dot, first, name, At::Cmd(cmd), &cmd.args, final_);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { .. } => return self.eval_variable(dot, first, &cmd.args, final_),
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.errorf("nil is not a command")),
            Arg::Number { num, .. } => self.ideal_constant(first, num),
            Arg::String { text, .. } => Ok(Value::String(text.clone())),
            _ => Err(self.errorf(format!(
                "can't evaluate command {}",
                gofmt::quote_go(&first.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, at: &'t Arg, n: &parse::Number) -> R<Value> {
        self.at = At::Arg(at);
        let t = &n.text;
        let is_hex_int = t.len() > 2
            && t.starts_with('0')
            && matches!(t.as_bytes()[1], b'x' | b'X')
            && !t.contains(['p', 'P']);
        let is_rune = t.starts_with('\'');
        if n.is_float && !is_hex_int && !is_rune && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float64));
        }
        if n.is_int {
            return Ok(Value::Int(n.int64));
        }
        if n.is_uint {
            return Err(self.errorf(format!("{t} overflows int")));
        }
        Ok(Value::Invalid)
    }

    fn eval_chain(
        &mut self,
        dot: &Value,
        chain: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(chain);
        let Arg::Chain { node, fields, .. } = chain else {
            unreachable!()
        };
        if matches!(node.as_ref(), Arg::Nil { .. }) {
            return Err(self.errorf(format!("indirection through explicit nil in {chain}")));
        }
        let pipe = self.eval_arg(dot, Ty::Reflect, node)?;
        self.eval_field_chain(dot, pipe, false, chain, fields, args, final_)
    }

    fn eval_variable(
        &mut self,
        dot: &Value,
        var: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(var);
        let Arg::Variable { idents, .. } = var else {
            unreachable!()
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, &final_)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, false, var, &idents[1..], args, final_)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut receiver: Value,
        mut iface: bool,
        node: &'t Arg,
        idents: &'t [parse::TextSpan],
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            let (v, i) = self.eval_field(dot, ident, node, &[], None, receiver, iface)?;
            receiver = v;
            iface = i;
        }
        Ok(self
            .eval_field(dot, &idents[n - 1], node, args, final_, receiver, iface)?
            .0)
    }

    /// Returns the field's value and whether its static type is `interface{}`.
    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
        receiver: Value,
        iface: bool,
    ) -> R<(Value, bool)> {
        match &receiver {
            Value::Invalid => {
                if self.cx.options.missing_key == MissingKey::Error {
                    return Err(self.errorf(format!(
                        "nil data; no entry for key {}",
                        gofmt::quote_go(name)
                    )));
                }
                return Ok((Value::Invalid, false));
            }
            Value::Nil => {
                return Err(self.errorf(format!("nil pointer evaluating interface {{}}.{name}")));
            }
            _ => {}
        }
        let has_args = args.len() > 1 || final_.is_some();
        match &receiver {
            Value::Object(o) => {
                if let Some(sig) = o.method(name) {
                    let o = o.clone();
                    let name_owned = name.to_string();
                    let f = Function::new(sig, move |_cx, args| o.call_method(&name_owned, args));
                    let rest = if args.is_empty() { args } else { &args[1..] };
                    return Ok((
                        self.eval_call(dot, &f, false, name, At::Arg(node), rest, final_)?,
                        false,
                    ));
                }
                if let Some(v) = o.field(name) {
                    if has_args {
                        return Err(self.errorf(format!(
                            "{name} has arguments but cannot be invoked as function"
                        )));
                    }
                    let is_iface = matches!(v, Value::Nil);
                    return Ok((v, is_iface));
                }
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                return match m.get(name) {
                    Some(v) => Ok((v, !m.string_values)),
                    None => match self.cx.options.missing_key {
                        MissingKey::Invalid => Ok((Value::Invalid, false)),
                        MissingKey::Zero => Ok((
                            if m.string_values {
                                Value::str("")
                            } else {
                                Value::Nil
                            },
                            !m.string_values,
                        )),
                        MissingKey::Error => Err(self.errorf(format!(
                            "map has no entry for key {}",
                            gofmt::quote_go(name)
                        ))),
                    },
                };
            }
            _ => {}
        }
        let typ = if iface {
            "interface {}".to_string()
        } else {
            receiver.type_name()
        };
        Err(self.errorf(format!("can't evaluate field {name} in type {typ}")))
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        ident: &'t Arg,
        name: &str,
        cmd: At<'t>,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(ident);
        // Borrowed for the call, not cloned (a clone copied the signature at every call).
        let funcs: &FuncMap = self.cx.funcs;
        let (f, is_builtin) = match funcs.get(name) {
            Some(f) => (f, false),
            None => match builtin::get(name) {
                Some(f) => (f, true),
                None => {
                    return Err(self.errorf(format!(
                        "{} is not a defined function",
                        gofmt::quote_go(name)
                    )));
                }
            },
        };
        let rest = if args.is_empty() { args } else { &args[1..] };
        self.eval_call(dot, f, is_builtin, name, cmd, rest, final_)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        dot: &Value,
        f: &Function,
        is_builtin: bool,
        name: &str,
        node: At<'t>,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let sig: &Sig = &f.sig;
        let num_in = args.len() + usize::from(final_.is_some());
        let num_fixed;
        if sig.variadic.is_some() {
            num_fixed = sig.params.len();
            if num_in < num_fixed {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    num_fixed,
                    args.len()
                )));
            }
        } else {
            num_fixed = args.len();
            if num_in != sig.params.len() {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want {} got {num_in}",
                    sig.params.len()
                )));
            }
        }
        if is_builtin && name == "call" {
            let f = self.eval_arg(dot, Ty::Reflect, &args[0])?;
            self.at = node;
            if f.is_nil() {
                return Err(self.errorf("error calling call: call of nil"));
            }
            return Err(self.errorf(format!(
                "error calling call: non-function {} of type {}",
                args[0],
                f.type_name()
            )));
        }
        if is_builtin && (name == "and" || name == "or") {
            let mut v = Value::Invalid;
            for a in args {
                v = self.eval_arg(dot, Ty::Reflect, a)?;
                if v.truth() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(fv) = final_ {
                v = fv;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            let v = self.eval_arg(dot, sig.params[i], &args[i])?;
            argv.push(v);
            i += 1;
        }
        if let Some(vt) = sig.variadic {
            while i < args.len() {
                let v = self.eval_arg(dot, vt, &args[i])?;
                argv.push(v);
                i += 1;
            }
        }
        if let Some(fv) = final_ {
            let t = match sig.variadic {
                Some(vt) => {
                    if num_in - 1 < num_fixed {
                        sig.params[num_in - 1]
                    } else {
                        vt
                    }
                }
                None => sig.params[sig.params.len() - 1],
            };
            let v = self.validate_type(fv, t)?;
            argv.push(v);
        }
        // Functions that only read their arguments (`contains`, `sha256sum`, `regexMatch`)
        // do work in proportion to them: count it, a step per 4 KiB, so a loop over a large
        // string still reaches the deadline check.
        let arg_bytes: usize = argv
            .iter()
            .map(|v| match v {
                Value::String(s) => s.len(),
                Value::Bytes(b) => b.len(),
                _ => 0,
            })
            .sum();
        let body = f.body.clone();
        let r = (body)(&mut self.cx, argv);
        // A limit met inside the call (in a walker, a nested include, a size check) wins over
        // whatever the function made of it.
        if let Some(limit) = crate::budget::exceeded() {
            return Err(self.limit(limit));
        }
        match r {
            Ok(v) => {
                crate::budget::work((arg_bytes >> 12) as u64)
                    .and_then(|()| crate::budget::charge(crate::budget::fresh_bytes(&v)))
                    .map_err(|l| self.limit(l))?;
                Ok(v)
            }
            Err(e) => {
                self.at = node;
                Err(self.errorf(format!("error calling {name}: {e}")))
            }
        }
    }

    fn validate_type(&self, value: Value, ty: Ty) -> R<Value> {
        match (&value, ty) {
            (_, Ty::Reflect) => Ok(value),
            (Value::Invalid, Ty::Any | Ty::List | Ty::StringList | Ty::Map) => Ok(Value::Nil),
            (Value::Invalid, _) => {
                Err(self.errorf(format!("invalid value; expected {}", ty.go_name())))
            }
            (_, Ty::Any) => Ok(value),
            (Value::String(_), Ty::String)
            | (Value::Int(_), Ty::Int)
            | (Value::Int64(_), Ty::Int64)
            | (Value::Float(_), Ty::Float64)
            | (Value::Bool(_), Ty::Bool) => Ok(value),
            (Value::List(l), Ty::List) if l.elem == ElemType::Any => Ok(value),
            (Value::List(l), Ty::StringList) if l.elem == ElemType::String => Ok(value),
            (Value::Map(m), Ty::Map) if !m.string_values => Ok(value),
            (Value::Nil, _) => Err(self.errorf(format!(
                "wrong type for value; expected {}; got interface {{}}",
                ty.go_name()
            ))),
            _ => Err(self.errorf(format!(
                "wrong type for value; expected {}; got {}",
                ty.go_name(),
                value.type_name()
            ))),
        }
    }

    fn eval_arg(&mut self, dot: &Value, ty: Ty, arg: &'t Arg) -> R<Value> {
        self.at = At::Arg(arg);
        match arg {
            Arg::Dot { .. } => {
                return self.validate_type(dot.clone(), ty);
            }
            Arg::Nil { .. } => {
                if ty.can_be_nil() {
                    return Ok(if ty == Ty::Reflect {
                        Value::Invalid
                    } else {
                        Value::Nil
                    });
                }
                return Err(self.errorf(format!("cannot assign nil to {}", ty.go_name())));
            }
            Arg::Field { idents, .. } => {
                let iface = self.dot_iface;
                let v = self.eval_field_chain(
                    dot,
                    dot.clone(),
                    iface,
                    arg,
                    idents,
                    std::slice::from_ref(arg),
                    None,
                )?;
                return self.validate_type(v, ty);
            }
            Arg::Variable { .. } => {
                let v = self.eval_variable(dot, arg, &[], None)?;
                return self.validate_type(v, ty);
            }
            Arg::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                return self.validate_type(v, ty);
            }
            Arg::Identifier { name, .. } => {
                let v = self.eval_function(dot, arg, name, At::Arg(arg), &[], None)?;
                return self.validate_type(v, ty);
            }
            Arg::Chain { .. } => {
                let v = self.eval_chain(dot, arg, &[], None)?;
                return self.validate_type(v, ty);
            }
            _ => {}
        }
        match ty {
            Ty::Bool => match arg {
                Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
                _ => Err(self.errorf(format!("expected bool; found {arg}"))),
            },
            Ty::Float64 => match arg {
                Arg::Number { num, .. } if num.is_float => Ok(Value::Float(num.float64)),
                _ => Err(self.errorf(format!("expected float; found {arg}"))),
            },
            Ty::Int | Ty::Int64 => match arg {
                Arg::Number { num, .. } if num.is_int => Ok(if ty == Ty::Int {
                    Value::Int(num.int64)
                } else {
                    Value::Int64(num.int64)
                }),
                _ => Err(self.errorf(format!("expected integer; found {arg}"))),
            },
            Ty::String => match arg {
                Arg::String { text, .. } => Ok(Value::String(text.clone())),
                _ => Err(self.errorf(format!("expected string; found {arg}"))),
            },
            Ty::Any | Ty::Reflect => match arg {
                Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
                Arg::Number { num, .. } => self.ideal_constant(arg, num),
                Arg::String { text, .. } => Ok(Value::String(text.clone())),
                _ => Err(self.errorf(format!(
                    "can't handle assignment of {arg} to empty interface argument"
                ))),
            },
            Ty::List | Ty::StringList | Ty::Map => Err(self.errorf(format!(
                "can't handle {arg} for arg of type {}",
                ty.go_name()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(set: &TemplateSet, name: &str) -> String {
        match set.execute(name, &Value::Nil, &mut ExecContext::new(1)) {
            Ok(s) => s,
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn copies_of_a_text_are_parsed_once_and_keep_their_own_names() {
        let lib = r#"{{ define "lib.x" }}x{{ end }}{{ index 1 2 }}"#;
        let mut set = TemplateSet::helm();
        set.parse_all(&[
            ("a/lib.tpl", lib),
            ("b/lib.tpl", lib),
            ("c.yaml", r#"{{ include "lib.x" . }}"#),
        ])
        .unwrap();
        assert_eq!(set.names(), ["a/lib.tpl", "b/lib.tpl", "c.yaml", "lib.x"]);
        assert_eq!(run(&set, "c.yaml"), "x");
        // Errors name the copy that ran, not the text it was parsed from.
        assert!(
            run(&set, "b/lib.tpl").contains("template: b/lib.tpl:1:"),
            "{}",
            run(&set, "b/lib.tpl")
        );
        assert!(run(&set, "a/lib.tpl").contains("template: a/lib.tpl:1:"));
    }

    #[test]
    fn a_copy_that_defines_its_own_name_is_parsed_for_itself() {
        // Renaming would turn this define into a second top-level tree: parsed as Go would,
        // the copy fails exactly where a separate parse fails.
        let text = r#"{{ define "b" }}defined{{ end }}top"#;
        let mut set = TemplateSet::helm();
        let err = set.parse_all(&[("a", text), ("b", text)]).unwrap_err();
        assert_eq!(err.0, 1);
        assert!(
            err.1
                .to_string()
                .contains("multiple definition of template"),
            "{}",
            err.1
        );
    }

    #[test]
    fn the_first_failure_in_input_order_is_reported_for_copies_too() {
        let bad = "{{ if }}";
        let mut set = TemplateSet::helm();
        let err = set
            .parse_all(&[("ok", "fine"), ("x", bad), ("y", bad)])
            .unwrap_err();
        assert_eq!(err.0, 1);
        assert!(err.1.to_string().starts_with("template: x:1:"), "{}", err.1);
        assert!(
            !set.contains("ok"),
            "a failed parse leaves the set unchanged"
        );
    }
}
