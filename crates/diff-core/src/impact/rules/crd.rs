//! CustomResourceDefinitions: summarised into [`CrdChange`]s instead of dumped, with signals.
//!
//! - `crd-removed` (high): deleting a CRD deletes every custom resource of its type;
//! - `crd-version-removed`, `crd-storage-version-changed`, `crd-version-unserved` (high);
//! - `crd-properties-removed` (medium): fields of existing objects are pruned;
//! - `crd-added` and `crd-changed` (low) otherwise.
//!
//! Schema properties are listed as dotted paths below `openAPIV3Schema` (`spec.replicas`,
//! `spec.items[].name`, `spec.labels.*`), per version, at most 50 per list.

use std::collections::BTreeMap;

use yaml11::Value;

use crate::model::ChangeType::{Added, Modified, Removed};
use crate::model::CrdChange;
use crate::model::Level::{High, Low, Medium};
use crate::model::SignalCategory::{Availability, Other};

use super::super::findings::Findings;
use super::super::view::{View, list, seq_at, str_at};

/// At most this many entries per property list; then `… and N more`.
const MAX_LISTED: usize = 50;
/// Schema depth walked.
const MAX_DEPTH: usize = 24;
/// Properties collected per version.
const MAX_PROPERTIES: usize = 10_000;

const HELM_NOTE: &str = "Note that Helm installs CRDs from a chart's crds/ directory only on \
    first install and never upgrades or deletes them; if this CRD lives there, apply the change \
    yourself.";

struct Version<'a> {
    served: bool,
    storage: bool,
    schema: Option<&'a Value>,
}

fn versions(obj: &Value) -> BTreeMap<String, Version<'_>> {
    let shared = obj.pointer(&["spec", "validation", "openAPIV3Schema"]);
    let mut out = BTreeMap::new();
    for v in seq_at(obj, &["spec", "versions"]) {
        let Some(name) = str_at(v, &["name"]) else {
            continue;
        };
        out.insert(
            name.to_owned(),
            Version {
                served: v.get("served").and_then(Value::as_bool).unwrap_or(true),
                storage: v.get("storage").and_then(Value::as_bool).unwrap_or(false),
                schema: v.pointer(&["schema", "openAPIV3Schema"]).or(shared),
            },
        );
    }
    if out.is_empty() {
        // apiextensions.k8s.io/v1beta1 with a single `spec.version`.
        if let Some(name) = str_at(obj, &["spec", "version"]) {
            out.insert(
                name.to_owned(),
                Version {
                    served: true,
                    storage: true,
                    schema: shared,
                },
            );
        }
    }
    out
}

/// Walks two schemas side by side and records the properties only one of them has.
///
/// Only subtrees that differ are entered, so an upgrade that leaves most of a large CRD alone
/// costs little; the root of an added or removed subtree is recorded, not everything below it.
fn property_changes(
    old: &Value,
    new: &Value,
    prefix: &str,
    depth: usize,
    added: &mut Vec<String>,
    removed: &mut Vec<String>,
) {
    if depth > MAX_DEPTH || added.len() + removed.len() >= MAX_PROPERTIES {
        return;
    }
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    let none = yaml11::Mapping::new();
    fn props(v: &Value) -> Option<&yaml11::Mapping> {
        v.get("properties").and_then(Value::as_mapping)
    }
    let (op, np) = (props(old).unwrap_or(&none), props(new).unwrap_or(&none));
    for (k, sub) in np.iter() {
        match op.get(k) {
            None => added.push(join(k)),
            Some(before) if !crate::structural::identical(before, sub) => {
                property_changes(before, sub, &join(k), depth + 1, added, removed);
            }
            Some(_) => {}
        }
    }
    for (k, _) in op.iter() {
        if np.get(k).is_none() {
            removed.push(join(k));
        }
    }
    if let (Some(a), Some(b)) = (old.get("items"), new.get("items"))
        && !crate::structural::identical(a, b)
    {
        property_changes(a, b, &format!("{prefix}[]"), depth + 1, added, removed);
    }
    fn extra(v: &Value) -> Option<&Value> {
        v.get("additionalProperties")
            .filter(|v| v.as_mapping().is_some())
    }
    if let (Some(a), Some(b)) = (extra(old), extra(new))
        && !crate::structural::identical(a, b)
    {
        property_changes(a, b, &join("*"), depth + 1, added, removed);
    }
}

fn capped(mut items: Vec<String>) -> Vec<String> {
    if items.len() > MAX_LISTED {
        let more = items.len() - MAX_LISTED;
        items.truncate(MAX_LISTED);
        items.push(format!("… and {more} more"));
    }
    items
}

fn storage_version<'a>(vs: &'a BTreeMap<String, Version<'_>>) -> Option<&'a str> {
    vs.iter().find(|(_, v)| v.storage).map(|(n, _)| n.as_str())
}

pub(super) fn check(v: &View<'_>, out: &mut Findings) {
    if v.kind() != "CustomResourceDefinition" {
        return;
    }
    let old = v.before.map(versions).unwrap_or_default();
    let new = v.after.map(versions).unwrap_or_default();
    let mut change = CrdChange {
        name: v.name().to_owned(),
        change_type: match v.change_type() {
            Added => "added",
            Removed => "removed",
            Modified => "modified",
        }
        .to_owned(),
        versions_added: new
            .keys()
            .filter(|k| !old.contains_key(*k))
            .cloned()
            .collect(),
        versions_removed: old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect(),
        ..CrdChange::default()
    };
    let short = v.short();
    match v.change_type() {
        Added => {
            out.signal(
                v,
                "crd-added",
                Low,
                Other,
                "CustomResourceDefinition added".to_owned(),
                format!(
                    "{short} registers a new API ({}). Check no other release or operator \
                     already owns it. {HELM_NOTE}",
                    list(&change.versions_added, 5)
                ),
            );
        }
        Removed => {
            out.signal(
                v,
                "crd-removed",
                High,
                Availability,
                "CustomResourceDefinition removed".to_owned(),
                format!(
                    "Deleting {short} deletes every custom resource of this type in the \
                     cluster, and controllers using the API fail. Check no data lives in these \
                     objects, or keep the CRD. {HELM_NOTE}"
                ),
            );
        }
        Modified => modified(v, &old, &new, &mut change, out),
    }
    out.crd_changes.push(change);
}

fn modified(
    v: &View<'_>,
    old: &BTreeMap<String, Version<'_>>,
    new: &BTreeMap<String, Version<'_>>,
    change: &mut CrdChange,
    out: &mut Findings,
) {
    let short = v.short();
    let mut unserved = Vec::new();
    for (name, n) in new {
        let Some(o) = old.get(name) else {
            continue;
        };
        if o.served != n.served {
            change
                .flag_changes
                .push(format!("{name} served {}→{}", o.served, n.served));
            if o.served && !n.served {
                unserved.push(name.clone());
            }
        }
        if o.storage != n.storage {
            change
                .flag_changes
                .push(format!("{name} storage {}→{}", o.storage, n.storage));
        }
        // Most upgrades leave most schemas alone; walking identical schemas is wasted work.
        if let (Some(a), Some(b)) = (o.schema, n.schema)
            && crate::structural::identical(a, b)
        {
            continue;
        }
        let (mut added, mut removed) = (Vec::new(), Vec::new());
        let empty = Value::Null;
        property_changes(
            o.schema.unwrap_or(&empty),
            n.schema.unwrap_or(&empty),
            "",
            0,
            &mut added,
            &mut removed,
        );
        added.sort();
        removed.sort();
        change
            .properties_added
            .extend(added.into_iter().map(|p| format!("{name}: {p}")));
        change
            .properties_removed
            .extend(removed.into_iter().map(|p| format!("{name}: {p}")));
    }
    let added_count = change.properties_added.len();
    let removed_count = change.properties_removed.len();
    change.properties_added = capped(std::mem::take(&mut change.properties_added));
    change.properties_removed = capped(std::mem::take(&mut change.properties_removed));
    let mut fired = false;
    if !change.versions_removed.is_empty() {
        fired = true;
        let s = out.signal(
            v,
            "crd-version-removed",
            High,
            Availability,
            format!("CRD version removed: {}", list(&change.versions_removed, 5)),
            format!(
                "{short} stops defining {}. Clients and manifests using it fail, and if objects \
                 were ever stored at it (status.storedVersions) the API server rejects the \
                 update until they are migrated. Migrate stored objects first. {HELM_NOTE}",
                list(&change.versions_removed, 5)
            ),
        );
        s.field = Some("spec.versions".to_owned());
        s.old_value = Some(old.keys().cloned().collect::<Vec<_>>().join(", "));
        s.new_value = Some(new.keys().cloned().collect::<Vec<_>>().join(", "));
    }
    let (os, ns) = (storage_version(old), storage_version(new));
    if os.is_some() && ns.is_some() && os != ns {
        fired = true;
        let s = out.signal(
            v,
            "crd-storage-version-changed",
            High,
            Availability,
            "CRD storage version changed".to_owned(),
            format!(
                "{short} stores objects at a different version from now on. Existing objects \
                 stay at the old one until rewritten, so the old version must stay served (and \
                 any conversion webhook working) until a storage migration is done. \
                 {HELM_NOTE}"
            ),
        );
        s.field = Some("spec.versions".to_owned());
        s.old_value = os.map(str::to_owned);
        s.new_value = ns.map(str::to_owned);
    }
    if !unserved.is_empty() {
        fired = true;
        let s = out.signal(
            v,
            "crd-version-unserved",
            High,
            Availability,
            format!("CRD version no longer served: {}", list(&unserved, 5)),
            format!(
                "{short} stops serving {}: clients, controllers and manifests using it get \
                 \"not found\" errors. Check everything has moved to a served version. \
                 {HELM_NOTE}",
                list(&unserved, 5)
            ),
        );
        s.field = Some("spec.versions".to_owned());
    }
    if removed_count > 0 {
        fired = true;
        let s = out.signal(
            v,
            "crd-properties-removed",
            Medium,
            Other,
            format!("CRD schema properties removed: {removed_count}"),
            format!(
                "{short} no longer defines {}. With structural schemas the API server prunes \
                 unknown fields, so values stored in them are dropped when objects are next \
                 written. Check no existing object relies on them. {HELM_NOTE}",
                list(&change.properties_removed, 5)
            ),
        );
        s.field = Some("spec.versions".to_owned());
    }
    if !fired {
        let mut what = Vec::new();
        if !change.versions_added.is_empty() {
            what.push(format!(
                "versions added: {}",
                list(&change.versions_added, 5)
            ));
        }
        if added_count > 0 {
            what.push(format!("{added_count} schema properties added"));
        }
        if !change.flag_changes.is_empty() {
            what.push(change.flag_changes.join(", "));
        }
        if what.is_empty() {
            what.push("definition changed".to_owned());
        }
        out.signal(
            v,
            "crd-changed",
            Low,
            Other,
            format!("CustomResourceDefinition changed: {}", what.join("; ")),
            format!(
                "{short} changes in a compatible way ({}). Check the controller version \
                 matches. {HELM_NOTE}",
                what.join("; ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::{High, Low, Medium};
    use crate::model::SignalCategory::{Availability, Other};

    const CRD: &str = "
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              tags: {type: array, items: {type: object, properties: {name: {type: string}}}}
";

    /// CRD with a second version `v2` (served, not storage) added before v1.
    fn two_versions() -> String {
        CRD.replace(
            "  versions:\n",
            "  versions:\n  - name: v2\n    served: true\n    storage: false\n    schema: {openAPIV3Schema: {type: object}}\n",
        )
    }

    #[test]
    fn crd_added_and_removed() {
        let i = impact("", CRD);
        one(&i, "crd-added", Low, Other);
        assert_eq!(i.crd_changes[0].versions_added, ["v1"]);
        assert_eq!(i.crd_changes[0].change_type, "added");
        one(&impact(CRD, ""), "crd-removed", High, Availability);
    }

    #[test]
    fn removing_a_version_is_high() {
        let i = impact(&two_versions(), CRD);
        one(&i, "crd-version-removed", High, Availability);
        assert_eq!(i.crd_changes[0].versions_removed, ["v2"]);
    }

    #[test]
    fn switching_the_storage_version_is_high() {
        let a = two_versions();
        let b = a
            .replace("storage: false", "storage: maybe")
            .replace("storage: true", "storage: false")
            .replace("storage: maybe", "storage: true");
        let i = impact(&a, &b);
        let s = one(&i, "crd-storage-version-changed", High, Availability);
        assert_eq!(
            (s.old_value.as_deref(), s.new_value.as_deref()),
            (Some("v1"), Some("v2"))
        );
        assert!(
            i.crd_changes[0]
                .flag_changes
                .contains(&"v2 storage false→true".to_owned())
        );
    }

    #[test]
    fn unserving_a_version_is_high() {
        let a = two_versions();
        let b = a.replacen("served: true", "served: false", 1);
        let i = impact(&a, &b);
        one(&i, "crd-version-unserved", High, Availability);
        assert_eq!(i.crd_changes[0].flag_changes, ["v2 served true→false"]);
    }

    #[test]
    fn removed_properties_are_medium_and_listed_as_paths() {
        let b = CRD.replace("              size: {type: integer}\n", "");
        let i = impact(CRD, &b);
        one(&i, "crd-properties-removed", Medium, Other);
        assert_eq!(i.crd_changes[0].properties_removed, ["v1: spec.size"]);
    }

    #[test]
    fn added_properties_are_a_low_change() {
        let b = CRD.replace(
            "properties: {name: {type: string}}",
            "properties: {name: {type: string}, value: {type: string}}",
        );
        let i = impact(CRD, &b);
        let s = one(&i, "crd-changed", Low, Other);
        assert!(s.title.contains("1 schema properties added"), "{}", s.title);
        assert_eq!(i.crd_changes[0].properties_added, ["v1: spec.tags[].value"]);
        silent(&i, "crd-properties-removed");
    }
}
