//! The library API: the one way into the engine for the CLI, the server and embedders.

use crate::context::Context;
use crate::error::CompareError;
use crate::pr::{PrReport, PrRequest};
use crate::request::CompareRequest;
use crate::response::{ChartVersionsResponse, ChartsResponse, CompareResponse, VersionsResponse};

/// The library API: what the CLI, the server and embedders call.
pub trait CompareService: Send + Sync {
    /// Compares a chart at two revisions. Blocking; async callers use `spawn_blocking`.
    fn compare(
        &self,
        request: &CompareRequest,
        ctx: &Context,
    ) -> Result<CompareResponse, CompareError>;

    /// Tags and branches of a repository, without cloning it.
    fn versions(&self, repository: &str, ctx: &Context) -> Result<VersionsResponse, CompareError>;

    /// The versions of `chart` in a Helm repository (`https://…`) or OCI registry
    /// (`oci://host/path`), newest first.
    fn chart_versions(
        &self,
        helm_repository: &str,
        chart: &str,
        ctx: &Context,
    ) -> Result<ChartVersionsResponse, CompareError>;

    /// The charts of a repository at `revision` (`HEAD` when `None`).
    fn charts(
        &self,
        repository: &str,
        revision: Option<&str>,
        ctx: &Context,
    ) -> Result<ChartsResponse, CompareError>;

    /// The charts a change between `from` and `to` affects: added, removed, or with changed
    /// files (`chartimpact detect --from --to`).
    fn affected_charts(
        &self,
        repository: &str,
        from: &str,
        to: &str,
        ctx: &Context,
    ) -> Result<ChartsResponse, CompareError>;

    /// Compares every chart affected between two revisions (a pull request, a push), each
    /// per values scenario of the repository's `.chartimpact.yaml`.
    fn analyze_pr(&self, request: &PrRequest, ctx: &Context) -> Result<PrReport, CompareError>;

    /// Cache hits and misses so far (for metrics); zero when the service keeps no caches.
    fn cache_stats(&self) -> CacheStats {
        CacheStats::default()
    }
}

/// Hits and misses of an engine's caches since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Comparisons answered from the in-memory result cache.
    pub result_hits: u64,
    /// Comparisons computed.
    pub result_misses: u64,
    /// Sides whose render came from the render cache.
    pub render_hits: u64,
    /// Sides rendered.
    pub render_misses: u64,
}
