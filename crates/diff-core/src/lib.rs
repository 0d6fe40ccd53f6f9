//! Semantic diff of rendered Kubernetes manifests.
//!
//! diff-core is pure: two rendered manifest streams in, a structured comparison out. It reads
//! the streams ([`parse_manifest`]), matches resources by (API group, kind, namespace, name),
//! diffs them field by field with Kubernetes-aware list matching, classifies every change,
//! turns the changes into risk signals and a verdict ([`Impact`]), and renders reports
//! ([`report`]: text, unified, markdown, JSON).
//!
//! ```
//! use diff_core::{compare, parse_manifest, DiffOptionsBuilder, ParseOptions};
//!
//! let old = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: app, image: 'web:1'}\n";
//! let new = old.replace("web:1", "web:2");
//! let opts = DiffOptionsBuilder::new().build().unwrap();
//! let before = parse_manifest("old.yaml", old, &ParseOptions::default()).unwrap();
//! let after = parse_manifest("new.yaml", &new, &ParseOptions::default()).unwrap();
//! let cmp = compare(&before, &after, &opts);
//! let change = &cmp.structured_diff.resources[0].changes[0];
//! assert_eq!(change.path.to_string(), "spec.template.spec.containers[name=app].image");
//! ```
#![deny(missing_docs)]

mod classify;
mod compare;
mod error;
mod hash;
pub mod impact;
mod lists;
mod manifest;
pub mod model;
mod options;
mod path;
mod quantity;
mod redact;
pub mod report;
mod structural;
mod time;

pub use compare::{
    CHART_VERSION_LABELS, Comparison, ENGINE_VERSION, Sides, Sources, compare, compare_with_sources,
};
pub use error::Error;
pub use hash::{canonical_json, object_hash, sha256_hex};
pub use impact::Subject;
pub use manifest::{
    Manifest, ParseOptions, Resource, ResourceKey, is_cluster_scoped, parse_manifest,
};
pub use model::{
    Change, ChangeType, Identity, Impact, Importance, Level, ResourceDiff, Signal, SignalCategory,
    StructuredDiff, Verdict,
};
pub use options::{DiffOptions, DiffOptionsBuilder};
pub use path::{Path, Segment, Token};
pub use redact::{MarkKey, SecretHandling};
pub use structural::line_diff;
pub use time::rfc3339;
pub use yaml11::{Limits, Value};
