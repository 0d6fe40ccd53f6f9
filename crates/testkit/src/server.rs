//! The fake GitHub server: axum on 127.0.0.1:0, one handler that logs, injects faults,
//! authenticates, routes and validates like api.github.com.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State as AxState;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::replay::{Replay, ReplayEntry, ReplayMismatch};
use crate::schema;
use crate::state::{
    Fault, FileSeed, IssuedToken, PullSeed, RecordedRequest, State, StoredCheckRun, StoredComment,
    StoredStatus, ValidationFailure,
};

/// Comment body limit GitHub enforces (reference §3.1).
pub const MAX_COMMENT_CHARS: usize = 65_536;
/// Status description limit (reference §3.2).
pub const MAX_STATUS_DESCRIPTION_CHARS: usize = 140;
/// Status context limit (reference §3.2).
pub const MAX_STATUS_CONTEXT_CHARS: usize = 255;
/// Annotations per check run request (reference §3.3).
pub const MAX_ANNOTATIONS: usize = 50;
/// Files the PR files API lists at most (reference §3.4).
pub const MAX_PR_FILES: usize = 3_000;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The request-body schemas by operation.
#[derive(Debug)]
struct Schemas {
    create_comment: Value,
    update_comment: Value,
    create_status: Value,
    create_check: Value,
    update_check: Value,
    create_token: Value,
}

impl Schemas {
    fn load(dir: &Path) -> Self {
        let read = |name: &str| -> Value {
            let path = dir.join("rest/schemas").join(name);
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("request schema {}: {e}", path.display()));
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("request schema {}: {e}", path.display()))
        };
        Schemas {
            create_comment: read("issues.create-comment.request.json"),
            update_comment: read("issues.update-comment.request.json"),
            create_status: read("repos.create-commit-status.request.json"),
            create_check: read("checks.create.request.json"),
            update_check: read("checks.update.request.json"),
            create_token: read("apps.create-installation-access-token.request.json"),
        }
    }
}

/// The GitHub test data (`tests/data/github` of the workspace, or `$CHARTIMPACT_GITHUB_DATA`):
/// real webhook payloads, REST examples, request schemas, recorded exchanges. It is part of the
/// repository, so a missing folder fails the test that asked.
pub fn github_data_dir() -> PathBuf {
    let dir = std::env::var_os("CHARTIMPACT_GITHUB_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/github"));
    assert!(
        dir.join("rest/schemas").is_dir() && dir.join("webhooks").is_dir(),
        "the GitHub test data is missing at {}: it is part of the repository (tests/data/github); restore it with git, or point CHARTIMPACT_GITHUB_DATA at a copy",
        dir.display()
    );
    dir
}

struct Shared {
    url: String,
    state: Mutex<State>,
    schemas: Schemas,
}

/// A running fake GitHub. Dropping it stops the server.
pub struct FakeGithub {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// A test that ends while the bot wrote something it never looked at fails here (as bors's
/// harness ends with `assert_empty_queues()`): an extra comment, status or check run cannot
/// pass unnoticed.
impl Drop for FakeGithub {
    fn drop(&mut self) {
        self.task.abort();
        if std::thread::panicking() {
            return;
        }
        let unobserved = self.unobserved_writes();
        assert!(
            unobserved.is_empty(),
            "the fake GitHub received writes the test never looked at (inspect them with \
             comments(), statuses(), check_runs() or writes()):\n{}",
            unobserved
                .iter()
                .map(|r| format!("  {} {} -> {}: {}", r.method, r.path, r.status, r.body))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

impl std::fmt::Debug for FakeGithub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGithub")
            .field("url", &self.shared.url)
            .finish()
    }
}

/// Who a request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Principal {
    User,
    App,
    Installation(u64),
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }
    fn message(status: u16, message: &str) -> Self {
        Reply::json(
            status,
            json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
        )
    }
    fn empty(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
        }
    }
    fn header(mut self, k: &str, v: String) -> Self {
        self.headers.push((k.into(), v));
        self
    }
}

fn validation_failed(resource: &str, field: &str, message: &str) -> Reply {
    Reply::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [{"resource": resource, "code": "custom", "field": field, "message": message}],
            "documentation_url": "https://docs.github.com/rest",
        }),
    )
}

impl FakeGithub {
    /// Starts a fake on 127.0.0.1 with an ephemeral port. Request bodies are validated
    /// against GitHub's request schemas (see [`github_data_dir`]) and the documented limits.
    pub async fn start() -> FakeGithub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let schemas = Schemas::load(&github_data_dir());
        let shared = Arc::new(Shared {
            url: format!("http://{addr}"),
            state: Mutex::new(State::new(now())),
            schemas,
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGithub { shared, task }
    }

    /// Starts a fake that answers only with the recorded exchanges, in order (nock format,
    /// `tests/data/github/fixtures/*.json`). `https://api.github.com` in recorded headers and
    /// bodies is rewritten to this server's URL.
    pub async fn start_replay(entries: Vec<ReplayEntry>) -> FakeGithub {
        let fake = FakeGithub::start().await;
        fake.lock().replay = Some(Replay {
            entries: entries.into(),
            mismatches: Vec::new(),
        });
        fake
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (pass it as the client's API URL).
    pub fn url(&self) -> String {
        self.shared.url.clone()
    }

    // ---- seeding ----

    /// Seeds an open PR with head and base commits (branches `feature` and `main`).
    pub fn add_pull_request<F: Into<FileSeed>>(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        head_sha: &str,
        base_sha: &str,
        files: impl IntoIterator<Item = F>,
    ) {
        self.add_pull(
            owner,
            repo,
            PullSeed {
                number,
                state: "open".into(),
                draft: false,
                head_sha: head_sha.into(),
                head_ref: "feature".into(),
                base_sha: base_sha.into(),
                base_ref: "main".into(),
                files: files.into_iter().map(Into::into).collect(),
            },
        );
    }

    /// Seeds (or replaces) a PR with every field chosen.
    pub fn add_pull(&self, owner: &str, repo: &str, pull: PullSeed) {
        self.lock()
            .pulls
            .insert((owner.into(), repo.into(), pull.number), pull);
    }

    /// Moves a seeded PR's head (a push to the PR branch).
    pub fn set_head(&self, owner: &str, repo: &str, number: u64, head_sha: &str) {
        if let Some(p) = self
            .lock()
            .pulls
            .get_mut(&(owner.into(), repo.into(), number))
        {
            p.head_sha = head_sha.into();
        }
    }

    /// Seeds a comment by someone else (a person, another bot); returns its id.
    pub fn add_comment(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        login: &str,
        body: &str,
    ) -> u64 {
        let mut st = self.lock();
        let id = st.id();
        st.comments.insert(
            id,
            (
                owner.into(),
                repo.into(),
                StoredComment {
                    id,
                    issue: number,
                    body: body.into(),
                    user_login: login.into(),
                    user_type: if login.ends_with("[bot]") {
                        "Bot"
                    } else {
                        "User"
                    }
                    .into(),
                    app_id: None,
                    reactions: Vec::new(),
                    edits: 0,
                },
            ),
        );
        id
    }

    /// The login `GET /user` answers for tokens (default `chartimpact-test`).
    pub fn set_user(&self, login: &str, id: u64) {
        let mut st = self.lock();
        st.user_login = login.into();
        st.user_id = id;
    }

    /// Configures the App: id, slug (bot login `<slug>[bot]`) and its private key in PEM
    /// (PKCS#1 or PKCS#8). With a key set, App JWTs are verified (RS256 signature, `iss`,
    /// `iat`/`exp` window of at most 600 s); without one any JWT-shaped token passes.
    pub fn set_app(&self, app_id: u64, slug: &str, private_key_pem: Option<&str>) {
        let public_key =
            private_key_pem.map(|pem| public_key_from_pem(pem).expect("usable RSA key"));
        let mut st = self.lock();
        st.app.id = app_id;
        st.app.slug = slug.into();
        st.app.public_key = public_key;
    }

    /// The longest comment body accepted from now on (default GitHub's 65,536 characters):
    /// a lower limit makes a long report hit GitHub's 422 as a huge one would.
    pub fn set_comment_limit(&self, chars: usize) {
        self.lock().comment_limit = chars;
    }

    /// Lifetime of installation tokens issued from now on (default 3600 s).
    pub fn set_token_lifetime(&self, secs: i64) {
        self.lock().token_lifetime_secs = secs;
    }

    /// Issues an installation token for `installation` without the App's JWT exchange, as
    /// GitHub hands GitHub Actions its `GITHUB_TOKEN` (an installation token of the GitHub
    /// Actions App: configure that App with [`FakeGithub::set_app`], e.g. slug
    /// `github-actions`). It acts as the App's bot: `GET /user` is refused with 403, its
    /// comments are written by `<slug>[bot]`, and it may write check runs.
    pub fn issue_installation_token(&self, installation: u64) -> String {
        let mut st = self.lock();
        let n = st.id();
        let token = format!("ghs_fake{installation}x{n}");
        let expires_at = now() as i64 + st.token_lifetime_secs;
        st.tokens.insert(
            token.clone(),
            IssuedToken {
                installation,
                expires_at,
                revoked: false,
                // Like GITHUB_TOKEN: the installation's repositories (Actions scopes it to
                // the workflow's repository; tests use one).
                repositories: None,
            },
        );
        token
    }

    /// Expires every installation token issued so far (they then get 401).
    pub fn expire_installation_tokens(&self) {
        for t in self.lock().tokens.values_mut() {
            t.revoked = true;
        }
    }

    /// Whether git over HTTP may read `owner/repo` with basic auth `username:password`, as
    /// GitHub decides it: user `x-access-token` and an installation token this fake issued,
    /// not expired or revoked, and scoped to the repository when its request named
    /// repositories.
    pub fn accepts_git_credentials(
        &self,
        owner: &str,
        repo: &str,
        username: &str,
        password: &str,
    ) -> bool {
        accepts_git(&self.shared, owner, repo, username, password)
    }

    /// A credential check for [`GitHttpServer::start_with`](crate::GitHttpServer::start_with)
    /// that accepts what [`FakeGithub::accepts_git_credentials`] accepts for the repository
    /// the request path names (`/owner/name.git/…`).
    pub fn git_credential_check(
        &self,
    ) -> impl Fn(&str, &str, &str) -> bool + Send + Sync + 'static {
        let shared = self.shared.clone();
        move |user, pass, path| {
            let mut parts = path.trim_start_matches('/').split('/');
            let (Some(owner), Some(name)) = (parts.next(), parts.next()) else {
                return false;
            };
            accepts_git(&shared, owner, name.trim_end_matches(".git"), user, pass)
        }
    }

    /// Makes a personal token invalid (401 "Bad credentials").
    pub fn revoke_token(&self, token: &str) {
        self.lock().revoked_pats.insert(token.into());
    }

    /// Sets the primary rate limit window the fake reports and enforces: at 0 remaining,
    /// requests get 403 with `x-ratelimit-remaining: 0` until `reset` (epoch seconds).
    pub fn set_rate_limit(&self, remaining: u64, reset: u64) {
        let mut st = self.lock();
        st.rate_remaining = remaining;
        st.rate_reset = reset;
    }

    // ---- fault injection ----

    /// Answers the next request matching `method` (`"*"` = any) and `path_prefix` with
    /// `status` and `headers` (e.g. 403 + `retry-after`, 429, 502).
    pub fn fail_next(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        headers: &[(&str, &str)],
    ) {
        let mut f = Fault::new(method, path_prefix).status(status);
        for (k, v) in headers {
            f = f.header(k, v);
        }
        self.inject(f);
    }

    /// Queues any [`Fault`] (slow responses, several failures in a row, custom bodies).
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// Answers the next matching request with a redirect (`status` 301/302/307) to
    /// `location` (for example another host).
    pub fn redirect_next(&self, method: &str, path_prefix: &str, status: u16, location: &str) {
        self.inject(
            Fault::new(method, path_prefix)
                .status(status)
                .header("location", location)
                .body(json!({"message": "Moved Permanently", "url": location})),
        );
    }

    /// Delays the next matching request by `delay`, then handles it normally.
    pub fn slow_next(&self, method: &str, path_prefix: &str, delay: Duration) {
        self.inject(Fault::new(method, path_prefix).delay(delay).then_handle());
    }

    // ---- inspection ----

    /// Every request received, in order. Looking at requests does not count as looking at
    /// what was written: use [`FakeGithub::writes`] or the state accessors for that.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Requests whose method is a write (POST/PATCH/PUT/DELETE); marks them all looked at.
    pub fn writes(&self) -> Vec<RecordedRequest> {
        let mut st = self.lock();
        let st = &mut *st;
        st.observed.iter_mut().for_each(|o| *o = true);
        st.requests
            .iter()
            .filter(|r| r.is_write())
            .cloned()
            .collect()
    }

    /// Writes the test has not looked at yet (through [`FakeGithub::writes`], or the accessor
    /// of what they changed); non-empty when the fake is dropped fails the test.
    pub fn unobserved_writes(&self) -> Vec<RecordedRequest> {
        let st = self.lock();
        st.requests
            .iter()
            .zip(&st.observed)
            .filter(|(r, seen)| !**seen && r.is_visible_write())
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// Marks the writes under `/repos/{owner}/{repo}/…` whose path passes `matches` as looked
    /// at.
    fn observe(&self, owner: &str, repo: &str, matches: impl Fn(&str) -> bool) {
        let prefix = format!("/repos/{owner}/{repo}/");
        let mut st = self.lock();
        let st = &mut *st;
        for (r, seen) in st.requests.iter().zip(st.observed.iter_mut()) {
            if let Some(rest) = r.path.strip_prefix(&prefix)
                && matches(rest)
            {
                *seen = true;
            }
        }
    }

    /// Bodies refused with 422 (schema violations and documented limits).
    pub fn validation_failures(&self) -> Vec<ValidationFailure> {
        self.lock().validation_failures.clone()
    }

    /// Panics, listing them, if any request body was refused by the schema or limit checks.
    #[track_caller]
    pub fn assert_no_validation_failures(&self) {
        let failures = self.validation_failures();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    /// Comments of an issue/PR, oldest first (their writes and reactions count as looked at).
    pub fn comments(&self, owner: &str, repo: &str, number: u64) -> Vec<StoredComment> {
        // Edits, deletions and reactions name the comment, not the issue: every comment write
        // of the repository counts as seen once its comments were read.
        self.observe(owner, repo, |p| p.starts_with("issues/"));
        self.lock()
            .comments
            .values()
            .filter(|(o, r, c)| o == owner && r == repo && c.issue == number)
            .map(|(_, _, c)| c.clone())
            .collect()
    }

    /// Statuses posted for a commit, oldest first.
    pub fn statuses(&self, owner: &str, repo: &str, sha: &str) -> Vec<StoredStatus> {
        self.observe(owner, repo, |p| p == format!("statuses/{sha}"));
        self.lock()
            .statuses
            .iter()
            .filter(|(o, r, s, _)| o == owner && r == repo && s == sha)
            .map(|(_, _, _, st)| st.clone())
            .collect()
    }

    /// Check runs of a repository, by id.
    pub fn check_runs(&self, owner: &str, repo: &str) -> Vec<StoredCheckRun> {
        self.observe(owner, repo, |p| p.starts_with("check-runs"));
        self.lock()
            .check_runs
            .values()
            .filter(|(o, r, _)| o == owner && r == repo)
            .map(|(_, _, c)| c.clone())
            .collect()
    }

    /// Recorded exchanges not yet replayed.
    pub fn replay_remaining(&self) -> usize {
        self.lock().replay.as_ref().map_or(0, |r| r.entries.len())
    }

    /// Requests that did not match the recorded exchange they were expected to be. A replay
    /// states every write it expects, so asking this counts as looking at all of them.
    pub fn replay_mismatches(&self) -> Vec<ReplayMismatch> {
        let mut st = self.lock();
        st.observed.iter_mut().for_each(|o| *o = true);
        st.replay
            .as_ref()
            .map_or_else(Vec::new, |r| r.mismatches.clone())
    }
}

/// The RSA public key (PKCS#1 DER) of a private key PEM.
fn public_key_from_pem(pem: &str) -> Option<Vec<u8>> {
    let label = pem.lines().find_map(|l| {
        l.trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
    })?;
    let b64: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(b64).ok()?;
    let key = match label {
        "RSA PRIVATE KEY" => ring::signature::RsaKeyPair::from_der(&der).ok()?,
        _ => ring::signature::RsaKeyPair::from_pkcs8(&der).ok()?,
    };
    use ring::signature::KeyPair as _;
    Some(key.public_key().as_ref().to_vec())
}

fn verify_jwt(jwt: &str, app_id: u64, public_key: Option<&[u8]>, now: u64) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err("A JSON web token could not be decoded".into());
    }
    let decode = |p: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|_| "A JSON web token could not be decoded".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "A JSON web token could not be decoded".into())
    };
    let header = decode(parts[0])?;
    let claims = decode(parts[1])?;
    if header["alg"] != "RS256" {
        return Err("JWT alg must be RS256".into());
    }
    if let Some(pk) = public_key {
        let sig = URL_SAFE_NO_PAD
            .decode(parts[2])
            .map_err(|_| "A JSON web token could not be decoded".to_string())?;
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, pk)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .map_err(|_| "A JSON web token could not be decoded".to_string())?;
    }
    let iss_ok = match &claims["iss"] {
        Value::String(s) => s == &app_id.to_string(),
        Value::Number(n) => n.as_u64() == Some(app_id),
        _ => false,
    };
    if !iss_ok {
        return Err("'Issuer' claim ('iss') must be an Integer".into());
    }
    let iat = claims["iat"]
        .as_u64()
        .ok_or("'Issued at' claim ('iat') is missing")?;
    let exp = claims["exp"]
        .as_u64()
        .ok_or("'Expiration time' claim ('exp') is missing")?;
    if exp <= now {
        return Err("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires".into());
    }
    if iat > now + 60 {
        return Err(
            "'Issued at' claim ('iat') must be an Integer representing a time in the past".into(),
        );
    }
    if exp.saturating_sub(iat) > 600 {
        return Err("'Expiration time' claim ('exp') is too far in the future".into());
    }
    Ok(())
}

fn authenticate(st: &State, headers: &HeaderMap, now: u64) -> Result<Principal, Reply> {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(Reply::message(401, "Requires authentication"));
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
        .ok_or_else(|| Reply::message(401, "Bad credentials"))?
        .trim();
    if token.is_empty() {
        return Err(Reply::message(401, "Bad credentials"));
    }
    if let Some(t) = st.tokens.get(token) {
        if t.revoked || t.expires_at <= now as i64 {
            return Err(Reply::message(401, "Bad credentials"));
        }
        return Ok(Principal::Installation(t.installation));
    }
    if token.starts_with("eyJ") && token.matches('.').count() == 2 {
        return verify_jwt(token, st.app.id, st.app.public_key.as_deref(), now)
            .map(|()| Principal::App)
            .map_err(|m| Reply::message(401, &m));
    }
    if token.starts_with("ghs_") || st.revoked_pats.contains(token) {
        return Err(Reply::message(401, "Bad credentials"));
    }
    Ok(Principal::User)
}

fn accepts_git(shared: &Shared, _owner: &str, repo: &str, username: &str, password: &str) -> bool {
    let st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    username == "x-access-token"
        && st.tokens.get(password).is_some_and(|t| {
            !t.revoked
                && t.expires_at > now() as i64
                && t.repositories
                    .as_ref()
                    .is_none_or(|names| names.iter().any(|n| n == repo))
        })
}

fn etag_of(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("W/\"{hex}\"")
}

fn query_param(query: &str, name: &str) -> Option<u64> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.parse().ok()).flatten()
    })
}

/// Pages `items` like GitHub: `per_page` (default 30, max 100), `page` (from 1), `Link`.
fn paged(url: &str, path: &str, query: &str, items: Vec<Value>) -> Reply {
    let per_page = query_param(query, "per_page").unwrap_or(30).clamp(1, 100) as usize;
    let page = query_param(query, "page").unwrap_or(1).max(1) as usize;
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link =
        |p: usize, rel: &str| format!("<{url}{path}?per_page={per_page}&page={p}>; rel=\"{rel}\"");
    let mut links = Vec::new();
    if page > 1 {
        links.push(link(page - 1, "prev"));
    }
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
    }
    let mut reply = Reply::json(200, Value::Array(slice));
    if !links.is_empty() {
        reply = reply.header("link", links.join(", "));
    }
    reply
}

fn user_json(login: &str, id: u64, kind: &str) -> Value {
    json!({
        "login": login, "id": id, "node_id": "MDQ6VXNlcjE=", "type": kind, "site_admin": false,
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
    })
}

fn comment_json(url: &str, owner: &str, repo: &str, c: &StoredComment, app_slug: &str) -> Value {
    json!({
        "id": c.id,
        "node_id": format!("IC_{}", c.id),
        "url": format!("{url}/repos/{owner}/{repo}/issues/comments/{}", c.id),
        "html_url": format!("https://github.com/{owner}/{repo}/pull/{}#issuecomment-{}", c.issue, c.id),
        "issue_url": format!("{url}/repos/{owner}/{repo}/issues/{}", c.issue),
        "body": c.body,
        "user": user_json(&c.user_login, 9000 + c.id, &c.user_type),
        "author_association": "NONE",
        "created_at": "2011-04-14T16:00:49Z",
        "updated_at": "2011-04-14T16:00:49Z",
        "performed_via_github_app": c.app_id.map(|id| json!({"id": id, "slug": app_slug, "name": app_slug})),
        "reactions": {"total_count": c.reactions.len()},
    })
}

fn branch_json(owner: &str, repo: &str, sha: &str, r: &str) -> Value {
    json!({
        "label": format!("{owner}:{r}"), "ref": r, "sha": sha,
        "user": user_json(owner, 1, "User"),
        "repo": {"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": repo,
                  "full_name": format!("{owner}/{repo}"), "private": false, "fork": false,
                  "owner": user_json(owner, 1, "User"), "default_branch": "main"},
    })
}

fn pull_json(url: &str, owner: &str, repo: &str, p: &PullSeed) -> Value {
    json!({
        "url": format!("{url}/repos/{owner}/{repo}/pulls/{}", p.number),
        "id": 1_000_000 + p.number,
        "node_id": format!("PR_{}", p.number),
        "html_url": format!("https://github.com/{owner}/{repo}/pull/{}", p.number),
        "number": p.number,
        "state": p.state,
        "locked": false,
        "title": format!("PR {}", p.number),
        "user": user_json("octocat", 1, "User"),
        "body": "",
        "draft": p.draft,
        "merged": false,
        "mergeable": true,
        "head": branch_json(owner, repo, &p.head_sha, &p.head_ref),
        "base": branch_json(owner, repo, &p.base_sha, &p.base_ref),
        "author_association": "OWNER",
        "commits": 1,
        "additions": p.files.len(),
        "deletions": 0,
        "changed_files": p.files.len(),
        "created_at": "2011-01-26T19:01:12Z",
        "updated_at": "2011-01-26T19:01:12Z",
    })
}

fn file_json(f: &FileSeed, i: usize) -> Value {
    let mut v = json!({
        "sha": format!("{:040x}", i + 1),
        "filename": f.filename,
        "status": f.status,
        "additions": 1, "deletions": 1, "changes": 2,
        "blob_url": format!("https://github.com/o/r/blob/0/{}", f.filename),
        "raw_url": format!("https://github.com/o/r/raw/0/{}", f.filename),
        "contents_url": format!("https://api.github.com/repos/o/r/contents/{}", f.filename),
        "patch": "@@ -1 +1 @@\n-a\n+b",
    });
    if let Some(prev) = &f.previous_filename {
        v["previous_filename"] = json!(prev);
    }
    v
}

fn check_run_json(url: &str, owner: &str, repo: &str, c: &StoredCheckRun) -> Value {
    json!({
        "id": c.id,
        "head_sha": c.head_sha,
        "node_id": format!("CR_{}", c.id),
        "external_id": c.external_id,
        "url": format!("{url}/repos/{owner}/{repo}/check-runs/{}", c.id),
        "html_url": format!("https://github.com/{owner}/{repo}/runs/{}", c.id),
        "details_url": null,
        "status": c.status,
        "conclusion": c.conclusion,
        "started_at": "2018-05-04T01:14:52Z",
        "completed_at": if c.status == "completed" { json!("2018-05-04T01:14:52Z") } else { Value::Null },
        "output": {
            "title": c.title, "summary": c.summary, "text": c.text,
            "annotations_count": c.annotations.len(),
            "annotations_url": format!("{url}/repos/{owner}/{repo}/check-runs/{}/annotations", c.id),
        },
        "name": c.name,
        "check_suite": {"id": 5},
        "pull_requests": [],
    })
}

/// Validates `body` against `schema`; a failure is recorded and answered 422.
fn check_schema(
    st: &mut State,
    schema: &Value,
    method: &str,
    path: &str,
    body: &Value,
) -> Result<(), Reply> {
    let errors = schema::validate(schema, body);
    if errors.is_empty() {
        return Ok(());
    }
    st.validation_failures.push(ValidationFailure {
        method: method.into(),
        path: path.into(),
        errors: errors.clone(),
    });
    Err(Reply::json(
        422,
        json!({"message": "Invalid request.", "errors": errors, "documentation_url": "https://docs.github.com/rest"}),
    ))
}

fn reject(st: &mut State, method: &str, path: &str, reply: Reply, why: &str) -> Reply {
    st.validation_failures.push(ValidationFailure {
        method: method.into(),
        path: path.into(),
        errors: vec![why.into()],
    });
    reply
}

async fn handle(
    AxState(shared): AxState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let full = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    let method_s = method.as_str().to_string();
    let body_s = String::from_utf8_lossy(&body).into_owned();
    let index = {
        let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        st.requests.push(RecordedRequest {
            method: method_s.clone(),
            path: full.clone(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                .collect(),
            body: body_s.clone(),
            status: 0,
        });
        st.observed.push(false);
        st.requests.len() - 1
    };
    let (status, out_headers, out_body) =
        respond(&shared, &method_s, &path, &query, &full, &headers, &body_s).await;
    {
        let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = st.requests.get_mut(index) {
            r.status = status;
        }
    }
    let mut resp = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (k, v) in &out_headers {
        resp = resp.header(k.as_str(), v.as_str());
    }
    resp.body(Body::from(out_body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

async fn respond(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &str,
    full: &str,
    headers: &HeaderMap,
    body: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    // Replay mode: only the recorded exchanges.
    {
        let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(replay) = st.replay.as_mut() {
            return match replay.answer(method, full, body, &shared.url) {
                Ok(answer) => answer,
                Err(m) => (
                    418,
                    vec![("content-type".into(), "application/json; charset=utf-8".into())],
                    json!({"message": format!("replay mismatch: expected {}, got {} ({})", m.expected, m.got, m.reason)})
                        .to_string()
                        .into_bytes(),
                ),
            };
        }
    }
    // Fault injection.
    let fault = shared
        .state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take_fault(method, path);
    if let Some(f) = &fault
        && let Some(d) = f.delay
    {
        tokio::time::sleep(d).await;
    }
    let now = now();
    let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    if st.rate_reset <= now {
        st.rate_remaining = st.rate_limit;
        st.rate_reset = now + 3600;
    }
    let reply = match fault {
        Some(f) if !f.then_handle => {
            let message = match f.status {
                401 => "Bad credentials",
                403 | 429 => {
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                }
                500..=599 => "Server Error",
                300..=399 => "Moved Permanently",
                _ => "Injected failure",
            };
            Reply {
                status: f.status,
                headers: f.headers,
                body: Some(f.body.unwrap_or_else(|| json!({"message": message}))),
            }
        }
        _ => {
            if st.rate_remaining == 0 {
                Reply::message(403, "API rate limit exceeded")
            } else {
                route(
                    &mut st,
                    &shared.url,
                    &shared.schemas,
                    method,
                    path,
                    query,
                    headers,
                    body,
                    now,
                )
            }
        }
    };
    // Rate-limit headers (a 304 does not count against the limit).
    let mut out: Vec<(String, String)> = Vec::new();
    let mut status = reply.status;
    let mut bytes = reply
        .body
        .map(|b| b.to_string().into_bytes())
        .unwrap_or_default();
    if method == "GET" && status == 200 {
        let etag = etag_of(&bytes);
        let matches = headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
        out.push(("etag".into(), etag));
        if matches {
            status = 304;
            bytes.clear();
        }
    }
    if status != 304 && status != 401 {
        st.rate_remaining = st.rate_remaining.saturating_sub(1);
    }
    let rate = [
        ("x-ratelimit-limit", st.rate_limit.to_string()),
        ("x-ratelimit-remaining", st.rate_remaining.to_string()),
        (
            "x-ratelimit-used",
            (st.rate_limit - st.rate_remaining).to_string(),
        ),
        ("x-ratelimit-reset", st.rate_reset.to_string()),
        ("x-ratelimit-resource", "core".to_string()),
    ];
    for (k, v) in rate {
        if !reply.headers.iter().any(|(h, _)| h == k) {
            out.push((k.into(), v));
        }
    }
    out.extend(reply.headers);
    if !bytes.is_empty() {
        out.push((
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        ));
    }
    (status, out, bytes)
}

#[allow(clippy::too_many_arguments)]
fn route(
    st: &mut State,
    url: &str,
    schemas: &Schemas,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &str,
    now: u64,
) -> Reply {
    let principal = match authenticate(st, headers, now) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let json_body: Value = if body.trim().is_empty() {
        Value::Null
    } else {
        match serde_json::from_str(body) {
            Ok(v) => v,
            Err(_) => return Reply::message(400, "Problems parsing JSON"),
        }
    };
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let not_found = || Reply::message(404, "Not Found");
    let needs_installation = |p: &Principal| !matches!(p, Principal::App);
    match (method, segs.as_slice()) {
        ("GET", ["user"]) => match principal {
            Principal::User => {
                Reply::json(200, user_json(&st.user_login.clone(), st.user_id, "User"))
            }
            _ => Reply::message(403, "Resource not accessible by integration"),
        },
        ("GET", ["app"]) => match principal {
            Principal::App => Reply::json(
                200,
                json!({"id": st.app.id, "slug": st.app.slug, "name": st.app.slug, "node_id": "MDExOkludGVncmF0aW9uMQ==",
                       "owner": user_json("octo-org", 1, "Organization"), "permissions": {"checks": "write", "statuses": "write"},
                       "events": ["pull_request"]}),
            ),
            _ => Reply::message(401, "A JSON web token could not be decoded"),
        },
        ("POST", ["app", "installations", id, "access_tokens"]) => {
            if principal != Principal::App {
                return Reply::message(401, "A JSON web token could not be decoded");
            }
            let Ok(installation) = id.parse::<u64>() else {
                return not_found();
            };
            if !json_body.is_null()
                && let Err(r) = check_schema(st, &schemas.create_token, method, path, &json_body)
            {
                return r;
            }
            let n = st.id();
            let token = format!("ghs_fake{installation}x{n}");
            let expires_at = now as i64 + st.token_lifetime_secs;
            let repositories = json_body["repositories"].as_array().map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            });
            st.tokens.insert(
                token.clone(),
                IssuedToken {
                    installation,
                    expires_at,
                    revoked: false,
                    repositories,
                },
            );
            let expires = jiff::Timestamp::from_second(expires_at)
                .map(|t| t.to_string())
                .unwrap_or_default();
            Reply::json(
                201,
                json!({"token": token, "expires_at": expires,
                       "permissions": {"checks": "write", "issues": "write", "pull_requests": "read", "statuses": "write", "contents": "read"},
                       "repository_selection": "all"}),
            )
        }
        (_, ["repos", ..]) if !needs_installation(&principal) => {
            Reply::message(403, "Resource not accessible by integration")
        }
        ("GET", ["repos", o, r, "pulls", n]) => {
            let Ok(n) = n.parse::<u64>() else {
                return not_found();
            };
            match st.pulls.get(&((*o).into(), (*r).into(), n)) {
                Some(p) => Reply::json(200, pull_json(url, o, r, p)),
                None => not_found(),
            }
        }
        ("GET", ["repos", o, r, "pulls", n, "files"]) => {
            let Ok(n) = n.parse::<u64>() else {
                return not_found();
            };
            match st.pulls.get(&((*o).into(), (*r).into(), n)) {
                Some(p) => {
                    let items = p
                        .files
                        .iter()
                        .take(MAX_PR_FILES)
                        .enumerate()
                        .map(|(i, f)| file_json(f, i))
                        .collect();
                    paged(url, path, query, items)
                }
                None => not_found(),
            }
        }
        ("GET" | "POST", ["repos", o, r, "issues", n, "comments"]) => {
            let Ok(n) = n.parse::<u64>() else {
                return not_found();
            };
            if !st.pulls.contains_key(&((*o).into(), (*r).into(), n)) {
                return not_found();
            }
            if method == "GET" {
                let slug = st.app.slug.clone();
                let items = st
                    .comments
                    .values()
                    .filter(|(co, cr, c)| co == o && cr == r && c.issue == n)
                    .map(|(_, _, c)| comment_json(url, o, r, c, &slug))
                    .collect();
                return paged(url, path, query, items);
            }
            if let Err(rep) = check_schema(st, &schemas.create_comment, method, path, &json_body) {
                return rep;
            }
            let text = json_body["body"].as_str().unwrap_or_default().to_string();
            if text.chars().count() > st.comment_limit {
                return reject(
                    st,
                    method,
                    path,
                    validation_failed(
                        "IssueComment",
                        "data",
                        "Body is too long (maximum is 65536 characters)",
                    ),
                    "comment body longer than 65536 characters",
                );
            }
            let id = st.id();
            let (login, kind, app_id) = match principal {
                Principal::Installation(_) => {
                    (format!("{}[bot]", st.app.slug), "Bot", Some(st.app.id))
                }
                _ => (st.user_login.clone(), "User", None),
            };
            let c = StoredComment {
                id,
                issue: n,
                body: text,
                user_login: login,
                user_type: kind.into(),
                app_id,
                reactions: Vec::new(),
                edits: 0,
            };
            let slug = st.app.slug.clone();
            let out = comment_json(url, o, r, &c, &slug);
            st.comments.insert(id, ((*o).into(), (*r).into(), c));
            Reply::json(201, out).header(
                "location",
                format!("{url}/repos/{o}/{r}/issues/comments/{id}"),
            )
        }
        ("GET" | "PATCH" | "DELETE", ["repos", o, r, "issues", "comments", id]) => {
            let Ok(id) = id.parse::<u64>() else {
                return not_found();
            };
            let exists = st
                .comments
                .get(&id)
                .is_some_and(|(co, cr, _)| co == o && cr == r);
            if !exists {
                return not_found();
            }
            match method {
                "DELETE" => {
                    st.comments.remove(&id);
                    Reply::empty(204)
                }
                "PATCH" => {
                    if let Err(rep) =
                        check_schema(st, &schemas.update_comment, method, path, &json_body)
                    {
                        return rep;
                    }
                    let text = json_body["body"].as_str().unwrap_or_default().to_string();
                    if text.chars().count() > st.comment_limit {
                        return reject(
                            st,
                            method,
                            path,
                            validation_failed(
                                "IssueComment",
                                "data",
                                "Body is too long (maximum is 65536 characters)",
                            ),
                            "comment body longer than 65536 characters",
                        );
                    }
                    let slug = st.app.slug.clone();
                    let Some((_, _, c)) = st.comments.get_mut(&id) else {
                        return not_found();
                    };
                    c.body = text;
                    c.edits += 1;
                    Reply::json(200, comment_json(url, o, r, c, &slug))
                }
                _ => {
                    let slug = st.app.slug.clone();
                    let Some((_, _, c)) = st.comments.get(&id) else {
                        return not_found();
                    };
                    Reply::json(200, comment_json(url, o, r, c, &slug))
                }
            }
        }
        ("POST", ["repos", o, r, "issues", "comments", id, "reactions"]) => {
            let Ok(id) = id.parse::<u64>() else {
                return not_found();
            };
            let content = json_body["content"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            const ALLOWED: &[&str] = &[
                "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
            ];
            if !ALLOWED.contains(&content.as_str()) {
                return reject(
                    st,
                    method,
                    path,
                    validation_failed("Reaction", "content", "content is not included in the list"),
                    "reaction content not allowed",
                );
            }
            let Some((co, cr, c)) = st.comments.get_mut(&id) else {
                return not_found();
            };
            if co != o || cr != r {
                return not_found();
            }
            let existed = c.reactions.contains(&content);
            if !existed {
                c.reactions.push(content.clone());
            }
            Reply::json(
                if existed { 200 } else { 201 },
                json!({"id": id * 10, "node_id": "MDg6UmVhY3Rpb24x", "content": content,
                       "user": user_json("chartimpact", 1, "Bot"), "created_at": "2016-05-20T20:09:31Z"}),
            )
        }
        ("POST", ["repos", o, r, "statuses", sha]) => {
            if !st.repo_known(o, r) {
                return not_found();
            }
            if let Err(rep) = check_schema(st, &schemas.create_status, method, path, &json_body) {
                return rep;
            }
            let description = json_body["description"].as_str().map(str::to_string);
            if description
                .as_deref()
                .is_some_and(|d| d.chars().count() > MAX_STATUS_DESCRIPTION_CHARS)
            {
                return reject(
                    st,
                    method,
                    path,
                    validation_failed(
                        "Status",
                        "description",
                        "description is too long (maximum is 140 characters)",
                    ),
                    "status description longer than 140 characters",
                );
            }
            let context = json_body["context"]
                .as_str()
                .unwrap_or("default")
                .to_string();
            if context.chars().count() > MAX_STATUS_CONTEXT_CHARS {
                return reject(
                    st,
                    method,
                    path,
                    validation_failed(
                        "Status",
                        "context",
                        "context is too long (maximum is 255 characters)",
                    ),
                    "status context longer than 255 characters",
                );
            }
            let id = st.id();
            let s = StoredStatus {
                id,
                state: json_body["state"].as_str().unwrap_or_default().into(),
                context,
                description,
                target_url: json_body["target_url"].as_str().map(str::to_string),
            };
            let out = json!({
                "url": format!("{url}/repos/{o}/{r}/statuses/{sha}"),
                "id": id, "node_id": format!("SC_{id}"), "state": s.state,
                "description": s.description, "target_url": s.target_url, "context": s.context,
                "created_at": "2012-07-20T01:19:13Z", "updated_at": "2012-07-20T01:19:13Z",
                "creator": user_json(&st.user_login.clone(), st.user_id, "User"),
            });
            st.statuses
                .push(((*o).into(), (*r).into(), (*sha).into(), s));
            Reply::json(201, out)
        }
        ("GET", ["repos", o, r, "commits", sha, "statuses"]) => {
            let items = st
                .statuses
                .iter()
                .rev()
                .filter(|(so, sr, ss, _)| so == o && sr == r && ss == sha)
                .map(|(_, _, _, s)| json!({"id": s.id, "state": s.state, "context": s.context,
                                           "description": s.description, "target_url": s.target_url}))
                .collect();
            paged(url, path, query, items)
        }
        ("POST", ["repos", o, r, "check-runs"])
        | ("PATCH" | "GET", ["repos", o, r, "check-runs", _]) => {
            if !matches!(principal, Principal::Installation(_)) {
                return Reply::message(403, "You must authenticate via a GitHub App.");
            }
            if !st.repo_known(o, r) {
                return not_found();
            }
            if method == "GET" {
                let id = segs[4].parse::<u64>().unwrap_or(0);
                return match st.check_runs.get(&id) {
                    Some((co, cr, c)) if co == o && cr == r => {
                        Reply::json(200, check_run_json(url, o, r, c))
                    }
                    _ => not_found(),
                };
            }
            let schema = if method == "POST" {
                &schemas.create_check
            } else {
                &schemas.update_check
            };
            if let Err(rep) = check_schema(st, schema, method, path, &json_body) {
                return rep;
            }
            let annotations = json_body["output"]["annotations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if annotations.len() > MAX_ANNOTATIONS {
                return reject(
                    st,
                    method,
                    path,
                    validation_failed(
                        "CheckRun",
                        "annotations",
                        "Only 50 annotations are allowed per request",
                    ),
                    "more than 50 annotations in one request",
                );
            }
            if json_body["conclusion"] == "stale" {
                return reject(
                    st,
                    method,
                    path,
                    validation_failed(
                        "CheckRun",
                        "conclusion",
                        "conclusion stale can only be set by GitHub",
                    ),
                    "conclusion stale",
                );
            }
            let (id, created) = if method == "POST" {
                let id = st.id();
                st.check_runs.insert(
                    id,
                    (
                        (*o).into(),
                        (*r).into(),
                        StoredCheckRun {
                            id,
                            head_sha: json_body["head_sha"].as_str().unwrap_or_default().into(),
                            name: json_body["name"].as_str().unwrap_or_default().into(),
                            status: "queued".into(),
                            conclusion: None,
                            external_id: None,
                            title: None,
                            summary: None,
                            text: None,
                            annotations: Vec::new(),
                            requests: 0,
                        },
                    ),
                );
                (id, true)
            } else {
                let id = segs[4].parse::<u64>().unwrap_or(0);
                match st.check_runs.get(&id) {
                    Some((co, cr, _)) if co == o && cr == r => (id, false),
                    _ => return not_found(),
                }
            };
            let Some((_, _, c)) = st.check_runs.get_mut(&id) else {
                return not_found();
            };
            c.requests += 1;
            if let Some(s) = json_body["status"].as_str() {
                c.status = s.into();
            }
            if let Some(s) = json_body["conclusion"].as_str() {
                c.conclusion = Some(s.into());
                c.status = "completed".into();
            }
            if let Some(s) = json_body["name"].as_str() {
                c.name = s.into();
            }
            if let Some(s) = json_body["external_id"].as_str() {
                c.external_id = Some(s.into());
            }
            let output = &json_body["output"];
            if let Some(s) = output["title"].as_str() {
                c.title = Some(s.into());
            }
            if let Some(s) = output["summary"].as_str() {
                c.summary = Some(s.into());
            }
            if let Some(s) = output["text"].as_str() {
                c.text = Some(s.into());
            }
            c.annotations.extend(annotations);
            Reply::json(
                if created { 201 } else { 200 },
                check_run_json(url, o, r, c),
            )
        }
        _ => not_found(),
    }
}

/// Loads `fixtures/<name>` of the GitHub test data as replay entries.
pub fn github_fixture(name: &str) -> Vec<ReplayEntry> {
    let path = github_data_dir().join("fixtures").join(name);
    crate::replay::load_fixture(&path)
        .unwrap_or_else(|e| panic!("recorded exchanges {}: {e}", path.display()))
}
