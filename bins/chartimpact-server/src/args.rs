//! Flags (each with a `CHARTIMPACT_*` environment fallback) and what they build.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use server::{RendererStatus, ServerConfig};

/// A flag's value that must never be printed: `Debug` shows `***` (the flags struct is
/// `Debug`, and a debug print of it must not put a password in a log).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

/// Flags whose value is a secret: given on the command line, the value is visible to every
/// user of the machine (`ps`), so the server says so at start.
pub const SECRET_FLAGS: &[(&str, &str)] = &[
    (
        "api_token",
        "--api-token: use CHARTIMPACT_API_TOKEN or --api-token-file",
    ),
    (
        "metrics_token",
        "--metrics-token: use CHARTIMPACT_METRICS_TOKEN or --metrics-token-file",
    ),
    (
        "github_token",
        "--github-token: use CHARTIMPACT_GITHUB_TOKEN",
    ),
    (
        "webhook_secrets",
        "--webhook-secrets: use CHARTIMPACT_WEBHOOK_SECRETS",
    ),
    (
        "database_url",
        "--database-url (when it holds a password): use CHARTIMPACT_DATABASE_URL",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The ChartImpact HTTP API: compare Helm chart revisions, stored results, analytics, and
/// GitHub webhooks analysed by a durable job queue.
#[derive(Debug, Parser)]
#[command(name = "chartimpact-server", version, about, long_about = None)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Address to listen on.
    #[arg(long, env = "CHARTIMPACT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Directory for git mirrors, render caches and the SQLite database.
    #[arg(long, env = "CHARTIMPACT_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…` (default: SQLite in the data directory).
    #[arg(long, env = "CHARTIMPACT_DATABASE_URL", hide_env_values = true)]
    database_url: Option<Secret>,
    /// Hosts repositories may be on (comma list; `host` for port 443, `host:port` for
    /// another).
    #[arg(
        long,
        env = "CHARTIMPACT_ALLOWED_REPO_HOSTS",
        value_delimiter = ',',
        default_value = "github.com"
    )]
    allowed_repo_hosts: Vec<String>,
    /// Let the hosts named in --allowed-repo-hosts resolve to private or loopback addresses
    /// (GitHub Enterprise on an internal network), and the host of --github-git-url use plain
    /// http when that URL says http.
    #[arg(long, env = "CHARTIMPACT_ALLOW_PRIVATE_REPO_HOSTS")]
    allow_private_repo_hosts: bool,
    /// Send a chart repository's requests to a mirror: `ORIGINAL-URL=MIRROR-URL` (comma list
    /// or repeated; air-gapped sites, Artifactory/Nexus proxies). The mirror's host must be
    /// allowed too.
    #[arg(
        long = "helm-repo-mirror",
        env = "CHARTIMPACT_HELM_REPO_MIRRORS",
        value_delimiter = ',',
        value_name = "ORIGINAL=MIRROR"
    )]
    helm_repo_mirrors: Vec<String>,
    /// Credentials for chart repository hosts (a Docker/Helm registry config, or a list of
    /// `{host, username, password}` / `{host, token}`); `CHARTIMPACT_HELM_REPO_CREDENTIALS`
    /// may hold the same text inline. Read once at start, never stored or logged.
    #[arg(
        long = "helm-repo-credentials",
        env = "CHARTIMPACT_HELM_REPO_CREDENTIALS_FILE",
        value_name = "FILE"
    )]
    helm_repo_credentials: Option<PathBuf>,
    /// Allow `file://` URLs and local paths as repositories, and chart repositories on private
    /// addresses over http (local use and tests only).
    #[arg(long, env = "CHARTIMPACT_ALLOW_LOCAL_REPOS")]
    allow_local_repos: bool,
    /// Log format.
    #[arg(long, env = "CHARTIMPACT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Seconds one comparison may take before it is stopped.
    #[arg(long, env = "CHARTIMPACT_COMPARE_TIMEOUT", default_value_t = 120)]
    compare_timeout: u64,
    /// Largest `POST /api/compare` body in bytes.
    #[arg(long, env = "CHARTIMPACT_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Compares running at once (default: twice the cores).
    #[arg(long, env = "CHARTIMPACT_MAX_CONCURRENT_COMPARES")]
    max_concurrent_compares: Option<usize>,
    /// Compares waiting for a slot before new ones get 503.
    #[arg(long, env = "CHARTIMPACT_MAX_QUEUED_COMPARES", default_value_t = 32)]
    max_queued_compares: usize,
    /// Requests per minute per client address (0: no limit).
    #[arg(long, env = "CHARTIMPACT_RATE_LIMIT", default_value_t = 120)]
    rate_limit: u32,
    /// Requests a client may send at once before the per-minute rate applies.
    #[arg(long, env = "CHARTIMPACT_RATE_LIMIT_BURST", default_value_t = 30)]
    rate_limit_burst: u32,
    /// Origins allowed by CORS (comma list; `*` for any, `https://*.example.com` patterns).
    #[arg(long, env = "CHARTIMPACT_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Days a stored result is kept.
    #[arg(long, env = "CHARTIMPACT_RESULT_TTL_DAYS", default_value_t = 30)]
    result_ttl_days: u64,

    /// Secrets GitHub signs deliveries with (comma list, for rotation; each ≥ 16 bytes).
    /// Without one, `POST /api/webhooks/github` answers 404.
    #[arg(
        long,
        env = "CHARTIMPACT_WEBHOOK_SECRETS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    webhook_secrets: Vec<Secret>,
    /// Turn webhook intake off without removing the secrets (`false`).
    #[arg(long, env = "CHARTIMPACT_WEBHOOKS_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    webhooks_enabled: bool,
    /// Repositories webhooks may analyse (owner/name globs, comma list; default: all).
    #[arg(long, env = "CHARTIMPACT_WEBHOOK_REPOS", value_delimiter = ',')]
    webhook_repos: Vec<String>,
    /// PR labels whose `labeled` action runs an analysis (comma list).
    #[arg(
        long,
        env = "CHARTIMPACT_WEBHOOK_TRIGGER_LABELS",
        value_delimiter = ','
    )]
    webhook_trigger_labels: Vec<String>,
    /// Analyse draft pull requests too.
    #[arg(long, env = "CHARTIMPACT_WEBHOOK_DRAFTS")]
    webhook_drafts: bool,
    /// Analyse pull requests from forks (their head is fetched as refs/pull/N/head).
    #[arg(long, env = "CHARTIMPACT_WEBHOOK_FORKS")]
    webhook_forks: bool,
    /// Branches whose pushes are analysed (comma list, globs).
    #[arg(long, env = "CHARTIMPACT_WEBHOOK_PUSH_BRANCHES", value_delimiter = ',')]
    webhook_push_branches: Vec<String>,
    /// Base of clone URLs: `{git-url}/{owner}/{name}.git`.
    #[arg(
        long,
        env = "CHARTIMPACT_GITHUB_GIT_URL",
        default_value = "https://github.com"
    )]
    github_git_url: String,
    /// GitHub REST API base (used by publishing).
    #[arg(
        long,
        env = "CHARTIMPACT_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    github_api_url: String,
    /// Send the delivery that caused a webhook job as `X-GitHub-Delivery` on the job's GitHub
    /// calls (statuses, comments, check runs, token requests), so GitHub's logs and ours can be
    /// matched; `false` sends none.
    #[arg(
        long,
        env = "CHARTIMPACT_GITHUB_DELIVERY_HEADER",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "true|false"
    )]
    github_delivery_header: bool,
    /// A GitHub token for publishing results (PR comment, commit status).
    #[arg(
        long,
        env = "CHARTIMPACT_GITHUB_TOKEN",
        hide_env_values = true,
        conflicts_with = "github_app_id"
    )]
    github_token: Option<Secret>,
    /// GitHub App id (with --github-private-key-file): installation tokens, check runs.
    #[arg(
        long,
        env = "CHARTIMPACT_GITHUB_APP_ID",
        requires = "github_private_key_file"
    )]
    github_app_id: Option<u64>,
    /// The GitHub App's private key (PEM).
    #[arg(
        long,
        env = "CHARTIMPACT_GITHUB_PRIVATE_KEY_FILE",
        requires = "github_app_id"
    )]
    github_private_key_file: Option<PathBuf>,
    /// Public base URL of this server, for links in published results.
    #[arg(long, env = "CHARTIMPACT_PUBLIC_URL")]
    public_url: Option<String>,
    /// Job workers in this process (default: the cores).
    #[arg(long, env = "CHARTIMPACT_WORKERS")]
    workers: Option<usize>,
    /// Seconds a claimed job's lease lasts (renewed while it runs; a crashed worker's job is
    /// taken again after it).
    #[arg(long, env = "CHARTIMPACT_JOB_LEASE_SECS", default_value_t = 60)]
    job_lease_secs: u64,
    /// Attempts before a job fails for good.
    #[arg(long, env = "CHARTIMPACT_JOB_MAX_ATTEMPTS", default_value_t = 5)]
    job_max_attempts: u32,
    /// Jobs queued (all repositories) before new ones are recorded as deferred.
    #[arg(long, env = "CHARTIMPACT_MAX_QUEUED_JOBS", default_value_t = 1000)]
    max_queued_jobs: u32,
    /// PEM certificate chain to serve HTTPS with (with --tls-key; without both, plain HTTP —
    /// for deployments behind an ingress that terminates TLS).
    #[arg(long, env = "CHARTIMPACT_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "CHARTIMPACT_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Queued and running jobs per repository before new ones are deferred (fairness).
    #[arg(long, env = "CHARTIMPACT_MAX_JOBS_PER_REPO", default_value_t = 20)]
    max_jobs_per_repo: u32,

    /// The token the API needs (`Authorization: Bearer …`; at least 16 characters). Prefer
    /// the variable or --api-token-file: a flag's value is visible in the process list.
    #[arg(
        long,
        env = "CHARTIMPACT_API_TOKEN",
        hide_env_values = true,
        conflicts_with = "api_token_file"
    )]
    api_token: Option<Secret>,
    /// A file holding the API token (one line).
    #[arg(long, env = "CHARTIMPACT_API_TOKEN_FILE", value_name = "FILE")]
    api_token_file: Option<PathBuf>,
    /// The token `/metrics` needs (default: none, metrics are open).
    #[arg(
        long,
        env = "CHARTIMPACT_METRICS_TOKEN",
        hide_env_values = true,
        conflicts_with = "metrics_token_file"
    )]
    metrics_token: Option<Secret>,
    /// A file holding the metrics token (one line).
    #[arg(long, env = "CHARTIMPACT_METRICS_TOKEN_FILE", value_name = "FILE")]
    metrics_token_file: Option<PathBuf>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (addresses or ranges, comma
    /// list): rate and connection limits then count clients, not the proxy.
    #[arg(
        long,
        env = "CHARTIMPACT_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    trusted_proxies: Vec<String>,
    /// Connections open at once (more are closed as they arrive).
    #[arg(long, env = "CHARTIMPACT_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Connections open at once from one client address (an IPv6 /64); trusted proxies are
    /// counted only in the total.
    #[arg(
        long,
        env = "CHARTIMPACT_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 64
    )]
    max_connections_per_client: usize,
    /// Seconds a client may take to send a request's headers (also how long an idle
    /// keep-alive connection stays open).
    #[arg(long, env = "CHARTIMPACT_HEADER_READ_TIMEOUT", default_value_t = 10)]
    header_read_timeout: u64,
    /// Seconds a client may take to send a request's body.
    #[arg(long, env = "CHARTIMPACT_BODY_READ_TIMEOUT", default_value_t = 30)]
    body_read_timeout: u64,
    /// The most the git mirrors may take on disk (`10GiB`, `500M`, bytes; `0`: no limit):
    /// the least recently used mirrors beyond it are removed (never one in use).
    #[arg(long, env = "CHARTIMPACT_MIRROR_CACHE_MAX_BYTES", default_value = "5GiB", value_parser = parse_bytes, value_name = "SIZE")]
    mirror_cache_max_bytes: u64,
    /// The most the render cache may take on disk (`0`: no limit); least recently used
    /// renders go first.
    #[arg(long, env = "CHARTIMPACT_RENDER_CACHE_MAX_BYTES", default_value = "1GiB", value_parser = parse_bytes, value_name = "SIZE")]
    render_cache_max_bytes: u64,
    /// The memory budget of each render (`256MiB`, bytes): a chart whose templates, values
    /// or archives would need more is refused with 422 `limits_exceeded`. Each compare renders
    /// two sides at once, so size the host for `--max-concurrent-compares` × 2 × this
    /// (docs/SECURITY.md).
    #[arg(long, env = "CHARTIMPACT_RENDER_MEMORY_LIMIT", default_value = "256MiB", value_parser = parse_bytes, value_name = "SIZE")]
    render_memory_limit: u64,
}

/// `1073741824`, `1GiB`, `1Gi`, `1G` (powers of 1024 either way: these are disk quotas, not
/// marketing), `512MiB`, `64K`.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size such as 5GiB, 500MiB or 1073741824"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "ki" | "kib" | "kb" => 10,
        "m" | "mi" | "mib" | "mb" => 20,
        "g" | "gi" | "gib" | "gb" => 30,
        "t" | "ti" | "tib" | "tb" => 40,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use K, M, G or T)")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a random webhook secret (32 bytes, hex) for --webhook-secrets and GitHub.
    GenSecret,
}

impl Args {
    pub fn init_logging(&self) {
        let filter = tracing_subscriber::EnvFilter::try_from_env("CHARTIMPACT_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        use std::io::IsTerminal;
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr);
        match self.log_format {
            LogFormat::Json => builder.json().flatten_event(true).init(),
            LogFormat::Text => builder.init(),
        }
    }

    pub fn tls(&self) -> anyhow::Result<Option<Arc<server::tls::ServerConfig>>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(server::tls::load_config(cert, key)?)),
            _ => Ok(None),
        }
    }

    /// The GitHub client job results are published with, when credentials are given (checked
    /// before anything is opened); `None`: results are logged.
    pub fn github_client(&self) -> anyhow::Result<Option<github_client::GithubClient>> {
        let auth = match (
            &self.github_token,
            self.github_app_id,
            &self.github_private_key_file,
        ) {
            (Some(token), _, _) => github_client::Auth::Token(token.expose().into()),
            (None, Some(app_id), Some(key)) => {
                let pem = std::fs::read_to_string(key).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read --github-private-key-file {}: {e}",
                        key.display()
                    )
                })?;
                github_client::Auth::App {
                    app_id,
                    private_key_pem: pem.into(),
                }
            }
            _ => {
                return Ok(None);
            }
        };
        github_client::GithubClient::builder(&self.github_api_url)
            .auth(auth)
            .send_delivery_ids(self.github_delivery_header)
            .build()
            .map(Some)
            .map_err(|e| anyhow::Error::new(e).context("GitHub client"))
    }

    /// Where job results go: GitHub over `client`, keeping the comment and check run ids in
    /// `store` (shared by the replicas), else the log.
    pub fn publisher(
        &self,
        client: Option<github_client::GithubClient>,
        store: Arc<dyn store::Store>,
    ) -> Arc<dyn server::Publisher> {
        match client {
            Some(client) => Arc::new(server::GithubPublisher::new(
                client,
                self.public_url.clone(),
                store,
            )),
            None => {
                tracing::info!(
                    "no GitHub credentials: job results are logged and stored, not published"
                );
                Arc::new(server::LogPublisher)
            }
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        if let Some(d) = &self.data_dir {
            return d.clone();
        }
        std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .map_or_else(
                || PathBuf::from("chartimpact-data"),
                |d| d.join("chartimpact"),
            )
    }

    pub fn database_url(&self, data_dir: &Path) -> String {
        self.database_url
            .as_ref()
            .map(|u| u.expose().to_owned())
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("chartimpact.db").display()))
    }

    pub fn config(&self) -> anyhow::Result<ServerConfig> {
        if self.compare_timeout == 0 {
            anyhow::bail!("--compare-timeout must be at least 1 second");
        }
        if self.result_ttl_days == 0 {
            anyhow::bail!("--result-ttl-days must be at least 1");
        }
        let mut config = ServerConfig {
            compare_body_limit: self.max_body_bytes,
            compare_timeout: Duration::from_secs(self.compare_timeout),
            max_queued: self.max_queued_compares,
            rate_limit_per_minute: (self.rate_limit > 0).then_some(self.rate_limit),
            rate_limit_burst: self.rate_limit_burst,
            cors_origins: self
                .cors_origins
                .iter()
                .filter(|o| !o.is_empty())
                .cloned()
                .collect(),
            result_ttl: Duration::from_secs(self.result_ttl_days * 86_400),
            ..ServerConfig::default()
        };
        config.access = server::AccessConfig {
            api_token: token(
                "--api-token",
                self.api_token.as_ref(),
                self.api_token_file.as_deref(),
            )?,
            metrics_token: token(
                "--metrics-token",
                self.metrics_token.as_ref(),
                self.metrics_token_file.as_deref(),
            )?,
            trusted_proxies: self
                .trusted_proxies
                .iter()
                .filter(|p| !p.trim().is_empty())
                .map(|p| {
                    p.parse::<server::IpNet>()
                        .map_err(|e| anyhow::anyhow!("--trusted-proxies: {e}"))
                })
                .collect::<anyhow::Result<_>>()?,
        };
        for (flag, secs) in [
            ("--header-read-timeout", self.header_read_timeout),
            ("--body-read-timeout", self.body_read_timeout),
        ] {
            if secs == 0 {
                anyhow::bail!("{flag} must be at least 1 second");
            }
        }
        config.header_read_timeout = Duration::from_secs(self.header_read_timeout);
        config.body_read_timeout = Duration::from_secs(self.body_read_timeout);
        if self.max_connections == 0 || self.max_connections_per_client == 0 {
            anyhow::bail!("--max-connections and --max-connections-per-client must be at least 1");
        }
        config.max_connections = self.max_connections;
        config.max_connections_per_client = self.max_connections_per_client;
        config.workers.lease = Duration::from_secs(self.job_lease_secs.max(3));
        config.workers.max_attempts = self.job_max_attempts.max(1);
        config.workers.limits = store::QueueLimits {
            max_queued: self.max_queued_jobs,
            max_active_per_repo: self.max_jobs_per_repo.max(1),
        };
        if let Some(n) = self.workers {
            if n == 0 {
                anyhow::bail!("--workers must be at least 1");
            }
            config.workers.workers = n;
        }
        self.check_repo_hosts()?;
        let secrets: Vec<&str> = self.webhook_secrets.iter().map(Secret::expose).collect();
        if !secrets.is_empty() && self.webhooks_enabled {
            let secrets = github_events::WebhookSecrets::from_list(&secrets)
                .map_err(|e| anyhow::Error::new(e).context("--webhook-secrets"))?;
            let mut webhooks = server::WebhookConfig::new(secrets);
            webhooks.git_url = self.github_git_url.trim_end_matches('/').to_owned();
            let list = |v: &[String]| -> Vec<String> {
                v.iter()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            };
            webhooks.policy = github_events::RoutingPolicy {
                trigger_labels: list(&self.webhook_trigger_labels),
                run_drafts: self.webhook_drafts,
                allow_forks: self.webhook_forks,
                push_branches: list(&self.webhook_push_branches),
                repos: list(&self.webhook_repos),
            };
            webhooks
                .policy
                .validate()
                .map_err(|e| anyhow::anyhow!("--webhook-repos / --webhook-push-branches: {e}"))?;
            config.webhooks = Some(webhooks);
        }
        if let Some(n) = self.max_concurrent_compares {
            if n == 0 {
                anyhow::bail!("--max-concurrent-compares must be at least 1");
            }
            config.max_concurrent = n;
        }
        Ok(config)
    }

    /// The engine, and the renderers as health reports them.
    pub fn engine(
        &self,
        data_dir: &Path,
    ) -> anyhow::Result<(service::Engine, Vec<RendererStatus>)> {
        let renderers = service::Renderers::installed();
        let statuses = RendererStatus::of(&renderers);
        let mirrors = chart_repo::Mirror::parse_list(&self.helm_repo_mirrors)?;
        let credentials =
            chart_repo::Credentials::from_env_and_file(self.helm_repo_credentials.as_deref())?;
        let policy = self.git_policy()?;
        // Chart repositories (named in requests, and by the charts' dependencies) pass the same
        // allow-list and address checks as git hosts, on every redirect too. Local use
        // (--allow-local-repos: the operator's own machine) admits any chart repository,
        // including ones on this machine's network; private repository hosts admit chart
        // repositories on the listed internal hosts.
        let chart_policy = chart_source::UrlPolicy {
            allowed_hosts: if self.allow_local_repos {
                vec!["*".to_owned()]
            } else {
                self.repo_hosts()
            },
            allow_local: false,
            allow_private_addresses: self.allow_local_repos || self.allow_private_repo_hosts,
            plain_http_hosts: Vec::new(),
            allow_ssh: false,
        };
        let limit = |n: u64| (n > 0).then_some(n);
        let engine = service::Engine::builder(data_dir)
            .mirror_cache_max_bytes(limit(self.mirror_cache_max_bytes))
            .render_cache_max_bytes(limit(self.render_cache_max_bytes))
            .render_memory_max_bytes(Some(self.render_memory_limit))
            .policy(policy)
            .chart_repo_policy(chart_policy)
            .helm_repo_mirrors(mirrors)
            .helm_repo_credentials(credentials)
            .renderers(renderers)
            .build()?;
        Ok((engine, statuses))
    }
}

/// A token from its flag (or variable) or its file; checked (length, characters) before
/// anything is opened.
fn token(
    flag: &str,
    value: Option<&Secret>,
    file: Option<&Path>,
) -> anyhow::Result<Option<server::Token>> {
    let text = match (value, file) {
        (Some(v), _) => v.expose().to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {flag}-file {}: {e}", path.display()))?,
        (None, None) => return Ok(None),
    };
    server::Token::new(&text)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

/// Warns about each secret given on the command line (visible to every user in `ps`).
pub fn warn_secret_flags(matches: &clap::ArgMatches) {
    for (id, advice) in SECRET_FLAGS {
        if matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
            tracing::warn!(
                "a secret was given on the command line, where the process list shows it: {advice}"
            );
        }
    }
}

impl Args {
    fn repo_hosts(&self) -> Vec<String> {
        self.allowed_repo_hosts
            .iter()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect()
    }

    /// The host and port of `--github-git-url`, with its scheme.
    fn git_url_parts(&self) -> anyhow::Result<(String, String, Option<u16>)> {
        let url = self.github_git_url.trim().trim_end_matches('/');
        // Never echo credentials someone wrote into the URL.
        let shown = match url.split_once("://") {
            Some((scheme, rest)) if rest.split('/').next().unwrap_or_default().contains('@') => {
                let after = rest.split_once('@').map_or("", |(_, a)| a);
                format!("{scheme}://***@{after}")
            }
            _ => url.to_owned(),
        };
        let url = url.to_owned();
        let bad = |why: &str| {
            let url = &shown;
            anyhow::anyhow!(
                "--github-git-url {url:?} {why}: give the base of clone URLs, e.g. \
                 https://github.com or https://ghe.example.com (clone URLs are \
                 {{git-url}}/{{owner}}/{{repo}}.git)"
            )
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("has no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "file" {
            return Ok((scheme, String::new(), None));
        }
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return Err(bad(
                "carries credentials: the server authenticates git with --github-token or the \
                 GitHub App, never with credentials in a URL",
            ));
        }
        if authority.is_empty() {
            return Err(bad("has no host"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                let port: u16 = p.parse().map_err(|_| bad("has an invalid port"))?;
                (h.to_owned(), Some(port))
            }
            _ => (authority.to_owned(), None),
        };
        Ok((scheme, host.to_ascii_lowercase(), port))
    }

    /// Whether webhook jobs run here (and clone from --github-git-url).
    fn webhooks_on(&self) -> bool {
        self.webhooks_enabled
            && self
                .webhook_secrets
                .iter()
                .any(|s| !s.expose().trim().is_empty())
    }

    /// Refuses, at start-up and with what to do, configurations that would fail every job:
    /// a git URL git may not use under the host policy (when webhooks run), `*` with private
    /// hosts.
    fn check_repo_hosts(&self) -> anyhow::Result<()> {
        let hosts = self.repo_hosts();
        if self.allow_private_repo_hosts && hosts.iter().any(|h| h == "*") {
            anyhow::bail!(
                "--allow-private-repo-hosts with --allowed-repo-hosts '*' would let any host reach \
                 this network: name the internal hosts in --allowed-repo-hosts instead"
            );
        }
        if !self.webhooks_on() {
            return Ok(());
        }
        let (scheme, host, port) = self.git_url_parts()?;
        let shown = match port {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        match scheme.as_str() {
            "https" => {
                let policy = chart_source::UrlPolicy {
                    allowed_hosts: hosts,
                    ..chart_source::UrlPolicy::default()
                };
                if !policy.allows_host(&host, port.unwrap_or(443)) {
                    anyhow::bail!(
                        "--github-git-url {} names host {shown}, which is not in \
                         --allowed-repo-hosts ({}): add {shown} there",
                        self.github_git_url,
                        self.allowed_repo_hosts.join(",")
                    );
                }
            }
            "http" => {
                if !self.allow_private_repo_hosts {
                    anyhow::bail!(
                        "--github-git-url {} uses plain http, which is allowed only for an \
                         internal git server: add --allow-private-repo-hosts (and {shown} to \
                         --allowed-repo-hosts), or use https",
                        self.github_git_url
                    );
                }
                if !hosts.iter().any(|h| h.eq_ignore_ascii_case(&shown)) {
                    anyhow::bail!(
                        "--github-git-url {} names host {shown}, which is not in \
                         --allowed-repo-hosts ({}): add {shown} there",
                        self.github_git_url,
                        self.allowed_repo_hosts.join(",")
                    );
                }
            }
            "file" => {
                if !self.allow_local_repos {
                    anyhow::bail!(
                        "--github-git-url {} is a local path: add --allow-local-repos (local use \
                         and tests only), or use https",
                        self.github_git_url
                    );
                }
            }
            other => anyhow::bail!(
                "--github-git-url {} uses {other}: only https (or http for an internal server \
                 with --allow-private-repo-hosts) can be used",
                self.github_git_url
            ),
        }
        Ok(())
    }

    /// The git URL policy: the allowed hosts (private ones with --allow-private-repo-hosts),
    /// local paths with --allow-local-repos, plain http only to the host of an http
    /// --github-git-url.
    fn git_policy(&self) -> anyhow::Result<chart_source::UrlPolicy> {
        self.check_repo_hosts()?;
        let plain_http_hosts = match self.git_url_parts() {
            Ok((scheme, host, port))
                if self.webhooks_on() && self.allow_private_repo_hosts && scheme == "http" =>
            {
                vec![format!("{host}:{}", port.unwrap_or(80))]
            }
            _ => Vec::new(),
        };
        Ok(chart_source::UrlPolicy {
            allowed_hosts: self.repo_hosts(),
            allow_local: self.allow_local_repos,
            allow_private_addresses: self.allow_private_repo_hosts,
            plain_http_hosts,
            allow_ssh: false,
        })
    }
}

/// `git --version`, found once at start (gix runs git for local repositories).
pub fn git_version() -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("--version")
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .trim_start_matches("git version ")
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_bytes("1073741824"), Ok(1 << 30));
        assert_eq!(parse_bytes("5GiB"), Ok(5 << 30));
        assert_eq!(parse_bytes("5Gi"), Ok(5 << 30));
        assert_eq!(parse_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_bytes("0"), Ok(0));
        assert!(parse_bytes("5 parsecs").is_err());
        assert!(parse_bytes("GiB").is_err());
        assert!(parse_bytes("99999999999T").is_err());
    }

    #[test]
    fn delivery_ids_are_sent_unless_switched_off() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["chartimpact-server"];
            argv.extend_from_slice(extra);
            Args::try_parse_from(argv)
        };
        assert!(parse(&[]).unwrap().github_delivery_header);
        assert!(
            !parse(&["--github-delivery-header", "false"])
                .unwrap()
                .github_delivery_header
        );
        assert!(parse(&["--github-delivery-header", "maybe"]).is_err());
    }

    #[test]
    fn secrets_never_show_in_a_debug_print() {
        let args = Args::try_parse_from([
            "chartimpact-server",
            "--github-token",
            "ghp_secret_token_value",
            "--webhook-secrets",
            "webhook-secret-value-123",
            "--database-url",
            "postgres://u:db-password@h/db",
            "--api-token",
            "api-token-value-0123456789",
        ])
        .unwrap();
        let printed = format!("{args:?}");
        for secret in [
            "ghp_secret_token_value",
            "webhook-secret-value-123",
            "db-password",
            "api-token-value-0123456789",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
    }
}
