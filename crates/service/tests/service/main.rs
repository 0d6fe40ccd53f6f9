//! The compare engine end to end on local git repositories (no network).

mod chart_repos;
mod corpus;
mod engine;
mod pr;

use std::path::Path;
use std::sync::Arc;

use helm_render::Renderer;

pub use testkit::{FakeRenderer, RepoBuilder, files, git, tree};

pub fn engine_with(dir: &Path, renderer: Arc<dyn Renderer>) -> service::Engine {
    service::Engine::builder(dir)
        .policy(chart_source::UrlPolicy {
            allow_local: true,
            ..Default::default()
        })
        .renderers(service::Renderers {
            native: Some(renderer),
            ..Default::default()
        })
        .build()
        .unwrap()
}
