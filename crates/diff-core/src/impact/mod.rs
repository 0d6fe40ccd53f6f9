//! Risk signals and the verdict, computed from structured changes.
//!
//! Rules look at structured paths (`Path::pattern()`, e.g.
//! `spec.template.spec.containers[*].image`) and at the whole before/after objects, never at
//! substrings of a dotted path, so an image bump inside a container list is found and an
//! annotation named `…port` does not trip the Service-port rule.
//!
//! Every signal names the stable id of the rule that fired. The rules live in one module per
//! area (`rules/`):
//!
//! | module | rule ids |
//! |---|---|
//! | availability | `workload-added`, `workload-removed`, `service-added`, `service-removed`, `ingress-removed`, `replicas-decreased`, `replicas-increased`, `update-strategy-changed`, `service-port-changed`, `service-type-changed`, `service-selector-changed`, `pdb-added`, `pdb-removed`, `pdb-changed`, `hpa-added`, `hpa-removed`, `hpa-changed` |
//! | workload | `image-changed`, `resources-changed`, `rollout` (and [`Impact::rollouts`]) |
//! | immutable | `immutable-field-changed` |
//! | security | `networkpolicy-added`, `networkpolicy-removed`, `networkpolicy-changed`, `security-resource-added`, `security-resource-removed`, `rbac-rules-changed`, `rbac-subjects-changed`, `serviceaccount-token-changed` |
//! | rbac | `rbac-escalation` |
//! | pod_security | `privileged-container`, `privilege-escalation-allowed`, `host-namespace`, `host-path-volume`, `capability-added`, `runs-as-root` |
//! | exposure | `service-exposed`, `ingress-added`, `ingress-hosts-changed`, `ingress-tls-changed` |
//! | storage | `pvc-resized`, `pvc-shrunk`, `data-resource-removed` |
//! | config | `configmap-data-changed`, `secret-data-changed`, `referenced-config-removed` |
//! | crd | `crd-added`, `crd-removed`, `crd-version-removed`, `crd-storage-version-changed`, `crd-version-unserved`, `crd-properties-removed`, `crd-changed` (and [`Impact::crd_changes`]) |
//! | subchart | `subchart-version-changed` ([`subchart_signals`], from the dependency versions the engine resolved; added with [`Impact::add_signals`]) |
//!
//! Resources flagged `chart-version-noise` and changes flagged `same-value` or `order-only`
//! produce no signals.

mod findings;
mod pod;
mod rules;
mod subchart;
#[cfg(test)]
mod testkit;
mod view;

use yaml11::Value;

pub use subchart::{RULE as SUBCHART_RULE, SubchartChange, subchart_signals};

use crate::manifest::Manifest;
use crate::model::{Impact, ResourceDiff};

use findings::Findings;
use view::View;

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
///
/// Verdict: no differing resources → `no-changes`; any high signal → `high-risk`; any medium
/// → `medium-risk`; else `low-risk`. Signals are sorted by level (high first), category,
/// resource, rule and field.
pub fn assess(subjects: &[Subject<'_>]) -> Impact {
    run(subjects, None)
}

/// Like [`assess`], also consulting the new manifest's unchanged resources: a changed
/// ConfigMap mounted by an unchanged Deployment is a stale-config risk only this can see.
pub fn assess_in(subjects: &[Subject<'_>], new_manifest: &Manifest) -> Impact {
    run(subjects, Some(new_manifest))
}

fn run(subjects: &[Subject<'_>], manifest: Option<&Manifest>) -> Impact {
    let views: Vec<View<'_>> = subjects
        .iter()
        .filter(|s| !s.diff.has_flag("chart-version-noise"))
        .map(View::new)
        .collect();
    let mut found = Findings::default();
    rules::run(&views, manifest, &mut found);
    found.finish(subjects.len())
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use crate::model::{Level, Verdict};

    #[test]
    fn no_changes_is_no_changes() {
        let m = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n";
        let i = impact(m, m);
        assert_eq!(i.verdict, Verdict::NoChanges);
        assert_eq!(i.totals.changed_resources, 0);
    }

    #[test]
    fn chart_version_noise_gives_no_signals_but_counts_as_changed() {
        let a = "apiVersion: v1\nkind: Service\nmetadata: {name: s, labels: {helm.sh/chart: x-1}}\nspec: {ports: [{port: 80}]}\n";
        let b = a.replace("x-1", "x-2");
        let i = impact(a, &b);
        assert!(i.signals.is_empty(), "{:#?}", i.signals);
        assert_eq!(i.totals.changed_resources, 1);
        assert_eq!(i.verdict, Verdict::LowRisk);
    }

    #[test]
    fn verdict_follows_the_worst_level_and_totals_count_levels() {
        // A new PodDisruptionBudget is low; removing a Service is high.
        let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {minAvailable: 1}\n";
        let i = impact("", pdb);
        assert_eq!(i.verdict, Verdict::LowRisk);
        assert_eq!(i.totals.low, 1);
        let svc =
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n";
        let i = impact(svc, pdb);
        assert_eq!(i.verdict, Verdict::HighRisk);
        assert_eq!(
            (i.totals.high, i.totals.low, i.totals.changed_resources),
            (1, 1, 2)
        );
        assert_eq!(i.signals[0].level, Level::High, "high first");
    }

    #[test]
    fn signals_are_sorted_deterministically() {
        let a = "";
        let b = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
spec: {template: {spec: {containers: [{name: c, image: i}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: a}
spec: {template: {spec: {hostNetwork: true, containers: [{name: c, image: i}]}}}
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {type: NodePort, ports: [{port: 80}]}
"#;
        let i = impact(a, b);
        let order: Vec<_> = i
            .signals
            .iter()
            .map(|s| (s.level, s.category, s.resource.as_str(), s.rule))
            .collect();
        let mut sorted = order.clone();
        sorted.sort_by(|x, y| {
            y.0.cmp(&x.0)
                .then(x.1.cmp(&y.1))
                .then(x.2.cmp(y.2))
                .then(x.3.cmp(y.3))
        });
        assert_eq!(order, sorted);
        assert_eq!(impact(a, b), i, "same input, same output");
    }
}
