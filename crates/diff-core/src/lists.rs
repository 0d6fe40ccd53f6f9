//! How the items of two lists are paired up.
//!
//! In order of preference, as Kubernetes' strategic merge does:
//! 1. the merge key of well-known lists (`containers` by `name`, container `ports` by
//!    `containerPort`+`protocol`, Service `ports` by `port`+`protocol`, `volumeMounts` by
//!    `mountPath`, RBAC `subjects` by `kind`+`namespace`+`name`, `tolerations` by
//!    `key`+`operator`+`effect`, …);
//! 2. a `name`, `key` or `id` field that every item has and no two items share;
//! 3. the items' values, aligned by a longest common subsequence (Myers), with replaced runs
//!    paired by position so a changed item shows its inner changes.

use std::hash::{Hash, Hasher};

use yaml11::{Number, Value};

/// How the items were paired.
#[derive(Debug)]
pub enum Matching {
    /// By identifying fields.
    Keyed(Keyed),
    /// By position after alignment.
    Positional(Vec<Aligned>),
}

/// Items paired by identifying fields.
#[derive(Debug)]
pub struct Keyed {
    /// Every item of either side, once: old-side order first, then new-only items.
    pub pairs: Vec<KeyedItem>,
    /// True when items present on both sides changed their relative order.
    pub reordered: bool,
}

/// One identity in a keyed list.
#[derive(Debug)]
pub struct KeyedItem {
    /// Identifying fields and values, e.g. `[("name", "app")]`.
    pub fields: Vec<(String, String)>,
    /// Position on the old side.
    pub before: Option<usize>,
    /// Position on the new side.
    pub after: Option<usize>,
}

impl KeyedItem {
    /// `name=app`-style text of the identity.
    pub fn selector(&self) -> String {
        self.fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One step of a positional alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aligned {
    /// Old item `.0` corresponds to new item `.1`.
    Pair(usize, usize),
    /// Old item gone.
    Removed(usize),
    /// New item.
    Added(usize),
}

/// A key field and what an absent value means.
#[derive(Clone, Copy)]
struct KeyField {
    /// The name shown in paths.
    name: &'static str,
    /// Where the value sits in the item (usually just `name`).
    at: &'static [&'static str],
    default: Option<&'static str>,
}

macro_rules! req {
    ($name:literal) => {
        KeyField {
            name: $name,
            at: &[$name],
            default: None,
        }
    };
}

macro_rules! opt {
    ($name:literal, $default:literal) => {
        KeyField {
            name: $name,
            at: &[$name],
            default: Some($default),
        }
    };
}

/// Merge keys of well-known lists, by the list's field name.
fn merge_keys(field: &str, items: &[&Value]) -> &'static [KeyField] {
    const NAME: &[KeyField] = &[req!("name")];
    const CONTAINER_PORT: &[KeyField] = &[req!("containerPort"), opt!("protocol", "TCP")];
    const SERVICE_PORT: &[KeyField] = &[req!("port"), opt!("protocol", "TCP")];
    const MOUNT: &[KeyField] = &[req!("mountPath")];
    const CLAIM: &[KeyField] = &[KeyField {
        name: "name",
        at: &["metadata", "name"],
        default: None,
    }];
    const DEVICE: &[KeyField] = &[req!("devicePath")];
    const SUBJECT: &[KeyField] = &[req!("kind"), opt!("namespace", ""), req!("name")];
    const TOLERATION: &[KeyField] = &[
        opt!("key", ""),
        opt!("operator", "Equal"),
        opt!("effect", ""),
    ];
    const SPREAD: &[KeyField] = &[req!("topologyKey"), req!("whenUnsatisfiable")];
    const HOST_ALIAS: &[KeyField] = &[req!("ip")];
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "webhooks"
        | "versions"
        | "resourceClaims"
        | "schedulingGates"
        | "readinessGates" => NAME,
        "ports" => {
            if items.iter().all(|i| i.get("containerPort").is_some()) {
                CONTAINER_PORT
            } else {
                SERVICE_PORT
            }
        }
        "volumeClaimTemplates" => CLAIM,
        "volumeMounts" => MOUNT,
        "volumeDevices" => DEVICE,
        "subjects" => SUBJECT,
        "tolerations" => TOLERATION,
        "topologySpreadConstraints" => SPREAD,
        "hostAliases" => HOST_ALIAS,
        _ => &[],
    }
}

const FALLBACK_KEYS: [&[KeyField]; 3] = [&[req!("name")], &[req!("key")], &[req!("id")]];

/// Pairs the items of `a` (old) and `b` (new) of the list held by mapping key `field`
/// (empty for a list inside a list).
pub fn match_items(field: &str, a: &[Value], b: &[Value]) -> Matching {
    let all: Vec<&Value> = a.iter().chain(b).collect();
    let preferred = merge_keys(field, &all);
    let candidates = std::iter::once(preferred)
        .filter(|k| !k.is_empty())
        .chain(FALLBACK_KEYS);
    for keys in candidates {
        if let Some(keyed) = keyed(keys, a, b) {
            return Matching::Keyed(keyed);
        }
    }
    Matching::Positional(align(a, b))
}

/// The identity of one item under `keys`, or None when it lacks a required field or a
/// field is not a scalar.
/// An item's identity: the values compared (defaults filled in) and the fields shown.
type ItemIdentity = (Vec<String>, Vec<(String, String)>);

fn identity_of(keys: &[KeyField], item: &Value) -> Option<ItemIdentity> {
    item.as_mapping()?;
    let mut id = Vec::with_capacity(keys.len());
    let mut shown = Vec::with_capacity(keys.len());
    for k in keys {
        match item.pointer(k.at) {
            Some(v) => {
                let s = scalar_text(v)?;
                shown.push((k.name.to_owned(), s.clone()));
                id.push(s);
            }
            None => id.push(k.default?.to_owned()),
        }
    }
    Some((id, shown))
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(Number::Int(i)) => Some(i.to_string()),
        Value::Number(Number::Float(f)) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn keyed(keys: &[KeyField], a: &[Value], b: &[Value]) -> Option<Keyed> {
    let side = |items: &[Value]| -> Option<Vec<ItemIdentity>> {
        let ids: Vec<_> = items
            .iter()
            .map(|i| identity_of(keys, i))
            .collect::<Option<_>>()?;
        let mut seen: Vec<&Vec<String>> = ids.iter().map(|(id, _)| id).collect();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return None;
        }
        Some(ids)
    };
    let ia = side(a)?;
    let ib = side(b)?;
    let mut pairs = Vec::with_capacity(ia.len().max(ib.len()));
    let mut matched_after = vec![false; ib.len()];
    for (i, (id, shown)) in ia.iter().enumerate() {
        let j = ib.iter().position(|(other, _)| other == id);
        let fields = match j {
            Some(j) => {
                matched_after[j] = true;
                ib[j].1.clone()
            }
            None => shown.clone(),
        };
        pairs.push(KeyedItem {
            fields,
            before: Some(i),
            after: j,
        });
    }
    for (j, (_, shown)) in ib.iter().enumerate() {
        if !matched_after[j] {
            pairs.push(KeyedItem {
                fields: shown.clone(),
                before: None,
                after: Some(j),
            });
        }
    }
    let order: Vec<usize> = pairs
        .iter()
        .filter(|p| p.before.is_some())
        .filter_map(|p| p.after)
        .collect();
    let reordered = order.windows(2).any(|w| w[0] > w[1]);
    Some(Keyed { pairs, reordered })
}

fn item_hash(v: &Value) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    hash_value(v, &mut h);
    h.finish()
}

fn hash_value<H: Hasher>(v: &Value, h: &mut H) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(Number::Int(i)) => (2u8, i).hash(h),
        Value::Number(Number::Float(f)) => (3u8, f.to_bits()).hash(h),
        Value::String(s) => (4u8, s).hash(h),
        Value::Sequence(items) => {
            (5u8, items.len()).hash(h);
            for i in items {
                hash_value(i, h);
            }
        }
        Value::Mapping(m) => {
            (6u8, m.len()).hash(h);
            for (k, v) in m.sorted() {
                k.hash(h);
                hash_value(v, h);
            }
        }
    }
}

/// Aligns two lists by value (Myers' diff over item hashes).
pub fn align(a: &[Value], b: &[Value]) -> Vec<Aligned> {
    let ha: Vec<u64> = a.iter().map(item_hash).collect();
    let hb: Vec<u64> = b.iter().map(item_hash).collect();
    let mut out = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &ha, &hb) {
        match op {
            similar::DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for k in 0..len {
                    out.push(Aligned::Pair(old_index + k, new_index + k));
                }
            }
            similar::DiffOp::Delete {
                old_index, old_len, ..
            } => out.extend((old_index..old_index + old_len).map(Aligned::Removed)),
            similar::DiffOp::Insert {
                new_index, new_len, ..
            } => out.extend((new_index..new_index + new_len).map(Aligned::Added)),
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let common = old_len.min(new_len);
                for k in 0..common {
                    out.push(Aligned::Pair(old_index + k, new_index + k));
                }
                out.extend((old_index + common..old_index + old_len).map(Aligned::Removed));
                out.extend((new_index + common..new_index + new_len).map(Aligned::Added));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(y: &str) -> Vec<Value> {
        match yaml11::parse_value(y, &Default::default()).unwrap() {
            Value::Sequence(s) => s,
            other => panic!("not a list: {other:?}"),
        }
    }

    fn keyed_fields(m: Matching) -> Vec<(String, Option<usize>, Option<usize>)> {
        match m {
            Matching::Keyed(k) => k
                .pairs
                .into_iter()
                .map(|p| (p.selector(), p.before, p.after))
                .collect(),
            Matching::Positional(_) => panic!("expected keyed matching"),
        }
    }

    #[test]
    fn containers_match_by_name() {
        let a = seq("- {name: a, image: x}\n- {name: b, image: y}\n");
        let b = seq("- {name: b, image: y}\n- {name: c, image: z}\n");
        let got = keyed_fields(match_items("containers", &a, &b));
        assert_eq!(
            got,
            vec![
                ("name=a".into(), Some(0), None),
                ("name=b".into(), Some(1), Some(0)),
                ("name=c".into(), None, Some(1)),
            ]
        );
    }

    #[test]
    fn container_ports_match_by_port_and_default_protocol() {
        let a = seq("- {containerPort: 80}\n");
        let b = seq("- {containerPort: 80, protocol: TCP, name: http}\n");
        let got = keyed_fields(match_items("ports", &a, &b));
        assert_eq!(
            got,
            vec![("containerPort=80,protocol=TCP".into(), Some(0), Some(0))]
        );
    }

    #[test]
    fn service_ports_match_by_port_and_protocol() {
        let a = seq("- {port: 80, targetPort: http}\n- {port: 53, protocol: UDP}\n");
        let b = seq("- {port: 53, protocol: UDP}\n- {port: 80, targetPort: web}\n");
        let got = keyed_fields(match_items("ports", &a, &b));
        assert_eq!(got[0], ("port=80".into(), Some(0), Some(1)));
    }

    #[test]
    fn volume_mounts_match_by_mount_path() {
        let a = seq("- {name: a, mountPath: /x}\n- {name: a, mountPath: /y}\n");
        let b = seq("- {name: a, mountPath: /y}\n");
        let got = keyed_fields(match_items("volumeMounts", &a, &b));
        assert_eq!(got[0], ("mountPath=/x".into(), Some(0), None));
    }

    #[test]
    fn subjects_match_by_kind_namespace_name() {
        let a = seq(
            "- {kind: ServiceAccount, name: s, namespace: a}\n- {kind: ServiceAccount, name: s, namespace: b}\n",
        );
        let b = seq("- {kind: ServiceAccount, name: s, namespace: b}\n");
        let got = keyed_fields(match_items("subjects", &a, &b));
        assert_eq!(got[0].0, "kind=ServiceAccount,namespace=a,name=s");
        assert_eq!(got[0].2, None);
    }

    #[test]
    fn tolerations_match_with_optional_fields() {
        let a = seq(
            "- {operator: Exists}\n- {key: k, operator: Equal, value: v, effect: NoSchedule}\n",
        );
        let b = seq("- {key: k, value: w, effect: NoSchedule}\n- {operator: Exists}\n");
        let got = keyed_fields(match_items("tolerations", &a, &b));
        assert_eq!(got[1], ("key=k,effect=NoSchedule".into(), Some(1), Some(0)));
    }

    #[test]
    fn unique_name_key_or_id_is_used_for_unknown_lists() {
        let a = seq("- {key: a, v: 1}\n- {key: b, v: 2}\n");
        let b = seq("- {key: b, v: 2}\n- {key: a, v: 3}\n");
        assert!(matches!(match_items("things", &a, &b), Matching::Keyed(_)));
        let a = seq("- {id: 1}\n");
        assert!(matches!(match_items("things", &a, &a), Matching::Keyed(_)));
    }

    #[test]
    fn duplicate_keys_fall_back_to_values() {
        let a = seq("- {name: a, v: 1}\n- {name: a, v: 2}\n");
        let b = seq("- {name: a, v: 1}\n");
        assert_eq!(
            match match_items("containers", &a, &b) {
                Matching::Positional(p) => p,
                Matching::Keyed(_) => panic!("duplicate names cannot key"),
            },
            vec![Aligned::Pair(0, 0), Aligned::Removed(1)]
        );
    }

    #[test]
    fn volume_claim_templates_match_by_metadata_name() {
        let a = seq("- {metadata: {name: data}, spec: {x: 1}}\n- {metadata: {name: logs}}\n");
        let b = seq("- {metadata: {name: logs}}\n- {metadata: {name: data}, spec: {x: 2}}\n");
        let got = keyed_fields(match_items("volumeClaimTemplates", &a, &b));
        assert_eq!(got[0], ("name=data".into(), Some(0), Some(1)));
    }

    #[test]
    fn reorder_is_detected() {
        let a = seq("- {name: a}\n- {name: b}\n");
        let b = seq("- {name: b}\n- {name: a}\n");
        match match_items("env", &a, &b) {
            Matching::Keyed(k) => assert!(k.reordered),
            Matching::Positional(_) => panic!("expected keyed"),
        }
    }

    #[test]
    fn value_alignment_pairs_replacements_by_position() {
        let got = align(&seq("[a, b, c, d]"), &seq("[a, x, y, d, e]"));
        assert_eq!(
            got,
            vec![
                Aligned::Pair(0, 0),
                Aligned::Pair(1, 1),
                Aligned::Pair(2, 2),
                Aligned::Pair(3, 3),
                Aligned::Added(4),
            ]
        );
    }
}
