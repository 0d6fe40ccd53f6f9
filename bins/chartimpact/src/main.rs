//! `chartimpact`: what a Helm chart change does to the cluster, before deployment.

mod diff;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Shows what a Helm chart change does to a cluster and how risky it is.
#[derive(Debug, Parser)]
#[command(name = "chartimpact", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Diff two rendered manifest streams (files, or `-` for stdin).
    Diff(diff::DiffArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Diff(args) => diff::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("chartimpact: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
