//! Storage: claim sizes and the removal of resources that hold data.
//!
//! A claim's storage class and other immutable claim fields are reported by
//! `immutable-field-changed`.

use std::cmp::Ordering;

use crate::model::ChangeType::Removed;
use crate::model::Level::{High, Low, Medium};
use crate::model::SignalCategory::Availability;
use crate::quantity::cmp_by_value;

use super::super::findings::Findings;
use super::super::view::{View, seq_at, str_at, text_or_unset};

const SIZE: [&str; 4] = ["spec", "resources", "requests", "storage"];

pub(super) fn check(v: &View<'_>, out: &mut Findings) {
    if v.change_type() == Removed {
        removed(v, out);
    } else if v.is_modified() && v.kind() == "PersistentVolumeClaim" && v.is_core() {
        resized(v, out);
    }
}

fn resized(v: &View<'_>, out: &mut Findings) {
    if !v.changed_under(&SIZE) {
        return;
    }
    let (old, new) = (v.before_at(&SIZE), v.after_at(&SIZE));
    let order = match (old, new) {
        (Some(a), Some(b)) => cmp_by_value(a, b),
        _ => None,
    };
    let short = v.short();
    let s = if order == Some(Ordering::Greater) {
        out.signal(
            v,
            "pvc-shrunk",
            High,
            Availability,
            "Upgrade will fail: a PersistentVolumeClaim cannot shrink".to_owned(),
            format!(
                "{short} asks for less storage than before. Kubernetes rejects shrinking a claim, \
                 so `helm upgrade` fails. Keep the old size, or migrate the data to a new, \
                 smaller claim."
            ),
        )
    } else {
        out.signal(
            v,
            "pvc-resized",
            Medium,
            Availability,
            "PersistentVolumeClaim size changed".to_owned(),
            format!(
                "{short} asks for a different amount of storage. Growing a claim needs a \
                 StorageClass with allowVolumeExpansion: true (otherwise the update is rejected \
                 and the upgrade fails) and may need the pod restarted for the filesystem to \
                 grow. Check the StorageClass."
            ),
        )
    };
    s.field = Some(SIZE.join("."));
    s.old_value = Some(text_or_unset(old));
    s.new_value = Some(text_or_unset(new));
}

fn removed(v: &View<'_>, out: &mut Findings) {
    let Some(before) = v.before else {
        return;
    };
    let keep = str_at(
        before,
        &["metadata", "annotations", "helm.sh/resource-policy"],
    ) == Some("keep");
    let short = v.short();
    let (level, title, description) = match v.kind() {
        "PersistentVolumeClaim" if v.is_core() => {
            if keep {
                (
                    Low,
                    "PersistentVolumeClaim left behind (resource-policy keep)",
                    format!(
                        "{short} leaves the chart but carries helm.sh/resource-policy: keep, so \
                         Helm leaves the claim and its data in place, no longer managed by the \
                         release. Clean it up by hand when it is no longer needed."
                    ),
                )
            } else {
                (
                    High,
                    "PersistentVolumeClaim removed: its volume and data may be deleted",
                    format!(
                        "Helm will delete {short}. With the usual reclaimPolicy Delete the \
                         volume and all its data are deleted too. Back up the data, or add \
                         helm.sh/resource-policy: keep before upgrading."
                    ),
                )
            }
        }
        "StatefulSet" if !seq_at(before, &["spec", "volumeClaimTemplates"]).is_empty() => {
            let deletes = str_at(
                before,
                &[
                    "spec",
                    "persistentVolumeClaimRetentionPolicy",
                    "whenDeleted",
                ],
            ) == Some("Delete");
            let fate = if deletes {
                "Its persistentVolumeClaimRetentionPolicy.whenDeleted is Delete, so the claims \
                 created from its volumeClaimTemplates, and their data, are deleted with it."
            } else {
                "The claims created from its volumeClaimTemplates stay behind with their data \
                 (retention policy Retain): a StatefulSet recreated under the same name reuses \
                 them, otherwise they must be cleaned up by hand."
            };
            (
                High,
                "StatefulSet with persistent storage removed",
                format!(
                    "Helm will delete {short}, which holds data. {fate} Back up the data first."
                ),
            )
        }
        _ => return,
    };
    out.signal(
        v,
        "data-resource-removed",
        level,
        Availability,
        title.to_owned(),
        description,
    );
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::{High, Low, Medium};
    use crate::model::SignalCategory::Availability;

    const PVC: &str = "
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Gi}}
";

    #[test]
    fn growing_a_claim_is_medium() {
        let s = one(
            &impact(PVC, &PVC.replace("10Gi", "20Gi")),
            "pvc-resized",
            Medium,
            Availability,
        );
        assert_eq!(
            (s.old_value.as_deref(), s.new_value.as_deref()),
            (Some("10Gi"), Some("20Gi"))
        );
    }

    #[test]
    fn shrinking_a_claim_is_high() {
        let i = impact(PVC, &PVC.replace("10Gi", "5000Mi"));
        one(&i, "pvc-shrunk", High, Availability);
        silent(&i, "pvc-resized");
    }

    #[test]
    fn same_size_spelled_differently_is_nothing() {
        let i = impact(PVC, &PVC.replace("10Gi", "10240Mi"));
        silent(&i, "pvc-resized");
        silent(&i, "pvc-shrunk");
    }

    #[test]
    fn removing_a_claim_is_high_unless_helm_keeps_it() {
        one(
            &impact(PVC, ""),
            "data-resource-removed",
            High,
            Availability,
        );
        let kept = PVC.replace(
            "{name: data}",
            "{name: data, annotations: {helm.sh/resource-policy: keep}}",
        );
        one(
            &impact(&kept, ""),
            "data-resource-removed",
            Low,
            Availability,
        );
    }

    #[test]
    fn removing_a_statefulset_with_claim_templates_is_high() {
        let sts = "
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: 'pg:15'}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
";
        let i = impact(sts, "");
        one(&i, "data-resource-removed", High, Availability);
        one(&i, "workload-removed", High, Availability);
        let deploy = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: 'web:1'}]
";
        silent(&impact(deploy, ""), "data-resource-removed");
    }
}
