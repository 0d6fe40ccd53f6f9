//! Reading charts into memory, symlinks, limits, chart detection and affected charts.

use chart_source::{
    AffectReason, AffectedOptions, Change, ChartLimits, ChartStatus, CommitId, Error, FileMode,
};

use crate::fixtures::{Upstream, builder, cache};

fn id(s: &str) -> CommitId {
    s.parse().unwrap()
}

#[test]
fn reads_a_chart_with_modes_and_in_chart_symlinks() {
    let up = Upstream::new();
    up.chart("charts/app", "app")
        .write("charts/app/files/real.yaml", "real: true\n")
        .write("charts/app/scripts/run.sh", "#!/bin/sh\n")
        .symlink("charts/app/templates/link.yaml", "../files/real.yaml")
        .symlink("charts/app/alias", "files")
        .symlink("charts/app/chain", "templates/link.yaml")
        .write("README.md", "outside\n");
    std::fs::set_permissions(
        up.dir.join("charts/app/scripts/run.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let c = up.commit("chart");
    let repo = cache(&up.tmp.path().join("data"))
        .repository(&up.url())
        .unwrap();
    let chart = repo.read_chart(&id(&c), "./charts/app/").unwrap();
    let paths: Vec<&str> = chart.files().keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "Chart.yaml",
            "alias/real.yaml",
            "chain",
            "files/real.yaml",
            "scripts/run.sh",
            "templates/cm.yaml",
            "templates/link.yaml",
            "values.yaml"
        ]
    );
    assert_eq!(chart.get("templates/link.yaml"), Some(&b"real: true\n"[..]));
    assert_eq!(chart.get("chain"), Some(&b"real: true\n"[..]));
    assert_eq!(chart.get("alias/real.yaml"), Some(&b"real: true\n"[..]));
    assert_eq!(
        chart.files()["templates/link.yaml"]
            .resolved_from
            .as_deref(),
        Some("files/real.yaml")
    );
    assert_eq!(chart.files()["scripts/run.sh"].mode, FileMode::Executable);
    assert_eq!(chart.files()["values.yaml"].mode, FileMode::Regular);
    assert_eq!(chart.path(), "charts/app");
    assert_eq!(chart.commit().to_string(), c);
    assert_eq!(
        chart.tree_id().to_string(),
        up.git(&["rev-parse", &format!("{c}:charts/app")])
    );
    assert!(chart.total_bytes() > 0);

    // The whole repository is a chart only if the root holds a Chart.yaml.
    let err = repo.read_chart(&id(&c), ".").unwrap_err();
    match err {
        Error::ChartNotFound {
            path, charts_found, ..
        } => {
            assert_eq!(path, ".");
            assert_eq!(charts_found, ["charts/app"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn symlinks_leaving_the_chart_are_refused() {
    for (target, escapes) in [
        ("../../README.md", true),
        ("../../../../etc/passwd", true),
        ("/etc/passwd", true),
        ("../templates/../../values.yaml", true),
        ("missing.yaml", false),
        ("loop", false),
    ] {
        let up = Upstream::new();
        up.chart("charts/app", "app")
            .write("README.md", "outside\n")
            .symlink("charts/app/templates/evil.yaml", target)
            .symlink("charts/app/templates/loop", "loop");
        let c = up.commit("evil");
        let repo = cache(&up.tmp.path().join("data"))
            .repository(&up.url())
            .unwrap();
        let err = repo.read_chart(&id(&c), "charts/app").unwrap_err();
        if escapes {
            assert!(
                matches!(&err, Error::PathEscapesChart { path, target: t } if path == "templates/evil.yaml" && t == target),
                "{target}: {err:?}"
            );
        } else {
            assert!(
                matches!(&err, Error::BrokenSymlink { .. }),
                "{target}: {err:?}"
            );
        }
        // The message names the link and where it points.
        assert!(err.to_string().contains("templates/"), "{err}");
    }
}

#[test]
fn read_file_follows_symlinks_inside_the_repository_only() {
    let up = Upstream::new();
    up.chart("chart", "c")
        .write("values/prod.yaml", "env: prod\n")
        .symlink("values/current.yaml", "prod.yaml")
        .symlink("values/escape.yaml", "../../etc/passwd");
    let c = id(&up.commit("values"));
    let repo = cache(&up.tmp.path().join("data"))
        .repository(&up.url())
        .unwrap();
    assert_eq!(
        repo.read_file(&c, "values/prod.yaml").unwrap().unwrap(),
        b"env: prod\n"
    );
    assert_eq!(
        repo.read_file(&c, "values/current.yaml").unwrap().unwrap(),
        b"env: prod\n"
    );
    assert_eq!(repo.read_file(&c, "values/none.yaml").unwrap(), None);
    assert_eq!(repo.read_file(&c, "values").unwrap(), None);
    assert!(matches!(
        repo.read_file(&c, "values/escape.yaml"),
        Err(Error::PathEscapesChart { .. })
    ));
    assert!(matches!(
        repo.read_file(&c, "../x"),
        Err(Error::PathEscapesChart { .. })
    ));
}

#[test]
fn limits_are_enforced() {
    let up = Upstream::new();
    up.chart("chart", "c")
        .write("chart/big.txt", &"x".repeat(2000));
    let c = id(&up.commit("big"));
    let data = up.tmp.path().join("data");
    let limited = |limits: ChartLimits| {
        builder(&data)
            .limits(limits)
            .build()
            .unwrap()
            .repository(&up.url())
            .unwrap()
            .read_chart(&c, "chart")
            .unwrap_err()
    };
    let err = limited(ChartLimits {
        max_file_bytes: 1000,
        ..ChartLimits::default()
    });
    assert!(
        matches!(&err, Error::LimitExceeded { limit: 1000, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "file big.txt size in bytes exceeds the limit of 1000"
    );
    let err = limited(ChartLimits {
        max_files: 3,
        ..ChartLimits::default()
    });
    assert!(
        matches!(&err, Error::LimitExceeded { limit: 3, .. }),
        "{err:?}"
    );
    let err = limited(ChartLimits {
        max_total_bytes: 1500,
        ..ChartLimits::default()
    });
    assert!(
        matches!(&err, Error::LimitExceeded { limit: 1500, .. }),
        "{err:?}"
    );
}

#[test]
fn detects_every_chart_and_the_charts_affected_between_two_commits() {
    let up = Upstream::new();
    up.chart("charts/app", "app")
        .write(
            "charts/app/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: common\n  version: 1.x\n  repository: file://../common\n",
        )
        .chart("charts/app/charts/vendored", "vendored")
        .chart("charts/common", "common")
        .write("charts/common/Chart.yaml", "apiVersion: v2\nname: common\nversion: 1.0.0\ntype: library\n")
        .chart("charts/other", "other")
        .chart("charts/gone", "gone")
        .write("values/app-prod.yaml", "replicas: 3\n")
        .write("docs/readme.md", "docs\n");
    let c1 = id(&up.commit("one"));

    let repo = cache(&up.tmp.path().join("data"))
        .repository(&up.url())
        .unwrap();
    let charts = repo.charts(&c1).unwrap();
    let summary: Vec<(&str, &str, bool, bool)> = charts
        .iter()
        .map(|c| (c.path.as_str(), c.name.as_str(), c.library, c.vendored))
        .collect();
    assert_eq!(
        summary,
        [
            ("charts/app", "app", false, false),
            ("charts/app/charts/vendored", "vendored", false, true),
            ("charts/common", "common", true, false),
            ("charts/gone", "gone", false, false),
            ("charts/other", "other", false, false),
        ]
    );
    assert_eq!(
        charts[0].dependencies[0].local_path.as_deref(),
        Some("charts/common")
    );

    // Only the library chart and a values file change; one chart is removed and one added.
    up.write(
        "charts/common/templates/_helpers.tpl",
        "{{- define \"x\" }}{{- end }}\n",
    )
    .write("values/app-prod.yaml", "replicas: 4\n")
    .write("docs/readme.md", "more docs\n")
    .remove("charts/gone")
    .chart("charts/new", "new");
    let c2 = id(&up.commit("two"));
    let repo = cache(&up.tmp.path().join("data"))
        .repository(&up.url())
        .unwrap();
    let changed = repo.changed_paths(&c1, &c2).unwrap();
    let changed: Vec<(&str, Change)> = changed
        .iter()
        .map(|c| (c.path.as_str(), c.change))
        .collect();
    assert_eq!(
        changed,
        [
            ("charts/common/templates/_helpers.tpl", Change::Added),
            ("charts/gone/Chart.yaml", Change::Deleted),
            ("charts/gone/templates/cm.yaml", Change::Deleted),
            ("charts/gone/values.yaml", Change::Deleted),
            ("charts/new/Chart.yaml", Change::Added),
            ("charts/new/templates/cm.yaml", Change::Added),
            ("charts/new/values.yaml", Change::Added),
            ("docs/readme.md", Change::Modified),
            ("values/app-prod.yaml", Change::Modified),
        ]
    );

    let mut options = AffectedOptions::new();
    options.values_file("charts/app", "values/app-prod.yaml");
    options.values_file("charts/other", "values/other.yaml");
    let affected = repo.affected_charts(&c1, &c2, &options).unwrap();
    let summary: Vec<(&str, ChartStatus)> = affected
        .iter()
        .map(|a| (a.chart.path.as_str(), a.status))
        .collect();
    assert_eq!(
        summary,
        [
            ("charts/app", ChartStatus::Modified),
            ("charts/common", ChartStatus::Modified),
            ("charts/gone", ChartStatus::Removed),
            ("charts/new", ChartStatus::Added),
        ]
    );
    assert_eq!(
        affected[0].reasons,
        [
            AffectReason::ValuesFile {
                path: "values/app-prod.yaml".into()
            },
            AffectReason::Dependency {
                path: "charts/common".into()
            },
        ]
    );
    assert!(matches!(
        &affected[1].reasons[0],
        AffectReason::Files { count: 1, .. }
    ));

    // Nothing changed → nothing affected.
    assert!(repo.affected_charts(&c2, &c2, &options).unwrap().is_empty());
}
