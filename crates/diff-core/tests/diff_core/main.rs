//! Behaviour tests of diff-core through its public API.

mod corpus;
mod props;
mod reports;

use std::path::PathBuf;

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads a file under the workspace's `fixtures/`.
pub fn fixture(rel: &str) -> String {
    let p = workspace().join("fixtures").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}
