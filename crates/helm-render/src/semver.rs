//! Masterminds/semver as Helm uses it: loose version parsing and range checks
//! (`IsCompatibleRange`), the range checks delegated to the template engine's `semver_compare`.

/// A parsed version (`semver.NewVersion`, which accepts `v1`, `1.2` and fills zeros).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub meta: String,
}

fn ident_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

impl Version {
    pub(crate) fn parse(s: &str) -> Option<Version> {
        let t = s.strip_prefix('v').unwrap_or(s);
        let (t, meta) = match t.split_once('+') {
            Some((a, m)) => (a, m.to_string()),
            None => (t, String::new()),
        };
        if s.contains('+') && !ident_ok(&meta) {
            return None;
        }
        let (core, pre) = match t.split_once('-') {
            Some((a, p)) => (a, p.to_string()),
            None => (t, String::new()),
        };
        if t.contains('-') && !ident_ok(&pre) {
            return None;
        }
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        let mut nums = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            nums[i] = p.parse().ok()?;
        }
        Some(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            meta,
        })
    }

    /// `Version.String()`.
    pub(crate) fn string(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.meta.is_empty() {
            s.push('+');
            s.push_str(&self.meta);
        }
        s
    }
}

/// `chartutil.IsCompatibleRange`: false when either side does not parse.
pub(crate) fn is_compatible_range(constraint: &str, version: &str) -> bool {
    Version::parse(version).is_some()
        && matches!(text_template::semver_compare(constraint, version), Ok(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(Version::parse("v1.28").unwrap().string(), "1.28.0");
        assert_eq!(Version::parse("0.1").unwrap().string(), "0.1.0");
        assert_eq!(
            Version::parse("1.2.3-rc.1+b5").unwrap().string(),
            "1.2.3-rc.1+b5"
        );
        assert!(Version::parse("1.2.x").is_none());
        assert!(Version::parse("").is_none());
    }

    #[test]
    fn ranges() {
        assert!(is_compatible_range(">=1.20.0-0", "v1.32.0"));
        assert!(!is_compatible_range("<1.20", "v1.32.0"));
        assert!(is_compatible_range("~1.2.0", "1.2.5"));
        assert!(!is_compatible_range("bogus", "1.2.5"));
    }
}
