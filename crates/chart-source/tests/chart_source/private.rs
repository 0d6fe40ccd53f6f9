//! Private repositories: git smart HTTP with basic auth on loopback (`git http-backend` behind
//! testkit's server), credentials sent only in the `Authorization` header, one mirror per
//! credential identity, refused and expiring tokens, and connections pinned to the addresses
//! the policy checked.

use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chart_source::{
    CredentialSource, Credentials, Error, GitAuth, MirrorCache, Resolve, StaticResolver, UrlPolicy,
};
use testkit::GitHttpServer;

use crate::fixtures::{Upstream, git};

const TOKEN: &str = "ghs_PRIVATEtoken0123456789abcdef";

/// `{root}/acme/charts.git`: a bare copy of an upstream with a chart, tag `v1` and `main`.
struct World {
    up: Upstream,
    root: std::path::PathBuf,
    v1: String,
}

impl World {
    fn new() -> World {
        let up = Upstream::new();
        up.chart("charts/app", "app");
        let v1 = up.commit("one");
        up.git(&["tag", "v1"]);
        let root = up.tmp.path().join("git-root");
        std::fs::create_dir_all(root.join("acme")).unwrap();
        git(
            &root,
            &["clone", "-q", "--bare", &up.url(), "acme/charts.git"],
        );
        World { up, root, v1 }
    }

    /// A new commit on `main`, pushed to the served repository.
    fn push_commit(&self, message: &str) -> String {
        self.up
            .write("charts/app/values.yaml", &format!("m: {message}\n"));
        let id = self.up.commit(message);
        let bare = self.root.join("acme/charts.git");
        git(
            &self.up.dir,
            &["push", "-q", bare.to_str().unwrap(), "main:main"],
        );
        id
    }
}

/// A cache allowed to reach `host_port` over http on loopback (as the server's
/// `--allowed-repo-hosts HOST:PORT --allow-private-repo-hosts` with an http git URL).
fn cache(data: &Path, host_port: &str, resolver: Option<Arc<dyn Resolve>>) -> MirrorCache {
    let mut b = MirrorCache::builder(data);
    b.policy(UrlPolicy {
        allowed_hosts: vec![host_port.to_owned()],
        allow_private_addresses: true,
        plain_http_hosts: vec![host_port.to_owned()],
        ..UrlPolicy::default()
    })
    .network_deadline(Duration::from_secs(5))
    .retry_min_delay(Duration::from_millis(10));
    if let Some(r) = resolver {
        b.resolver(r);
    }
    b.build().unwrap()
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

#[test]
fn a_private_repository_is_read_with_basic_auth_sent_only_in_the_header() {
    let world = World::new();
    let srv = GitHttpServer::start_basic(&world.root, "x-access-token", TOKEN);
    let data = tempfile::tempdir().unwrap();
    let cache = cache(data.path(), &srv.host_port(), None);
    let url = format!("{}/acme/charts.git", srv.url());
    let auth = GitAuth::github_token(TOKEN);

    let repo = cache.repository_with(&url, &auth).unwrap();
    let v1 = repo.resolve("v1").unwrap();
    assert_eq!(v1.commit.to_hex(), world.v1);
    let main = repo.resolve("main").unwrap();
    let chart = repo.read_chart(&main.commit, "charts/app").unwrap();
    assert!(chart.get("Chart.yaml").is_some());
    let versions = cache.versions_with(&url, &auth).unwrap();
    assert_eq!(versions.tags[0].name, "v1");

    let seen = srv.requests();
    assert!(seen.iter().any(|r| r.method == "POST"), "{seen:?}");
    for r in &seen {
        assert!(!r.target.contains(TOKEN), "token in a URL: {r:?}");
        assert_eq!(
            r.basic_credentials(),
            Some(("x-access-token".to_owned(), TOKEN.to_owned())),
            "every request authenticated, pre-emptively: {r:?}"
        );
        assert_eq!(r.status, 200, "{r:?}");
    }
    // Nothing on disk holds the token: not the mirror's config, not its fetch records.
    assert_eq!(files_containing(data.path(), TOKEN), Vec::<String>::new());
}

#[test]
fn what_one_identity_fetched_is_never_served_to_another_or_to_anonymous_callers() {
    let world = World::new();
    let srv = GitHttpServer::start_basic(&world.root, "x-access-token", TOKEN);
    let data = tempfile::tempdir().unwrap();
    let cache = cache(data.path(), &srv.host_port(), None);
    let url = format!("{}/acme/charts.git", srv.url());

    let good = cache
        .repository_with(&url, &GitAuth::github_token(TOKEN))
        .unwrap();
    good.resolve("v1").unwrap();

    // Anonymous: a mirror of its own, which must fetch, and the server says no.
    let anonymous = cache.repository(&url).unwrap();
    assert_ne!(anonymous.mirror_dir(), good.mirror_dir());
    let err = anonymous.resolve(&world.v1).unwrap_err();
    let text = chain(&err);
    assert!(matches!(err, Error::AccessDenied { .. }), "{text}");
    assert!(
        text.contains("/acme/charts") && text.contains("needs credentials"),
        "{text}"
    );

    // A wrong token: refused, named by repository, never shown.
    let wrong = "ghs_WRONGtoken0000";
    let err = cache
        .repository_with(&url, &GitAuth::github_token(wrong))
        .unwrap()
        .resolve("v1")
        .unwrap_err();
    let text = format!("{} {err:?}", chain(&err));
    assert!(matches!(err, Error::AccessDenied { .. }), "{text}");
    assert!(text.contains("refused the credentials"), "{text}");
    assert!(!text.contains(wrong) && !text.contains(TOKEN), "{text}");

    // Credentials in the URL: sent as a header, their own mirror, never in a URL git sees.
    let with_userinfo = url.replacen("http://", &format!("http://x-access-token:{TOKEN}@"), 1);
    let from_url = cache.repository(&with_userinfo).unwrap();
    assert_ne!(from_url.mirror_dir(), anonymous.mirror_dir());
    assert_eq!(from_url.resolve("v1").unwrap().commit.to_hex(), world.v1);
    assert!(srv.requests().iter().all(|r| !r.target.contains(TOKEN)));
    // The same bogus URL credentials first do not poison anyone else's fetches.
    let bogus = url.replacen("http://", "http://x-access-token:bogus@", 1);
    assert!(cache.repository(&bogus).unwrap().resolve("v1").is_err());
    assert!(
        cache
            .repository_with(&url, &GitAuth::github_token(TOKEN))
            .unwrap()
            .resolve("main")
            .is_ok()
    );
    assert_eq!(files_containing(data.path(), TOKEN), Vec::<String>::new());
}

/// Hands out `first`, then (asked to refresh) `second`; counts refreshes.
struct Rotating {
    first: String,
    second: String,
    refreshed: AtomicUsize,
}

impl CredentialSource for Rotating {
    fn credentials(&self, refresh: bool) -> Result<Credentials, String> {
        if refresh {
            self.refreshed.fetch_add(1, Ordering::SeqCst);
        }
        let token = if self.refreshed.load(Ordering::SeqCst) > 0 {
            &self.second
        } else {
            &self.first
        };
        Ok(Credentials::github_token(token.clone()))
    }
}

#[test]
fn a_token_that_expires_mid_fetch_is_refreshed_once() {
    let world = World::new();
    // The old token still opens the handshake but is refused for the pack itself, as a token
    // that expires between the two requests of a fetch.
    let srv = GitHttpServer::start_with(&world.root, |user, pass, path| {
        user == "x-access-token"
            && (pass == "ghs_new" || (pass == "ghs_old" && path.ends_with("/info/refs")))
    });
    let data = tempfile::tempdir().unwrap();
    let cache = cache(data.path(), &srv.host_port(), None);
    let url = format!("{}/acme/charts.git", srv.url());
    let source = Arc::new(Rotating {
        first: "ghs_old".into(),
        second: "ghs_new".into(),
        refreshed: AtomicUsize::new(0),
    });
    let auth = GitAuth::from_source("installation-1", source.clone());
    let got = cache
        .repository_with(&url, &auth)
        .unwrap()
        .resolve("v1")
        .unwrap();
    assert_eq!(got.commit.to_hex(), world.v1);
    assert_eq!(source.refreshed.load(Ordering::SeqCst), 1);
    let statuses: Vec<(String, u16)> = srv
        .requests()
        .iter()
        .map(|r| (r.basic_credentials().unwrap().1, r.status))
        .collect();
    assert!(statuses.contains(&("ghs_old".into(), 401)), "{statuses:?}");
    assert_eq!(statuses.last().unwrap(), &("ghs_new".to_owned(), 200));

    // A source that cannot refresh: the job fails for good, saying so.
    struct Stale;
    impl CredentialSource for Stale {
        fn credentials(&self, refresh: bool) -> Result<Credentials, String> {
            if refresh {
                Err("the installation is suspended".into())
            } else {
                Ok(Credentials::github_token("ghs_old"))
            }
        }
    }
    world.push_commit("two");
    let err = cache
        .repository_with(
            &url,
            &GitAuth::from_source("installation-2", Arc::new(Stale)),
        )
        .unwrap()
        .resolve("main")
        .unwrap_err();
    let text = chain(&err);
    assert!(matches!(err, Error::AccessDenied { .. }), "{text}");
    assert!(text.contains("installation is suspended"), "{text}");
}

/// Answers from a list, one answer per call (the last repeats): a name that rebinds.
struct Rebinding {
    answers: Mutex<Vec<Vec<IpAddr>>>,
    calls: AtomicUsize,
}

impl Resolve for Rebinding {
    fn resolve(&self, _host: &str, _port: u16) -> io::Result<Vec<IpAddr>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let answers = self.answers.lock().unwrap();
        Ok(answers[n.min(answers.len() - 1)].clone())
    }
}

#[test]
fn connections_go_to_the_addresses_the_policy_checked() {
    let world = World::new();
    let srv = GitHttpServer::start_basic(&world.root, "x-access-token", TOKEN);
    let port = srv.host_port().rsplit_once(':').unwrap().1.to_owned();
    let host = format!("git.internal.test:{port}");
    // A name only our resolver knows: git can reach it only through the pinned address.
    let resolver = Arc::new(StaticResolver::new([(
        "git.internal.test",
        vec!["127.0.0.1".parse().unwrap()],
    )]));
    let data = tempfile::tempdir().unwrap();
    let cache = cache(data.path(), &host, Some(resolver));
    let url = format!("http://{host}/acme/charts.git");
    let got = cache
        .repository_with(&url, &GitAuth::github_token(TOKEN))
        .unwrap()
        .resolve("v1")
        .unwrap();
    assert_eq!(got.commit.to_hex(), world.v1);

    // DNS rebinding: public when the URL is checked, loopback when git connects. The
    // connect-time check refuses and nothing reaches the server.
    let before = srv.requests().len();
    let rebinding = Arc::new(Rebinding {
        answers: Mutex::new(vec![
            vec!["93.184.216.34".parse().unwrap()],
            vec!["127.0.0.1".parse().unwrap()],
        ]),
        calls: AtomicUsize::new(0),
    });
    let data2 = tempfile::tempdir().unwrap();
    let strict = MirrorCache::builder(data2.path())
        .policy(UrlPolicy {
            allowed_hosts: vec![host.clone()],
            plain_http_hosts: vec![host.clone()],
            ..UrlPolicy::default()
        })
        .resolver(rebinding.clone())
        .network_deadline(Duration::from_secs(2))
        .build()
        .unwrap();
    let repo = strict
        .repository_with(&url, &GitAuth::github_token(TOKEN))
        .unwrap();
    let err = repo.resolve("v1").unwrap_err();
    let text = chain(&err);
    assert!(matches!(err, Error::RepositoryNotAllowed { .. }), "{text}");
    assert!(text.contains("loopback address 127.0.0.1"), "{text}");
    assert!(rebinding.calls.load(Ordering::SeqCst) >= 2);
    assert_eq!(srv.requests().len(), before, "no request left the client");
}

#[test]
fn plain_http_needs_the_host_listed_for_it() {
    let policy = UrlPolicy {
        allowed_hosts: vec!["git.corp.example:8080".into(), "git.corp.example".into()],
        allow_private_addresses: true,
        plain_http_hosts: vec!["git.corp.example:8080".into()],
        ..UrlPolicy::default()
    };
    let resolver = StaticResolver::new([("git.corp.example", vec!["10.1.2.3".parse().unwrap()])]);
    let ok = policy
        .check_with("http://git.corp.example:8080/acme/charts.git", &resolver)
        .unwrap();
    assert_eq!(ok.normalized(), "http://git.corp.example:8080/acme/charts");
    let err = policy
        .check_with("http://git.corp.example/acme/charts.git", &resolver)
        .unwrap_err();
    assert!(err.to_string().contains("only https"), "{err}");
    // ssh and scp-like URLs: only when allowed (the CLI), to allowed hosts.
    let ssh = UrlPolicy {
        allow_ssh: true,
        ..policy.clone()
    };
    for (url, norm) in [
        (
            "git@git.corp.example:acme/charts.git",
            "ssh://git.corp.example/acme/charts",
        ),
        (
            "ssh://git@git.corp.example/acme/charts.git",
            "ssh://git.corp.example/acme/charts",
        ),
    ] {
        assert!(policy.check_with(url, &resolver).is_err(), "{url}");
        assert_eq!(ssh.check_with(url, &resolver).unwrap().normalized(), norm);
    }
    assert!(
        ssh.check_with("git@other.example:acme/charts.git", &resolver)
            .unwrap_err()
            .to_string()
            .contains("not in the allowed hosts")
    );
    assert!(
        ssh.check_with("-oProxyCommand=x@git.corp.example:a/b", &resolver)
            .is_err()
    );
}
