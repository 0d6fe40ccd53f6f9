//! helm-render through its public API: loading charts, and the helm CLI backend against the
//! reference renders of the shared corpus.

mod helm_cli;
mod hostile;
mod loading;
mod native;

use std::path::PathBuf;

/// The shared corpus, or None (with the reason printed) when it is absent.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("CHARTIMPACT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    if dir.join("cases").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: no corpus at {} (set CHARTIMPACT_CORPUS)",
            dir.display()
        );
        None
    }
}

/// The helm binary, or None (with the reason printed).
pub fn helm() -> Option<helm_render::HelmCliRenderer> {
    let h = helm_render::HelmCliRenderer::locate();
    if h.is_none() {
        eprintln!(
            "skipping: no helm binary (install with scripts/install-helm.sh, or set CHARTIMPACT_HELM)"
        );
    }
    h
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
