//! `--helm-repo-mirror ORIGINAL=MIRROR`: a repository's requests (its index, its archives, even
//! absolute archive URLs an index names, and OCI registries) go to the mirror instead.

use crate::{Error, Result};

/// The environment variable [`Mirror::from_env`] reads: a comma list of `ORIGINAL=MIRROR`.
pub const MIRRORS_ENV: &str = "CHARTIMPACT_HELM_REPO_MIRRORS";

/// One mirror: URLs starting with `original` are sent to `mirror` (the rest of the URL kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    original: String,
    mirror: String,
}

fn trim(s: &str) -> String {
    s.trim().trim_end_matches('/').to_owned()
}

impl Mirror {
    /// A mirror of `original` at `mirror` (`https://…`, `http://…` or `oci://…`; `original` may
    /// also be a repository alias such as `@stable`).
    pub fn new(original: &str, mirror: &str) -> Result<Mirror> {
        let (o, m) = (trim(original), trim(mirror));
        if o.is_empty() || m.is_empty() {
            return Err(Error::Config(format!(
                "mirror {:?}={:?}: both sides must be given",
                crate::policy::redact_str(original),
                crate::policy::redact_str(mirror)
            )));
        }
        if !["http://", "https://", "oci://"]
            .iter()
            .any(|s| m.to_ascii_lowercase().starts_with(s))
        {
            return Err(Error::Config(format!(
                "mirror for {o}: {} is not an http(s):// or oci:// URL",
                crate::policy::redact_str(&m)
            )));
        }
        Ok(Mirror {
            original: o,
            mirror: m,
        })
    }

    /// Parses `ORIGINAL=MIRROR` (the `=` before the mirror's scheme separates them, so an
    /// original URL may itself contain `=`).
    /// Errors name the argument as `--helm-repo-mirror "…"`, credentials in its URLs removed.
    pub fn parse(spec: &str) -> Result<Mirror> {
        let named = |reason: &str| {
            // Each side may be a URL with credentials: show each without them.
            let shown = spec
                .split('=')
                .map(crate::policy::redact_str)
                .collect::<Vec<_>>()
                .join("=");
            Error::Config(format!("--helm-repo-mirror {shown:?}: {reason}"))
        };
        let lower = spec.to_ascii_lowercase();
        let split = ["=https://", "=http://", "=oci://"]
            .iter()
            .filter_map(|p| lower.rfind(p))
            .max()
            .ok_or_else(|| named("expected ORIGINAL=MIRROR with an http(s):// or oci:// mirror"))?;
        Mirror::new(&spec[..split], &spec[split + 1..]).map_err(|e| match e {
            Error::Config(reason) => named(&reason),
            e => e,
        })
    }

    /// Mirrors from `ORIGINAL=MIRROR` arguments (`--helm-repo-mirror`, repeated or a comma
    /// list), blank ones skipped; the first bad one is the error.
    pub fn parse_list<S: AsRef<str>>(specs: impl IntoIterator<Item = S>) -> Result<Vec<Mirror>> {
        specs
            .into_iter()
            .filter(|s| !s.as_ref().trim().is_empty())
            .map(|s| Mirror::parse(s.as_ref().trim()))
            .collect()
    }

    /// The mirrors in [`MIRRORS_ENV`], none when unset.
    pub fn from_env() -> Result<Vec<Mirror>> {
        match std::env::var(MIRRORS_ENV) {
            Ok(v) => Mirror::parse_list(v.split(',')),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// The original repository URL.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The mirror URL.
    pub fn mirror(&self) -> &str {
        &self.mirror
    }

    fn apply(&self, url: &str) -> Option<String> {
        let u = url.trim();
        let n = self.original.len();
        if u.len() < n || !u[..n].eq_ignore_ascii_case(&self.original) {
            return None;
        }
        let rest = &u[n..];
        if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') {
            Some(format!("{}{rest}", self.mirror))
        } else {
            None
        }
    }
}

/// `url` rewritten by the longest matching mirror, or unchanged.
pub(crate) fn apply(mirrors: &[Mirror], url: &str) -> String {
    mirrors
        .iter()
        .filter_map(|m| m.apply(url).map(|r| (m.original.len(), r)))
        .max_by_key(|(n, _)| *n)
        .map(|(_, r)| r)
        .unwrap_or_else(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_arguments_are_named_once_and_never_show_credentials() {
        for spec in [
            "=https://user:s3cret@mirror.example/x",
            "https://user:s3cret@charts.example/=ftp://mirror.example",
            "https://user:s3cret@charts.example/=",
        ] {
            let err = Mirror::parse(spec).unwrap_err().to_string();
            assert_eq!(err.matches("--helm-repo-mirror").count(), 1, "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
        let list = Mirror::parse_list(["", " https://a.example=https://m.example/a ", "  "]);
        assert_eq!(list.unwrap().len(), 1);
        assert!(Mirror::parse_list(["https://a.example=https://m.example", "bad"]).is_err());
    }

    #[test]
    fn rewrites_prefixes_on_segment_boundaries() {
        let m = vec![
            Mirror::parse("https://dandydeveloper.github.io/charts/=http://127.0.0.1:8080/dandy")
                .unwrap(),
            Mirror::parse("oci://ghcr.io/org=oci://mirror.local/ghcr/org").unwrap(),
        ];
        assert_eq!(
            apply(&m, "https://dandydeveloper.github.io/charts/"),
            "http://127.0.0.1:8080/dandy/"
        );
        assert_eq!(
            apply(
                &m,
                "https://dandydeveloper.github.io/charts/redis-ha-4.29.4.tgz"
            ),
            "http://127.0.0.1:8080/dandy/redis-ha-4.29.4.tgz"
        );
        assert_eq!(
            apply(&m, "https://dandydeveloper.github.io/chartsX"),
            "https://dandydeveloper.github.io/chartsX"
        );
        assert_eq!(
            apply(&m, "oci://ghcr.io/org/app"),
            "oci://mirror.local/ghcr/org/app"
        );
    }

    #[test]
    fn refuses_malformed_specs() {
        assert!(Mirror::parse("https://a.example").is_err());
        assert!(Mirror::parse("=https://b.example").is_err());
        assert!(Mirror::parse("https://a.example=ftp://b").is_err());
        let m = Mirror::parse("https://a.example/x?y=1=https://b.example").unwrap();
        assert_eq!(m.original(), "https://a.example/x?y=1");
    }
}
