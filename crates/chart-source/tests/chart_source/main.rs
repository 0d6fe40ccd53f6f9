//! Integration tests for chart-source, on local git repositories built at test time.

mod charts;
mod corpus;
mod fixtures;
mod mirror;
mod network;
mod policy;
mod private;
mod revisions;
mod versions;
