//! Reading rendered manifest streams into resources.

use std::collections::BTreeMap;

use yaml11::{Limits, Value};

use crate::error::Error;
use crate::model::Identity;

/// Kinds that live outside namespaces: their namespace is never defaulted.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterSecretStore",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// True for kinds that are not namespaced.
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.binary_search(&kind).is_ok()
}

/// What makes two resources "the same" across an upgrade: the API group (not the version, so
/// `apps/v1beta2` → `apps/v1` is a modification), kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKey {
    /// API group, empty for core.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace after defaulting; empty for cluster-scoped kinds.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// 1 for the first object with this identity in a stream, 2 for a duplicate, ….
    pub occurrence: u32,
}

/// One Kubernetes object read from a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Matching key.
    pub key: ResourceKey,
    /// `apiVersion` as written.
    pub api_version: String,
    /// The whole object.
    pub object: Value,
    /// 1-based document number in the stream.
    pub document: usize,
    /// 1-based line where the document starts.
    pub line: usize,
    /// Template path from Helm's `# Source:` comment.
    pub source: Option<String>,
}

impl Resource {
    /// The identity as reported in output.
    pub fn identity(&self) -> Identity {
        Identity {
            api_version: self.api_version.clone(),
            kind: self.key.kind.clone(),
            name: self.key.name.clone(),
            namespace: self.key.namespace.clone(),
        }
    }

    /// True for Helm hooks (`helm.sh/hook` annotation).
    pub fn is_hook(&self) -> bool {
        self.object
            .pointer(&["metadata", "annotations", "helm.sh/hook"])
            .is_some()
    }
}

/// All resources of one stream, keyed for matching.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    /// What the stream is called in messages (a file name, `stdin`, a revision).
    pub name: String,
    /// Resources by key (deterministic order).
    pub resources: BTreeMap<ResourceKey, Resource>,
    /// Hex sha256 of the stream text.
    pub sha256: String,
    /// Duplicate identities found, described for the reader.
    pub duplicates: Vec<String>,
}

/// How to read a stream.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Namespace given to namespaced objects that name none.
    pub namespace: String,
    /// Size bounds.
    pub limits: Limits,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            namespace: "default".to_owned(),
            limits: Limits::default(),
        }
    }
}

/// Reads a multi-document manifest stream.
///
/// `List` kinds are expanded and empty documents skipped. A document that is not valid YAML,
/// not a mapping, or lacks `apiVersion`, `kind` or `metadata.name` is an error naming the
/// stream, the document number and its line: nothing is dropped silently.
pub fn parse_manifest(name: &str, text: &str, opts: &ParseOptions) -> Result<Manifest, Error> {
    let docs = yaml11::parse_stream(text, &opts.limits).map_err(|source| Error::Yaml {
        stream: name.to_owned(),
        source,
    })?;
    let sources = SourceComments::scan(text);
    let mut manifest = Manifest {
        name: name.to_owned(),
        sha256: crate::hash::sha256_hex(text.as_bytes()),
        ..Manifest::default()
    };
    let mut first_seen: BTreeMap<ResourceKey, usize> = BTreeMap::new();
    for doc in docs {
        let source = sources.for_line(doc.line);
        let objects = expand_list(name, doc.index, doc.line, doc.value)?;
        for object in objects {
            let (api_version, mut key) = identify(name, doc.index, doc.line, &object, opts)?;
            let base = key.clone();
            if let Some(&first) = first_seen.get(&base) {
                let mut n = 2;
                key.occurrence = n;
                while manifest.resources.contains_key(&key) {
                    n += 1;
                    key.occurrence = n;
                }
                manifest.duplicates.push(format!(
                    "{}: {} {} appears more than once (documents {} and {}); compared by occurrence",
                    name,
                    key.kind,
                    display_name(&key),
                    first,
                    doc.index
                ));
            } else {
                first_seen.insert(base, doc.index);
            }
            manifest.resources.insert(
                key.clone(),
                Resource {
                    key,
                    api_version,
                    object,
                    document: doc.index,
                    line: doc.line,
                    source: source.clone(),
                },
            );
        }
    }
    Ok(manifest)
}

fn display_name(key: &ResourceKey) -> String {
    if key.namespace.is_empty() {
        key.name.clone()
    } else {
        format!("{}/{}", key.namespace, key.name)
    }
}

fn expand_list(
    stream: &str,
    document: usize,
    line: usize,
    value: Value,
) -> Result<Vec<Value>, Error> {
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k == "List" || (k.ends_with("List") && value.get("items").is_some()))
        && matches!(
            value.get("items"),
            Some(Value::Sequence(_)) | Some(Value::Null)
        );
    if !is_list {
        return Ok(vec![value]);
    }
    let Value::Mapping(mut m) = value else {
        return Ok(Vec::new());
    };
    match m.remove("items") {
        Some(Value::Sequence(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !matches!(item, Value::Mapping(_)) {
                    return Err(Error::Invalid {
                        stream: stream.to_owned(),
                        document,
                        line,
                        problem: format!("List item {i} is a {}, not an object", item.type_name()),
                    });
                }
            }
            Ok(items)
        }
        _ => Ok(Vec::new()),
    }
}

fn identify(
    stream: &str,
    document: usize,
    line: usize,
    object: &Value,
    opts: &ParseOptions,
) -> Result<(String, ResourceKey), Error> {
    let invalid = |problem: String| Error::Invalid {
        stream: stream.to_owned(),
        document,
        line,
        problem,
    };
    if !matches!(object, Value::Mapping(_)) {
        return Err(invalid(format!(
            "document is a {}, not a Kubernetes object",
            object.type_name()
        )));
    }
    let text = |keys: &[&str]| {
        object
            .pointer(keys)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let api_version = text(&["apiVersion"]).ok_or_else(|| invalid("missing apiVersion".into()))?;
    let kind = text(&["kind"]).ok_or_else(|| invalid("missing kind".into()))?;
    let name = text(&["metadata", "name"])
        .or_else(|| text(&["metadata", "generateName"]))
        .ok_or_else(|| invalid(format!("{kind} has no metadata.name")))?;
    let namespace = if is_cluster_scoped(kind) {
        String::new()
    } else {
        text(&["metadata", "namespace"])
            .unwrap_or(&opts.namespace)
            .to_owned()
    };
    let group = api_version
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or("")
        .to_owned();
    Ok((
        api_version.to_owned(),
        ResourceKey {
            group,
            kind: kind.to_owned(),
            namespace,
            name: name.to_owned(),
            occurrence: 1,
        },
    ))
}

/// Helm's `# Source: chart/templates/x.yaml` comments, by line.
struct SourceComments {
    /// (line of the `---` or stream start, source path) in line order.
    marks: Vec<(usize, Option<String>)>,
}

impl SourceComments {
    fn scan(text: &str) -> Self {
        let mut marks = vec![(0usize, None)];
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line == "---" || line.starts_with("--- ") {
                marks.push((n, None));
            } else if let Some(src) = line.strip_prefix("# Source: ")
                && let Some(last) = marks.last_mut()
                && last.1.is_none()
            {
                last.1 = Some(src.trim().to_owned());
            }
        }
        SourceComments { marks }
    }

    fn for_line(&self, line: usize) -> Option<String> {
        let at = self.marks.partition_point(|(l, _)| *l < line);
        at.checked_sub(1).and_then(|i| self.marks[i].1.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, Error> {
        parse_manifest("test.yaml", text, &ParseOptions::default())
    }

    #[test]
    fn cluster_scoped_list_is_sorted_for_binary_search() {
        let mut sorted = CLUSTER_SCOPED.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, CLUSTER_SCOPED);
    }

    #[test]
    fn identity_uses_group_and_defaults_namespace() {
        let m = parse("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n").unwrap();
        let key = m.resources.keys().next().unwrap();
        assert_eq!(key.group, "apps");
        assert_eq!(key.namespace, "default");
        assert_eq!(key.name, "web");
    }

    #[test]
    fn cluster_scoped_kinds_have_no_namespace() {
        let m = parse(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  namespace: x\n",
        )
        .unwrap();
        assert_eq!(m.resources.keys().next().unwrap().namespace, "");
    }

    #[test]
    fn empty_documents_are_skipped_and_lists_expanded() {
        let text = "---\n# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n";
        let m = parse(text).unwrap();
        let names: Vec<_> = m.resources.keys().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn missing_name_is_an_error_with_document_and_line() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata: {}\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("test.yaml"), "{err}");
        assert!(err.contains("document 2"), "{err}");
        assert!(err.contains("line 6"), "{err}");
        assert!(err.contains("Secret has no metadata.name"), "{err}");
    }

    #[test]
    fn missing_kind_and_non_objects_are_errors() {
        assert!(
            parse("apiVersion: v1\nmetadata: {name: a}\n")
                .unwrap_err()
                .to_string()
                .contains("missing kind")
        );
        assert!(
            parse("- a\n- b\n")
                .unwrap_err()
                .to_string()
                .contains("not a Kubernetes object")
        );
    }

    #[test]
    fn invalid_yaml_names_the_stream() {
        let err = parse("a: [1, 2\n").unwrap_err().to_string();
        assert_eq!(err, "cannot read test.yaml");
    }

    #[test]
    fn duplicates_are_kept_and_reported() {
        let doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
        let m = parse(&format!("{doc}---\n{doc}")).unwrap();
        assert_eq!(m.resources.len(), 2);
        assert_eq!(m.duplicates.len(), 1);
        assert!(
            m.duplicates[0].contains("documents 1 and 2"),
            "{:?}",
            m.duplicates
        );
    }

    #[test]
    fn source_comments_are_attached() {
        let text = "---\n# Source: chart/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
        let m = parse(text).unwrap();
        let r = m.resources.values().next().unwrap();
        assert_eq!(r.source.as_deref(), Some("chart/templates/cm.yaml"));
    }

    #[test]
    fn size_limit_is_named() {
        let opts = ParseOptions {
            limits: Limits {
                max_bytes: 10,
                ..Limits::default()
            },
            ..ParseOptions::default()
        };
        let err = parse_manifest("big.yaml", "apiVersion: v1\n", &opts).unwrap_err();
        let top = err.to_string();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        // The stream is named once, the limit by the cause (printed after it under `{:#}`).
        assert_eq!(top, "cannot read big.yaml");
        assert!(
            cause.contains("limit") && !cause.contains("big.yaml"),
            "{cause}"
        );
    }
}
