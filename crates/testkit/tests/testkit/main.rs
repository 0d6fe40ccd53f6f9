//! Tests of the fake GitHub itself, with a raw HTTP client.

mod fake;
mod schemas;
