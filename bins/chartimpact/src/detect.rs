//! `chartimpact detect`: the charts in a repository, or those a change affects.

use std::process::ExitCode;

use clap::Args;
use service::CompareService;

use crate::diff::write_stdout;
use crate::engine::EngineArgs;

/// Arguments of `chartimpact detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Repository URL or local path.
    #[arg(long)]
    repo: String,
    /// Old revision: with `--to`, list only the charts affected between the two.
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// New revision (alone: the charts at that revision; default HEAD).
    #[arg(long)]
    to: Option<String>,
    /// Print JSON (the document `POST /api/charts` answers).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: DetectArgs) -> anyhow::Result<ExitCode> {
    let engine = args.engine.engine()?;
    let ctx = crate::engine::context();
    let found = match &args.from {
        Some(from) => {
            let to = args.to.as_deref().unwrap_or("HEAD");
            engine.affected_charts(&args.repo, from, to, &ctx)?
        }
        None => engine.charts(&args.repo, args.to.as_deref(), &ctx)?,
    };
    let out = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&found)?)
    } else {
        let mut s = String::new();
        for c in &found.charts {
            s.push_str(&format!(
                "{}\t{} {}",
                c.path,
                c.name,
                c.version.as_deref().unwrap_or("")
            ));
            if let Some(status) = c.status {
                s.push_str(&format!("\t{}", status.as_str()));
            }
            if c.library {
                s.push_str("\t(library)");
            }
            if c.vendored {
                s.push_str("\t(vendored)");
            }
            s.push('\n');
        }
        s
    };
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
