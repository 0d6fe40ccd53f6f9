//! Rendered manifests on disk, keyed by content, so a warm compare skips rendering.
//!
//! The key covers everything a render depends on: the chart's git tree id, every values input,
//! every render option and the renderer's name and version. Entries are written to a temporary
//! file and renamed, so a crash never leaves a half-written entry that a later run would read.
//!
//! A render holds what its values held, Secrets included (a password given in `valuesContent`
//! or `--set` is in clear in a rendered Secret). So an entry is sealed (ChaCha20-Poly1305)
//! under a key derived from the same inputs as its name but not recoverable from the name:
//! reading an entry takes the request that made it, and a copy of the directory (a backup, a
//! volume snapshot) shows nothing. Files are private to the server's user.
//!
//! The cache has a size limit ([`RenderCache::enforce`]): the least recently used entries
//! (a hit counts as a use) go first.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

/// First bytes of an entry: the format.
const MAGIC: &[u8] = b"chartimpact-render-v2\n";
/// Bytes of a nonce.
const NONCE_LEN: usize = 12;

/// The key an entry is sealed with: derive it from the render's inputs with
/// [`RenderCache::seal_key`].
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(***)")
    }
}

/// What a sweep of a disk cache found and removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Bytes the cache holds after the sweep.
    pub bytes: u64,
    /// Entries removed.
    pub evicted: u64,
    /// Bytes removed.
    pub evicted_bytes: u64,
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

    /// The sealing key of the render whose cache key was computed from `parts`: a different
    /// digest of the same inputs, so the file name does not give it away.
    pub fn seal_key(parts: &[&[u8]]) -> SealKey {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(b"chartimpact render cache seal v1\0");
        for p in parts {
            ctx.update(&(p.len() as u64).to_le_bytes());
            ctx.update(p);
        }
        let mut k = [0u8; 32];
        k.copy_from_slice(ctx.finish().as_ref());
        SealKey(k)
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.render"))
    }

    fn aead(seal: &SealKey) -> Option<LessSafeKey> {
        UnboundKey::new(&CHACHA20_POLY1305, &seal.0)
            .ok()
            .map(LessSafeKey::new)
    }

    /// The cached render: (renderer name, renderer version, manifest). A hit counts as a use
    /// for the size limit.
    pub fn get(&self, key: &str, seal: &SealKey) -> Option<(String, String, String)> {
        let path = self.path(key);
        let mut bytes = std::fs::read(&path).ok()?;
        // A corrupt, foreign or older entry is a miss, never an error.
        if !bytes.starts_with(MAGIC) || bytes.len() < MAGIC.len() + NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes[MAGIC.len()..].split_at_mut(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = Self::aead(seal)?
            .open_in_place(nonce, Aad::from(key.as_bytes()), sealed)
            .ok()?;
        let text = std::str::from_utf8(plain).ok()?;
        let (head, manifest) = text.split_once('\n')?;
        let (name, version) = head.split_once(' ')?;
        touch(&path);
        Some((name.to_owned(), version.to_owned(), manifest.to_owned()))
    }

    /// Stores a render; failures are logged and ignored (the cache is an optimisation).
    pub fn put(&self, key: &str, seal: &SealKey, renderer: &str, version: &str, manifest: &str) {
        let path = self.path(key);
        let write = || -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(&self.dir);
            private_dir(dir)?;
            let mut nonce = [0u8; NONCE_LEN];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
                .map_err(|_| std::io::Error::other("no random nonce"))?;
            let mut data = Vec::with_capacity(renderer.len() + version.len() + manifest.len() + 18);
            data.extend_from_slice(renderer.as_bytes());
            data.push(b' ');
            data.extend_from_slice(version.as_bytes());
            data.push(b'\n');
            data.extend_from_slice(manifest.as_bytes());
            Self::aead(seal)
                .ok_or_else(|| std::io::Error::other("bad seal key"))?
                .seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(key.as_bytes()),
                    &mut data,
                )
                .map_err(|_| std::io::Error::other("sealing failed"))?;
            // Created readable by this user only.
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            tmp.write_all(MAGIC)?;
            tmp.write_all(&nonce)?;
            tmp.write_all(&data)?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, "cannot write render cache entry");
        }
    }

    /// Bytes the cache holds now.
    pub fn size(&self) -> u64 {
        entries(&self.dir).iter().map(|e| e.1).sum()
    }

    /// Removes the least recently used entries until the cache holds at most `max_bytes`.
    pub fn enforce(&self, max_bytes: u64) -> Sweep {
        let mut all = entries(&self.dir);
        let mut sweep = Sweep {
            bytes: all.iter().map(|e| e.1).sum(),
            ..Sweep::default()
        };
        if sweep.bytes <= max_bytes {
            return sweep;
        }
        all.sort_by_key(|e| e.2);
        for (path, len, _) in all {
            if sweep.bytes <= max_bytes {
                break;
            }
            // A reader that has the file open keeps reading it; the next one misses.
            if std::fs::remove_file(&path).is_ok() {
                sweep.bytes -= len;
                sweep.evicted += 1;
                sweep.evicted_bytes += len;
            }
        }
        if sweep.evicted > 0 {
            tracing::info!(
                evicted = sweep.evicted,
                evicted_bytes = sweep.evicted_bytes,
                bytes = sweep.bytes,
                "render cache over its size limit: least recently used entries removed"
            );
        }
        sweep
    }
}

/// Every entry (and left-over temporary file) with its size and last use.
fn entries(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(dir) else {
        return out;
    };
    for shard in shards.flatten() {
        let Ok(files) = std::fs::read_dir(shard.path()) else {
            continue;
        };
        for f in files.flatten() {
            if let Ok(m) = f.metadata()
                && m.is_file()
            {
                out.push((
                    f.path(),
                    m.len(),
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                ));
            }
        }
    }
    out
}

/// Marks an entry used now (its modification time is its last use).
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Creates `dir` (and its parents) readable by this user only.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(s: &str) -> SealKey {
        RenderCache::seal_key(&[s.as_bytes()])
    }

    #[test]
    fn round_trips_and_treats_junk_as_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let c = RenderCache::new(dir.path().to_path_buf());
        let key = "ab".repeat(32);
        let k = seal("inputs");
        assert!(c.get(&key, &k).is_none());
        c.put(&key, &k, "native", "0.1.0", "---\na: 1\n");
        assert_eq!(
            c.get(&key, &k),
            Some(("native".into(), "0.1.0".into(), "---\na: 1\n".into()))
        );
        std::fs::write(c.path(&key), "garbage").unwrap();
        assert!(c.get(&key, &k).is_none());
    }

    #[test]
    fn entries_are_sealed_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let c = RenderCache::new(dir.path().to_path_buf());
        let key = "cd".repeat(32);
        let k = seal("inputs");
        c.put(
            &key,
            &k,
            "native",
            "0.1.0",
            "kind: Secret\nstringData:\n  password: hunter2\n",
        );
        let raw = std::fs::read(c.path(&key)).unwrap();
        assert!(!raw.windows(7).any(|w| w == b"hunter2"), "stored in clear");
        // Another request's key (another seal) cannot open it, even under the same name.
        assert!(c.get(&key, &seal("other inputs")).is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&c.path(&key)), 0o600);
            assert_eq!(mode(c.path(&key).parent().unwrap()), 0o700);
        }
    }

    #[test]
    fn the_least_recently_used_entries_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let c = RenderCache::new(dir.path().to_path_buf());
        let k = seal("x");
        let manifest = "x".repeat(1000);
        let keys: Vec<String> = ["aa", "bb", "cc"].iter().map(|p| p.repeat(32)).collect();
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        for (i, key) in keys.iter().enumerate() {
            c.put(key, &k, "native", "1", &manifest);
            let f = std::fs::File::options()
                .write(true)
                .open(c.path(key))
                .unwrap();
            f.set_modified(old + std::time::Duration::from_secs(i as u64 * 60))
                .unwrap();
        }
        // A hit makes the oldest the newest.
        assert!(c.get(&keys[0], &k).is_some());
        let each = std::fs::metadata(c.path(&keys[0])).unwrap().len();
        let sweep = c.enforce(each * 2);
        assert_eq!(sweep.evicted, 1);
        assert_eq!(sweep.bytes, each * 2);
        assert!(
            c.get(&keys[1], &k).is_none(),
            "the least recently used went"
        );
        assert!(c.get(&keys[0], &k).is_some() && c.get(&keys[2], &k).is_some());
        assert_eq!(c.enforce(u64::MAX).evicted, 0);
        assert_eq!(c.size(), each * 2);
    }
}
