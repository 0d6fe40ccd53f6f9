//! Tags and branches of a remote, listed without cloning.

use std::cmp::Ordering;

use crate::{CommitId, Version, net::RemoteRef, version::parse_tag};

/// A tag of the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The tag name without `refs/tags/`.
    pub name: String,
    /// The commit it points at (annotated tags peeled).
    pub commit: CommitId,
    /// Whether it is an annotated tag.
    pub annotated: bool,
    /// The chart-name prefix of a chart-prefixed tag (`argo-cd` for `argo-cd-5.1.0`).
    pub chart: Option<String>,
    /// The semantic version in the tag name, if there is one.
    pub version: Option<Version>,
}

/// A branch of the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// The branch name without `refs/heads/`.
    pub name: String,
    /// The commit it points at.
    pub commit: CommitId,
}

/// Tags and branches of a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    /// The default branch (what the remote's `HEAD` points to), if advertised.
    pub default_branch: Option<String>,
    /// Tags: those with a semantic version first, grouped by chart prefix (unprefixed first,
    /// then prefixes alphabetically) and newest first within a group; then the rest by name.
    pub tags: Vec<Tag>,
    /// Branches: the default branch first, then by name.
    pub branches: Vec<Branch>,
}

impl Versions {
    pub(crate) fn from_remote_refs(refs: &[RemoteRef]) -> Versions {
        let mut out = Versions::default();
        for r in refs {
            if r.name == "HEAD" {
                out.default_branch = r
                    .symref_target
                    .as_deref()
                    .and_then(|t| t.strip_prefix("refs/heads/"))
                    .map(str::to_owned);
            } else if let Some(name) = r.name.strip_prefix("refs/tags/") {
                if name.ends_with("^{}") {
                    continue;
                }
                let parsed = parse_tag(name);
                out.tags.push(Tag {
                    name: name.to_owned(),
                    commit: CommitId::from_gix(r.peeled),
                    annotated: r.target != r.peeled,
                    chart: parsed.as_ref().and_then(|(p, _)| p.map(str::to_owned)),
                    version: parsed.map(|(_, v)| v),
                });
            } else if let Some(name) = r.name.strip_prefix("refs/heads/") {
                out.branches.push(Branch {
                    name: name.to_owned(),
                    commit: CommitId::from_gix(r.peeled),
                });
            }
        }
        sort_tags(&mut out.tags);
        let default = out.default_branch.clone();
        out.branches.sort_by(|a, b| {
            (Some(&b.name) == default.as_ref())
                .cmp(&(Some(&a.name) == default.as_ref()))
                .then(a.name.cmp(&b.name))
        });
        out
    }
}

/// Sorts tags as documented on [`Versions::tags`].
pub(crate) fn sort_tags(tags: &mut [Tag]) {
    tags.sort_by(|a, b| match (&a.version, &b.version) {
        (Some(va), Some(vb)) => a
            .chart
            .cmp(&b.chart)
            .then_with(|| vb.cmp(va))
            .then_with(|| a.name.cmp(&b.name)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str) -> Tag {
        let parsed = parse_tag(name);
        Tag {
            name: name.into(),
            commit: "0000000000000000000000000000000000000000".parse().unwrap(),
            annotated: false,
            chart: parsed.as_ref().and_then(|(p, _)| p.map(str::to_owned)),
            version: parsed.map(|(_, v)| v),
        }
    }

    #[test]
    fn semver_sort_with_prefixes() {
        let mut tags: Vec<Tag> = [
            "v1.10.0",
            "v1.2.0",
            "latest",
            "argo-cd-5.10.0",
            "v1.2.0-rc.1",
            "argo-cd-5.9.1",
            "v2.0.0",
            "argo-workflows-0.1.0",
            "alpha",
        ]
        .into_iter()
        .map(tag)
        .collect();
        sort_tags(&mut tags);
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "v2.0.0",
                "v1.10.0",
                "v1.2.0",
                "v1.2.0-rc.1",
                "argo-cd-5.10.0",
                "argo-cd-5.9.1",
                "argo-workflows-0.1.0",
                "alpha",
                "latest"
            ]
        );
    }
}
