//! GitHub identifiers, validated once, shared by the crates that receive them, store them
//! and send them back to GitHub.
//!
//! A webhook delivery names a repository, commits and itself; ChartImpact queues a job per
//! pull request, branch or release, stores what it published per pull request, and calls
//! GitHub's API with the same names. These types carry those identifiers from the webhook
//! parser (`github-events`) through the job queue (`store`) to the GitHub client
//! (`github-client`) and the server, so each is checked once, where it enters, and never
//! parsed or split again downstream:
//!
//! - [`RepoName`]: `owner/name`, by GitHub's naming rules (safe in URL paths);
//! - [`CommitSha`]: 40 hex digits, lowercase;
//! - [`DeliveryId`]: the `X-GitHub-Delivery` header;
//! - [`JobKey`]: what one job analyses (`owner/name#pr/7`, `#push/main`, `#release/v1`), the
//!   unit of "at most one job at a time", and the repository it belongs to — identified by
//!   the repository's numeric id when known, so a rename keeps the key
//!   ([`JobKey::identity`]).
//!
//! Each has `Display` and `FromStr` that round-trip, and serde through that string (so an
//! invalid id fails to deserialize). With the `sqlx` feature each is also a `sqlx::Type` for
//! SQLite and PostgreSQL, stored as TEXT and validated again when read back. The types live
//! here rather than in `github-events` so that the store can speak them without depending on
//! webhook parsing, and the sqlx impls sit behind a feature so the parser's users do not
//! build sqlx.
//!
//! ```
//! use github_ids::{CommitSha, JobKey, RepoName};
//!
//! let repo: RepoName = "acme/charts".parse()?;
//! assert_eq!((repo.owner(), repo.name()), ("acme", "charts"));
//! assert!("acme/charts/extra".parse::<RepoName>().is_err());
//!
//! let sha: CommitSha = "EC26C3E57CA3A959CA5AAD62DE7213C562F8C821".parse()?;
//! assert_eq!(sha.short(), "ec26c3e");
//!
//! let key = JobKey::pull_request(repo.clone(), 7);
//! assert_eq!(key.to_string(), "acme/charts#pr/7");
//! assert_eq!(key.repo(), &repo);
//! assert_eq!("acme/charts#pr/7".parse::<JobKey>()?, key);
//! # Ok::<(), github_ids::IdError>(())
//! ```
#![deny(missing_docs)]

mod id;
mod key;
mod shown;
#[cfg(feature = "sqlx")]
mod sql;

pub use id::{CommitSha, DeliveryId, IdError, RepoName};
pub use key::JobKey;
pub use shown::shown;
