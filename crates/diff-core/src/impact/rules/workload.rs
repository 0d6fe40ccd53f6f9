//! Workloads: container images, resource requirements and rollouts.
//!
//! Rollouts: a Deployment, StatefulSet or DaemonSet whose pod template changed replaces its
//! pods. Each gets one [`Rollout`] with its causes in words, and a `rollout` signal that is
//! low, or **medium when the rollout takes the workload down by construction**: a Deployment
//! with the `Recreate` strategy, a Deployment of one replica whose `maxUnavailable` lets that
//! replica go before its replacement is ready, or a StatefulSet of one replica (StatefulSets
//! delete a pod before creating its replacement). A single-replica Deployment with the default
//! rolling update keeps its old pod until the new one is ready, so it stays low. Jobs,
//! CronJobs and ReplicaSets do not roll out: a Job's template is immutable, a CronJob's applies
//! to its next run, a ReplicaSet leaves existing pods alone.

use std::collections::{BTreeMap, BTreeSet};

use yaml11::Value;

use crate::classify::{pod_metadata_prefix, pod_spec_prefix};
use crate::model::Level::{Low, Medium};
use crate::model::SignalCategory::{Availability, Other};
use crate::model::{Change, Level, Rollout};
use crate::path::{Path, Segment};

use super::super::findings::Findings;
use super::super::pod::{CONTAINER_LISTS, list_word};
use super::super::view::{View, below, item_label, key_at, list, str_at, text_or_unset};

const ROLLOUT_KINDS: &[&str] = &["DaemonSet", "Deployment", "StatefulSet"];

pub(super) fn check(v: &View<'_>, out: &mut Findings) {
    if !v.is_modified() {
        return;
    }
    let Some(prefix) = pod_spec_prefix(v.kind()) else {
        return;
    };
    images(v, prefix, out);
    resources(v, prefix, out);
    rollout(v, out);
}

/// `containers[name=app]`-style item below the pod spec: (list, item segment, rest).
fn container_item(rel: &[Segment]) -> Option<(&'static str, &Segment, &[Segment])> {
    let list = key_at(rel, 0)?;
    let list = CONTAINER_LISTS.into_iter().find(|l| *l == list)?;
    let item = rel.get(1)?;
    Some((list, item, &rel[2..]))
}

fn images(v: &View<'_>, prefix: &[&str], out: &mut Findings) {
    for c in &v.changes {
        let Some(rel) = below(&c.path, prefix) else {
            continue;
        };
        let Some((list, item, rest)) = container_item(rel) else {
            continue;
        };
        if key_at(rest, 0) != Some("image") || rest.len() != 1 {
            continue;
        }
        let name = item_label(item);
        let old = text_or_unset(c.before.as_ref());
        let new = text_or_unset(c.after.as_ref());
        let s = out.signal(
            v,
            "image-changed",
            Medium,
            Other,
            format!("Container image changed: {name}"),
            format!(
                "Pods of {} will run {new} instead of {old} in {} {name}. Check the image's \
                 release notes for breaking changes and that the tag exists and can be pulled by \
                 the cluster.",
                v.short(),
                list_word(list)
            ),
        );
        s.field = Some(c.path.to_string());
        s.old_value = Some(old);
        s.new_value = Some(new);
    }
}

fn resources(v: &View<'_>, prefix: &[&str], out: &mut Findings) {
    // Grouped by container: path to `resources` → (label, changes).
    let mut groups: BTreeMap<String, (String, Vec<&Change>)> = BTreeMap::new();
    for c in &v.changes {
        let Some(rel) = below(&c.path, prefix) else {
            continue;
        };
        let (label, depth) = match container_item(rel) {
            Some((list, item, rest)) if key_at(rest, 0) == Some("resources") => (
                format!("{} {}", list_word(list), item_label(item)),
                prefix.len() + 3,
            ),
            None if key_at(rel, 0) == Some("resources") => ("pod".to_owned(), prefix.len() + 1),
            _ => continue,
        };
        let at = Path::from_segments(c.path.segments()[..depth].to_vec()).to_string();
        groups
            .entry(at)
            .or_insert_with(|| (label, Vec::new()))
            .1
            .push(c);
    }
    for (at, (label, changes)) in groups {
        let rel = |c: &Change| {
            let segs = c.path.segments();
            let start = segs
                .iter()
                .rposition(|s| matches!(s, Segment::Key(k) if k == "resources"))
                .map_or(0, |i| i + 1);
            let p = Path::from_segments(segs[start..].to_vec()).to_string();
            if p.is_empty() {
                "resources".to_owned()
            } else {
                p
            }
        };
        let details: Vec<String> = changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} → {}",
                    rel(c),
                    text_or_unset(c.before.as_ref()),
                    text_or_unset(c.after.as_ref())
                )
            })
            .collect();
        let side = |f: fn(&Change) -> Option<&Value>| {
            changes
                .iter()
                .map(|c| format!("{}={}", rel(c), text_or_unset(f(c))))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let old = side(|c| c.before.as_ref());
        let new = side(|c| c.after.as_ref());
        let s = out.signal(
            v,
            "resources-changed",
            Medium,
            Availability,
            format!("Resource requirements changed: {label}"),
            format!(
                "{}: {}. The scheduler places pods by their requests and the kubelet enforces \
                 limits: a lower memory limit can get pods OOM-killed, a lower CPU limit \
                 throttles them, higher requests can leave pods Pending on a full cluster. Check \
                 the values against observed usage.",
                v.short(),
                list(&details, 8)
            ),
        );
        s.field = Some(at);
        s.old_value = Some(old);
        s.new_value = Some(new);
    }
}

/// The rollout cause of a change below the pod spec.
fn spec_cause(rel: &[Segment]) -> &'static str {
    if let Some((list, _, rest)) = container_item(rel) {
        return match key_at(rest, 0) {
            None if list == "initContainers" => "init containers",
            None => "containers",
            Some("image") => "image",
            Some("env") => "env",
            Some("envFrom") => "envFrom",
            Some("command" | "args") => "command/args",
            Some("resources" | "resizePolicy") => "resources",
            Some("livenessProbe" | "readinessProbe" | "startupProbe") => "probes",
            Some("securityContext") => "security context",
            Some("volumeMounts" | "volumeDevices") => "volume mounts",
            Some("ports") => "ports",
            Some("lifecycle") => "lifecycle hooks",
            Some("imagePullPolicy") => "image pull policy",
            Some(_) => "container settings",
        };
    }
    match key_at(rel, 0) {
        Some("containers" | "ephemeralContainers") => "containers",
        Some("initContainers") => "init containers",
        Some("volumes") => "volumes",
        Some("securityContext") => "security context",
        Some("serviceAccountName" | "serviceAccount" | "automountServiceAccountToken") => {
            "service account"
        }
        Some(
            "affinity"
            | "nodeSelector"
            | "tolerations"
            | "topologySpreadConstraints"
            | "priorityClassName"
            | "priority"
            | "schedulerName"
            | "nodeName"
            | "runtimeClassName",
        ) => "scheduling",
        Some("hostNetwork" | "hostPID" | "hostIPC" | "hostUsers") => "host namespaces",
        Some("imagePullSecrets") => "image pull secrets",
        Some("dnsPolicy" | "dnsConfig" | "hostAliases" | "hostname" | "subdomain") => "dns",
        Some("resources") => "resources",
        _ => "pod spec",
    }
}

fn is_checksum(key: &str) -> bool {
    key.starts_with("checksum/")
}

/// The rollout cause of a change below the pod template metadata.
fn metadata_cause(rel: &[Segment], c: &Change) -> &'static str {
    match (key_at(rel, 0), key_at(rel, 1)) {
        (Some("annotations"), Some(k)) if is_checksum(k) => "checksum annotation",
        (Some("annotations"), Some(_)) => "pod annotations",
        (Some("annotations"), None) => {
            // The whole annotations map appeared or went away.
            let has_checksum = |v: &Option<Value>| {
                v.as_ref()
                    .and_then(Value::as_mapping)
                    .is_some_and(|m| m.keys().any(|k| is_checksum(k)))
            };
            if has_checksum(&c.before) || has_checksum(&c.after) {
                "checksum annotation"
            } else {
                "pod annotations"
            }
        }
        (Some("labels"), _) => "pod labels",
        _ => "pod metadata",
    }
}

/// `maxUnavailable` of a Deployment resolved against `replicas` (25% by default, rounded down).
fn max_unavailable(obj: &Value, replicas: f64) -> f64 {
    match obj.pointer(&["spec", "strategy", "rollingUpdate", "maxUnavailable"]) {
        Some(Value::String(s)) if s.ends_with('%') => s[..s.len() - 1]
            .trim()
            .parse::<f64>()
            .map(|p| (p * replicas / 100.0).floor())
            .unwrap_or(0.0),
        Some(v) => v.as_f64().unwrap_or(0.0),
        None => (0.25 * replicas).floor(),
    }
}

/// The level of a rollout and how it proceeds, in words.
fn rollout_level(kind: &str, obj: &Value) -> (Level, &'static str) {
    let replicas = match obj.pointer(&["spec", "replicas"]) {
        None | Some(Value::Null) => None,
        Some(v) => v.as_f64(),
    };
    match kind {
        "Deployment" => {
            if str_at(obj, &["spec", "strategy", "type"]) == Some("Recreate") {
                return (
                    Medium,
                    "the Recreate strategy stops every old pod before starting new ones, so the \
                     workload is down until the new pods are ready",
                );
            }
            let n = replicas.unwrap_or(1.0);
            if n == 1.0 && max_unavailable(obj, n) >= 1.0 {
                return (
                    Medium,
                    "with a single replica and a maxUnavailable that lets it go, the only pod \
                     stops before its replacement is ready",
                );
            }
            (
                Low,
                "pods are replaced gradually by a rolling update, new ones must become ready \
                 before old ones go",
            )
        }
        "StatefulSet" => {
            if str_at(obj, &["spec", "updateStrategy", "type"]) == Some("OnDelete") {
                return (
                    Low,
                    "with the OnDelete strategy pods are only replaced when you delete them",
                );
            }
            if replicas.unwrap_or(1.0) <= 1.0 {
                return (
                    Medium,
                    "a StatefulSet deletes each pod before creating its replacement, and with a \
                     single replica the workload is down until the new pod is ready",
                );
            }
            (
                Low,
                "pods are deleted and recreated one at a time, highest ordinal first",
            )
        }
        _ => {
            if str_at(obj, &["spec", "updateStrategy", "type"]) == Some("OnDelete") {
                (
                    Low,
                    "with the OnDelete strategy pods are only replaced when you delete them",
                )
            } else {
                (
                    Low,
                    "the pod on each node is replaced, a few nodes at a time (maxUnavailable)",
                )
            }
        }
    }
}

fn rollout(v: &View<'_>, out: &mut Findings) {
    let kind = v.kind();
    if !ROLLOUT_KINDS.contains(&kind) {
        return;
    }
    let (Some(spec), Some(meta), Some(after)) =
        (pod_spec_prefix(kind), pod_metadata_prefix(kind), v.after)
    else {
        return;
    };
    let mut causes: BTreeSet<&'static str> = BTreeSet::new();
    for c in &v.changes {
        if let Some(rel) = below(&c.path, spec) {
            causes.insert(spec_cause(rel));
        } else if let Some(rel) = below(&c.path, meta) {
            causes.insert(metadata_cause(rel, c));
        } else if c.path.starts_with_keys(&spec[..spec.len() - 1]) {
            causes.insert("pod template");
        }
    }
    if causes.is_empty() {
        return;
    }
    let causes: Vec<String> = causes.into_iter().map(str::to_owned).collect();
    let (level, how) = rollout_level(kind, after);
    let short = v.short();
    let s = out.signal(
        v,
        "rollout",
        level,
        Availability,
        format!("{short} will roll out"),
        format!(
            "The pod template changed ({}), so every pod of this {kind} is replaced: {how}. \
             Check that the new pods start and become ready (image pull, probes, configuration).",
            causes.join(", ")
        ),
    );
    s.field = Some(spec[..spec.len() - 1].join("."));
    s.new_value = Some(causes.join(", "));
    out.rollouts.push(Rollout {
        resource: short,
        kind: kind.to_owned(),
        namespace: v.namespace().to_owned(),
        causes,
    });
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::{Low, Medium};
    use crate::model::SignalCategory::{Availability, Other};

    const DEPLOY: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {team: a}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {checksum/config: abc}
    spec:
      initContainers:
      - {name: init, image: 'busybox:1.36'}
      containers:
      - name: app
        image: 'web:1'
        imagePullPolicy: IfNotPresent
        env: [{name: MODE, value: a}]
        resources: {limits: {cpu: 500m, memory: 1Gi}}
      - {name: sidecar, image: 'proxy:1'}
";

    #[test]
    fn image_change_is_one_medium_signal_per_container() {
        let b = DEPLOY
            .replace("'web:1'", "'web:2'")
            .replace("'proxy:1'", "'proxy:2'");
        let i = impact(DEPLOY, &b);
        let got = fired(&i, "image-changed");
        assert_eq!(got.len(), 2, "{got:#?}");
        let app = got.iter().find(|s| s.title.ends_with(": app")).unwrap();
        assert_eq!((app.level, app.category), (Medium, Other));
        assert_eq!(
            app.field.as_deref(),
            Some("spec.template.spec.containers[name=app].image")
        );
        assert_eq!(
            (app.old_value.as_deref(), app.new_value.as_deref()),
            (Some("web:1"), Some("web:2"))
        );
    }

    #[test]
    fn init_container_image_change_is_found() {
        let b = DEPLOY.replace("busybox:1.36", "busybox:1.37");
        let s = one(&impact(DEPLOY, &b), "image-changed", Medium, Other);
        assert!(
            s.description.contains("init container init"),
            "{}",
            s.description
        );
    }

    #[test]
    fn cronjob_job_template_image_change_is_found() {
        let a = "
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: '0 0 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: 'tool:1'}]
";
        let s = one(
            &impact(a, &a.replace("tool:1", "tool:2")),
            "image-changed",
            Medium,
            Other,
        );
        assert_eq!(
            s.field.as_deref(),
            Some("spec.jobTemplate.spec.template.spec.containers[name=job].image")
        );
    }

    #[test]
    fn image_pull_policy_is_not_an_image_change() {
        let b = DEPLOY.replace("IfNotPresent", "Always");
        let i = impact(DEPLOY, &b);
        silent(&i, "image-changed");
        assert_eq!(i.rollouts[0].causes, ["image pull policy"]);
    }

    #[test]
    fn resources_change_is_medium_availability() {
        let b = DEPLOY.replace("cpu: 500m", "cpu: '1'");
        let s = one(
            &impact(DEPLOY, &b),
            "resources-changed",
            Medium,
            Availability,
        );
        assert_eq!(
            s.field.as_deref(),
            Some("spec.template.spec.containers[name=app].resources")
        );
        assert_eq!(s.old_value.as_deref(), Some("limits.cpu=500m"));
        assert_eq!(s.new_value.as_deref(), Some("limits.cpu=1"));
    }

    #[test]
    fn same_value_resources_give_no_signal_and_no_rollout() {
        let b = DEPLOY
            .replace("cpu: 500m", "cpu: 0.5")
            .replace("memory: 1Gi", "memory: 1024Mi");
        let i = impact(DEPLOY, &b);
        silent(&i, "resources-changed");
        silent(&i, "rollout");
        assert!(i.rollouts.is_empty());
    }

    #[test]
    fn pod_template_change_rolls_out_with_named_causes() {
        let b = DEPLOY
            .replace("'web:1'", "'web:2'")
            .replace("value: a", "value: b")
            .replace("checksum/config: abc", "checksum/config: def");
        let i = impact(DEPLOY, &b);
        assert_eq!(i.rollouts.len(), 1);
        let r = &i.rollouts[0];
        assert_eq!(
            (r.resource.as_str(), r.kind.as_str(), r.namespace.as_str()),
            ("Deployment/web", "Deployment", "default")
        );
        assert_eq!(r.causes, ["checksum annotation", "env", "image"]);
        let s = one(&i, "rollout", Low, Availability);
        assert_eq!(s.title, "Deployment/web will roll out");
        assert!(
            s.description.contains("checksum annotation, env, image"),
            "{}",
            s.description
        );
    }

    #[test]
    fn rollout_causes_cover_pod_metadata_and_spec_areas() {
        let b = DEPLOY
            .replace("labels: {app: web}\n      annotations: {checksum/config: abc}", "labels: {app: web, v: '2'}\n      annotations: {checksum/config: abc, note: x}")
            .replace("      initContainers:", "      nodeSelector: {disk: ssd}\n      serviceAccountName: web\n      initContainers:");
        let i = impact(DEPLOY, &b);
        assert_eq!(
            i.rollouts[0].causes,
            [
                "pod annotations",
                "pod labels",
                "scheduling",
                "service account"
            ]
        );
    }

    #[test]
    fn recreate_strategy_makes_the_rollout_medium() {
        let a = DEPLOY.replace("replicas: 3", "replicas: 3\n  strategy: {type: Recreate}");
        let b = a.replace("'web:1'", "'web:2'");
        let s = one(&impact(&a, &b), "rollout", Medium, Availability);
        assert!(s.description.contains("Recreate"), "{}", s.description);
    }

    #[test]
    fn single_replica_statefulset_rollout_is_medium() {
        let a = "
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: 'pg:15'}]
";
        let i = impact(a, &a.replace("pg:15", "pg:16"));
        one(&i, "rollout", Medium, Availability);
        let three = a.replace("replicas: 1", "replicas: 3");
        one(
            &impact(&three, &three.replace("pg:15", "pg:16")),
            "rollout",
            Low,
            Availability,
        );
    }

    #[test]
    fn metadata_outside_the_pod_template_does_not_roll_out() {
        let b = DEPLOY.replace("team: a", "team: b");
        let i = impact(DEPLOY, &b);
        assert!(i.rollouts.is_empty());
        silent(&i, "rollout");
    }

    #[test]
    fn jobs_do_not_roll_out() {
        let a = "
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: 'tool:1'}]
";
        let i = impact(a, &a.replace("tool:1", "tool:2"));
        assert!(i.rollouts.is_empty());
        silent(&i, "rollout");
    }
}
