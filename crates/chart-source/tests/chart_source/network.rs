//! Retries with backoff against a closed loopback port (https), and secrets in those errors.

use std::time::{Duration, Instant};

use chart_source::{Error, MirrorCache, UrlPolicy};

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn cache(data: &std::path::Path, port: u16) -> MirrorCache {
    MirrorCache::builder(data)
        .policy(UrlPolicy {
            allowed_hosts: vec![format!("127.0.0.1:{port}")],
            allow_private_addresses: true,
            ..UrlPolicy::default()
        })
        .network_deadline(Duration::from_millis(600))
        .retry_min_delay(Duration::from_millis(20))
        .build()
        .unwrap()
}

/// The error and its sources, as a binary prints them.
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
fn network_errors_are_retried_within_the_deadline_and_say_what_was_tried() {
    let tmp = tempfile::tempdir().unwrap();
    let port = closed_port();
    let cache = cache(tmp.path(), port);
    let url = format!("https://alice:s3cr3t@127.0.0.1:{port}/o/r.git");

    let started = Instant::now();
    let err = cache.versions(&url).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by the deadline"
    );
    let text = chain(&err);
    assert!(matches!(err, Error::RepositoryUnreachable { .. }), "{text}");
    assert!(
        text.contains(&format!("https://127.0.0.1:{port}/o/r")),
        "{text}"
    );
    assert!(
        text.contains("list refs: ") && text.contains(" attempts over "),
        "{text}"
    );
    assert!(
        !text.contains("s3cr3t") && !text.contains("alice"),
        "{text}"
    );
    assert!(cache.stats().ls_remotes > 1, "retried: {:?}", cache.stats());

    let repo = cache.repository(&url).unwrap();
    let err = repo.resolve("main").unwrap_err();
    let text = format!("{} {err:?}", chain(&err));
    assert!(matches!(err, Error::RepositoryUnreachable { .. }), "{text}");
    assert!(text.contains("fetch: "), "{text}");
    assert!(
        !text.contains("s3cr3t") && !text.contains("alice"),
        "{text}"
    );
    assert!(cache.stats().fetches > 1, "retried: {:?}", cache.stats());
}
