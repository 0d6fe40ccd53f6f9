//! What a comparison may ignore, hide or show.

use regex::Regex;

use crate::error::Error;
use crate::redact::SecretHandling;

/// Options of a comparison. Build with [`DiffOptionsBuilder`].
#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub(crate) namespace: String,
    pub(crate) ignore_labels: bool,
    pub(crate) suppress_kinds: Vec<String>,
    pub(crate) suppress_regex: Option<Regex>,
    pub(crate) context_lines: usize,
    pub(crate) secret_handling: SecretHandling,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            namespace: "default".into(),
            ignore_labels: false,
            suppress_kinds: Vec::new(),
            suppress_regex: None,
            context_lines: 3,
            secret_handling: SecretHandling::Suppress,
        }
    }
}

impl DiffOptions {
    /// Release namespace given to namespaced objects that name none.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Context lines in line diffs and the unified report.
    pub fn context_lines(&self) -> usize {
        self.context_lines
    }

    /// Secret handling.
    pub fn secret_handling(&self) -> SecretHandling {
        self.secret_handling
    }

    /// Names of the normalizations these options apply, for `metadata.normalizationRules`.
    pub fn normalization_rules(&self) -> Vec<String> {
        let mut rules = Vec::new();
        if self.ignore_labels {
            rules.extend(
                [
                    "ignoreLabels",
                    "ignoreAnnotations",
                    "ignorePodTemplateLabels",
                    "ignorePodTemplateAnnotations",
                ]
                .map(String::from),
            );
        }
        rules.push("normalizeDefaults".into());
        rules.push("namespaceDefault:".to_owned() + &self.namespace);
        rules.push("numbersByValue".into());
        rules.push("quantitiesByValue".into());
        rules.push(format!("secrets:{}", self.secret_handling.as_str()));
        for k in &self.suppress_kinds {
            rules.push(format!("suppressKind:{k}"));
        }
        if let Some(re) = &self.suppress_regex {
            rules.push(format!("suppressRegex:{}", re.as_str()));
        }
        rules
    }

    /// A stable text of every option, for content-addressed ids.
    pub fn fingerprint(&self) -> String {
        format!(
            "ns={}\0labels={}\0kinds={}\0re={}\0ctx={}\0secrets={}",
            self.namespace,
            self.ignore_labels,
            self.suppress_kinds.join(","),
            self.suppress_regex
                .as_ref()
                .map(Regex::as_str)
                .unwrap_or(""),
            self.context_lines,
            self.secret_handling.as_str()
        )
    }

    pub(crate) fn kind_suppressed(&self, kind: &str) -> bool {
        self.suppress_kinds
            .iter()
            .any(|k| k.eq_ignore_ascii_case(kind))
    }
}

/// Builds [`DiffOptions`].
///
/// ```
/// let opts = diff_core::DiffOptionsBuilder::new()
///     .namespace("prod")
///     .suppress_kind("CustomResourceDefinition")
///     .suppress_regex(r"^metadata\.annotations")
///     .build()
///     .unwrap();
/// assert_eq!(opts.namespace(), "prod");
/// ```
#[derive(Debug, Clone, Default)]
pub struct DiffOptionsBuilder {
    namespace: Option<String>,
    ignore_labels: bool,
    suppress_kinds: Vec<String>,
    suppress_regex: Option<String>,
    context_lines: Option<usize>,
    secret_handling: SecretHandling,
}

impl DiffOptionsBuilder {
    /// Defaults: namespace `default`, nothing ignored, 3 context lines, secrets suppressed.
    pub fn new() -> Self {
        Self::default()
    }

    /// The release namespace.
    pub fn namespace(&mut self, ns: &str) -> &mut Self {
        self.namespace = Some(ns.to_owned());
        self
    }

    /// Ignore labels and annotations, on the object and on its pod template.
    pub fn ignore_labels(&mut self, yes: bool) -> &mut Self {
        self.ignore_labels = yes;
        self
    }

    /// Leave out resources of this kind (case-insensitive).
    pub fn suppress_kind(&mut self, kind: &str) -> &mut Self {
        self.suppress_kinds.push(kind.to_owned());
        self
    }

    /// Leave out changes whose path matches this regex.
    pub fn suppress_regex(&mut self, re: &str) -> &mut Self {
        self.suppress_regex = Some(re.to_owned());
        self
    }

    /// Context lines for line diffs.
    pub fn context_lines(&mut self, n: usize) -> &mut Self {
        self.context_lines = Some(n);
        self
    }

    /// What Secret values may show.
    pub fn secret_handling(&mut self, mode: SecretHandling) -> &mut Self {
        self.secret_handling = mode;
        self
    }

    /// The options, or an error naming a bad regex.
    pub fn build(&self) -> Result<DiffOptions, Error> {
        let suppress_regex = match &self.suppress_regex {
            Some(p) if !p.is_empty() => {
                Some(Regex::new(p).map_err(|source| Error::SuppressRegex {
                    pattern: p.clone(),
                    source,
                })?)
            }
            _ => None,
        };
        let mut kinds = self.suppress_kinds.clone();
        kinds.sort();
        kinds.dedup();
        Ok(DiffOptions {
            namespace: self.namespace.clone().unwrap_or_else(|| "default".into()),
            ignore_labels: self.ignore_labels,
            suppress_kinds: kinds,
            suppress_regex,
            context_lines: self.context_lines.unwrap_or(3),
            secret_handling: self.secret_handling,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_regex_is_named() {
        let err = DiffOptionsBuilder::new()
            .suppress_regex("(")
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("invalid suppress regex \"(\""),
            "{err}"
        );
    }

    #[test]
    fn fingerprint_differs_per_option() {
        let a = DiffOptionsBuilder::new().build().unwrap().fingerprint();
        let b = DiffOptionsBuilder::new()
            .context_lines(5)
            .build()
            .unwrap()
            .fingerprint();
        assert_ne!(a, b);
    }

    #[test]
    fn ignore_labels_is_named_in_rules() {
        let o = DiffOptionsBuilder::new()
            .ignore_labels(true)
            .build()
            .unwrap();
        assert!(
            o.normalization_rules()
                .contains(&"ignorePodTemplateLabels".to_owned())
        );
    }
}
