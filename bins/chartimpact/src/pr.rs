//! `chartimpact pr`: every chart a change affects, in one report (the PR comment's markdown).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use service::CompareService;

use crate::diff::write_stdout;
use crate::engine::{EngineArgs, RendererChoice, progress};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    Markdown,
    Json,
    Text,
}

/// Arguments of `chartimpact pr`.
#[derive(Debug, Args)]
pub struct PrArgs {
    /// Repository URL or local path.
    #[arg(long)]
    repo: String,
    /// Base revision.
    #[arg(long)]
    base: String,
    /// Head revision.
    #[arg(long)]
    head: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "markdown")]
    output: Output,
    /// Renderer.
    #[arg(long, value_enum, default_value = "auto")]
    renderer: RendererChoice,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: PrArgs) -> anyhow::Result<ExitCode> {
    let engine = args.engine.engine()?;
    let (mut ctx, bar) = progress();
    ctx.set_timeout(Duration::from_secs(args.timeout));
    let req = service::pr::PrRequest {
        repository: args.repo.clone(),
        base: args.base.clone(),
        head: args.head.clone(),
        // As on GitHub, the policy is never the head's own: read at the base revision.
        config_revision: None,
        template: service::CompareRequest {
            renderer: Some(args.renderer.into()),
            ..service::CompareRequest::default()
        },
        ..service::pr::PrRequest::default()
    };
    let report = engine.analyze_pr(&req, &ctx);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = report?;
    let out = match args.output {
        Output::Markdown => report.markdown(None),
        Output::Json => report.to_json(),
        Output::Text => {
            let mut s = String::new();
            if let Some(e) = &report.config_error {
                s.push_str(&format!("warning: {e} (the defaults apply)\n\n"));
            }
            for c in &report.charts {
                let scen = c
                    .scenario
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                s.push_str(&format!(
                    "== {}{scen} [{}]\n",
                    c.chart_path,
                    c.status.as_str()
                ));
                match &c.outcome {
                    Ok(r) => {
                        s.push_str(&diff_core::report::text(&r.comparison, &Default::default()))
                    }
                    Err(e) => s.push_str(&format!("error: {e}\n")),
                }
                s.push('\n');
            }
            s
        }
    };
    write_stdout(&out)?;
    // The repository's failOn policy gates CI the way `diff --fail-on` does.
    if report.fails_policy() {
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
