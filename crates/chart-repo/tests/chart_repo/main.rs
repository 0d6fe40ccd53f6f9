//! Behaviour tests of chart-repo against real servers on loopback: a Helm repository made by
//! `helm package` + `helm repo index` (the corpus's `chart-repos/`), served over HTTP, and a
//! real OCI registry (Debian's `docker-registry`, CNCF distribution) filled by `helm push`.

mod deps;
mod helm_repo;
mod oci;

/// The loopback HTTP server, shared with the engine's tests.
mod server {
    pub use testkit::chart_repos::{Resp, Server, static_file};
}

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
        ..Default::default()
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
