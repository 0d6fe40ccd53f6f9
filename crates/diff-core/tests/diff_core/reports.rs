//! Snapshots of the reports people read, on the fixtures in `fixtures/manifests`.

use diff_core::report::{self, ComparisonDocument, MarkdownOptions, TextOptions};
use diff_core::{Comparison, DiffOptionsBuilder, ParseOptions, compare, parse_manifest};

use super::fixture;

fn fixture_comparison() -> Comparison {
    pair("before.yaml", "after.yaml")
}

/// The platform fixtures: pod security, immutable fields, storage, RBAC binding, hooks.
fn platform_comparison() -> Comparison {
    pair("platform-before.yaml", "platform-after.yaml")
}

fn pair(old: &str, new: &str) -> Comparison {
    let read = |name: &str| {
        parse_manifest(
            name,
            &fixture(&format!("manifests/{name}")),
            &ParseOptions::default(),
        )
        .unwrap()
    };
    let (before, after) = (read(old), read(new));
    let sources = diff_core::Sources {
        left: "file".into(),
        right: "file".into(),
        generated_at: diff_core::rfc3339(1_767_225_600),
    };
    diff_core::compare_with_sources(
        &before,
        &after,
        &DiffOptionsBuilder::new().build().unwrap(),
        &sources,
    )
}

#[test]
fn text_report() {
    insta::assert_snapshot!(report::text(&fixture_comparison(), &TextOptions::default()));
}

#[test]
fn platform_text_report() {
    insta::assert_snapshot!(report::text(
        &platform_comparison(),
        &TextOptions::default()
    ));
}

#[test]
fn platform_markdown_report() {
    insta::assert_snapshot!(report::markdown(
        &platform_comparison(),
        &MarkdownOptions::default()
    ));
}

#[test]
fn platform_fixture_fires_all_three_levels() {
    let cmp = platform_comparison();
    let levels: std::collections::BTreeSet<_> =
        cmp.impact.signals.iter().map(|s| s.level).collect();
    assert_eq!(levels.len(), 3, "{levels:?}");
    assert_eq!(cmp.impact.verdict, diff_core::Verdict::HighRisk);
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(report::markdown(
        &fixture_comparison(),
        &MarkdownOptions::default()
    ));
}

#[test]
fn unified_report() {
    insta::assert_snapshot!(report::unified(&fixture_comparison(), 3));
}

#[test]
fn json_document() {
    let cmp = fixture_comparison();
    insta::assert_snapshot!(ComparisonDocument::new(&cmp, None).to_json());
}

#[test]
fn coloured_text_only_when_asked() {
    let cmp = fixture_comparison();
    assert!(!report::text(&cmp, &TextOptions { color: false }).contains('\x1b'));
    assert!(report::text(&cmp, &TextOptions { color: true }).contains("\x1b["));
}

#[test]
fn secrets_never_leak_in_any_report_by_default() {
    let cmp = fixture_comparison();
    let all = [
        report::text(&cmp, &TextOptions::default()),
        report::markdown(&cmp, &MarkdownOptions::default()),
        report::unified(&cmp, 3),
        ComparisonDocument::new(&cmp, None).to_json(),
    ];
    for out in &all {
        for secret in ["aHVudGVyMg", "hunter2", "Y29ycmVjdGhvcnNl", "correcthorse"] {
            assert!(!out.contains(secret), "secret {secret} leaked");
        }
    }
    assert!(
        all[0].contains("<redacted: 12 bytes, sha256:"),
        "changed key must show size and hash"
    );
}

#[test]
fn markdown_never_exceeds_the_limit_and_says_it_was_cut() {
    // Many resources with long multi-line data: far more than 65,536 characters.
    let mut before = String::new();
    let mut after = String::new();
    for i in 0..400 {
        let body_a: String = (0..40)
            .map(|l| format!("    line {l} of config {i} old\n"))
            .collect();
        let body_b: String = (0..40)
            .map(|l| format!("    line {l} of config {i} new\n"))
            .collect();
        before.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03}\ndata:\n  conf: |\n{body_a}"));
        after.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03}\ndata:\n  conf: |\n{body_b}"));
    }
    let b = parse_manifest("b", &before, &ParseOptions::default()).unwrap();
    let a = parse_manifest("a", &after, &ParseOptions::default()).unwrap();
    let cmp = compare(&b, &a, &DiffOptionsBuilder::new().build().unwrap());
    let opts = MarkdownOptions {
        full_result_url: Some("https://ci.example.com/api/analysis/abc".into()),
        ..MarkdownOptions::default()
    };
    let md = report::markdown(&cmp, &opts);
    assert!(md.chars().count() <= 65_536, "{} chars", md.chars().count());
    assert!(md.contains("**Truncated**"));
    assert!(md.contains("https://ci.example.com/api/analysis/abc"));
    assert_eq!(
        md.matches("```diff").count(),
        md.matches("\n```\n").count(),
        "every fence closed"
    );
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count(),
        "every details closed"
    );
}

#[test]
fn markdown_under_the_limit_is_not_cut() {
    let md = report::markdown(&fixture_comparison(), &MarkdownOptions::default());
    assert!(!md.contains("Truncated"));
}
