//! Semantic versions in tag names (`v1.2.3`, `1.2.3-rc.1`, `argo-cd-5.1.0`) and their order.

use std::{cmp::Ordering, fmt};

/// A semantic version (SemVer 2.0.0) read from a tag name.
///
/// Ordering follows SemVer precedence (build metadata is ignored for precedence but breaks ties
/// so the order is total).
///
/// ```
/// use chart_source::Version;
/// let a: Version = "1.2.3-rc.1".parse().unwrap();
/// let b: Version = "v1.2.3".parse().unwrap();
/// assert!(a < b);
/// assert_eq!(b.to_string(), "1.2.3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    /// Major version.
    pub major: u64,
    /// Minor version.
    pub minor: u64,
    /// Patch version.
    pub patch: u64,
    /// Pre-release identifiers (`rc.1` → `["rc", "1"]`), empty for a release.
    pub pre: Vec<String>,
    /// Build metadata after `+`, empty when absent.
    pub build: String,
}

/// The string is not a semantic version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a semantic version")]
pub struct ParseVersionError;

impl std::str::FromStr for Version {
    type Err = ParseVersionError;

    /// Parses `MAJOR.MINOR.PATCH[-PRE][+BUILD]` with an optional leading `v`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => {
                if !valid_idents(b, false) {
                    return Err(ParseVersionError);
                }
                (r, b.to_owned())
            }
            None => (s, String::new()),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => {
                if !valid_idents(p, true) {
                    return Err(ParseVersionError);
                }
                (c, p.split('.').map(str::to_owned).collect())
            }
            None => (rest, Vec::new()),
        };
        let mut nums = core.split('.');
        let mut num = || -> Result<u64, ParseVersionError> {
            let n = nums.next().ok_or(ParseVersionError)?;
            if n.is_empty()
                || !n.bytes().all(|b| b.is_ascii_digit())
                || (n.len() > 1 && n.starts_with('0'))
            {
                return Err(ParseVersionError);
            }
            n.parse().map_err(|_| ParseVersionError)
        };
        let (major, minor, patch) = (num()?, num()?, num()?);
        if nums.next().is_some() {
            return Err(ParseVersionError);
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            build,
        })
    }
}

fn valid_idents(s: &str, no_leading_zero: bool) -> bool {
    s.split('.').all(|id| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !(no_leading_zero
                && id.len() > 1
                && id.starts_with('0')
                && id.bytes().all(|b| b.is_ascii_digit()))
    })
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre.join("."))?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_pre(&self.pre, &other.pre),
            })
            .then_with(|| self.build.cmp(&other.build))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn cmp_pre(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// Splits a tag into an optional chart prefix and a version: `argo-cd-5.1.0` →
/// (`Some("argo-cd")`, 5.1.0), `v1.2.3` → (`None`, 1.2.3), `chart/v1.0.0` → (`Some("chart")`, 1.0.0).
pub(crate) fn parse_tag(tag: &str) -> Option<(Option<&str>, Version)> {
    if let Ok(v) = tag.parse() {
        return Some((None, v));
    }
    for (i, c) in tag.char_indices() {
        if matches!(c, '-' | '_' | '/' | '@') && i > 0 {
            let rest = &tag[i + 1..];
            let starts_versionish = rest.starts_with(|c: char| c.is_ascii_digit())
                || (rest.starts_with('v') && rest[1..].starts_with(|c: char| c.is_ascii_digit()));
            if starts_versionish && let Ok(v) = rest.parse() {
                return Some((Some(&tag[..i]), v));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(v("v10.20.30").major, 10);
        assert_eq!(v("1.0.0-alpha.1+build.5").pre, vec!["alpha", "1"]);
        for bad in [
            "1.0", "1.0.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "x1.0.0", "1.a.0",
        ] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn semver_precedence() {
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn chart_prefixed_tags() {
        assert_eq!(
            parse_tag("argo-cd-5.1.0"),
            Some((Some("argo-cd"), v("5.1.0")))
        );
        assert_eq!(
            parse_tag("argo-cd-5.1.0-rc.1"),
            Some((Some("argo-cd"), v("5.1.0-rc.1")))
        );
        assert_eq!(
            parse_tag("kube-prometheus-stack-45.0.0"),
            Some((Some("kube-prometheus-stack"), v("45.0.0")))
        );
        assert_eq!(
            parse_tag("charts/vault/v0.28.0"),
            Some((Some("charts/vault"), v("0.28.0")))
        );
        assert_eq!(parse_tag("v2.0.0"), Some((None, v("2.0.0"))));
        assert_eq!(parse_tag("helm-v3"), None);
        assert_eq!(parse_tag("release"), None);
    }
}
