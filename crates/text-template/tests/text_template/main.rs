//! Integration tests of the text-template crate: Helm conformance fixtures, the chart corpus,
//! and property tests.

mod conformance;
mod corpus;
mod crypto;
mod helm_env;
mod props;
