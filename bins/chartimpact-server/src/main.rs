//! `chartimpact-server`: the ChartImpact HTTP API (see `server`). This file parses
//! flags, wires the engine and the store together, and serves until SIGTERM or Ctrl-C.

mod args;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{CommandFactory, FromArgMatches};

// Comparisons allocate millions of small values; mimalloc handles that pattern faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // One TLS provider for every client in the process (GitHub API, https git): ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let matches = args::Args::command().get_matches();
    let args = match args::Args::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    if let Some(args::Command::GenSecret) = args.command {
        println!("{}", github_events::generate_secret());
        return ExitCode::SUCCESS;
    }
    args.init_logging();
    args::warn_secret_flags(&matches);
    // 8 MiB stacks (reserved, not used, until needed): request values are parsed on the
    // runtime's threads, and the YAML reader's 256 levels of nesting took more than Tokio's
    // 2 MiB default in a debug build (a stack overflow ends the process, so hostile nesting
    // must meet the depth limit first; found by the hostile-input suite).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 << 20)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chartimpact-server: error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("chartimpact-server: error: {err:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: args::Args) -> anyhow::Result<()> {
    // Bad flags and TLS files are reported before anything is opened.
    let config = args.config()?;
    let tls = args.tls()?;
    let github = args.github_client()?;
    let data_dir = args.data_dir();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let (engine, renderers) = args.engine(&data_dir)?;
    let database_url = args.database_url(&data_dir);
    let store = store::open(&database_url, &store::OpenOptions::default())
        .await
        .context("cannot open the result store")?;
    let publisher = args.publisher(github.clone(), store.clone());
    let mut state = server::AppState::builder(Arc::new(engine), store.clone(), config)
        .renderers(renderers)
        .git_version(args::git_version())
        .publisher(publisher);
    if let Some(client) = github {
        // Webhook jobs read repositories with the same credentials (scoped per job).
        state = state.git_credentials(client);
    }
    let state = state.build();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(
        listen = %listener.local_addr().map_or(args.listen.clone(), |a| a.to_string()),
        data_dir = %data_dir.display(),
        store = %store.backend(),
        "chartimpact-server ready"
    );
    match tls {
        Some(config) => {
            let listener = server::tls::TlsListener::new(listener, config)?;
            tracing::info!("serving HTTPS");
            server::serve(listener, state, shutdown_signal()).await?;
        }
        None => server::serve(listener, state, shutdown_signal()).await?,
    }
    tracing::info!("in-flight requests finished; closing the store");
    store.close().await?;
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
