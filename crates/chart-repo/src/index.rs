//! A Helm repository's `index.yaml` (YAML or JSON), read as Helm's `repo.LoadIndex` does:
//! entries with an invalid version are skipped, each chart's versions sorted newest first; and
//! version selection as `IndexFile.Get` and the dependency resolver do it.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use text_template::semver::{Constraints, Version};

/// One version of a chart, as a repository lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ChartVersion {
    /// The chart's name.
    pub name: String,
    /// The version as the repository writes it (for OCI, the tag with `_` read as `+`).
    pub version: String,
    /// `appVersion` (empty when unknown, always for OCI tags).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    /// `created` (RFC 3339; empty when unknown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created: String,
    /// The archive's sha256 (hex) from the index; empty when the index gives none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// Archive URLs (relative ones against the repository URL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// `deprecated`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

impl ChartVersion {
    pub(crate) fn tag(name: &str, tag: &str) -> ChartVersion {
        ChartVersion {
            name: name.to_owned(),
            version: tag.replace('_', "+"),
            app_version: String::new(),
            created: String::new(),
            digest: String::new(),
            urls: Vec::new(),
            deprecated: false,
        }
    }
}

/// A parsed index: chart name → versions, newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Index {
    pub(crate) entries: BTreeMap<String, Vec<ChartVersion>>,
}

#[derive(Deserialize)]
struct RawIndex {
    #[serde(default, rename = "apiVersion", deserialize_with = "lenient")]
    api_version: Option<String>,
    #[serde(default)]
    entries: Option<BTreeMap<String, Option<Vec<Option<RawEntry>>>>>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    version: Option<String>,
    #[serde(default, rename = "appVersion", deserialize_with = "lenient")]
    app_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    created: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    digest: Option<String>,
    #[serde(default)]
    urls: Option<Vec<Option<String>>>,
    #[serde(default)]
    deprecated: Option<bool>,
}

/// A scalar of any type as its text: YAML may write `version: 1.10` unquoted.
fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        S(String),
        I(i64),
        U(u64),
        F(f64),
        B(bool),
    }
    Ok(Option::<Scalar>::deserialize(d)?.map(|s| match s {
        Scalar::S(s) => s,
        Scalar::I(i) => i.to_string(),
        Scalar::U(u) => u.to_string(),
        Scalar::F(f) => f.to_string(),
        Scalar::B(b) => b.to_string(),
    }))
}

/// Parses an index, YAML or JSON (JSON is chosen by its first character; it is YAML too, but
/// the JSON parser reads a large index several times faster).
pub(crate) fn parse(bytes: &[u8]) -> Result<Index, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let raw: RawIndex = if first == Some(&b'{') {
        serde_json::from_slice(bytes)
            .map_err(|e| format!("not valid JSON (line {}, column {})", e.line(), e.column()))?
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
        // Indexes are large and trusted only as far as their size limit: budgets scale with it.
        let mut options = serde_saphyr::Options::default();
        if let Some(b) = options.budget.as_mut() {
            let n = text.len().max(1 << 20);
            b.max_events = n;
            b.max_nodes = n;
            b.max_total_scalar_bytes = n;
            b.max_reader_input_bytes = Some(n);
        }
        serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            let msg = e.to_string();
            format!("not valid YAML: {}", msg.lines().next().unwrap_or(""))
        })?
    };
    if raw.api_version.as_deref().unwrap_or("").is_empty() {
        return Err("no API version specified".into());
    }
    let mut index = Index::default();
    for (name, versions) in raw.entries.unwrap_or_default() {
        let mut out: Vec<(Version, ChartVersion)> = Vec::new();
        for e in versions.unwrap_or_default().into_iter().flatten() {
            let version = e.version.unwrap_or_default();
            // Helm skips entries that fail validation; an unparsable version is the one that
            // matters for selection.
            let Some(parsed) = Version::parse(&version) else {
                continue;
            };
            out.push((
                parsed,
                ChartVersion {
                    name: e
                        .name
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| name.clone()),
                    version,
                    app_version: e.app_version.unwrap_or_default(),
                    created: e.created.unwrap_or_default(),
                    digest: e
                        .digest
                        .map(|d| d.trim_start_matches("sha256:").to_ascii_lowercase())
                        .unwrap_or_default(),
                    urls: e.urls.unwrap_or_default().into_iter().flatten().collect(),
                    deprecated: e.deprecated.unwrap_or(false),
                },
            ));
        }
        out.sort_by(|a, b| b.0.cmp(&a.0));
        index
            .entries
            .insert(name, out.into_iter().map(|(_, v)| v).collect());
    }
    Ok(index)
}

/// Sorts versions newest first (Masterminds order; unparsable ones last, as Helm's sort).
pub(crate) fn sort_newest_first(versions: &mut [ChartVersion]) {
    versions.sort_by(
        |a, b| match (Version::parse(&a.version), Version::parse(&b.version)) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.version.cmp(&b.version),
        },
    );
}

/// Why no version was selected.
#[derive(Debug)]
pub(crate) enum NoMatch {
    /// The constraint does not parse.
    Constraint(String),
    /// Nothing matches; the nearest versions, newest first.
    None(Vec<String>),
}

/// Picks a version as Helm does: an exact string match first (`IndexFile.Get`), then the newest
/// version the constraint admits (`""` admits every release). Pre-releases only match a
/// constraint that names a pre-release (`>=1.0.0-0`). With `need_urls`, versions without an
/// archive URL are passed over (the dependency resolver does; OCI tags have none).
pub(crate) fn select<'a>(
    versions: &'a [ChartVersion],
    wanted: &str,
    need_urls: bool,
) -> Result<&'a ChartVersion, NoMatch> {
    let usable = |v: &&ChartVersion| !need_urls || !v.urls.is_empty();
    let wanted = wanted.trim();
    if !wanted.is_empty()
        && let Some(v) = versions.iter().filter(usable).find(|v| v.version == wanted)
    {
        return Ok(v);
    }
    let constraint = Constraints::parse(if wanted.is_empty() { "*" } else { wanted })
        .map_err(NoMatch::Constraint)?;
    versions
        .iter()
        .filter(usable)
        .find(|v| Version::parse(&v.version).is_some_and(|p| constraint.check(&p)))
        .ok_or_else(|| NoMatch::None(nearest_versions(versions, wanted)))
}

/// Up to five versions around `wanted` (newest first): the neighbours of an exact version,
/// or the newest versions for a range.
pub(crate) fn nearest_versions(versions: &[ChartVersion], wanted: &str) -> Vec<String> {
    let all: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
    let Some(target) = Version::parse(wanted.trim_start_matches('=')) else {
        return all.iter().take(5).map(|s| s.to_string()).collect();
    };
    // `versions` is newest first: find where `target` would go.
    let pos = versions
        .iter()
        .position(|v| Version::parse(&v.version).is_some_and(|p| p < target))
        .unwrap_or(versions.len());
    let start = pos.saturating_sub(2);
    all[start..(start + 5).min(all.len())]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The closest names to `wanted` by edit distance, at most five.
pub(crate) fn nearest_names<'a>(
    wanted: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let w = wanted.to_ascii_lowercase();
    let budget = (w.chars().count() / 3).max(2);
    let mut scored: Vec<(u8, usize, &str)> = names
        .into_iter()
        .filter_map(|n| {
            let l = n.to_ascii_lowercase();
            let d = levenshtein(&w, &l);
            if l.contains(&w) || w.contains(&l) {
                Some((0, d, n))
            } else if d <= budget {
                Some((1, d, n))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|s| s.2.to_owned()).collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"apiVersion: v1
entries:
  app:
  - name: app
    version: 1.2.0
    urls: [app-1.2.0.tgz]
    digest: AA
  - name: app
    version: 2.0.0-rc.1
    urls: [app-2.0.0-rc.1.tgz]
  - name: app
    version: not-semver
    urls: [x.tgz]
  - name: app
    version: 1.10.1
    urls: [https://example.com/app-1.10.1.tgz]
  - name: app
    version: 0.9.0
  other: []
generated: "2024-01-01T00:00:00Z"
"#;

    #[test]
    fn parses_sorts_and_skips_invalid_versions() {
        let idx = parse(INDEX.as_bytes()).unwrap();
        let v: Vec<&str> = idx.entries["app"]
            .iter()
            .map(|v| v.version.as_str())
            .collect();
        assert_eq!(v, ["2.0.0-rc.1", "1.10.1", "1.2.0", "0.9.0"]);
        assert_eq!(idx.entries["app"][2].digest, "aa");
        assert!(idx.entries["other"].is_empty());
    }

    #[test]
    fn json_index_is_the_same_index() {
        let yaml = parse(INDEX.as_bytes()).unwrap();
        let json = r#"{"apiVersion":"v1","entries":{"app":[{"name":"app","version":"1.2.0","urls":["app-1.2.0.tgz"],"digest":"AA"}]}}"#;
        let j = parse(json.as_bytes()).unwrap();
        assert_eq!(j.entries["app"][0], yaml.entries["app"][2]);
    }

    #[test]
    fn refuses_an_index_without_api_version() {
        assert_eq!(
            parse(b"entries: {}\n").unwrap_err(),
            "no API version specified"
        );
        assert!(
            parse(b"{ not json")
                .unwrap_err()
                .starts_with("not valid JSON")
        );
    }

    #[test]
    fn selects_as_helm() {
        let idx = parse(INDEX.as_bytes()).unwrap();
        let vs = &idx.entries["app"];
        let pick = |w: &str| select(vs, w, true).map(|v| v.version.clone());
        assert_eq!(pick("1.2.0").unwrap(), "1.2.0");
        assert_eq!(pick("").unwrap(), "1.10.1", "releases only by default");
        assert_eq!(pick("^1.0").unwrap(), "1.10.1");
        assert_eq!(pick("~1.2").unwrap(), "1.2.0");
        assert_eq!(pick(">=1.0.0-0").unwrap(), "2.0.0-rc.1");
        // 0.9.0 has no URL: a dependency cannot be downloaded from it.
        assert!(matches!(pick("0.9.0"), Err(NoMatch::None(_))));
        match pick("1.5.0") {
            Err(NoMatch::None(near)) => {
                assert_eq!(near, ["2.0.0-rc.1", "1.10.1", "1.2.0", "0.9.0"])
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(pick(">>1"), Err(NoMatch::Constraint(_))));
    }

    #[test]
    fn large_indexes_fit_the_parser_budgets() {
        // Shaped like a big public index: thousands of versions with long descriptions. The
        // parser's default budgets (a million events, 250,000 nodes) would refuse it.
        let mut text = String::from("apiVersion: v1\nentries:\n");
        for c in 0..30 {
            text.push_str(&format!("  chart-{c}:\n"));
            for v in 0..450 {
                text.push_str(&format!(
                    "  - name: chart-{c}\n    version: 1.{v}.0\n    appVersion: \"2.{v}\"\n    description: {}\n    digest: {:064x}\n    keywords: [a, b, c, d]\n    maintainers:\n    - name: someone\n      email: someone@example.com\n    urls:\n    - https://charts.example.com/chart-{c}-1.{v}.0.tgz\n",
                    "x".repeat(10),
                    c * 1000 + v
                ));
            }
        }
        assert!(text.len() > 4 << 20, "{}", text.len());
        let idx = parse(text.as_bytes()).unwrap();
        assert_eq!(idx.entries.len(), 30);
        assert_eq!(idx.entries["chart-7"][0].version, "1.449.0");
    }

    #[test]
    fn nearest_names_rank_prefixes_then_edits() {
        let names = ["redis", "redis-ha", "postgresql", "rabbitmq"];
        assert_eq!(nearest_names("redis-h", names), ["redis-ha", "redis"]);
        assert!(nearest_names("zzzzzz", names).is_empty());
    }
}
