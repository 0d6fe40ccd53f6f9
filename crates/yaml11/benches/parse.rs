//! Reading a Helm render stream: this crate against serde-saphyr on the same text.
//!
//! The input is the largest `rendered/*.yaml` of the corpus (`CHARTIMPACT_CORPUS`, or
//! `tests/data/corpus` of the workspace); without a corpus, a synthetic stream of
//! Deployment-like documents of about the same size.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn corpus_dir() -> PathBuf {
    match std::env::var_os("CHARTIMPACT_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus"),
    }
}

/// The largest rendered stream of the corpus, with its name.
fn largest_render() -> Option<(String, String)> {
    let cases = std::fs::read_dir(corpus_dir().join("cases")).ok()?;
    let mut best: Option<(u64, PathBuf)> = None;
    for case in cases.flatten() {
        for side in ["before.yaml", "after.yaml"] {
            let path = case.path().join("rendered").join(side);
            if let Ok(meta) = path.metadata()
                && best.as_ref().is_none_or(|(size, _)| meta.len() > *size)
            {
                best = Some((meta.len(), path));
            }
        }
    }
    let (_, path) = best?;
    let text = std::fs::read_to_string(&path).ok()?;
    Some((path.display().to_string(), text))
}

/// About 1.5 MB of Deployment- and ConfigMap-shaped documents.
fn synthetic() -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.len() < 1_500_000 {
        out.push_str(&format!(
            "---\n# Source: chart/templates/deployment-{i}.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"release-app-{i}\"\n  labels:\n    app.kubernetes.io/name: app\n    app.kubernetes.io/instance: release\n    helm.sh/chart: chart-1.2.{i}\nspec:\n  replicas: {r}\n  selector:\n    matchLabels: {{app: app-{i}, tier: backend}}\n  template:\n    spec:\n      containers:\n        - name: app\n          image: 'registry.example.com/app:v1.{i}'\n          args: [--port=8080, --verbose, \"--name=app-{i}\"]\n          ports:\n            - containerPort: 8080\n              protocol: TCP\n          env:\n            - name: ENABLED\n              value: \"true\"\n          resources:\n            limits: {{cpu: 500m, memory: 128Mi}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{i}\ndata:\n  config.yaml: |\n    server:\n      port: 8080\n      mode: yes\n    # a comment inside the text\n    list:\n      - a\n      - b\n  plain: this is a long plain scalar\n    that folds onto a second line\n",
            r = i % 5
        ));
        i += 1;
    }
    out
}

fn bench(c: &mut Criterion) {
    let (name, text) = largest_render().unwrap_or_else(|| ("synthetic".to_owned(), synthetic()));
    eprintln!("input: {name} ({} bytes)", text.len());
    let limits = yaml11::Limits::default();
    let mut group = c.benchmark_group("parse_stream");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(20);
    group.bench_function("yaml11", |b| {
        b.iter(|| yaml11::parse_stream(black_box(&text), &limits).unwrap())
    });
    // What a renderer does to sort manifests: every document read for its errors, only the
    // head (kind, metadata, annotations) built.
    let documents: Vec<&str> = text.split("\n---\n").collect();
    group.bench_function("yaml11 heads (shallow, per document)", |b| {
        b.iter(|| {
            for doc in &documents {
                black_box(yaml11::parse_value_shallow(black_box(doc), &limits, 3).unwrap());
            }
        })
    });
    group.bench_function("yaml11 full (per document)", |b| {
        b.iter(|| {
            for doc in &documents {
                black_box(yaml11::parse_value(black_box(doc), &limits).unwrap());
            }
        })
    });
    let options = serde_saphyr::options! {
        legacy_octal_numbers: true,
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 100_000_000,
            max_events: 100_000_000,
            max_total_scalar_bytes: 1 << 30,
            max_buffered_comment_events: 1 << 20,
        },
    };
    group.bench_function("serde-saphyr", |b| {
        b.iter(|| {
            let docs: Vec<serde_json::Value> =
                serde_saphyr::from_multiple_with_options(black_box(&text), options.clone())
                    .unwrap();
            docs
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
