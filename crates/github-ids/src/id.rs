//! Identifiers that come out of payloads and headers, validated once (STYLE §10).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{JobKey, shown};

/// A GitHub repository, `owner/name`.
///
/// Validated by GitHub's naming rules, so a `RepoName` is safe to put into a URL path or a
/// clone URL (`{git-url}/{owner}/{name}.git`, reference `github.md` R18):
///
/// - owner: 1–39 characters of `A–Z a–z 0–9 -`, not starting with `-`;
/// - name: 1–100 characters of `A–Z a–z 0–9 . _ -`, and neither `.` nor `..`.
///
/// `Display` and `FromStr` round-trip through `owner/name`. Comparison is exact (GitHub
/// itself treats names case-insensitively; routing globs do too).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoName {
    owner: String,
    name: String,
}

impl RepoName {
    /// A repository name from its two parts.
    pub fn new(owner: &str, name: &str) -> Result<Self, IdError> {
        let invalid = |reason: String| IdError::RepoName {
            input: shown(&format!("{owner}/{name}")),
            reason,
        };
        check_owner(owner).map_err(invalid)?;
        check_name(name).map_err(invalid)?;
        Ok(Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The account that owns the repository (user or organization login).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository's name within its owner.
    pub fn name(&self) -> &str {
        &self.name
    }
}

fn check_owner(owner: &str) -> Result<(), String> {
    if owner.is_empty() {
        return Err("the owner is empty".into());
    }
    if owner.len() > 39 {
        return Err(format!(
            "the owner has {} characters, the maximum is 39",
            owner.len()
        ));
    }
    if owner.starts_with('-') {
        return Err("the owner starts with '-'".into());
    }
    if !owner
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err("the owner may only contain A-Z, a-z, 0-9 and '-'".into());
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the repository name is empty".into());
    }
    if name.len() > 100 {
        return Err(format!(
            "the repository name has {} characters, the maximum is 100",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Err(format!("the repository name may not be {name:?}"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("the repository name may only contain A-Z, a-z, 0-9, '.', '_' and '-'".into());
    }
    Ok(())
}

impl FromStr for RepoName {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| IdError::RepoName {
            input: shown(s),
            reason: reason.into(),
        };
        if s.is_empty() {
            return Err(invalid("it is empty"));
        }
        let (owner, name) = s
            .split_once('/')
            .ok_or_else(|| invalid("expected owner/name"))?;
        if name.contains('/') {
            return Err(invalid("expected owner/name with exactly one '/'"));
        }
        Self::new(owner, name)
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A git commit id as GitHub sends it: 40 hex digits, stored lowercase.
///
/// Uppercase input is accepted and lowercased. [`CommitSha::is_zero`] tells the all-zero id
/// that `push` payloads use for "no commit" (a created or deleted ref).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommitSha(String);

impl CommitSha {
    /// The all-zero id.
    pub fn zero() -> Self {
        Self("0".repeat(40))
    }

    /// Whether this is the all-zero id (no commit).
    pub fn is_zero(&self) -> bool {
        self.0.bytes().all(|b| b == b'0')
    }

    /// The 40 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 7 hex digits, as GitHub abbreviates commits for people.
    pub fn short(&self) -> &str {
        &self.0[..7]
    }
}

impl FromStr for CommitSha {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: String| IdError::CommitSha {
            input: shown(s),
            reason,
        };
        if s.len() != 40 {
            return Err(invalid(format!(
                "expected 40 hex digits, found {} characters",
                s.chars().count()
            )));
        }
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("it has a character that is not a hex digit".into()));
        }
        Ok(Self(s.to_ascii_lowercase()))
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `X-GitHub-Delivery` header: the GUID of one delivery, the same on a redelivery
/// (reference `github.md` §1.4), used to drop duplicates.
///
/// Non-empty, at most 100 characters of `A–Z a–z 0–9 -`, so it is safe in logs and keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeliveryId(String);

impl DeliveryId {
    /// The id as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DeliveryId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: String| IdError::DeliveryId {
            input: shown(s),
            reason,
        };
        if s.is_empty() {
            return Err(invalid("it is empty".into()));
        }
        if s.len() > 100 {
            return Err(invalid(format!(
                "it has {} characters, the maximum is 100",
                s.len()
            )));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(invalid("it may only contain A-Z, a-z, 0-9 and '-'".into()));
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `Serialize` as the `Display` string, `Deserialize` through `FromStr` (so a payload with an
/// invalid id fails to parse, at the id's JSON path).
macro_rules! string_serde {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}

string_serde!(RepoName, CommitSha, DeliveryId, JobKey);

/// An identifier that does not follow GitHub's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Not a valid `owner/name`.
    #[error("invalid repository name {input:?}: {reason}")]
    RepoName {
        /// The text given (cut at 100 characters).
        input: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not 40 hex digits.
    #[error("invalid commit sha {input:?}: {reason}")]
    CommitSha {
        /// The text given (cut at 100 characters).
        input: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not a valid `X-GitHub-Delivery` value.
    #[error("invalid delivery id {input:?}: {reason}")]
    DeliveryId {
        /// The text given (cut at 100 characters).
        input: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Not a job key (`owner/name#pr/N`, `owner/name#push/BRANCH`, `owner/name#release/TAG`).
    #[error("invalid job key {input:?}: {reason}")]
    JobKey {
        /// The text given (cut at 100 characters).
        input: String,
        /// Which rule it breaks.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_name_round_trip() {
        for s in [
            "Codertocat/Hello-World",
            "a/b",
            "fork-owner/.github",
            "x1/_._",
            "o/...",
        ] {
            let repo: RepoName = s.parse().unwrap();
            assert_eq!(repo.to_string(), s);
        }
        let repo = RepoName::new("octo", "repo.rs").unwrap();
        assert_eq!((repo.owner(), repo.name()), ("octo", "repo.rs"));
    }

    #[test]
    fn repo_name_limits() {
        assert!(RepoName::new(&"a".repeat(39), &"b".repeat(100)).is_ok());
        assert!(RepoName::new(&"a".repeat(40), "b").is_err());
        assert!(RepoName::new("a", &"b".repeat(101)).is_err());
        for bad in [
            "", "a", "/b", "a/", "../x", "x/..", "x/.", "a/b/c", "-a/b", "a_b/c", "a/b c",
            "a/b%2f", "a/ä",
        ] {
            assert!(bad.parse::<RepoName>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn commit_sha() {
        let sha: CommitSha = "EC26C3E57CA3A959CA5AAD62DE7213C562F8C821".parse().unwrap();
        assert_eq!(sha.as_str(), "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
        assert_eq!(sha.short(), "ec26c3e");
        assert!(!sha.is_zero());
        assert!(CommitSha::zero().is_zero());
        assert_eq!(
            CommitSha::zero().to_string().parse::<CommitSha>().unwrap(),
            CommitSha::zero()
        );
        for bad in ["", "abc", &"g".repeat(40), &"a".repeat(41), &"é".repeat(20)] {
            assert!(bad.parse::<CommitSha>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn delivery_id() {
        let id: DeliveryId = "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse().unwrap();
        assert_eq!(id.as_str(), "72d3162e-cc78-11e3-81ab-4c9367dc0958");
        assert!("a".repeat(100).parse::<DeliveryId>().is_ok());
        for bad in ["", "a b", "a\nb", "<script>", &"a".repeat(101)] {
            assert!(bad.parse::<DeliveryId>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn serde_through_strings() {
        let repo: RepoName = serde_json::from_str(r#""o/n""#).unwrap();
        assert_eq!(serde_json::to_string(&repo).unwrap(), r#""o/n""#);
        let err = serde_json::from_str::<RepoName>(r#""../n""#).unwrap_err();
        assert!(err.to_string().contains("invalid repository name"), "{err}");
    }
}
