//! Engine behaviour with a counting fake renderer: caches, values, errors, deadlines.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use service::{CompareError, CompareRequest, CompareService, Context};

use super::{FakeRenderer, RepoBuilder, engine_with, files};

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  key: ";

fn repo(tmp: &std::path::Path) -> RepoBuilder {
    let r = RepoBuilder::new(tmp.join("repo"));
    r.commit(
        &files(&[
            (
                "charts/app/Chart.yaml",
                "apiVersion: v2\nname: app\nversion: 1.0.0\n",
            ),
            ("charts/app/templates/cm.yaml", &format!("{CM}one\n")),
            ("charts/app/values-prod.yaml", "tier: prod-1\n"),
        ]),
        "v1",
    );
    r.commit(
        &files(&[
            (
                "charts/app/Chart.yaml",
                "apiVersion: v2\nname: app\nversion: 1.1.0\n",
            ),
            ("charts/app/templates/cm.yaml", &format!("{CM}two\n")),
            ("charts/app/values-prod.yaml", "tier: prod-2\n"),
        ]),
        "v2",
    );
    r
}

fn req(repo: &RepoBuilder) -> CompareRequest {
    CompareRequest {
        repository: repo.dir.to_string_lossy().into_owned(),
        chart_path: "charts/app".into(),
        version1: "v1".into(),
        version2: "v2".into(),
        ..CompareRequest::default()
    }
}

#[test]
fn compares_two_tags_and_reports_resolved_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let fake = Arc::new(FakeRenderer::default());
    let engine = engine_with(&tmp.path().join("data"), fake.clone());
    let resp = engine.compare(&req(&r), &Context::default()).unwrap();
    assert_eq!(resp.resolved.version1.len(), 40);
    assert_ne!(resp.resolved.version1, resp.resolved.version2);
    let changes: Vec<String> = resp
        .comparison
        .structured_diff
        .resources
        .iter()
        .flat_map(|r| r.changes.iter().map(|c| c.path.to_string()))
        .collect();
    assert!(changes.contains(&"data.key".to_string()), "{changes:?}");
    assert_eq!(resp.renderer.name, "native");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
    let json: serde_json::Value = serde_json::from_str(&resp.to_json()).unwrap();
    for field in [
        "success",
        "compareId",
        "version1",
        "version2",
        "resolved",
        "diff",
        "structuredDiffAvailable",
        "structuredDiff",
        "impact",
        "renderer",
        "timings",
    ] {
        assert!(!json[field].is_null(), "response lacks {field}");
    }
    assert_eq!(
        json["structuredDiff"]["metadata"]["compareId"],
        json["compareId"]
    );
}

#[test]
fn renders_are_cached_on_disk_across_engines_and_ids_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let data = tmp.path().join("data");
    let first = Arc::new(FakeRenderer::default());
    let a = engine_with(&data, first.clone())
        .compare(&req(&r), &Context::default())
        .unwrap();
    let second = Arc::new(FakeRenderer::default());
    let b = engine_with(&data, second.clone())
        .compare(&req(&r), &Context::default())
        .unwrap();
    assert_eq!(
        second.calls.load(Ordering::SeqCst),
        0,
        "a new engine on the same data dir renders nothing"
    );
    assert_eq!(a.compare_id, b.compare_id);
    assert_eq!(
        serde_json::to_string(&a.comparison.structured_diff.resources).unwrap(),
        serde_json::to_string(&b.comparison.structured_diff.resources).unwrap()
    );
    // A different option is a different comparison.
    let mut other = req(&r);
    other.ignore_labels = true;
    let c = engine_with(&data, second)
        .compare(&other, &Context::default())
        .unwrap();
    assert_ne!(a.compare_id, c.compare_id);
}

#[test]
fn values_file_is_read_at_each_revision_and_values_content_applies_after() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let engine = engine_with(&tmp.path().join("data"), Arc::new(FakeRenderer::default()));
    let mut q = req(&r);
    q.values_file = Some("charts/app/values-prod.yaml".into());
    q.values_content = Some("inline: yes\n".into());
    let resp = engine.compare(&q, &Context::default()).unwrap();
    let values = resp
        .comparison
        .structured_diff
        .resources
        .iter()
        .find(|r| r.identity.name == "values")
        .unwrap();
    let change = &values.changes[0];
    assert_eq!(
        change.before.as_ref().unwrap().as_str(),
        Some("tier: prod-1\n|inline: yes\n")
    );
    assert_eq!(
        change.after.as_ref().unwrap().as_str(),
        Some("tier: prod-2\n|inline: yes\n")
    );
}

#[test]
fn a_values_file_missing_at_one_revision_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    r.commit(
        &files(&[
            (
                "charts/app/Chart.yaml",
                "apiVersion: v2\nname: app\nversion: 2.0.0\n",
            ),
            ("charts/app/templates/cm.yaml", &format!("{CM}three\n")),
        ]),
        "v3",
    );
    let engine = engine_with(&tmp.path().join("data"), Arc::new(FakeRenderer::default()));
    let mut q = req(&r);
    q.version2 = "v3".into();
    q.values_file = Some("charts/app/values-prod.yaml".into());
    let err = engine.compare(&q, &Context::default()).unwrap_err();
    assert_eq!(err.code(), "values_file_missing");
    assert_eq!(
        err.to_string(),
        "values file charts/app/values-prod.yaml does not exist at v3"
    );
}

#[test]
fn unknown_revision_suggests_existing_names() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let engine = engine_with(&tmp.path().join("data"), Arc::new(FakeRenderer::default()));
    let mut q = req(&r);
    q.version2 = "v22".into();
    let err = engine.compare(&q, &Context::default()).unwrap_err();
    assert_eq!(err.code(), "revision_not_found");
    let msg = err.to_string();
    assert!(
        msg.contains("\"v22\"") && msg.contains("did you mean") && msg.contains("v2"),
        "{msg}"
    );
}

#[test]
fn missing_chart_lists_the_charts_that_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let engine = engine_with(&tmp.path().join("data"), Arc::new(FakeRenderer::default()));
    let mut q = req(&r);
    q.chart_path = "charts/ap".into();
    let err = engine.compare(&q, &Context::default()).unwrap_err();
    assert_eq!(err.code(), "chart_not_found");
    assert!(
        err.to_string()
            .contains("charts in this repository: charts/app"),
        "{err}"
    );
}

#[test]
fn a_chart_that_fails_to_render_is_a_render_failure_naming_the_revision() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let fake = Arc::new(FakeRenderer {
        fail: Some("template: app/templates/cm.yaml:3:7: image is required".into()),
        ..FakeRenderer::default()
    });
    let engine = engine_with(&tmp.path().join("data"), fake);
    let err = engine.compare(&req(&r), &Context::default()).unwrap_err();
    assert_eq!(err.code(), "render_failed");
    assert!(
        err.to_string().contains("cm.yaml:3:7: image is required"),
        "{err}"
    );
}

#[test]
fn invalid_requests_and_disallowed_repositories_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = service::Engine::builder(tmp.path().join("data"))
        .renderers(service::Renderers {
            native: Some(Arc::new(FakeRenderer::default())),
            ..Default::default()
        })
        .build()
        .unwrap();
    let mut q = CompareRequest {
        repository: "/tmp/x".into(),
        chart_path: "c".into(),
        version1: "a".into(),
        version2: "b".into(),
        ..CompareRequest::default()
    };
    assert_eq!(
        engine.compare(&q, &Context::default()).unwrap_err().code(),
        "repository_not_allowed"
    );
    q.repository = "https://127.0.0.1/o/r".into();
    assert_eq!(
        engine.compare(&q, &Context::default()).unwrap_err().code(),
        "repository_not_allowed"
    );
    q.chart_path = "../../etc".into();
    assert_eq!(
        engine.compare(&q, &Context::default()).unwrap_err().code(),
        "invalid_request"
    );
}

#[test]
fn a_passed_deadline_stops_the_work() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let fake = Arc::new(FakeRenderer::default());
    let engine = engine_with(&tmp.path().join("data"), fake.clone());
    let ctx = Context::with_timeout(Duration::ZERO);
    let err = engine.compare(&req(&r), &ctx).unwrap_err();
    assert!(matches!(err, CompareError::Timeout { .. }), "{err:?}");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
}

#[test]
fn concurrent_compares_on_one_repository_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let engine = engine_with(&tmp.path().join("data"), Arc::new(FakeRenderer::default()));
    let ids: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    engine
                        .compare(&req(&r), &Context::default())
                        .unwrap()
                        .compare_id
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn versions_lists_tags_and_branches() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let engine = engine_with(&tmp.path().join("data"), Arc::new(FakeRenderer::default()));
    let v = engine
        .versions(&r.dir.to_string_lossy(), &Context::default())
        .unwrap();
    let mut tags = v.tags.clone();
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);
    assert_eq!(v.branches, ["main"]);
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["success"], true);
}

#[test]
fn local_values_files_are_told_apart_in_the_compare_id() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let data = tmp.path().join("data");
    let file = |s: &str| helm_render::ValuesFile {
        name: "v".into(),
        content: s.as_bytes().to_vec(),
    };
    let a = engine_with(&data, Arc::new(FakeRenderer::default()))
        .with_local_values(vec![file("a: 1\n"), file("b: 2\n")])
        .compare(&req(&r), &Context::default())
        .unwrap();
    let b = engine_with(&data, Arc::new(FakeRenderer::default()))
        .with_local_values(vec![file("a: 1\nb: 2\n")])
        .compare(&req(&r), &Context::default())
        .unwrap();
    assert_ne!(a.compare_id, b.compare_id);
}

#[test]
fn generated_at_is_the_engines_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path());
    let engine = service::Engine::builder(tmp.path().join("data"))
        .policy(chart_source::UrlPolicy {
            allow_local: true,
            ..Default::default()
        })
        .renderers(service::Renderers {
            native: Some(Arc::new(FakeRenderer::default())),
            ..Default::default()
        })
        .clock(Arc::new(|| {
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600)
        }))
        .build()
        .unwrap();
    let resp = engine.compare(&req(&r), &Context::default()).unwrap();
    assert_eq!(
        resp.comparison.structured_diff.metadata.generated_at,
        "2026-01-01T00:00:00Z"
    );
}

#[test]
fn the_render_memory_budget_is_the_engines_to_set() {
    let tmp = tempfile::tempdir().unwrap();
    let r = RepoBuilder::new(tmp.path().join("repo"));
    let chart = |n: u32| {
        files(&[
            (
                "charts/app/Chart.yaml",
                "apiVersion: v2\nname: app\nversion: 1.0.0\n",
            ),
            (
                "charts/app/templates/cm.yaml",
                &format!("{CM}{{{{ repeat {n} \"x\" | quote }}}}\n"),
            ),
        ])
    };
    r.commit(&chart(200_000), "v1");
    r.commit(&chart(300_000), "v2");
    let engine = |budget: Option<u64>| {
        service::Engine::builder(tmp.path().join(format!("data-{budget:?}")))
            .policy(chart_source::UrlPolicy {
                allow_local: true,
                ..Default::default()
            })
            .renderers(service::Renderers {
                native: Some(Arc::new(helm_render::NativeRenderer::new())),
                ..Default::default()
            })
            .render_memory_max_bytes(budget)
            .build()
            .unwrap()
    };
    // The default budget (256 MiB) renders 300 KB strings; 64 KiB does not, and says why.
    engine(None).compare(&req(&r), &Context::default()).unwrap();
    let err = engine(Some(64 * 1024))
        .compare(&req(&r), &Context::default())
        .unwrap_err();
    assert_eq!(err.code(), "limits_exceeded", "{err}");
    assert!(
        err.message().contains("max_memory_bytes") || err.message().contains("memory"),
        "{}",
        err.message()
    );
}
