//! Native render of the largest corpus case (argo-cd) and a small one (metrics-server), with
//! `helm template` on the same charts timed alongside when a helm binary is present.

use std::path::PathBuf;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use helm_render::{
    ChartFiles, FileLimits, HelmCliRenderer, NativeRenderer, Options, Renderer, ValuesFile,
};

fn case(name: &str) -> Option<(ChartFiles, Options)> {
    let dir = std::env::var_os("CHARTIMPACT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus")
        })
        .join("cases")
        .join(name);
    let files = ChartFiles::from_dir(&dir.join("after"), FileLimits::default()).ok()?;
    let values = std::fs::read_dir(dir.join("values"))
        .map(|rd| {
            rd.flatten()
                .map(|e| ValuesFile {
                    name: e.file_name().to_string_lossy().into_owned(),
                    content: std::fs::read(e.path()).unwrap(),
                })
                .collect()
        })
        .unwrap_or_default();
    Some((
        files,
        Options {
            values,
            ..Options::default()
        },
    ))
}

fn bench(c: &mut Criterion) {
    let native = NativeRenderer::new();
    let helm = HelmCliRenderer::locate();
    for (label, name) in [
        ("large argo-cd 8.0.7", "argo-cd__7.8.13__8.0.7"),
        (
            "small metrics-server 3.13.1",
            "metrics-server__3.12.2__3.13.1",
        ),
    ] {
        let Some((files, opts)) = case(name) else {
            eprintln!("skipping {label}: no corpus");
            continue;
        };
        c.bench_function(&format!("native {label}"), |b| {
            b.iter(|| native.render(&files, &opts).unwrap())
        });
        if let Some(h) = &helm {
            let runs = 5;
            let t = Instant::now();
            for _ in 0..runs {
                h.render(&files, &opts).unwrap();
            }
            let helm_ms = t.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);
            let t = Instant::now();
            for _ in 0..runs {
                native.render(&files, &opts).unwrap();
            }
            let native_ms = t.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);
            println!(
                "{label}: native {native_ms:.2} ms, helm template {helm_ms:.2} ms, {:.1}x",
                helm_ms / native_ms
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
