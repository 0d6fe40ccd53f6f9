//! `chartimpact detect`: the charts in a repository, or those a change affects.

use std::process::ExitCode;

use clap::Args;

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
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: DetectArgs) -> anyhow::Result<ExitCode> {
    let engine = args.engine.engine()?;
    let repo = engine.mirrors().repository(&args.repo)?;
    let to = repo.resolve(args.to.as_deref().unwrap_or("HEAD"))?;
    let mut rows = Vec::new();
    if let Some(from) = &args.from {
        let from = repo.resolve(from)?;
        for a in repo.affected_charts(
            &from.commit,
            &to.commit,
            &chart_source::AffectedOptions::new(),
        )? {
            let status = format!("{:?}", a.status).to_lowercase();
            rows.push(serde_json::json!({
                "path": a.chart.path, "name": a.chart.name, "version": a.chart.version,
                "library": a.chart.library, "vendored": a.chart.vendored, "status": status,
            }));
        }
    } else {
        for c in repo.charts(&to.commit)? {
            rows.push(serde_json::json!({
                "path": c.path, "name": c.name, "version": c.version,
                "library": c.library, "vendored": c.vendored,
            }));
        }
    }
    let out = if args.json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({"success": true, "charts": rows}))?
        )
    } else {
        let mut s = String::new();
        for r in &rows {
            let mut line = format!(
                "{}\t{} {}",
                r["path"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or(""),
                r["version"].as_str().unwrap_or("")
            );
            if let Some(st) = r.get("status").and_then(|s| s.as_str()) {
                line.push_str(&format!("\t{st}"));
            }
            if r["library"] == true {
                line.push_str("\t(library)");
            }
            if r["vendored"] == true {
                line.push_str("\t(vendored)");
            }
            s.push_str(&line);
            s.push('\n');
        }
        s
    };
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
