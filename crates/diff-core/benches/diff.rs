//! Parse + diff + classify of the largest corpus case (argo-cd, 2 × ~1.5 MB).
//!
//! Reads `CHARTIMPACT_CORPUS` (default `tests/data/corpus` of the workspace); without the
//! corpus it benches a synthetic stream of the same order of size.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diff_core::{DiffOptionsBuilder, ParseOptions, compare, parse_manifest};

fn inputs() -> (String, String, String) {
    let corpus = std::env::var_os("CHARTIMPACT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus")
        });
    let case = corpus.join("cases/argo-cd__7.8.13__8.0.7/rendered");
    if let (Ok(b), Ok(a)) = (
        std::fs::read_to_string(case.join("before.yaml")),
        std::fs::read_to_string(case.join("after.yaml")),
    ) {
        return ("argo-cd__7.8.13__8.0.7".into(), b, a);
    }
    let doc = |i: usize, image: &str| {
        format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  labels: {{app: a{i}}}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: app\n        image: {image}\n        args: [--a, --b, --c]\n        env:\n        - {{name: A, value: '1'}}\n        - {{name: B, value: '2'}}\n"
        )
    };
    let b: String = (0..3000).map(|i| doc(i, "app:1")).collect();
    let a: String = (0..3000)
        .map(|i| doc(i, if i % 3 == 0 { "app:2" } else { "app:1" }))
        .collect();
    ("synthetic".into(), b, a)
}

fn bench(c: &mut Criterion) {
    let (name, before, after) = inputs();
    let opts = DiffOptionsBuilder::new().build().unwrap();
    let popts = ParseOptions::default();
    let mut g = c.benchmark_group("diff-core");
    g.throughput(Throughput::Bytes((before.len() + after.len()) as u64));
    g.sample_size(20);
    g.bench_function(format!("parse+diff+classify/{name}"), |b| {
        b.iter(|| {
            let old = parse_manifest("before", &before, &popts).unwrap();
            let new = parse_manifest("after", &after, &popts).unwrap();
            compare(&old, &new, &opts)
        })
    });
    let old = parse_manifest("before", &before, &popts).unwrap();
    let new = parse_manifest("after", &after, &popts).unwrap();
    g.bench_function(format!("parse/{name}"), |b| {
        b.iter(|| parse_manifest("before", &before, &popts).unwrap())
    });
    g.bench_function(format!("diff+classify/{name}"), |b| {
        b.iter(|| compare(&old, &new, &opts))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
