//! Chart repositories on loopback for tests: a small HTTP/1.1 [`Server`] that logs each
//! request and answers with a handler closure ([`static_file`] serves a directory with `ETag`
//! and `Last-Modified`, answering conditional requests with 304, as a static web server or
//! GitHub Pages does, so a directory made by `helm repo index` is a Helm repository), and a
//! real OCI [`Registry`] (Debian's `docker-registry`, CNCF distribution) filled by `helm
//! push`, so the real helm client vouches for the manifests and blobs.
//!
//! ```no_run
//! use testkit::chart_repos::{Server, static_file};
//! let root = std::path::PathBuf::from("tests/data/corpus/chart-repos");
//! let repo = Server::start(move |req| static_file(&root, req, ""));
//! let index = format!("{}/dandydeveloper/index.yaml", repo.url);
//! assert_eq!(repo.count("index.yaml"), 0);
//! # let _ = index;
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Req {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The request target (path and query).
    pub path: String,
    /// Headers, names lowercased.
    pub headers: BTreeMap<String, String>,
}

impl Req {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A response a handler returns.
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`Content-Length` is added).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Resp {
    /// A response with a status and body.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, k: &str, v: &str) -> Resp {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

type Handler = dyn Fn(&Req) -> Resp + Send + Sync;

/// The server; stops accepting when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its port.
    pub port: u16,
    log: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Starts serving on `127.0.0.1:0`, answering every request with `handler`.
    pub fn start(handler: impl Fn(&Req) -> Resp + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let (log, stop) = (log.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (log, handler) = (log.clone(), handler.clone());
                    std::thread::spawn(move || serve(conn, &log, &*handler));
                }
            });
        }
        Server {
            url: format!("http://127.0.0.1:{port}"),
            port,
            log,
            stop,
        }
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    /// Requests whose path (without the query) ends with `suffix`.
    pub fn count(&self, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path.split('?').next().unwrap_or("").ends_with(suffix))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, log: &Mutex<Vec<Req>>, handler: &Handler) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut w = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
            return;
        };
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req = Req {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
        };
        log.lock().unwrap().push(req.clone());
        let resp = handler(&req);
        let mut out = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
            resp.status,
            resp.body.len()
        );
        for (k, v) in &resp.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        if w.write_all(out.as_bytes()).is_err() {
            return;
        }
        if req.method != "HEAD" && w.write_all(&resp.body).is_err() {
            return;
        }
        let _ = w.flush();
    }
}

/// A file from `root` by URL path (no `..`), with validators; 304 for a matching conditional
/// request, 404 when absent.
pub fn static_file(root: &Path, req: &Req, strip: &str) -> Resp {
    let path = req.path.split('?').next().unwrap_or("");
    let rel = path
        .strip_prefix(strip)
        .unwrap_or(path)
        .trim_start_matches('/');
    if rel.split('/').any(|s| s == "..") {
        return Resp::new(400, "bad path");
    }
    let Ok(data) = std::fs::read(root.join(rel)) else {
        return Resp::new(404, "not found");
    };
    let etag = format!(
        "\"{:x}-{}\"",
        data.len(),
        data.iter().map(|b| *b as u64).sum::<u64>()
    );
    let lm = "Mon, 07 Dec 2026 01:50:13 GMT";
    if req.header("if-none-match") == Some(etag.as_str()) {
        return Resp::new(304, "").header("ETag", &etag);
    }
    Resp::new(200, data)
        .header("ETag", &etag)
        .header("Last-Modified", lm)
}

/// A `docker-registry` on a free loopback port, its storage in a temporary directory;
/// stopped when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`, for `oci://HOST/charts`.
    pub host: String,
    dir: tempfile::TempDir,
    helm: PathBuf,
}

impl Registry {
    /// Starts a registry, or `None` (saying why) when `helm` or `docker-registry` is
    /// missing — a panic when `CHARTIMPACT_REQUIRE_REGISTRY=1`, as CI sets it.
    pub fn start() -> Option<Registry> {
        let (helm, exe) = registry_tools()?;
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = dir.path().join("config.yml");
        std::fs::write(
            &cfg,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new(exe)
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let reg = Registry {
            child,
            host: format!("127.0.0.1:{port}"),
            dir,
            helm,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(&reg.host).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "docker-registry did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(reg)
    }

    /// `helm push TGZ oci://HOST/charts --plain-http`.
    pub fn push(&self, tgz: &Path) {
        let d = self.dir.path();
        let out = Command::new(&self.helm)
            .arg("push")
            .arg(tgz)
            .arg(format!("oci://{}/charts", self.host))
            .arg("--plain-http")
            .env("HELM_REGISTRY_CONFIG", d.join("reg.json"))
            .env("HELM_CACHE_HOME", d.join("cache"))
            .env("HELM_CONFIG_HOME", d.join("cfg"))
            .env("HELM_DATA_HOME", d.join("helmdata"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "helm push: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `helm` and `docker-registry`, or why the tests that need them are skipped (a failure when
/// `CHARTIMPACT_REQUIRE_REGISTRY=1`, as CI sets it).
pub fn registry_tools() -> Option<(PathBuf, PathBuf)> {
    let find = |name: &str| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    match (find("helm"), find("docker-registry")) {
        (Some(h), Some(r)) => Some((h, r)),
        (h, r) => {
            let missing: Vec<&str> = [
                h.is_none().then_some("helm (scripts/install-helm.sh)"),
                r.is_none()
                    .then_some("docker-registry (apt-get install docker-registry)"),
            ]
            .into_iter()
            .flatten()
            .collect();
            let msg = format!("OCI registry tests need {}", missing.join(" and "));
            if std::env::var("CHARTIMPACT_REQUIRE_REGISTRY").as_deref() == Ok("1") {
                panic!("{msg} (CHARTIMPACT_REQUIRE_REGISTRY=1)");
            }
            eprintln!("skipping: {msg}");
            None
        }
    }
}
