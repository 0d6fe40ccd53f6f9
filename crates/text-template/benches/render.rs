//! Parse + execute of a large real template set: the argo-cd chart from the corpus.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use text_template::helm_objects::{Capabilities, Files};
use text_template::{ExecContext, TemplateSet, Value};

fn chart_dir() -> Option<PathBuf> {
    let base = match std::env::var("CHARTIMPACT_CORPUS") {
        Ok(d) => PathBuf::from(d),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus"),
    };
    let d = base.join("cases/argo-cd__7.8.13__8.0.7/after");
    d.is_dir().then_some(d)
}

fn templates(dir: &Path) -> Vec<(String, String)> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out)
                } else {
                    out.push(p)
                }
            }
        }
    }
    let mut files = Vec::new();
    walk(&dir.join("templates"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(&f).ok()?;
            Some((
                format!("argo-cd/{}", f.strip_prefix(dir).ok()?.display()),
                text,
            ))
        })
        .collect()
}

fn context(dir: &Path, name: &str) -> Value {
    let values = std::fs::read_to_string(dir.join("values.yaml")).unwrap_or_default();
    let values = yaml11::parse_value(&values, &yaml11::Limits::default())
        .map(|v| Value::from_yaml(&v))
        .unwrap_or(Value::Nil);
    Value::map([
        ("Values", values),
        (
            "Release",
            Value::map([
                ("Name", Value::from("release")),
                ("Namespace", Value::from("default")),
                ("IsInstall", Value::Bool(true)),
                ("IsUpgrade", Value::Bool(false)),
                ("Revision", Value::Int(1)),
                ("Service", Value::from("Helm")),
            ]),
        ),
        (
            "Chart",
            Value::map([
                ("Name", Value::from("argo-cd")),
                ("Version", Value::from("8.0.7")),
                ("AppVersion", Value::from("v3.0.0")),
            ]),
        ),
        ("Capabilities", Value::object(Capabilities::default())),
        ("Files", Value::object(Files::default())),
        (
            "Template",
            Value::map([
                ("Name", Value::from(name)),
                ("BasePath", Value::from("argo-cd/templates")),
            ]),
        ),
    ])
}

fn bench(c: &mut Criterion) {
    let Some(dir) = chart_dir() else {
        eprintln!("skipping: corpus not found");
        return;
    };
    let files = templates(&dir);
    c.bench_function("argo-cd parse", |b| {
        b.iter(|| {
            let mut set = TemplateSet::helm();
            for (n, t) in &files {
                let _ = set.parse(n, t);
            }
            set
        })
    });
    let mut set = TemplateSet::helm();
    for (n, t) in &files {
        let _ = set.parse(n, t);
    }
    let renderable: Vec<&String> = files
        .iter()
        .map(|(n, _)| n)
        .filter(|n| !n.rsplit('/').next().unwrap_or("").starts_with('_'))
        .collect();
    let data: Vec<Value> = renderable.iter().map(|n| context(&dir, n)).collect();
    c.bench_function("argo-cd execute all templates", |b| {
        b.iter(|| {
            let mut ctx = ExecContext::new(1);
            let mut bytes = 0;
            for (n, d) in renderable.iter().zip(&data) {
                if let Ok(out) = set.execute(n, d, &mut ctx) {
                    bytes += out.len();
                }
            }
            bytes
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
