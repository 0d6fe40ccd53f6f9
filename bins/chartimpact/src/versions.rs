//! `chartimpact versions`: tags and branches without cloning, or the versions of a chart in
//! a Helm repository or OCI registry.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use service::CompareService;

use crate::diff::write_stdout;
use crate::engine::EngineArgs;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
}

/// Arguments of `chartimpact versions`.
#[derive(Debug, Args)]
pub struct VersionsArgs {
    /// Git repository URL or local path.
    #[arg(
        long,
        required_unless_present = "helm_repo",
        conflicts_with = "helm_repo"
    )]
    repo: Option<String>,
    /// A Helm chart repository URL or `oci://HOST/PATH` (with --chart): the chart's versions,
    /// newest first.
    #[arg(long, value_name = "URL|oci://HOST/PATH", requires = "chart")]
    helm_repo: Option<String>,
    /// The chart's name in --helm-repo.
    #[arg(long, requires = "helm_repo")]
    chart: Option<String>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    output: Output,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: VersionsArgs) -> anyhow::Result<ExitCode> {
    let engine = args.engine.engine()?;
    let mut ctx = crate::engine::context();
    ctx.set_timeout(std::time::Duration::from_secs(120));
    if let (Some(helm), Some(chart)) = (&args.helm_repo, &args.chart) {
        let v = engine.chart_versions(helm, chart, &ctx)?;
        let out = match args.output {
            Output::Json => format!("{}\n", serde_json::to_string_pretty(&v)?),
            Output::Text => {
                let mut s = format!("Versions of {} in {}:\n", v.chart, v.helm_repository);
                for d in &v.version_details {
                    let mut line = format!("  {:<24}", d.version);
                    if !d.app_version.is_empty() {
                        line.push_str(&format!(" app {:<16}", d.app_version));
                    }
                    if !d.created.is_empty() {
                        line.push_str(&format!(" {}", d.created));
                    }
                    if d.deprecated {
                        line.push_str(" (deprecated)");
                    }
                    s.push_str(line.trim_end());
                    s.push('\n');
                }
                s
            }
        };
        write_stdout(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let v = engine.versions(args.repo.as_deref().unwrap_or_default(), &ctx)?;
    let out = match args.output {
        Output::Json => format!("{}\n", serde_json::to_string_pretty(&v)?),
        Output::Text => {
            let mut s = String::from("Tags:\n");
            for t in &v.tag_details {
                s.push_str(&format!(
                    "  {:<40} {}\n",
                    t.name,
                    &t.commit[..12.min(t.commit.len())]
                ));
            }
            s.push_str("Branches:\n");
            for b in &v.branch_details {
                let def = if Some(&b.name) == v.default_branch.as_ref() {
                    " (default)"
                } else {
                    ""
                };
                s.push_str(&format!(
                    "  {:<40} {}{def}\n",
                    b.name,
                    &b.commit[..12.min(b.commit.len())]
                ));
            }
            s
        }
    };
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
