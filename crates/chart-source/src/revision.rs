//! Revision strings and what they resolved to.

use gix::ObjectId;

use crate::{CommitId, Error, Result};

/// The kind of revision a string turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevisionKind {
    /// A tag (`refs/tags/…`, annotated or lightweight); annotated tags are peeled to their commit.
    Tag,
    /// A branch (`refs/heads/…`).
    Branch,
    /// A full or abbreviated commit id.
    Commit,
    /// The remote's `HEAD` (its default branch).
    Head,
    /// A pull request head, `refs/pull/N/head` (or `refs/pull/N/merge`).
    PullRequest,
    /// Another full ref name under `refs/`.
    Ref,
}

impl RevisionKind {
    /// Whether the revision can move upstream (branches, `HEAD`, pull requests, other refs):
    /// such revisions are re-fetched when older than the branch TTL.
    pub fn is_mutable(self) -> bool {
        !matches!(self, RevisionKind::Tag | RevisionKind::Commit)
    }
}

/// A revision resolved to a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The revision as given.
    pub revision: String,
    /// The commit it names (annotated tags peeled).
    pub commit: CommitId,
    /// What kind of revision it was.
    pub kind: RevisionKind,
    /// The full ref name it matched (`refs/tags/v1.0.0`), if it was a ref.
    pub ref_name: Option<String>,
}

/// A parsed revision string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RevSpec {
    /// 40 hex digits.
    FullId(ObjectId),
    /// `HEAD`.
    Head,
    /// A full ref name (`refs/…`).
    FullRef(String),
    /// A short name: a tag, a branch or an abbreviated commit id (when `hex`).
    Name { name: String, hex: bool },
}

/// Local ref under which the remote `HEAD` is kept in a mirror.
pub(crate) const HEAD_REF: &str = "refs/chartimpact/HEAD";

impl RevSpec {
    pub(crate) fn parse(revision: &str) -> Result<RevSpec> {
        let invalid = |reason| Error::InvalidRevision {
            revision: revision.chars().take(200).collect(),
            reason,
        };
        if revision.is_empty() {
            return Err(invalid("empty revision"));
        }
        if revision.len() > 255 {
            return Err(invalid("longer than 255 bytes"));
        }
        if revision.starts_with('-') {
            return Err(invalid("starts with '-'"));
        }
        if revision
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid("contains whitespace or control characters"));
        }
        if revision == "HEAD" {
            return Ok(RevSpec::Head);
        }
        let is_hex = revision.bytes().all(|b| b.is_ascii_hexdigit());
        if is_hex && revision.len() == 40 {
            let id = ObjectId::from_hex(revision.to_ascii_lowercase().as_bytes())
                .map_err(|_| invalid("malformed commit id"))?;
            return Ok(RevSpec::FullId(id));
        }
        if revision.starts_with("refs/") {
            gix::validate::reference::name(revision.into())
                .map_err(|_| invalid("not a valid ref name"))?;
            return Ok(RevSpec::FullRef(revision.to_owned()));
        }
        // A short name must be valid both as a tag and as a branch ref name.
        gix::validate::reference::name(format!("refs/tags/{revision}").as_str().into())
            .map_err(|_| invalid("not a valid tag or branch name"))?;
        Ok(RevSpec::Name {
            name: revision.to_owned(),
            hex: is_hex && revision.len() >= 4,
        })
    }
}

/// The kind of a full ref name.
pub(crate) fn kind_of_ref(name: &str) -> RevisionKind {
    if name.starts_with("refs/tags/") {
        RevisionKind::Tag
    } else if name.starts_with("refs/heads/") {
        RevisionKind::Branch
    } else if name.starts_with("refs/pull/") {
        RevisionKind::PullRequest
    } else if name == HEAD_REF {
        RevisionKind::Head
    } else {
        RevisionKind::Ref
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(RevSpec::parse("HEAD").unwrap(), RevSpec::Head);
        assert!(matches!(
            RevSpec::parse("0123456789ABCDEF0123456789abcdef01234567").unwrap(),
            RevSpec::FullId(_)
        ));
        assert_eq!(
            RevSpec::parse("refs/pull/12/head").unwrap(),
            RevSpec::FullRef("refs/pull/12/head".into())
        );
        assert_eq!(
            RevSpec::parse("abc1234").unwrap(),
            RevSpec::Name {
                name: "abc1234".into(),
                hex: true
            }
        );
        assert_eq!(
            RevSpec::parse("feature/x").unwrap(),
            RevSpec::Name {
                name: "feature/x".into(),
                hex: false
            }
        );
        for bad in [
            "",
            "-x",
            "a b",
            "a..b",
            "main^{commit}",
            "a:b",
            "refs/heads/x..y",
            "x.lock",
            "@{-1}",
        ] {
            assert!(RevSpec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mutability() {
        assert!(!kind_of_ref("refs/tags/v1").is_mutable());
        assert!(kind_of_ref("refs/heads/main").is_mutable());
        assert_eq!(kind_of_ref("refs/pull/1/head"), RevisionKind::PullRequest);
    }
}
