//! One blocking HTTP client for every repository: the URL policy on every request and redirect,
//! per-host credentials, size-capped bodies, and retries of transient failures (connection
//! errors, timeouts, 5xx, 429 with `Retry-After`) within the call's deadline.

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::time::{Duration, Instant};

use chart_source::UrlPolicy;
use reqwest::Url;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tracing::{debug, warn};

use crate::credentials::Credentials;
use crate::policy::{self, PolicyResolver, Refusal, redact};
use crate::{Error, Result};

/// When to give up and how to stop a call: a deadline and a cancel flag, both optional.
///
/// Retries of a failing repository continue until the deadline (or, without one, until the
/// client's default network deadline), then the error names the repository.
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// Stop talking to repositories at this instant.
    pub deadline: Option<Instant>,
    /// Set to stop at the next request or retry.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Call {
    /// A call that stops `timeout` from now.
    pub fn with_timeout(timeout: Duration) -> Call {
        Call {
            deadline: Some(Instant::now() + timeout),
            cancel: None,
        }
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// Counts of what the network and the cache did, for tests and metrics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) index_downloads: AtomicU64,
    pub(crate) index_not_modified: AtomicU64,
    pub(crate) index_memory_hits: AtomicU64,
    pub(crate) archive_downloads: AtomicU64,
    pub(crate) archive_cache_hits: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Which `Authorization` to send.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// None.
    Anonymous,
    /// The configured credentials for the URL's host, if any.
    Host,
    /// This header value (an OCI bearer token).
    Header(String),
}

pub(crate) struct Request<'a> {
    pub(crate) url: &'a Url,
    pub(crate) accept: Option<&'a str>,
    pub(crate) auth: Auth,
    /// Conditional request validators: `ETag`, `Last-Modified`.
    pub(crate) etag: Option<&'a str>,
    pub(crate) last_modified: Option<&'a str>,
    pub(crate) max_bytes: u64,
    /// `repository index`, `chart archive` … for size errors.
    pub(crate) what: &'static str,
    /// The repository, redacted, for errors.
    pub(crate) repository: &'a str,
}

impl<'a> Request<'a> {
    pub(crate) fn get(url: &'a Url, what: &'static str, repository: &'a str, max: u64) -> Self {
        Request {
            url,
            accept: None,
            auth: Auth::Host,
            etag: None,
            last_modified: None,
            max_bytes: max,
            what,
            repository,
        }
    }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// Whether credentials (configured or a token) were sent.
    pub(crate) sent_auth: bool,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(crate) struct HttpConfig {
    pub(crate) request_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) default_deadline: Duration,
    pub(crate) retry_min_delay: Duration,
    pub(crate) user_agent: String,
}

pub(crate) struct Http {
    /// Built at the first request: most compares find every dependency in the chart or the
    /// cache, and building it starts a runtime thread and reads the system's certificates
    /// (a few milliseconds of a warm compare). An `Err` is why it could not be built.
    client: OnceLock<std::result::Result<reqwest::blocking::Client, String>>,
    pub(crate) policy: Arc<UrlPolicy>,
    pub(crate) credentials: Credentials,
    config: HttpConfig,
    pub(crate) counters: Arc<Counters>,
}

const MAX_REDIRECTS: usize = 10;

impl Http {
    pub(crate) fn new(
        policy: UrlPolicy,
        credentials: Credentials,
        config: HttpConfig,
        counters: Arc<Counters>,
    ) -> Result<Http> {
        static PROVIDER: Once = Once::new();
        PROVIDER.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        Ok(Http {
            client: OnceLock::new(),
            policy: Arc::new(policy),
            credentials,
            config,
            counters,
        })
    }

    /// The HTTP client, built on first use. reqwest's blocking client starts a runtime of its
    /// own, which it refuses to do on a thread inside one (servers call engines from async
    /// code): it is built on a thread of its own.
    fn client(&self) -> Result<&reqwest::blocking::Client> {
        self.client
            .get_or_init(|| {
                std::thread::scope(|s| s.spawn(|| self.build_client()).join())
                    .unwrap_or_else(|_| Err("building it panicked".into()))
            })
            .as_ref()
            .map_err(|e| Error::Config(format!("http client: {e}")))
    }

    fn build_client(&self) -> std::result::Result<reqwest::blocking::Client, String> {
        let config = &self.config;
        let redirect_policy = self.policy.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                let url = redact(attempt.url());
                return attempt.error(Refusal {
                    url,
                    reason: format!("more than {MAX_REDIRECTS} redirects"),
                });
            }
            match policy::check(&redirect_policy, attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(mut r) => {
                    r.reason = format!("redirect refused: {}", r.reason);
                    attempt.error(r)
                }
            }
        });
        reqwest::blocking::Client::builder()
            .user_agent(config.user_agent.clone())
            .redirect(redirects)
            .dns_resolver(Arc::new(PolicyResolver {
                policy: self.policy.clone(),
            }))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // Proxies from the environment would bypass the address checks.
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())
    }

    /// Checks `url` against the policy without a request.
    pub(crate) fn check(&self, url: &Url) -> Result<()> {
        policy::check(&self.policy, url).map_err(Error::from)
    }

    /// GETs `req.url`: retries transient failures within the deadline, returns every other
    /// answer (the caller reads 200, 304, 401, 404 …) with a body of at most `max_bytes`.
    pub(crate) fn get(&self, req: &Request<'_>, call: &Call) -> Result<Response> {
        self.check(req.url)?;
        let started = Instant::now();
        let deadline = call
            .deadline
            .unwrap_or(started + self.config.default_deadline);
        let mut attempts = 0u32;
        let mut delay = self.config.retry_min_delay;
        loop {
            if call.cancelled() {
                return Err(Error::Cancelled);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::DeadlineExceeded {
                    repository: req.repository.to_owned(),
                });
            }
            attempts += 1;
            let outcome = self.once(req, left.min(self.config.request_timeout));
            let (reason, retry_after) = match outcome {
                Ok(Attempt::Done(r)) => return Ok(r),
                Ok(Attempt::Transient {
                    reason,
                    retry_after,
                }) => (reason, retry_after),
                Err(e) => return Err(e),
            };
            let wait = retry_after.unwrap_or(delay).max(delay);
            let over = Instant::now() + wait >= deadline;
            if over || call.cancelled() {
                if call.cancelled() {
                    return Err(Error::Cancelled);
                }
                return Err(Error::Unreachable {
                    repository: req.repository.to_owned(),
                    tried: format!(
                        "GET {}: {attempts} attempt{} over {:.1}s",
                        redact(req.url),
                        if attempts == 1 { "" } else { "s" },
                        started.elapsed().as_secs_f64()
                    ),
                    reason,
                });
            }
            warn!(repository = req.repository, url = %redact(req.url), attempt = attempts, %reason, ?wait, "chart repository request failed; retrying");
            std::thread::sleep(wait);
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    fn once(&self, req: &Request<'_>, timeout: Duration) -> Result<Attempt> {
        bump(&self.counters.requests);
        let mut b = self.client()?.get(req.url.clone()).timeout(timeout);
        if let Some(a) = req.accept {
            b = b.header(header::ACCEPT, a);
        }
        if let Some(e) = req.etag {
            b = b.header(header::IF_NONE_MATCH, e);
        }
        if let Some(l) = req.last_modified {
            b = b.header(header::IF_MODIFIED_SINCE, l);
        }
        let auth = match &req.auth {
            Auth::Anonymous => None,
            Auth::Host => self.credentials.for_url(req.url).map(|s| s.header()),
            Auth::Header(h) => Some(h.clone()),
        };
        let sent_auth = auth.is_some();
        if let Some(a) = auth {
            let mut v = HeaderValue::from_str(&a).map_err(|_| {
                Error::Config("credentials contain characters not allowed in a header".into())
            })?;
            v.set_sensitive(true);
            b = b.header(header::AUTHORIZATION, v);
        }
        debug!(url = %redact(req.url), "GET");
        let resp = match b.send() {
            Ok(r) => r,
            Err(e) => {
                if let Some(r) = policy::find_refusal(&e) {
                    return Err(Error::NotAllowed {
                        url: r.url.clone(),
                        reason: r.reason.clone(),
                    });
                }
                return Ok(Attempt::Transient {
                    reason: describe(&e),
                    retry_after: None,
                });
            }
        };
        let status = resp.status().as_u16();
        if status == 429 || matches!(status, 500 | 502 | 503 | 504) {
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let reason = if status == 429 {
                "rate-limited (HTTP 429)".to_owned()
            } else {
                format!("HTTP {status}")
            };
            return Ok(Attempt::Transient {
                reason,
                retry_after,
            });
        }
        if status == 200
            && let Some(len) = resp.content_length()
            && len > req.max_bytes
        {
            return Err(Error::TooLarge {
                what: req.what,
                url: redact(req.url),
                limit: req.max_bytes,
            });
        }
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        if let Err(e) = resp.take(req.max_bytes + 1).read_to_end(&mut body) {
            return Ok(Attempt::Transient {
                reason: format!("reading the response: {e}"),
                retry_after: None,
            });
        }
        if body.len() as u64 > req.max_bytes {
            return Err(Error::TooLarge {
                what: req.what,
                url: redact(req.url),
                limit: req.max_bytes,
            });
        }
        Ok(Attempt::Done(Response {
            status,
            headers,
            body,
            sent_auth,
        }))
    }
}

enum Attempt {
    Done(Response),
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// A reqwest error in words, without the URL (which may carry a query) and its chain.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_redirect() {
        "redirect failed"
    } else {
        "request failed"
    };
    let mut inner = Vec::new();
    let mut cur = std::error::Error::source(e);
    while let Some(s) = cur {
        inner.push(s.to_string());
        cur = s.source();
    }
    match inner.last() {
        Some(root) => format!("{kind}: {root}"),
        None => kind.to_owned(),
    }
}
