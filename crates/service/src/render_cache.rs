//! Rendered manifests on disk, keyed by content, so a warm compare skips rendering.
//!
//! The key covers everything a render depends on: the chart's git tree id, every values input,
//! every render option and the renderer's name and version. Entries are written to a temporary
//! file and renamed, so a crash never leaves a half-written entry that a later run would read.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Entry {
    renderer: String,
    version: String,
    manifest: String,
}

/// A directory of cached renders.
#[derive(Debug, Clone)]
pub struct RenderCache {
    dir: PathBuf,
}

impl RenderCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        RenderCache { dir }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.json"))
    }

    /// The cached render: (renderer name, renderer version, manifest).
    pub fn get(&self, key: &str) -> Option<(String, String, String)> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        // A corrupt entry is a miss, never an error.
        let e: Entry = serde_json::from_slice(&bytes).ok()?;
        Some((e.renderer, e.version, e.manifest))
    }

    /// Stores a render; failures are logged and ignored (the cache is an optimisation).
    pub fn put(&self, key: &str, renderer: &str, version: &str, manifest: &str) {
        let path = self.path(key);
        let write = || -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(dir)?;
            let tmp = tempfile::NamedTempFile::new_in(dir)?;
            serde_json::to_writer(
                &tmp,
                &Entry {
                    renderer: renderer.to_owned(),
                    version: version.to_owned(),
                    manifest: manifest.to_owned(),
                },
            )?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, "cannot write render cache entry");
        }
    }
}
