//! Public-API tests of github-events, on GitHub's and octokit's real payloads and signature
//! vectors (`tests/data/github`) and on payloads the tests build.

mod body;
mod ids;
mod parse_errors;
mod routing;
mod secrets;
mod shared;
mod signatures;
mod support;
mod webhooks;
