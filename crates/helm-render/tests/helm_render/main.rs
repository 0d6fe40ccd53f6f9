//! helm-render through its public API: loading charts, and the helm CLI backend against the
//! reference renders of the corpus.

mod helm_cli;
mod hostile;
mod loading;
mod native;

use std::path::PathBuf;

/// The corpus (`tests/data/corpus`, or `CHARTIMPACT_CORPUS`); missing data fails the test.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("CHARTIMPACT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus")
        });
    assert!(
        dir.join("cases").is_dir(),
        "the test corpus is missing at {}: it is part of the repository (tests/data/corpus); restore it with git, or point CHARTIMPACT_CORPUS at a copy",
        dir.display()
    );
    dir
}

/// The helm binary, or None (with the reason printed). With `CHARTIMPACT_REQUIRE_HELM=1`
/// (CI) a missing helm fails the test instead.
pub fn helm() -> Option<helm_render::HelmCliRenderer> {
    let h = helm_render::HelmCliRenderer::locate();
    if h.is_none() {
        let why = "no helm binary (install with scripts/install-helm.sh, or set CHARTIMPACT_HELM)";
        assert!(
            std::env::var_os("CHARTIMPACT_REQUIRE_HELM").is_none_or(|v| v != "1"),
            "{why}"
        );
        eprintln!("skipping: {why}");
    }
    h
}

/// A gzipped tar of `files` at the paths given (a packaged chart's start with its name), as
/// `helm package` writes one. (loading.rs has its own, which writes names the tar builder
/// refuses.)
pub fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, *data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
