//! A Helm repository made by `helm package` + `helm repo index` (the corpus's dandydeveloper
//! repository), served over loopback HTTP, with faults a real repository can have.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chart_repo::{Call, Credentials, Error, Limits, Mirror};
use chart_source::UrlPolicy;

use crate::server::{Resp, Server, static_file};
use crate::{builder, dandy, files_under, sha256_file};

fn repo_server() -> Server {
    let root = dandy();
    Server::start(move |req| static_file(&root, req, "/dandy"))
}

fn call() -> Call {
    Call::with_timeout(Duration::from_secs(30))
}

#[test]
fn versions_are_listed_newest_first() {
    let srv = repo_server();
    let data = tempfile::tempdir().unwrap();
    let repos = builder(data.path()).build().unwrap();
    let vs = repos
        .versions(&format!("{}/dandy", srv.url), "redis-ha", &call())
        .unwrap();
    let v: Vec<&str> = vs.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(v, ["4.33.2", "4.29.4", "4.26.1"]);
    assert_eq!(vs[0].app_version, "7.2.7");
    // The trailing slash is the repository's usual spelling.
    let again = repos
        .versions(&format!("{}/dandy/", srv.url), "redis-ha", &call())
        .unwrap();
    assert_eq!(again, vs);
    assert_eq!(
        srv.count("/index.yaml"),
        1,
        "the index is parsed once per process"
    );
}

#[test]
fn archives_are_verified_and_never_downloaded_twice() {
    let srv = repo_server();
    let data = tempfile::tempdir().unwrap();
    let url = format!("{}/dandy", srv.url);
    let repos = builder(data.path()).build().unwrap();
    let a = repos
        .fetch_chart(&url, "redis-ha", "4.29.4", &call())
        .unwrap();
    assert_eq!(a.digest, sha256_file(&dandy().join("redis-ha-4.29.4.tgz")));
    assert_eq!(
        (a.name.as_str(), a.version.as_str()),
        ("redis-ha", "4.29.4")
    );
    assert!(!a.cached);
    assert!(a.files().unwrap().get("Chart.yaml").is_some());
    // A new process (a new client on the same data dir) with an expired index TTL.
    let mut b = builder(data.path());
    b.index_ttl(Duration::ZERO);
    let again = b.build().unwrap();
    let a2 = again
        .fetch_chart(&url, "redis-ha", "4.29.4", &call())
        .unwrap();
    assert!(a2.cached);
    assert_eq!(a2.bytes, a.bytes);
    assert_eq!(srv.count(".tgz"), 1, "{:?}", srv.requests());
    // A pinned version whose archive is cached needs no request at all.
    assert_eq!(srv.count("/index.yaml"), 1);
    // A range needs the index; it is revalidated with its ETag and the repository says 304.
    let r = again
        .fetch_chart(&url, "redis-ha", "~4.29", &call())
        .unwrap();
    assert_eq!(r.version, "4.29.4");
    let last = srv.requests().into_iter().last().unwrap();
    assert!(last.header("if-none-match").is_some(), "{last:?}");
    assert_eq!(again.stats().index_not_modified, 1);
    assert_eq!(srv.count(".tgz"), 1);
}

#[test]
fn unknown_versions_and_charts_name_the_nearest() {
    let srv = repo_server();
    let data = tempfile::tempdir().unwrap();
    let url = format!("{}/dandy", srv.url);
    let repos = builder(data.path()).build().unwrap();
    let e = repos
        .fetch_chart(&url, "redis-ha", "99.1.0", &call())
        .unwrap_err();
    assert!(matches!(e, Error::VersionNotFound { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("99.1.0") && msg.contains("4.33.2"), "{msg}");
    let e = repos
        .fetch_chart(&url, "redis-h", "1.0.0", &call())
        .unwrap_err();
    assert!(e.to_string().contains("nearest charts: redis-ha"), "{e}");
    assert!(e.is_not_found());
    let e = repos
        .fetch_chart(&url, "redis-ha", "4.30.0", &call())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("nearest versions: 4.33.2, 4.29.4, 4.26.1"),
        "{e}"
    );
    let e = repos
        .fetch_chart(&url, "redis-ha", ">>4", &call())
        .unwrap_err();
    assert!(matches!(e, Error::InvalidConstraint { .. }), "{e:?}");
}

/// Serves an index built from the corpus index by `edit`, and the archives.
fn edited_repo(edit: impl Fn(String, &str) -> String + Send + Sync + 'static) -> Server {
    let root = dandy();
    let index = std::fs::read_to_string(root.join("index.yaml")).unwrap();
    let port = Arc::new(std::sync::OnceLock::<String>::new());
    let p2 = port.clone();
    let srv = Server::start(move |req| {
        if req.path.ends_with("/index.yaml") {
            Resp::new(200, edit(index.clone(), p2.get().unwrap()))
        } else {
            static_file(&root, req, "/files")
        }
    });
    port.set(srv.url.clone()).unwrap();
    srv
}

#[test]
fn relative_and_absolute_archive_urls() {
    // Absolute URLs on another path of the server.
    let srv =
        edited_repo(|idx, base| idx.replace("- redis-ha-", &format!("- {base}/files/redis-ha-")));
    let data = tempfile::tempdir().unwrap();
    let repos = builder(data.path()).build().unwrap();
    let a = repos
        .fetch_chart(&format!("{}/repo", srv.url), "redis-ha", "4.33.2", &call())
        .unwrap();
    assert_eq!(a.version, "4.33.2");
    assert_eq!(srv.count("/files/redis-ha-4.33.2.tgz"), 1);
    // Relative URLs with a directory, against a repository URL with a trailing slash.
    let srv = edited_repo(|idx, _| idx.replace("- redis-ha-", "- ../files/redis-ha-"));
    let a = repos
        .fetch_chart(&format!("{}/repo/", srv.url), "redis-ha", "4.26.1", &call())
        .unwrap();
    assert_eq!(a.version, "4.26.1");
    assert_eq!(srv.count("/files/redis-ha-4.26.1.tgz"), 1);
}

#[test]
fn json_index() {
    let root = dandy();
    let srv = Server::start(move |req| {
        if req.path.ends_with("/index.yaml") {
            let json = r#"{"apiVersion":"v1","entries":{"redis-ha":[{"name":"redis-ha","version":"4.26.1","urls":["redis-ha-4.26.1.tgz"],"digest":"fc7c92deef83bb6df20137cbb322feba92376e7e9ab1800636ac7b517fcc21b4"}]}}"#;
            Resp::new(200, json).header("Content-Type", "application/json")
        } else {
            static_file(&root, req, "/json")
        }
    });
    let data = tempfile::tempdir().unwrap();
    let repos = builder(data.path()).build().unwrap();
    let a = repos
        .fetch_chart(&format!("{}/json", srv.url), "redis-ha", "", &call())
        .unwrap();
    assert_eq!(a.version, "4.26.1");
}

#[test]
fn digest_mismatch_caches_nothing() {
    let srv = edited_repo(|idx, _| {
        idx.replace(
            "41362a1d85ce3a9f22147629cd9b1b637f8aa08621316af0139b5e3b9d0a81ac",
            "0000000000000000000000000000000000000000000000000000000000000000",
        )
    });
    let data = tempfile::tempdir().unwrap();
    let repos = builder(data.path()).build().unwrap();
    let e = repos
        .fetch_chart(&format!("{}/files", srv.url), "redis-ha", "4.33.2", &call())
        .unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("41362a1d85ce"), "{e}");
    assert!(files_under(&data.path().join("charts/archives")).is_empty());
}

/// A gzipped tar with one entry written raw, so its name can hold `..`.
fn evil_tgz() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let chart = b"apiVersion: v2\nname: redis-ha\nversion: 4.33.2\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(chart.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "redis-ha/Chart.yaml", &chart[..])
        .unwrap();
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..24].copy_from_slice(b"redis-ha/../../evil.yaml");
    h.set_size(1);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    tar.append(&h, &b"x"[..]).unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn archive_path_tricks_are_refused() {
    let evil = evil_tgz();
    let idx = "apiVersion: v1\nentries:\n  redis-ha:\n  - name: redis-ha\n    version: 4.33.2\n    urls: [redis-ha-4.33.2.tgz]\n";
    let srv = Server::start(move |req| {
        if req.path.ends_with("/index.yaml") {
            Resp::new(200, idx)
        } else {
            Resp::new(200, evil.clone())
        }
    });
    let data = tempfile::tempdir().unwrap();
    let repos = builder(data.path()).build().unwrap();
    let e = repos
        .fetch_chart(&srv.url, "redis-ha", "4.33.2", &call())
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArchive { .. }), "{e:?}");
    assert!(e.to_string().contains("parent directory"), "{e}");
    assert!(files_under(&data.path().join("charts/archives")).is_empty());
    assert!(files_under(&data.path().join("charts/by-url")).is_empty());
}

#[test]
fn size_limits() {
    let srv = repo_server();
    let data = tempfile::tempdir().unwrap();
    let url = format!("{}/dandy", srv.url);
    let mut limits = Limits::default();
    limits.max_index_bytes = 1000;
    let e = builder(data.path())
        .limits(limits)
        .build()
        .unwrap()
        .versions(&url, "redis-ha", &call())
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooLarge {
                what: "repository index",
                ..
            }
        ),
        "{e:?}"
    );
    let mut limits = Limits::default();
    limits.max_archive_bytes = 10_000;
    let e = builder(data.path())
        .limits(limits)
        .build()
        .unwrap()
        .fetch_chart(&url, "redis-ha", "4.33.2", &call())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("larger than the limit of 10000 bytes"),
        "{e}"
    );
    assert!(files_under(&data.path().join("charts/archives")).is_empty());
}

#[test]
fn transient_failures_are_retried_then_named() {
    let root = dandy();
    let fails = Arc::new(AtomicUsize::new(2));
    let f = fails.clone();
    let srv = Server::start(move |req| {
        if f.load(Ordering::SeqCst) > 0 {
            f.fetch_sub(1, Ordering::SeqCst);
            return Resp::new(503, "busy");
        }
        static_file(&root, req, "")
    });
    let data = tempfile::tempdir().unwrap();
    let repos = builder(data.path()).build().unwrap();
    let vs = repos.versions(&srv.url, "redis-ha", &call()).unwrap();
    assert_eq!(vs.len(), 3);
    assert_eq!(srv.count("/index.yaml"), 3);

    let limited = Server::start(|_| Resp::new(429, "slow down").header("Retry-After", "0"));
    let started = std::time::Instant::now();
    let e = repos
        .versions(
            &format!("{}/limited", limited.url),
            "x",
            &Call::with_timeout(Duration::from_millis(700)),
        )
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let msg = e.to_string();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert!(
        msg.contains("rate-limited") && msg.contains(&limited.url),
        "{msg}"
    );
    assert!(limited.requests().len() >= 2, "retried within the deadline");
}

#[test]
fn policy_applies_to_repositories_and_redirects() {
    let srv = repo_server();
    let data = tempfile::tempdir().unwrap();
    // Only this server's host:port is allowed; a redirect to another port is refused.
    let other = repo_server();
    let target = format!("{}/dandy/index.yaml", other.url);
    let redirecting = Server::start(move |_| Resp::new(302, "").header("Location", &target));
    let mut b = builder(data.path());
    b.policy(UrlPolicy {
        allowed_hosts: vec![format!("127.0.0.1:{}", redirecting.port)],
        allow_local: false,
        allow_private_addresses: true,
        ..Default::default()
    });
    let repos = b.build().unwrap();
    let e = repos
        .versions(&format!("{}/x", redirecting.url), "redis-ha", &call())
        .unwrap_err();
    assert!(matches!(e, Error::NotAllowed { .. }), "{e:?}");
    assert!(e.to_string().contains("redirect refused"), "{e}");
    assert_eq!(other.requests().len(), 0);
    let e = repos
        .versions(&format!("{}/dandy", srv.url), "redis-ha", &call())
        .unwrap_err();
    assert!(e.to_string().contains("not in the allowed hosts"), "{e}");
    // The server's default: public addresses only, https only.
    let mut b = builder(data.path());
    b.policy(UrlPolicy {
        allowed_hosts: vec!["*".into()],
        allow_local: false,
        allow_private_addresses: false,
        ..Default::default()
    });
    let strict = b.build().unwrap();
    let e = strict
        .versions(&format!("{}/dandy", srv.url), "redis-ha", &call())
        .unwrap_err();
    assert!(e.to_string().contains("plain http is refused"), "{e}");
    let e = strict
        .versions(
            &format!("https://127.0.0.1:{}/dandy", srv.port),
            "redis-ha",
            &call(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("loopback address"), "{e}");
    let e = strict
        .versions("https://localhost:1/dandy", "redis-ha", &call())
        .unwrap_err();
    assert!(
        e.to_string().contains("resolves to a loopback address"),
        "{e}"
    );
    assert_eq!(srv.requests().len(), 0);
}

#[test]
fn mirrors_and_credentials() {
    let root = dandy();
    let srv = Server::start(move |req| {
        // "user:s3cret"
        if req.header("authorization") != Some("Basic dXNlcjpzM2NyZXQ=") {
            return Resp::new(401, "").header("WWW-Authenticate", "Basic realm=\"charts\"");
        }
        static_file(&root, req, "/private")
    });
    let data = tempfile::tempdir().unwrap();
    let original = "https://charts.example.invalid/stable";
    let mirror = Mirror::parse(&format!("{original}/={}/private", srv.url)).unwrap();
    let mut b = builder(data.path());
    b.mirror(mirror.clone());
    let e = b
        .build()
        .unwrap()
        .versions(original, "redis-ha", &call())
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::AuthenticationRequired {
                had_credentials: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("configure credentials"), "{e}");

    let mut wrong = Credentials::new();
    wrong.add_basic(&format!("127.0.0.1:{}", srv.port), "user", "wrong-pass");
    b.credentials(wrong);
    let e = b
        .build()
        .unwrap()
        .versions(original, "redis-ha", &call())
        .unwrap_err();
    assert!(e.to_string().contains("credentials were refused"), "{e}");
    assert!(!format!("{e} {e:?}").contains("wrong-pass"));

    let creds = Credentials::parse(
        &format!(
            r#"[{{"host":"127.0.0.1:{}","username":"user","password":"s3cret"}}]"#,
            srv.port
        ),
        "test",
    )
    .unwrap();
    b.credentials(creds);
    let repos = b.build().unwrap();
    let a = repos
        .fetch_chart(original, "redis-ha", "4.29.4", &call())
        .unwrap();
    assert_eq!(a.version, "4.29.4");
    assert!(
        !a.url.contains("s3cret") && a.url.contains("/private/"),
        "{}",
        a.url
    );
    // Nothing in the cache carries the secret.
    for f in files_under(&data.path().join("charts")) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(
            !text.contains("s3cret") && !text.contains("dXNlcjpzM2NyZXQ"),
            "{}",
            f.display()
        );
    }
}
