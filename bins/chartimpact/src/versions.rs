//! `chartimpact versions`: tags and branches without cloning.

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
    /// Repository URL or local path.
    #[arg(long)]
    repo: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    output: Output,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: VersionsArgs) -> anyhow::Result<ExitCode> {
    let engine = args.engine.engine()?;
    let v = engine.versions(
        &args.repo,
        &service::Context::with_timeout(std::time::Duration::from_secs(120)),
    )?;
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
