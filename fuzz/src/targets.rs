//! What each target runs on an input, and what it checks besides not crashing.

use std::sync::Arc;
use std::time::Duration;

use helm_render::{ChartFiles, NativeRenderer, Options, Renderer, ValuesFile};
use text_template::helm_objects::{FileContent, Files};
use text_template::{ExecContext, Limits, TemplateSet, Value};

/// The parts of a render target's input, in order.
pub const PART_SEPARATOR: &str = "\n#--part--\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Yaml,
    Template,
    Render,
    Webhook,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::Yaml,
        Target::Template,
        Target::Render,
        Target::Webhook,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Yaml => "yaml",
            Target::Template => "template",
            Target::Render => "render",
            Target::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == s)
    }

    /// Runs the input; `Err` is a property the code broke (a crash is reported apart).
    pub fn run(self, input: &[u8]) -> Result<(), String> {
        match self {
            Target::Yaml => yaml(input),
            Target::Template => template(input),
            Target::Render => render(input),
            Target::Webhook => webhook(input),
        }
    }
}

fn yaml_limits() -> yaml11::Limits {
    yaml11::Limits {
        max_value_bytes: 64 << 20,
        ..yaml11::Limits::default()
    }
}

/// Reads the input as a stream and as one value, fully and shallowly: the shallow read must
/// fail exactly when the full one does, and whatever is read must serialise.
fn yaml(input: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    let limits = yaml_limits();
    if let Ok(docs) = yaml11::parse_stream(&text, &limits) {
        for d in &docs {
            serde_json::to_string(&d.value).map_err(|e| format!("serialising: {e}"))?;
        }
    }
    let full = yaml11::parse_value(&text, &limits);
    for keep in 0..3 {
        let shallow = yaml11::parse_value_shallow(&text, &limits, keep);
        if full.is_ok() != shallow.is_ok() {
            return Err(format!(
                "shallow read (keep {keep}) disagrees with the full read: {:?} vs {:?}",
                shallow.err(),
                full.as_ref().err()
            ));
        }
    }
    Ok(())
}

fn data() -> Value {
    let files = Files::new([
        (
            "files/a.txt".to_string(),
            Arc::new(FileContent::new(b"hello\nworld\n".to_vec())),
        ),
        (
            "files/b.bin".to_string(),
            Arc::new(FileContent::new(vec![0, 159, 146, 150])),
        ),
        (
            format!("files/{}", "a".repeat(40)),
            Arc::new(FileContent::new(b"x".to_vec())),
        ),
    ]);
    Value::map([
        (
            "Values",
            Value::map([
                ("a", Value::str("x")),
                ("n", Value::Float(3.0)),
                (
                    "list",
                    Value::list(vec![Value::Float(1.0), Value::str("b"), Value::Nil]),
                ),
                (
                    "map",
                    Value::map([("k", Value::str("v")), ("z", Value::Bool(true))]),
                ),
            ]),
        ),
        (
            "Release",
            Value::map([
                ("Name", Value::str("r")),
                ("Namespace", Value::str("default")),
            ]),
        ),
        ("Chart", Value::map([("Name", Value::str("c"))])),
        ("Files", Value::object(files)),
        (
            "Capabilities",
            Value::object(text_template::helm_objects::Capabilities::default()),
        ),
        (
            "Template",
            Value::map([("Name", Value::str("c/templates/t.yaml"))]),
        ),
    ])
}

fn template_limits() -> Limits {
    Limits {
        max_steps: 300_000,
        max_memory_bytes: 32 << 20,
        ..Limits::default()
    }
}

/// Parses and executes the input twice: the same seed gives the same result.
fn template(input: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    let mut set = TemplateSet::helm();
    if set.parse("t", &text).is_err() {
        return Ok(());
    }
    // Fresh data each time: templates may change maps in place (`set`, `merge`).
    let run = || {
        let mut ctx = ExecContext::new(7)
            .with_limits(template_limits())
            .with_deadline(Duration::from_secs(3));
        set.execute("t", &data(), &mut ctx)
    };
    let (a, b) = (run(), run());
    match (&a, &b) {
        // A deadline may fall at a different point of two runs.
        (Err(text_template::Error::Limit { .. }), _)
        | (_, Err(text_template::Error::Limit { .. })) => Ok(()),
        (Ok(x), Ok(y)) if x != y => {
            Err(format!("two runs differ: {:?} vs {:?}", short(x), short(y)))
        }
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => Err(format!("one run failed: {e}")),
        _ => Ok(()),
    }
}

fn short(s: &str) -> &str {
    let mut end = s.len().min(500);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A chart from the input's parts (values.yaml, a template, values.schema.json, `--set`
/// expressions, a request values file), rendered by the native renderer.
fn render(input: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    let mut parts = text.split(PART_SEPARATOR);
    let mut part = || parts.next().unwrap_or("").to_string();
    let (values, tpl, schema, set, request) = (part(), part(), part(), part(), part());
    let mut chart = ChartFiles::new();
    chart.insert("Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
    chart.insert("values.yaml", values);
    chart.insert("templates/t.yaml", tpl);
    chart.insert("files/a.txt", "a\n");
    if !schema.is_empty() {
        chart.insert("values.schema.json", schema);
    }
    let options = Options {
        set: set
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        values: vec![ValuesFile {
            name: "request".into(),
            content: request.into_bytes(),
        }],
        timeout: Duration::from_secs(3),
        max_memory_bytes: 64 << 20,
        ..Options::default()
    };
    let renderer = NativeRenderer::with_limits(template_limits());
    let _ = renderer.render(&chart, &options);
    Ok(())
}

/// `event\0content-type\0body`: the body through payload extraction, parsing, routing and
/// the audit summary.
fn webhook(input: &[u8]) -> Result<(), String> {
    let mut it = input.splitn(3, |&b| b == 0);
    let event = String::from_utf8_lossy(it.next().unwrap_or(b""));
    let content_type = String::from_utf8_lossy(it.next().unwrap_or(b""));
    let body = it.next().unwrap_or(b"");
    let ct = (!content_type.is_empty()).then_some(content_type.as_ref());
    if let Ok(json) = github_events::payload_bytes(ct, body)
        && let Ok(event) = github_events::parse(&event, &json)
    {
        let _ = github_events::route(&event, &github_events::RoutingPolicy::default());
        let _ = github_events::summary(&event);
    }
    Ok(())
}
