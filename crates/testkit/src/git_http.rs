//! git smart HTTP on loopback: `git http-backend` (the real one, from the `git` package) run
//! as CGI behind a small axum server that requires HTTP basic auth, as GitHub and GitHub
//! Enterprise serve private repositories. Every request is recorded with its `Authorization`
//! header, so tests can check that credentials went only there (never into a URL).
//!
//! The server runs on its own thread with its own runtime, so synchronous and async tests
//! use it alike.
//!
//! ```no_run
//! use testkit::GitHttpServer;
//! let root = std::path::Path::new("/tmp/git-root"); // holds acme/charts.git
//! let srv = GitHttpServer::start_basic(root, "x-access-token", "s3cret");
//! let clone_url = format!("{}/acme/charts.git", srv.url());
//! assert!(srv.requests().is_empty());
//! # let _ = clone_url;
//! ```

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use base64::Engine as _;

/// Decides whether `(username, password)` may read the repository at `path` (the request
/// path, such as `/acme/charts.git/info/refs`).
pub type GitCredentialCheck = dyn Fn(&str, &str, &str) -> bool + Send + Sync;

/// One request the git server received.
#[derive(Debug, Clone)]
pub struct GitRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// Every header, names lower case (to show where a secret did or did not go).
    pub headers: Vec<(String, String)>,
    /// What the server answered.
    pub status: u16,
}

impl GitRequest {
    /// The basic-auth credentials of the request, decoded: `(username, password)`.
    pub fn basic_credentials(&self) -> Option<(String, String)> {
        let encoded = self.authorization.as_deref()?.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (u, p) = text.split_once(':')?;
        Some((u.to_owned(), p.to_owned()))
    }
}

struct Shared {
    root: PathBuf,
    check: Option<Arc<GitCredentialCheck>>,
    log: Mutex<Vec<GitRequest>>,
}

/// A running git smart-HTTP server; stops when dropped.
pub struct GitHttpServer {
    url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for GitHttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHttpServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl GitHttpServer {
    /// Serves the bare repositories under `project_root` to anyone (a public host).
    pub fn start(project_root: &Path) -> GitHttpServer {
        Self::serve(project_root, None)
    }

    /// Serves them to requests whose basic auth is exactly `username:password`.
    pub fn start_basic(project_root: &Path, username: &str, password: &str) -> GitHttpServer {
        let (u, p) = (username.to_owned(), password.to_owned());
        Self::start_with(project_root, move |user, pass, _| user == u && pass == p)
    }

    /// Serves them to requests whose basic auth `check` accepts (given username, password and
    /// the request path), e.g. tokens a fake GitHub issued for that repository.
    pub fn start_with(
        project_root: &Path,
        check: impl Fn(&str, &str, &str) -> bool + Send + Sync + 'static,
    ) -> GitHttpServer {
        Self::serve(project_root, Some(Arc::new(check)))
    }

    fn serve(project_root: &Path, check: Option<Arc<GitCredentialCheck>>) -> GitHttpServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            root: project_root.to_path_buf(),
            check,
            log: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for the git server");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        GitHttpServer {
            url: format!("http://{addr}"),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`: clone URLs are `{url}/{owner}/{name}.git`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// `127.0.0.1:PORT`.
    pub fn host_port(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<GitRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn plain(status: u16, text: &str) -> Response<Body> {
    let mut r = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    if status == 401 {
        r = r.header("www-authenticate", "Basic realm=\"git\"");
    }
    r.body(Body::from(text.to_owned()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let mut record = GitRequest {
        method: method.as_str().to_owned(),
        target: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned()),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        status: 0,
    };
    let path = uri.path().to_owned();
    let allowed = match &shared.check {
        None => true,
        Some(check) => record
            .basic_credentials()
            .is_some_and(|(u, p)| check(&u, &p, &path)),
    };
    let response = if !allowed {
        plain(401, "authentication required\n")
    } else if path.split('/').any(|s| s == "..") {
        plain(400, "bad path\n")
    } else {
        let env = CgiRequest {
            root: shared.root.clone(),
            method: record.method.clone(),
            path,
            query: uri.query().unwrap_or("").to_owned(),
            content_type: header(&headers, "content-type"),
            content_encoding: header(&headers, "content-encoding"),
            git_protocol: header(&headers, "git-protocol"),
            user: record
                .basic_credentials()
                .map(|(u, _)| u)
                .unwrap_or_default(),
            body: body.to_vec(),
        };
        match tokio::task::spawn_blocking(move || run_backend(env)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => plain(500, &format!("git http-backend failed: {e}\n")),
            Err(e) => plain(500, &format!("git http-backend task failed: {e}\n")),
        }
    };
    record.status = response.status().as_u16();
    shared
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(record);
    response
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

struct CgiRequest {
    root: PathBuf,
    method: String,
    path: String,
    query: String,
    content_type: String,
    content_encoding: String,
    git_protocol: String,
    user: String,
    body: Vec<u8>,
}

/// Runs `git http-backend` as a CGI script and turns its output into a response.
fn run_backend(req: CgiRequest) -> std::io::Result<Response<Body>> {
    let mut child = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", &req.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", &req.path)
        .env("QUERY_STRING", &req.query)
        .env("REQUEST_METHOD", &req.method)
        .env("CONTENT_TYPE", &req.content_type)
        .env("CONTENT_LENGTH", req.body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", &req.content_encoding)
        .env("GIT_PROTOCOL", &req.git_protocol)
        .env("REMOTE_USER", &req.user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Feed the body from a thread while the output is read, so neither side blocks the other.
    let mut stdin = child.stdin.take();
    let body = req.body;
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&body);
        }
        drop(stdin);
    });
    let mut out = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_end(&mut out)?;
    }
    let _ = writer.join();
    let output = child.wait_with_output()?;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((at, sep)) = split else {
        return Ok(plain(
            500,
            &format!(
                "git http-backend wrote no headers: {}",
                String::from_utf8_lossy(&output.stderr)
            ),
        ));
    };
    let head = String::from_utf8_lossy(&out[..at]).into_owned();
    let rest = out[at + sep..].to_vec();
    let mut status = 200u16;
    let mut builder = Response::builder();
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("status") {
            status = v
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(500);
        } else {
            builder = builder.header(k, v);
        }
    }
    Ok(builder
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .body(Body::from(rest))
        .unwrap_or_else(|_| Response::new(Body::empty())))
}
