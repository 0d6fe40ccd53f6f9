//! Integration tests of the GitHub client against testkit's fake GitHub over loopback.

mod app_auth;
mod rate_limits;
mod reads;
mod redirects;
mod replay;
mod support;
mod writes;
