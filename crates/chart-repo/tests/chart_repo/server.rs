//! A small HTTP/1.1 server on loopback for the tests: each request is logged and answered by a
//! handler closure. Helpers serve a directory (with `ETag` and `Last-Modified`, answering
//! conditional requests with 304, as a static web server or GitHub Pages does).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Resp {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

type Handler = dyn Fn(&Req) -> Resp + Send + Sync;

pub struct Server {
    pub url: String,
    pub port: u16,
    log: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
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

    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    /// Requests whose path ends with `suffix`.
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
