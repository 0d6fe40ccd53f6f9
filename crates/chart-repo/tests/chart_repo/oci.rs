//! A real OCI registry (Debian's `docker-registry`, CNCF distribution) on loopback, filled by
//! `helm push`, so the real helm client vouches for the manifests and blobs these tests read.
//! Bearer-token and basic auth are added by a small proxy in front of it, as a registry's
//! token service or an authenticating front end would.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chart_repo::{Call, ChartRepos, Credentials, DependencySource, Error, Mirror};
use helm_render::{ChartFiles, FileLimits, NativeRenderer, Options, Renderer, ValuesFile};

use crate::server::{Resp, Server};
use crate::{builder, corpus, dandy, sha256_file};
use testkit::chart_repos::Registry;

/// A registry holding redis-ha 4.26.1, 4.29.4 and 4.33.2.
fn filled() -> Option<Registry> {
    let reg = Registry::start()?;
    for v in ["4.26.1", "4.29.4", "4.33.2"] {
        reg.push(&dandy().join(format!("redis-ha-{v}.tgz")));
    }
    Some(reg)
}

fn call() -> Call {
    Call::with_timeout(Duration::from_secs(60))
}

fn plain(data: &Path) -> ChartRepos {
    let mut b = builder(data);
    b.plain_http(true);
    b.build().unwrap()
}

#[test]
fn versions_and_archives_from_a_registry() {
    let Some(reg) = filled() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let repos = plain(data.path());
    let repo = format!("oci://{}/charts", reg.host);
    let vs = repos.versions(&repo, "redis-ha", &call()).unwrap();
    let v: Vec<&str> = vs.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(v, ["4.33.2", "4.29.4", "4.26.1"]);

    let a = repos
        .fetch_chart(&repo, "redis-ha", "4.29.4", &call())
        .unwrap();
    assert_eq!(a.digest, sha256_file(&dandy().join("redis-ha-4.29.4.tgz")));
    assert_eq!(a.version, "4.29.4");
    assert!(!a.cached);
    let again = repos
        .fetch_chart(&repo, "redis-ha", "4.29.4", &call())
        .unwrap();
    assert!(again.cached);
    assert_eq!(repos.stats().archive_downloads, 1);
    assert_eq!(
        repos
            .fetch_chart(&repo, "redis-ha", "~4.26", &call())
            .unwrap()
            .version,
        "4.26.1"
    );
    assert_eq!(
        repos
            .fetch_chart(&repo, "redis-ha", "", &call())
            .unwrap()
            .version,
        "4.33.2"
    );

    let e = repos
        .fetch_chart(&repo, "redis-ha", "99.1.0", &call())
        .unwrap_err();
    assert!(matches!(e, Error::VersionNotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("4.33.2"), "{e}");
    let e = repos
        .fetch_chart(&repo, "nothing-here", "1.0.0", &call())
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");

    // Without --plain-http the client speaks TLS, which this registry does not.
    let e = builder(data.path())
        .build()
        .unwrap()
        .versions(
            &repo,
            "redis-ha",
            &Call::with_timeout(Duration::from_secs(2)),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unreachable { .. } | Error::DeadlineExceeded { .. }
        ),
        "{e:?}"
    );
}

#[test]
fn argo_cd_dependency_from_a_registry_renders_as_the_vendored_case() {
    let Some(reg) = filled() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let mut b = builder(data.path());
    // The chart names a registry that does not exist here; a mirror sends it to this one.
    b.plain_http(true).mirror(
        Mirror::parse(&format!(
            "oci://registry.example.invalid/charts=oci://{}/charts",
            reg.host
        ))
        .unwrap(),
    );
    let repos = b.build().unwrap();
    let case = corpus().join("cases/argo-cd__7.8.13__8.0.7");
    let files = ChartFiles::from_dir(&case.join("before"), FileLimits::default()).unwrap();
    let files: ChartFiles = files
        .iter()
        .filter(|(p, _)| !p.starts_with("charts/") && *p != "Chart.lock")
        .map(|(p, d)| {
            let d = if p == "Chart.yaml" {
                String::from_utf8(d.to_vec())
                    .unwrap()
                    .replace(
                        "https://dandydeveloper.github.io/charts/",
                        "oci://registry.example.invalid/charts",
                    )
                    .into_bytes()
            } else {
                d.to_vec()
            };
            (p.to_owned(), d)
        })
        .collect();
    let r = repos.resolve_dependencies(&files, None, &call()).unwrap();
    let d = &r.dependencies[0];
    assert_eq!(
        (d.version.as_str(), &d.source),
        ("4.29.4", &DependencySource::Range)
    );
    let values = ValuesFile {
        name: "ha-autoscaling-values.yaml".into(),
        content: std::fs::read(case.join("values/ha-autoscaling-values.yaml")).unwrap(),
    };
    let opts = Options {
        values: vec![values],
        ..Options::default()
    };
    let out = NativeRenderer::new().render(&r.files, &opts).unwrap();
    let want = std::fs::read_to_string(case.join("rendered/before.yaml")).unwrap();
    assert!(out.manifest == want, "render differs from helm's");
}

/// A proxy in front of the registry that wants a bearer token from its own token service
/// (`WWW-Authenticate: Bearer realm=…`), or basic credentials.
fn auth_proxy(registry: &str, basic: Option<&'static str>, tokens: Arc<AtomicUsize>) -> Server {
    let registry = registry.to_owned();
    let port = Arc::new(std::sync::OnceLock::<String>::new());
    let me = port.clone();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::new();
    let srv = Server::start(move |req| {
        if req.path.starts_with("/token") {
            tokens.fetch_add(1, Ordering::SeqCst);
            assert!(
                req.path
                    .contains("scope=repository%3Acharts%2Fredis-ha%3Apull"),
                "{}",
                req.path
            );
            assert!(req.path.contains("service=test-registry"), "{}", req.path);
            return Resp::new(200, r#"{"token":"tok-123","expires_in":300}"#);
        }
        let auth = req.header("authorization");
        let ok = match basic {
            Some(b) => auth == Some(b),
            None => auth == Some("Bearer tok-123"),
        };
        if !ok {
            let challenge = match basic {
                Some(_) => "Basic realm=\"registry\"".to_owned(),
                None => format!(
                    "Bearer realm=\"{}/token\",service=\"test-registry\",scope=\"repository:charts/redis-ha:pull\"",
                    me.get().unwrap()
                ),
            };
            return Resp::new(401, "").header("WWW-Authenticate", &challenge);
        }
        let mut up = client.get(format!("http://{registry}{}", req.path));
        if let Some(a) = req.header("accept") {
            up = up.header("Accept", a);
        }
        let r = up.send().unwrap();
        let mut resp = Resp::new(r.status().as_u16(), Vec::new());
        for h in ["content-type", "docker-content-digest", "link"] {
            if let Some(v) = r.headers().get(h).and_then(|v| v.to_str().ok()) {
                resp = resp.header(h, v);
            }
        }
        resp.body = r.bytes().unwrap().to_vec();
        resp
    });
    port.set(srv.url.clone()).unwrap();
    srv
}

#[test]
fn bearer_tokens_and_basic_auth() {
    let Some(reg) = filled() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let tokens = Arc::new(AtomicUsize::new(0));
    let proxy = auth_proxy(&reg.host, None, tokens.clone());
    let repos = plain(data.path());
    let repo = format!("oci://127.0.0.1:{}/charts", proxy.port);
    let vs = repos.versions(&repo, "redis-ha", &call()).unwrap();
    assert_eq!(vs.len(), 3);
    let a = repos
        .fetch_chart(&repo, "redis-ha", "4.33.2", &call())
        .unwrap();
    assert_eq!(a.digest, sha256_file(&dandy().join("redis-ha-4.33.2.tgz")));
    assert_eq!(
        tokens.load(Ordering::SeqCst),
        1,
        "the anonymous token is reused"
    );

    // "robot:pa55"
    let basic = auth_proxy(&reg.host, Some("Basic cm9ib3Q6cGE1NQ=="), tokens.clone());
    let repo = format!("oci://127.0.0.1:{}/charts", basic.port);
    let e = repos.versions(&repo, "redis-ha", &call()).unwrap_err();
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
    let mut creds = Credentials::new();
    creds.add_basic(&format!("127.0.0.1:{}", basic.port), "robot", "pa55");
    let mut b = builder(data.path());
    b.plain_http(true).credentials(creds);
    let authed = b.build().unwrap();
    let a = authed
        .fetch_chart(&repo, "redis-ha", "4.26.1", &call())
        .unwrap();
    assert_eq!(a.version, "4.26.1");
    assert!(!a.url.contains("pa55"));
}
