//! Public-API tests of yaml11: the corpus compared with serde-saphyr, the places where
//! go-yaml v2 (our reference) and serde-saphyr disagree, the API contract, and property tests.

mod api;
mod corpus;
mod differences;
mod props;
mod saphyr;
