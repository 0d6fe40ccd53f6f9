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
    /// Send a chart repository's requests to a mirror: `ORIGINAL-URL=MIRROR-URL` (repeatable;
    /// air-gapped sites, Artifactory/Nexus proxies). Applies to `--helm-repo` and to the
    /// repositories charts name for their dependencies.
    #[arg(
        long = "helm-repo-mirror",
        env = "CHARTIMPACT_HELM_REPO_MIRRORS",
        value_delimiter = ',',
        value_name = "ORIGINAL=MIRROR"
    )]
    pub helm_repo_mirrors: Vec<String>,
    /// Credentials for chart repository hosts: a Docker/Helm registry config (what `helm
    /// registry login` writes) or a list of `{host, username, password}` / `{host, token}`
    /// (JSON or YAML). `CHARTIMPACT_HELM_REPO_CREDENTIALS` may hold the same text inline.
    #[arg(
        long = "helm-repo-credentials",
        env = "CHARTIMPACT_HELM_REPO_CREDENTIALS_FILE",
        value_name = "FILE"
    )]
    pub helm_repo_credentials: Option<PathBuf>,
    /// Talk to OCI registries over plain http (as helm's flag), and to git servers named in
    /// --allowed-repo-hosts.
    #[arg(long)]
    pub plain_http: bool,
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
    ///
    /// Chart repositories may be on any host, private addresses and plain http included: the
    /// user names them (on the command line or in their charts).
    pub fn engine(&self) -> anyhow::Result<service::Engine> {
        let mirrors = chart_repo::Mirror::parse_list(&self.helm_repo_mirrors)?;
        let credentials =
            chart_repo::Credentials::from_env_and_file(self.helm_repo_credentials.as_deref())?;
        Ok(service::Engine::builder(self.data_dir())
            .policy(chart_source::UrlPolicy {
                allowed_hosts: self.allowed_repo_hosts.clone(),
                allow_local: true,
                allow_private_addresses: true,
                // The user's own tool: plain http to their listed hosts when they ask for it,
                // and ssh through their own `ssh` (its keys, agent and known hosts).
                plain_http_hosts: if self.plain_http {
                    self.allowed_repo_hosts.clone()
                } else {
                    Vec::new()
                },
                allow_ssh: true,
            })
            .chart_repo_policy(chart_source::UrlPolicy {
                allowed_hosts: vec!["*".into()],
                allow_local: false,
                allow_private_addresses: true,
                ..Default::default()
            })
            .helm_repo_mirrors(mirrors)
            .helm_repo_credentials(credentials)
            .plain_http(self.plain_http)
            .renderers(service::Renderers::installed())
            .build()?)
    }
}

/// The context of a command: git authenticates as the user's own git would (`~/.netrc`,
/// credential helpers, `GIT_ASKPASS`; `GIT_SSH_COMMAND`/`GIT_SSH` for ssh URLs).
pub fn context() -> service::Context {
    let mut ctx = service::Context::default();
    ctx.git_auth = service::GitAuth::UserGit;
    ctx
}

/// A spinner on stderr naming the stage, only when stderr is a terminal.
pub fn progress() -> (service::Context, Option<indicatif::ProgressBar>) {
    use std::io::IsTerminal;
    let mut ctx = context();
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
