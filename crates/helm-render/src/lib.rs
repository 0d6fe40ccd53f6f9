//! Helm chart rendering for ChartImpact.
//!
//! A chart arrives as its files in memory ([`ChartFiles`]: read from a git tree without a
//! checkout, from a directory, or from a `.tgz`) and leaves as exactly what `helm template`
//! prints. The [`Renderer`] trait is the seam the compare engine depends on; this crate
//! provides the helm CLI backend ([`HelmCliRenderer`]), which runs a real `helm` binary in an
//! isolated temporary directory with a timeout and an output cap, and the native renderer
//! ([`NativeRenderer`], on `text-template`), which reproduces Helm 3.17.1's loader, values
//! coalescing, dependency processing, engine and `helm template` printing in-process.
//! [`AutoRenderer`] uses native unless the chart needs something only helm has.
//!
//! `.helmignore` is applied the way Helm applies it ([`ignore::Rules`], Go's `filepath.Match`
//! semantics and Helm's quirks): while walking a directory, so ignored files are never read;
//! packaged subcharts are read with Helm's archive rules.
//!
//! The native renderer uses every core it is given: templates are parsed in parallel (joined
//! into the set in Helm's order), and each rendered file's documents are split and their heads
//! (kind, hook) read on a second thread while the next templates execute — reading only the
//! head's levels of each document, but checking all of it for Helm's YAML errors.
//!
//! ```no_run
//! use helm_render::{ChartFiles, FileLimits, HelmCliRenderer, Options, Renderer};
//!
//! let chart = ChartFiles::from_dir(std::path::Path::new("charts/app"), FileLimits::default())?;
//! let helm = HelmCliRenderer::locate().expect("helm on PATH");
//! let out = helm.render(&chart, &Options::default())?;
//! print!("{}", out.manifest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod ahead;
mod budget;
pub mod chart;
mod deps;
mod error;
mod files;
mod helm_cli;
pub mod ignore;
mod native;
mod objects;
mod render;
mod schema;
mod semver;
mod strvals;
mod values;
mod yamlconv;

pub use budget::{DEFAULT_MAX_MEMORY_BYTES, MAX_SUBCHART_DEPTH};
pub use error::{LoadError, RenderError};
pub use files::{ChartFiles, FileLimits};
pub use helm_cli::HelmCliRenderer;
pub use native::{
    AutoRenderer, NATIVE_VERSION, NativeRenderer, unsupported_features, unsupported_functions,
};
pub use render::{Options, Outcome, Renderer, RendererInfo, ValuesFile};
pub use schema::MAX_SCHEMA_EVALUATIONS;
pub use strvals::split_set_file;
pub use text_template::Limits;

/// The cores this process may use ([`std::thread::available_parallelism`], which reads the
/// cgroup's quota from files each time it is asked: tens of microseconds), counted once.
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
