//! What a change means: `semanticType`, `changeCategory`, `importance` and `flags`.
//!
//! Rules match structured paths (list items erased to `[*]`, keys exact), so
//! `imagePullPolicy` is not an image, `envFrom` is not `env` and `serviceAccountName` is not a
//! Service — the shadowing bugs of substring rules.

use crate::model::{Change, Importance};
use crate::path::{Path, Segment};
use crate::structural::RawChange;

/// Kinds whose `spec.template` is a pod template.
pub const WORKLOAD_KINDS: &[&str] = &[
    "DaemonSet",
    "Deployment",
    "Job",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
];

/// Where a kind keeps its pod spec, as path keys.
pub fn pod_spec_prefix(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        k if WORKLOAD_KINDS.contains(&k) => Some(&["spec", "template", "spec"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        "Pod" => Some(&["spec"]),
        _ => None,
    }
}

/// Where a kind keeps its pod template metadata, as path keys.
pub fn pod_metadata_prefix(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        k if WORKLOAD_KINDS.contains(&k) => Some(&["spec", "template", "metadata"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "metadata"]),
        _ => None,
    }
}

/// The pattern of `path` below `prefix`, if the path is inside it.
fn below(path: &Path, prefix: &[&str]) -> Option<String> {
    if !path.starts_with_keys(prefix) {
        return None;
    }
    let rest = Path::from_segments(path.segments()[prefix.len()..].to_vec());
    Some(rest.pattern())
}

struct Class {
    semantic: Option<&'static str>,
    category: &'static str,
    importance: Importance,
    flags: &'static [&'static str],
}

const fn class(
    semantic: &'static str,
    category: &'static str,
    importance: Importance,
    flags: &'static [&'static str],
) -> Class {
    Class {
        semantic: Some(semantic),
        category,
        importance,
        flags,
    }
}

use Importance::{High, Low, Medium};

const ROLL: &[&str] = &["rollout-trigger"];

fn first_word(pattern: &str) -> &str {
    pattern.split(['.', '[']).next().unwrap_or(pattern)
}

fn container_class(rel: &str) -> Class {
    let word = first_word(rel);
    match (word, rel) {
        ("image", "image") => class(
            "container.image",
            "workload",
            High,
            &["runtime-impact", "rollout-trigger"],
        ),
        ("imagePullPolicy", _) => class("container.imagePullPolicy", "workload", Low, ROLL),
        ("env", _) => class("container.env", "config", Medium, ROLL),
        ("envFrom", _) => class("container.envFrom", "config", Medium, ROLL),
        ("resources", r) if r.ends_with(".cpu") => class(
            "resources.cpu",
            "resources",
            Medium,
            &["runtime-impact", "rollout-trigger"],
        ),
        ("resources", r) if r.ends_with(".memory") => class(
            "resources.memory",
            "resources",
            Medium,
            &["runtime-impact", "rollout-trigger"],
        ),
        ("resources", _) => class(
            "resources.general",
            "resources",
            Medium,
            &["runtime-impact", "rollout-trigger"],
        ),
        ("ports", _) => class(
            "container.port",
            "networking",
            Medium,
            &["networking-change", "rollout-trigger"],
        ),
        ("securityContext", _) => class(
            "security.context",
            "security",
            High,
            &["security-impact", "rollout-trigger"],
        ),
        ("command", _) => class("container.command", "workload", Medium, ROLL),
        ("args", _) => class("container.args", "workload", Medium, ROLL),
        ("livenessProbe" | "readinessProbe" | "startupProbe", _) => {
            class("container.probe", "workload", Medium, ROLL)
        }
        ("volumeMounts" | "volumeDevices", _) => class("storage.volume", "storage", Medium, ROLL),
        ("lifecycle", _) => class("container.lifecycle", "workload", Medium, ROLL),
        _ => class("container.other", "workload", Medium, ROLL),
    }
}

fn pod_class(rel: &str) -> Class {
    for prefix in [
        "containers[*].",
        "initContainers[*].",
        "ephemeralContainers[*].",
    ] {
        if let Some(c) = rel.strip_prefix(prefix) {
            return container_class(c);
        }
    }
    match first_word(rel) {
        "containers" | "initContainers" | "ephemeralContainers" => class(
            "container.definition",
            "workload",
            High,
            &["runtime-impact", "rollout-trigger"],
        ),
        "volumes" => class("storage.volume", "storage", Medium, ROLL),
        "securityContext" => class(
            "security.context",
            "security",
            High,
            &["security-impact", "rollout-trigger"],
        ),
        "serviceAccountName" | "serviceAccount" => {
            class("security.serviceAccount", "security", Medium, ROLL)
        }
        "automountServiceAccountToken" => {
            class("security.serviceAccountToken", "security", Medium, ROLL)
        }
        "hostNetwork" | "hostPID" | "hostIPC" | "hostUsers" => class(
            "security.hostAccess",
            "security",
            High,
            &["security-impact", "rollout-trigger"],
        ),
        "imagePullSecrets" => class("security.imagePullSecrets", "security", Low, ROLL),
        "affinity"
        | "nodeSelector"
        | "tolerations"
        | "topologySpreadConstraints"
        | "priorityClassName"
        | "schedulerName"
        | "nodeName"
        | "runtimeClassName" => class("workload.scheduling", "workload", Medium, ROLL),
        _ => class("workload.podSpec", "workload", Medium, ROLL),
    }
}

fn resource_class(kind: &str, pattern: &str) -> Class {
    let word = first_word(pattern);
    if word == "metadata" {
        return if pattern.starts_with("metadata.labels") {
            class("metadata.label", "metadata", Low, &[])
        } else if pattern.starts_with("metadata.annotations") {
            class("metadata.annotation", "metadata", Low, &[])
        } else {
            class("metadata.other", "metadata", Low, &[])
        };
    }
    if pattern == "apiVersion" {
        return class("resource.apiVersion", "metadata", Medium, &[]);
    }
    let spec = pattern.strip_prefix("spec.").unwrap_or("");
    let spec_word = first_word(spec);
    match kind {
        "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController" => match spec_word {
            "replicas" => {
                return class(
                    "workload.replicas",
                    "workload",
                    High,
                    &["scaling-change", "runtime-impact"],
                );
            }
            "strategy"
            | "updateStrategy"
            | "podManagementPolicy"
            | "minReadySeconds"
            | "revisionHistoryLimit"
            | "progressDeadlineSeconds" => {
                return class("workload.strategy", "workload", Medium, &[]);
            }
            "selector" => {
                return class("workload.selector", "workload", High, &["breaking-change"]);
            }
            "volumeClaimTemplates" => {
                return class(
                    "storage.volumeClaimTemplate",
                    "storage",
                    High,
                    &["breaking-change"],
                );
            }
            "serviceName" => {
                return class(
                    "workload.serviceName",
                    "workload",
                    High,
                    &["breaking-change"],
                );
            }
            _ => {}
        },
        "DaemonSet" if matches!(spec_word, "updateStrategy" | "minReadySeconds") => {
            return class("workload.strategy", "workload", Medium, &[]);
        }
        "Service" => {
            return match spec_word {
                "ports" => class("service.port", "networking", High, &["networking-change"]),
                "type" => class("service.type", "networking", High, &["networking-change"]),
                "selector" => class(
                    "service.selector",
                    "networking",
                    High,
                    &["networking-change"],
                ),
                "clusterIP" | "clusterIPs" => class(
                    "service.clusterIP",
                    "networking",
                    High,
                    &["breaking-change"],
                ),
                _ => class(
                    "service.other",
                    "networking",
                    Medium,
                    &["networking-change"],
                ),
            };
        }
        "Ingress" => {
            return match spec_word {
                "rules" => class("ingress.rule", "networking", Medium, &["networking-change"]),
                "tls" => class("ingress.tls", "networking", Medium, &["networking-change"]),
                _ => class(
                    "ingress.other",
                    "networking",
                    Medium,
                    &["networking-change"],
                ),
            };
        }
        "NetworkPolicy" => {
            return class(
                "security.networkPolicy",
                "security",
                High,
                &["security-impact"],
            );
        }
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => {
            return match word {
                "rules" => class("rbac.rule", "security", High, &["security-impact"]),
                "subjects" => class("rbac.subject", "security", High, &["security-impact"]),
                "roleRef" => class("rbac.roleRef", "security", High, &["security-impact"]),
                _ => class("rbac.other", "security", Medium, &["security-impact"]),
            };
        }
        "ConfigMap" if matches!(word, "data" | "binaryData") => {
            return class("config.data", "config", Medium, &[]);
        }
        "Secret" if matches!(word, "data" | "stringData") => {
            return class("secret.data", "config", Medium, &["security-impact"]);
        }
        "Secret" if word == "type" => {
            return class("secret.type", "config", High, &["breaking-change"]);
        }
        "PersistentVolumeClaim" => {
            return match spec_word {
                "resources" => class("storage.size", "storage", Medium, &[]),
                "storageClassName" => class("storage.class", "storage", High, &["breaking-change"]),
                _ => class("storage.claim", "storage", Medium, &[]),
            };
        }
        "HorizontalPodAutoscaler" => {
            return class(
                "workload.autoscaling",
                "workload",
                Medium,
                &["scaling-change"],
            );
        }
        "PodDisruptionBudget" => {
            return class("workload.disruptionBudget", "workload", Medium, &[]);
        }
        "CustomResourceDefinition" => return class("crd.definition", "unknown", Medium, &[]),
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
            return class(
                "admission.webhook",
                "security",
                Medium,
                &["security-impact"],
            );
        }
        "ServiceAccount" if word == "automountServiceAccountToken" => {
            return class("security.serviceAccountToken", "security", Medium, &[]);
        }
        _ => {}
    }
    Class {
        semantic: None,
        category: "unknown",
        importance: Medium,
        flags: &[],
    }
}

/// Classifies one change of a resource of `kind`.
pub fn classify(kind: &str, raw: RawChange) -> Change {
    let pattern = raw.path.pattern();
    let mut cls = None;
    if let Some(rel) = pod_spec_prefix(kind).and_then(|p| below(&raw.path, p))
        && !rel.is_empty()
    {
        cls = Some(pod_class(&rel));
    }
    if cls.is_none()
        && let Some(rel) = pod_metadata_prefix(kind).and_then(|p| below(&raw.path, p))
    {
        {
            cls = Some(if rel.starts_with("annotations") {
                class("pod.annotation", "metadata", Low, ROLL)
            } else if rel.starts_with("labels") {
                class("pod.label", "metadata", Low, ROLL)
            } else {
                class("pod.metadata", "metadata", Low, ROLL)
            });
        }
    }
    let cls = cls.unwrap_or_else(|| resource_class(kind, &pattern));
    let mut importance = cls.importance;
    let mut flags: Vec<&'static str> = cls.flags.to_vec();
    for f in &raw.flags {
        if !flags.contains(f) {
            flags.push(f);
        }
    }
    if raw
        .flags
        .iter()
        .any(|f| matches!(*f, "same-value" | "order-only"))
    {
        importance = Low;
    }
    let value_type = raw
        .after
        .as_ref()
        .or(raw.before.as_ref())
        .map(|v| v.type_name())
        .unwrap_or("null");
    Change {
        op: raw.op,
        path: raw.path,
        before: raw.before,
        after: raw.after,
        value_type,
        semantic_type: cls.semantic,
        change_category: cls.category,
        importance,
        flags,
        line_diff: raw.line_diff,
    }
}

impl Path {
    /// A path from segments.
    pub fn from_segments(segments: Vec<Segment>) -> Path {
        let mut p = Path::root();
        for s in segments {
            p = match s {
                Segment::Key(k) => p.key(&k),
                Segment::Index(i) => p.index(i),
                Segment::Select { fields, index } => p.select(fields, index),
            };
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Op;

    fn raw(path: Path) -> RawChange {
        RawChange {
            op: Op::Replace,
            path,
            before: Some("a".into()),
            after: Some("b".into()),
            flags: vec![],
            line_diff: None,
        }
    }

    fn container(field: &[&str]) -> Path {
        let mut p = Path::keys(["spec", "template", "spec", "containers"])
            .select(vec![("name".into(), "app".into())], 0);
        for f in field {
            p = p.key(f);
        }
        p
    }

    #[test]
    fn image_is_high_and_triggers_rollout() {
        let c = classify("Deployment", raw(container(&["image"])));
        assert_eq!(c.semantic_type, Some("container.image"));
        assert_eq!(c.importance, High);
        assert!(c.has_flag("rollout-trigger"));
    }

    #[test]
    fn image_pull_policy_is_not_an_image() {
        let c = classify("Deployment", raw(container(&["imagePullPolicy"])));
        assert_eq!(c.semantic_type, Some("container.imagePullPolicy"));
        assert_eq!(c.importance, Low);
    }

    #[test]
    fn env_from_is_not_env() {
        let c = classify("Deployment", raw(container(&["envFrom"])));
        assert_eq!(c.semantic_type, Some("container.envFrom"));
        let c = classify("Deployment", raw(container(&["env"])));
        assert_eq!(c.semantic_type, Some("container.env"));
    }

    #[test]
    fn service_account_name_is_security_not_networking() {
        let p = Path::keys(["spec", "template", "spec", "serviceAccountName"]);
        let c = classify("Deployment", raw(p));
        assert_eq!(c.change_category, "security");
    }

    #[test]
    fn resources_are_split_by_resource_name() {
        let c = classify(
            "Deployment",
            raw(container(&["resources", "limits", "cpu"])),
        );
        assert_eq!(c.semantic_type, Some("resources.cpu"));
        let c = classify(
            "Deployment",
            raw(container(&["resources", "requests", "memory"])),
        );
        assert_eq!(c.semantic_type, Some("resources.memory"));
    }

    #[test]
    fn cronjob_containers_are_found_under_job_template() {
        let p = Path::keys([
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "spec",
            "containers",
        ])
        .select(vec![("name".into(), "c".into())], 0)
        .key("image");
        assert_eq!(
            classify("CronJob", raw(p)).semantic_type,
            Some("container.image")
        );
    }

    #[test]
    fn service_annotation_named_port_is_metadata() {
        let p = Path::keys(["metadata", "annotations", "prometheus.io/port"]);
        let c = classify("Service", raw(p));
        assert_eq!(c.semantic_type, Some("metadata.annotation"));
        assert_eq!(c.importance, Low);
        let p = Path::keys(["spec", "ports"]).select(vec![("port".into(), "80".into())], 0);
        assert_eq!(
            classify("Service", raw(p)).semantic_type,
            Some("service.port")
        );
    }

    #[test]
    fn pod_template_annotations_trigger_rollouts_at_low_importance() {
        let p = Path::keys([
            "spec",
            "template",
            "metadata",
            "annotations",
            "checksum/config",
        ]);
        let c = classify("Deployment", raw(p));
        assert_eq!(c.semantic_type, Some("pod.annotation"));
        assert!(c.has_flag("rollout-trigger"));
    }

    #[test]
    fn same_value_changes_are_low() {
        let mut r = raw(Path::keys(["spec", "replicas"]));
        r.flags.push("same-value");
        let c = classify("Deployment", r);
        assert_eq!(c.importance, Low);
        assert!(c.has_flag("same-value"));
        assert!(c.has_flag("scaling-change"));
    }

    #[test]
    fn rbac_rules_are_high_security() {
        let p = Path::keys(["rules"]).index(0).key("verbs");
        let c = classify("ClusterRole", raw(p));
        assert_eq!(
            (c.semantic_type, c.change_category, c.importance),
            (Some("rbac.rule"), "security", High)
        );
    }

    #[test]
    fn unknown_paths_are_medium_and_uncategorised() {
        let c = classify("Widget", raw(Path::keys(["spec", "size"])));
        assert_eq!(
            (c.semantic_type, c.change_category, c.importance),
            (None, "unknown", Medium)
        );
    }

    #[test]
    fn value_type_follows_after_then_before() {
        let mut r = raw(Path::keys(["x"]));
        r.after = None;
        r.before = Some(3i64.into());
        assert_eq!(classify("X", r).value_type, "integer");
    }
}
