//! GitHub webhooks without I/O: verification, typed payloads, routing decisions.
//!
//! github-events is the pure front half of ChartImpact's webhook receiver
//! (`POST /api/webhooks/github`). It does no I/O and knows nothing of HTTP frameworks,
//! queues or databases; the server feeds it header values and body bytes, and acts on what
//! it returns. A delivery goes through four steps:
//!
//! 1. [`verify`] the `X-Hub-Signature-256` header over the **raw** body bytes with the
//!    configured [`WebhookSecrets`] (HMAC-SHA256, constant time, several secrets for
//!    rotation) — before anything else looks at the body;
//! 2. [`payload_bytes`] takes the JSON out of an `application/json` or
//!    `application/x-www-form-urlencoded` body;
//! 3. [`parse`] turns it, with the `X-GitHub-Event` name, into an [`Event`]: typed
//!    [`PullRequestEvent`], [`PushEvent`], [`ReleaseEvent`], [`PingEvent`],
//!    [`IssueCommentEvent`], or [`Event::Other`] for events ChartImpact does not handle;
//! 4. [`route`] decides, from the event and a [`RoutingPolicy`], what to do: a
//!    [`Decision`] to run a [`Target`], cancel a pull request's jobs, rerun, answer a ping
//!    or ignore the event with a reason.
//!
//! Identifiers are validated newtypes ([`RepoName`], [`CommitSha`], [`DeliveryId`], and the
//! [`JobKey`] a target is analysed under), re-exported from `github-ids`, and
//! [`summary`] gives the identifying fields of an event for an audit log line. Each step has
//! its own error enum. Facts about GitHub cited in the docs (`github.md` §…, R…) refer to the
//! project's reference notes on GitHub webhooks.
//!
//! ```
//! use github_events::{
//!     parse, payload_bytes, route, verify, Decision, RoutingPolicy, WebhookSecret,
//!     WebhookSecrets,
//! };
//!
//! // Two secrets while rotating: deliveries signed with either are accepted.
//! let secrets = WebhookSecrets::parse_comma_list("new-secret-0123456789,old-secret-0123456789")?;
//!
//! // What GitHub sends when a hook is created (signed here the way GitHub signs).
//! let body = br#"{"zen":"Design for failure.","hook_id":42,"hook":{"events":["pull_request","push"]}}"#;
//! let signature = WebhookSecret::new("old-secret-0123456789")?.sign(body);
//!
//! verify(Some(&signature), body, &secrets)?;
//! let json = payload_bytes(Some("application/json; charset=utf-8"), body)?;
//! let event = parse("ping", &json)?;
//! assert_eq!(
//!     route(&event, &RoutingPolicy::default()),
//!     Decision::Pong {
//!         events: vec!["pull_request".into(), "push".into()],
//!         hook_id: Some(42),
//!         hook_type: None,
//!     },
//! );
//!
//! // A tampered body does not verify.
//! assert!(verify(Some(&signature), b"{}", &secrets).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod body;
mod event;
mod glob;
mod hex;
mod parse;
mod route;
mod secret;
mod summary;
mod verify;

pub use body::{BodyError, payload_bytes};
pub use event::{
    Event, IssueCommentEvent, MergeGroupEvent, PingEvent, PullRequestEvent, PushEvent, ReleaseEvent,
};
pub use github_ids::{CommitSha, DeliveryId, IdError, JobKey, RepoName};
pub use parse::{ParseError, parse};
pub use route::{Decision, PolicyError, RERUN_COMMAND, RoutingPolicy, Target, route};
pub use secret::{MIN_SECRET_LEN, SecretError, WebhookSecret, WebhookSecrets, generate_secret};
pub use summary::{EventSummary, summary};
pub use verify::{VerifyError, verify};
