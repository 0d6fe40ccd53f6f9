//! `chartimpact render CHART-DIR …`: prints exactly what `helm template` prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use helm_render::{
    AutoRenderer, ChartFiles, FileLimits, HelmCliRenderer, NativeRenderer, Options, RenderError,
    Renderer, ValuesFile,
};

/// What `chartimpact render` does, in its help.
pub const ABOUT: &str = "Render a chart directory: prints exactly what `helm template` prints";

/// Which engine renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RendererChoice {
    /// Native, unless the chart needs something only helm has and helm is installed.
    Auto,
    /// The in-process renderer.
    Native,
    /// A `helm` binary (on PATH or `CHARTIMPACT_HELM`).
    Helm,
}

/// Arguments of `chartimpact render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The chart directory.
    #[arg(value_name = "CHART-DIR")]
    pub chart: PathBuf,
    /// Release name.
    #[arg(long, default_value = "release")]
    pub release_name: String,
    /// Release namespace.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// Values files, applied in order.
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// `key=value` overrides (Helm's --set syntax).
    #[arg(long = "set", value_name = "K=V")]
    pub set: Vec<String>,
    /// `key=value` overrides taken as strings.
    #[arg(long = "set-string", value_name = "K=V")]
    pub set_string: Vec<String>,
    /// `key=JSON` overrides (Helm's --set-json), applied before --set.
    #[arg(long = "set-json", value_name = "K=JSON")]
    pub set_json: Vec<String>,
    /// `key=path` overrides: the file's content becomes the value (Helm's --set-file).
    #[arg(long = "set-file", value_name = "K=PATH")]
    pub set_file: Vec<String>,
    /// Kubernetes version for .Capabilities.
    #[arg(long)]
    pub kube_version: Option<String>,
    /// Extra API versions for .Capabilities.
    #[arg(long = "api-versions", short = 'a', value_name = "VERSION")]
    pub api_versions: Vec<String>,
    /// Print the charts' crds/ files before the manifests.
    #[arg(long)]
    pub include_crds: bool,
    /// Leave out hooks.
    #[arg(long)]
    pub no_hooks: bool,
    /// Leave out test hooks.
    #[arg(long)]
    pub skip_tests: bool,
    /// Which renderer to use.
    #[arg(long, value_enum, default_value = "auto")]
    pub renderer: RendererChoice,
}

/// Charts whose render reads at least this many bytes ([`ChartFiles::render_bytes`]: not the
/// changelog and CRDs a render leaves unread) are rendered with transparent huge pages.
const HUGE_PAGES_FROM_BYTES: u64 = 1 << 20;

/// Whether the kernel may back the heap with 2 MiB pages (the allocator asks for them). Each
/// one is cleared whole the first time it is touched: a few hundred microseconds that a small
/// chart, which needs a few hundred KB of heap, pays in full, while a large one saves
/// thousands of 4 KiB page faults. The setting is the process's; best effort.
fn huge_pages(allowed: bool) {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(!allowed);
    #[cfg(not(target_os = "linux"))]
    let _ = allowed;
}

/// Runs `chartimpact render`.
pub fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    huge_pages(false);
    let files = ChartFiles::from_dir(&args.chart, FileLimits::default())
        .with_context(|| format!("cannot load chart {}", args.chart.display()))?;
    if files.render_bytes() >= HUGE_PAGES_FROM_BYTES {
        huge_pages(true);
    }
    let mut values = Vec::new();
    for path in &args.values {
        let content =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        values.push(ValuesFile {
            name: path.display().to_string(),
            content,
        });
    }
    let mut set_file = Vec::new();
    for arg in &args.set_file {
        let pairs = helm_render::split_set_file(arg)
            .map_err(|e| anyhow::anyhow!("failed parsing --set-file data: {e}"))?;
        for (key, path) in pairs {
            let content = if path.trim() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                    .context("cannot read --set-file content from stdin")?;
                buf
            } else {
                std::fs::read(&path).with_context(|| format!("cannot read {path}"))?
            };
            set_file.push((key, content));
        }
    }
    let options = Options {
        release_name: args.release_name,
        namespace: args.namespace,
        values,
        set: args.set,
        set_string: args.set_string,
        set_json: args.set_json,
        set_file,
        kube_version: args.kube_version,
        api_versions: args.api_versions,
        include_crds: args.include_crds,
        no_hooks: args.no_hooks,
        skip_tests: args.skip_tests,
        ..Options::default()
    };
    let renderer: Box<dyn Renderer> = match args.renderer {
        // This process exits after the render: what it built is left for the exit to free.
        RendererChoice::Auto => Box::new(AutoRenderer::new(
            NativeRenderer::new().leaving_memory_to_exit(),
            HelmCliRenderer::locate(),
        )),
        RendererChoice::Native => Box::new(NativeRenderer::new().leaving_memory_to_exit()),
        RendererChoice::Helm => Box::new(HelmCliRenderer::locate().context(
            "no helm binary found (install it with scripts/install-helm.sh, or set CHARTIMPACT_HELM)",
        )?),
    };
    match renderer.render(&files, &options) {
        Ok(out) => {
            crate::diff::write_stdout(&out.manifest)?;
            // The process exits now; freeing the chart and output piece by piece would only
            // delay that.
            std::mem::forget((out, files));
            Ok(ExitCode::SUCCESS)
        }
        Err(RenderError::Chart { message }) => {
            eprintln!("Error: {message}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}
