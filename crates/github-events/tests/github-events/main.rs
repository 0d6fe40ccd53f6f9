//! Public-API tests of github-events. Tests that read `../shared/github` (GitHub's and
//! octokit's real payloads and signature vectors) print a skip line when it is absent; every
//! other test builds its own payloads.

mod body;
mod ids;
mod parse_errors;
mod routing;
mod secrets;
mod shared;
mod signatures;
mod support;
mod webhooks;
