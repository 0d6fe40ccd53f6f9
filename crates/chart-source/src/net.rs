//! Talking to remotes: fetch and ls-remote, with retries and backoff within a deadline.

use std::{
    cell::Cell,
    net::SocketAddr,
    sync::{Arc, Mutex, Once, atomic::AtomicBool, atomic::Ordering},
    time::{Duration, Instant},
};

use backon::{BlockingRetryable, ExponentialBuilder};
use gix::protocol::transport::client::blocking_io::{Transport, http};
use gix::remote::Direction;
use tracing::{debug, warn};

use crate::{Credentials, Error, GitAuth, GitError, RepoUrl, Result, cache::Inner};

/// A ref as listed by the remote.
#[derive(Debug, Clone)]
pub(crate) struct RemoteRef {
    pub(crate) name: String,
    /// What the ref points at directly (a tag object for annotated tags).
    pub(crate) target: gix::ObjectId,
    /// The commit (or other object) after peeling annotated tags.
    pub(crate) peeled: gix::ObjectId,
    /// For symbolic refs (`HEAD`), the ref they point to.
    pub(crate) symref_target: Option<String>,
}

/// How much history a fetch brings.
///
/// A compare needs two trees, not the history behind them, so mirrors are shallow: a fetch
/// brings the commits asked for and nothing older (in a monorepo of 1,500 commits, a few
/// hundred KB instead of every pack). History is fetched only when a lookup needs it, an
/// abbreviated commit id that is none of the tips, or a commit the server will not serve by
/// id: then the mirror is deepened to the remote's whole history, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum History {
    /// Only the commits the refspecs name (depth 1 at the remote).
    Tips,
    /// Everything reachable from the refspecs: the mirror stops being shallow.
    Complete,
}

impl History {
    fn shallow(self, repo: &gix::Repository) -> gix::remote::fetch::Shallow {
        use gix::remote::fetch::Shallow;
        match self {
            History::Tips => Shallow::DepthAtRemote(std::num::NonZeroU32::MIN),
            History::Complete if repo.is_shallow().unwrap_or(true) => Shallow::undo(),
            History::Complete => Shallow::NoChange,
        }
    }
}

/// What a fetch mapped: remote ref name (or object id) → local ref.
#[derive(Debug, Clone)]
pub(crate) struct FetchOutcome {
    pub(crate) updated: Vec<String>,
}

/// rustls needs a process-wide crypto provider; use ring's unless the program installed one.
fn ensure_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Runs `op` and retries transient failures with exponential backoff until the deadline.
fn with_retries<T>(
    inner: &Inner,
    url: &RepoUrl,
    operation: &str,
    interrupt: &AtomicBool,
    mut op: impl FnMut() -> Result<T, GitError>,
) -> Result<T> {
    ensure_crypto_provider();
    let started = Instant::now();
    let deadline = inner.config.network_deadline;
    let attempts = Cell::new(0u32);
    let backoff = ExponentialBuilder::default()
        .with_min_delay(inner.config.retry_min_delay)
        .with_max_delay(Duration::from_secs(5))
        .with_jitter()
        .without_max_times()
        .with_total_delay(Some(deadline));
    let result = (|| {
        if interrupt.load(Ordering::Relaxed) {
            return Err(GitError::message("cancelled"));
        }
        attempts.set(attempts.get() + 1);
        op()
    })
    .retry(backoff)
    .sleep(std::thread::sleep)
    .when(|e: &GitError| e.is_transient() && started.elapsed() < deadline && !interrupt.load(Ordering::Relaxed))
    .notify(|e: &GitError, delay: Duration| {
        warn!(repo = %url, operation, attempt = attempts.get(), error = %e, ?delay, "git network operation failed; retrying");
    })
    .call();
    if result.is_err() && interrupt.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    result.map_err(|source| Error::RepositoryUnreachable {
        url: url.to_string(),
        tried: format!(
            "{operation}: {} attempt{} over {:.1}s",
            attempts.get(),
            if attempts.get() == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64()
        ),
        source,
    })
}

/// Fetches `refspecs` from `url` into `repo` with as much `history` as asked, authenticating
/// as `auth`. Returns the local refs that were written.
///
/// A refspec whose source the remote does not have simply maps nothing. An error that says the
/// remote refused a request (for example a commit id it does not serve) is returned as
/// [`Error::Git`] so callers can fall back; refused credentials are [`Error::AccessDenied`].
pub(crate) fn fetch(
    inner: &Inner,
    repo: &gix::Repository,
    url: &RepoUrl,
    auth: &GitAuth,
    refspecs: &[String],
    history: History,
    interrupt: &AtomicBool,
) -> Result<FetchOutcome> {
    debug!(repo = %url, ?refspecs, ?history, "fetching");
    let mut permanent: Option<GitError> = None;
    let mut fatal: Option<Error> = None;
    let result = with_retries(inner, url, "fetch", interrupt, || {
        inner.counters.fetches.fetch_add(1, Ordering::Relaxed);
        let outcome = authenticated(inner, url, auth, &mut fatal, |session| {
            let prepared = session.prepare(repo)?;
            let repo: &gix::Repository = &prepared;
            let remote = repo
                .remote_at_without_url_rewrite(url.fetch_url())?
                .with_fetch_tags(gix::remote::fetch::Tags::Included)
                .with_refspecs(refspecs.iter().map(String::as_str), Direction::Fetch)?;
            let connection = session.connect(repo, &remote)?;
            let prepare = connection
                .prepare_fetch(gix::progress::Discard, Default::default())?
                .with_shallow(history.shallow(repo));
            if prepare.ref_map().is_missing_required_mapping() {
                // The remote has none of the refs asked for: nothing to fetch.
                return Ok(None);
            }
            prepare.receive(gix::progress::Discard, interrupt).map(Some)
        });
        outcome.inspect_err(|err| {
            if !err.is_transient() && looks_like_refusal(err.as_str()) {
                permanent = Some(err.clone());
            }
        })
    });
    if let Some(e) = fatal {
        return Err(e);
    }
    match result {
        Ok(None) => Ok(FetchOutcome {
            updated: Vec::new(),
        }),
        Ok(Some(outcome)) => {
            let updated = outcome
                .ref_map
                .mappings
                .iter()
                .filter_map(|m| m.local.as_ref().map(|l| l.to_string()))
                .collect();
            Ok(FetchOutcome { updated })
        }
        Err(Error::Cancelled) => Err(Error::Cancelled),
        Err(e) => match permanent {
            Some(source) => Err(Error::Git {
                operation: "fetch",
                source,
            }),
            None => Err(e),
        },
    }
}

/// How one connection authenticates and where it may connect: the credentials sent in the
/// `Authorization` header, and the addresses a host name is pinned to.
pub(crate) struct Session {
    credentials: Option<Credentials>,
    pin: Option<(String, Vec<SocketAddr>)>,
    /// Proxies from the environment would bypass the address check: off unless the policy
    /// allows private addresses anyway.
    no_proxy: bool,
    /// The ssh command git would run (`GIT_SSH_COMMAND`, `GIT_SSH`), for the user's own git.
    ssh_command: Option<String>,
    /// Set when the remote asked for credentials (HTTP 401 at the handshake).
    challenged: Arc<AtomicBool>,
}

impl Session {
    /// The repository to talk through: `repo`, with the user's ssh command when git would use
    /// one (mirrors are opened isolated from the environment, so it is set here).
    pub(crate) fn prepare<'r>(
        &self,
        repo: &'r gix::Repository,
    ) -> Result<std::borrow::Cow<'r, gix::Repository>, gix::Error> {
        let Some(command) = &self.ssh_command else {
            return Ok(std::borrow::Cow::Borrowed(repo));
        };
        let mut repo = repo.clone();
        let mut config = repo.config_snapshot_mut();
        config.set_raw_value(gix::config::tree::Core::SSH_COMMAND, command.as_str())?;
        config.commit()?;
        Ok(std::borrow::Cow::Owned(repo))
    }

    /// Connects `remote` with this session's credentials, addresses and credential callback.
    pub(crate) fn connect<'remote, 'repo>(
        &self,
        repo: &'repo gix::Repository,
        remote: &'remote gix::Remote<'repo>,
    ) -> Result<
        gix::remote::Connection<'remote, 'static, 'repo, Box<dyn Transport + Send>>,
        gix::Error,
    > {
        let mut connection = remote.connect(Direction::Fetch)?;
        if let Some(mut options) = repo.transport_options(remote_url(remote).as_str(), None)? {
            if let Some(http) = options.downcast_mut::<http::Options>() {
                let pin = self.pin.clone();
                let no_proxy = self.no_proxy;
                let header = self.credentials.as_ref().map(Credentials::header);
                let backend = http::reqwest::Options {
                    configure_client: Some(Box::new(move |mut builder| {
                        if no_proxy {
                            builder = builder.no_proxy();
                        }
                        if let Some((host, addrs)) = &pin {
                            builder = builder.resolve_to_addrs(host, addrs);
                        }
                        Ok(builder)
                    })),
                    configure_request: header.map(|header| {
                        Box::new(move |request: &mut reqwest::blocking::Request| {
                            if let Ok(mut value) = reqwest::header::HeaderValue::from_str(&header) {
                                value.set_sensitive(true);
                                request
                                    .headers_mut()
                                    .insert(reqwest::header::AUTHORIZATION, value);
                            }
                            Ok(())
                        }) as Box<http::reqwest::ConfigureRequestFn>
                    }),
                };
                http.backend = Some(Arc::new(Mutex::new(backend)));
            }
            connection = connection.with_transport_options(options);
        }
        let challenged = self.challenged.clone();
        // Credentials only ever come from the session (sent with every request); when the
        // remote asks for more, the answer is none: never a prompt, never a helper here (the
        // user's git is asked by `authenticated`, which then retries with what it gave).
        Ok(connection.with_credentials(move |action| {
            if matches!(action, gix::credentials::helper::Action::Get(_)) {
                challenged.store(true, Ordering::Relaxed);
            }
            Ok(None)
        }))
    }
}

/// Asks the user's own git (`git credential fill`, `approve` or `reject`): their credential
/// helpers, `GIT_ASKPASS`, or a terminal prompt, as git would for this URL. `fill` answers
/// the credentials, or `None` when git has none to give (or is not installed).
fn git_credential(action: &str, url: &str, known: Option<&Credentials>) -> Option<Credentials> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut input = format!("url={url}\n");
    if let Some(c) = known {
        input.push_str(&format!(
            "username={}\npassword={}\n",
            c.username,
            c.password()
        ));
    }
    input.push('\n');
    let mut child = Command::new("git")
        .args(["credential", action])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| debug!(error = %e, "git credential could not run"))
        .ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().ok()?;
    if action != "fill" || !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    };
    Some(Credentials::new(field("username")?, field("password")?))
}

/// The ssh command git would run: `GIT_SSH_COMMAND` (a shell command), else `GIT_SSH` (a
/// program).
fn user_ssh_command() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    var("GIT_SSH_COMMAND").or_else(|| var("GIT_SSH"))
}

fn remote_url(remote: &gix::Remote<'_>) -> String {
    remote
        .url(Direction::Fetch)
        .map(|u| u.to_bstring().to_string())
        .unwrap_or_default()
}

/// Runs `op` with a session for `auth`: credentials asked from their source, the host's
/// addresses resolved and checked (connect-time check, pinned). Credentials the remote refuses
/// are asked for again once (`refresh`: a token that expired mid-fetch), then the operation
/// fails for good with [`Error::AccessDenied`] in `fatal`; so does a connect-time policy
/// refusal. Error texts are redacted of the credentials used.
fn authenticated<T>(
    inner: &Inner,
    url: &RepoUrl,
    auth: &GitAuth,
    fatal: &mut Option<Error>,
    mut op: impl FnMut(&Session) -> Result<T, gix::Error>,
) -> Result<T, GitError> {
    let policy = &inner.config.policy;
    let mut refresh = false;
    // The user's own credentials (CLI), asked for once the remote wants some.
    let mut user: Option<Credentials> = None;
    let mut asked_user = false;
    let mut from_helper = false;
    loop {
        let credentials = match auth {
            GitAuth::Source { source, .. } => match source.credentials(refresh) {
                Ok(c) => Some(c),
                Err(reason) => {
                    let reason = if refresh {
                        format!(
                            "the credentials were refused and new ones could not be had: {reason}"
                        )
                    } else {
                        format!("no credentials could be had: {reason}")
                    };
                    *fatal = Some(Error::AccessDenied {
                        url: url.to_string(),
                        reason,
                    });
                    return Err(GitError::message("access denied"));
                }
            },
            GitAuth::Anonymous => None,
            GitAuth::UserGit => user.clone(),
        };
        let pin = match policy.pin(url, &*inner.config.resolver) {
            Ok(p) => p,
            Err(e) => {
                let transient = matches!(e, Error::RepositoryUnreachable { .. });
                let text = e.to_string();
                if transient {
                    return Err(GitError::transient(text));
                }
                *fatal = Some(e);
                return Err(GitError::message(text));
            }
        };
        let session = Session {
            credentials,
            pin,
            no_proxy: !policy.allow_private_addresses,
            ssh_command: (matches!(auth, GitAuth::UserGit) && url.is_ssh())
                .then(user_ssh_command)
                .flatten(),
            challenged: Arc::new(AtomicBool::new(false)),
        };
        let secrets: Vec<&str> = session
            .credentials
            .iter()
            .map(Credentials::password)
            .collect();
        match op(&session) {
            Ok(v) => {
                if from_helper && let Some(c) = &user {
                    git_credential("approve", url.fetch_url(), Some(c));
                }
                return Ok(v);
            }
            Err(e) => {
                let err = GitError::new(&e, &secrets);
                let denied = session.challenged.load(Ordering::Relaxed)
                    || err.as_str().contains("status 401");
                if !denied {
                    return Err(err);
                }
                if matches!(auth, GitAuth::UserGit) && !url.is_ssh() {
                    if !asked_user {
                        // As git: `~/.netrc` for the host, else `git credential fill`.
                        asked_user = true;
                        user = url.host().and_then(crate::auth::netrc_credentials);
                        if user.is_none() {
                            user = git_credential("fill", url.fetch_url(), None);
                            from_helper = user.is_some();
                        }
                        if user.is_some() {
                            debug!(repo = %url, "the repository wants credentials; using the user's");
                            continue;
                        }
                    } else if from_helper && let Some(c) = &user {
                        git_credential("reject", url.fetch_url(), Some(c));
                    }
                }
                if let GitAuth::Source { source, .. } = auth
                    && source.can_refresh()
                    && !refresh
                {
                    debug!(repo = %url, "credentials refused; asking for fresh ones");
                    refresh = true;
                    continue;
                }
                *fatal = Some(Error::AccessDenied {
                    url: url.to_string(),
                    reason: match auth {
                        GitAuth::Anonymous => {
                            "the repository needs credentials (HTTP 401): it is private, or it \
                             does not exist"
                                .to_owned()
                        }
                        GitAuth::Source { .. } => {
                            "the repository refused the credentials (HTTP 401); check that \
                             they are valid and may read this repository"
                                .to_owned()
                        }
                        GitAuth::UserGit => format!(
                            "the repository refused the credentials git found (HTTP 401): {}",
                            err.as_str()
                        ),
                    },
                });
                return Err(err);
            }
        }
    }
}

/// Lists the remote's branches, tags and `HEAD` without fetching anything.
pub(crate) fn ls_remote(
    inner: &Inner,
    repo: &gix::Repository,
    url: &RepoUrl,
    auth: &GitAuth,
) -> Result<Vec<RemoteRef>> {
    let never = AtomicBool::new(false);
    let mut fatal: Option<Error> = None;
    let ref_map = with_retries(inner, url, "list refs", &never, || {
        inner.counters.ls_remotes.fetch_add(1, Ordering::Relaxed);
        authenticated(inner, url, auth, &mut fatal, |session| {
            let prepared = session.prepare(repo)?;
            let repo: &gix::Repository = &prepared;
            let remote = repo
                .remote_at_without_url_rewrite(url.fetch_url())?
                .with_fetch_tags(gix::remote::fetch::Tags::None)
                .with_refspecs(
                    [
                        "+HEAD:refs/x/HEAD",
                        "+refs/heads/*:refs/x/heads/*",
                        "+refs/tags/*:refs/x/tags/*",
                    ],
                    Direction::Fetch,
                )?;
            let (ref_map, _handshake) = session
                .connect(repo, &remote)?
                .ref_map(gix::progress::Discard, Default::default())?;
            Ok(ref_map)
        })
    });
    if let Some(e) = fatal {
        return Err(e);
    }
    let ref_map = ref_map?;
    let mut out = Vec::new();
    for r in &ref_map.remote_refs {
        use gix::protocol::handshake::Ref;
        let (name, target, peeled, symref) = match r {
            Ref::Direct {
                full_ref_name,
                object,
            } => (full_ref_name, *object, *object, None),
            Ref::Peeled {
                full_ref_name,
                tag,
                object,
            } => (full_ref_name, *tag, *object, None),
            Ref::Symbolic {
                full_ref_name,
                target,
                tag,
                object,
            } => (
                full_ref_name,
                tag.unwrap_or(*object),
                *object,
                Some(target.to_string()),
            ),
            Ref::Unborn { .. } => continue,
        };
        out.push(RemoteRef {
            name: name.to_string(),
            target,
            peeled,
            symref_target: symref,
        });
    }
    Ok(out)
}

/// Whether the remote answered but refused what we asked for (as opposed to being unreachable).
fn looks_like_refusal(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "not our ref",
        "upload-pack: not our",
        "invalid want",
        "not a valid object",
        "unadvertised object",
    ]
    .iter()
    .any(|s| m.contains(s))
}
