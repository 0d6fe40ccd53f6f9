//! The ChartImpact compare engine and its library API.
//!
//! [`CompareService`] is what the CLI, the HTTP server and embedders call. [`Engine`]
//! implements it: chart-source resolves both revisions to commit ids (fetching into a cached
//! bare mirror only when needed) and reads the chart at each commit into memory; a
//! [`helm_render::Renderer`] renders both sides in parallel (renders cached on disk by chart
//! tree id, values, options and renderer version); diff-core diffs and scores. Errors are a
//! [`CompareError`] whose `code()` the API returns and whose message says what to fix.
//!
//! Calls block; async callers wrap them in `spawn_blocking`. A [`Context`] carries a
//! deadline that stops the work itself (git fetches are interrupted, renders killed), not
//! just the wait.
//!
//! ```no_run
//! use service::{CompareRequest, CompareService, Context, Engine, Renderers};
//! use std::sync::Arc;
//!
//! let helm = helm_render::HelmCliRenderer::locate().expect("helm");
//! let engine = Engine::builder("/var/lib/chartimpact")
//!     .renderers(Renderers { helm: Some(Arc::new(helm)), ..Renderers::default() })
//!     .build()?;
//! let response = engine.compare(
//!     &CompareRequest {
//!         repository: "https://github.com/argoproj/argo-helm".into(),
//!         chart_path: "charts/argo-cd".into(),
//!         version1: "argo-cd-7.8.13".into(),
//!         version2: "argo-cd-8.0.7".into(),
//!         ..CompareRequest::default()
//!     },
//!     &Context::with_timeout(std::time::Duration::from_secs(120)),
//! )?;
//! println!("{}", response.comparison.impact.verdict.as_str());
//! # Ok::<(), service::CompareError>(())
//! ```
#![deny(missing_docs)]

mod api;
mod context;
mod engine;
mod error;
mod locate;
pub mod pr;
mod render_cache;
pub mod repo_config;
mod request;
mod response;

pub use api::{CacheDisk, CacheStats, CompareService, DiskUsage};
pub use chart_source::Credentials as GitCredentials;
pub use chart_source::{CredentialSource, GitAuth, has_userinfo, without_userinfo};
pub use context::{Context, Stage};
pub use engine::{Clock, Engine, EngineBuilder, Renderers};
pub use error::CompareError;
pub use request::{CompareRequest, MAX_VALUES_CONTENT, MAX_VALUES_EXPANDED, RendererMode};
pub use response::{
    ChartChange, ChartEntry, ChartVersionInfo, ChartVersionsResponse, ChartsResponse,
    CompareResponse, Dependencies, DependencyInfo, RefInfo, RendererUsed, ResolvedCommits,
    ResolvedRevision, VersionsResponse,
};
