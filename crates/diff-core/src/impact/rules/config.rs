//! ConfigMap and Secret data, seen together with the workloads that use them.
//!
//! A data change is low; it is medium when a long-running workload in the new manifest mounts
//! or reads the ConfigMap/Secret and does not roll out with this upgrade (no checksum
//! annotation or other pod template change restarts it), because its running pods keep the
//! old values. Only key names are reported, never values.

use std::collections::{BTreeMap, BTreeSet};

use yaml11::Value;

use crate::manifest::Manifest;
use crate::model::ChangeType::{Modified, Removed};
use crate::model::Level::{High, Low, Medium};
use crate::model::Op;
use crate::model::SignalCategory::{Availability, Other};

use super::super::findings::Findings;
use super::super::pod::{ConfigRef, LONG_RUNNING, config_refs, pod_spec};
use super::super::view::{View, key_at, list};

/// A workload of the new manifest and what it uses.
struct User {
    kind: String,
    name: String,
    namespace: String,
    refs: Vec<ConfigRef>,
}

impl User {
    fn short(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

fn users(views: &[View<'_>], manifest: Option<&Manifest>) -> Vec<User> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for v in views {
        seen.insert((v.kind(), v.namespace(), v.name()));
        let Some(after) = v.after else {
            continue;
        };
        if let Some(pod) = pod_spec(v.kind(), after) {
            out.push(User {
                kind: v.kind().to_owned(),
                name: v.name().to_owned(),
                namespace: v.namespace().to_owned(),
                refs: config_refs(pod),
            });
        }
    }
    for r in manifest.into_iter().flat_map(|m| m.resources.values()) {
        let k = &r.key;
        if seen.contains(&(k.kind.as_str(), k.namespace.as_str(), k.name.as_str())) {
            continue;
        }
        if let Some(pod) = pod_spec(&k.kind, &r.object) {
            out.push(User {
                kind: k.kind.clone(),
                name: k.name.clone(),
                namespace: k.namespace.clone(),
                refs: config_refs(pod),
            });
        }
    }
    out
}

pub(super) fn check(views: &[View<'_>], manifest: Option<&Manifest>, out: &mut Findings) {
    let mut all_users = None;
    for v in views {
        if !v.is_core() || !matches!(v.kind(), "ConfigMap" | "Secret") {
            continue;
        }
        if !matches!(v.change_type(), Modified | Removed) {
            continue;
        }
        let all = all_users.get_or_insert_with(|| users(views, manifest));
        let using: Vec<(&User, bool)> = all
            .iter()
            .filter(|u| u.namespace == v.namespace())
            .filter_map(|u| {
                u.refs
                    .iter()
                    .find(|r| r.kind == v.kind() && r.name == v.name())
                    .map(|r| (u, r.optional))
            })
            .collect();
        if v.change_type() == Removed {
            removed(v, &using, out);
        } else {
            data_changed(v, &using, out);
        }
    }
}

/// Changed keys by what happened to them: `added`, `changed`, `removed`.
fn changed_keys(v: &View<'_>) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut keys: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for c in &v.changes {
        let segs = c.path.segments();
        if !matches!(key_at(segs, 0), Some("data" | "binaryData" | "stringData")) {
            continue;
        }
        if let Some(k) = key_at(segs, 1) {
            let what = match c.op {
                Op::Add => "added",
                Op::Remove => "removed",
                Op::Replace => "changed",
            };
            keys.entry(what).or_default().insert(k.to_owned());
            continue;
        }
        // The whole map appeared, went away or changed type.
        let map = |x: &Option<Value>| {
            x.as_ref()
                .and_then(Value::as_mapping)
                .cloned()
                .unwrap_or_default()
        };
        let (old, new) = (map(&c.before), map(&c.after));
        for (k, nv) in new.iter() {
            match old.get(k) {
                None => keys.entry("added").or_default().insert(k.clone()),
                Some(ov) if ov != nv => keys.entry("changed").or_default().insert(k.clone()),
                Some(_) => false,
            };
        }
        for k in old.keys() {
            if new.get(k).is_none() {
                keys.entry("removed").or_default().insert(k.clone());
            }
        }
    }
    keys
}

fn data_changed(v: &View<'_>, using: &[(&User, bool)], out: &mut Findings) {
    let keys = changed_keys(v);
    if keys.is_empty() {
        return;
    }
    let summary = ["changed", "added", "removed"]
        .iter()
        .filter_map(|what| {
            keys.get(what).map(|ks| {
                let ks: Vec<&String> = ks.iter().collect();
                format!("{what} {}", list(&ks, 6))
            })
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut stale = Vec::new();
    let mut restarted = Vec::new();
    let mut others = Vec::new();
    for (u, _) in using {
        if !LONG_RUNNING.contains(&u.kind.as_str()) {
            others.push(u.short());
        } else if out.rolls_out(&u.kind, &u.name, &u.namespace) {
            restarted.push(u.short());
        } else {
            stale.push(u.short());
        }
    }
    let mut description = format!("{} data: {summary}.", v.short());
    if !stale.is_empty() {
        description.push_str(&format!(
            " {} use it but do not roll out with this upgrade, so running pods keep the old \
             values: environment variables are read only at start, and mounted files change \
             after a delay, only taking effect if the application reloads them. Add a checksum \
             annotation of the data to the pod template (e.g. checksum/config) or restart the \
             pods.",
            list(&stale, 5)
        ));
    }
    if !restarted.is_empty() {
        description.push_str(&format!(
            " {} roll out with this upgrade and pick up the new data.",
            list(&restarted, 5)
        ));
    }
    if !others.is_empty() {
        description.push_str(&format!(" {} use it in their next pods.", list(&others, 5)));
    }
    if using.is_empty() {
        description.push_str(
            " No workload in this manifest uses it; check who else reads it (an operator, \
             another release).",
        );
    }
    let (rule, noun) = if v.kind() == "Secret" {
        ("secret-data-changed", "Secret")
    } else {
        ("configmap-data-changed", "ConfigMap")
    };
    let level = if stale.is_empty() { Low } else { Medium };
    let s = out.signal(
        v,
        rule,
        level,
        Other,
        format!("{noun} data changed: {summary}"),
        description,
    );
    s.field = Some("data".to_owned());
}

fn removed(v: &View<'_>, using: &[(&User, bool)], out: &mut Findings) {
    let needed: Vec<String> = using
        .iter()
        .filter(|(_, optional)| !optional)
        .map(|(u, _)| u.short())
        .collect();
    if needed.is_empty() {
        return;
    }
    let s = out.signal(
        v,
        "referenced-config-removed",
        High,
        Availability,
        format!("{} removed but still used", v.short()),
        format!(
            "Helm will delete {} while {} still mount or read it. New pods of those workloads \
             fail to start (CreateContainerConfigError or a failed volume mount) until it exists \
             again. Check the references were meant to move to another {}.",
            v.short(),
            list(&needed, 5),
            v.kind()
        ),
    );
    s.field = Some("metadata.name".to_owned());
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::{High, Low, Medium};
    use crate::model::SignalCategory::{Availability, Other};

    const CM: &str = "
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, labels: {team: a}}
data:
  mode: fast
  level: '1'
";

    const DEPLOY: &str = "
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {checksum/config: aaa}
    spec:
      containers:
      - name: app
        image: 'web:1'
        envFrom: [{configMapRef: {name: web-config}}]
";

    #[test]
    fn unused_configmap_change_is_low_and_names_keys() {
        let b = CM
            .replace("mode: fast", "mode: slow")
            .replace("level: '1'", "level: '1'\n  extra: x");
        let s = one(&impact(CM, &b), "configmap-data-changed", Low, Other);
        assert_eq!(s.title, "ConfigMap data changed: changed mode; added extra");
        assert!(s.description.contains("No workload"), "{}", s.description);
    }

    #[test]
    fn configmap_used_by_a_workload_that_does_not_restart_is_medium() {
        let a = format!("{CM}{DEPLOY}");
        let b = a.replace("mode: fast", "mode: slow");
        let s = one(&impact(&a, &b), "configmap-data-changed", Medium, Other);
        assert!(
            s.description
                .contains("Deployment/web use it but do not roll out"),
            "{}",
            s.description
        );
    }

    #[test]
    fn configmap_used_by_a_workload_rolled_by_its_checksum_is_low() {
        let a = format!("{CM}{DEPLOY}");
        let b = a
            .replace("mode: fast", "mode: slow")
            .replace("checksum/config: aaa", "checksum/config: bbb");
        let i = impact(&a, &b);
        let s = one(&i, "configmap-data-changed", Low, Other);
        assert!(
            s.description.contains("roll out with this upgrade"),
            "{}",
            s.description
        );
        assert_eq!(i.rollouts[0].causes, ["checksum annotation"]);
    }

    #[test]
    fn configmap_label_change_is_not_a_data_change() {
        silent(
            &impact(CM, &CM.replace("team: a", "team: b")),
            "configmap-data-changed",
        );
    }

    #[test]
    fn secret_data_change_names_keys_but_never_values() {
        let a = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2, user: app}\n";
        let b = a.replace("hunter2", "hunter3");
        let s = one(&impact(a, &b), "secret-data-changed", Low, Other);
        assert!(s.title.contains("changed password"), "{}", s.title);
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("hunter"), "{json}");
    }

    #[test]
    fn removing_a_configmap_still_in_use_is_high() {
        let a = format!("{CM}{DEPLOY}");
        let s = one(
            &impact(&a, DEPLOY),
            "referenced-config-removed",
            High,
            Availability,
        );
        assert!(
            s.description.contains("Deployment/web"),
            "{}",
            s.description
        );
        let optional = DEPLOY.replace("{name: web-config}", "{name: web-config, optional: true}");
        silent(
            &impact(&format!("{CM}{optional}"), &optional),
            "referenced-config-removed",
        );
        silent(&impact(CM, ""), "referenced-config-removed");
    }
}
