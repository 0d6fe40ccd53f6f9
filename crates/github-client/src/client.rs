//! The client: configuration, authentication, and one request loop that applies the retry,
//! rate-limit, redirect and caching rules of reference §4 and R19–R25.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use crate::auth::AppSigner;
use crate::ratelimit::{self, Limited, now_secs};
use crate::{Auth, DeliveryId, Error, RateLimitSnapshot, SecretString, link};

/// The REST API version every request pins (reference §3.6, R19).
pub const API_VERSION: &str = "2022-11-28";
/// At most this many redirect hops, all on the API host (reference R24).
const MAX_REDIRECTS: usize = 3;
/// Installation tokens are refreshed when fewer than this many seconds remain (R25).
const TOKEN_REFRESH_MARGIN_SECS: i64 = 60;
/// Bound on the ETag cache.
const ETAG_CACHE_ENTRIES: usize = 1024;

#[derive(Debug, Clone)]
struct Config {
    auth: Option<Auth>,
    user_agent: String,
    api_version: String,
    max_retries: u32,
    min_write_spacing: Duration,
    secondary_rate_limit_wait: Duration,
    retry_backoff: Duration,
    rate_limit_floor: u64,
    max_rate_limit_wait: Duration,
    timeout: Duration,
    max_concurrent_reads: usize,
    check_runs_with_token: bool,
    send_delivery_ids: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            auth: None,
            user_agent: format!("chartimpact/{}", env!("CARGO_PKG_VERSION")),
            api_version: API_VERSION.to_string(),
            max_retries: 3,
            min_write_spacing: Duration::from_secs(1),
            secondary_rate_limit_wait: Duration::from_secs(60),
            retry_backoff: Duration::from_secs(1),
            rate_limit_floor: 50,
            max_rate_limit_wait: Duration::from_secs(15 * 60),
            timeout: Duration::from_secs(30),
            max_concurrent_reads: 10,
            check_runs_with_token: false,
            send_delivery_ids: true,
        }
    }
}

/// Builds a [`GithubClient`]; every knob has a default that follows reference §4.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    api_url: String,
    config: Config,
}

impl ClientBuilder {
    /// Credentials (required).
    pub fn auth(&mut self, auth: Auth) -> &mut Self {
        self.config.auth = Some(auth);
        self
    }
    /// `User-Agent` (default `chartimpact/<version>`, reference §3.6).
    pub fn user_agent(&mut self, ua: impl Into<String>) -> &mut Self {
        self.config.user_agent = ua.into();
        self
    }
    /// `X-GitHub-Api-Version` (default [`API_VERSION`]).
    pub fn api_version(&mut self, v: impl Into<String>) -> &mut Self {
        self.config.api_version = v.into();
        self
    }
    /// Retries after a rate limit, 5xx or network error (default 3, reference R20).
    pub fn max_retries(&mut self, n: u32) -> &mut Self {
        self.config.max_retries = n;
        self
    }
    /// Minimum time between two writes of one installation (default 1 s, reference R19).
    pub fn min_write_spacing(&mut self, d: Duration) -> &mut Self {
        self.config.min_write_spacing = d;
        self
    }
    /// Minimum wait after a secondary rate limit without `retry-after` (default 60 s, R20).
    pub fn secondary_rate_limit_wait(&mut self, d: Duration) -> &mut Self {
        self.config.secondary_rate_limit_wait = d;
        self
    }
    /// First backoff after a 5xx or network error, doubled per retry (default 1 s).
    pub fn retry_backoff(&mut self, d: Duration) -> &mut Self {
        self.config.retry_backoff = d;
        self
    }
    /// Pause before a request while `x-ratelimit-remaining` is below this (default 50, R21).
    pub fn rate_limit_floor(&mut self, n: u64) -> &mut Self {
        self.config.rate_limit_floor = n;
        self
    }
    /// Never sleep longer than this for a rate limit; fail with
    /// [`Error::RateLimited`] instead (default 15 min).
    pub fn max_rate_limit_wait(&mut self, d: Duration) -> &mut Self {
        self.config.max_rate_limit_wait = d;
        self
    }
    /// Per-request timeout (default 30 s).
    pub fn timeout(&mut self, d: Duration) -> &mut Self {
        self.config.timeout = d;
        self
    }
    /// Reads in flight at once (default 10, reference R19).
    pub fn max_concurrent_reads(&mut self, n: usize) -> &mut Self {
        self.config.max_concurrent_reads = n.max(1);
        self
    }

    /// Sends check runs with token auth instead of refusing them up front (default off).
    ///
    /// For a token that is really an installation token: GitHub Actions' `GITHUB_TOKEN` is
    /// one (of the GitHub Actions App) and may write check runs when the workflow grants
    /// `checks: write`. A personal access token never can; GitHub then answers 403, which
    /// the caller sees as [`Error::Http`] with status 403.
    pub fn check_runs_with_token(&mut self, allow: bool) -> &mut Self {
        self.config.check_runs_with_token = allow;
        self
    }

    /// Whether the clients of [`GithubClient::for_delivery`] send `X-GitHub-Delivery` (default
    /// on, reference R32). Off, they send what the client itself sends.
    pub fn send_delivery_ids(&mut self, send: bool) -> &mut Self {
        self.config.send_delivery_ids = send;
        self
    }

    /// Builds the client.
    pub fn build(&self) -> Result<GithubClient, Error> {
        static PROVIDER: Once = Once::new();
        PROVIDER.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let config = self.config.clone();
        let auth = config.auth.clone().ok_or_else(|| Error::Config {
            reason: "no credentials: call auth()".into(),
        })?;
        let base = Url::parse(self.api_url.trim_end_matches('/')).map_err(|e| Error::Config {
            reason: format!("api url: {e}"),
        })?;
        if base.host_str().is_none() || !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config {
                reason: "api url must be http(s) with a host".into(),
            });
        }
        let signer = match &auth {
            Auth::App {
                app_id,
                private_key_pem,
            } => Some(AppSigner::from_pem(*app_id, private_key_pem)?),
            Auth::Token(_) => None,
        };
        let origin = base.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS || !same_origin(attempt.url(), &origin) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_str(&config.api_version).map_err(|_| Error::Config {
                reason: "api version is not a valid header value".into(),
            })?,
        );
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .default_headers(headers)
            .redirect(policy)
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::Config {
                reason: format!("http client: {e}"),
            })?;
        Ok(GithubClient {
            inner: Arc::new(Inner {
                reads: Semaphore::new(config.max_concurrent_reads),
                config,
                base,
                http,
                auth,
                signer,
                tokens: tokio::sync::Mutex::new(HashMap::new()),
                write_slots: Mutex::new(HashMap::new()),
                etags: Mutex::new(HashMap::new()),
                rate: Mutex::new(RateLimitSnapshot::default()),
            }),
            delivery: None,
        })
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[derive(Clone)]
struct CachedToken {
    token: SecretString,
    expires_at: jiff::Timestamp,
}

#[derive(Clone)]
struct CachedBody {
    etag: HeaderValue,
    body: Vec<u8>,
    link: Option<HeaderValue>,
}

struct Inner {
    config: Config,
    base: Url,
    http: reqwest::Client,
    auth: Auth,
    signer: Option<AppSigner>,
    tokens: tokio::sync::Mutex<HashMap<u64, CachedToken>>,
    write_slots: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
    etags: Mutex<HashMap<String, CachedBody>>,
    rate: Mutex<RateLimitSnapshot>,
    reads: Semaphore,
}

/// A GitHub REST client. Cheap to clone (an `Arc` inside); share one per process.
///
/// Every request carries `User-Agent`, `Accept: application/vnd.github+json`,
/// `X-GitHub-Api-Version` and `Authorization: Bearer …` (reference R19).
///
/// [`for_delivery`](GithubClient::for_delivery) gives a handle on the same client (same token
/// cache, write spacing and rate-limit state) whose requests also carry the webhook delivery
/// that caused them (R32).
#[derive(Clone)]
pub struct GithubClient {
    inner: Arc<Inner>,
    /// `X-GitHub-Delivery` to send with every request, for the work of one delivery.
    delivery: Option<HeaderValue>,
}

impl std::fmt::Debug for GithubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubClient")
            .field("api_url", &self.inner.base.as_str())
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Whether a failed request may be sent again (reference R20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads and updates of a known id: retry 5xx and network errors with backoff.
    Idempotent,
    /// Creates: never re-sent after an ambiguous failure (rate-limit refusals are still
    /// waited out, GitHub did not process those).
    NoBlindRetry,
}

/// One logical request.
pub(crate) struct Call {
    pub method: Method,
    /// A path starting with `/` (joined to the API URL) or an absolute URL on the API host.
    pub target: String,
    pub body: Option<Vec<u8>>,
    pub installation: Option<u64>,
    /// Authenticate as the App itself (JWT) instead of an installation.
    pub as_app: bool,
    pub retry: Retry,
    /// Use the ETag cache (GET only).
    pub cache: bool,
}

impl Call {
    pub(crate) fn get(target: impl Into<String>, installation: Option<u64>) -> Self {
        Call {
            method: Method::GET,
            target: target.into(),
            body: None,
            installation,
            as_app: false,
            retry: Retry::Idempotent,
            cache: true,
        }
    }

    pub(crate) fn write(
        method: Method,
        target: impl Into<String>,
        body: Option<&serde_json::Value>,
        installation: Option<u64>,
        retry: Retry,
    ) -> Self {
        Call {
            method,
            target: target.into(),
            body: body.map(|b| b.to_string().into_bytes()),
            installation,
            as_app: false,
            retry,
            cache: false,
        }
    }
}

/// A successful response.
pub(crate) struct Reply {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub method: Method,
    pub path: String,
}

impl Reply {
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            method: self.method.to_string(),
            path: self.path.clone(),
            source,
        })
    }

    fn next_link(&self) -> Option<String> {
        link::next_url(self.headers.get(header::LINK)?.to_str().ok()?)
    }
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn github_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| {
            String::from_utf8_lossy(body)
                .chars()
                .take(200)
                .collect::<String>()
        })
}

impl GithubClient {
    /// A builder for a client of the API at `api_url` (`https://api.github.com`, or
    /// `https://HOST/api/v3` for GitHub Enterprise Server, or a test server).
    pub fn builder(api_url: &str) -> ClientBuilder {
        ClientBuilder {
            api_url: api_url.to_string(),
            config: Config::default(),
        }
    }

    /// The same client for the work of one webhook delivery: every request it sends (token
    /// minting included) carries `X-GitHub-Delivery: <delivery>`, so GitHub's side and ours can
    /// be matched up (Probot's convention, reference R32). Unless turned off with
    /// [`ClientBuilder::send_delivery_ids`]. Shares everything else with `self`.
    ///
    /// ```
    /// use github_client::{Auth, DeliveryId, GithubClient};
    ///
    /// let client = GithubClient::builder("https://api.github.com")
    ///     .auth(Auth::Token("ghp_example".into()))
    ///     .build()?;
    /// let delivery: DeliveryId = "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse().unwrap();
    /// let for_job = client.for_delivery(&delivery);
    /// assert_eq!(for_job.delivery(), Some(delivery.as_str()));
    /// assert_eq!(client.delivery(), None);
    /// # Ok::<(), github_client::Error>(())
    /// ```
    pub fn for_delivery(&self, delivery: &DeliveryId) -> GithubClient {
        let header = self
            .inner
            .config
            .send_delivery_ids
            .then(|| HeaderValue::from_str(delivery.as_str()).ok())
            .flatten();
        GithubClient {
            inner: self.inner.clone(),
            delivery: header,
        }
    }

    /// The delivery id this handle sends in `X-GitHub-Delivery`, if any.
    pub fn delivery(&self) -> Option<&str> {
        self.delivery.as_ref().and_then(|d| d.to_str().ok())
    }

    /// The last rate-limit headers seen (reference R21); empty before the first response.
    pub fn rate_limit(&self) -> RateLimitSnapshot {
        self.inner.rate.lock().unwrap().clone()
    }

    /// Whether the client authenticates as a GitHub App.
    pub fn is_app(&self) -> bool {
        matches!(self.inner.auth, Auth::App { .. })
    }

    /// Whether check runs are sent with token auth ([`ClientBuilder::check_runs_with_token`]).
    pub(crate) fn check_runs_with_token(&self) -> bool {
        self.inner.config.check_runs_with_token
    }

    /// The token of token auth (`None` with App auth).
    pub(crate) fn personal_token(&self) -> Option<SecretString> {
        match &self.inner.auth {
            Auth::Token(t) => Some(t.clone()),
            Auth::App { .. } => None,
        }
    }

    pub(crate) fn resolve(&self, target: &str) -> Result<Url, Error> {
        if target.starts_with('/') {
            let base = self.inner.base.as_str().trim_end_matches('/');
            return Url::parse(&format!("{base}{target}")).map_err(|e| Error::Config {
                reason: format!("bad request path: {e}"),
            });
        }
        let url = Url::parse(target).map_err(|e| Error::Config {
            reason: format!("bad url from github: {e}"),
        })?;
        if !same_origin(&url, &self.inner.base) {
            // Never send our token to another host, even if GitHub's Link header says so.
            return Err(Error::RedirectRefused {
                status: 200,
                method: "GET".into(),
                path: target.split('?').next().unwrap_or_default().to_string(),
                host: url.host_str().unwrap_or_default().to_string(),
            });
        }
        Ok(url)
    }

    async fn bearer(&self, call: &Call) -> Result<SecretString, Error> {
        match (&self.inner.auth, &self.inner.signer) {
            (Auth::Token(t), _) => Ok(t.clone()),
            (Auth::App { .. }, Some(signer)) if call.as_app => signer.jwt(now_secs()),
            (Auth::App { .. }, Some(_)) => match call.installation {
                Some(id) => self.installation_token(id).await,
                None => Err(Error::Auth {
                    reason: "github app auth needs an installation id for this call".into(),
                }),
            },
            (Auth::App { .. }, None) => Err(Error::Auth {
                reason: "github app key not loaded".into(),
            }),
        }
    }

    /// The installation token, from cache while more than 60 s remain (reference R25).
    async fn installation_token(&self, installation: u64) -> Result<SecretString, Error> {
        let mut tokens = self.inner.tokens.lock().await;
        let now = jiff::Timestamp::now();
        if let Some(cached) = tokens.get(&installation)
            && cached.expires_at.as_second() - now.as_second() > TOKEN_REFRESH_MARGIN_SECS
        {
            return Ok(cached.token.clone());
        }
        tracing::debug!(
            installation_id = installation,
            "requesting installation token"
        );
        let call = Call {
            as_app: true,
            // Creating a token twice is harmless, so this POST may be retried.
            ..Call::write(
                Method::POST,
                format!("/app/installations/{installation}/access_tokens"),
                Some(&serde_json::json!({})),
                None,
                Retry::Idempotent,
            )
        };
        let reply = Box::pin(self.execute(call)).await?;
        let raw: crate::models::RawInstallationToken = reply.json()?;
        let expires_at: jiff::Timestamp = raw.expires_at.parse().map_err(|_| Error::Auth {
            reason: "installation token has an unreadable expires_at".into(),
        })?;
        let token = SecretString::new(raw.token);
        tokens.insert(
            installation,
            CachedToken {
                token: token.clone(),
                expires_at,
            },
        );
        Ok(token)
    }

    async fn forget_installation_token(&self, installation: u64) {
        self.inner.tokens.lock().await.remove(&installation);
    }

    fn write_slot(&self, installation: Option<u64>) -> Arc<tokio::sync::Mutex<Option<Instant>>> {
        let key = match self.inner.auth {
            Auth::Token(_) => 0,
            Auth::App { .. } => installation.unwrap_or(0),
        };
        self.inner
            .write_slots
            .lock()
            .unwrap()
            .entry(key)
            .or_default()
            .clone()
    }

    fn record_rate(&self, headers: &HeaderMap) {
        if let Some(snap) = ratelimit::snapshot(headers) {
            *self.inner.rate.lock().unwrap() = snap;
        }
    }

    /// Waits while `remaining` is under the floor and the window has not reset (R21).
    async fn preemptive_pause(&self) -> Result<(), Error> {
        let wait = {
            let snap = self.inner.rate.lock().unwrap();
            match (snap.remaining, snap.reset) {
                (Some(rem), Some(reset)) if rem < self.inner.config.rate_limit_floor => {
                    let now = now_secs();
                    (reset > now).then(|| Duration::from_secs(reset - now + 1))
                }
                _ => None,
            }
        };
        if let Some(wait) = wait {
            if wait > self.inner.config.max_rate_limit_wait {
                return Err(Error::RateLimited {
                    retry_after: Some(wait),
                });
            }
            tracing::warn!(
                wait_ms = wait.as_millis() as u64,
                "rate limit nearly exhausted, pausing"
            );
            tokio::time::sleep(wait).await;
            self.inner.rate.lock().unwrap().remaining = None;
        }
        Ok(())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.inner.config.retry_backoff * 2u32.saturating_pow(attempt)
    }

    /// Sends one logical request, applying every rule of reference R19–R25.
    pub(crate) async fn execute(&self, call: Call) -> Result<Reply, Error> {
        let url = self.resolve(&call.target)?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let method_name = call.method.to_string();
        let write = is_write(&call.method) && !call.as_app;
        // Writes are serialized per installation with a minimum spacing (R19).
        let slot = if write {
            let slot = self.write_slot(call.installation);
            let guard = slot.lock_owned().await;
            if let Some(last) = *guard {
                tokio::time::sleep_until((last + self.inner.config.min_write_spacing).into()).await;
            }
            Some(guard)
        } else {
            None
        };
        let cache_key = format!("{}|{}", call.installation.unwrap_or(0), url);
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        let result = loop {
            self.preemptive_pause().await?;
            let token = match self.bearer(&call).await {
                Ok(t) => t,
                Err(e) => break Err(e),
            };
            let mut auth =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    Error::Auth {
                        reason: "token is not a valid header value".into(),
                    }
                })?;
            auth.set_sensitive(true);
            let mut req = self
                .inner
                .http
                .request(call.method.clone(), url.clone())
                .header(header::AUTHORIZATION, auth);
            if let Some(delivery) = &self.delivery {
                req = req.header("x-github-delivery", delivery.clone());
            }
            let cached = if call.cache {
                self.inner.etags.lock().unwrap().get(&cache_key).cloned()
            } else {
                None
            };
            if let Some(c) = &cached {
                req = req.header(header::IF_NONE_MATCH, c.etag.clone());
            }
            if let Some(body) = &call.body {
                req = req
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let permit = if write {
                None
            } else {
                self.inner.reads.acquire().await.ok()
            };
            tracing::debug!(method = %call.method, path = %path, attempt, "github request");
            let sent = req.send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(source) => {
                    drop(permit);
                    if call.retry == Retry::Idempotent && attempt < self.inner.config.max_retries {
                        tracing::warn!(method = %call.method, path = %path, attempt, error = %source, "github request failed, retrying");
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    break Err(Error::Transport {
                        method: method_name.clone(),
                        path: path.clone(),
                        source,
                    });
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            self.record_rate(&headers);
            let body = match resp.bytes().await {
                Ok(b) => b.to_vec(),
                Err(source) => {
                    break Err(Error::Transport {
                        method: method_name.clone(),
                        path: path.clone(),
                        source,
                    });
                }
            };
            drop(permit);
            tracing::debug!(method = %call.method, path = %path, status = status.as_u16(), "github response");
            if status == StatusCode::NOT_MODIFIED
                && let Some(c) = cached
            {
                let mut headers = headers;
                if let Some(link) = c.link {
                    headers.insert(header::LINK, link);
                }
                break Ok(Reply {
                    headers,
                    body: c.body,
                    method: call.method.clone(),
                    path: path.clone(),
                });
            }
            if status.is_success() {
                if call.cache
                    && let Some(etag) = headers.get(header::ETAG)
                {
                    let mut etags = self.inner.etags.lock().unwrap();
                    if etags.len() >= ETAG_CACHE_ENTRIES {
                        etags.clear();
                    }
                    etags.insert(
                        cache_key.clone(),
                        CachedBody {
                            etag: etag.clone(),
                            body: body.clone(),
                            link: headers.get(header::LINK).cloned(),
                        },
                    );
                }
                break Ok(Reply {
                    headers,
                    body,
                    method: call.method.clone(),
                    path: path.clone(),
                });
            }
            if status.is_redirection() {
                // The redirect policy only hands a 3xx back when it refused to follow (R24).
                let host = headers
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| Url::parse(l).ok())
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_default();
                break Err(Error::RedirectRefused {
                    status: status.as_u16(),
                    method: method_name.clone(),
                    path: path.clone(),
                    host,
                });
            }
            let message = github_message(&body);
            if status == StatusCode::UNAUTHORIZED
                && !refreshed
                && !call.as_app
                && self.is_app()
                && let Some(id) = call.installation
            {
                // An expired or revoked installation token: one refresh, one retry (R25).
                tracing::info!(
                    installation_id = id,
                    "installation token rejected, refreshing"
                );
                self.forget_installation_token(id).await;
                refreshed = true;
                continue;
            }
            if matches!(status.as_u16(), 403 | 429)
                && let Some(limited) =
                    ratelimit::classify(status.as_u16(), &headers, &message, now_secs())
            {
                let wait = match limited {
                    Limited::RetryAfter(d) => d,
                    Limited::UntilReset(d) => d,
                    Limited::Secondary => {
                        self.inner.config.secondary_rate_limit_wait * 2u32.saturating_pow(attempt)
                    }
                };
                if attempt >= self.inner.config.max_retries
                    || wait > self.inner.config.max_rate_limit_wait
                {
                    break Err(Error::RateLimited {
                        retry_after: Some(wait),
                    });
                }
                tracing::warn!(method = %call.method, path = %path, wait_ms = wait.as_millis() as u64, attempt, "rate limited by github, waiting");
                tokio::time::sleep(wait).await;
                self.inner.rate.lock().unwrap().remaining = None;
                attempt += 1;
                continue;
            }
            if status.is_server_error()
                && call.retry == Retry::Idempotent
                && attempt < self.inner.config.max_retries
            {
                tracing::warn!(method = %call.method, path = %path, status = status.as_u16(), attempt, "github server error, retrying");
                tokio::time::sleep(self.backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            if matches!(status.as_u16(), 404 | 410) {
                break Err(Error::NotFound {
                    method: method_name.clone(),
                    path: path.clone(),
                });
            }
            if status == StatusCode::UNAUTHORIZED {
                break Err(Error::Auth {
                    reason: format!("github answered 401 to {method_name} {path}: {message}"),
                });
            }
            break Err(Error::Http {
                status: status.as_u16(),
                message,
                method: method_name.clone(),
                path: path.clone(),
            });
        };
        if let Some(mut guard) = slot {
            *guard = Some(Instant::now());
        }
        result
    }

    /// GETs every page starting at `first`, following `rel="next"` verbatim (R23).
    /// Stops with [`Error::TooManyFiles`] once `cap` items are reached.
    pub(crate) async fn get_pages<T: DeserializeOwned>(
        &self,
        first: String,
        installation: Option<u64>,
        cap: Option<usize>,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut next = Some(first);
        while let Some(target) = next {
            let reply = self.execute(Call::get(target, installation)).await?;
            let page: Vec<T> = reply.json()?;
            items.extend(page);
            if let Some(cap) = cap
                && items.len() >= cap
            {
                return Err(Error::TooManyFiles { limit: cap });
            }
            next = reply.next_link();
        }
        Ok(items)
    }

    /// GET any API path (escape hatch for calls without a dedicated method); retried like
    /// every read and served from the ETag cache on 304.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        installation: Option<u64>,
    ) -> Result<T, Error> {
        self.execute(Call::get(path, installation)).await?.json()
    }

    /// GET every page of a list endpoint, following `Link: rel="next"` verbatim (R23).
    pub async fn get_all_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        installation: Option<u64>,
    ) -> Result<Vec<T>, Error> {
        self.get_pages(path.to_string(), installation, None).await
    }

    /// Sends a write to any API path (escape hatch). `POST` is never blindly retried; other
    /// methods are treated as idempotent (R20). Returns the decoded body (`null` when empty).
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
        installation: Option<u64>,
    ) -> Result<serde_json::Value, Error> {
        let retry = if method == Method::POST {
            Retry::NoBlindRetry
        } else {
            Retry::Idempotent
        };
        let reply = self
            .execute(Call::write(method, path, Some(body), installation, retry))
            .await?;
        if reply.body.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        reply.json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_requires_auth_and_valid_url() {
        assert!(matches!(
            GithubClient::builder("https://api.github.com").build(),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            GithubClient::builder("not a url")
                .auth(Auth::Token("t".into()))
                .build(),
            Err(Error::Config { .. })
        ));
    }

    #[test]
    fn debug_hides_token_and_links_stay_on_host() {
        let client = GithubClient::builder("https://api.github.com/")
            .auth(Auth::Token("ghp_topsecret".into()))
            .build()
            .unwrap();
        let dbg = format!("{client:?}");
        assert!(!dbg.contains("topsecret"), "{dbg}");
        assert!(
            client
                .resolve("https://api.github.com/repositories/1/issues?page=2")
                .is_ok()
        );
        assert!(matches!(
            client.resolve("https://evil.example/repositories/1/issues"),
            Err(Error::RedirectRefused { .. })
        ));
        assert_eq!(
            client.resolve("/user").unwrap().as_str(),
            "https://api.github.com/user"
        );
    }

    #[test]
    fn enterprise_base_path_is_kept() {
        let client = GithubClient::builder("https://ghe.example/api/v3")
            .auth(Auth::Token("t".into()))
            .build()
            .unwrap();
        assert_eq!(
            client.resolve("/user").unwrap().as_str(),
            "https://ghe.example/api/v3/user"
        );
    }
}
