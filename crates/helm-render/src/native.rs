//! The native renderer: Helm 3.17.1's `helm template` pipeline in-process, on `text-template`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use text_template::helm_objects::{Capabilities, FileContent, Files, KubeVersion};
use text_template::{ExecContext, Limit, Limits, Map, TemplateSet, Value};

use crate::ahead::{self, ParseAhead};
use crate::budget::{self, Budget};
use crate::chart::Chart;
use crate::error::{LoadError, RenderError};
use crate::files::ChartFiles;
use crate::objects::ChartObject;
use crate::render::{Options, Outcome, Renderer, RendererInfo};
use crate::{HelmCliRenderer, deps, schema, semver, strvals, values, yamlconv};

/// The version of the native renderer (this crate's).
pub const NATIVE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Renders charts in-process, byte-identical to `helm template` (Helm 3.17.1).
#[derive(Debug, Clone, Default)]
pub struct NativeRenderer {
    limits: Limits,
    teardown: Teardown,
}

/// What happens to what a render built once it is done with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Teardown {
    /// Freed (a server renders many charts).
    #[default]
    Free,
    /// Left for the process's exit (see [`NativeRenderer::leaving_memory_to_exit`]).
    LeaveToExit,
}

impl Teardown {
    /// Drops `v`, or leaves it allocated when the process is about to exit.
    pub(crate) fn dispose<T>(self, v: T) {
        match self {
            Teardown::Free => drop(v),
            Teardown::LeaveToExit => std::mem::forget(v),
        }
    }
}

const DEBUG_HINT: &str = "\n\nUse --debug flag to render out invalid YAML";

impl NativeRenderer {
    /// A renderer with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A renderer with these template limits (steps, output bytes, nesting depth, stack,
    /// memory); the output limit is further capped by [`Options::max_output_bytes`] and the
    /// memory budget by [`Options::max_memory_bytes`].
    pub fn with_limits(limits: Limits) -> Self {
        NativeRenderer {
            limits,
            ..NativeRenderer::default()
        }
    }

    /// The same renderer for a process that exits after one render (the CLI's `render`): what
    /// a render built (parsed templates, schemas, values, outputs) is left for the exit to
    /// reclaim instead of being freed piece by piece, a tenth of a large chart's render. A
    /// long-running process must not use this: every render would keep its memory.
    pub fn leaving_memory_to_exit(mut self) -> Self {
        self.teardown = Teardown::LeaveToExit;
        self
    }

    fn chart_err(message: impl Into<String>) -> RenderError {
        RenderError::Chart {
            message: message.into(),
        }
    }
}

impl Renderer for NativeRenderer {
    fn info(&self) -> RendererInfo {
        RendererInfo {
            name: "native",
            version: NATIVE_VERSION.to_string(),
        }
    }

    fn render(&self, chart: &ChartFiles, options: &Options) -> Result<Outcome, RenderError> {
        options.validate()?;
        let unfiltered;
        let files = if chart.is_filtered() {
            chart
        } else {
            unfiltered = chart.clone().filtered()?;
            &unfiltered
        };
        let rendered = self.render_files(files, options);
        // A file of a directory is read when first used; one that could not be read then
        // (removed or made unreadable since the directory was walked) read as empty, so its
        // error is the render's, whatever else happened.
        match files.unreadable() {
            Some(e) => Err(load_to_render(e)),
            None => rendered,
        }
    }
}

impl NativeRenderer {
    fn render_files(&self, files: &ChartFiles, options: &Options) -> Result<Outcome, RenderError> {
        let started = Instant::now();
        let ahead = ParseAhead::start(files);
        let deadline = started + options.timeout;
        let mut budget = Budget::new(options.max_memory_bytes.min(self.limits.max_memory_bytes));
        let mut root = Chart::load_within(files, &mut budget).map_err(load_to_render)?;
        match root.metadata.chart_type.as_str() {
            "" | "application" => {}
            t => return Err(Self::chart_err(format!("{t} charts are not installable"))),
        }
        if root.metadata.dependencies_declared
            && let Err(e) = deps::check_dependencies(&root)
        {
            return Err(Self::chart_err(format!(
                "An error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: {e}"
            )));
        }
        let user = user_values(options, &mut budget)?;
        let caps = capabilities(options)?;
        deps::process_dependencies(&mut root, &user).map_err(Self::chart_err)?;
        let vals = values::coalesce_values(&root, &user, false).map_err(Self::chart_err)?;
        budget
            .charge(budget::value_bytes(&Value::Map(vals.clone())), "values")
            .map_err(load_to_render)?;
        let teardown = self.teardown;
        let bounds = move || schema::Bounds {
            evaluations_left: schema::MAX_SCHEMA_EVALUATIONS,
            deadline: Some(deadline),
            teardown,
        };
        // Helm validates the values against the schemas, then checks kubeVersion, then parses
        // and executes the templates. None of these has an effect but its result, so with a
        // schema to check and a second core the check runs beside the rest; the errors still
        // come in Helm's order (a values error first, whatever the templates did). The values
        // are written out for the schemas here, charging the memory budget, so that the
        // templates start from the same budget either way.
        let checks = Arc::new(schema_values(&root, &vals, &mut budget).map_err(load_to_render)?);
        let verdict = |checked: Result<Result<(), String>, RenderError>| {
            checked
                .map_err(|e| match e {
                    RenderError::Timeout { .. } => RenderError::Timeout {
                        seconds: options.timeout.as_secs_f64(),
                    },
                    e => e,
                })?
                .map_err(|e| {
                    Self::chart_err(format!(
                        "values don't meet the specifications of the schema(s) in the following chart(s):\n{e}"
                    ))
                })
        };
        let kube_version = || {
            if !root.metadata.kube_version.is_empty()
                && !semver::is_compatible_range(
                    &root.metadata.kube_version,
                    &caps.kube_version.version,
                )
            {
                return Err(Self::chart_err(format!(
                    "chart requires kubeVersion: {} which is incompatible with Kubernetes {}{DEBUG_HINT}",
                    root.metadata.kube_version, caps.kube_version.version
                )));
            }
            Ok(())
        };
        let limits = Limits {
            max_output_bytes: self.limits.max_output_bytes.min(options.max_output_bytes),
            max_memory_bytes: budget.max(),
            ..self.limits
        };
        let templates = |ahead: Option<ParseAhead>| {
            kube_version()?;
            let parsed = parse_templates(&root, &vals, &caps, options, ahead)?;
            let time = options.timeout.saturating_sub(started.elapsed());
            render_templates(parsed, options, limits, time, &budget, self.teardown)
        };
        let rendered = if schemas_beside_parsing(&root) {
            let (tx, rx) = std::sync::mpsc::channel();
            // The check waits in a slot that whichever thread gets to it first empties: the
            // helper when it is done with the templates, or this thread when it is done with
            // them and the helper has not come to it (a thread can start milliseconds late on
            // a busy host: then it is not waited for).
            let slot: Arc<Mutex<Option<ahead::Job>>> = Arc::new(Mutex::new(Some({
                let checks = checks.clone();
                Box::new(move || {
                    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        check_schemas(&checks, &mut bounds())
                    }));
                    let _ = tx.send(checked);
                })
            })));
            let take = |slot: &Mutex<Option<ahead::Job>>| {
                slot.lock().unwrap_or_else(PoisonError::into_inner).take()
            };
            let job: ahead::Job = {
                let slot = slot.clone();
                Box::new(move || {
                    if let Some(check) = take(&slot) {
                        check();
                    }
                })
            };
            // On the parse-ahead thread once the templates are taken, else on its own thread.
            let job = match &ahead {
                Some(ahead) => ahead.then(job).err(),
                None => Some(job),
            };
            if let Some(job) = job {
                let _ = std::thread::Builder::new()
                    .name("values-schemas".into())
                    .spawn(job);
            }
            let rendered = templates(ahead);
            if let Some(check) = take(&slot) {
                check();
            }
            let checked = match rx.recv() {
                Ok(Ok(checked)) => checked,
                // A panic in the check is a bug; surface it here.
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                Err(_) => check_schemas(&checks, &mut bounds()),
            };
            verdict(checked)?;
            rendered?
        } else {
            verdict(check_schemas(&checks, &mut bounds()))?;
            templates(ahead)?
        };
        let manifest = assemble(&root, &rendered, options)?;
        self.teardown.dispose((rendered, root, vals, user, caps));
        if manifest.len() > options.max_output_bytes {
            return Err(RenderError::OutputTooLarge {
                limit: options.max_output_bytes,
            });
        }
        Ok(Outcome {
            manifest,
            renderer: self.info(),
        })
    }
}

pub(crate) fn load_to_render(e: LoadError) -> RenderError {
    match e {
        LoadError::Metadata(message) => RenderError::Chart { message },
        LoadError::RenderLimit {
            limit,
            value,
            file,
            message,
        } => RenderError::Limit {
            limit,
            value,
            template: Some(file),
            message,
        },
        other => RenderError::Load(other),
    }
}

/// `-f` files merged in order, then `--set-json`, `--set`, `--set-string` and `--set-file`
/// (Helm's `MergeValues`).
fn user_values(options: &Options, budget: &mut Budget) -> Result<Value, RenderError> {
    let chart_err = NativeRenderer::chart_err;
    let mut base = Map::new();
    for f in &options.values {
        let v = match yamlconv::parse_within(&f.content, budget, &f.name) {
            Ok(v) => yamlconv::to_values_map(&v),
            Err(yamlconv::ReadError::Yaml(e)) => Err(e),
            Err(yamlconv::ReadError::Limit(e)) => return Err(load_to_render(e)),
        }
        .map_err(|e| chart_err(format!("failed to parse {}: {e}", f.name)))?;
        if let Value::Map(m) = v {
            base = values::merge_maps(&base, &m);
        }
    }
    let set_values = set_values(options, &base).map_err(chart_err);
    budget
        .charge(
            budget::value_bytes(&Value::Map(base.clone())),
            "user values",
        )
        .map_err(load_to_render)?;
    set_values?;
    Ok(Value::Map(base))
}

fn set_values(options: &Options, base: &Map) -> Result<(), String> {
    for s in &options.set_json {
        strvals::parse_json_into(s, base)
            .map_err(|_| format!("failed parsing --set-json data {s}"))?;
    }
    for s in &options.set {
        strvals::parse_into(s, base, false)
            .map_err(|e| format!("failed parsing --set data: {e}"))?;
    }
    for s in &options.set_string {
        strvals::parse_into(s, base, true)
            .map_err(|e| format!("failed parsing --set-string data: {e}"))?;
    }
    for (key, content) in &options.set_file {
        let text = String::from_utf8_lossy(content);
        let reader = |_: &str| Ok(Value::str(text.as_ref()));
        strvals::parse_file_into(&format!("{key}=file"), base, &reader)
            .map_err(|e| format!("failed parsing --set-file data: {e}"))?;
    }
    Ok(())
}

fn capabilities(options: &Options) -> Result<Capabilities, RenderError> {
    let mut caps = Capabilities::default();
    if let Some(v) = &options.kube_version {
        let sv = semver::Version::parse(v).ok_or_else(|| {
            RenderError::Option(format!(
                "invalid kube version '{v}': Invalid Semantic Version"
            ))
        })?;
        let (major, minor, _) = sv.numbers();
        caps.kube_version = KubeVersion {
            version: format!("v{sv}"),
            major: major.to_string(),
            minor: minor.to_string(),
        };
    }
    caps.api_versions
        .extend(options.api_versions.iter().cloned());
    Ok(caps)
}

/// A chart's values written out for its `values.schema.json`.
struct SchemaCheck {
    chart: String,
    file: String,
    schema: Arc<FileContent>,
    values: String,
}

/// The values of the chart and of each subchart with a schema, as JSON, in Helm's order (a
/// chart, then its subcharts), each charged to the memory budget with serde's copy of it.
fn schema_values(
    c: &Chart,
    vals: &Map,
    budget: &mut Budget,
) -> Result<Vec<SchemaCheck>, LoadError> {
    fn walk(
        c: &Chart,
        vals: &Map,
        budget: &mut Budget,
        path: &str,
        out: &mut Vec<SchemaCheck>,
    ) -> Result<(), LoadError> {
        let path = if path.is_empty() {
            c.name().to_owned()
        } else {
            format!("{path}/charts/{}", c.name())
        };
        if let Some(schema) = &c.schema {
            let file = format!("{path}/values.schema.json");
            let values = text_template::to_json(&Value::Map(vals.clone()));
            // The text, then serde's values (no larger than the text's estimate).
            budget.charge(2 * values.len() as u64, &file)?;
            out.push(SchemaCheck {
                chart: c.name().to_owned(),
                file,
                schema: schema.clone(),
                values,
            });
        }
        for sub in &c.dependencies {
            let sv = match vals.get(sub.name()) {
                Some(Value::Map(m)) => m,
                _ => Map::new(),
            };
            walk(sub, &sv, budget, &path, out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(c, vals, budget, "", &mut out)?;
    Ok(out)
}

/// Helm's `ValidateAgainstSchema` over the chart and its subcharts: `Ok(Err(text))` when
/// values do not meet a schema, `Err` when a limit stopped validation.
fn check_schemas(
    checks: &[SchemaCheck],
    bounds: &mut schema::Bounds,
) -> Result<Result<(), String>, RenderError> {
    let mut sb = String::new();
    for check in checks {
        let json = serde_json::from_str(&check.values).unwrap_or(serde_json::Value::Null);
        let checked = schema::validate(check.schema.bytes(), &json, bounds);
        bounds.teardown.dispose(json);
        match checked {
            Ok(()) => {}
            Err(schema::Invalid::Values(e)) => sb.push_str(&format!("{}:\n{e}", check.chart)),
            Err(schema::Invalid::Stopped(schema::Stopped::Deadline)) => {
                // The caller puts in the configured timeout.
                return Err(RenderError::Timeout { seconds: 0.0 });
            }
            Err(schema::Invalid::Stopped(schema::Stopped::Evaluations)) => {
                return Err(RenderError::Limit {
                    limit: "max_schema_evaluations",
                    value: schema::MAX_SCHEMA_EVALUATIONS,
                    message: format!(
                        "validating values against the schema took more than {} evaluations",
                        schema::MAX_SCHEMA_EVALUATIONS
                    ),
                    template: Some(check.file.clone()),
                });
            }
        }
    }
    Ok(if sb.is_empty() { Ok(()) } else { Err(sb) })
}

struct Renderable<'a> {
    text: std::borrow::Cow<'a, str>,
    /// Where the text's file contents are ([`ahead::address`]).
    source: usize,
    data: Map,
    base_path: String,
}

fn files_object(c: &Chart) -> Value {
    Value::object(Files::new(c.files.iter().cloned()))
}

/// `recAllTpls`: every template with the scoped data it executes with.
fn collect<'a>(
    c: &'a Chart,
    full_path: &str,
    parent: &Map,
    is_root: bool,
    out: &mut BTreeMap<String, Renderable<'a>>,
) -> Map {
    let subcharts = Map::new();
    let next = Map::new();
    next.insert(
        "Chart",
        Value::object(ChartObject {
            md: Arc::new(c.metadata.clone()),
            is_root,
        }),
    );
    next.insert("Files", files_object(c));
    next.insert("Release", parent.get("Release").unwrap_or(Value::Nil));
    next.insert(
        "Capabilities",
        parent.get("Capabilities").unwrap_or(Value::Nil),
    );
    let vals = if is_root {
        parent.get("Values").unwrap_or(Value::Map(Map::new()))
    } else {
        match parent.get("Values") {
            Some(Value::Map(pv)) => values::table_at(&pv, c.name())
                .map(Value::Map)
                .unwrap_or_else(|| Value::Map(Map::new())),
            _ => Value::Map(Map::new()),
        }
    };
    next.insert("Values", vals);
    next.insert("Subcharts", Value::Map(subcharts.clone()));
    for child in &c.dependencies {
        let child_path = format!("{full_path}/charts/{}", child.name());
        let m = collect(child, &child_path, &next, false, out);
        subcharts.insert(child.name(), Value::Map(m));
    }
    let library = c.is_library();
    for (name, data) in &c.templates {
        let base = name.rsplit('/').next().unwrap_or(name);
        if library && !base.starts_with('_') {
            continue;
        }
        out.insert(
            format!("{full_path}/{name}"),
            Renderable {
                text: template_text(data.bytes()),
                source: ahead::address(data),
                data: next.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    next
}

/// A template's text as Go reads it (invalid UTF-8 replaced), borrowed when it is valid UTF-8.
/// `from_utf8` checks first: its word-at-a-time validation is several times faster than the
/// chunked scan of `from_utf8_lossy`, which was 4 % of a render's instructions.
pub(crate) fn template_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Helm's `sortTemplates`: deeper paths first, then reverse lexical.
fn sort_templates(names: &mut Vec<String>) {
    // Depths counted once per name, not at every comparison.
    let mut keyed: Vec<(usize, String)> = names
        .drain(..)
        .map(|n| (memchr::memchr_iter(b'/', n.as_bytes()).count(), n))
        .collect();
    keyed.sort_by(|(da, a), (db, b)| db.cmp(da).then_with(|| b.cmp(a)));
    names.extend(keyed.into_iter().map(|(_, n)| n));
}

fn seed_for(name: &str, options: &Options) -> u64 {
    // FNV-1a of the template name and release: stable across revisions of a chart, so both
    // sides of a comparison draw the same "random" values in the same file.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name
        .bytes()
        .chain([0])
        .chain(options.release_name.bytes())
        .chain([0])
        .chain(options.namespace.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The render error for a template limit met while rendering `file`, where the template
/// executing (an `include`d helper, say) was `inner`.
fn limit_error(
    l: Limit,
    file: Option<&str>,
    inner: Option<&str>,
    options: &Options,
) -> RenderError {
    match l {
        Limit::Time(_) => RenderError::Timeout {
            seconds: options.timeout.as_secs_f64(),
        },
        Limit::OutputBytes(n) => RenderError::OutputTooLarge { limit: n },
        other => RenderError::Limit {
            limit: other.name(),
            value: other.value(),
            template: file.map(str::to_owned),
            message: match inner {
                Some(t) if Some(t) != file => format!("{other} in template {t}"),
                _ => other.to_string(),
            },
        },
    }
}

fn cleanup_parse_error(filename: &str, msg: &str) -> String {
    let tokens: Vec<&str> = msg.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {msg}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

fn cleanup_exec_error(filename: &str, msg: &str) -> String {
    let tokens: Vec<&str> = msg.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {msg}");
    }
    if let Some(start) = tokens[2].find("HELM_ERR_START")
        && let Some(end) = tokens[2].rfind("HELM_ERR_END")
        && end >= start + "HELM_ERR_START".len()
    {
        return format!(
            "execution error at ({}): {}",
            tokens[1],
            &tokens[2][start + "HELM_ERR_START".len()..end]
        );
    }
    msg.to_string()
}

/// Whether a chart with this much values schema and template text (its subcharts' included) is
/// worth a second thread, to check the schemas beside the templates and to parse ahead
/// ([`ahead`]): below 4 KB of schema or 32 KB of templates, a thread costs more than it saves.
pub(crate) fn worth_a_second_thread(schema_bytes: u64, template_bytes: u64) -> bool {
    schema_bytes >= 4 << 10 && template_bytes >= 32 << 10
}

/// Whether [`check_schemas`] runs on a second thread while the templates are parsed and run.
fn schemas_beside_parsing(root: &Chart) -> bool {
    fn sizes(c: &Chart) -> (u64, u64) {
        let own = (
            c.schema.as_ref().map_or(0, |s| s.len()),
            c.templates.iter().map(|(_, t)| t.len()).sum(),
        );
        c.dependencies
            .iter()
            .map(sizes)
            .fold(own, |a, b| (a.0 + b.0, a.1 + b.1))
    }
    let (schema, templates) = sizes(root);
    worth_a_second_thread(schema, templates) && crate::cores() > 1
}

/// Every template with the data it runs with, parsed into one set in Helm's order.
struct Parsed<'a> {
    tpls: BTreeMap<String, Renderable<'a>>,
    names: Vec<String>,
    set: TemplateSet,
    /// Whether the output is large enough for [`HeadsWorker`].
    second_thread: bool,
}

fn parse_templates<'a>(
    root: &'a Chart,
    vals: &Map,
    caps: &Capabilities,
    options: &Options,
    ahead: Option<ParseAhead>,
) -> Result<Parsed<'a>, RenderError> {
    let top = Map::new();
    top.insert("Values", Value::Map(vals.clone()));
    top.insert("Capabilities", Value::object(caps.clone()));
    top.insert(
        "Release",
        Value::map([
            ("Name", Value::str(&options.release_name)),
            ("Namespace", Value::str(&options.namespace)),
            ("IsUpgrade", Value::Bool(false)),
            ("IsInstall", Value::Bool(true)),
            ("Revision", Value::Int(1)),
            ("Service", Value::str("Helm")),
        ]),
    );
    let mut tpls = BTreeMap::new();
    collect(root, root.name(), &top, true, &mut tpls);
    let mut names: Vec<String> = tpls.keys().cloned().collect();
    sort_templates(&mut names);
    let mut set = TemplateSet::helm();
    let texts: Vec<(&str, &str)> = names
        .iter()
        .map(|name| (name.as_str(), tpls[name].text.as_ref()))
        .collect();
    let mut early = ahead.map(ParseAhead::finish);
    let mut ready = |i: usize| early.as_mut()?.take(tpls[&names[i]].source);
    set.parse_all_with(&texts, &mut ready).map_err(|(i, e)| {
        NativeRenderer::chart_err(format!(
            "{}{DEBUG_HINT}",
            cleanup_parse_error(&names[i], &e.to_string())
        ))
    })?;
    let second_thread = second_thread(&texts);
    drop(texts);
    Ok(Parsed {
        tpls,
        names,
        set,
        second_thread,
    })
}

fn render_templates(
    parsed: Parsed<'_>,
    options: &Options,
    limits: Limits,
    budget: Duration,
    memory: &Budget,
    teardown: Teardown,
) -> Result<BTreeMap<String, RenderedFile>, RenderError> {
    let Parsed {
        tpls,
        names,
        set,
        second_thread,
    } = parsed;
    let deadline = Instant::now() + budget;
    let mut steps_used = 0u64;
    let mut bytes_used = 0usize;
    // The loading stages spent part of the memory budget; the templates share the rest.
    let mut memory_used = memory.used();
    // Each output's documents are split and their heads read (a YAML parse, the largest
    // single cost on big charts) on another thread while the next templates execute; once
    // they have all run, this thread reads what is left of the queue too, and the worker
    // frees the template set while the result is assembled and returned. Outputs go over in
    // batches of about HEADS_BATCH_BYTES: a hand-over per file woke the worker hundreds of
    // times on charts of many small templates, each wake a wait for a core on a busy machine.
    let (tx, rx) = std::sync::mpsc::channel::<Batch>();
    let mut batch: Batch = Vec::new();
    let mut batch_bytes = 0;
    let mut out = BTreeMap::new();
    let hand_over = move |batch: Batch, out: &mut BTreeMap<String, RenderedFile>| {
        // The queue outlives the sender, so a send cannot fail; if it did, the heads are
        // read here.
        if let Err(e) = tx.send(batch) {
            for (name, content) in e.0 {
                let heads = file_heads(&name, &content);
                out.insert(name, RenderedFile { content, heads });
            }
        }
    };
    let queue = Arc::new(std::sync::Mutex::new(rx));
    let worker = if second_thread {
        HeadsWorker::start(queue.clone())
    } else {
        None
    };
    for name in &names {
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.starts_with('_') {
            continue;
        }
        let r = &tpls[name];
        r.data.insert(
            "Template",
            Value::map([
                ("Name", Value::str(name)),
                ("BasePath", Value::str(&r.base_path)),
            ]),
        );
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(limit_error(Limit::Time(budget), None, None, options));
        }
        // One context per template (its own seed), carrying the totals: the limits bound the
        // whole render.
        let mut ctx = ExecContext::new(seed_for(name, options))
            .with_limits(limits)
            .with_usage(steps_used, bytes_used, memory_used)
            .with_deadline(remaining);
        let res = set.execute(name, &Value::Map(r.data.clone()), &mut ctx);
        steps_used = ctx.steps();
        memory_used = ctx.memory_bytes();
        match res {
            Ok(s) => {
                bytes_used += s.len();
                let content = strip_no_value(s);
                batch_bytes += content.len();
                batch.push((name.clone(), content));
                if batch_bytes >= HEADS_BATCH_BYTES {
                    hand_over(std::mem::take(&mut batch), &mut out);
                    batch_bytes = 0;
                }
            }
            // Returning drops the sender and the worker handle: the worker sees the queue
            // close, and ends.
            Err(text_template::Error::Limit { limit, template }) => {
                return Err(limit_error(limit, Some(name), Some(&template), options));
            }
            Err(text_template::Error::Exec(e)) => {
                return Err(NativeRenderer::chart_err(format!(
                    "{}{DEBUG_HINT}",
                    cleanup_exec_error(name, e.message())
                )));
            }
            Err(e) => {
                return Err(NativeRenderer::chart_err(format!("{e}{DEBUG_HINT}")));
            }
        }
    }
    if !batch.is_empty() {
        hand_over(batch, &mut out);
    }
    // Closing the queue (the sender goes with the closure) ends the worker once it is empty.
    drop(hand_over);
    read_heads(&queue, &mut out, None);
    match worker {
        Some(w) => out.extend(w.finish(set, teardown)),
        None => teardown.dispose(set),
    }
    teardown.dispose(tpls);
    Ok(out)
}

/// Rendered files (name, output) handed to whichever thread reads their heads.
type Batch = Vec<(String, String)>;

/// Output gathered before it is handed over for its heads to be read.
const HEADS_BATCH_BYTES: usize = 64 << 10;

/// Reads heads from the queue until it is closed and empty, counting in `taken` the batches
/// it took (while it holds the queue: whoever then finds the queue closed and empty knows every
/// batch taken is counted).
fn read_heads(
    queue: &std::sync::Mutex<std::sync::mpsc::Receiver<Batch>>,
    out: &mut BTreeMap<String, RenderedFile>,
    taken: Option<&std::sync::atomic::AtomicUsize>,
) {
    let next = || {
        let rx = queue.lock().ok()?;
        let batch = rx.recv().ok()?;
        if let Some(taken) = taken {
            taken.fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        Some(batch)
    };
    while let Some(batch) = next() {
        for (name, content) in batch {
            let heads = file_heads(&name, &content);
            out.insert(name, RenderedFile { content, heads });
        }
    }
}

/// The second thread of a large render: reads heads from the shared queue, hands them back,
/// then frees the template set it is given (thousands of small allocations) so the rendering
/// thread need not wait for that.
struct HeadsWorker {
    done: std::sync::mpsc::Receiver<BTreeMap<String, RenderedFile>>,
    trash: std::sync::mpsc::Sender<TemplateSet>,
    /// Batches the worker has taken from the queue.
    taken: Arc<std::sync::atomic::AtomicUsize>,
}

impl HeadsWorker {
    /// Starts the thread; `None` when no thread can be started (the caller reads the heads).
    fn start(
        queue: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<Batch>>>,
    ) -> Option<HeadsWorker> {
        let (done_tx, done) = std::sync::mpsc::channel();
        let (trash, trash_rx) = std::sync::mpsc::channel::<TemplateSet>();
        let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = taken.clone();
        std::thread::Builder::new()
            .name("manifest-heads".into())
            .spawn(move || {
                let mut out = BTreeMap::new();
                read_heads(&queue, &mut out, Some(&counter));
                // The renderer may have given up (an error): then nobody listens.
                let _ = done_tx.send(out);
                drop(trash_rx.recv());
            })
            .ok()?;
        Some(HeadsWorker { done, trash, taken })
    }

    /// The heads the worker read, handing it `set` to free; called once the queue is closed
    /// and empty. A worker that took no batch has none to give: it is not waited for (it may
    /// not have started yet, when a busy host runs threads late).
    fn finish(self, set: TemplateSet, teardown: Teardown) -> BTreeMap<String, RenderedFile> {
        let heads = if self.taken.load(std::sync::atomic::Ordering::Acquire) == 0 {
            BTreeMap::new()
        } else {
            self.done.recv().expect("manifest head thread panicked")
        };
        match teardown {
            // If the thread is gone, the set is freed here instead.
            Teardown::Free => drop(self.trash.send(set)),
            Teardown::LeaveToExit => std::mem::forget(set),
        }
        heads
    }
}

/// Below this much template text, heads are read on the rendering thread: a small chart's
/// heads take less time than starting a thread (and its allocator pages) costs.
const SECOND_THREAD_BYTES: usize = 128 << 10;

/// Whether a second thread reads manifest heads while templates execute: a large chart and a
/// second core.
fn second_thread(texts: &[(&str, &str)]) -> bool {
    let total: usize = texts.iter().map(|(_, text)| text.len()).sum();
    total >= SECOND_THREAD_BYTES && crate::cores() > 1
}

/// One template's output with the heads of its documents (or the YAML error Helm reports).
struct RenderedFile {
    content: String,
    heads: Result<Vec<DocHead>, String>,
}

/// A document of a rendered file: its byte range and `SimpleHead` (kind, hook annotation).
struct DocHead {
    range: std::ops::Range<usize>,
    kind: String,
    hook: Option<String>,
}

/// Whether `helm template` splits this file into manifests (not helpers, notes or blanks).
fn is_manifest_file(path: &str, content: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    !path.ends_with("NOTES.txt") && !base.starts_with('_') && !content.trim().is_empty()
}

/// The documents of a rendered file and their heads; empty for files that are not manifests.
fn file_heads(path: &str, content: &str) -> Result<Vec<DocHead>, String> {
    if !is_manifest_file(path, content) {
        return Ok(Vec::new());
    }
    split_manifest_ranges(content)
        .into_iter()
        .map(|range| {
            let (kind, hook) = simple_head(&content[range.clone()])?;
            Ok(DocHead { range, kind, hook })
        })
        .collect()
}

/// Helm's `strings.ReplaceAll(out, "<no value>", "")`, without copying output that has none.
fn strip_no_value(s: String) -> String {
    const NO_VALUE: &str = "<no value>";
    let b = s.as_bytes();
    let mut from = 0;
    let first = loop {
        match s[from..].find('<') {
            None => return s,
            Some(i) if b[from + i..].starts_with(NO_VALUE.as_bytes()) => break from + i,
            Some(i) => from += i + 1,
        }
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    out.push_str(&s[first..].replace(NO_VALUE, ""));
    out
}

/// The hook events Helm knows.
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// `releaseutil.InstallOrder`.
pub(crate) const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

struct Doc<'a> {
    path: &'a str,
    content: &'a str,
    kind: &'a str,
    test: bool,
}

/// `SplitManifests`: split on `(?:^|\s*\n)---\s*`, trim each, drop empties.
#[cfg(test)]
pub(crate) fn split_manifests(big: &str) -> Vec<&str> {
    split_manifest_ranges(big)
        .into_iter()
        .map(|r| &big[r])
        .collect()
}

/// [`split_manifests`] as byte ranges of `big`.
fn split_manifest_ranges(big: &str) -> Vec<std::ops::Range<usize>> {
    let trimmed = big.trim();
    let base = big.len() - big.trim_start().len();
    let mut out = Vec::new();
    let mut push = |from: usize, to: usize| {
        let piece = &trimmed[from..to];
        if !piece.is_empty() {
            let lead = piece.len() - piece.trim_start().len();
            let start = base + from + lead;
            out.push(start..start + piece.trim().len());
        }
    };
    let mut last = 0;
    for (start, end) in separators(trimmed.as_bytes()) {
        push(last, start);
        last = end;
    }
    push(last, trimmed.len());
    out
}

/// Go's `\s` in RE2: what the separator pattern counts as space.
fn is_sep_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// The matches of Helm's separator `(?:^|\s*\n)---\s*` in `text`, leftmost-first and
/// without overlaps, as a regex engine finds them (this runs on every rendered file; compiling
/// the regex cost more than splitting a small chart's output).
///
/// A match that is not at the very start holds `\n---`; it begins where the run of spaces
/// before that newline begins (not before the previous match's end) and ends after the spaces
/// that follow the dashes.
fn separators(text: &[u8]) -> Vec<(usize, usize)> {
    let skip_spaces = |mut i: usize| {
        while i < text.len() && is_sep_space(text[i]) {
            i += 1;
        }
        i
    };
    let mut found = Vec::new();
    let mut from = 0;
    if text.starts_with(b"---") {
        from = skip_spaces(3);
        found.push((0, from));
    }
    let mut search = from;
    while let Some(i) = memchr::memmem::find(&text[search..], b"\n---") {
        let newline = search + i;
        let mut start = newline;
        while start > from && is_sep_space(text[start - 1]) {
            start -= 1;
        }
        let end = skip_spaces(newline + 4);
        found.push((start, end));
        from = end;
        search = end;
    }
    found
}

fn head_error(path: &str, msg: String) -> RenderError {
    NativeRenderer::chart_err(format!("YAML parse error on {path}: {msg}{DEBUG_HINT}"))
}

/// The `SimpleHead` of a document: (kind, hook annotation).
fn simple_head(doc: &str) -> Result<(String, Option<String>), String> {
    // Every document is read whole for its errors, as `yaml.Unmarshal` does, but only the
    // head's levels are built: root → metadata → annotations → their values.
    let v = yaml11::parse_value_shallow(doc, &yaml11::Limits::default(), 3)
        .map_err(|e| yamlconv::yaml_error(&e))?;
    let field_err = |kind: &str, f: &str, ty: &str| {
        format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go struct field SimpleHead.{f} of type {ty}"
        )
    };
    let m = match &v {
        yaml11::Value::Null => return Ok((String::new(), None)),
        yaml11::Value::Mapping(m) => m,
        other => {
            return Err(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type releaseutil.SimpleHead",
                yamlconv::json_kind(other)
            ));
        }
    };
    let s = |v: &yaml11::Value, f: &str| {
        yamlconv::target_string(v, yamlconv::Target::String)
            .ok_or_else(|| field_err(yamlconv::json_kind(v), f, "string"))
    };
    let mut kind = String::new();
    let mut hook = None;
    for (k, val) in m.iter() {
        match k.to_ascii_lowercase().as_str() {
            "apiversion" => {
                s(val, "apiVersion")?;
            }
            "kind" => kind = s(val, "kind")?,
            "metadata" => match val {
                yaml11::Value::Null => {}
                yaml11::Value::Mapping(md) => {
                    for (mk, mv) in md.iter() {
                        match mk.to_ascii_lowercase().as_str() {
                            "name" => {
                                s(mv, "metadata.name")?;
                            }
                            "annotations" => match mv {
                                yaml11::Value::Null => {}
                                yaml11::Value::Mapping(an) => {
                                    for (ak, av) in an.iter() {
                                        let text = s(av, "metadata.annotations")?;
                                        if ak == "helm.sh/hook" {
                                            hook = Some(text);
                                        }
                                    }
                                }
                                other => {
                                    return Err(field_err(
                                        yamlconv::json_kind(other),
                                        "metadata.annotations",
                                        "map[string]string",
                                    ));
                                }
                            },
                            _ => {}
                        }
                    }
                }
                other => {
                    return Err(field_err(
                        yamlconv::json_kind(other),
                        "metadata",
                        "struct { Name string \"json:\\\"name\\\"\"; Annotations map[string]string \"json:\\\"annotations\\\"\" }",
                    ));
                }
            },
            _ => {}
        }
    }
    Ok((kind, hook))
}

fn kind_rank(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

/// `lessByKind` as a total order for a stable sort.
fn by_kind(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (kind_rank(a), kind_rank(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Less,
        (None, Some(_)) => Greater,
        (None, None) => a.cmp(b),
    }
}

fn crd_objects(c: &Chart, full_path: &str, out: &mut Vec<(String, Arc<FileContent>)>) {
    for (name, data) in &c.files {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e);
        if name.starts_with("crds/") && matches!(ext, Some("yaml" | "yml" | "json")) {
            out.push((format!("{full_path}/{name}"), data.clone()));
        }
    }
    for d in &c.dependencies {
        crd_objects(d, &format!("{full_path}/charts/{}", d.name()), out);
    }
}

/// `renderResources` plus `helm template`'s printing.
fn assemble(
    root: &Chart,
    files: &BTreeMap<String, RenderedFile>,
    options: &Options,
) -> Result<String, RenderError> {
    let mut generic: Vec<Doc<'_>> = Vec::new();
    let mut hooks: Vec<Doc<'_>> = Vec::new();
    for (path, file) in files {
        let content = file.content.as_str();
        if !is_manifest_file(path, content) {
            continue;
        }
        let heads = file
            .heads
            .as_ref()
            .map_err(|e| head_error(path, e.clone()))?;
        for DocHead { range, kind, hook } in heads {
            let doc = &content[range.clone()];
            let kind = kind.as_str();
            match hook {
                None => generic.push(Doc {
                    path,
                    content: doc,
                    kind,
                    test: false,
                }),
                Some(h) => {
                    let events: Vec<String> = h
                        .split(',')
                        .map(|e| e.trim().to_ascii_lowercase())
                        .collect();
                    if events.iter().any(|e| !HOOK_EVENTS.contains(&e.as_str())) {
                        continue;
                    }
                    let test = events.iter().any(|e| e == "test" || e == "test-success");
                    hooks.push(Doc {
                        path,
                        content: doc,
                        kind,
                        test,
                    });
                }
            }
        }
    }
    generic.sort_by(|a, b| by_kind(a.kind, b.kind));
    hooks.sort_by(|a, b| by_kind(a.kind, b.kind));
    let size: usize = generic
        .iter()
        .chain(&hooks)
        .map(|d| d.path.len() + d.content.len() + 16)
        .sum();
    let mut b = String::with_capacity(size);
    if options.include_crds {
        let mut crds = Vec::new();
        crd_objects(root, root.name(), &mut crds);
        for (name, data) in crds {
            b.push_str(&format!(
                "---\n# Source: {name}\n{}\n",
                String::from_utf8_lossy(data.bytes())
            ));
        }
    }
    let push_doc = |b: &mut String, d: &Doc<'_>| {
        b.push_str("---\n# Source: ");
        b.push_str(d.path);
        b.push('\n');
        b.push_str(d.content);
        b.push('\n');
    };
    for m in &generic {
        push_doc(&mut b, m);
    }
    // `strings.TrimSpace` of the manifests, then a newline.
    b.truncate(b.trim_end().len());
    b.drain(..b.len() - b.trim_start().len());
    b.push('\n');
    if !options.no_hooks {
        for h in &hooks {
            if options.skip_tests && h.test {
                continue;
            }
            push_doc(&mut b, h);
        }
    }
    Ok(b)
}

/// Functions the template engine registers (so charts parse) but does not execute exactly as
/// Helm: `fromToml` ignores `[table]` sections. A fixed list, not a probe: probing would run
/// key generation at every start.
pub fn unsupported_functions() -> &'static [String] {
    static LIST: OnceLock<Vec<String>> = OnceLock::new();
    LIST.get_or_init(|| vec!["fromToml".to_owned()])
}

/// What in this chart the native renderer does not support (empty when it renders it all):
/// calls of [`unsupported_functions`] in any template, subcharts included.
pub fn unsupported_features(chart: &ChartFiles) -> Vec<String> {
    let mut budget = Budget::new(budget::DEFAULT_MAX_MEMORY_BYTES);
    unsupported_features_within(chart, &mut budget, 0)
}

/// [`unsupported_features`], decompressing nested archives within one budget and depth (an
/// archive that cannot be read here fails the render later, with its error).
fn unsupported_features_within(
    chart: &ChartFiles,
    budget: &mut Budget,
    depth: usize,
) -> Vec<String> {
    let unsupported = unsupported_functions();
    let mut found = Vec::new();
    if unsupported.is_empty() {
        return found;
    }
    // Only templates and archives are read (a directory's other files stay unread).
    for (path, content) in chart.shared() {
        let in_templates = crate::files::in_templates(path);
        let is_archive = path.ends_with(".tgz");
        let data = if is_archive || in_templates {
            content.bytes()
        } else {
            continue;
        };
        let texts: Vec<(String, String)> = if is_archive {
            let limits = crate::FileLimits {
                max_total_bytes: budget.remaining(),
                ..crate::FileLimits::default()
            };
            ChartFiles::from_tgz(data, limits)
                .ok()
                .filter(|sub| {
                    depth < budget::MAX_SUBCHART_DEPTH
                        && budget.charge(sub.total_bytes(), path).is_ok()
                })
                .map(|sub| {
                    unsupported_features_within(&sub, budget, depth + 1)
                        .into_iter()
                        .map(|f| (f, String::new()))
                        .collect()
                })
                .unwrap_or_default()
        } else if in_templates {
            // The names are ASCII, which a lossy conversion keeps where it is and never makes:
            // a template whose bytes hold none of them holds none as text either, and most hold
            // none (a Bitnami chart's 500 KB were converted and searched for 9 % of a render).
            if !unsupported
                .iter()
                .any(|name| memchr::memmem::find(data, name.as_bytes()).is_some())
            {
                continue;
            }
            vec![(String::new(), String::from_utf8_lossy(data).into_owned())]
        } else {
            continue;
        };
        for (pre, text) in texts {
            if !pre.is_empty() {
                if !found.contains(&pre) {
                    found.push(pre);
                }
                continue;
            }
            for name in unsupported {
                let hit = text.match_indices(name.as_str()).any(|(i, _)| {
                    let before = text[..i].chars().next_back();
                    let after = text[i + name.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$')
                        && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                let feature = format!("function {name}");
                if hit && !found.contains(&feature) {
                    found.push(feature);
                }
            }
        }
    }
    found.sort();
    found
}

/// Native unless the chart uses something native does not support and a helm binary is
/// available; [`Outcome::renderer`] says which ran.
#[derive(Debug, Default)]
pub struct AutoRenderer {
    native: NativeRenderer,
    helm: Option<HelmCliRenderer>,
}

impl AutoRenderer {
    /// Native, with `helm` (if any) as the fallback.
    pub fn new(native: NativeRenderer, helm: Option<HelmCliRenderer>) -> Self {
        AutoRenderer { native, helm }
    }

    /// Native, falling back to a helm binary found like [`HelmCliRenderer::locate`].
    pub fn locate() -> Self {
        Self::new(NativeRenderer::new(), HelmCliRenderer::locate())
    }

    /// The renderer this chart would use.
    pub fn choose(&self, chart: &ChartFiles) -> &dyn Renderer {
        match &self.helm {
            Some(h) if !unsupported_features(chart).is_empty() => h,
            _ => &self.native,
        }
    }
}

impl Renderer for AutoRenderer {
    fn info(&self) -> RendererInfo {
        RendererInfo {
            name: "auto",
            version: NATIVE_VERSION.to_string(),
        }
    }

    fn render(&self, chart: &ChartFiles, options: &Options) -> Result<Outcome, RenderError> {
        self.choose(chart).render(chart, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_order() {
        let mut v: Vec<String> = [
            "a/templates/b.yaml",
            "a/charts/x/templates/a.yaml",
            "a/templates/a.yaml",
            "a/templates/_h.tpl",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        sort_templates(&mut v);
        assert_eq!(
            v,
            [
                "a/charts/x/templates/a.yaml",
                "a/templates/b.yaml",
                "a/templates/a.yaml",
                "a/templates/_h.tpl"
            ]
        );
    }

    #[test]
    fn a_heads_worker_that_took_no_batch_is_not_waited_for() {
        // A worker that has not started has sent nothing and may not for milliseconds: with
        // the queue closed and empty it has nothing to give, and finishing returns at once.
        let (done_tx, done) = std::sync::mpsc::channel();
        let (trash, _trash_rx) = std::sync::mpsc::channel();
        let worker = HeadsWorker {
            done,
            trash,
            taken: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        };
        assert!(
            worker
                .finish(TemplateSet::helm(), Teardown::Free)
                .is_empty()
        );
        drop(done_tx);
    }

    #[test]
    fn heads_are_read_and_batches_counted_until_the_queue_closes() {
        let (tx, rx) = std::sync::mpsc::channel::<Batch>();
        tx.send(vec![("a.yaml".into(), "kind: A\n".into())])
            .unwrap();
        tx.send(vec![("b.yaml".into(), "kind: B\n".into())])
            .unwrap();
        drop(tx);
        let (queue, taken) = (Mutex::new(rx), std::sync::atomic::AtomicUsize::new(0));
        let mut out = BTreeMap::new();
        read_heads(&queue, &mut out, Some(&taken));
        assert_eq!(taken.into_inner(), 2);
        assert_eq!(out.keys().collect::<Vec<_>>(), ["a.yaml", "b.yaml"]);
        assert_eq!(out["b.yaml"].heads.as_ref().unwrap()[0].kind, "B");
    }

    #[test]
    fn splits_like_helm() {
        assert_eq!(
            split_manifests("a: 1\n---\nb: 2\n--- \n\n---\n"),
            ["a: 1", "b: 2", "---"]
        );
        assert_eq!(split_manifests("---\na: 1"), ["a: 1"]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// The hand-written splitter finds exactly what Helm's separator regex finds.
        #[test]
        fn separators_match_helms_regex(text in "[-a \t\n\r\x0b\x0c]{0,40}") {
            let re = regex::Regex::new(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*").unwrap();
            let want: Vec<(usize, usize)> =
                re.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            proptest::prop_assert_eq!(separators(text.as_bytes()), want);
        }
    }

    #[test]
    fn kind_order() {
        let mut k = vec!["Zeta", "Deployment", "Alpha", "Namespace", "Service"];
        k.sort_by(|a, b| by_kind(a, b));
        assert_eq!(k, ["Namespace", "Service", "Deployment", "Alpha", "Zeta"]);
    }

    #[test]
    fn exec_error_cleanup() {
        assert_eq!(
            cleanup_exec_error(
                "c/templates/a.yaml",
                r#"template: c/templates/a.yaml:1:6: executing "c/templates/a.yaml" at <required "x" .Values.a>: error calling required: HELM_ERR_STARTneed imgHELM_ERR_END"#
            ),
            "execution error at (c/templates/a.yaml:1:6): need img"
        );
    }
}
