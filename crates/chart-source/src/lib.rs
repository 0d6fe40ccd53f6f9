//! Helm charts from git repositories.
//!
//! chart-source is the git layer of ChartImpact. It keeps a cache of bare mirrors
//! ([`MirrorCache`]), resolves revisions to commit ids ([`Repository::resolve`]), reads a chart
//! directory at a commit straight from the object database into memory
//! ([`Repository::read_chart`] → [`ChartFiles`]), lists tags and branches without cloning
//! ([`MirrorCache::versions`]), finds charts and the charts affected between two commits
//! ([`Repository::charts`], [`Repository::affected_charts`]), and decides which repository URLs
//! may be used at all ([`UrlPolicy`]).
//!
//! Every function blocks (gix's http transport is blocking); async callers use
//! `spawn_blocking`. Errors are one [`Error`] enum whose variants callers branch on.
//!
//! Requirements: the `git` binary on `PATH` for local repositories (gix runs
//! `git-upload-pack` for `file://` URLs and paths). For https, TLS is rustls with the ring
//! provider; it is installed as the process default on first use unless the program installed
//! one already.
//!
//! ```
//! use chart_source::{MirrorCache, UrlPolicy};
//! # fn git(dir: &std::path::Path, args: &[&str]) {
//! #     let ok = std::process::Command::new("git").arg("-C").arg(dir).args(args)
//! #         .env("GIT_CONFIG_GLOBAL", "/dev/null").env("GIT_CONFIG_NOSYSTEM", "1")
//! #         .env("GIT_AUTHOR_NAME", "t").env("GIT_AUTHOR_EMAIL", "t@example.invalid")
//! #         .env("GIT_COMMITTER_NAME", "t").env("GIT_COMMITTER_EMAIL", "t@example.invalid")
//! #         .status().unwrap().success();
//! #     assert!(ok);
//! # }
//! # let tmp = tempfile::tempdir().unwrap();
//! # let upstream = tmp.path().join("upstream");
//! # std::fs::create_dir_all(upstream.join("chart/templates")).unwrap();
//! # std::fs::write(upstream.join("chart/Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 1.0.0\n").unwrap();
//! # std::fs::write(upstream.join("chart/templates/cm.yaml"), "kind: ConfigMap\n").unwrap();
//! # git(&upstream, &["init", "-q", "-b", "main"]);
//! # git(&upstream, &["add", "-A"]);
//! # git(&upstream, &["commit", "-q", "-m", "one"]);
//! # git(&upstream, &["tag", "v1.0.0"]);
//! // A cache in a data directory; local repositories must be allowed explicitly.
//! let cache = MirrorCache::builder(tmp.path().join("data"))
//!     .policy(UrlPolicy { allow_local: true, ..UrlPolicy::default() })
//!     .build()?;
//! let repo = cache.repository(upstream.to_str().unwrap())?;
//! let resolved = repo.resolve("v1.0.0")?;
//! let chart = repo.read_chart(&resolved.commit, "chart")?;
//! assert_eq!(chart.get("templates/cm.yaml"), Some(&b"kind: ConfigMap\n"[..]));
//! assert_eq!(repo.charts(&resolved.commit)?[0].name, "demo");
//! # Ok::<(), chart_source::Error>(())
//! ```
#![deny(missing_docs)]

mod auth;
mod cache;
mod charts;
mod error;
mod id;
mod net;
mod repository;
mod revision;
mod suggest;
mod tree;
mod url;
mod version;
mod versions;

pub use auth::{CredentialSource, Credentials, GitAuth};
pub use cache::{CacheStats, Clock, Eviction, MirrorCache, MirrorCacheBuilder, SystemClock};
pub use charts::{
    AffectReason, AffectedChart, AffectedOptions, ChartInfo, ChartStatus, Dependency,
};
pub use error::{Error, GitError, Result};
pub use id::{CommitId, ParseIdError, TreeId};
pub use repository::Repository;
pub use revision::{Resolved, RevisionKind};
pub use tree::{Change, ChangedPath, ChartFile, ChartFiles, ChartLimits, FileMode};
pub use url::{
    RepoUrl, Resolve, StaticResolver, SystemResolver, UrlPolicy, has_userinfo, redact_url,
    without_userinfo,
};
pub use version::{ParseVersionError, Version};
pub use versions::{Branch, Tag, Versions};
