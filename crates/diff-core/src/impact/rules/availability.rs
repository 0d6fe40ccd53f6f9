//! Availability: workloads and Services appearing or going away, replica counts, update
//! strategies, Service ports/type/selector, PodDisruptionBudgets and autoscalers.

use yaml11::Value;

use crate::model::ChangeType::{Added, Removed};
use crate::model::Level::{High, Low, Medium};
use crate::model::SignalCategory::Availability;

use super::super::findings::Findings;
use super::super::view::{View, key_at, list, seq_at, str_at, text, text_or_unset};

/// Kinds whose pods serve traffic or do the work.
pub(super) const WORKLOADS: &[&str] = &["DaemonSet", "Deployment", "StatefulSet"];

pub(super) fn check(v: &View<'_>, out: &mut Findings) {
    lifecycle(v, out);
    if !v.is_modified() {
        return;
    }
    replicas(v, out);
    strategy(v, out);
    if v.kind() == "Service" && v.is_core() {
        service(v, out);
    }
    match v.kind() {
        "PodDisruptionBudget" => pdb(v, out),
        "HorizontalPodAutoscaler" => hpa(v, out),
        _ => {}
    }
}

fn lifecycle(v: &View<'_>, out: &mut Findings) {
    let kind = v.kind();
    let short = v.short();
    let (rule, level, title, description) = match (kind, v.change_type()) {
        (k, Added) if WORKLOADS.contains(&k) => (
            "workload-added",
            Medium,
            format!("{k} added"),
            format!(
                "New {k} {short}: its pods will be scheduled with this upgrade. Check that the \
                 cluster has room for their resource requests, that the images can be pulled and \
                 that this fits your deployment strategy."
            ),
        ),
        (k, Removed) if WORKLOADS.contains(&k) => (
            "workload-removed",
            High,
            format!("{k} removed"),
            format!(
                "Helm will delete {short} and all its pods. Check that no traffic, Service or \
                 other workload still depends on it, or that a replacement is added in the same \
                 upgrade."
            ),
        ),
        ("Service", Added) if v.is_core() => (
            "service-added",
            Medium,
            "Service added".to_owned(),
            format!(
                "New Service {short}: it gets a cluster IP and DNS name and sends traffic to the \
                 pods its selector matches. Check the selector and ports match the intended pods."
            ),
        ),
        ("Service", Removed) if v.is_core() => (
            "service-removed",
            High,
            "Service removed".to_owned(),
            format!(
                "Helm will delete {short}: its DNS name and IP stop resolving and clients calling \
                 it fail. Check that no workload, Ingress or external client still uses it."
            ),
        ),
        ("Ingress", Removed) => (
            "ingress-removed",
            Medium,
            "Ingress removed".to_owned(),
            format!(
                "Helm will delete {short}: the ingress controller stops routing its hosts and \
                 paths, so external requests to them fail. Check that the routes moved elsewhere."
            ),
        ),
        ("PodDisruptionBudget", Added) => (
            "pdb-added",
            Low,
            "PodDisruptionBudget added".to_owned(),
            format!(
                "{short} limits how many pods voluntary evictions (node drains, cluster upgrades) \
                 may take down at once. Check it does not block drains, e.g. minAvailable equal \
                 to the replica count."
            ),
        ),
        ("PodDisruptionBudget", Removed) => (
            "pdb-removed",
            Medium,
            "PodDisruptionBudget removed".to_owned(),
            format!(
                "Without {short}, node drains and cluster upgrades may evict all matching pods at \
                 once. Check the workload tolerates that or another budget covers it."
            ),
        ),
        ("HorizontalPodAutoscaler", Added) => (
            "hpa-added",
            Low,
            "HorizontalPodAutoscaler added".to_owned(),
            format!(
                "{short} will scale its target between minReplicas and maxReplicas. Check the \
                 target's own spec.replicas is not also set by the chart, or every upgrade resets \
                 the scale."
            ),
        ),
        ("HorizontalPodAutoscaler", Removed) => (
            "hpa-removed",
            Medium,
            "HorizontalPodAutoscaler removed".to_owned(),
            format!(
                "Without {short} its target stays at whatever replica count it has now and no \
                 longer follows load. Check the target's replicas are set to a sensible value."
            ),
        ),
        _ => return,
    };
    out.signal(v, rule, level, Availability, title, description);
}

/// `spec.replicas` as a number, defaulting to 1 when absent (as the API server does).
fn replica_count(obj: Option<&Value>) -> Option<f64> {
    match obj?.pointer(&["spec", "replicas"]) {
        None | Some(Value::Null) => Some(1.0),
        Some(v) => v.as_f64(),
    }
}

fn replicas(v: &View<'_>, out: &mut Findings) {
    if !matches!(v.kind(), "Deployment" | "StatefulSet" | "ReplicaSet") {
        return;
    }
    if !v.changed_under(&["spec", "replicas"]) {
        return;
    }
    let (Some(old), Some(new)) = (replica_count(v.before), replica_count(v.after)) else {
        return;
    };
    let removed_note = if v.after_at(&["spec", "replicas"]).is_none() {
        " The field is no longer set, so the upgrade removes it and Kubernetes defaults it to 1 \
         (unless an autoscaler manages it)."
    } else {
        ""
    };
    let short = v.short();
    let s = if new < old {
        out.signal(
            v,
            "replicas-decreased",
            High,
            Availability,
            "Replica count decreased".to_owned(),
            format!(
                "{short} scales down from {old} to {new} pods: less capacity and redundancy, and \
                 the removed pods are terminated during the upgrade. Check the remaining pods can \
                 carry the load.{removed_note}"
            ),
        )
    } else if new > old {
        out.signal(
            v,
            "replicas-increased",
            Medium,
            Availability,
            "Replica count increased".to_owned(),
            format!(
                "{short} scales up from {old} to {new} pods. Check the cluster has room for the \
                 extra pods' resource requests.{removed_note}"
            ),
        )
    } else {
        return;
    };
    s.field = Some("spec.replicas".to_owned());
    s.old_value = Some(old.to_string());
    s.new_value = Some(new.to_string());
}

fn strategy(v: &View<'_>, out: &mut Findings) {
    let key = match v.kind() {
        "Deployment" => "strategy",
        "StatefulSet" | "DaemonSet" => "updateStrategy",
        _ => return,
    };
    let keys = ["spec", key];
    if !v.changed_under(&keys) {
        return;
    }
    let typ = |o: Option<&Value>| {
        o.and_then(|o| str_at(o, &["spec", key, "type"]))
            .unwrap_or("RollingUpdate")
            .to_owned()
    };
    let (old, new) = if typ(v.before) != typ(v.after) {
        (typ(v.before), typ(v.after))
    } else {
        (
            text_or_unset(v.before_at(&keys)),
            text_or_unset(v.after_at(&keys)),
        )
    };
    let s = out.signal(
        v,
        "update-strategy-changed",
        Medium,
        Availability,
        "Update strategy changed".to_owned(),
        format!(
            "{} replaces its pods differently from now on: Recreate stops every pod before \
             starting new ones, rollingUpdate maxSurge/maxUnavailable/partition decide how many \
             pods are added or missing at once, OnDelete waits for pods to be deleted by hand. \
             Check the new settings keep enough pods serving during rollouts.",
            v.short()
        ),
    );
    s.field = Some(format!("spec.{key}"));
    s.old_value = Some(old);
    s.new_value = Some(new);
}

/// `80/TCP→8080 (http)` for each Service port: port, protocol, target port, name, node port.
fn ports_text(obj: Option<&Value>) -> String {
    let Some(obj) = obj else {
        return "none".to_owned();
    };
    let ports: Vec<String> = seq_at(obj, &["spec", "ports"])
        .iter()
        .map(|p| {
            let mut s = p.get("port").map(text).unwrap_or_default();
            s.push('/');
            s.push_str(str_at(p, &["protocol"]).unwrap_or("TCP"));
            if let Some(t) = p.get("targetPort") {
                s.push('→');
                s.push_str(&text(t));
            }
            let mut notes = Vec::new();
            if let Some(n) = str_at(p, &["name"]) {
                notes.push(n.to_owned());
            }
            if let Some(n) = p.get("nodePort") {
                notes.push(format!("nodePort {}", text(n)));
            }
            if !notes.is_empty() {
                s.push_str(&format!(" ({})", notes.join(", ")));
            }
            s
        })
        .collect();
    if ports.is_empty() {
        "none".to_owned()
    } else {
        ports.join(", ")
    }
}

fn service(v: &View<'_>, out: &mut Findings) {
    let short = v.short();
    if v.changed_under(&["spec", "ports"]) {
        let s = out.signal(
            v,
            "service-port-changed",
            High,
            Availability,
            "Service port changed".to_owned(),
            format!(
                "{short} changes the ports it listens on or forwards to. Clients using the old \
                 port, Ingress backends and NetworkPolicies naming it stop working, and a wrong \
                 targetPort sends traffic to a port the pods do not serve. Check every client and \
                 the pods' containerPorts."
            ),
        );
        s.field = Some("spec.ports".to_owned());
        s.old_value = Some(ports_text(v.before));
        s.new_value = Some(ports_text(v.after));
    }
    if v.changed_under(&["spec", "type"]) {
        let typ = |o: Option<&Value>| {
            o.and_then(|o| str_at(o, &["spec", "type"]))
                .unwrap_or("ClusterIP")
                .to_owned()
        };
        let (old, new) = (typ(v.before), typ(v.after));
        if old != new {
            let s = out.signal(
                v,
                "service-type-changed",
                High,
                Availability,
                "Service type changed".to_owned(),
                format!(
                    "{short} changes from {old} to {new}: node ports or cloud load balancers are \
                     allocated or released, and external addresses may change. Check DNS \
                     records, firewall rules and clients that use the external address."
                ),
            );
            s.field = Some("spec.type".to_owned());
            s.old_value = Some(old);
            s.new_value = Some(new);
        }
    }
    if v.changed_under(&["spec", "selector"]) {
        let s = out.signal(
            v,
            "service-selector-changed",
            Medium,
            Availability,
            "Service selector changed".to_owned(),
            format!(
                "{short} will send traffic to the pods matching its new selector as soon as it \
                 is applied, possibly before pods with the new labels exist. Check the selector \
                 matches the pod template labels of the intended workload."
            ),
        );
        s.field = Some("spec.selector".to_owned());
        s.old_value = Some(text_or_unset(v.before_at(&["spec", "selector"])));
        s.new_value = Some(text_or_unset(v.after_at(&["spec", "selector"])));
    }
}

/// The top-level spec fields that changed, e.g. `minAvailable, selector`.
fn changed_spec_fields(v: &View<'_>) -> Vec<String> {
    let mut fields: Vec<String> = v
        .changes_under(&["spec"])
        .filter_map(|c| key_at(c.path.segments(), 1).map(str::to_owned))
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

/// `key=value` for the given spec fields that are set.
fn spec_summary(obj: Option<&Value>, keys: &[&str]) -> String {
    let Some(obj) = obj else {
        return "none".to_owned();
    };
    let parts: Vec<String> = keys
        .iter()
        .filter_map(|k| {
            obj.pointer(&["spec", k])
                .map(|v| format!("{k}={}", text(v)))
        })
        .collect();
    if parts.is_empty() {
        "unset".to_owned()
    } else {
        parts.join(", ")
    }
}

fn pdb(v: &View<'_>, out: &mut Findings) {
    let fields = changed_spec_fields(v);
    if fields.is_empty() {
        return;
    }
    let keys = [
        "minAvailable",
        "maxUnavailable",
        "unhealthyPodEvictionPolicy",
    ];
    let s = out.signal(
        v,
        "pdb-changed",
        Medium,
        Availability,
        format!("PodDisruptionBudget changed: {}", list(&fields, 5)),
        format!(
            "{} changes how many pods voluntary evictions (node drains, cluster upgrades) may \
             take down at once: a stricter budget can block drains, e.g. minAvailable equal to \
             the replica count; a looser one lets more pods go down together. Check it against \
             the workload's replica count.",
            v.short()
        ),
    );
    s.field = Some("spec".to_owned());
    s.old_value = Some(spec_summary(v.before, &keys));
    s.new_value = Some(spec_summary(v.after, &keys));
}

fn hpa(v: &View<'_>, out: &mut Findings) {
    let fields = changed_spec_fields(v);
    if fields.is_empty() {
        return;
    }
    let keys = ["minReplicas", "maxReplicas"];
    let s = out.signal(
        v,
        "hpa-changed",
        Medium,
        Availability,
        format!("Autoscaling changed: {}", list(&fields, 5)),
        format!(
            "{} scales its target differently: a lower maxReplicas caps capacity under load, a \
             higher minReplicas reserves more capacity, metric or behavior changes alter when \
             and how fast it scales. Check the limits against peak load and cluster capacity.",
            v.short()
        ),
    );
    s.field = Some("spec".to_owned());
    s.old_value = Some(spec_summary(v.before, &keys));
    s.new_value = Some(spec_summary(v.after, &keys));
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::{High, Low, Medium};
    use crate::model::SignalCategory::Availability;

    const DEPLOY: &str = "
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - {name: app, image: 'web:1'}
    ";

    const SVC: &str = "
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          annotations: {prometheus.io/port: '9090'}
        spec:
          selector: {app: web}
          ports:
          - {name: http, port: 80, targetPort: 8080}
    ";

    #[test]
    fn workload_added_is_medium_and_removed_is_high() {
        let i = impact("", DEPLOY);
        let s = one(&i, "workload-added", Medium, Availability);
        assert_eq!(s.resource, "Deployment/web");
        let i = impact(DEPLOY, "");
        one(&i, "workload-removed", High, Availability);
        silent(&i, "workload-added");
    }

    #[test]
    fn service_added_is_medium_and_removed_is_high() {
        one(&impact("", SVC), "service-added", Medium, Availability);
        one(&impact(SVC, ""), "service-removed", High, Availability);
    }

    #[test]
    fn configmaps_get_no_workload_lifecycle_signal() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
        let i = impact("", cm);
        silent(&i, "workload-added");
        silent(&i, "service-added");
    }

    #[test]
    fn replicas_down_is_high_and_up_is_medium() {
        let down = DEPLOY.replace("replicas: 3", "replicas: 1");
        let s = one(
            &impact(DEPLOY, &down),
            "replicas-decreased",
            High,
            Availability,
        );
        assert_eq!(
            (s.old_value.as_deref(), s.new_value.as_deref()),
            (Some("3"), Some("1"))
        );
        let up = DEPLOY.replace("replicas: 3", "replicas: 10");
        let i = impact(DEPLOY, &up);
        one(&i, "replicas-increased", Medium, Availability);
        silent(&i, "replicas-decreased");
    }

    #[test]
    fn replicas_compare_numerically_not_as_text() {
        // "10" < "9" as text; 10 > 9 as numbers.
        let a = DEPLOY.replace("replicas: 3", "replicas: 9");
        let b = DEPLOY.replace("replicas: 3", "replicas: 10");
        one(&impact(&a, &b), "replicas-increased", Medium, Availability);
    }

    #[test]
    fn replicas_same_value_gives_no_signal() {
        let b = DEPLOY.replace("replicas: 3", "replicas: 3.0");
        let i = impact(DEPLOY, &b);
        silent(&i, "replicas-increased");
        silent(&i, "replicas-decreased");
    }

    #[test]
    fn dropping_replicas_defaults_to_one() {
        let a = dedent(DEPLOY);
        let b = a.replace("  replicas: 3\n", "");
        let s = one(&impact(&a, &b), "replicas-decreased", High, Availability);
        assert!(
            s.description.contains("defaults it to 1"),
            "{}",
            s.description
        );
    }

    #[test]
    fn update_strategy_change_is_medium() {
        let a = dedent(DEPLOY);
        let b = a.replace("replicas: 3", "replicas: 3\n  strategy: {type: Recreate}");
        let s = one(
            &impact(&a, &b),
            "update-strategy-changed",
            Medium,
            Availability,
        );
        assert_eq!(
            (s.old_value.as_deref(), s.new_value.as_deref()),
            (Some("RollingUpdate"), Some("Recreate"))
        );
    }

    #[test]
    fn service_port_change_is_high() {
        let b = SVC.replace("port: 80,", "port: 8080,");
        let s = one(&impact(SVC, &b), "service-port-changed", High, Availability);
        assert_eq!(s.old_value.as_deref(), Some("80/TCP→8080 (http)"));
        assert_eq!(s.new_value.as_deref(), Some("8080/TCP→8080 (http)"));
        let b = SVC.replace("targetPort: 8080", "targetPort: http");
        one(&impact(SVC, &b), "service-port-changed", High, Availability);
    }

    #[test]
    fn service_annotation_named_port_is_not_a_port_change() {
        let b = SVC.replace("'9090'", "'9091'");
        let i = impact(SVC, &b);
        silent(&i, "service-port-changed");
        assert!(i.signals.is_empty(), "{:#?}", i.signals);
    }

    #[test]
    fn service_type_change_is_high() {
        let a = dedent(SVC);
        let b = a.replace(
            "selector: {app: web}",
            "type: NodePort\n  selector: {app: web}",
        );
        let s = one(&impact(&a, &b), "service-type-changed", High, Availability);
        assert_eq!(
            (s.old_value.as_deref(), s.new_value.as_deref()),
            (Some("ClusterIP"), Some("NodePort"))
        );
    }

    #[test]
    fn service_selector_change_is_medium() {
        let b = SVC.replace("{app: web}", "{app: web2}");
        one(
            &impact(SVC, &b),
            "service-selector-changed",
            Medium,
            Availability,
        );
    }

    const PDB: &str = "
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web, labels: {team: a}}
        spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
    ";

    #[test]
    fn pdb_lifecycle_and_changes() {
        one(&impact("", PDB), "pdb-added", Low, Availability);
        one(&impact(PDB, ""), "pdb-removed", Medium, Availability);
        let b = PDB.replace("minAvailable: 1", "minAvailable: 2");
        let s = one(&impact(PDB, &b), "pdb-changed", Medium, Availability);
        assert_eq!(s.new_value.as_deref(), Some("minAvailable=2"));
        let b = PDB.replace("team: a", "team: b");
        silent(&impact(PDB, &b), "pdb-changed");
    }

    const HPA: &str = "
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: web}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
          minReplicas: 2
          maxReplicas: 10
    ";

    #[test]
    fn hpa_lifecycle_and_changes() {
        one(&impact("", HPA), "hpa-added", Low, Availability);
        one(&impact(HPA, ""), "hpa-removed", Medium, Availability);
        let b = HPA.replace("maxReplicas: 10", "maxReplicas: 4");
        let s = one(&impact(HPA, &b), "hpa-changed", Medium, Availability);
        assert!(s.title.contains("maxReplicas"), "{}", s.title);
        assert_eq!(
            s.old_value.as_deref(),
            Some("minReplicas=2, maxReplicas=10")
        );
    }

    #[test]
    fn ingress_removed_is_medium() {
        let ing = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec: {rules: [{host: a.example.com}]}\n";
        one(&impact(ing, ""), "ingress-removed", Medium, Availability);
    }
}
