//! One comparison: resolve both revisions (git commits, or chart archives from a Helm
//! repository), render both sides in parallel (dependencies resolved, through the render
//! cache), diff and score.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chart_source::{CommitId, Repository};
use helm_render::{ChartFiles, Renderer, ValuesFile};

use super::{Counters, Engine, deps, sha256_hex};
use crate::context::{Context, Stage};
use crate::error::CompareError;
use crate::render_cache::RenderCache;
use crate::request::{CompareRequest, RendererMode};
use crate::response::{
    CompareResponse, Dependencies, DependencyInfo, RendererUsed, ResolvedCommits,
};

/// What one side of a comparison produced.
struct Side {
    manifest: String,
    renderer: RendererUsed,
    dependencies: Vec<DependencyInfo>,
}

/// What one side renders, before its files are needed.
struct Input {
    /// What identifies the chart's own files: a git tree id or an archive digest.
    identity: String,
    /// The chart with its dependencies resolved; `None` when it declares none (its files are
    /// then read only on a render-cache miss).
    resolution: Option<chart_repo::Resolution>,
    values: Vec<ValuesFile>,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Both sides' renderer (they are the same one) and mode.
type Rendering<'a> = (&'a Arc<dyn Renderer>, RendererMode);

impl Engine {
    /// The values of one side: the named files (read by `read`), the CLI's local files, then
    /// `valuesContent`.
    fn side_values(
        &self,
        req: &CompareRequest,
        revision: &str,
        mut read: impl FnMut(&str) -> Result<Option<Vec<u8>>, CompareError>,
    ) -> Result<Vec<ValuesFile>, CompareError> {
        let mut values = Vec::new();
        for path in req.repo_values_files() {
            let content = read(path)?.ok_or_else(|| CompareError::ValuesFileMissing {
                path: path.clone(),
                revision: revision.to_owned(),
            })?;
            values.push(ValuesFile {
                name: path.clone(),
                content,
            });
        }
        values.extend(self.extra_values.iter().cloned());
        if let Some(v) = req
            .values_content
            .as_deref()
            .filter(|v| !v.trim().is_empty())
        {
            values.push(ValuesFile {
                name: "valuesContent".into(),
                content: v.as_bytes().to_vec(),
            });
        }
        Ok(values)
    }

    /// Renders one side through the render cache. The key covers the chart's files, what its
    /// dependencies resolved to (a range admits newer releases over time), every option and
    /// the renderer; `load` reads the chart only on a miss when nothing was resolved.
    fn render_input(
        &self,
        req: &CompareRequest,
        input: Input,
        load: impl FnOnce() -> Result<ChartFiles, CompareError>,
        revision: &str,
        (renderer, mode): Rendering<'_>,
        ctx: &Context,
    ) -> Result<Side, CompareError> {
        let defaults = helm_render::Options::default();
        let options = helm_render::Options {
            max_memory_bytes: self
                .render_memory_max_bytes
                .unwrap_or(defaults.max_memory_bytes),
            release_name: req.release_name.clone().unwrap_or_else(|| "release".into()),
            namespace: req.namespace.clone().unwrap_or_else(|| "default".into()),
            values: input.values,
            set: req.set.clone(),
            kube_version: req.kube_version.clone(),
            api_versions: req.api_versions.clone(),
            timeout: ctx.remaining(),
            ..defaults
        };
        let dependencies: Vec<DependencyInfo> = input
            .resolution
            .iter()
            .flat_map(|r| r.dependencies.iter().map(DependencyInfo::from))
            .collect();
        // Only fetched dependencies change what the files alone say: keys of charts with
        // everything vendored stay as they were.
        let fingerprint = input
            .resolution
            .as_ref()
            .filter(|r| r.fetched())
            .map(|r| r.fingerprint())
            .unwrap_or_default();
        let options_fingerprint = options.fingerprint();
        let mut parts: Vec<&[u8]> = vec![
            b"render-v1",
            input.identity.as_bytes(),
            options_fingerprint.as_bytes(),
            mode.as_str().as_bytes(),
        ];
        let identity = renderer.cache_identity();
        parts.push(identity.as_bytes());
        if !fingerprint.is_empty() {
            parts.push(b"dependencies");
            parts.push(fingerprint.as_bytes());
        }
        let key = sha256_hex(&parts);
        let seal = RenderCache::seal_key(&parts);
        if let Some(cache) = &self.renders
            && let Some((name, version, manifest)) = cache.get(&key, &seal)
        {
            Counters::bump(&self.counters.render_hits);
            return Ok(Side {
                manifest,
                renderer: RendererUsed { name, version },
                dependencies,
            });
        }
        Counters::bump(&self.counters.render_misses);
        let files = match input.resolution {
            Some(r) => r.files,
            None => load()?,
        };
        let chart = req.chart.as_deref().unwrap_or(&req.chart_path);
        let out = renderer
            .render(&files, &options)
            .map_err(|e| CompareError::from_render(e, chart, revision, || ctx.timeout_error()))?;
        if let Some(cache) = &self.renders {
            cache.put(
                &key,
                &seal,
                out.renderer.name,
                &out.renderer.version,
                &out.manifest,
            );
        }
        Ok(Side {
            manifest: out.manifest,
            renderer: RendererUsed {
                name: out.renderer.name.to_owned(),
                version: out.renderer.version,
            },
            dependencies,
        })
    }

    /// One side of a chart in git: its tree id (enough to find a cached render of a chart
    /// without dependencies, no file read), its values at the commit, and its dependencies
    /// resolved — what `charts/` lacks fetched, `file://` charts read from the same commit.
    fn git_side(
        &self,
        repo: &Repository,
        req: &CompareRequest,
        (revision, commit): (&str, &CommitId),
        rendering: Rendering<'_>,
        ctx: &Context,
    ) -> Result<Side, CompareError> {
        let url = repo.url().normalized();
        let tree_id = match repo.chart_tree_id(commit, &req.chart_path) {
            Ok(id) => id,
            Err(chart_source::Error::ChartNotFound { .. }) if req.allow_missing_chart => {
                let info = rendering.0.info();
                return Ok(Side {
                    manifest: String::new(),
                    renderer: RendererUsed {
                        name: info.name.to_owned(),
                        version: info.version,
                    },
                    dependencies: Vec::new(),
                });
            }
            Err(e) => return Err(CompareError::from_source(e, url, revision)),
        };
        let values = self.side_values(req, revision, |path| {
            repo.read_file(commit, path)
                .map_err(|e| CompareError::from_source(e, url, revision))
        })?;
        let read = || -> Result<ChartFiles, CompareError> {
            Ok(repo
                .read_chart(commit, &req.chart_path)
                .map_err(|e| CompareError::from_source(e, url, revision))?
                .into_files()
                .into_iter()
                .map(|(k, f)| (k, f.data))
                .collect())
        };
        let resolution = if deps::declares_dependencies(repo, commit, &req.chart_path) {
            let files = read()?;
            let local = deps::GitLocalCharts::new(repo, commit, &req.chart_path);
            Some(
                self.chart_repos()?
                    .resolve_dependencies(&files, Some(&local), &Engine::call(ctx))
                    .map_err(|e| CompareError::from_charts(e, || ctx.timeout_error()))?,
            )
        } else {
            None
        };
        let input = Input {
            identity: tree_id.to_hex(),
            resolution,
            values,
        };
        self.render_input(req, input, read, revision, rendering, ctx)
    }

    /// One side of a chart from a Helm repository: the verified archive, values files read
    /// from inside it, and dependencies its archive lacks resolved.
    fn archive_side(
        &self,
        req: &CompareRequest,
        archive: &chart_repo::ChartArchive,
        revision: &str,
        rendering: Rendering<'_>,
        ctx: &Context,
    ) -> Result<Side, CompareError> {
        let charts_error = |e| CompareError::from_charts(e, || ctx.timeout_error());
        let files = archive.files().map_err(charts_error)?;
        let values = self.side_values(req, revision, |path| {
            Ok(files.get(path.trim_start_matches("./")).map(<[u8]>::to_vec))
        })?;
        let resolution = self
            .chart_repos()?
            .resolve_dependencies(&files, None, &Engine::call(ctx))
            .map_err(charts_error)?;
        let input = Input {
            identity: format!("sha256:{}", archive.digest),
            resolution: Some(resolution),
            values,
        };
        self.render_input(req, input, || Ok(files.clone()), revision, rendering, ctx)
    }

    /// The compare id: `sources` identify the charts' content (a tag, the engine version, the
    /// repository, the chart and the commits or archive digests), the rest is every input and
    /// option the result depends on.
    fn compare_id(
        &self,
        req: &CompareRequest,
        diff_options: &diff_core::DiffOptions,
        mode: RendererMode,
        sources: &[&[u8]],
    ) -> String {
        let values_files = req
            .repo_values_files()
            .cloned()
            .collect::<Vec<_>>()
            .join("\0");
        // One digest per local values file, so ("ab", "c") and ("a", "bc") differ.
        let local_values = self
            .extra_values
            .iter()
            .map(|v| sha256_hex(&[&v.content]))
            .collect::<Vec<_>>()
            .join(",");
        let set = req.set.join("\0");
        let diff = diff_options.fingerprint();
        let api_versions = req.api_versions.join("\0");
        let rest: [&[u8]; 9] = [
            values_files.as_bytes(),
            local_values.as_bytes(),
            req.values_content.as_deref().unwrap_or("").as_bytes(),
            set.as_bytes(),
            diff.as_bytes(),
            req.release_name.as_deref().unwrap_or("release").as_bytes(),
            req.kube_version.as_deref().unwrap_or("").as_bytes(),
            api_versions.as_bytes(),
            mode.as_str().as_bytes(),
        ];
        let mut parts = sources.to_vec();
        parts.extend(rest);
        sha256_hex(&parts)
    }

    fn cached_result(&self, compare_id: &str) -> Option<CompareResponse> {
        let hit = self
            .results
            .lock()
            .ok()
            .and_then(|m| m.get(compare_id).cloned());
        Counters::bump(if hit.is_some() {
            &self.counters.result_hits
        } else {
            &self.counters.result_misses
        });
        hit
    }

    pub(super) fn run(
        &self,
        req: &CompareRequest,
        ctx: &Context,
    ) -> Result<CompareResponse, CompareError> {
        let total = Instant::now();
        req.validate().map_err(CompareError::InvalidRequest)?;
        let diff_options = req.diff_options().map_err(CompareError::InvalidRequest)?;
        let mode = req.renderer.unwrap_or_default();
        let renderer = self.renderers.pick(mode)?;
        let rendering = (&renderer, mode);
        let mut timings = BTreeMap::new();

        ctx.stage(Stage::Resolve)?;
        let t = Instant::now();
        if let Some((helm, chart)) = req.helm_chart() {
            let call = Engine::call(ctx);
            let fetch = |version: &str| {
                self.chart_repos()?
                    .fetch_chart(helm, chart, version.trim(), &call)
                    .map_err(|e| CompareError::from_charts(e, || ctx.timeout_error()))
            };
            let a1 = fetch(&req.version1)?;
            let a2 = fetch(&req.version2)?;
            timings.insert("resolve".to_owned(), ms(t.elapsed()));
            let shown = super::listing::chart_repo_shown(helm);
            let compare_id = self.compare_id(
                req,
                &diff_options,
                mode,
                &[
                    b"chartimpact-compare-helm-v1",
                    diff_core::ENGINE_VERSION.as_bytes(),
                    shown.as_bytes(),
                    chart.as_bytes(),
                    a1.digest.as_bytes(),
                    a2.digest.as_bytes(),
                ],
            );
            if let Some(hit) = self.cached_result(&compare_id) {
                return Ok(hit);
            }
            ctx.stage(Stage::Render)?;
            let t = Instant::now();
            let (old, new) = both(
                || self.archive_side(req, &a1, &req.version1, rendering, ctx),
                || self.archive_side(req, &a2, &req.version2, rendering, ctx),
            );
            let (old, new) = (old?, new?);
            timings.insert("render".to_owned(), ms(t.elapsed()));
            let head = Head {
                compare_id,
                repository: shown.clone(),
                chart_path: chart.to_owned(),
                helm: Some((shown, chart.to_owned())),
                resolved: ResolvedCommits {
                    version1: format!("sha256:{}", a1.digest),
                    version2: format!("sha256:{}", a2.digest),
                },
            };
            return self.finish(req, &diff_options, head, (old, new), timings, total, ctx);
        }

        let repo = self.repository(&req.repository, ctx)?;
        let resolve = |rev: &str| {
            repo.resolve(rev)
                .map_err(|e| CompareError::from_source(e, repo.url().normalized(), rev))
        };
        repo.prefetch(&[&req.version1, &req.version2]);
        let r1 = resolve(&req.version1)?;
        let r2 = resolve(&req.version2)?;
        timings.insert("resolve".to_owned(), ms(t.elapsed()));

        let compare_id = self.compare_id(
            req,
            &diff_options,
            mode,
            &[
                b"chartimpact-compare-v1",
                diff_core::ENGINE_VERSION.as_bytes(),
                repo.url().normalized().as_bytes(),
                req.chart_path.as_bytes(),
                r1.commit.to_hex().as_bytes(),
                r2.commit.to_hex().as_bytes(),
            ],
        );
        if let Some(hit) = self.cached_result(&compare_id) {
            return Ok(hit);
        }

        ctx.stage(Stage::Render)?;
        let t = Instant::now();
        let (old, new) = both(
            || self.git_side(&repo, req, (&req.version1, &r1.commit), rendering, ctx),
            || self.git_side(&repo, req, (&req.version2, &r2.commit), rendering, ctx),
        );
        let (old, new) = (old?, new?);
        timings.insert("render".to_owned(), ms(t.elapsed()));
        let head = Head {
            compare_id,
            repository: repo.url().normalized().to_owned(),
            chart_path: req.chart_path.clone(),
            helm: None,
            resolved: ResolvedCommits {
                version1: r1.commit.to_hex(),
                version2: r2.commit.to_hex(),
            },
        };
        self.finish(req, &diff_options, head, (old, new), timings, total, ctx)
    }

    /// Diffs and scores both sides (a subchart whose version changed is a signal of its
    /// own), and remembers the response.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        req: &CompareRequest,
        diff_options: &diff_core::DiffOptions,
        head: Head,
        (old, new): (Side, Side),
        mut timings: BTreeMap<String, u64>,
        total: Instant,
        ctx: &Context,
    ) -> Result<CompareResponse, CompareError> {
        ctx.stage(Stage::Diff)?;
        let t = Instant::now();
        let parse = diff_core::ParseOptions {
            namespace: req.namespace.clone().unwrap_or_else(|| "default".into()),
            ..diff_core::ParseOptions::default()
        };
        let parse_side = |revision: &str, manifest: &str| {
            let name = format!("{}@{revision}", head.chart_path);
            diff_core::parse_manifest(&name, manifest, &parse).map_err(|source| {
                CompareError::InvalidManifest {
                    chart: head.chart_path.clone(),
                    revision: revision.to_owned(),
                    source,
                }
            })
        };
        let before = parse_side(&req.version1, &old.manifest)?;
        let after = parse_side(&req.version2, &new.manifest)?;
        let mut comparison = diff_core::compare_with_sources(
            &before,
            &after,
            diff_options,
            &diff_core::Sources {
                left: old.renderer.name.clone(),
                right: new.renderer.name.clone(),
                generated_at: diff_core::rfc3339(self.now()),
            },
        );
        comparison.structured_diff.metadata.compare_id = head.compare_id.clone();
        let dependencies = Dependencies {
            version1: old.dependencies,
            version2: new.dependencies,
        };
        let changes = deps::subchart_changes(&dependencies);
        if !changes.is_empty() {
            let signals = diff_core::impact::subchart_signals(&comparison, &changes);
            comparison.impact.add_signals(signals);
        }
        timings.insert("diff".to_owned(), ms(t.elapsed()));
        timings.insert("total".to_owned(), ms(total.elapsed()));

        let (helm_repository, chart) = head.helm.unzip();
        let response = CompareResponse {
            compare_id: head.compare_id.clone(),
            repository: head.repository,
            chart_path: head.chart_path,
            helm_repository,
            chart,
            version1: req.version1.clone(),
            version2: req.version2.clone(),
            resolved: head.resolved,
            dependencies,
            renderer: new.renderer,
            comparison,
            timings,
            context_lines: diff_options.context_lines(),
        };
        if let Ok(mut m) = self.results.lock() {
            if m.len() >= self.result_capacity {
                m.clear();
            }
            m.insert(head.compare_id, response.clone());
        }
        Ok(response)
    }
}

/// What a response says of where its charts came from.
struct Head {
    compare_id: String,
    repository: String,
    chart_path: String,
    /// The Helm repository and chart name of a `helmRepository` comparison.
    helm: Option<(String, String)>,
    resolved: ResolvedCommits,
}

/// Runs both sides at once (each renders on its own thread).
fn both<T: Send>(
    old: impl FnOnce() -> Result<T, CompareError> + Send,
    new: impl FnOnce() -> Result<T, CompareError>,
) -> (Result<T, CompareError>, Result<T, CompareError>) {
    std::thread::scope(|s| {
        let old = s.spawn(old);
        let new = new();
        let old = old
            .join()
            .unwrap_or_else(|_| Err(CompareError::internal("the render thread panicked")));
        (old, new)
    })
}
