//! Pull-request analysis over local repositories.

use std::sync::Arc;

use service::CompareService;
use service::Context;
use service::pr::{COMMENT_MARKER, FailOn, PrReport, PrRequest};

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
    let report = engine
        .analyze_pr(
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
        .map(|c| (c.chart_path.clone(), c.scenario.clone(), c.status.as_str()))
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

fn cm(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {key}: \"{value}\"\n"
    )
}

/// A chart `c` with two ConfigMaps at `base` and `head`; `.chartimpact.yaml` as given per side.
fn policy_repo(dir: &std::path::Path, base_config: &str, head_config: &str) -> RepoBuilder {
    let r = RepoBuilder::new(dir.join("repo"));
    let side = |app: &str, other: &str, config: &str| {
        let mut f = vec![
            (
                "c/Chart.yaml",
                "apiVersion: v2\nname: c\nversion: 1.0.0\n".to_owned(),
            ),
            ("c/templates/app.yaml", cm("app", "key", app)),
            ("c/templates/other.yaml", cm("other", "x", other)),
        ];
        if !config.is_empty() {
            f.push((".chartimpact.yaml", config.to_owned()));
        }
        f.into_iter()
            .map(|(p, c)| (p.to_owned(), c.into_bytes()))
            .collect::<Vec<_>>()
    };
    r.commit(&side("one", "1", base_config), "base");
    r.commit(&side("two", "2", head_config), "head");
    r
}

fn analyze_at(r: &RepoBuilder, data: &std::path::Path, config_revision: Option<&str>) -> PrReport {
    let engine = engine_with(data, Arc::new(FakeRenderer::default()));
    engine
        .analyze_pr(
            &PrRequest {
                repository: r.dir.to_string_lossy().into_owned(),
                base: "base".into(),
                head: "head".into(),
                config_revision: config_revision.map(str::to_owned),
                ..PrRequest::default()
            },
            &Context::default(),
        )
        .unwrap()
}

#[test]
fn the_base_revisions_policy_ignores_and_rules_decide_the_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = "failOn: medium\ncommentOn: risk\nignore:\n  paths: [data.x]\n\
                  rules:\n- path: data.key\n  kinds: [configmap]\n  level: high\n  category: availability\n  title: App key changed\n";
    // The pull request tries to switch its own policy off: the base's file applies.
    let r = policy_repo(tmp.path(), policy, "failOn: never\n");
    let report = analyze_at(&r, &tmp.path().join("data"), None);
    assert_eq!(report.config_error, None);
    assert_eq!(report.config_revision, "base");
    assert_eq!(report.fail_on, FailOn::Medium);
    let result = report.charts[0].outcome.as_ref().unwrap();
    let diff = &result.comparison.structured_diff;
    // The ignored path is left out before scoring: ConfigMap/other has no change left.
    assert!(diff.stats.suppressed_changes >= 1, "{:?}", diff.stats);
    assert!(
        diff.resources.iter().all(|d| d.identity.name != "other"),
        "{:?}",
        diff.resources
    );
    let signal = result
        .comparison
        .impact
        .signals
        .iter()
        .find(|s| s.rule == service::repo_config::REPOSITORY_RULE)
        .expect("the custom rule fired");
    assert_eq!(
        (
            signal.title.as_str(),
            signal.level,
            signal.resource.as_str()
        ),
        ("App key changed", diff_core::Level::High, "ConfigMap/app")
    );
    assert_eq!(signal.field.as_deref(), Some("data.key"));
    assert_eq!(
        (signal.old_value.as_deref(), signal.new_value.as_deref()),
        (Some("one"), Some("two"))
    );
    assert_eq!(
        result.comparison.impact.verdict,
        diff_core::Verdict::HighRisk
    );
    assert_eq!(result.comparison.impact.totals.high, 1);
    assert_eq!(
        result.compare_id,
        result.comparison.structured_diff.metadata.compare_id
    );
    assert!(report.fails_policy() && report.wants_comment());
    let md = report.markdown(None);
    assert!(md.contains("App key changed"), "{md}");
    assert!(
        md.contains("`failOn: medium`: **this change fails it**"),
        "{md}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["policy"]["fails"], true);

    // Read where the caller says (the server passes the default branch): the head's file
    // sets no policy, so the same change passes and its rule-free verdict is low risk.
    let at_head = analyze_at(&r, &tmp.path().join("data2"), Some("head"));
    assert_eq!(at_head.fail_on, FailOn::Never);
    assert!(!at_head.fails_policy());
    assert_eq!(at_head.verdict(), diff_core::Verdict::LowRisk);

    // A policy revision the repository does not have (a default branch not mirrored) is no
    // fault of the file: the base's applies.
    let missing = analyze_at(&r, &tmp.path().join("data3"), Some("no-such-branch"));
    assert_eq!(missing.config_revision, "base");
    assert_eq!(missing.config_error, None);
    assert_eq!(missing.fail_on, FailOn::Medium);
}

#[test]
fn comment_on_risk_withholds_the_report_of_a_low_risk_change() {
    let tmp = tempfile::tempdir().unwrap();
    let r = policy_repo(tmp.path(), "commentOn: risk\n", "");
    let report = analyze_at(&r, &tmp.path().join("data"), None);
    assert_eq!(report.verdict(), diff_core::Verdict::LowRisk);
    assert!(!report.wants_comment());
    assert!(!report.fails_policy());
    let note = report.summary_markdown();
    assert!(note.starts_with(COMMENT_MARKER));
    assert!(
        note.contains("commentOn: risk") && note.contains("low risk"),
        "{note}"
    );
}

#[test]
fn an_invalid_config_is_reported_with_what_to_fix_and_the_defaults_apply() {
    let tmp = tempfile::tempdir().unwrap();
    for (config, expected) in [
        ("failon: high\n", "unknown field `failon`"),
        ("failOn: hgh\n", "at `failOn`: unknown variant `hgh`"),
        ("commentOn: [risk]\n", "at `commentOn`"),
        (
            "rules:\n- path: data.key\n  level: severe\n  title: t\n",
            "at `rules[0].level`",
        ),
        ("ignore:\n  kind: [Secret]\n", "unknown field `kind`"),
    ] {
        let dir = tmp
            .path()
            .join(format!("{:x}", config.len() * 31 + expected.len()));
        let r = policy_repo(&dir, config, "");
        let report = analyze_at(&r, &dir.join("data"), None);
        let error = report.config_error.as_ref().expect(config).to_string();
        assert!(error.contains(expected), "{config:?}: {error}");
        assert_eq!(report.fail_on, FailOn::Never, "defaults apply");
        assert!(
            report.wants_comment(),
            "an invalid config is always reported"
        );
        let md = report.markdown(None);
        assert!(
            md.contains("`.chartimpact.yaml` is invalid") && md.contains(expected),
            "{md}"
        );
        assert!(md.contains("Fix the file on `base`"), "{md}");
    }
}

/// Renders one ConfigMap that shows the release settings it was given.
struct SettingsEcho;

impl helm_render::Renderer for SettingsEcho {
    fn info(&self) -> helm_render::RendererInfo {
        helm_render::RendererInfo {
            name: "native",
            version: "echo-1".into(),
        }
    }

    fn render(
        &self,
        chart: &helm_render::ChartFiles,
        o: &helm_render::Options,
    ) -> Result<helm_render::Outcome, helm_render::RenderError> {
        // The template's text changes between the sides, so the resource shows in the diff
        // under a name and key made of the settings.
        let changing = chart
            .iter()
            .find(|(p, _)| *p == "templates/app.yaml")
            .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
            .unwrap_or_default();
        let manifest = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: {}\ndata:\n  {:?}: {:?}\n",
            o.release_name,
            o.namespace,
            format!(
                "{}|{}|{}",
                o.set.join(","),
                o.kube_version.clone().unwrap_or_default(),
                o.api_versions.join(",")
            ),
            changing,
        );
        Ok(helm_render::Outcome {
            manifest,
            renderer: self.info(),
        })
    }
}

#[test]
fn a_scenario_renders_with_its_release_name_namespace_set_values_and_capabilities() {
    let tmp = tempfile::tempdir().unwrap();
    let config = "charts:\n- path: c\n  scenarios:\n  - name: prod\n    releaseName: app-prod\n    namespace: prod\n    set: [replicaCount=3]\n    kubeVersion: \"1.30.0\"\n    apiVersions: [monitoring.coreos.com/v1]\n  - name: plain\n";
    let r = policy_repo(tmp.path(), config, config);
    let engine = engine_with(&tmp.path().join("data"), Arc::new(SettingsEcho));
    let report = engine
        .analyze_pr(
            &PrRequest {
                repository: r.dir.to_string_lossy().into_owned(),
                base: "base".into(),
                head: "head".into(),
                ..PrRequest::default()
            },
            &Context::default(),
        )
        .unwrap();
    let diff = |scenario: &str| {
        let c = report
            .charts
            .iter()
            .find(|c| c.scenario.as_deref() == Some(scenario))
            .unwrap();
        let r = c.outcome.as_ref().unwrap();
        serde_json::to_string(&r.comparison.structured_diff).unwrap()
    };
    let prod = diff("prod");
    for wanted in [
        "app-prod",
        "\"prod\"",
        "replicaCount=3|1.30.0|monitoring.coreos.com/v1",
    ] {
        assert!(prod.contains(wanted), "{wanted} in {prod:.3000}");
    }
    let plain = diff("plain");
    assert!(
        plain.contains("\"release\"")
            && plain.contains("\"default\"")
            && !plain.contains("replicaCount"),
        "{plain:.3000}"
    );

    // Unknown keys in a scenario are still refused, by name.
    let bad = "charts:\n- path: c\n  scenarios:\n  - name: x\n    releasename: y\n";
    let err = service::pr::RepoConfig::parse(bad).unwrap_err().to_string();
    assert!(err.contains("releasename"), "{err}");
}

/// High signals point at the lines behind them (reference R29): a real chart rendered by the
/// native renderer, changed once through a template and once through a value.
#[test]
fn high_signals_point_at_the_template_line_and_the_changed_value() {
    let tmp = tempfile::tempdir().unwrap();
    let r = RepoBuilder::new(tmp.path().join("repo"));
    let template = |extra: &str| {
        format!(
            "apiVersion: apps/v1\n\
             kind: Deployment\n\
             metadata:\n  \
               name: web\n\
             spec:\n  \
               replicas: {{{{ .Values.replicaCount }}}}\n  \
               selector:\n    \
                 matchLabels: {{app: web}}\n  \
               template:\n    \
                 metadata:\n      \
                   labels: {{app: web}}\n    \
                 spec:\n{extra}      \
                   containers:\n        \
                     - name: web\n          \
                       image: \"{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}\"\n          \
                       securityContext:\n            \
                         privileged: {{{{ .Values.securityContext.privileged }}}}\n"
        )
    };
    let values = |privileged: bool| {
        format!(
            "replicaCount: 2\nimage:\n  repository: nginx\n  tag: \"1.25\"\n\
             securityContext:\n  # what the container may do\n  privileged: {privileged}\n"
        )
    };
    let chart = "apiVersion: v2\nname: web\nversion: 1.0.0\n";
    r.commit(
        &files(&[
            ("charts/web/Chart.yaml", chart),
            ("charts/web/values.yaml", &values(false)),
            ("charts/web/templates/deployment.yaml", &template("")),
        ]),
        "base",
    );
    r.commit(
        &files(&[
            ("charts/web/Chart.yaml", chart),
            ("charts/web/values.yaml", &values(true)),
            (
                "charts/web/templates/deployment.yaml",
                &template("      hostNetwork: true\n"),
            ),
        ]),
        "head",
    );
    let head_template = template("      hostNetwork: true\n");
    let line_of = |text: &str, needle: &str| {
        let found: Vec<u32> = text
            .lines()
            .zip(1u32..)
            .filter(|(l, _)| l.trim_start().starts_with(needle))
            .map(|(_, n)| n)
            .collect();
        assert_eq!(found.len(), 1, "{needle} in {text}");
        found[0]
    };

    let engine = engine_with(
        &tmp.path().join("data"),
        Arc::new(helm_render::NativeRenderer::new()),
    );
    let report = engine
        .analyze_pr(
            &PrRequest {
                repository: r.dir.to_string_lossy().into_owned(),
                base: "base".into(),
                head: "head".into(),
                ..PrRequest::default()
            },
            &Context::default(),
        )
        .unwrap();
    assert_eq!(report.charts.len(), 1);
    let chart = &report.charts[0];
    let signals = &chart.outcome.as_ref().unwrap().comparison.impact.signals;
    let of_rule = |rule: &str| {
        let index = signals
            .iter()
            .position(|s| s.rule == rule)
            .unwrap_or_else(|| panic!("no {rule} signal: {signals:#?}"));
        chart
            .sources
            .iter()
            .find(|s| s.signal == index)
            .unwrap_or_else(|| panic!("no source for {rule}: {:#?}", chart.sources))
            .clone()
    };
    let path = "charts/web/templates/deployment.yaml";

    // Written in the template itself: its line, no value.
    let host = of_rule("host-namespace");
    assert_eq!(
        (host.path.as_str(), host.line, host.values.as_ref()),
        (path, line_of(&head_template, "hostNetwork:"), None)
    );
    // Changed through values: the template's line, and the value's.
    let privileged = of_rule("privileged-container");
    assert_eq!(privileged.path, path);
    assert_eq!(privileged.line, line_of(&head_template, "privileged:"));
    let values_line = privileged.values.expect("the changed value");
    assert_eq!(values_line.path, "charts/web/values.yaml");
    assert_eq!(values_line.line, line_of(&values(true), "privileged:"));
    assert_eq!(values_line.line, 7);
    // Every source is of a high signal, in signal order.
    assert!(chart.sources.windows(2).all(|w| w[0].signal < w[1].signal));
    assert!(
        chart
            .sources
            .iter()
            .all(|s| signals[s.signal].level == diff_core::Level::High)
    );
}
