//! `chartimpact`: what a Helm chart change does to the cluster, before deployment.

mod compare;
mod detect;
mod diff;
mod engine;
mod pr;
mod render;
mod versions;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Comparisons allocate millions of small values (parsed YAML, template output); mimalloc
// handles that pattern markedly faster than glibc's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Shows what a Helm chart change does to a cluster and how risky it is.
#[derive(Debug, Parser)]
#[command(name = "chartimpact", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compare a chart at two git revisions, or two versions from a Helm repository (render
    /// both, diff, score).
    Compare(Box<compare::CompareArgs>),
    /// Diff two rendered manifest streams (files, or `-` for stdin).
    Diff(diff::DiffArgs),
    /// List a repository's tags and branches without cloning it, or a chart's versions in a
    /// Helm repository.
    Versions(versions::VersionsArgs),
    /// List the charts in a repository, or those affected between two revisions.
    Detect(detect::DetectArgs),
    /// Compare every chart a change affects and print one report (the PR comment).
    Pr(pr::PrArgs),
    #[command(about = render::ABOUT)]
    Render(render::RenderArgs),
}

/// `chartimpact render` on its own: the command scripts and benchmarks run once per chart,
/// where building every subcommand's parser first (about a quarter of a millisecond, a twentieth
/// of a small chart's render) is felt. Same arguments, help and errors as through [`Cli`].
#[derive(Debug, Parser)]
#[command(
    name = "chartimpact render",
    bin_name = "chartimpact render",
    about = render::ABOUT
)]
struct RenderCli {
    #[command(flatten)]
    args: render::RenderArgs,
}

fn main() -> ExitCode {
    let command = if std::env::args_os().nth(1).is_some_and(|a| a == "render") {
        // The subcommand's name stands where clap expects the program's.
        Command::Render(RenderCli::parse_from(std::env::args_os().skip(1)).args)
    } else {
        Cli::parse().command
    };
    let result = match command {
        Command::Compare(args) => compare::run(*args),
        Command::Diff(args) => diff::run(args),
        Command::Versions(args) => versions::run(args),
        Command::Detect(args) => detect::run(args),
        Command::Pr(args) => pr::run(args),
        Command::Render(args) => render::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("chartimpact: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
