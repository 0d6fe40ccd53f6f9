//! Versions and ranges as Helm checks them, on the project's one Masterminds/semver
//! implementation (text-template's, which `semverCompare` uses too).

pub(crate) use text_template::semver::Version;

/// `chartutil.IsCompatibleRange`: false when either side does not parse.
pub(crate) fn is_compatible_range(constraint: &str, version: &str) -> bool {
    let (Some(v), Ok(c)) = (
        Version::parse(version),
        text_template::semver::Constraints::parse(constraint),
    ) else {
        return false;
    };
    c.check(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_masterminds_does() {
        assert_eq!(Version::parse("v1.28").unwrap().to_string(), "1.28.0");
        assert_eq!(Version::parse("0.1").unwrap().to_string(), "0.1.0");
        assert_eq!(
            Version::parse("1.2.3-rc.1+b5").unwrap().to_string(),
            "1.2.3-rc.1+b5"
        );
        for bad in ["1.2.x", "", "1.2.3-", "1.2.3+", "1.2.3-rc..1"] {
            assert!(Version::parse(bad).is_none(), "{bad:?} parsed");
        }
    }

    #[test]
    fn ranges() {
        assert!(is_compatible_range(">=1.20.0-0", "v1.32.0"));
        assert!(!is_compatible_range("<1.20", "v1.32.0"));
        assert!(is_compatible_range("~1.2.0", "1.2.5"));
        assert!(!is_compatible_range("bogus", "1.2.5"));
        assert!(!is_compatible_range(">=1.0.0", "1.2.3-"));
    }
}
