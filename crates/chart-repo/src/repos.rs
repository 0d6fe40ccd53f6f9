//! [`ChartRepos`]: the client. Repository references, Helm repository indexes (TTL, ETag and
//! Last-Modified revalidation, one parse per process), archive downloads verified and cached by
//! digest, and the dispatch to OCI registries.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chart_source::UrlPolicy;
use helm_render::{ChartFiles, FileLimits};
use reqwest::Url;
use text_template::semver::Version;
use tracing::debug;

use crate::cache::{DiskCache, IndexMeta, sha256_hex, url_key};
use crate::credentials::Credentials;
use crate::http::{Call, Counters, Http, HttpConfig, Request, bump};
use crate::index::{self, ChartVersion, Index, NoMatch};
use crate::mirror::{self, Mirror};
use crate::oci::Oci;
use crate::policy::{redact, redact_str};
use crate::{Error, Result};

/// Size and depth limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest repository index (bytes; the bitnami index is tens of MB).
    pub max_index_bytes: u64,
    /// Largest chart archive (compressed bytes).
    pub max_archive_bytes: u64,
    /// Largest OCI manifest or tag list page.
    pub max_manifest_bytes: u64,
    /// Bounds on an archive's contents once unpacked.
    pub chart_files: FileLimits,
    /// How deep dependencies of fetched dependencies are followed.
    pub max_dependency_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_index_bytes: 128 << 20,
            max_archive_bytes: 32 << 20,
            max_manifest_bytes: 4 << 20,
            chart_files: FileLimits::default(),
            max_dependency_depth: 8,
        }
    }
}

/// Counts since the client was built (for tests, logs and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// HTTP requests sent (retries and redirects' first hops included).
    pub requests: u64,
    /// Indexes downloaded in full.
    pub index_downloads: u64,
    /// Index revalidations answered `304 Not Modified`.
    pub index_not_modified: u64,
    /// Indexes served from memory.
    pub index_memory_hits: u64,
    /// Chart archives downloaded.
    pub archive_downloads: u64,
    /// Chart archives served from the cache.
    pub archive_cache_hits: u64,
}

/// A chart archive: the `.tgz` bytes and their sha256.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChartArchive {
    /// The chart's name (from its `Chart.yaml`).
    pub name: String,
    /// Its version (from its `Chart.yaml`).
    pub version: String,
    /// sha256 of `bytes`, hex.
    pub digest: String,
    /// The packaged chart.
    pub bytes: Arc<Vec<u8>>,
    /// Where it was (or would have been) downloaded from, redacted (a mirror, when one applies).
    pub url: String,
    /// Whether it came from the cache.
    pub cached: bool,
}

impl ChartArchive {
    /// The archive's files, as Helm reads a packaged chart.
    pub fn files(&self) -> Result<ChartFiles> {
        ChartFiles::from_tgz(&self.bytes, FileLimits::default()).map_err(|e| {
            Error::InvalidArchive {
                url: self.url.clone(),
                reason: e.to_string(),
            }
        })
    }
}

/// Builds a [`ChartRepos`].
#[derive(Debug, Clone)]
pub struct ChartReposBuilder {
    data_dir: PathBuf,
    policy: UrlPolicy,
    credentials: Credentials,
    mirrors: Vec<Mirror>,
    plain_http: bool,
    index_ttl: Duration,
    limits: Limits,
    request_timeout: Duration,
    connect_timeout: Duration,
    default_deadline: Duration,
    retry_min_delay: Duration,
}

impl ChartReposBuilder {
    /// The URL policy (chart-source's): `allowed_hosts` (`*` for any host), and
    /// `allow_private_addresses`, which also permits plain http. Default: any host, public
    /// addresses only, https only.
    pub fn policy(&mut self, policy: UrlPolicy) -> &mut Self {
        self.policy = policy;
        self
    }

    /// Credentials per host (see [`Credentials`]).
    pub fn credentials(&mut self, credentials: Credentials) -> &mut Self {
        self.credentials = credentials;
        self
    }

    /// Adds a mirror.
    pub fn mirror(&mut self, mirror: Mirror) -> &mut Self {
        self.mirrors.push(mirror);
        self
    }

    /// Talk to OCI registries over plain http (helm's `--plain-http`). The URL policy must
    /// allow http too.
    pub fn plain_http(&mut self, on: bool) -> &mut Self {
        self.plain_http = on;
        self
    }

    /// How long a downloaded index is used without asking the repository again (default 5
    /// minutes; then a conditional request revalidates it).
    pub fn index_ttl(&mut self, ttl: Duration) -> &mut Self {
        self.index_ttl = ttl;
        self
    }

    /// Size and depth limits.
    pub fn limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// Longest single request (default 60 s; a call's deadline shortens it).
    pub fn request_timeout(&mut self, t: Duration) -> &mut Self {
        self.request_timeout = t;
        self
    }

    /// How long retries of an unreachable repository go on when the call has no deadline
    /// (default 60 s).
    pub fn default_deadline(&mut self, d: Duration) -> &mut Self {
        self.default_deadline = d;
        self
    }

    /// First pause between retries (default 250 ms, doubling up to 5 s).
    pub fn retry_min_delay(&mut self, d: Duration) -> &mut Self {
        self.retry_min_delay = d;
        self
    }

    /// Builds the client and creates `<data-dir>/charts/`.
    pub fn build(&self) -> Result<ChartRepos> {
        let counters = Arc::new(Counters::default());
        let http = Http::new(
            self.policy.clone(),
            self.credentials.clone(),
            HttpConfig {
                request_timeout: self.request_timeout,
                connect_timeout: self.connect_timeout,
                default_deadline: self.default_deadline,
                retry_min_delay: self.retry_min_delay,
                user_agent: format!("chartimpact/{}", env!("CARGO_PKG_VERSION")),
            },
            counters.clone(),
        )?;
        let cache = DiskCache::open(self.data_dir.join("charts"))?;
        Ok(ChartRepos {
            inner: Arc::new(Inner {
                oci: Oci::new(self.plain_http),
                http,
                cache,
                mirrors: self.mirrors.clone(),
                index_ttl: self.index_ttl,
                limits: self.limits,
                indexes: Mutex::new(HashMap::new()),
                flights: Mutex::new(HashSet::new()),
                flight_done: Condvar::new(),
                counters,
            }),
        })
    }
}

/// The client for Helm chart repositories and OCI registries. Cheap to clone; share one per
/// process (its index memory and per-archive locks are shared by clones). Every method blocks.
#[derive(Clone)]
pub struct ChartRepos {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for ChartRepos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChartRepos")
            .field("mirrors", &self.inner.mirrors)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) http: Http,
    pub(crate) oci: Oci,
    pub(crate) cache: DiskCache,
    pub(crate) mirrors: Vec<Mirror>,
    index_ttl: Duration,
    pub(crate) limits: Limits,
    /// Parsed indexes by index URL, with when they were last known fresh.
    indexes: Mutex<HashMap<String, (Arc<Index>, Instant)>>,
    /// One download at a time per index or archive: concurrent callers wait and then find it
    /// cached, so nothing is downloaded twice.
    flights: Mutex<HashSet<String>>,
    flight_done: Condvar,
    pub(crate) counters: Arc<Counters>,
}

/// A repository reference after mirrors.
pub(crate) enum Repo {
    Helm {
        /// The base URL (no trailing slash).
        base: Url,
        /// For messages: the repository as the user named it, redacted.
        shown: String,
    },
    Oci {
        /// `host[:port]/path` (no scheme).
        location: String,
        shown: String,
    },
}

impl Repo {
    pub(crate) fn shown(&self) -> &str {
        match self {
            Repo::Helm { shown, .. } | Repo::Oci { shown, .. } => shown,
        }
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Helm's `ResolveReferenceURL`: a relative archive URL is resolved against the repository URL
/// with a trailing slash, and the repository URL's query is kept.
pub(crate) fn resolve_reference(base: &Url, reference: &str) -> Result<Url> {
    if let Ok(abs) = Url::parse(reference) {
        return Ok(abs);
    }
    let mut b = base.clone();
    let path = format!("{}/", b.path().trim_end_matches('/'));
    b.set_path(&path);
    let query = b.query().map(str::to_owned);
    let mut out = b.join(reference).map_err(|e| Error::InvalidUrl {
        url: redact_str(reference),
        reason: e.to_string(),
    })?;
    out.set_query(query.as_deref());
    Ok(out)
}

impl ChartRepos {
    /// A builder for a client caching under `<data_dir>/charts/`.
    pub fn builder(data_dir: impl Into<PathBuf>) -> ChartReposBuilder {
        ChartReposBuilder {
            data_dir: data_dir.into(),
            policy: UrlPolicy {
                allowed_hosts: vec!["*".into()],
                allow_local: false,
                allow_private_addresses: false,
                ..Default::default()
            },
            credentials: Credentials::new(),
            mirrors: Vec::new(),
            plain_http: false,
            index_ttl: Duration::from_secs(300),
            limits: Limits::default(),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            default_deadline: Duration::from_secs(60),
            retry_min_delay: Duration::from_millis(250),
        }
    }

    /// What the client has done so far.
    pub fn stats(&self) -> Stats {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.inner.counters;
        Stats {
            requests: c.requests.load(Relaxed),
            index_downloads: c.index_downloads.load(Relaxed),
            index_not_modified: c.index_not_modified.load(Relaxed),
            index_memory_hits: c.index_memory_hits.load(Relaxed),
            archive_downloads: c.archive_downloads.load(Relaxed),
            archive_cache_hits: c.archive_cache_hits.load(Relaxed),
        }
    }

    /// Whether `repository` names an OCI registry (`oci://…`), after mirrors.
    pub fn is_oci(&self, repository: &str) -> bool {
        mirror::apply(&self.inner.mirrors, repository)
            .to_ascii_lowercase()
            .starts_with("oci://")
    }

    pub(crate) fn repo(&self, repository: &str) -> Result<Repo> {
        let shown = redact_str(repository.trim());
        let target = mirror::apply(&self.inner.mirrors, repository.trim());
        let lower = target.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("oci://").map(|_| &target[6..]) {
            let location = rest.trim_matches('/').to_owned();
            if location.is_empty() || location.contains(['?', '#', '@']) {
                return Err(Error::InvalidUrl {
                    url: redact_str(&target),
                    reason: "expected oci://host[:port]/path".into(),
                });
            }
            return Ok(Repo::Oci { location, shown });
        }
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let mut base = Url::parse(&target).map_err(|e| Error::InvalidUrl {
                url: redact_str(&target),
                reason: e.to_string(),
            })?;
            if !base.username().is_empty() || base.password().is_some() {
                return Err(Error::InvalidUrl {
                    url: redact(&base),
                    reason: "credentials in a repository URL are not used; configure them per host"
                        .into(),
                });
            }
            let path = base.path().trim_end_matches('/').to_owned();
            base.set_path(&path);
            return Ok(Repo::Helm { base, shown });
        }
        Err(Error::UnsupportedRepository {
            reason: format!(
                "repository {shown:?} is not an http(s):// or oci:// URL{}",
                if target.starts_with('@') || target.starts_with("alias:") {
                    " (repository aliases need `helm repo add`; write the URL, or map the alias with a mirror)"
                } else {
                    ""
                }
            ),
        })
    }

    /// The versions of `chart` in `repository` (a Helm repository URL or `oci://host/path`),
    /// newest first (semver order; pre-releases included).
    pub fn versions(
        &self,
        repository: &str,
        chart: &str,
        call: &Call,
    ) -> Result<Vec<ChartVersion>> {
        match self.repo(repository)? {
            Repo::Helm { base, shown } => {
                let idx = self.index(&base, &shown, call, false)?;
                idx.entries
                    .get(chart)
                    .cloned()
                    .ok_or_else(|| Error::ChartNotFound {
                        repository: shown.clone(),
                        chart: chart.to_owned(),
                        nearest: index::nearest_names(
                            chart,
                            idx.entries.keys().map(String::as_str),
                        ),
                    })
            }
            Repo::Oci { location, shown } => self.oci_versions(&location, &shown, chart, call),
        }
    }

    /// The version of `chart` that `version` selects, as Helm selects it: an exact version,
    /// else the newest matching a range (`^1.2`, `>=1.0.0-0`); empty means the newest release.
    pub fn resolve_version(
        &self,
        repository: &str,
        chart: &str,
        version: &str,
        call: &Call,
    ) -> Result<ChartVersion> {
        let repo = self.repo(repository)?;
        let versions = match &repo {
            Repo::Helm { .. } => self.versions(repository, chart, call)?,
            Repo::Oci { location, shown } => {
                if let Some(v) = exact(version) {
                    return Ok(ChartVersion::tag(chart, &v));
                }
                self.oci_versions(location, shown, chart, call)?
            }
        };
        let need_urls = matches!(repo, Repo::Helm { .. });
        select(&versions, repo.shown(), chart, version, need_urls).cloned()
    }

    /// Downloads (or takes from the cache) the archive of `chart` at `version` (exact, or a
    /// range as in [`ChartRepos::resolve_version`]). The archive is verified against the
    /// index's or manifest's digest, checked to be a loadable chart of that name and version,
    /// and cached by digest; a chart already cached is never downloaded again. For an exact
    /// version whose digest a cached index names, no request is made at all.
    pub fn fetch_chart(
        &self,
        repository: &str,
        chart: &str,
        version: &str,
        call: &Call,
    ) -> Result<ChartArchive> {
        match self.repo(repository)? {
            Repo::Helm { base, shown } => self.fetch_helm(&base, &shown, chart, version, call),
            Repo::Oci { location, shown } => {
                self.fetch_oci(&location, &shown, chart, version, call)
            }
        }
    }

    fn fetch_helm(
        &self,
        base: &Url,
        shown: &str,
        chart: &str,
        version: &str,
        call: &Call,
    ) -> Result<ChartArchive> {
        let index_url = index_url(base);
        // A pinned version whose archive is cached needs no index refresh.
        if let Some(v) = exact(version)
            && let Some(idx) = self.cached_index(&index_url)
            && let Some(entry) = idx
                .entries
                .get(chart)
                .and_then(|vs| vs.iter().find(|e| e.version == v && !e.urls.is_empty()))
            && let Some(hit) = self.cached_archive(base, entry)?
        {
            return Ok(hit);
        }
        let idx = self.index(base, shown, call, false)?;
        let versions = idx.entries.get(chart).ok_or_else(|| Error::ChartNotFound {
            repository: shown.to_owned(),
            chart: chart.to_owned(),
            nearest: index::nearest_names(chart, idx.entries.keys().map(String::as_str)),
        })?;
        let entry = select(versions, shown, chart, version, true)?;
        if let Some(hit) = self.cached_archive(base, entry)? {
            return Ok(hit);
        }
        let url = self.archive_url(base, entry)?;
        let key = format!("archive {url}");
        let _flight = self.flight(&key);
        // Another caller may have downloaded it while this one waited.
        if let Some(hit) = self.cached_archive(base, entry)? {
            return Ok(hit);
        }
        let shown_url = redact(&url);
        let resp = self.inner.http.get(
            &Request::get(
                &url,
                "chart archive",
                shown,
                self.inner.limits.max_archive_bytes,
            ),
            call,
        )?;
        match resp.status {
            200 => {}
            401 | 403 => {
                return Err(Error::AuthenticationRequired {
                    repository: shown.to_owned(),
                    status: resp.status,
                    had_credentials: resp.sent_auth,
                });
            }
            s => {
                return Err(Error::Status {
                    url: shown_url,
                    status: s,
                    hint: Some(format!(
                        "the index of {shown} lists {chart} {} at this URL",
                        entry.version
                    )),
                });
            }
        }
        bump(&self.inner.counters.archive_downloads);
        let digest = sha256_hex(&resp.body);
        if !entry.digest.is_empty() && entry.digest != digest {
            return Err(Error::DigestMismatch {
                url: shown_url,
                expected: entry.digest.clone(),
                actual: digest,
            });
        }
        let (name, ver) = self.check_archive(&resp.body, &shown_url, chart, &entry.version)?;
        self.inner.cache.put_archive(&digest, &resp.body)?;
        if entry.digest.is_empty() {
            self.inner.cache.put_url_digest(url.as_str(), &digest)?;
        }
        debug!(chart, version = %ver, %digest, "chart archive downloaded");
        Ok(ChartArchive {
            name,
            version: ver,
            digest,
            bytes: Arc::new(resp.body),
            url: shown_url,
            cached: false,
        })
    }

    fn archive_url(&self, base: &Url, entry: &ChartVersion) -> Result<Url> {
        let first = entry.urls.first().ok_or_else(|| Error::InvalidIndex {
            url: redact(&index_url(base)),
            reason: format!("{} {} has no archive URL", entry.name, entry.version),
        })?;
        let url = resolve_reference(base, first)?;
        // An index served by a mirror may still name the original host.
        let mapped = mirror::apply(&self.inner.mirrors, url.as_str());
        Url::parse(&mapped).map_err(|e| Error::InvalidUrl {
            url: redact_str(&mapped),
            reason: e.to_string(),
        })
    }

    fn cached_archive(&self, base: &Url, entry: &ChartVersion) -> Result<Option<ChartArchive>> {
        let url = self.archive_url(base, entry)?;
        let digest = if entry.digest.is_empty() {
            match self.inner.cache.url_digest(url.as_str()) {
                Some(d) => d,
                None => return Ok(None),
            }
        } else {
            entry.digest.clone()
        };
        Ok(self.cached_by_digest(&digest, &redact(&url), &entry.name))
    }

    pub(crate) fn cached_by_digest(
        &self,
        digest: &str,
        shown_url: &str,
        chart: &str,
    ) -> Option<ChartArchive> {
        let bytes = self.inner.cache.archive(digest)?;
        let files = ChartFiles::from_tgz(&bytes, self.inner.limits.chart_files).ok()?;
        let meta = helm_render::chart::Chart::load(&files).ok()?.metadata;
        if meta.name != chart {
            return None;
        }
        bump(&self.inner.counters.archive_cache_hits);
        Some(ChartArchive {
            name: meta.name,
            version: meta.version,
            digest: digest.to_owned(),
            bytes: Arc::new(bytes),
            url: shown_url.to_owned(),
            cached: true,
        })
    }

    /// Checks that `bytes` is a chart archive Helm would load (no path tricks, within the
    /// limits) of chart `chart` at `version`; returns its name and version.
    pub(crate) fn check_archive(
        &self,
        bytes: &[u8],
        shown_url: &str,
        chart: &str,
        version: &str,
    ) -> Result<(String, String)> {
        let bad = |reason: String| Error::InvalidArchive {
            url: shown_url.to_owned(),
            reason,
        };
        let files = ChartFiles::from_tgz(bytes, self.inner.limits.chart_files)
            .map_err(|e| bad(e.to_string()))?;
        let c = helm_render::chart::Chart::load(&files).map_err(|e| bad(e.to_string()))?;
        let m = c.metadata;
        let same_version = match (Version::parse(&m.version), Version::parse(version)) {
            (Some(a), Some(b)) => a == b,
            _ => m.version == version,
        };
        if m.name != chart || !same_version {
            return Err(bad(format!(
                "it holds chart {} {}, not {chart} {version}",
                m.name, m.version
            )));
        }
        Ok((m.name, m.version))
    }

    /// One download at a time per `key`: waits while another caller holds it.
    pub(crate) fn flight(&self, key: &str) -> FlightGuard<'_> {
        let mut f = self.inner.flights.lock().unwrap_or_else(|p| p.into_inner());
        while f.contains(key) {
            f = self
                .inner
                .flight_done
                .wait(f)
                .unwrap_or_else(|p| p.into_inner());
        }
        f.insert(key.to_owned());
        FlightGuard {
            inner: &self.inner,
            key: key.to_owned(),
        }
    }

    fn cached_index(&self, index_url: &Url) -> Option<Arc<Index>> {
        let key = index_url.as_str().to_owned();
        if let Some((idx, _)) = self
            .inner
            .indexes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Some(idx.clone());
        }
        self.inner
            .cache
            .index(&url_key(index_url.as_str()))
            .map(|(i, _)| Arc::new(i))
    }

    /// The repository's index: from memory or disk while younger than the TTL, else
    /// revalidated (`If-None-Match` / `If-Modified-Since`) or downloaded and parsed once.
    pub(crate) fn index(
        &self,
        base: &Url,
        shown: &str,
        call: &Call,
        force: bool,
    ) -> Result<Arc<Index>> {
        let url = index_url(base);
        let key = url.as_str().to_owned();
        let ttl = self.inner.index_ttl;
        let fresh_in_memory = || {
            let m = self.inner.indexes.lock().unwrap_or_else(|p| p.into_inner());
            m.get(&key)
                .filter(|(_, at)| !force && at.elapsed() < ttl)
                .map(|(i, _)| i.clone())
        };
        if let Some(i) = fresh_in_memory() {
            bump(&self.inner.counters.index_memory_hits);
            return Ok(i);
        }
        let _flight = self.flight(&format!("index {key}"));
        if let Some(i) = fresh_in_memory() {
            bump(&self.inner.counters.index_memory_hits);
            return Ok(i);
        }
        let disk_key = url_key(&key);
        let on_disk = self.inner.cache.index(&disk_key);
        let remember = |idx: Arc<Index>, age: Duration| {
            let at = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
            self.inner
                .indexes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key.clone(), (idx.clone(), at));
            idx
        };
        if let Some((idx, meta)) = &on_disk {
            let age = Duration::from_secs(now_secs().saturating_sub(meta.checked_at));
            if !force && age < ttl {
                return Ok(remember(Arc::new(idx.clone()), age));
            }
        }
        let (etag, lm) = on_disk
            .as_ref()
            .map(|(_, m)| (m.etag.clone(), m.last_modified.clone()))
            .unwrap_or_default();
        let mut req = Request::get(
            &url,
            "repository index",
            shown,
            self.inner.limits.max_index_bytes,
        );
        req.etag = etag.as_deref();
        req.last_modified = lm.as_deref();
        let resp = self.inner.http.get(&req, call)?;
        match resp.status {
            304 if on_disk.is_some() => {
                bump(&self.inner.counters.index_not_modified);
                let (idx, mut meta) = on_disk.unwrap_or_default();
                meta.checked_at = now_secs();
                self.inner.cache.put_index_meta(&disk_key, &meta)?;
                Ok(remember(Arc::new(idx), Duration::ZERO))
            }
            200 => {
                bump(&self.inner.counters.index_downloads);
                let idx = index::parse(&resp.body).map_err(|reason| Error::InvalidIndex {
                    url: redact(&url),
                    reason,
                })?;
                let meta = IndexMeta {
                    url: redact(&url),
                    etag: resp.header("etag").map(str::to_owned),
                    last_modified: resp.header("last-modified").map(str::to_owned),
                    checked_at: now_secs(),
                };
                self.inner.cache.put_index(&disk_key, &idx, &meta)?;
                Ok(remember(Arc::new(idx), Duration::ZERO))
            }
            401 | 403 => Err(Error::AuthenticationRequired {
                repository: shown.to_owned(),
                status: resp.status,
                had_credentials: resp.sent_auth,
            }),
            404 => Err(Error::Status {
                url: redact(&url),
                status: 404,
                hint: Some(format!(
                    "{shown} has no index.yaml: is it a Helm chart repository? (OCI registries are named oci://…)"
                )),
            }),
            s => Err(Error::Status {
                url: redact(&url),
                status: s,
                hint: None,
            }),
        }
    }

    /// Drops the in-memory copy of every index (the disk cache stays), so the next call
    /// revalidates with the repository once the TTL has passed.
    pub fn forget_indexes(&self) {
        self.inner
            .indexes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// Holds one key's download slot; released when dropped.
pub(crate) struct FlightGuard<'a> {
    inner: &'a Inner,
    key: String,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut f = self.inner.flights.lock().unwrap_or_else(|p| p.into_inner());
        f.remove(&self.key);
        self.inner.flight_done.notify_all();
    }
}

pub(crate) fn index_url(base: &Url) -> Url {
    let mut u = base.clone();
    let path = format!("{}/index.yaml", u.path().trim_end_matches('/'));
    u.set_path(&path);
    u
}

/// `version` when it is one exact version (not a range).
pub(crate) fn exact(version: &str) -> Option<String> {
    let v = version.trim();
    let v = v.strip_prefix('=').unwrap_or(v).trim();
    Version::parse(v).map(|_| v.to_owned())
}

pub(crate) fn select<'a>(
    versions: &'a [ChartVersion],
    shown: &str,
    chart: &str,
    version: &str,
    need_urls: bool,
) -> Result<&'a ChartVersion> {
    index::select(versions, version, need_urls).map_err(|e| match e {
        NoMatch::Constraint(reason) => Error::InvalidConstraint {
            chart: chart.to_owned(),
            constraint: version.to_owned(),
            reason,
        },
        NoMatch::None(nearest) => Error::VersionNotFound {
            repository: shown.to_owned(),
            chart: chart.to_owned(),
            version: version.to_owned(),
            nearest,
        },
    })
}
