//! Every corpus case through git, with the native renderer and with the real helm: the same
//! structured diff as diffing helm's reference renders.

use std::path::PathBuf;
use std::sync::Arc;

use service::{CompareRequest, CompareService, Context, RendererMode};

use super::{RepoBuilder, tree};

/// The corpus (`tests/data/corpus`, or `CHARTIMPACT_CORPUS`); missing data fails the test.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("CHARTIMPACT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus")
        });
    assert!(
        dir.join("cases").is_dir(),
        "the test corpus is missing at {}: it is part of the repository (tests/data/corpus); restore it with git, or point CHARTIMPACT_CORPUS at a copy",
        dir.display()
    );
    dir
}

#[test]
fn compare_from_git_with_the_native_renderer_equals_diff_of_reference_renders() {
    compare_every_case(RendererMode::Native);
}

#[test]
fn compare_from_git_with_helm_equals_diff_of_reference_renders() {
    if helm_render::HelmCliRenderer::locate().is_none() {
        let why = "no helm binary (scripts/install-helm.sh)";
        assert!(
            std::env::var_os("CHARTIMPACT_REQUIRE_HELM").is_none_or(|v| v != "1"),
            "{why}"
        );
        eprintln!("skipping: {why}");
        return;
    }
    compare_every_case(RendererMode::Helm);
}

fn compare_every_case(mode: RendererMode) {
    let corpus = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let engine = service::Engine::builder(tmp.path().join("data"))
        .policy(chart_source::UrlPolicy {
            allow_local: true,
            ..Default::default()
        })
        .renderers(service::Renderers {
            native: Some(Arc::new(helm_render::NativeRenderer::new())),
            helm: helm_render::HelmCliRenderer::locate()
                .map(|h| Arc::new(h) as Arc<dyn helm_render::Renderer>),
            ..Default::default()
        })
        .build()
        .unwrap();
    let mut cases: Vec<_> = std::fs::read_dir(corpus.join("cases"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    let mut mismatches = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let repo = RepoBuilder::new(tmp.path().join("repos").join(&name));
        let values = std::fs::read_dir(case.join("values"))
            .ok()
            .and_then(|mut rd| rd.next())
            .and_then(Result::ok)
            .map(|e| e.path());
        for side in ["before", "after"] {
            let mut files = tree(&case.join(side), "chart/");
            if let Some(v) = &values {
                files.push(("ci-values.yaml".into(), std::fs::read(v).unwrap()));
            }
            repo.commit(&files, side);
        }
        let req = CompareRequest {
            repository: repo.dir.to_string_lossy().into_owned(),
            chart_path: "chart".into(),
            version1: "before".into(),
            version2: "after".into(),
            values_file: values.as_ref().map(|_| "ci-values.yaml".to_owned()),
            renderer: Some(mode),
            ..CompareRequest::default()
        };
        let got = engine
            .compare(&req, &Context::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let read = |side: &str| {
            std::fs::read_to_string(case.join(format!("rendered/{side}.yaml"))).unwrap()
        };
        let opts = diff_core::ParseOptions::default();
        let want = diff_core::compare(
            &diff_core::parse_manifest("before", &read("before"), &opts).unwrap(),
            &diff_core::parse_manifest("after", &read("after"), &opts).unwrap(),
            &diff_core::DiffOptionsBuilder::new().build().unwrap(),
        );
        let norm = |c: &diff_core::Comparison| {
            serde_json::to_string(&(
                &c.structured_diff.resources,
                &c.structured_diff.stats,
                &c.impact,
            ))
            .unwrap()
        };
        // Diffing two renders cannot know a subchart's version changed; the engine can (the
        // argo-cd cases upgrade redis-ha): leave its signals out of the comparison.
        let mut got = got.comparison;
        let signals = got.impact.signals.len();
        got.impact
            .signals
            .retain(|s| s.rule != diff_core::impact::SUBCHART_RULE);
        got.impact.totals.medium -= signals - got.impact.signals.len();
        if name.starts_with("argo-cd__7.8.13") {
            assert_eq!(
                signals - got.impact.signals.len(),
                1,
                "{name}: subchart signal"
            );
        }
        if norm(&got) != norm(&want) {
            mismatches.push(name);
        }
    }
    assert!(
        mismatches.is_empty(),
        "{mode:?}: compare differs from diff of helm's renders: {mismatches:?}"
    );
    assert!(cases.len() >= 28, "only {} corpus cases", cases.len());
    println!(
        "{mode:?}: {} of {} corpus cases identical",
        cases.len(),
        cases.len()
    );
}
