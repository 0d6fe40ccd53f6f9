//! Talking to remotes: fetch and ls-remote, with retries and backoff within a deadline.

use std::{
    cell::Cell,
    sync::{Once, atomic::AtomicBool, atomic::Ordering},
    time::{Duration, Instant},
};

use backon::{BlockingRetryable, ExponentialBuilder};
use gix::remote::Direction;
use tracing::{debug, warn};

use crate::{Error, GitError, RepoUrl, Result, cache::Inner};

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

/// Fetches `refspecs` from `url` into `repo` with as much `history` as asked. Returns the local
/// refs that were written.
///
/// A refspec whose source the remote does not have simply maps nothing. An error that says the
/// remote refused a request (for example a commit id it does not serve) is returned as
/// [`Error::Git`] so callers can fall back.
pub(crate) fn fetch(
    inner: &Inner,
    repo: &gix::Repository,
    url: &RepoUrl,
    refspecs: &[String],
    history: History,
    interrupt: &AtomicBool,
) -> Result<FetchOutcome> {
    let secrets = url.secrets();
    debug!(repo = %url, ?refspecs, ?history, "fetching");
    let mut permanent: Option<GitError> = None;
    let result = with_retries(inner, url, "fetch", interrupt, || {
        inner.counters.fetches.fetch_add(1, Ordering::Relaxed);
        let attempt = || -> Result<Option<gix::remote::fetch::Outcome>, gix::Error> {
            let remote = repo
                .remote_at_without_url_rewrite(url.fetch_url())?
                .with_fetch_tags(gix::remote::fetch::Tags::Included)
                .with_refspecs(refspecs.iter().map(String::as_str), Direction::Fetch)?;
            let connection = remote.connect(Direction::Fetch)?;
            let prepare = connection
                .prepare_fetch(gix::progress::Discard, Default::default())?
                .with_shallow(history.shallow(repo));
            if prepare.ref_map().is_missing_required_mapping() {
                // The remote has none of the refs asked for: nothing to fetch.
                return Ok(None);
            }
            prepare.receive(gix::progress::Discard, interrupt).map(Some)
        };
        attempt().map_err(|e| {
            let err = GitError::new(&e, &secrets);
            if !err.is_transient() && looks_like_refusal(err.as_str()) {
                permanent = Some(err.clone());
            }
            err
        })
    });
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

/// Lists the remote's branches, tags and `HEAD` without fetching anything.
pub(crate) fn ls_remote(
    inner: &Inner,
    repo: &gix::Repository,
    url: &RepoUrl,
) -> Result<Vec<RemoteRef>> {
    let secrets = url.secrets();
    let never = AtomicBool::new(false);
    let ref_map = with_retries(inner, url, "list refs", &never, || {
        inner.counters.ls_remotes.fetch_add(1, Ordering::Relaxed);
        let attempt = || -> Result<gix::remote::fetch::RefMap, gix::Error> {
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
            let (ref_map, _handshake) = remote
                .connect(Direction::Fetch)?
                .ref_map(gix::progress::Discard, Default::default())?;
            Ok(ref_map)
        };
        attempt().map_err(|e| GitError::new(&e, &secrets))
    })?;
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
