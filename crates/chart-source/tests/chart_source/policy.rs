//! The repository URL policy, as a table.

use std::net::IpAddr;

use chart_source::{Error, StaticResolver, UrlPolicy};

use crate::fixtures::Upstream;

#[derive(Debug, PartialEq)]
enum Want {
    /// Accepted, with this normalized URL.
    Ok(&'static str),
    /// Refused; the reason contains this text.
    Refused(&'static str),
    Unreachable,
}

fn resolver() -> StaticResolver {
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    StaticResolver::new([
        ("github.com", vec![ip("140.82.121.4")]),
        (
            "git.example.com",
            vec![ip("93.184.216.34"), ip("2606:2800:220:1::1")],
        ),
        (
            "internal.example.com",
            vec![ip("93.184.216.34"), ip("10.0.0.7")],
        ),
        ("metadata.example.com", vec![ip("169.254.169.254")]),
        ("v6local.example.com", vec![ip("fd12::1")]),
        ("localhost", vec![ip("127.0.0.1"), ip("::1")]),
    ])
}

#[test]
fn url_policy_table() {
    let up = Upstream::new();
    let local = up.path();
    let local_norm: &'static str = Box::leak(
        format!(
            "file://{}",
            std::fs::canonicalize(&up.dir).unwrap().display()
        )
        .into_boxed_str(),
    );
    let file_url = format!("file://{local}");
    let default = UrlPolicy::default();
    let hosts = UrlPolicy {
        allowed_hosts: vec![
            "github.com".into(),
            "git.example.com".into(),
            "internal.example.com".into(),
            "metadata.example.com".into(),
            "v6local.example.com".into(),
            "localhost".into(),
            "127.0.0.1".into(),
            "git.example.com:8443".into(),
        ],
        ..UrlPolicy::default()
    };
    let local_ok = UrlPolicy {
        allow_local: true,
        ..UrlPolicy::default()
    };
    let private_ok = UrlPolicy {
        allow_private_addresses: true,
        ..hosts.clone()
    };

    let table: Vec<(&UrlPolicy, &str, Want)> = vec![
        (
            &default,
            "https://github.com/argoproj/argo-helm",
            Want::Ok("https://github.com/argoproj/argo-helm"),
        ),
        (
            &default,
            "https://GitHub.com/ArgoProj/Argo-Helm.git",
            Want::Ok("https://github.com/argoproj/argo-helm"),
        ),
        (
            &default,
            "https://github.com:443/o/r/",
            Want::Ok("https://github.com/o/r"),
        ),
        (
            &default,
            "https://user:token@github.com/o/r.git",
            Want::Ok("https://github.com/o/r"),
        ),
        (
            &default,
            "https://github.com.evil.io/o/r",
            Want::Refused("not in the allowed hosts"),
        ),
        (
            &default,
            "https://evil.io/github.com/o/r",
            Want::Refused("not in the allowed hosts"),
        ),
        (
            &default,
            "https://github.com@evil.io/o/r",
            Want::Refused("not in the allowed hosts"),
        ),
        (
            &default,
            "https://github.com:8443/o/r",
            Want::Refused("not in the allowed hosts"),
        ),
        (
            &default,
            "http://github.com/o/r",
            Want::Refused("only https"),
        ),
        (
            &default,
            "ssh://git@github.com/o/r",
            Want::Refused("only https"),
        ),
        (
            &default,
            "git://github.com/o/r",
            Want::Refused("only https"),
        ),
        (
            &default,
            "git@github.com:o/r.git",
            Want::Refused("scp-like"),
        ),
        (
            &default,
            "ext::sh -c touch% /tmp/pwned",
            Want::Refused("whitespace"),
        ),
        (&default, "ext::sh", Want::Refused("transport helpers")),
        (
            &default,
            "-uhttps://github.com/o/r",
            Want::Refused("starting with '-'"),
        ),
        (
            &default,
            "--upload-pack=touch",
            Want::Refused("starting with '-'"),
        ),
        (
            &default,
            "https://github.com/o/r?x=1",
            Want::Refused("query"),
        ),
        (
            &default,
            "https://github.com/o/r#main",
            Want::Refused("query or fragment"),
        ),
        (
            &default,
            "https://github.com/o/../../r",
            Want::Refused("dot segments"),
        ),
        (
            &default,
            "https://github.com/o/%2e%2e/r",
            Want::Refused("dot segments"),
        ),
        (
            &default,
            "https://github.com",
            Want::Refused("no repository path"),
        ),
        (
            &default,
            "https://github.com/o/r\n",
            Want::Refused("whitespace"),
        ),
        (
            &default,
            "https://gith\u{fc}b.com/o/r",
            Want::Refused("invalid host"),
        ),
        (&default, "", Want::Refused("empty")),
        (
            &default,
            &local,
            Want::Refused("local repositories are not allowed"),
        ),
        (
            &default,
            &file_url,
            Want::Refused("local repositories are not allowed"),
        ),
        (&local_ok, &local, Want::Ok(local_norm)),
        (&local_ok, &file_url, Want::Ok(local_norm)),
        (
            &local_ok,
            "/nonexistent/chartimpact/repo",
            Want::Unreachable,
        ),
        (
            &local_ok,
            "file://server/share/repo",
            Want::Refused("absolute path"),
        ),
        (
            &hosts,
            "https://git.example.com/team/charts",
            Want::Ok("https://git.example.com/team/charts"),
        ),
        (
            &hosts,
            "https://git.example.com:8443/team/charts",
            Want::Ok("https://git.example.com:8443/team/charts"),
        ),
        (
            &hosts,
            "https://internal.example.com/o/r",
            Want::Refused("private address 10.0.0.7"),
        ),
        (
            &hosts,
            "https://metadata.example.com/o/r",
            Want::Refused("link-local address"),
        ),
        (
            &hosts,
            "https://v6local.example.com/o/r",
            Want::Refused("unique-local address"),
        ),
        (
            &hosts,
            "https://localhost/o/r",
            Want::Refused("loopback address"),
        ),
        (
            &hosts,
            "https://127.0.0.1/o/r",
            Want::Refused("loopback address"),
        ),
        (
            &hosts,
            "https://[::1]/o/r",
            Want::Refused("not in the allowed hosts"),
        ),
        (
            &hosts,
            "https://unknown.example.com/o/r",
            Want::Refused("not in the allowed hosts"),
        ),
        (
            &private_ok,
            "https://internal.example.com/o/r",
            Want::Ok("https://internal.example.com/o/r"),
        ),
        (
            &private_ok,
            "https://127.0.0.1/o/r",
            Want::Ok("https://127.0.0.1/o/r"),
        ),
    ];
    let resolver = resolver();
    let mut failures = Vec::new();
    for (policy, url, want) in &table {
        let got = match policy.check_with(url, &resolver) {
            Ok(u) => Want::Ok(Box::leak(u.normalized().to_owned().into_boxed_str())),
            Err(Error::RepositoryNotAllowed { url: shown, reason }) => {
                assert!(
                    !shown.contains("token") && !reason.contains("token"),
                    "{shown} {reason}"
                );
                match want {
                    Want::Refused(text) if reason.contains(text) => Want::Refused(text),
                    _ => Want::Refused(Box::leak(reason.into_boxed_str())),
                }
            }
            Err(Error::RepositoryUnreachable { .. }) => Want::Unreachable,
            Err(other) => panic!("{url}: unexpected {other:?}"),
        };
        if &got != want {
            failures.push(format!("{url:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn credentials_never_appear_in_errors() {
    let policy = UrlPolicy {
        allowed_hosts: vec!["git.example.com".into()],
        ..UrlPolicy::default()
    };
    for url in [
        "https://alice:s3cr3t@evil.example/o/r",
        "https://alice:s3cr3t@git.example.com/o/r?x",
        "http://alice:s3cr3t@git.example.com/o/r",
    ] {
        let err = policy.check_with(url, &resolver()).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(
            !text.contains("s3cr3t") && !text.contains("alice"),
            "{text}"
        );
    }
    // Accepted URLs keep their credentials out of Display, Debug and the cache key.
    let ok = policy
        .check_with("https://alice:s3cr3t@git.example.com/o/r", &resolver())
        .unwrap();
    let text = format!("{ok} {ok:?} {} {}", ok.normalized(), ok.cache_key());
    assert!(
        !text.contains("s3cr3t") && !text.contains("alice"),
        "{text}"
    );
}
