//! What a repository holds: its tags and branches, its charts at a revision, and the charts a
//! change between two revisions affects.

use chart_source::{ChartInfo, ChartStatus};

use super::Engine;
use crate::context::Context;
use crate::error::CompareError;
use crate::response::{
    ChartChange, ChartEntry, ChartVersionInfo, ChartVersionsResponse, ChartsResponse, RefInfo,
    ResolvedRevision, VersionsResponse,
};

impl Engine {
    pub(super) fn list_charts(
        &self,
        repository: &str,
        revision: Option<&str>,
        ctx: &Context,
    ) -> Result<ChartsResponse, CompareError> {
        ctx.check()?;
        let repo = self.repository(repository, ctx)?;
        let revision = revision
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or("HEAD");
        let resolved = repo
            .resolve(revision)
            .map_err(|e| CompareError::from_source(e, repo.url().normalized(), revision))?;
        let mut charts: Vec<_> = repo
            .charts(&resolved.commit)
            .map_err(|e| CompareError::from_source(e, repo.url().normalized(), revision))?
            .into_iter()
            .map(|c| entry(c, None))
            .collect();
        // What a person most likely wants first: top-level application charts.
        charts.sort_by(|a, b| {
            (a.vendored, a.library, &a.path).cmp(&(b.vendored, b.library, &b.path))
        });
        Ok(ChartsResponse {
            success: true,
            revision: revision.to_owned(),
            commit: resolved.commit.to_hex(),
            from: None,
            charts,
        })
    }

    pub(super) fn list_affected_charts(
        &self,
        repository: &str,
        from: &str,
        to: &str,
        ctx: &Context,
    ) -> Result<ChartsResponse, CompareError> {
        ctx.check()?;
        let repo = self.repository(repository, ctx)?;
        let resolve = |rev: &str| {
            repo.resolve(rev)
                .map_err(|e| CompareError::from_source(e, repo.url().normalized(), rev))
        };
        let (base, head) = (resolve(from)?, resolve(to)?);
        let charts = repo
            .affected_charts(
                &base.commit,
                &head.commit,
                &chart_source::AffectedOptions::new(),
            )
            .map_err(|e| CompareError::from_source(e, repo.url().normalized(), to))?
            .into_iter()
            .map(|a| entry(a.chart, Some(a.status.into())))
            .collect();
        Ok(ChartsResponse {
            success: true,
            revision: to.to_owned(),
            commit: head.commit.to_hex(),
            from: Some(ResolvedRevision {
                revision: from.to_owned(),
                commit: base.commit.to_hex(),
            }),
            charts,
        })
    }

    pub(super) fn list_versions(
        &self,
        repository: &str,
        ctx: &Context,
    ) -> Result<VersionsResponse, CompareError> {
        ctx.check()?;
        let v = self
            .mirrors
            .versions_with(repository, &ctx.git_auth)
            .map_err(|e| CompareError::from_source(e, repository, ""))?;
        let mut branches: Vec<_> = v.branches.iter().collect();
        // Default branch first, then by name.
        branches.sort_by_key(|b| (Some(&b.name) != v.default_branch.as_ref(), b.name.clone()));
        Ok(VersionsResponse {
            success: true,
            tags: v.tags.iter().map(|t| t.name.clone()).collect(),
            branches: branches.iter().map(|b| b.name.clone()).collect(),
            default_branch: v.default_branch.clone(),
            tag_details: v
                .tags
                .iter()
                .map(|t| RefInfo {
                    name: t.name.clone(),
                    commit: t.commit.to_hex(),
                    version: t.version.as_ref().map(|v| v.to_string()),
                    chart: t.chart.clone(),
                })
                .collect(),
            branch_details: branches
                .iter()
                .map(|b| RefInfo {
                    name: b.name.clone(),
                    commit: b.commit.to_hex(),
                    version: None,
                    chart: None,
                })
                .collect(),
        })
    }
}

impl Engine {
    pub(super) fn list_chart_versions(
        &self,
        helm_repository: &str,
        chart: &str,
        ctx: &Context,
    ) -> Result<ChartVersionsResponse, CompareError> {
        ctx.check()?;
        let (helm_repository, chart) = (helm_repository.trim(), chart.trim());
        if helm_repository.is_empty() || chart.is_empty() {
            return Err(CompareError::InvalidRequest(
                "helmRepository and chart are required".into(),
            ));
        }
        let versions = self
            .chart_repos()?
            .versions(helm_repository, chart, &Engine::call(ctx))
            .map_err(|e| CompareError::from_charts(e, || ctx.timeout_error()))?;
        Ok(ChartVersionsResponse {
            success: true,
            helm_repository: chart_repo_shown(helm_repository),
            chart: chart.to_owned(),
            versions: versions.iter().map(|v| v.version.clone()).collect(),
            version_details: versions
                .iter()
                .map(|v| ChartVersionInfo {
                    version: v.version.clone(),
                    app_version: v.app_version.clone(),
                    created: v.created.clone(),
                    deprecated: v.deprecated,
                })
                .collect(),
        })
    }
}

/// A chart repository URL as results show it: without user-info (credentials belong in the
/// credentials file, never in a stored result).
pub(crate) fn chart_repo_shown(url: &str) -> String {
    chart_source::without_userinfo(url.trim().trim_end_matches('/'))
}

fn entry(c: ChartInfo, status: Option<ChartChange>) -> ChartEntry {
    ChartEntry {
        path: c.path,
        name: c.name,
        version: c.version,
        library: c.library,
        vendored: c.vendored,
        status,
    }
}

impl From<ChartStatus> for ChartChange {
    fn from(s: ChartStatus) -> Self {
        match s {
            ChartStatus::Added => ChartChange::Added,
            ChartStatus::Removed => ChartChange::Removed,
            ChartStatus::Modified => ChartChange::Modified,
        }
    }
}
