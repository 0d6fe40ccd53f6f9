//! Rendered manifests on disk, keyed by content, so a warm compare skips rendering.
//!
//! The key covers everything a render depends on: the chart's git tree id, every values input,
//! every render option and the renderer's name and version. Entries are written to a temporary
//! file and renamed, so a crash never leaves a half-written entry that a later run would read.

use std::io::Write;
use std::path::PathBuf;

/// First line of an entry: a format tag, the renderer's name and version.
const HEADER: &str = "chartimpact-render-v1";

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
        self.dir.join(&key[..2]).join(format!("{key}.yaml"))
    }

    /// The cached render: (renderer name, renderer version, manifest).
    pub fn get(&self, key: &str) -> Option<(String, String, String)> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        // A corrupt or foreign entry is a miss, never an error.
        let (head, manifest) = text.split_once('\n')?;
        let mut parts = head.split(' ');
        if parts.next()? != HEADER {
            return None;
        }
        let (name, version) = (parts.next()?.to_owned(), parts.next()?.to_owned());
        Some((name, version, manifest.to_owned()))
    }

    /// Stores a render; failures are logged and ignored (the cache is an optimisation).
    pub fn put(&self, key: &str, renderer: &str, version: &str, manifest: &str) {
        let path = self.path(key);
        let write = || -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            writeln!(tmp, "{HEADER} {renderer} {version}")?;
            tmp.write_all(manifest.as_bytes())?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, "cannot write render cache entry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_treats_junk_as_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let c = RenderCache::new(dir.path().to_path_buf());
        let key = "ab".repeat(32);
        assert!(c.get(&key).is_none());
        c.put(&key, "native", "0.1.0", "---\na: 1\n");
        assert_eq!(
            c.get(&key),
            Some(("native".into(), "0.1.0".into(), "---\na: 1\n".into()))
        );
        std::fs::write(c.path(&key), "garbage").unwrap();
        assert!(c.get(&key).is_none());
    }
}
