//! The mirror cache: one bare mirror per repository in the data directory.

use std::{
    collections::HashMap,
    fs,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tracing::{debug, info, warn};

use crate::{
    ChartLimits, Error, GitAuth, RepoUrl, Resolve, Result, SystemResolver, UrlPolicy, Versions,
    net, repository::Repository,
};

/// The source of the current time, injectable so tests can move time without sleeping.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Counters of the work a [`MirrorCache`] did since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Fetch attempts made against remotes (a retried fetch counts once per attempt).
    pub fetches: u64,
    /// Ref listing (ls-remote) attempts made against remotes.
    pub ls_remotes: u64,
    /// Mirrors created (first use of a repository, or after a rebuild).
    pub mirrors_created: u64,
    /// Mirrors found damaged and rebuilt.
    pub rebuilds: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) fetches: AtomicU64,
    pub(crate) ls_remotes: AtomicU64,
    pub(crate) mirrors_created: AtomicU64,
    pub(crate) rebuilds: AtomicU64,
}

pub(crate) struct Config {
    pub(crate) data_dir: PathBuf,
    pub(crate) policy: UrlPolicy,
    pub(crate) branch_ttl: Duration,
    pub(crate) network_deadline: Duration,
    pub(crate) retry_min_delay: Duration,
    pub(crate) limits: ChartLimits,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) resolver: Arc<dyn Resolve>,
}

/// Builds a [`MirrorCache`].
///
/// ```no_run
/// use std::time::Duration;
/// use chart_source::{MirrorCache, UrlPolicy};
/// let cache = MirrorCache::builder("/var/lib/chartimpact")
///     .policy(UrlPolicy { allowed_hosts: vec!["github.com".into(), "gitlab.com".into()], ..UrlPolicy::default() })
///     .branch_ttl(Duration::from_secs(120))
///     .build()?;
/// # Ok::<(), chart_source::Error>(())
/// ```
pub struct MirrorCacheBuilder {
    config: Config,
}

impl MirrorCacheBuilder {
    /// The URL policy (default: [`UrlPolicy::default`], https to github.com only).
    pub fn policy(&mut self, policy: UrlPolicy) -> &mut Self {
        self.config.policy = policy;
        self
    }

    /// How long a fetched branch (or `HEAD`, or pull request ref) is used before it is fetched
    /// again (default 60 s). Tags and commit ids are never re-fetched once present.
    pub fn branch_ttl(&mut self, ttl: Duration) -> &mut Self {
        self.config.branch_ttl = ttl;
        self
    }

    /// The time budget for one network operation including retries with backoff (default 60 s).
    pub fn network_deadline(&mut self, deadline: Duration) -> &mut Self {
        self.config.network_deadline = deadline;
        self
    }

    /// The first backoff delay between retries (default 250 ms; doubles up to 5 s).
    pub fn retry_min_delay(&mut self, delay: Duration) -> &mut Self {
        self.config.retry_min_delay = delay;
        self
    }

    /// Limits for reading charts and files.
    pub fn limits(&mut self, limits: ChartLimits) -> &mut Self {
        self.config.limits = limits;
        self
    }

    /// The clock used for branch freshness (default [`SystemClock`]).
    pub fn clock(&mut self, clock: Arc<dyn Clock>) -> &mut Self {
        self.config.clock = clock;
        self
    }

    /// The host resolver used by the URL policy (default [`SystemResolver`]).
    pub fn resolver(&mut self, resolver: Arc<dyn Resolve>) -> &mut Self {
        self.config.resolver = resolver;
        self
    }

    /// Creates the directories and returns the cache. Existing mirrors are reused.
    pub fn build(&mut self) -> Result<MirrorCache> {
        let config = Config {
            data_dir: self.config.data_dir.clone(),
            policy: self.config.policy.clone(),
            branch_ttl: self.config.branch_ttl,
            network_deadline: self.config.network_deadline,
            retry_min_delay: self.config.retry_min_delay,
            limits: self.config.limits.clone(),
            clock: self.config.clock.clone(),
            resolver: self.config.resolver.clone(),
        };
        let mirrors = config.data_dir.join("mirrors");
        fs::create_dir_all(&mirrors).map_err(|e| Error::io(&mirrors, e))?;
        Ok(MirrorCache {
            inner: Arc::new(Inner {
                mirrors_dir: mirrors,
                config,
                entries: Mutex::new(HashMap::new()),
                counters: Counters::default(),
                scratch: OnceLock::new(),
            }),
        })
    }
}

/// A cache of bare git mirrors, one per repository, in a data directory.
///
/// Cloning the cache is cheap and shares its state; it is `Send + Sync`. All methods block
/// (git over https is blocking in gix): call them from `spawn_blocking` in async code.
///
/// - A mirror lives in `<data-dir>/mirrors/<slug>-<sha256 prefix>` (see [`RepoUrl::cache_key`])
///   and survives restarts. Each credential identity ([`GitAuth::identity`]) has a mirror of
///   its own (the key gets a digest of the identity): what one identity fetched is never
///   served to another or to anonymous callers, and credentials never live in a mirror (they
///   are sent per request, never written into its config).
/// - Requests for one repository are serialized by an in-process mutex and a lock file, so
///   concurrent requests share one fetch and two processes never write one mirror at once;
///   different repositories proceed in parallel.
/// - A mirror without its ready marker, one gix cannot open, with a truncated pack or with
///   refs pointing at missing objects is rebuilt.
#[derive(Clone)]
pub struct MirrorCache {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    mirrors_dir: PathBuf,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
    pub(crate) counters: Counters,
    scratch: OnceLock<gix::ThreadSafeRepository>,
}

/// One repository's mirror.
pub(crate) struct Entry {
    pub(crate) url: RepoUrl,
    pub(crate) dir: PathBuf,
    lock_path: PathBuf,
    pub(crate) state: Mutex<EntryState>,
}

#[derive(Default)]
pub(crate) struct EntryState {
    pub(crate) repo: Option<gix::ThreadSafeRepository>,
    /// When each local ref was last fetched.
    pub(crate) fetched: HashMap<String, SystemTime>,
}

const READY_MARKER: &str = "chartimpact-ready";
const FETCHED_FILE: &str = "chartimpact-fetched";
/// Its modification time is the mirror's last use (for [`MirrorCache::evict_to`]).
const USED_FILE: &str = "chartimpact-used";

/// What [`MirrorCache::evict_to`] found and removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Eviction {
    /// Bytes the mirrors take after eviction.
    pub bytes: u64,
    /// Mirrors removed.
    pub evicted: u64,
    /// Bytes removed.
    pub evicted_bytes: u64,
    /// Mirrors over the limit that were in use and kept.
    pub in_use: u64,
}

impl MirrorCache {
    /// A builder for a cache in `data_dir`.
    pub fn builder(data_dir: impl Into<PathBuf>) -> MirrorCacheBuilder {
        MirrorCacheBuilder {
            config: Config {
                data_dir: data_dir.into(),
                policy: UrlPolicy::default(),
                branch_ttl: Duration::from_secs(60),
                network_deadline: Duration::from_secs(60),
                retry_min_delay: Duration::from_millis(250),
                limits: ChartLimits::default(),
                clock: Arc::new(SystemClock),
                resolver: Arc::new(SystemResolver),
            },
        }
    }

    /// The policy-checked, normalized form of `url`.
    pub fn check_url(&self, url: &str) -> Result<RepoUrl> {
        self.inner
            .config
            .policy
            .check_with(url, &*self.inner.config.resolver)
    }

    /// Opens (creating if needed) the anonymous mirror of `url` and returns a handle to it
    /// (credentials in the URL itself are used, with a mirror of their own).
    ///
    /// This checks the URL against the policy and the mirror's integrity, but does not touch
    /// the network: fetches happen when a revision is missing or stale.
    pub fn repository(&self, url: &str) -> Result<Repository> {
        self.repository_with(url, &GitAuth::Anonymous)
    }

    /// Opens (creating if needed) the mirror of `url` for the identity of `auth`, whose
    /// fetches authenticate with it. Credentials in the URL take precedence over `auth`.
    pub fn repository_with(&self, url: &str, auth: &GitAuth) -> Result<Repository> {
        let url = self.check_url(url)?;
        let auth = effective_auth(&url, auth);
        let entry = self.entry(url, &auth);
        {
            let mut state = entry.state.lock().unwrap_or_else(|p| p.into_inner());
            self.inner.ensure_open(&entry, &mut state)?;
        }
        mark_used(&entry.dir);
        Ok(Repository {
            cache: self.inner.clone(),
            entry,
            interrupt: Default::default(),
            auth,
        })
    }

    /// Tags and branches of `url` with the commit each points at, listed from the remote
    /// without cloning (ls-remote). Tags are sorted by semantic version where they parse.
    pub fn versions(&self, url: &str) -> Result<Versions> {
        self.versions_with(url, &GitAuth::Anonymous)
    }

    /// [`MirrorCache::versions`], authenticating as `auth`.
    pub fn versions_with(&self, url: &str, auth: &GitAuth) -> Result<Versions> {
        let url = self.check_url(url)?;
        let auth = effective_auth(&url, auth);
        let scratch = self.inner.scratch()?;
        let refs = net::ls_remote(&self.inner, &scratch.to_thread_local(), &url, &auth)?;
        Ok(Versions::from_remote_refs(&refs))
    }

    /// What the cache did so far.
    pub fn stats(&self) -> CacheStats {
        let c = &self.inner.counters;
        CacheStats {
            fetches: c.fetches.load(Ordering::Relaxed),
            ls_remotes: c.ls_remotes.load(Ordering::Relaxed),
            mirrors_created: c.mirrors_created.load(Ordering::Relaxed),
            rebuilds: c.rebuilds.load(Ordering::Relaxed),
        }
    }

    /// The anonymous mirror directory used for `url` (it may not exist yet).
    pub fn mirror_dir(&self, url: &str) -> Result<PathBuf> {
        self.mirror_dir_with(url, &GitAuth::Anonymous)
    }

    /// Bytes the mirrors take on disk now.
    pub fn disk_usage(&self) -> u64 {
        self.mirror_dirs().iter().map(|m| m.bytes).sum()
    }

    /// Removes the least recently used mirrors until all of them take at most `max_bytes`.
    ///
    /// A mirror in use is never removed: one a [`Repository`] handle of this cache holds, or
    /// whose lock another process (or a fetch in this one) holds. A removed mirror is simply
    /// cloned again on its next use. Mirrors are renamed out of the way under their lock and
    /// deleted after, so no reader ever sees half of one.
    pub fn evict_to(&self, max_bytes: u64) -> Eviction {
        let mut mirrors = self.mirror_dirs();
        let mut out = Eviction {
            bytes: mirrors.iter().map(|m| m.bytes).sum(),
            ..Eviction::default()
        };
        if out.bytes <= max_bytes {
            return out;
        }
        mirrors.sort_by_key(|m| m.used);
        for m in mirrors {
            if out.bytes <= max_bytes {
                break;
            }
            if m.key.starts_with('.') {
                // A mirror being made (`.tmp-…`): counted, never removed.
                continue;
            }
            match self.take_unused(&m.key) {
                Some(doomed) => {
                    remove_dir(&doomed).unwrap_or_else(|e| {
                        warn!(dir = %doomed.display(), error = %e, "could not remove an evicted mirror");
                    });
                    out.bytes = out.bytes.saturating_sub(m.bytes);
                    out.evicted += 1;
                    out.evicted_bytes += m.bytes;
                    info!(mirror = %m.key, bytes = m.bytes, "mirror evicted (least recently used; the mirror cache is over its size limit)");
                }
                None => out.in_use += 1,
            }
        }
        out
    }

    /// Moves the mirror `key` aside when nobody uses it; the path to delete.
    fn take_unused(&self, key: &str) -> Option<PathBuf> {
        // Holding the map lock, no handle to this entry can be made meanwhile.
        let mut entries = self.inner.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.get(key).is_some_and(|e| Arc::strong_count(e) > 1) {
            return None;
        }
        let lock_path = self.inner.mirrors_dir.join(format!("{key}.lock"));
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .ok()?;
        // Busy elsewhere (another process, a fetch here): keep it.
        lock.try_lock().ok()?;
        let dir = self.inner.mirrors_dir.join(key);
        let doomed = self
            .inner
            .mirrors_dir
            .join(format!(".evicted-{}-{key}", std::process::id()));
        let _ = remove_dir(&doomed);
        let moved = fs::rename(&dir, &doomed).is_ok();
        if moved {
            entries.remove(key);
        }
        drop(lock);
        moved.then_some(doomed)
    }

    /// Every mirror directory with its size and last use, mirrors being made included (their
    /// bytes count). Evicted ones a crash left behind are removed.
    fn mirror_dirs(&self) -> Vec<MirrorDir> {
        let Ok(read) = fs::read_dir(&self.inner.mirrors_dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in read.flatten() {
            let path = item.path();
            if !path.is_dir() {
                continue;
            }
            let key = item.file_name().to_string_lossy().into_owned();
            let bytes = dir_size(&path);
            if key.starts_with(".evicted-") {
                // Left by a crash mid-delete.
                let _ = remove_dir(&path);
                continue;
            }
            let used = [USED_FILE, READY_MARKER]
                .iter()
                .find_map(|f| fs::metadata(path.join(f)).and_then(|m| m.modified()).ok())
                .unwrap_or(UNIX_EPOCH);
            out.push(MirrorDir { key, bytes, used });
        }
        out
    }

    /// The mirror directory used for `url` by the identity of `auth`.
    pub fn mirror_dir_with(&self, url: &str, auth: &GitAuth) -> Result<PathBuf> {
        let url = self.check_url(url)?;
        let auth = effective_auth(&url, auth);
        Ok(self.inner.mirrors_dir.join(mirror_key(&url, &auth)))
    }

    fn entry(&self, url: RepoUrl, auth: &GitAuth) -> Arc<Entry> {
        let key = mirror_key(&url, auth);
        let mut entries = self.inner.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(Entry {
                    dir: self.inner.mirrors_dir.join(&key),
                    lock_path: self.inner.mirrors_dir.join(format!("{key}.lock")),
                    url,
                    state: Mutex::new(EntryState::default()),
                })
            })
            .clone()
    }
}

/// The credentials a handle of `url` uses: the URL's own, else `auth`.
fn effective_auth(url: &RepoUrl, auth: &GitAuth) -> GitAuth {
    match url.credentials() {
        Some(c) => GitAuth::fixed(c.clone()),
        None => auth.clone(),
    }
}

/// The mirror's directory name: the URL's cache key, and for credentials a digest of their
/// identity (so identities never share objects or refs).
fn mirror_key(url: &RepoUrl, auth: &GitAuth) -> String {
    match auth.identity() {
        None => url.cache_key(),
        Some(identity) => {
            let digest = ring::digest::digest(&ring::digest::SHA256, identity.as_bytes());
            let hex: String = digest.as_ref()[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("{}-auth-{hex}", url.cache_key())
        }
    }
}

impl std::fmt::Debug for MirrorCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorCache")
            .field("data_dir", &self.inner.config.data_dir)
            .field("policy", &self.inner.config.policy)
            .field("branch_ttl", &self.inner.config.branch_ttl)
            .finish_non_exhaustive()
    }
}

/// An exclusive lock on a mirror across processes, released on drop.
pub(crate) struct ProcessLock(fs::File);

impl Drop for ProcessLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Inner {
    pub(crate) fn now(&self) -> SystemTime {
        self.config.clock.now()
    }

    pub(crate) fn lock_process(&self, entry: &Entry) -> Result<ProcessLock> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&entry.lock_path)
            .map_err(|e| Error::io(&entry.lock_path, e))?;
        file.lock().map_err(|e| Error::io(&entry.lock_path, e))?;
        // With this lock held nobody else writes the mirror, so a git lock file in it
        // (`shallow.lock`, `packed-refs.lock`, a ref's) was left by a process killed while
        // fetching; left there, every later fetch of the mirror would fail.
        remove_stale_git_locks(&entry.dir);
        Ok(ProcessLock(file))
    }

    fn scratch(&self) -> Result<&gix::ThreadSafeRepository> {
        if let Some(repo) = self.scratch.get() {
            return Ok(repo);
        }
        let dir = self.config.data_dir.join("scratch.git");
        let repo = match gix::open_opts(&dir, gix::open::Options::isolated()) {
            Ok(repo) => repo.into_sync(),
            Err(_) => {
                static SEQ: AtomicU64 = AtomicU64::new(0);
                let tmp = self.mirrors_dir.join(format!(
                    ".scratch-{}-{}",
                    std::process::id(),
                    SEQ.fetch_add(1, Ordering::Relaxed)
                ));
                let _ = fs::remove_dir_all(&tmp);
                let repo = init_bare(&tmp)?;
                drop(repo);
                match fs::rename(&tmp, &dir) {
                    Ok(()) => {}
                    Err(_) if dir.exists() => {
                        let _ = fs::remove_dir_all(&tmp);
                    }
                    Err(e) => return Err(Error::io(&dir, e)),
                }
                gix::open_opts(&dir, gix::open::Options::isolated())
                    .map_err(|e| Error::git("open scratch repository", &e))?
                    .into_sync()
            }
        };
        Ok(self.scratch.get_or_init(|| repo))
    }

    /// Makes sure `state.repo` holds an open, valid mirror (validating once per process).
    pub(crate) fn ensure_open(&self, entry: &Entry, state: &mut EntryState) -> Result<()> {
        if state.repo.is_some() {
            return Ok(());
        }
        let _lock = self.lock_process(entry)?;
        match validate(&entry.dir) {
            Ok(repo) => {
                debug!(repo = %entry.url, dir = %entry.dir.display(), "mirror opened");
                state.repo = Some(repo);
                state.fetched = read_fetched(&entry.dir);
                return Ok(());
            }
            Err(Invalid::Missing) => {}
            Err(Invalid::Corrupt(reason)) => {
                warn!(repo = %entry.url, dir = %entry.dir.display(), %reason, "mirror is damaged; rebuilding");
                self.counters.rebuilds.fetch_add(1, Ordering::Relaxed);
                remove_dir(&entry.dir)?;
            }
        }
        self.create_mirror(entry)?;
        state.repo = Some(
            gix::open_opts(&entry.dir, gix::open::Options::isolated())
                .map_err(|e| Error::git("open mirror", &e))?
                .into_sync(),
        );
        state.fetched.clear();
        Ok(())
    }

    /// Drops the mirror after damage was found while reading it; the next use rebuilds it.
    pub(crate) fn discard(
        &self,
        entry: &Entry,
        state: &mut EntryState,
        reason: &str,
    ) -> Result<()> {
        warn!(repo = %entry.url, dir = %entry.dir.display(), reason, "mirror is damaged; rebuilding");
        self.counters.rebuilds.fetch_add(1, Ordering::Relaxed);
        let _lock = self.lock_process(entry)?;
        state.repo = None;
        state.fetched.clear();
        remove_dir(&entry.dir)
    }

    fn create_mirror(&self, entry: &Entry) -> Result<()> {
        let tmp = self.mirrors_dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            entry
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        remove_dir(&tmp)?;
        init_bare(&tmp)?;
        if entry.url.reads_in_place() {
            borrow_local_objects(&tmp, Path::new(entry.url.fetch_url()));
        }
        let marker = tmp.join(READY_MARKER);
        fs::write(&marker, format!("{}\n", entry.url.normalized()))
            .map_err(|e| Error::io(&marker, e))?;
        fs::rename(&tmp, &entry.dir).map_err(|e| Error::io(&entry.dir, e))?;
        self.counters
            .mirrors_created
            .fetch_add(1, Ordering::Relaxed);
        info!(repo = %entry.url, dir = %entry.dir.display(), "mirror created");
        Ok(())
    }

    pub(crate) fn is_fresh(&self, state: &EntryState, local_ref: &str) -> bool {
        state.fetched.get(local_ref).is_some_and(|at| {
            self.now()
                .duration_since(*at)
                .map(|age| age < self.config.branch_ttl)
                .unwrap_or(true)
        })
    }

    /// Reloads fetch times written by other processes (call with the process lock held).
    pub(crate) fn reload_fetched(&self, entry: &Entry, state: &mut EntryState) {
        for (name, at) in read_fetched(&entry.dir) {
            let slot = state.fetched.entry(name).or_insert(at);
            if *slot < at {
                *slot = at;
            }
        }
    }

    pub(crate) fn record_fetched(&self, entry: &Entry, state: &mut EntryState, refs: &[String]) {
        let now = self.now();
        // Only refs that can move need a fetch time; tags and commit pins never expire.
        for r in refs
            .iter()
            .filter(|r| crate::revision::kind_of_ref(r).is_mutable())
        {
            if !r.starts_with("refs/chartimpact/commits/") {
                state.fetched.insert(r.clone(), now);
            }
        }
        if let Err(e) = write_fetched(&entry.dir, &state.fetched) {
            warn!(repo = %entry.url, error = %e, "could not record fetch times");
        }
    }
}

struct MirrorDir {
    key: String,
    bytes: u64,
    used: SystemTime,
}

/// Removes `*.lock` files at the top of a bare repository and under its `refs/`.
fn remove_stale_git_locks(dir: &Path) {
    fn walk(dir: &Path, deep: bool) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if deep || e.file_name() == "refs" {
                    walk(&p, true);
                }
            } else if p.extension().is_some_and(|x| x == "lock") {
                warn!(file = %p.display(), "removing a git lock file a killed process left in a mirror");
                let _ = fs::remove_file(&p);
            }
        }
    }
    walk(dir, false);
}

/// Records that the mirror in `dir` was used now.
fn mark_used(dir: &Path) {
    let path = dir.join(USED_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path);
    if let Ok(f) = file {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Bytes of the files under `dir` (not following symbolic links).
fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(read) = fs::read_dir(&d) else {
            continue;
        };
        for item in read.flatten() {
            let Ok(meta) = item.metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(item.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// Lets the mirror of a repository on this machine read the repository's own objects (git's
/// alternates, as `git clone --shared` does) instead of copying them: a fetch then finds every
/// object it wants already present and moves only refs, and the mirror keeps a few KB however
/// large the repository is. The repository is only read, never written. Best effort: a path
/// that is not a repository is left to the fetch, which says so. If objects disappear from the
/// repository later (`git gc --prune` of deleted branches), reading the mirror fails and it is
/// rebuilt like any damaged mirror.
fn borrow_local_objects(mirror: &Path, source: &Path) {
    let objects = gix::open_opts(source, gix::open::Options::isolated())
        .ok()
        .map(|repo| repo.common_dir().join("objects"))
        .and_then(|dir| dir.canonicalize().ok())
        .filter(|dir| dir.is_dir());
    let Some(objects) = objects else {
        return;
    };
    let alternates = mirror.join("objects").join("info").join("alternates");
    let written = fs::create_dir_all(mirror.join("objects").join("info"))
        .and_then(|()| fs::write(&alternates, format!("{}\n", objects.display())));
    if let Err(e) = written {
        debug!(path = %alternates.display(), error = %e, "mirror copies the local repository's objects instead");
    }
}

fn init_bare(dir: &Path) -> Result<gix::ThreadSafeRepository> {
    let repo = gix::ThreadSafeRepository::init_opts(
        dir,
        gix::create::Kind::Bare,
        gix::create::Options::default(),
        gix::open::Options::isolated(),
    )
    .map_err(|e| Error::git("initialize mirror", &e))?;
    // Never follow http redirects: a redirect could lead to an address the policy refuses.
    let config = dir.join("config");
    let mut text = fs::read_to_string(&config).map_err(|e| Error::io(&config, e))?;
    // Give up on stalled transfers (under 1 KiB/s for a minute) and slow connects.
    text.push_str(concat!(
        "[http]\n\tfollowRedirects = false\n\tlowSpeedLimit = 1024\n\tlowSpeedTime = 60\n",
        "[gitoxide \"http\"]\n\tconnectTimeout = 15000\n",
        "[gc]\n\tauto = 0\n",
    ));
    fs::write(&config, text).map_err(|e| Error::io(&config, e))?;
    Ok(repo)
}

fn remove_dir(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dir, e)),
    }
}

enum Invalid {
    Missing,
    Corrupt(String),
}

/// Opens a mirror and checks it: ready marker, gix can open it, every pack is complete (its
/// trailing checksum equals the one its index records), every ref points at an existing object.
fn validate(dir: &Path) -> Result<gix::ThreadSafeRepository, Invalid> {
    if !dir.exists() {
        return Err(Invalid::Missing);
    }
    if !dir.join(READY_MARKER).is_file() {
        return Err(Invalid::Corrupt(
            "the ready marker is missing (half-written mirror)".into(),
        ));
    }
    let repo = gix::open_opts(dir, gix::open::Options::isolated())
        .map_err(|e| Invalid::Corrupt(format!("cannot open: {e}")))?;
    if !repo.is_bare() {
        return Err(Invalid::Corrupt("not a bare repository".into()));
    }
    check_packs(&dir.join("objects").join("pack")).map_err(Invalid::Corrupt)?;
    let refs = repo
        .references()
        .map_err(|e| Invalid::Corrupt(format!("cannot read refs: {e}")))?;
    let all = refs
        .all()
        .map_err(|e| Invalid::Corrupt(format!("cannot read refs: {e}")))?;
    for r in all {
        let r = r.map_err(|e| Invalid::Corrupt(format!("cannot read a ref: {e}")))?;
        if let Some(id) = r.target().try_id()
            && !repo.has_object(id)
        {
            return Err(Invalid::Corrupt(format!(
                "ref {} points at missing object {id}",
                r.name().as_bstr()
            )));
        }
    }
    Ok(repo.into_sync())
}

fn check_packs(pack_dir: &Path) -> Result<(), String> {
    let Ok(read) = fs::read_dir(pack_dir) else {
        return Ok(());
    };
    for item in read.flatten() {
        let idx = item.path();
        if idx.extension().is_none_or(|e| e != "idx") {
            continue;
        }
        let pack = idx.with_extension("pack");
        let name = pack
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let idx_bytes =
            fs::read(&idx).map_err(|e| format!("cannot read {}: {e}", idx.display()))?;
        if idx_bytes.len() < 40 {
            return Err(format!("index of {name} is truncated"));
        }
        let expected = &idx_bytes[idx_bytes.len() - 40..idx_bytes.len() - 20];
        let mut file = fs::File::open(&pack).map_err(|_| format!("pack {name} is missing"))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len < 32 {
            return Err(format!("pack {name} is truncated"));
        }
        let mut trailer = [0u8; 20];
        file.seek(SeekFrom::End(-20))
            .and_then(|_| file.read_exact(&mut trailer))
            .map_err(|e| format!("cannot read pack {name}: {e}"))?;
        if trailer != expected {
            return Err(format!(
                "pack {name} is truncated or damaged (checksum mismatch)"
            ));
        }
    }
    Ok(())
}

fn read_fetched(dir: &Path) -> HashMap<String, SystemTime> {
    let Ok(text) = fs::read_to_string(dir.join(FETCHED_FILE)) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let (secs, name) = line.split_once(' ')?;
            let millis: u64 = secs.parse().ok()?;
            Some((name.to_owned(), UNIX_EPOCH + Duration::from_millis(millis)))
        })
        .collect()
}

fn write_fetched(dir: &Path, fetched: &HashMap<String, SystemTime>) -> std::io::Result<()> {
    let mut lines: Vec<String> = fetched
        .iter()
        .map(|(name, at)| {
            let millis = at
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            format!("{millis} {name}")
        })
        .collect();
    lines.sort();
    let tmp = dir.join(format!("{FETCHED_FILE}.tmp-{}", std::process::id()));
    fs::write(&tmp, lines.join("\n") + "\n")?;
    fs::rename(tmp, dir.join(FETCHED_FILE))
}
