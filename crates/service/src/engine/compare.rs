//! One comparison: resolve both revisions, render both sides in parallel (through the render
//! cache), diff and score.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chart_source::{CommitId, Repository};
use helm_render::{Renderer, ValuesFile};

use super::{Counters, Engine, sha256_hex};
use crate::context::{Context, Stage};
use crate::error::CompareError;
use crate::request::{CompareRequest, RendererMode};
use crate::response::{CompareResponse, RendererUsed, ResolvedCommits};

/// What one side of a comparison produced.
struct Side {
    manifest: String,
    renderer: RendererUsed,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl Engine {
    fn render_side(
        &self,
        repo: &Repository,
        req: &CompareRequest,
        (revision, commit): (&str, &CommitId),
        (renderer, mode): (&Arc<dyn Renderer>, RendererMode),
        ctx: &Context,
    ) -> Result<Side, CompareError> {
        // The tree id is enough to find a cached render: no file is read on a cache hit.
        let tree_id = match repo.chart_tree_id(commit, &req.chart_path) {
            Ok(id) => id,
            Err(chart_source::Error::ChartNotFound { .. }) if req.allow_missing_chart => {
                let info = renderer.info();
                return Ok(Side {
                    manifest: String::new(),
                    renderer: RendererUsed {
                        name: info.name.to_owned(),
                        version: info.version,
                    },
                });
            }
            Err(e) => {
                return Err(CompareError::from_source(
                    e,
                    repo.url().normalized(),
                    revision,
                ));
            }
        };
        let mut values = Vec::new();
        for path in req.repo_values_files() {
            let content = repo
                .read_file(commit, path)
                .map_err(|e| CompareError::from_source(e, repo.url().normalized(), revision))?
                .ok_or_else(|| CompareError::ValuesFileMissing {
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
        let options = helm_render::Options {
            release_name: req.release_name.clone().unwrap_or_else(|| "release".into()),
            namespace: req.namespace.clone().unwrap_or_else(|| "default".into()),
            values,
            set: req.set.clone(),
            kube_version: req.kube_version.clone(),
            api_versions: req.api_versions.clone(),
            timeout: ctx.remaining(),
            ..helm_render::Options::default()
        };
        let key = sha256_hex(&[
            b"render-v1",
            tree_id.to_hex().as_bytes(),
            options.fingerprint().as_bytes(),
            mode.as_str().as_bytes(),
            renderer.cache_identity().as_bytes(),
        ]);
        if let Some(cache) = &self.renders
            && let Some((name, version, manifest)) = cache.get(&key)
        {
            Counters::bump(&self.counters.render_hits);
            return Ok(Side {
                manifest,
                renderer: RendererUsed { name, version },
            });
        }
        Counters::bump(&self.counters.render_misses);
        let chart = repo
            .read_chart(commit, &req.chart_path)
            .map_err(|e| CompareError::from_source(e, repo.url().normalized(), revision))?;
        let files: helm_render::ChartFiles = chart
            .into_files()
            .into_iter()
            .map(|(k, f)| (k, f.data))
            .collect();
        let out = renderer.render(&files, &options).map_err(|e| {
            CompareError::from_render(e, &req.chart_path, revision, || ctx.timeout_error())
        })?;
        if let Some(cache) = &self.renders {
            cache.put(
                &key,
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
        })
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
        let mut timings = BTreeMap::new();

        ctx.stage(Stage::Resolve)?;
        let t = Instant::now();
        let repo = self.repository(&req.repository, ctx)?;
        let resolve = |rev: &str| {
            repo.resolve(rev)
                .map_err(|e| CompareError::from_source(e, repo.url().normalized(), rev))
        };
        let r1 = resolve(&req.version1)?;
        let r2 = resolve(&req.version2)?;
        timings.insert("resolve".to_owned(), ms(t.elapsed()));

        let compare_id = sha256_hex(&[
            b"chartimpact-compare-v1",
            diff_core::ENGINE_VERSION.as_bytes(),
            repo.url().normalized().as_bytes(),
            req.chart_path.as_bytes(),
            r1.commit.to_hex().as_bytes(),
            r2.commit.to_hex().as_bytes(),
            req.repo_values_files()
                .cloned()
                .collect::<Vec<_>>()
                .join("\0")
                .as_bytes(),
            // One digest per local values file, so ("ab", "c") and ("a", "bc") differ.
            self.extra_values
                .iter()
                .map(|v| sha256_hex(&[&v.content]))
                .collect::<Vec<_>>()
                .join(",")
                .as_bytes(),
            req.values_content.as_deref().unwrap_or("").as_bytes(),
            req.set.join("\0").as_bytes(),
            diff_options.fingerprint().as_bytes(),
            req.release_name.as_deref().unwrap_or("release").as_bytes(),
            req.kube_version.as_deref().unwrap_or("").as_bytes(),
            req.api_versions.join("\0").as_bytes(),
            mode.as_str().as_bytes(),
        ]);
        if let Some(hit) = self
            .results
            .lock()
            .ok()
            .and_then(|m| m.get(&compare_id).cloned())
        {
            Counters::bump(&self.counters.result_hits);
            return Ok(hit);
        }
        Counters::bump(&self.counters.result_misses);

        ctx.stage(Stage::Render)?;
        let t = Instant::now();
        let (old, new) = std::thread::scope(|s| {
            let old = s.spawn(|| {
                self.render_side(
                    &repo,
                    req,
                    (&req.version1, &r1.commit),
                    (&renderer, mode),
                    ctx,
                )
            });
            let new = self.render_side(
                &repo,
                req,
                (&req.version2, &r2.commit),
                (&renderer, mode),
                ctx,
            );
            let old = old
                .join()
                .unwrap_or_else(|_| Err(CompareError::internal("the render thread panicked")));
            (old, new)
        });
        let (old, new) = (old?, new?);
        timings.insert("render".to_owned(), ms(t.elapsed()));

        ctx.stage(Stage::Diff)?;
        let t = Instant::now();
        let parse = diff_core::ParseOptions {
            namespace: req.namespace.clone().unwrap_or_else(|| "default".into()),
            ..diff_core::ParseOptions::default()
        };
        let parse_side = |revision: &str, manifest: &str| {
            let name = format!("{}@{revision}", req.chart_path);
            diff_core::parse_manifest(&name, manifest, &parse).map_err(|source| {
                CompareError::InvalidManifest {
                    chart: req.chart_path.clone(),
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
            &diff_options,
            &diff_core::Sources {
                left: old.renderer.name.clone(),
                right: new.renderer.name.clone(),
                generated_at: diff_core::rfc3339(self.now()),
            },
        );
        comparison.structured_diff.metadata.compare_id = compare_id.clone();
        timings.insert("diff".to_owned(), ms(t.elapsed()));
        timings.insert("total".to_owned(), ms(total.elapsed()));

        let response = CompareResponse {
            compare_id: compare_id.clone(),
            repository: repo.url().normalized().to_owned(),
            chart_path: req.chart_path.clone(),
            version1: req.version1.clone(),
            version2: req.version2.clone(),
            resolved: ResolvedCommits {
                version1: r1.commit.to_hex(),
                version2: r2.commit.to_hex(),
            },
            renderer: new.renderer,
            comparison,
            timings,
            context_lines: diff_options.context_lines(),
        };
        if let Ok(mut m) = self.results.lock() {
            if m.len() >= self.result_capacity {
                m.clear();
            }
            m.insert(compare_id, response.clone());
        }
        Ok(response)
    }
}
