//! Comparing two manifests: match resources, diff, classify, filter, score.

use std::borrow::Cow;
use std::collections::BTreeSet;

use yaml11::Value;

use crate::classify::{classify, pod_metadata_prefix};
use crate::hash::{object_hash, sha256_hex};
use crate::impact::{self, Subject};
use crate::manifest::{Manifest, Resource, ResourceKey};
use crate::model::{
    Change, ChangeType, Impact, ImportanceCounts, InputInfo, Inputs, Metadata, ResourceDiff,
    ResourceSummary, Stats, StructuredDiff,
};
use crate::options::DiffOptions;
use crate::path::Path;
use crate::redact::{is_secret, redact_secret};
use crate::structural::{self, WalkOptions};

/// Version of the diff engine, part of every `compareId`.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Labels that change with every chart release and say nothing about the cluster.
pub const CHART_VERSION_LABELS: &[&str] = &["helm.sh/chart", "app.kubernetes.io/version", "chart"];

/// The result of a comparison: the structured diff and its impact.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// ChartImpact's `structuredDiff`.
    pub structured_diff: StructuredDiff,
    /// ChartImpact's `impact`.
    pub impact: Impact,
    /// The compared objects (secrets redacted), one entry per `structured_diff.resources`
    /// item, for reports that show whole objects.
    pub sides: Vec<Sides>,
}

/// The two compared objects of one differing resource, as compared (secrets redacted).
#[derive(Debug, Clone, PartialEq)]
pub struct Sides {
    /// Old object.
    pub before: Option<Value>,
    /// New object.
    pub after: Option<Value>,
}

impl Comparison {
    /// The deterministic id of this comparison.
    pub fn compare_id(&self) -> &str {
        &self.structured_diff.metadata.compare_id
    }
}

/// Where each side came from and when they were compared: `metadata.inputs` and
/// `metadata.generatedAt`. diff-core reads no clock, so its output depends on its inputs alone.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Old side: `file`, `stdin`, `helm`, `native`, ….
    pub left: String,
    /// New side.
    pub right: String,
    /// When the comparison was made, RFC 3339 ([`crate::rfc3339`] formats the caller's clock);
    /// empty when the caller keeps no time.
    pub generated_at: String,
}

/// One side's compared object, borrowed unless preparation changed it.
type Side<'a> = Option<Cow<'a, Value>>;

/// Compares two manifests read from files, with no time (`generatedAt` is empty; see
/// [`compare_with_sources`]).
pub fn compare(before: &Manifest, after: &Manifest, opts: &DiffOptions) -> Comparison {
    compare_with_sources(
        before,
        after,
        opts,
        &Sources {
            left: "file".into(),
            right: "file".into(),
            generated_at: String::new(),
        },
    )
}

/// Compares two manifests, naming where each came from.
pub fn compare_with_sources(
    before: &Manifest,
    after: &Manifest,
    opts: &DiffOptions,
    sources: &Sources,
) -> Comparison {
    let keys: BTreeSet<&ResourceKey> = before
        .resources
        .keys()
        .chain(after.resources.keys())
        .collect();
    let mut stats = Stats::default();
    let mut diffs: Vec<(ResourceDiff, Side<'_>, Side<'_>)> = Vec::new();
    for key in keys {
        if opts.kind_suppressed(&key.kind) {
            stats.suppressed_resources += 1;
            continue;
        }
        let old = before.resources.get(key).map(|r| prepared(r, opts));
        let new = after.resources.get(key).map(|r| prepared(r, opts));
        let old_res = before.resources.get(key);
        let new_res = after.resources.get(key);
        let diff = match (old_res, new_res, &old, &new) {
            (Some(o), Some(n), Some(ov), Some(nv)) => {
                let raw = structural::diff(
                    ov,
                    nv,
                    WalkOptions {
                        context_lines: opts.context_lines,
                    },
                );
                let mut changes = Vec::with_capacity(raw.len());
                for c in raw {
                    if let Some(re) = &opts.suppress_regex
                        && re.is_match(&c.path.to_string())
                    {
                        stats.suppressed_changes += 1;
                        continue;
                    }
                    changes.push(classify(&key.kind, c));
                }
                if changes.is_empty() {
                    stats.resources.unchanged += 1;
                    continue;
                }
                let mut d = resource_diff(n, ChangeType::Modified);
                if o.api_version != n.api_version {
                    d.previous_api_version = Some(o.api_version.clone());
                }
                d.before_hash = Some(object_hash(ov));
                d.after_hash = Some(object_hash(nv));
                d.summary = Some(summary(&changes));
                if is_chart_version_noise(&changes) {
                    d.flags.push("chart-version-noise");
                    stats.chart_version_noise += 1;
                }
                stats.changes.total += changes.len();
                d.changes = changes;
                stats.resources.modified += 1;
                d
            }
            (Some(o), None, Some(ov), _) => {
                stats.resources.removed += 1;
                let mut d = resource_diff(o, ChangeType::Removed);
                d.before_hash = Some(object_hash(ov));
                d
            }
            (None, Some(n), _, Some(nv)) => {
                stats.resources.added += 1;
                let mut d = resource_diff(n, ChangeType::Added);
                d.after_hash = Some(object_hash(nv));
                d
            }
            _ => continue,
        };
        diffs.push((diff, old, new));
    }
    diffs.sort_by(|a, b| {
        let (x, y) = (&a.0.identity, &b.0.identity);
        (&x.api_version, &x.kind, &x.namespace, &x.name).cmp(&(
            &y.api_version,
            &y.kind,
            &y.namespace,
            &y.name,
        ))
    });
    let subjects: Vec<Subject<'_>> = diffs
        .iter()
        .map(|(d, b, a)| Subject {
            diff: d,
            before: b.as_deref(),
            after: a.as_deref(),
        })
        .collect();
    let impact = impact::assess_in(&subjects, after);
    drop(subjects);
    let mut resources = Vec::with_capacity(diffs.len());
    let mut sides = Vec::with_capacity(diffs.len());
    for (d, before, after) in diffs {
        resources.push(d);
        sides.push(Sides {
            before: before.map(Cow::into_owned),
            after: after.map(Cow::into_owned),
        });
    }
    let compare_id = compare_id(before, after, opts);
    let mut warnings: Vec<String> = before
        .duplicates
        .iter()
        .chain(&after.duplicates)
        .cloned()
        .collect();
    warnings.sort();
    let structured_diff = StructuredDiff {
        metadata: Metadata {
            engine_version: ENGINE_VERSION.to_owned(),
            compare_id,
            generated_at: sources.generated_at.clone(),
            inputs: Inputs {
                left: input_info(&sources.left, before),
                right: input_info(&sources.right, after),
            },
            normalization_rules: opts.normalization_rules(),
            warnings,
        },
        resources,
        stats,
    };
    Comparison {
        structured_diff,
        impact,
        sides,
    }
}

fn input_info(source: &str, m: &Manifest) -> InputInfo {
    InputInfo {
        source: source.to_owned(),
        name: Some(m.name.clone()),
        sha256: Some(m.sha256.clone()),
        resources: m.resources.len(),
    }
}

/// sha256 over the engine version, both inputs and the options.
fn compare_id(before: &Manifest, after: &Manifest, opts: &DiffOptions) -> String {
    let text = format!(
        "chartimpact-diff\0{ENGINE_VERSION}\0{}\0{}\0{}",
        before.sha256,
        after.sha256,
        opts.fingerprint()
    );
    sha256_hex(text.as_bytes())
}

fn resource_diff(r: &Resource, change_type: ChangeType) -> ResourceDiff {
    let mut flags = Vec::new();
    if r.is_hook() {
        flags.push("hook");
    }
    ResourceDiff {
        identity: r.identity(),
        previous_api_version: None,
        change_type,
        before_hash: None,
        after_hash: None,
        changes: Vec::new(),
        summary: None,
        flags,
        source: r.source.clone(),
    }
}

/// The object as it is compared: secrets redacted, ignored metadata dropped. Borrowed when
/// nothing needs changing, which is almost always.
fn prepared<'a>(r: &'a Resource, opts: &DiffOptions) -> Cow<'a, Value> {
    let secret = is_secret(&r.api_version, &r.key.kind);
    if !secret && !opts.ignore_labels {
        return Cow::Borrowed(&r.object);
    }
    let mut v = r.object.clone();
    if secret {
        redact_secret(&mut v, opts.secret_handling);
    }
    if opts.ignore_labels {
        drop_metadata(&mut v, &["metadata"]);
        if let Some(prefix) = pod_metadata_prefix(&r.key.kind) {
            drop_metadata(&mut v, prefix);
        }
    }
    Cow::Owned(v)
}

fn drop_metadata(v: &mut Value, prefix: &[&str]) {
    let mut cur = v;
    for k in prefix {
        match cur {
            Value::Mapping(m) => match m.get_mut(k) {
                Some(next) => cur = next,
                None => return,
            },
            _ => return,
        }
    }
    if let Value::Mapping(m) = cur {
        m.remove("labels");
        m.remove("annotations");
    }
}

fn summary(changes: &[Change]) -> ResourceSummary {
    let mut by = ImportanceCounts::default();
    let mut cats: Vec<&'static str> = Vec::new();
    for c in changes {
        match c.importance {
            crate::model::Importance::High => by.high += 1,
            crate::model::Importance::Medium => by.medium += 1,
            crate::model::Importance::Low => by.low += 1,
        }
        cats.push(c.change_category);
    }
    cats.sort_unstable();
    cats.dedup();
    ResourceSummary {
        total_changes: changes.len(),
        by_importance: by,
        categories: cats,
    }
}

/// True when every change is a chart-version label on the object itself.
fn is_chart_version_noise(changes: &[Change]) -> bool {
    !changes.is_empty() && changes.iter().all(|c| is_chart_version_label(&c.path))
}

fn is_chart_version_label(path: &Path) -> bool {
    path.len() == 3
        && path.starts_with_keys(&["metadata", "labels"])
        && path
            .last_key()
            .is_some_and(|k| CHART_VERSION_LABELS.contains(&k))
}
