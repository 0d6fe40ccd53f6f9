//! Pull-request analysis: every chart a change affects, each compared per values scenario of
//! the repository's policy (`.chartimpact.yaml`, read at the base — never at the head).

use std::collections::HashMap;

use chart_source::AffectedOptions;

use super::{Engine, sha256_hex};
use crate::context::Context;
use crate::error::CompareError;
use crate::locate;
use crate::pr::{
    CONFIG_FILE, ChartResult, ConfigError, PrReport, PrRequest, RepoConfig, Scenario, SignalSource,
    ValuesLine,
};
use crate::response::{ChartChange, CompareResponse};

impl Engine {
    /// Compares every chart affected between `base` and `head`.
    pub(super) fn analyze(&self, req: &PrRequest, ctx: &Context) -> Result<PrReport, CompareError> {
        let repo = self.repository(&req.repository, ctx)?;
        let resolve = |rev: &str| {
            repo.resolve(rev)
                .map_err(|e| CompareError::from_source(e, repo.url().normalized(), rev))
        };
        if let Some(head_ref) = &req.head_ref {
            let at = resolve(head_ref)?;
            if !at.commit.to_hex().eq_ignore_ascii_case(req.head.trim()) {
                return Err(CompareError::InvalidRequest(format!(
                    "{head_ref} of {} is at {}, not at {}: the pull request moved on; its newer \
                     head is analysed instead",
                    repo.url().normalized(),
                    at.commit.to_hex(),
                    req.head.trim()
                )));
            }
        }
        let (mut base, head) = (resolve(&req.base)?, resolve(&req.head)?);
        if req.merge_base {
            let merge_base = repo
                .merge_base(&base.commit, &head.commit)
                .map_err(|e| CompareError::from_source(e, repo.url().normalized(), &req.base))?
                .ok_or_else(|| {
                    CompareError::InvalidRequest(format!(
                        "{} and {} have no common history in {}",
                        req.base,
                        req.head,
                        repo.url().normalized()
                    ))
                })?;
            base.commit = merge_base;
        }
        // The policy's revision: the caller's (the default branch on GitHub) when the mirror has
        // it, else the base. A missing default branch is no fault of the file, and the base is as
        // safe (the pull request does not control it either).
        let (config_revision, config_commit) = match req.config_revision.as_deref() {
            Some(rev) if rev != req.base => match repo.resolve(rev) {
                Ok(r) => (rev.to_owned(), r.commit),
                Err(e) => {
                    tracing::warn!(revision = rev, error = %e, "policy revision not found; reading .chartimpact.yaml at the base");
                    (req.base.clone(), base.commit)
                }
            },
            _ => (req.base.clone(), base.commit),
        };
        let config = repo
            .read_file(&config_commit, CONFIG_FILE)
            .map_err(|e| ConfigError::Unreadable {
                revision: config_revision.clone(),
                message: e.to_string(),
            })
            .and_then(|bytes| match bytes {
                Some(b) => RepoConfig::parse(&String::from_utf8_lossy(&b)),
                None => Ok(RepoConfig::default()),
            });
        let (config, config_error) = match config {
            Ok(c) => (c, None),
            Err(e) => (RepoConfig::default(), Some(e)),
        };
        // Ignored kinds and paths are left out before scoring, so they never count.
        let mut template = req.template.clone();
        template
            .suppress_kinds
            .extend(config.ignore.kinds.iter().cloned());
        if let Some(re) = config.ignore_regex() {
            template.suppress_regex = Some(match template.suppress_regex.take() {
                Some(given) => format!("(?:{given})|{re}"),
                None => re,
            });
        }
        let rules_fingerprint = config.rules_fingerprint();
        let mut affected_opts = AffectedOptions::new();
        for c in &config.charts {
            for s in &c.scenarios {
                for f in &s.values_files {
                    affected_opts.values_file(&c.path, f);
                }
            }
        }
        let affected = repo
            .affected_charts(&base.commit, &head.commit, &affected_opts)
            .map_err(|e| CompareError::from_source(e, repo.url().normalized(), &req.head))?;
        let mut charts = Vec::new();
        for a in affected {
            if a.chart.library || a.chart.vendored {
                continue;
            }
            let status = ChartChange::from(a.status);
            let scenarios: Vec<Option<&Scenario>> =
                match config.charts.iter().find(|c| c.path == a.chart.path) {
                    Some(c) if !c.scenarios.is_empty() => c.scenarios.iter().map(Some).collect(),
                    _ => vec![None],
                };
            for scenario in scenarios {
                let mut request = template.clone();
                request.repository = req.repository.clone();
                request.chart_path = a.chart.path.clone();
                request.version1 = base.commit.to_hex();
                request.version2 = head.commit.to_hex();
                request.allow_missing_chart = true;
                if let Some(s) = scenario {
                    request.values_files = s.values_files.clone();
                    // The scenario's own render settings over the request's.
                    request.set.extend(s.set.iter().cloned());
                    request.api_versions.extend(s.api_versions.iter().cloned());
                    for (to, from) in [
                        (&mut request.release_name, &s.release_name),
                        (&mut request.namespace, &s.namespace),
                        (&mut request.kube_version, &s.kube_version),
                    ] {
                        if from.is_some() {
                            to.clone_from(from);
                        }
                    }
                }
                let outcome = self.run(&request, ctx).map(|mut r| {
                    r.version1 = req.base.clone();
                    r.version2 = req.head.clone();
                    if config.apply_rules(&mut r.comparison) {
                        // The rules changed the result: it is stored under its own id, apart
                        // from the plain comparison of the same revisions.
                        r.compare_id = sha256_hex(&[
                            b"chartimpact-repository-rules-v1",
                            r.compare_id.as_bytes(),
                            rules_fingerprint.as_bytes(),
                        ]);
                        r.comparison.structured_diff.metadata.compare_id = r.compare_id.clone();
                    }
                    r
                });
                let sources = match &outcome {
                    Ok(r) => {
                        let values_files = scenario.map_or(&[][..], |s| &s.values_files[..]);
                        signal_sources(
                            &repo,
                            &base.commit,
                            &head.commit,
                            &a.chart.path,
                            values_files,
                            r,
                        )
                    }
                    Err(_) => Vec::new(),
                };
                charts.push(ChartResult {
                    chart_path: a.chart.path.clone(),
                    chart_name: a.chart.name.clone(),
                    scenario: scenario.map(|s| s.name.clone()),
                    status,
                    outcome,
                    sources,
                });
            }
        }
        charts.sort_by(|x, y| (&x.chart_path, &x.scenario).cmp(&(&y.chart_path, &y.scenario)));
        Ok(PrReport {
            repository: repo.url().normalized().to_owned(),
            base: req.base.clone(),
            head: req.head.clone(),
            base_commit: base.commit.to_hex(),
            head_commit: head.commit.to_hex(),
            config_revision,
            config_error,
            fail_on: config.fail_on,
            comment_on: config.comment_on,
            charts,
        })
    }
}

/// Where the high signals of `result` (chart `chart_path`) come from at `head`: the template
/// line of each signal's field and, when a value that line reads changed since `base`, that
/// value's line (see [`locate`]). Files that cannot be read are skipped: annotations are a
/// pointer, never a reason to fail the analysis.
fn signal_sources(
    repo: &chart_source::Repository,
    base: &chart_source::CommitId,
    head: &chart_source::CommitId,
    chart_path: &str,
    values_files: &[String],
    result: &CompareResponse,
) -> Vec<SignalSource> {
    let mut files: HashMap<(bool, String), Option<String>> = HashMap::new();
    let mut read = |at_head: bool, path: &str| -> Option<String> {
        files
            .entry((at_head, path.to_owned()))
            .or_insert_with(|| {
                let commit = if at_head { head } else { base };
                match repo.read_file(commit, path) {
                    Ok(bytes) => bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
                    Err(e) => {
                        tracing::debug!(path, error = %e, "file not read for annotations");
                        None
                    }
                }
            })
            .clone()
    };
    let chart_dir = chart_path.trim_end_matches('/');
    // Later values files override earlier ones, and all override the chart's defaults.
    let values_order: Vec<String> = values_files
        .iter()
        .rev()
        .cloned()
        .chain(std::iter::once(format!("{chart_dir}/values.yaml")))
        .collect();
    let resources = &result.comparison.structured_diff.resources;
    let mut out = Vec::new();
    for (index, signal) in result.comparison.impact.signals.iter().enumerate() {
        if signal.level != diff_core::Level::High {
            continue;
        }
        let Some(template) =
            crate::pr::signal_template(resources, signal).map(|rest| format!("{chart_dir}/{rest}"))
        else {
            continue;
        };
        let source = read(true, &template);
        let found = source
            .as_deref()
            .and_then(|src| locate::field_line(src, &signal.kind, signal.field.as_deref()));
        let values = match (source.as_deref(), found) {
            (Some(src), Some(line)) => locate::values_read_at(src, line)
                .iter()
                .find_map(|key| changed_value(&mut read, &values_order, key)),
            _ => None,
        };
        out.push(SignalSource {
            signal: index,
            path: template,
            line: found.unwrap_or(1),
            values,
        });
    }
    out
}

/// The line of `key` in the first of `files` that sets it at the head, when its entry differs
/// from the base's (or the base has none): the value the change comes from.
fn changed_value(
    read: &mut impl FnMut(bool, &str) -> Option<String>,
    files: &[String],
    key: &[String],
) -> Option<ValuesLine> {
    for path in files {
        let Some((line, entry)) = read(true, path).and_then(|text| locate::values_key(&text, key))
        else {
            continue;
        };
        let before = read(false, path).and_then(|text| locate::values_key(&text, key));
        // The file that sets the value decides: unchanged there, it is not from values.
        return (before.map(|(_, e)| e) != Some(entry)).then(|| ValuesLine {
            path: path.clone(),
            line,
        });
    }
    None
}
