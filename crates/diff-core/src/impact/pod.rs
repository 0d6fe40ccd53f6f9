//! Reading pod specs: containers, volumes and what they reference.

use yaml11::Value;

use crate::classify::pod_spec_prefix;
use crate::path::Path;

use super::view::{keys_path, seq_at, str_at};

/// The pod spec's container lists.
pub(crate) const CONTAINER_LISTS: [&str; 3] =
    ["containers", "initContainers", "ephemeralContainers"];

/// Workloads whose pods keep running: they only see new config when they restart.
pub(crate) const LONG_RUNNING: &[&str] = &[
    "DaemonSet",
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
];

/// How a container list is named in prose.
pub(crate) fn list_word(list: &str) -> &'static str {
    match list {
        "initContainers" => "init container",
        "ephemeralContainers" => "ephemeral container",
        _ => "container",
    }
}

/// The pod spec of an object of `kind`, if the kind has one.
pub(crate) fn pod_spec<'a>(kind: &str, obj: &'a Value) -> Option<&'a Value> {
    obj.pointer(pod_spec_prefix(kind)?)
}

/// One container of a pod spec.
pub(crate) struct Container<'a> {
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub list: &'static str,
    pub index: usize,
    pub name: &'a str,
    pub value: &'a Value,
}

impl Container<'_> {
    /// The container's path, e.g. `spec.template.spec.containers[name=app]`.
    pub fn path(&self, pod_prefix: &[&str]) -> Path {
        keys_path(pod_prefix)
            .key(self.list)
            .select(vec![("name".to_owned(), self.name.to_owned())], self.index)
    }
}

/// Every container of every list of a pod spec.
pub(crate) fn containers(pod: &Value) -> Vec<Container<'_>> {
    let mut out = Vec::new();
    for list in CONTAINER_LISTS {
        for (index, c) in seq_at(pod, &[list]).iter().enumerate() {
            out.push(Container {
                list,
                index,
                name: str_at(c, &["name"]).unwrap_or(""),
                value: c,
            });
        }
    }
    out
}

/// A ConfigMap or Secret a pod spec uses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ConfigRef {
    /// `ConfigMap` or `Secret`.
    pub kind: &'static str,
    pub name: String,
    /// `optional: true`: pods start without it.
    pub optional: bool,
}

/// The ConfigMaps and Secrets a pod spec mounts or reads into its environment.
pub(crate) fn config_refs(pod: &Value) -> Vec<ConfigRef> {
    let mut out = Vec::new();
    let mut add = |kind: &'static str, v: &Value, name_key: &str| {
        if let Some(name) = str_at(v, &[name_key]) {
            out.push(ConfigRef {
                kind,
                name: name.to_owned(),
                optional: v.get("optional").and_then(Value::as_bool) == Some(true),
            });
        }
    };
    for vol in seq_at(pod, &["volumes"]) {
        if let Some(cm) = vol.get("configMap") {
            add("ConfigMap", cm, "name");
        }
        if let Some(s) = vol.get("secret") {
            add("Secret", s, "secretName");
        }
        for src in seq_at(vol, &["projected", "sources"]) {
            if let Some(cm) = src.get("configMap") {
                add("ConfigMap", cm, "name");
            }
            if let Some(s) = src.get("secret") {
                add("Secret", s, "name");
            }
        }
    }
    for c in containers(pod) {
        for from in seq_at(c.value, &["envFrom"]) {
            if let Some(cm) = from.get("configMapRef") {
                add("ConfigMap", cm, "name");
            }
            if let Some(s) = from.get("secretRef") {
                add("Secret", s, "name");
            }
        }
        for env in seq_at(c.value, &["env"]) {
            if let Some(cm) = env.pointer(&["valueFrom", "configMapKeyRef"]) {
                add("ConfigMap", cm, "name");
            }
            if let Some(s) = env.pointer(&["valueFrom", "secretKeyRef"]) {
                add("Secret", s, "name");
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
