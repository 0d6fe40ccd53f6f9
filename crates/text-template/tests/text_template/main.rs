//! Integration tests of the text-template crate: Helm conformance fixtures, the chart corpus,
//! property tests, and hostile input.

mod conformance;
mod corpus;
mod crypto;
mod helm_env;
mod hostile;
mod parse_ahead;
mod props;
