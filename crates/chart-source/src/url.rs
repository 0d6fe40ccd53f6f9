//! Repository URLs: parsing, normalization and the SSRF policy.

use std::{
    fmt, io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs},
    path::{Path, PathBuf},
    sync::Arc,
};

use crate::{Credentials, Error, GitError, Result};

/// Which repository URLs may be used (the defence against server-side request forgery).
///
/// - `https://` to a host in `allowed_hosts` (an entry `host` allows port 443, an entry
///   `host:port` that port);
/// - `http://` only to a host in `plain_http_hosts` as well (an entry `host` allows port 80):
///   an internal git server the operator configured with an http URL;
/// - `ssh://` and scp-like `user@host:path` URLs only with `allow_ssh` (git runs the system
///   `ssh`, with the user's keys: for the CLI), to an allowed host (`host` allows port 22);
/// - `file://` URLs and plain paths only when `allow_local` is set;
/// - every address the host resolves to must be public unless `allow_private_addresses`
///   is set (loopback, private, link-local, unique-local, shared and unspecified addresses are
///   refused). The check is repeated when git connects, and http(s) connections go to exactly
///   the addresses that passed it (pinned resolution), so a name that resolves elsewhere
///   between the check and the connection (DNS rebinding) gains nothing;
/// - URLs that start with `-`, contain whitespace or control characters, a query or a fragment,
///   and other schemes (`git`, `ext::` …) are refused.
///
/// Credentials in a URL (`https://user:token@host/…`) are accepted: they are sent as basic auth
/// in a header (never in the URL git is given), never appear in messages, logs or the cache
/// key, and the mirror they fetch into is theirs alone.
///
/// ```
/// use chart_source::UrlPolicy;
/// let policy = UrlPolicy::default();
/// assert!(policy.check("ssh://github.com/o/r").is_err());
/// assert!(policy.check("/tmp/repo").is_err()); // local paths are off by default
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Hosts that URLs may name, compared case-insensitively (`github.com` by default;
    /// `*` names every host).
    pub allowed_hosts: Vec<String>,
    /// Whether `file://` URLs and plain paths are allowed (default `false`).
    pub allow_local: bool,
    /// Whether hosts may resolve to loopback/private/link-local addresses (default `false`).
    pub allow_private_addresses: bool,
    /// Hosts that may be reached over plain `http` (`host` for port 80, or `host:port`); each
    /// must be in `allowed_hosts` too. Default: none.
    pub plain_http_hosts: Vec<String>,
    /// Whether `ssh://` and scp-like (`git@host:owner/repo`) URLs are allowed (default
    /// `false`).
    pub allow_ssh: bool,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        UrlPolicy {
            allowed_hosts: vec!["github.com".to_owned()],
            allow_local: false,
            allow_private_addresses: false,
            plain_http_hosts: Vec::new(),
            allow_ssh: false,
        }
    }
}

/// Host name resolution, injectable so that policy checks can be tested without DNS.
pub trait Resolve: Send + Sync {
    /// All addresses `host` resolves to.
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<IpAddr>>;
}

/// The system resolver (`getaddrinfo`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<IpAddr>> {
        Ok((host, port).to_socket_addrs()?.map(|a| a.ip()).collect())
    }
}

impl UrlPolicy {
    /// Checks `url` against the policy, resolving its host with the system resolver.
    pub fn check(&self, url: &str) -> Result<RepoUrl> {
        self.check_with(url, &SystemResolver)
    }

    /// Checks `url` against the policy, resolving its host with `resolver`.
    pub fn check_with(&self, url: &str, resolver: &dyn Resolve) -> Result<RepoUrl> {
        let parsed = parse(url).map_err(|reason| Error::RepositoryNotAllowed {
            url: redact_url(url),
            reason: reason.to_owned(),
        })?;
        let refuse = |reason: String| Error::RepositoryNotAllowed {
            url: parsed.display(),
            reason,
        };
        match &parsed.location {
            Location::Local { path, in_place } => {
                if !self.allow_local {
                    return Err(refuse("local repositories are not allowed".into()));
                }
                let canonical =
                    std::fs::canonicalize(path).map_err(|e| Error::RepositoryUnreachable {
                        url: parsed.display(),
                        tried: "resolving the local path".into(),
                        source: GitError::message(e.to_string()),
                    })?;
                Ok(RepoUrl::local(canonical, *in_place))
            }
            Location::Remote(remote) => {
                match remote.scheme {
                    Scheme::Https => {}
                    Scheme::Http => {
                        if !host_listed(&self.plain_http_hosts, &remote.host, remote.port(), 80) {
                            return Err(refuse("only https urls are allowed".into()));
                        }
                    }
                    Scheme::Ssh if !self.allow_ssh => {
                        return Err(refuse(if remote.scp {
                            "scp-like (ssh) urls are refused; only https urls are allowed".into()
                        } else {
                            "only https urls are allowed".into()
                        }));
                    }
                    Scheme::Ssh => {}
                }
                let default_port = remote.scheme.default_port();
                if !host_listed(
                    &self.allowed_hosts,
                    &remote.host,
                    remote.port(),
                    default_port,
                ) {
                    return Err(refuse(format!(
                        "host {}{} is not in the allowed hosts ({})",
                        remote.host,
                        remote.port.map(|p| format!(":{p}")).unwrap_or_default(),
                        self.allowed_hosts.join(", ")
                    )));
                }
                self.addresses(remote, resolver)
                    .map_err(|e| e.with_url(&parsed.display()))?;
                Ok(RepoUrl::remote(remote, parsed.userinfo.as_deref()))
            }
        }
    }

    /// Every address `remote`'s host resolves to, each checked against the policy.
    fn addresses(&self, remote: &Remote, resolver: &dyn Resolve) -> Result<Vec<IpAddr>> {
        let shown = || format!("{}://{}", remote.scheme.as_str(), remote.authority());
        let host = &remote.host;
        let addrs =
            match host.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => resolver.resolve(host, remote.port()).map_err(|e| {
                    Error::RepositoryUnreachable {
                        url: shown(),
                        tried: format!("resolving host {host}"),
                        source: GitError::message(e.to_string()),
                    }
                })?,
            };
        if addrs.is_empty() {
            return Err(Error::RepositoryUnreachable {
                url: shown(),
                tried: format!("resolving host {host}"),
                source: GitError::message("no addresses"),
            });
        }
        for ip in &addrs {
            if let Some(why) = self.refuses_address(*ip) {
                return Err(Error::RepositoryNotAllowed {
                    url: shown(),
                    reason: format!("host {host} resolves to {why}"),
                });
            }
        }
        Ok(addrs)
    }

    /// For an http(s) repository named by host name: the host and the addresses git must
    /// connect to, resolved now and checked against the policy (the connection is pinned to
    /// them). `None` for local repositories, IP literals and ssh (the system `ssh` resolves).
    pub(crate) fn pin(
        &self,
        url: &RepoUrl,
        resolver: &dyn Resolve,
    ) -> Result<Option<(String, Vec<SocketAddr>)>> {
        let Some(remote) = url.remote.as_ref() else {
            return Ok(None);
        };
        if remote.scheme == Scheme::Ssh {
            return Ok(None);
        }
        let addrs = self
            .addresses(remote, resolver)
            .map_err(|e| e.with_url(url.normalized()))?;
        if remote.host.parse::<IpAddr>().is_ok() {
            return Ok(None);
        }
        let port = remote.port();
        Ok(Some((
            remote.host.clone(),
            addrs
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
        )))
    }
}

impl Error {
    /// The same refusal or failure, naming `url` (the original, redacted form).
    fn with_url(self, shown: &str) -> Error {
        match self {
            Error::RepositoryNotAllowed { reason, .. } => Error::RepositoryNotAllowed {
                url: shown.to_owned(),
                reason,
            },
            Error::RepositoryUnreachable { tried, source, .. } => Error::RepositoryUnreachable {
                url: shown.to_owned(),
                tried,
                source,
            },
            other => other,
        }
    }
}

impl UrlPolicy {
    /// Whether `host` on `port` is one of [`UrlPolicy::allowed_hosts`] (an entry `host` allows
    /// port 443, an entry `host:port` that port; `*` allows every host). For other kinds of
    /// repository (Helm chart repositories, OCI registries) that check their own URLs.
    pub fn allows_host(&self, host: &str, port: u16) -> bool {
        host_listed(&self.allowed_hosts, host, port, 443)
    }

    /// Why a connection to `ip` is refused under this policy (`"a loopback address
    /// 127.0.0.1"`), or `None` when it is allowed: non-public addresses are refused unless
    /// [`UrlPolicy::allow_private_addresses`] is set.
    pub fn refuses_address(&self, ip: IpAddr) -> Option<String> {
        if self.allow_private_addresses {
            return None;
        }
        non_public(ip).map(|kind| format!("{kind} address {ip}"))
    }
}

/// Whether `host:port` matches one of `entries` (`host` matches `default_port`, `host:port`
/// that port, `[v6]:port` likewise; `*` every host), case-insensitively.
fn host_listed(entries: &[String], host: &str, port: u16, default_port: u16) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_matches(['[', ']']);
    entries.iter().any(|entry| {
        let entry = entry.trim().trim_end_matches('.').to_ascii_lowercase();
        if entry == "*" {
            return true;
        }
        match entry
            .rsplit_once(':')
            .filter(|(_, p)| p.parse::<u16>().is_ok())
        {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => {
                h.trim_matches(['[', ']']) == host && p.parse() == Ok(port)
            }
            _ => entry.trim_matches(['[', ']']) == host && port == default_port,
        }
    })
}

/// A URL scheme git talks over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Https,
    Http,
    Ssh,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
            Scheme::Ssh => 22,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
            Scheme::Ssh => "ssh",
        }
    }
}

/// A network repository location.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    pub(crate) scheme: Scheme,
    /// Lower case; IPv6 without brackets.
    pub(crate) host: String,
    /// `None` for the scheme's default port.
    port: Option<u16>,
    /// Starts with `/` (scp-like paths are given one).
    path: String,
    /// The ssh user (`git`); not a secret.
    ssh_user: Option<String>,
    /// Written scp-like (`git@host:owner/repo`).
    scp: bool,
    /// An scp-like path written from the root (`git@host:/srv/repo`), which the server
    /// must get as such; others are relative to the ssh user's home.
    scp_absolute: bool,
}

impl Remote {
    pub(crate) fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    fn host_part(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    fn authority(&self) -> String {
        format!(
            "{}{}",
            self.host_part(),
            self.port.map(|p| format!(":{p}")).unwrap_or_default()
        )
    }
}

/// A repository URL that passed the [`UrlPolicy`], normalized.
///
/// `Display` shows the normalized form, which never contains credentials:
/// `https://github.com/argoproj/argo-helm` for `https://user:tok@GitHub.com/argoproj/argo-helm.git/`,
/// `file:///abs/path` for a local path, `ssh://github.com/o/r` for `git@github.com:o/r.git`.
#[derive(Clone)]
pub struct RepoUrl {
    normalized: String,
    fetch_url: String,
    credentials: Option<Credentials>,
    remote: Option<Remote>,
    /// A local repository named by its path (not a `file://` URL): its mirror reads the
    /// repository's objects in place instead of fetching copies, as `git clone` does for a
    /// path and not for a `file://` URL.
    in_place: bool,
}

impl RepoUrl {
    fn local(path: PathBuf, in_place: bool) -> Self {
        let path = path.to_string_lossy().into_owned();
        RepoUrl {
            normalized: format!("file://{path}"),
            fetch_url: path,
            credentials: None,
            remote: None,
            in_place,
        }
    }

    fn remote(remote: &Remote, userinfo: Option<&str>) -> Self {
        let path = &remote.path;
        let mut norm_path = path
            .trim_end_matches('/')
            .trim_end_matches(".git")
            .to_owned();
        if remote.host == "github.com" {
            norm_path = norm_path.to_ascii_lowercase();
        }
        let scheme = remote.scheme.as_str();
        let authority = remote.authority();
        let fetch_url = match remote.scheme {
            Scheme::Ssh if remote.scp => format!(
                "{}{}:{}{}",
                remote
                    .ssh_user
                    .as_ref()
                    .map(|u| format!("{u}@"))
                    .unwrap_or_default(),
                remote.host_part(),
                if remote.scp_absolute { "/" } else { "" },
                path.trim_start_matches('/').trim_end_matches('/')
            ),
            Scheme::Ssh => format!(
                "ssh://{}{authority}{}",
                remote
                    .ssh_user
                    .as_ref()
                    .map(|u| format!("{u}@"))
                    .unwrap_or_default(),
                path.trim_end_matches('/')
            ),
            Scheme::Https | Scheme::Http => {
                format!("{scheme}://{authority}{}", path.trim_end_matches('/'))
            }
        };
        let credentials = match remote.scheme {
            Scheme::Ssh => None,
            Scheme::Https | Scheme::Http => userinfo.map(|u| match u.split_once(':') {
                Some((user, pass)) => Credentials::new(percent_decode(user), percent_decode(pass)),
                None => Credentials::new(percent_decode(u), ""),
            }),
        };
        RepoUrl {
            normalized: format!("{scheme}://{authority}{norm_path}"),
            fetch_url,
            credentials,
            remote: Some(remote.clone()),
            in_place: false,
        }
    }

    /// The normalized URL (no credentials, no `.git` suffix, lowercase host). Two URLs that
    /// name the same repository normalize to the same string.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Whether this is a local repository (`file://` or a path).
    pub fn is_local(&self) -> bool {
        self.remote.is_none()
    }

    /// Whether this is a local repository named by its path, whose objects its mirror reads
    /// in place (a `file://` URL is fetched from like a remote, as git does).
    pub fn reads_in_place(&self) -> bool {
        self.remote.is_none() && self.in_place
    }

    /// Whether the URL carried credentials (`https://user:token@host/…`).
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The directory name of this repository's mirror: a readable slug of the normalized URL
    /// and the first 16 hex digits of its SHA-256, e.g. `github.com-argoproj-argo-helm-1f2e…`.
    pub fn cache_key(&self) -> String {
        let rest = self
            .normalized
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.normalized);
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
        slug = slug.trim_matches(['-', '.']).to_owned();
        while slug.contains("--") {
            slug = slug.replace("--", "-");
        }
        if slug.len() > 60 {
            slug = slug[slug.len() - 60..]
                .trim_start_matches(['-', '.'])
                .to_owned();
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, self.normalized.as_bytes());
        let hex: String = digest.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if slug.is_empty() {
            hex
        } else {
            format!("{slug}-{hex}")
        }
    }

    /// The URL handed to git: never with credentials.
    pub(crate) fn fetch_url(&self) -> &str {
        &self.fetch_url
    }

    /// Credentials the URL carried.
    pub(crate) fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The host, for http(s) and ssh repositories.
    pub(crate) fn host(&self) -> Option<&str> {
        self.remote.as_ref().map(|r| r.host.as_str())
    }

    /// Whether git talks ssh to this repository.
    pub(crate) fn is_ssh(&self) -> bool {
        self.remote
            .as_ref()
            .is_some_and(|r| r.scheme == Scheme::Ssh)
    }
}

impl fmt::Display for RepoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized)
    }
}

impl fmt::Debug for RepoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepoUrl({})", self.normalized)
    }
}

#[derive(Debug)]
struct Parsed {
    location: Location,
    userinfo: Option<String>,
    original: String,
}

impl Parsed {
    fn display(&self) -> String {
        redact_url(&self.original)
    }
}

#[derive(Debug)]
enum Location {
    /// A path (`in_place`) or a `file://` URL.
    Local {
        path: PathBuf,
        in_place: bool,
    },
    Remote(Remote),
}

/// Removes the user-info part of anything that looks like `scheme://userinfo@host` (and
/// shortens it to 200 characters): what messages and logs may show of a URL.
///
/// ```
/// assert_eq!(
///     chart_source::redact_url("https://user:token@git.example.com/o/r"),
///     "https://git.example.com/o/r"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.chars().take(200).collect();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    format!("{scheme}://{authority}{tail}")
        .chars()
        .take(200)
        .collect()
}

/// Whether `url` carries credentials (`scheme://user:password@host/…`).
///
/// ```
/// assert!(chart_source::has_userinfo("https://user:tok@github.com/o/r"));
/// assert!(!chart_source::has_userinfo("https://github.com/o/r@v1"));
/// ```
pub fn has_userinfo(url: &str) -> bool {
    url.split_once("://").is_some_and(|(_, rest)| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        authority.contains('@')
    })
}

/// `url` without its `user:password@` part, whole (what a stored request keeps; for messages
/// and logs, [`redact_url`] also shortens it).
///
/// ```
/// assert_eq!(
///     chart_source::without_userinfo("https://user:tok@github.com/o/r"),
///     "https://github.com/o/r"
/// );
/// ```
pub fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{tail}")
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            )
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse(url: &str) -> std::result::Result<Parsed, &'static str> {
    if url.is_empty() {
        return Err("empty url");
    }
    if url.starts_with('-') {
        return Err("urls starting with '-' are refused");
    }
    if url.len() > 2048 {
        return Err("url is too long");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("url contains whitespace or control characters");
    }
    if url.contains('\\') {
        return Err("url contains a backslash");
    }
    let original = url.to_owned();
    if let Some((scheme, rest)) = url.split_once("://") {
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            "ssh" | "git+ssh" | "ssh+git" => Scheme::Ssh,
            "file" => {
                let path = rest.strip_prefix("localhost").unwrap_or(rest);
                if !path.starts_with('/') {
                    return Err("file urls must name an absolute path (file:///path)");
                }
                if path.contains(['?', '#']) {
                    return Err("url has a query or fragment");
                }
                return Ok(Parsed {
                    location: Location::Local {
                        path: PathBuf::from(percent_decode(path)),
                        in_place: false,
                    },
                    userinfo: None,
                    original,
                });
            }
            _ => return Err("only https urls are allowed"),
        };
        let (mut remote, userinfo) = parse_remote(scheme, rest)?;
        if scheme == Scheme::Ssh {
            if userinfo.as_deref().is_some_and(|u| u.contains(':')) {
                return Err("ssh urls must not carry a password");
            }
            remote.ssh_user = userinfo.clone();
            return Ok(Parsed {
                location: Location::Remote(remote),
                userinfo: None,
                original,
            });
        }
        Ok(Parsed {
            location: Location::Remote(remote),
            userinfo,
            original,
        })
    } else if url.contains("::") {
        Err("transport helpers (like ext::) are refused")
    } else if url
        .split('/')
        .next()
        .is_some_and(|first| first.contains(':') && !Path::new(url).exists())
    {
        parse_scp(url).map(|remote| Parsed {
            location: Location::Remote(remote),
            userinfo: None,
            original,
        })
    } else {
        Ok(Parsed {
            location: Location::Local {
                path: PathBuf::from(url),
                in_place: true,
            },
            userinfo: None,
            original,
        })
    }
}

/// `[user@]host:path`, git's scp-like ssh syntax.
fn parse_scp(url: &str) -> std::result::Result<Remote, &'static str> {
    const REFUSED: &str = "scp-like (ssh) urls are refused; only https urls are allowed";
    let (authority, path) = url.split_once(':').ok_or(REFUSED)?;
    let (user, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if user.is_some_and(|u| {
        u.is_empty()
            || u.starts_with('-')
            || !u
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    }) {
        return Err(REFUSED);
    }
    let host = host.to_ascii_lowercase();
    if !valid_host_name(&host) || path.is_empty() || path.starts_with('-') {
        return Err(REFUSED);
    }
    let scp_absolute = path.starts_with('/');
    let path = format!("/{}", path.trim_start_matches('/'));
    check_path(&path)?;
    Ok(Remote {
        scheme: Scheme::Ssh,
        host,
        port: None,
        path,
        ssh_user: user.map(str::to_owned),
        scp: true,
        scp_absolute,
    })
}

fn valid_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn check_path(path: &str) -> std::result::Result<(), &'static str> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err("url has no repository path");
    }
    if path.contains("//") {
        return Err("url path has empty segments");
    }
    if path
        .split('/')
        .map(percent_decode)
        .any(|seg| seg == "." || seg == ".." || seg.contains('/'))
    {
        return Err("url path has dot segments or encoded separators");
    }
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/%+".contains(&b))
    {
        return Err("url path has unexpected characters");
    }
    Ok(())
}

fn parse_remote(
    scheme: Scheme,
    rest: &str,
) -> std::result::Result<(Remote, Option<String>), &'static str> {
    if rest.contains(['?', '#']) {
        return Err("url has a query or fragment");
    }
    let authority_end = rest.find('/').ok_or("url has no repository path")?;
    let (authority, path) = rest.split_at(authority_end);
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    if userinfo.is_some_and(|u| u.is_empty() || u.contains('@') || u.contains('/')) {
        return Err("url has malformed credentials");
    }
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or("malformed ipv6 host")?;
        addr.parse::<Ipv6Addr>()
            .map_err(|_| "malformed ipv6 host")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("malformed port")?),
        };
        (addr.to_ascii_lowercase(), port)
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (hostport.to_ascii_lowercase(), None),
        }
    };
    let host = host.trim_end_matches('.').to_owned();
    if host.is_empty() {
        return Err("url has no host");
    }
    if !host.contains(':') && !valid_host_name(&host) {
        return Err("url has an invalid host name");
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p == scheme.default_port() => None,
            Ok(0) | Err(_) => return Err("url has an invalid port"),
            Ok(p) => Some(p),
        },
    };
    check_path(path)?;
    Ok((
        Remote {
            scheme,
            host,
            port,
            path: path.to_owned(),
            ssh_user: None,
            scp: false,
            scp_absolute: false,
        },
        userinfo.map(str::to_owned),
    ))
}

/// Why `ip` is not a public address, if it is not.
fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public_v4(v4);
            }
            let seg0 = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback")
            } else if v6.is_unspecified() {
                Some("an unspecified")
            } else if seg0 & 0xfe00 == 0xfc00 {
                Some("a unique-local")
            } else if seg0 & 0xffc0 == 0xfe80 {
                Some("a link-local")
            } else if v6.is_multicast() {
                Some("a multicast")
            } else if seg0 == 0x0064 && v6.segments()[1] == 0xff9b {
                // NAT64 embeds an IPv4 address in the last 32 bits.
                let o = v6.octets();
                non_public_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]))
            } else {
                None
            }
        }
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("a loopback")
    } else if ip.is_private() {
        Some("a private")
    } else if ip.is_link_local() {
        Some("a link-local")
    } else if ip.is_unspecified() || o[0] == 0 {
        Some("an unspecified")
    } else if ip.is_broadcast() || ip.is_multicast() {
        Some("a broadcast or multicast")
    } else if o[0] == 100 && (64..128).contains(&o[1]) {
        Some("a shared (carrier-grade nat)")
    } else if o[0] >= 240 {
        Some("a reserved")
    } else {
        None
    }
}

/// A resolver answering from a fixed table (for tests and for pinning).
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    table: Arc<Vec<(String, Vec<IpAddr>)>>,
}

impl StaticResolver {
    /// A resolver that knows `entries` (host → addresses) and fails for every other host.
    pub fn new(entries: impl IntoIterator<Item = (impl Into<String>, Vec<IpAddr>)>) -> Self {
        StaticResolver {
            table: Arc::new(entries.into_iter().map(|(h, a)| (h.into(), a)).collect()),
        }
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, host: &str, _port: u16) -> io::Result<Vec<IpAddr>> {
        self.table
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .map(|(_, a)| a.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("unknown host {host}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_found_and_removed() {
        assert!(has_userinfo("https://user:tok@github.com/o/r"));
        assert!(has_userinfo("oci://u:p@registry.example/charts"));
        assert!(!has_userinfo("https://github.com/o/r"));
        assert!(!has_userinfo("https://github.com/o/r@v1"));
        assert!(!has_userinfo("/tmp/repo"));
        assert_eq!(
            without_userinfo("https://user:tok@github.com/o/r"),
            "https://github.com/o/r"
        );
        assert_eq!(without_userinfo("/tmp/a@b"), "/tmp/a@b");
    }

    fn resolver() -> StaticResolver {
        StaticResolver::new([
            ("github.com", vec!["140.82.121.4".parse().unwrap()]),
            ("evil.example", vec!["10.1.2.3".parse().unwrap()]),
        ])
    }

    fn policy() -> UrlPolicy {
        UrlPolicy {
            allowed_hosts: vec!["github.com".into(), "evil.example".into()],
            ..UrlPolicy::default()
        }
    }

    #[test]
    fn normalizes_github_urls_to_one_key() {
        let r = resolver();
        let a = policy()
            .check_with("https://github.com/ArgoProj/Argo-Helm.git", &r)
            .unwrap();
        let b = policy()
            .check_with("https://x:tok@GITHUB.com:443/argoproj/argo-helm/", &r)
            .unwrap();
        assert_eq!(a.normalized(), "https://github.com/argoproj/argo-helm");
        assert_eq!(a.normalized(), b.normalized());
        assert_eq!(a.cache_key(), b.cache_key());
        assert!(
            a.cache_key().starts_with("github.com-argoproj-argo-helm-"),
            "{}",
            a.cache_key()
        );
        // Credentials never go into the URL git is given.
        assert_eq!(b.fetch_url(), "https://github.com/argoproj/argo-helm");
        assert_eq!(b.credentials().unwrap().password(), "tok");
        assert!(!format!("{b} {b:?}").contains("tok"));
    }

    #[test]
    fn refuses_private_resolution() {
        let err = policy()
            .check_with("https://evil.example/o/r", &resolver())
            .unwrap_err();
        assert!(
            err.to_string().contains("private address 10.1.2.3"),
            "{err}"
        );
    }

    #[test]
    fn redacts_credentials_in_refusals() {
        let err = policy()
            .check_with("https://u:secret@other.example/o/r", &resolver())
            .unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(
            err.to_string().contains("https://other.example/o/r"),
            "{err}"
        );
    }

    #[test]
    fn classifies_addresses() {
        for (ip, public) in [
            ("8.8.8.8", true),
            ("127.0.0.1", false),
            ("10.0.0.1", false),
            ("172.16.5.4", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("::1", false),
            ("fd00::1", false),
            ("fe80::1", false),
            ("::ffff:127.0.0.1", false),
            ("64:ff9b::a00:1", false),
            ("2606:4700::1111", true),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(non_public(ip).is_none(), public, "{ip}");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("p%40ss%2"), "p@ss%2");
    }
}
