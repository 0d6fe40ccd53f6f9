//! Tags and branches through ls-remote, without cloning.

use chart_source::Error;

use crate::fixtures::{Upstream, cache};

#[test]
fn lists_tags_sorted_by_semver_and_branches_without_a_clone() {
    let up = Upstream::new();
    up.chart("chart", "demo");
    let c1 = up.commit("one");
    for tag in ["v1.2.0", "v1.10.0", "argo-cd-5.9.1", "nightly"] {
        up.git(&["tag", tag]);
    }
    let c2 = up.commit("two");
    up.git(&["tag", "-a", "v2.0.0-rc.1", "-m", "rc"]);
    up.git(&["tag", "-a", "argo-cd-5.10.0", "-m", "chart release"]);
    up.git(&["branch", "develop", &c1]);

    let cache = cache(&up.tmp.path().join("data"));
    let versions = cache.versions(&up.url()).unwrap();
    let tags: Vec<(&str, String, bool, Option<&str>)> = versions
        .tags
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.commit.to_string(),
                t.annotated,
                t.chart.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        [
            ("v2.0.0-rc.1", c2.clone(), true, None),
            ("v1.10.0", c1.clone(), false, None),
            ("v1.2.0", c1.clone(), false, None),
            ("argo-cd-5.10.0", c2.clone(), true, Some("argo-cd")),
            ("argo-cd-5.9.1", c1.clone(), false, Some("argo-cd")),
            ("nightly", c1.clone(), false, None),
        ]
    );
    assert_eq!(
        versions.tags[0].version.as_ref().unwrap().to_string(),
        "2.0.0-rc.1"
    );
    assert_eq!(versions.default_branch.as_deref(), Some("main"));
    let branches: Vec<(&str, String)> = versions
        .branches
        .iter()
        .map(|b| (b.name.as_str(), b.commit.to_string()))
        .collect();
    assert_eq!(branches, [("main", c2.clone()), ("develop", c1.clone())]);

    let stats = cache.stats();
    assert_eq!(
        (stats.ls_remotes, stats.fetches, stats.mirrors_created),
        (1, 0, 0)
    );
    assert!(
        !cache.mirror_dir(&up.url()).unwrap().exists(),
        "no clone was made"
    );
}

#[test]
fn versions_of_a_refused_or_missing_repository_fail_cleanly() {
    let up = Upstream::new();
    let cache = cache(&up.tmp.path().join("data"));
    assert!(matches!(
        cache.versions("https://example.org/o/r").unwrap_err(),
        Error::RepositoryNotAllowed { .. }
    ));
    let empty = up.tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = cache.versions(empty.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(err, Error::RepositoryUnreachable { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("list refs"), "{err}");
}
