//! `chartimpact compare`: a chart at two git revisions, or two versions of a chart published
//! in a Helm repository or OCI registry.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use service::CompareService;

use crate::diff::ReportArgs;
use crate::engine::{EngineArgs, RendererChoice, progress};

/// Arguments of `chartimpact compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Git repository URL or local path.
    #[arg(
        long,
        required_unless_present = "helm_repo",
        conflicts_with = "helm_repo"
    )]
    repo: Option<String>,
    /// A Helm chart repository URL (as `helm repo add` takes) or `oci://HOST/PATH`: compare
    /// two published versions of the chart instead of git revisions.
    #[arg(long, value_name = "URL|oci://HOST/PATH")]
    helm_repo: Option<String>,
    /// Chart directory in the git repository; with --helm-repo, the chart's name.
    #[arg(long)]
    chart: String,
    /// Old revision (tag, branch, commit, HEAD, refs/pull/N/head); with --helm-repo a chart
    /// version (or a range such as ^19, as helm picks it).
    #[arg(long)]
    from: String,
    /// New revision (or chart version).
    #[arg(long)]
    to: String,
    /// Values file inside the repository, read at each revision (repeatable); with
    /// --helm-repo, a file inside the chart.
    #[arg(short = 'f', long = "values-file", value_name = "FILE-IN-REPO")]
    values_files: Vec<String>,
    /// Local values file applied to both sides (repeatable).
    #[arg(long = "values", value_name = "LOCAL-FILE")]
    local_values: Vec<PathBuf>,
    /// `--set key=value`, applied last (repeatable).
    #[arg(long)]
    set: Vec<String>,
    /// Release name.
    #[arg(long, default_value = "release")]
    release_name: String,
    /// Kubernetes version for `.Capabilities`.
    #[arg(long)]
    kube_version: Option<String>,
    /// Extra API versions for `.Capabilities.APIVersions` (repeatable).
    #[arg(long = "api-versions")]
    api_versions: Vec<String>,
    /// Renderer.
    #[arg(long, value_enum, default_value = "auto")]
    renderer: RendererChoice,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let mut local = Vec::new();
    for p in &args.local_values {
        let content =
            std::fs::read(p).with_context(|| format!("cannot read values file {}", p.display()))?;
        local.push(helm_render::ValuesFile {
            name: p.display().to_string(),
            content,
        });
    }
    let engine = args.engine.engine()?.with_local_values(local);
    let (repository, chart_path, helm_repository, chart) = match &args.helm_repo {
        Some(helm) => (
            String::new(),
            String::new(),
            Some(helm.clone()),
            Some(args.chart.clone()),
        ),
        None => (
            args.repo.clone().unwrap_or_default(),
            args.chart.trim_end_matches('/').to_owned(),
            None,
            None,
        ),
    };
    let mut req = service::CompareRequest {
        repository,
        chart_path,
        helm_repository,
        chart,
        version1: args.from.clone(),
        version2: args.to.clone(),
        values_files: args.values_files.clone(),
        set: args.set.clone(),
        release_name: Some(args.release_name.clone()),
        kube_version: args.kube_version.clone(),
        api_versions: args.api_versions.clone(),
        renderer: Some(args.renderer.into()),
        ..service::CompareRequest::default()
    };
    args.report.apply_to(&mut req);
    let (mut ctx, bar) = progress();
    ctx.set_timeout(Duration::from_secs(args.timeout));
    let result = engine.compare(&req, &ctx);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let response = result?;
    let code = args
        .report
        .print(&response.comparison, || response.to_json())?;
    // The process exits right after printing; freeing the objects node by node would only
    // delay that.
    std::mem::forget(response);
    Ok(code)
}
