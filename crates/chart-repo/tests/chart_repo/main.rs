//! Behaviour tests of chart-repo against real servers on loopback: a Helm repository made by
//! `helm package` + `helm repo index` (the corpus's `chart-repos/`), served over HTTP, and a
//! real OCI registry (Debian's `docker-registry`, CNCF distribution) filled by `helm push`.

mod deps;
mod helm_repo;
mod oci;
mod server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chart_repo::{ChartRepos, ChartReposBuilder};
use chart_source::UrlPolicy;

/// The corpus (`CHARTIMPACT_CORPUS`, default `<workspace>/tests/data/corpus`). Missing data
/// is a failure: a test that checks nothing must not pass.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("CHARTIMPACT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus")
        });
    assert!(
        dir.join("chart-repos/dandydeveloper/index.yaml").is_file(),
        "no corpus with chart-repos/ at {} (set CHARTIMPACT_CORPUS)",
        dir.display()
    );
    dir
}

pub fn dandy() -> PathBuf {
    corpus().join("chart-repos/dandydeveloper")
}

/// A policy for loopback servers: any host, private addresses and plain http allowed.
pub fn open_policy() -> UrlPolicy {
    UrlPolicy {
        allowed_hosts: vec!["*".into()],
        allow_local: false,
        allow_private_addresses: true,
    }
}

pub fn builder(data: &Path) -> ChartReposBuilder {
    let mut b = ChartRepos::builder(data);
    b.policy(open_policy())
        .retry_min_delay(Duration::from_millis(20))
        .default_deadline(Duration::from_secs(20));
    b
}

pub fn sha256_file(p: &Path) -> String {
    let data = std::fs::read(p).unwrap();
    let d = ring::digest::digest(&ring::digest::SHA256, &data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Files under `dir` (recursively), for "nothing half-cached" checks.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
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
