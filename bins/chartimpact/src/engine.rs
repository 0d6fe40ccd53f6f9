//! Building the compare engine from CLI flags.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};

/// Which renderer to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RendererChoice {
    /// Native, falling back to helm when the chart needs it and helm is installed.
    Auto,
    /// The in-process renderer.
    Native,
    /// A `helm` binary.
    Helm,
}

impl From<RendererChoice> for service::RendererMode {
    fn from(c: RendererChoice) -> Self {
        match c {
            RendererChoice::Auto => service::RendererMode::Auto,
            RendererChoice::Native => service::RendererMode::Native,
            RendererChoice::Helm => service::RendererMode::Helm,
        }
    }
}

/// Where mirrors and caches live, and which repositories may be used.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Directory for git mirrors and render caches.
    #[arg(long, env = "CHARTIMPACT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Hosts https repositories may be on (comma list).
    #[arg(
        long,
        env = "CHARTIMPACT_ALLOWED_REPO_HOSTS",
        value_delimiter = ',',
        default_value = "github.com,gitlab.com,bitbucket.org"
    )]
    pub allowed_repo_hosts: Vec<String>,
}

impl EngineArgs {
    pub fn data_dir(&self) -> PathBuf {
        if let Some(d) = &self.data_dir {
            return d.clone();
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("chartimpact")
    }

    /// The engine: local repositories allowed (a CLI user names their own paths), private
    /// addresses allowed (their own servers), https hosts as configured.
    pub fn engine(&self) -> anyhow::Result<service::Engine> {
        Ok(service::Engine::builder(self.data_dir())
            .policy(chart_source::UrlPolicy {
                allowed_hosts: self.allowed_repo_hosts.clone(),
                allow_local: true,
                allow_private_addresses: true,
            })
            .renderers(service::Renderers::installed())
            .build()?)
    }
}

/// A spinner on stderr naming the stage, only when stderr is a terminal.
pub fn progress() -> (service::Context, Option<indicatif::ProgressBar>) {
    use std::io::IsTerminal;
    let mut ctx = service::Context::default();
    if !std::io::stderr().is_terminal() {
        return (ctx, None);
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    let b = bar.clone();
    ctx.progress = Some(Arc::new(move |stage: service::Stage| {
        b.set_message(stage.as_str())
    }));
    (ctx, Some(bar))
}
