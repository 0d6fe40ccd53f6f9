//! Helm charts where they are published: Helm chart repositories (`index.yaml` over http(s))
//! and OCI registries (`oci://host/path`).
//!
//! chart-repo lists a chart's versions ([`ChartRepos::versions`]), picks a version as Helm
//! does ([`ChartRepos::resolve_version`]: exact versions, semver ranges, pre-releases only when
//! a range names one), fetches chart archives ([`ChartRepos::fetch_chart`] → [`ChartArchive`],
//! verified against the index or manifest digest and cached by sha256 so an archive is never
//! downloaded twice), and fills in the dependencies a chart's `charts/` lacks
//! ([`ChartRepos::resolve_dependencies`] → [`Resolution`]) as `helm dependency build`
//! (`Chart.lock`) or `helm dependency update` (ranges) would.
//!
//! Every URL it contacts — repositories, archive URLs, token services, mirrors, each redirect
//! — passes chart-source's [`UrlPolicy`](chart_source::UrlPolicy), and host names are checked
//! again when they resolve. [`Mirror`]s send a repository's requests elsewhere (air-gapped
//! sites, Artifactory/Nexus proxies). [`Credentials`] are per host, held in memory only and
//! never in a message. Transient failures (connection errors, 5xx, 429) are retried until the
//! [`Call`]'s deadline. Sizes are capped by [`Limits`]; nothing is cached before it is verified,
//! and cache files are written to a temporary file and renamed.
//!
//! Every method blocks; async callers use `spawn_blocking`. Errors are one [`Error`] enum.
//! TLS is rustls with the ring provider, installed as the process default on first use unless
//! the program installed one.
//!
//! ```no_run
//! use chart_repo::{Call, ChartRepos, Mirror};
//! use std::time::Duration;
//!
//! let repos = ChartRepos::builder("/var/cache/chartimpact")
//!     .mirror(Mirror::parse("https://charts.bitnami.com/bitnami=https://nexus.internal/bitnami")?)
//!     .build()?;
//! let call = Call::with_timeout(Duration::from_secs(60));
//! let versions = repos.versions("https://charts.bitnami.com/bitnami", "redis", &call)?;
//! println!("newest: {}", versions[0].version);
//! let archive = repos.fetch_chart("oci://registry-1.docker.io/bitnamicharts", "redis", "^19", &call)?;
//! let files = archive.files()?; // render it like any chart
//!
//! // A chart read from git whose charts/ is not committed:
//! let chart = helm_render::ChartFiles::from_dir("charts/app".as_ref(), Default::default())?;
//! let resolved = repos.resolve_dependencies(&chart, None, &call)?;
//! for d in &resolved.dependencies {
//!     println!("{} {} ({})", d.name, d.version, d.source.as_str());
//! }
//! # let _ = files;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod cache;
mod credentials;
mod deps;
mod error;
mod http;
mod index;
mod mirror;
mod oci;
mod policy;
mod repos;

pub use credentials::{CREDENTIALS_ENV, Credentials};
pub use deps::{DependencySource, LocalCharts, Resolution, ResolvedDependency};
pub use error::{Error, Result};
pub use http::Call;
pub use index::ChartVersion;
pub use mirror::{MIRRORS_ENV, Mirror};
pub use repos::{ChartArchive, ChartRepos, ChartReposBuilder, Limits, Stats};
