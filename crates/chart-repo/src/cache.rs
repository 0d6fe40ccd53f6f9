//! The on-disk cache under `<data-dir>/charts/`: archives by sha256 (checked again when read,
//! so a damaged file is fetched anew, never used), parsed indexes with their validators, and
//! the digests of archives whose index named none. Every file is written to a temporary file
//! and renamed into place: a crash or a failed download leaves nothing half-written.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::index::Index;
use crate::{Error, Result};

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// What is known about a cached index besides its entries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct IndexMeta {
    /// The index URL, redacted.
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) etag: Option<String>,
    #[serde(default)]
    pub(crate) last_modified: Option<String>,
    /// Seconds since the epoch of the last download or revalidation.
    pub(crate) checked_at: u64,
}

pub(crate) struct DiskCache {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Cache {
        path: path.display().to_string(),
        source,
    }
}

fn valid_hex(d: &str) -> bool {
    d.len() == 64
        && d.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl DiskCache {
    pub(crate) fn open(root: PathBuf) -> Result<DiskCache> {
        for sub in ["archives/sha256", "indexes", "by-url"] {
            let d = root.join(sub);
            std::fs::create_dir_all(&d).map_err(io(&d))?;
        }
        Ok(DiskCache { root })
    }

    fn write_atomic(&self, path: &Path, data: &[u8]) -> Result<()> {
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
        tmp.write_all(data).map_err(io(path))?;
        tmp.as_file().sync_data().map_err(io(path))?;
        tmp.persist(path).map_err(|e| Error::Cache {
            path: path.display().to_string(),
            source: e.error,
        })?;
        Ok(())
    }

    fn archive_path(&self, digest: &str) -> PathBuf {
        self.root
            .join("archives/sha256")
            .join(format!("{digest}.tgz"))
    }

    /// The cached archive with this sha256, if present and intact.
    pub(crate) fn archive(&self, digest: &str) -> Option<Vec<u8>> {
        if !valid_hex(digest) {
            return None;
        }
        let path = self.archive_path(digest);
        let data = std::fs::read(&path).ok()?;
        if sha256_hex(&data) == digest {
            Some(data)
        } else {
            // Damaged on disk: drop it so it is fetched (and verified) again.
            let _ = std::fs::remove_file(&path);
            None
        }
    }

    pub(crate) fn put_archive(&self, digest: &str, data: &[u8]) -> Result<()> {
        debug_assert_eq!(sha256_hex(data), digest);
        self.write_atomic(&self.archive_path(digest), data)
    }

    fn url_path(&self, url: &str) -> PathBuf {
        self.root.join("by-url").join(sha256_hex(url.as_bytes()))
    }

    /// The digest of the archive last downloaded from `url` (for indexes without digests).
    pub(crate) fn url_digest(&self, url: &str) -> Option<String> {
        let d = std::fs::read_to_string(self.url_path(url)).ok()?;
        let d = d.trim().to_owned();
        valid_hex(&d).then_some(d)
    }

    pub(crate) fn put_url_digest(&self, url: &str, digest: &str) -> Result<()> {
        self.write_atomic(&self.url_path(url), digest.as_bytes())
    }

    fn index_dir(&self, key: &str) -> PathBuf {
        self.root.join("indexes").join(key)
    }

    /// A cached index and its metadata; `None` when absent or unreadable.
    pub(crate) fn index(&self, key: &str) -> Option<(Index, IndexMeta)> {
        let dir = self.index_dir(key);
        let meta: IndexMeta =
            serde_json::from_slice(&std::fs::read(dir.join("meta.json")).ok()?).ok()?;
        let index: Index =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).ok()?).ok()?;
        Some((index, meta))
    }

    /// Stores the parsed index (entries first, then metadata: a reader never sees metadata
    /// for entries that are not there yet).
    pub(crate) fn put_index(&self, key: &str, index: &Index, meta: &IndexMeta) -> Result<()> {
        let dir = self.index_dir(key);
        let data = serde_json::to_vec(index).map_err(|e| Error::Cache {
            path: dir.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        self.write_atomic(&dir.join("index.json"), &data)?;
        self.put_index_meta(key, meta)
    }

    pub(crate) fn put_index_meta(&self, key: &str, meta: &IndexMeta) -> Result<()> {
        let dir = self.index_dir(key);
        let data = serde_json::to_vec(meta).map_err(|e| Error::Cache {
            path: dir.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        self.write_atomic(&dir.join("meta.json"), &data)
    }
}

/// A readable, unique directory name for a URL: `host-path-<16 hex>`.
pub(crate) fn url_key(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let mut slug: String = rest
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug = slug.trim_matches(['-', '.']);
    let slug: String = slug.chars().take(60).collect();
    format!("{slug}-{}", &sha256_hex(url.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_are_verified_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let c = DiskCache::open(dir.path().to_path_buf()).unwrap();
        let d = sha256_hex(b"chart");
        c.put_archive(&d, b"chart").unwrap();
        assert_eq!(c.archive(&d).unwrap(), b"chart");
        std::fs::write(c.archive_path(&d), b"tampered").unwrap();
        assert!(c.archive(&d).is_none());
        assert!(!c.archive_path(&d).exists(), "a damaged archive is removed");
        assert!(c.archive("../../etc/passwd").is_none());
    }

    #[test]
    fn url_keys_are_readable_and_distinct() {
        let a = url_key("https://charts.example.com/stable/index.yaml");
        assert!(
            a.starts_with("charts.example.com-stable-index.yaml-"),
            "{a}"
        );
        assert_ne!(a, url_key("https://charts.example.com/stable/index.yaml?x"));
    }
}
