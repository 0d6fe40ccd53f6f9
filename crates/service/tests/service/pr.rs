//! Pull-request analysis over local repositories.

use std::sync::Arc;

use service::Context;
use service::pr::{COMMENT_MARKER, PrRequest, analyze};

use super::{FakeRenderer, RepoBuilder, engine_with, files};

#[test]
fn only_affected_charts_are_compared_with_config_scenarios_and_one_markdown_report() {
    let tmp = tempfile::tempdir().unwrap();
    let r = RepoBuilder::new(tmp.path().join("repo"));
    let cm = |n: &str, v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\ndata:\n  v: {v}\n")
    };
    r.commit(
        &files(&[
            ("charts/a/Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\n"),
            ("charts/a/templates/cm.yaml", &cm("a", "1")),
            ("charts/a/values-dev.yaml", "x: 1\n"),
            ("charts/b/Chart.yaml", "apiVersion: v2\nname: b\nversion: 1.0.0\n"),
            ("charts/b/templates/cm.yaml", &cm("b", "1")),
            (".chartimpact.yaml", "charts:\n- path: charts/a\n  scenarios:\n  - name: dev\n    valuesFiles: [charts/a/values-dev.yaml]\n  - name: default\n"),
        ]),
        "base",
    );
    r.commit(
        &files(&[
            ("charts/a/Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.1\n"),
            ("charts/a/templates/cm.yaml", &cm("a", "2")),
            ("charts/a/values-dev.yaml", "x: 1\n"),
            ("charts/b/Chart.yaml", "apiVersion: v2\nname: b\nversion: 1.0.0\n"),
            ("charts/b/templates/cm.yaml", &cm("b", "1")),
            ("charts/c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n"),
            ("charts/c/templates/cm.yaml", &cm("c", "1")),
            (".chartimpact.yaml", "charts:\n- path: charts/a\n  scenarios:\n  - name: dev\n    valuesFiles: [charts/a/values-dev.yaml]\n  - name: default\n"),
        ]),
        "head",
    );
    let engine = engine_with(&tmp.path().join("data"), Arc::new(FakeRenderer::default()));
    let report = analyze(
        &engine,
        &PrRequest {
            repository: r.dir.to_string_lossy().into_owned(),
            base: "base".into(),
            head: "head".into(),
            ..PrRequest::default()
        },
        &Context::default(),
    )
    .unwrap();
    let seen: Vec<(String, Option<String>, &str)> = report
        .charts
        .iter()
        .map(|c| (c.chart_path.clone(), c.scenario.clone(), c.status))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("charts/a".into(), Some("default".into()), "modified"),
            ("charts/a".into(), Some("dev".into()), "modified"),
            ("charts/c".into(), None, "added"),
        ]
    );
    assert!(report.charts.iter().all(|c| c.outcome.is_ok()));
    let added = report.charts[2].outcome.as_ref().unwrap();
    assert_eq!(added.comparison.structured_diff.stats.resources.added, 2);
    let md = report.markdown(Some("https://ci.example.com"));
    assert!(md.starts_with(COMMENT_MARKER));
    assert!(md.contains("| `charts/a` | dev | modified |"), "{md}");
    assert!(md.contains("| `charts/c` | default | added |"), "{md}");
    assert!(md.len() <= diff_core::report::MARKDOWN_LIMIT);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["charts"].as_array().unwrap().len(), 3);
}

#[test]
fn an_invalid_config_is_reported_not_ignored_silently() {
    let tmp = tempfile::tempdir().unwrap();
    let r = RepoBuilder::new(tmp.path().join("repo"));
    r.commit(
        &files(&[
            ("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n"),
            (
                "c/templates/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            ),
        ]),
        "base",
    );
    r.commit(
        &files(&[
            ("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.1\n"),
            (
                "c/templates/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
            ),
            (".chartimpact.yaml", "charts: nope\n"),
        ]),
        "head",
    );
    let engine = engine_with(&tmp.path().join("data"), Arc::new(FakeRenderer::default()));
    let report = analyze(
        &engine,
        &PrRequest {
            repository: r.dir.to_string_lossy().into_owned(),
            base: "base".into(),
            head: "head".into(),
            ..PrRequest::default()
        },
        &Context::default(),
    )
    .unwrap();
    assert!(report.config_error.is_some());
    assert!(
        report
            .markdown(None)
            .contains(".chartimpact.yaml` is invalid")
    );
}
