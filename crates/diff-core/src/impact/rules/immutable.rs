//! Changes to fields Kubernetes refuses to update: `helm upgrade` fails with "field is
//! immutable" and the resource has to be deleted and recreated.
//!
//! Helm hooks are left out: Helm deletes and recreates a hook resource each time its hook runs
//! (`before-hook-creation` is the default delete policy), so it never patches one.

use std::collections::BTreeSet;

use yaml11::Value;

use crate::model::Level;
use crate::model::Level::{High, Medium};
use crate::model::SignalCategory::Availability;

use super::super::findings::Findings;
use super::super::view::{View, key_at, str_at, text_or_unset};

/// StatefulSet spec fields that may be updated; every other one is immutable.
const STATEFULSET_MUTABLE: &[&str] = &[
    "minReadySeconds",
    "ordinals",
    "persistentVolumeClaimRetentionPolicy",
    "replicas",
    "revisionHistoryLimit",
    "template",
    "updateStrategy",
];

pub(super) fn check(v: &View<'_>, out: &mut Findings) {
    if !v.is_modified() || v.hook().is_some() {
        return;
    }
    // Field (as key path) → level.
    let mut fields: BTreeSet<(Vec<&str>, Level)> = BTreeSet::new();
    let spec_fields = || {
        v.changes_under(&["spec"])
            .filter_map(|c| key_at(c.path.segments(), 1))
            .collect::<BTreeSet<_>>()
    };
    match v.kind() {
        "Deployment" | "DaemonSet" | "ReplicaSet" if v.changed_under(&["spec", "selector"]) => {
            fields.insert((vec!["spec", "selector"], High));
        }
        "StatefulSet" => {
            for f in spec_fields() {
                if !STATEFULSET_MUTABLE.contains(&f) {
                    fields.insert((vec!["spec", f], High));
                }
            }
        }
        "Job" => {
            for f in ["selector", "template"] {
                if v.changed_under(&["spec", f]) {
                    fields.insert((vec!["spec", f], High));
                }
            }
        }
        "Service" if v.is_core() => {
            let ip = |o: Option<&'_ Value>| {
                o.and_then(|o| str_at(o, &["spec", "clusterIP"]))
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            if let (Some(a), Some(b)) = (ip(v.before), ip(v.after))
                && a != b
            {
                fields.insert((vec!["spec", "clusterIP"], High));
            }
        }
        "PersistentVolumeClaim" if v.is_core() => {
            for c in v.changes_under(&["spec"]) {
                let segs = c.path.segments();
                match (key_at(segs, 1), key_at(segs, 2)) {
                    (Some("resources"), Some("requests"))
                    | (Some("volumeAttributesClassName"), _) => {}
                    (Some("resources"), Some(f)) => {
                        fields.insert((vec!["spec", "resources", f], High));
                    }
                    (Some("storageClassName"), _) => {
                        // Setting a class on a claim that had none may match the class the
                        // cluster defaulted it to, in which case the update goes through.
                        let level = if v.before_at(&["spec", "storageClassName"]).is_some() {
                            High
                        } else {
                            Medium
                        };
                        fields.insert((vec!["spec", "storageClassName"], level));
                    }
                    (Some(f), _) => {
                        fields.insert((vec!["spec", f], High));
                    }
                    (None, _) => {
                        fields.insert((vec!["spec"], High));
                    }
                }
            }
        }
        "RoleBinding" | "ClusterRoleBinding" if v.changed_under(&["roleRef"]) => {
            fields.insert((vec!["roleRef"], High));
        }
        _ => {}
    }
    if v.is_core() && matches!(v.kind(), "Secret" | "ConfigMap") {
        if v.kind() == "Secret" {
            let typ = |o: Option<&Value>| {
                o.and_then(|o| str_at(o, &["type"]))
                    .unwrap_or("Opaque")
                    .to_owned()
            };
            if typ(v.before) != typ(v.after) {
                fields.insert((vec!["type"], High));
            }
        }
        let was_immutable = v.before_at(&["immutable"]).and_then(Value::as_bool) == Some(true);
        if was_immutable {
            for f in ["data", "binaryData", "stringData", "immutable"] {
                if v.changed_under(&[f]) {
                    fields.insert((vec![f], High));
                }
            }
        }
    }
    for (keys, level) in fields {
        emit(v, &keys, level, out);
    }
}

fn emit(v: &View<'_>, keys: &[&str], level: Level, out: &mut Findings) {
    let field = keys.join(".");
    let kind = v.kind();
    let name = v.name();
    let how = match kind {
        "Deployment" | "DaemonSet" | "ReplicaSet" | "StatefulSet" => format!(
            "Delete it first, keeping its pods (`kubectl delete {} {name} --cascade=orphan`), \
             and let the upgrade recreate it, or keep the old value.",
            kind.to_lowercase()
        ),
        "PersistentVolumeClaim" => "A claim cannot be changed in place: migrate the data to a \
             new claim, or keep the old value."
            .to_owned(),
        _ => format!(
            "Delete the {kind} (`kubectl delete {} {name}`) and let the upgrade recreate it, or \
             keep the old value.",
            kind.to_lowercase()
        ),
    };
    let will = if level == High { "will" } else { "may" };
    let s = out.signal(
        v,
        "immutable-field-changed",
        level,
        Availability,
        format!("Upgrade {will} fail: {field} of {kind} is immutable"),
        format!(
            "Kubernetes rejects changes to {field} of an existing {kind}, so `helm upgrade` {will} \
             fail with \"field is immutable\" on {}. {how}",
            v.short()
        ),
    );
    if matches!(keys.first(), Some(&("data" | "binaryData" | "stringData"))) {
        // Never show Secret or ConfigMap values here; the config rules name the keys.
        s.field = Some(field);
        return;
    }
    // One change below the field (a claim template's size, a selector label): show exactly
    // that; otherwise the whole field's old and new values.
    let mut changes = v.changes_under(keys);
    match (changes.next(), changes.next()) {
        (Some(c), None) => {
            s.field = Some(c.path.to_string());
            s.old_value = Some(text_or_unset(c.before.as_ref()));
            s.new_value = Some(text_or_unset(c.after.as_ref()));
        }
        _ => {
            s.field = Some(field);
            s.old_value = Some(text_or_unset(v.before_at(keys)));
            s.new_value = Some(text_or_unset(v.after_at(keys)));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::{High, Medium};
    use crate::model::SignalCategory::Availability;

    const RULE: &str = "immutable-field-changed";

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
      containers: [{name: app, image: 'web:1'}]
";

    #[test]
    fn deployment_selector_change_fails_the_upgrade() {
        let b = DEPLOY.replace(
            "matchLabels: {app: web}",
            "matchLabels: {app: web, tier: fe}",
        );
        let s = one(&impact(DEPLOY, &b), RULE, High, Availability);
        assert_eq!(s.field.as_deref(), Some("spec.selector.matchLabels.tier"));
        assert!(s.title.starts_with("Upgrade will fail"), "{}", s.title);
        assert!(
            s.description.contains("--cascade=orphan"),
            "{}",
            s.description
        );
        silent(
            &impact(DEPLOY, &DEPLOY.replace("replicas: 3", "replicas: 4")),
            RULE,
        );
    }

    const STS: &str = "
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 3
  serviceName: db
  podManagementPolicy: OrderedReady
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: 'pg:15'}]
  volumeClaimTemplates:
  - metadata: {name: data, labels: {chart: db-1}}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
";

    #[test]
    fn statefulset_immutable_fields() {
        for (from, to, field) in [
            (
                "serviceName: db",
                "serviceName: db-headless",
                "spec.serviceName",
            ),
            ("OrderedReady", "Parallel", "spec.podManagementPolicy"),
            ("chart: db-1", "chart: db-2", "spec.volumeClaimTemplates"),
            (
                "storage: 10Gi",
                "storage: 20Gi",
                "spec.volumeClaimTemplates",
            ),
        ] {
            let s = one(
                &impact(STS, &STS.replace(from, to)),
                RULE,
                High,
                Availability,
            );
            if to == "storage: 20Gi" {
                assert_eq!(
                    (
                        s.field.as_deref(),
                        s.old_value.as_deref(),
                        s.new_value.as_deref()
                    ),
                    (
                        Some(
                            "spec.volumeClaimTemplates[name=data].spec.resources.requests.storage"
                        ),
                        Some("10Gi"),
                        Some("20Gi")
                    )
                );
            }
            assert!(
                s.title.contains(&format!(" {field} of StatefulSet")),
                "{}",
                s.title
            );
            assert!(s.field.as_deref().unwrap().starts_with(field), "{s:?}");
        }
        let i = impact(
            STS,
            &STS.replace("replicas: 3", "replicas: 5")
                .replace("pg:15", "pg:16"),
        );
        silent(&i, RULE);
    }

    #[test]
    fn service_cluster_ip_change_only_between_set_values() {
        let a = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: None, ports: [{port: 80}]}\n";
        one(
            &impact(a, &a.replace("None", "10.0.0.10")),
            RULE,
            High,
            Availability,
        );
        let unset =
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n";
        silent(&impact(unset, a), RULE);
    }

    #[test]
    fn job_template_change_fails_the_upgrade_unless_it_is_a_hook() {
        let job = "
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: 'tool:1'}]
";
        let s = one(
            &impact(job, &job.replace("tool:1", "tool:2")),
            RULE,
            High,
            Availability,
        );
        assert!(s.title.contains("spec.template of Job"), "{}", s.title);
        assert_eq!(
            s.field.as_deref(),
            Some("spec.template.spec.containers[name=m].image")
        );
        let hook = job.replace(
            "{name: migrate}",
            "{name: migrate, annotations: {helm.sh/hook: pre-upgrade}}",
        );
        let i = impact(&hook, &hook.replace("tool:1", "tool:2"));
        silent(&i, RULE);
        let img = fired(&i, "image-changed");
        assert!(
            img[0]
                .description
                .contains("Helm hook (helm.sh/hook: pre-upgrade)"),
            "{}",
            img[0].description
        );
    }

    #[test]
    fn pvc_storage_class_change() {
        let a = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {storageClassName: standard, resources: {requests: {storage: 1Gi}}}\n";
        let s = one(
            &impact(a, &a.replace("standard", "fast")),
            RULE,
            High,
            Availability,
        );
        assert_eq!(s.field.as_deref(), Some("spec.storageClassName"));
        let unset = a.replace("storageClassName: standard, ", "");
        one(&impact(&unset, a), RULE, Medium, Availability);
        silent(&impact(a, &a.replace("1Gi", "2Gi")), RULE);
    }

    #[test]
    fn secret_type_change_fails_the_upgrade() {
        let a =
            "apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\ntype: Opaque\ndata: {a: YQ==}\n";
        let s = one(
            &impact(a, &a.replace("Opaque", "kubernetes.io/tls")),
            RULE,
            High,
            Availability,
        );
        assert_eq!(s.field.as_deref(), Some("type"));
        silent(&impact(a, &a.replace("YQ==", "Yg==")), RULE);
    }

    #[test]
    fn data_of_an_immutable_configmap_cannot_change() {
        let a = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nimmutable: true\ndata: {k: v1}\n";
        let s = one(&impact(a, &a.replace("v1", "v2")), RULE, High, Availability);
        assert_eq!(
            (s.field.as_deref(), s.old_value.as_deref()),
            (Some("data"), None)
        );
        let mutable = a.replace("immutable: true\n", "");
        silent(&impact(&mutable, &mutable.replace("v1", "v2")), RULE);
    }

    #[test]
    fn role_binding_role_ref_cannot_change() {
        let a = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\nsubjects: [{kind: ServiceAccount, name: app}]\n";
        let s = one(
            &impact(a, &a.replace("reader", "writer")),
            RULE,
            High,
            Availability,
        );
        assert_eq!(
            (
                s.field.as_deref(),
                s.old_value.as_deref(),
                s.new_value.as_deref()
            ),
            (Some("roleRef.name"), Some("reader"), Some("writer"))
        );
    }
}
