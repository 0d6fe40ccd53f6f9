//! Every revision form, unknown revisions, and using the mirror without network.

use chart_source::{Error, RevisionKind};

use crate::fixtures::{Upstream, cache};

struct Commits {
    c1: String,
    c2: String,
    feature: String,
    pull: String,
}

/// main: c1 (lightweight tag v1.0.0) → c2 (annotated tag v1.1.0); branch feature; refs/pull/7/head.
fn upstream() -> (Upstream, Commits) {
    let up = Upstream::new();
    up.chart("chart", "demo");
    let c1 = up.commit("one");
    up.git(&["tag", "v1.0.0"]);
    up.write("chart/values.yaml", "replicas: 2\n");
    let c2 = up.commit("two");
    up.git(&["tag", "-a", "v1.1.0", "-m", "release 1.1.0"]);
    up.git(&["checkout", "-q", "-b", "feature"]);
    up.write("chart/values.yaml", "replicas: 3\n");
    let feature = up.commit("feature");
    up.git(&["checkout", "-q", "-b", "pr-7"]);
    up.write("chart/values.yaml", "replicas: 7\n");
    let pull = up.commit("pull request");
    up.git(&["update-ref", "refs/pull/7/head", &pull]);
    up.git(&["checkout", "-q", "main"]);
    up.git(&["branch", "-q", "-D", "pr-7"]);
    (
        up,
        Commits {
            c1,
            c2,
            feature,
            pull,
        },
    )
}

#[test]
fn every_revision_form_resolves_to_a_commit() {
    let (up, c) = upstream();
    let data = up.tmp.path().join("data");
    let repo = cache(&data).repository(&up.url()).unwrap();
    let cases: Vec<(&str, &str, RevisionKind)> = vec![
        ("v1.0.0", &c.c1, RevisionKind::Tag),
        ("v1.1.0", &c.c2, RevisionKind::Tag),
        ("refs/tags/v1.1.0", &c.c2, RevisionKind::Tag),
        ("main", &c.c2, RevisionKind::Branch),
        ("feature", &c.feature, RevisionKind::Branch),
        ("refs/heads/feature", &c.feature, RevisionKind::Branch),
        ("HEAD", &c.c2, RevisionKind::Head),
        ("refs/pull/7/head", &c.pull, RevisionKind::PullRequest),
        (&c.c1, &c.c1, RevisionKind::Commit),
        (&c.feature[..7], &c.feature, RevisionKind::Commit),
        (&c.c2[..10], &c.c2, RevisionKind::Commit),
    ];
    for (rev, want, kind) in cases {
        let got = repo.resolve(rev).unwrap_or_else(|e| panic!("{rev}: {e:#}"));
        assert_eq!(got.commit.to_string(), *want, "{rev}");
        assert_eq!(got.kind, kind, "{rev}");
        assert_eq!(got.revision, rev);
    }
    // Upper-case full ids are accepted too.
    assert_eq!(
        repo.resolve(&c.c1.to_uppercase())
            .unwrap()
            .commit
            .to_string(),
        c.c1
    );
}

#[test]
fn a_commit_only_reachable_from_a_pull_ref_is_fetched_by_id() {
    let (up, c) = upstream();
    let repo = cache(&up.tmp.path().join("data"))
        .repository(&up.url())
        .unwrap();
    let got = repo.resolve(&c.pull).unwrap();
    assert_eq!(got.commit.to_string(), c.pull);
    assert_eq!(got.kind, RevisionKind::Commit);
}

#[test]
fn unknown_revisions_list_the_nearest_names() {
    let (up, _) = upstream();
    let repo = cache(&up.tmp.path().join("data"))
        .repository(&up.url())
        .unwrap();
    match repo.resolve("v1.1").unwrap_err() {
        Error::RevisionNotFound {
            revision,
            suggestions,
        } => {
            assert_eq!(revision, "v1.1");
            assert_eq!(suggestions[0], "v1.1.0", "{suggestions:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = repo.resolve("featuer").unwrap_err();
    assert!(
        matches!(&err, Error::RevisionNotFound { suggestions, .. } if suggestions == &["feature"]),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "revision \"featuer\" not found (nearest: feature)"
    );
    assert!(matches!(
        repo.resolve("deadbeef").unwrap_err(),
        Error::RevisionNotFound { .. }
    ));
    assert!(matches!(
        repo.resolve("0000000000000000000000000000000000000001")
            .unwrap_err(),
        Error::RevisionNotFound { .. }
    ));
}

#[test]
fn malformed_revisions_are_refused_without_network() {
    let (up, _) = upstream();
    let cache = cache(&up.tmp.path().join("data"));
    let repo = cache.repository(&up.url()).unwrap();
    for bad in [
        "-uhelp",
        "--upload-pack=touch /tmp/x",
        "main..feature",
        "main^{tree}",
        "a b",
        "",
    ] {
        assert!(
            matches!(
                repo.resolve(bad).unwrap_err(),
                Error::InvalidRevision { .. }
            ),
            "{bad:?}"
        );
    }
    assert_eq!(cache.stats().fetches, 0);
}

#[test]
fn present_tags_and_commits_need_no_network_even_after_a_restart() {
    let (up, c) = upstream();
    let data = up.tmp.path().join("data");
    let first = cache(&data);
    let repo = first.repository(&up.url()).unwrap();
    repo.resolve("v1.0.0").unwrap();
    repo.resolve("feature").unwrap();
    assert_eq!(first.stats().fetches, 2);
    assert_eq!(first.stats().mirrors_created, 1);

    // A new cache on the same data directory (a restart) with the upstream gone.
    std::fs::rename(&up.dir, up.tmp.path().join("gone")).unwrap();
    let second = cache(&data);
    let repo = second.repository(up.dir.to_str().unwrap());
    // The path no longer exists, so the URL cannot be canonicalized: use the mirror's URL.
    assert!(matches!(repo, Err(Error::RepositoryUnreachable { .. })));
    std::fs::rename(up.tmp.path().join("gone"), &up.dir).unwrap();
    let repo = second.repository(&up.url()).unwrap();
    std::fs::rename(&up.dir, up.tmp.path().join("gone")).unwrap();
    assert_eq!(repo.resolve("v1.0.0").unwrap().commit.to_string(), c.c1);
    // Mirrors are shallow: a tag whose commit was never asked for did not come along, so it
    // needs the (now unreachable) remote.
    assert!(matches!(
        repo.resolve("v1.1.0"),
        Err(Error::RepositoryUnreachable { .. })
    ));
    assert_eq!(
        repo.resolve(&c.feature).unwrap().commit.to_string(),
        c.feature
    );
    assert_eq!(
        repo.resolve(&c.feature[..8]).unwrap().commit.to_string(),
        c.feature
    );
    assert_eq!(
        second.stats().fetches,
        1,
        "only the tag that was never fetched"
    );
    assert_eq!(second.stats().mirrors_created, 0);
    // A stale branch needs the (now unreachable) remote: the error says what was tried.
    let err = repo.resolve("main").unwrap_err();
    assert!(
        matches!(err, Error::RepositoryUnreachable { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("fetch: 1 attempt"), "{err}");
}
