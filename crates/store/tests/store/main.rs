//! Public-API tests of the store. Every behaviour test runs the same body against SQLite (a
//! file in a temporary directory) and PostgreSQL (a throwaway cluster from
//! `store::testing`, or `CHARTIMPACT_TEST_POSTGRES_URL`).

mod analytics;
mod concurrency;
mod corrupt;
mod deliveries;
mod expiry;
mod harness;
mod jobs;
mod list;
mod migrations;
mod open;
mod publications;
mod regression;
mod results;
