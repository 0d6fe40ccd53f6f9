//! Helm's built-in objects that have methods: `.Capabilities` (with `APIVersions.Has`) and
//! `.Files` (`Get`, `GetBytes`, `Glob`, `Lines`, `AsConfig`, `AsSecrets`).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;

use crate::funcs::{FuncError, Sig, Ty};
use crate::value::{ElemType, List, MethodResult, Object, Value};

/// The group/versions Helm 3.17.1 reports by default (client-go's scheme), in its order.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1alpha1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1alpha1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// `chartutil.VersionSet`: a `[]string` with a `Has` method.
#[derive(Debug, Clone)]
pub struct VersionSet(pub Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> String {
        "chartutil.VersionSet".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Sig> {
        (name == "Has").then(|| Sig::fixed(&[Ty::String]))
    }
    fn call_method(&self, _name: &str, args: Vec<Value>) -> MethodResult {
        let want = args[0].as_str().unwrap_or("");
        Ok(Value::Bool(self.0.iter().any(|v| v == want)))
    }
    fn format(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
    fn to_data(&self) -> Value {
        Value::string_list(&self.0)
    }
    fn kind(&self) -> &'static str {
        "slice"
    }
    fn len(&self) -> Option<usize> {
        Some(self.0.len())
    }
    fn items(&self) -> Option<Vec<Value>> {
        Some(self.0.iter().map(Value::str).collect())
    }
}

/// `chartutil.KubeVersion`.
#[derive(Debug, Clone)]
pub struct KubeVersion {
    /// `v1.32.0`.
    pub version: String,
    /// `1`.
    pub major: String,
    /// `32`.
    pub minor: String,
}

impl KubeVersion {
    /// Parses `v1.32.0`/`1.32.0` the way Helm's `--kube-version` does (adding the `v`).
    pub fn parse(s: &str) -> Option<KubeVersion> {
        let t = s.strip_prefix('v').unwrap_or(s);
        let mut it = t.split(['.', '-', '+']);
        let major: u64 = it.next()?.parse().ok()?;
        let minor: u64 = it.next().unwrap_or("0").parse().ok()?;
        Some(KubeVersion {
            version: format!("v{t}"),
            major: major.to_string(),
            minor: minor.to_string(),
        })
    }
}

impl Default for KubeVersion {
    fn default() -> Self {
        KubeVersion {
            version: "v1.32.0".into(),
            major: "1".into(),
            minor: "32".into(),
        }
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> String {
        "chartutil.KubeVersion".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(&self.version)),
            "Major" => Some(Value::str(&self.major)),
            "Minor" => Some(Value::str(&self.minor)),
            _ => None,
        }
    }
    fn method(&self, name: &str) -> Option<Sig> {
        matches!(name, "String" | "GitVersion").then(|| Sig::fixed(&[]))
    }
    fn call_method(&self, _name: &str, _args: Vec<Value>) -> MethodResult {
        Ok(Value::str(&self.version))
    }
    fn format(&self) -> String {
        format!("{{{} {} {}}}", self.version, self.major, self.minor)
    }
    fn to_data(&self) -> Value {
        Value::map([
            ("Version", Value::str(&self.version)),
            ("Major", Value::str(&self.major)),
            ("Minor", Value::str(&self.minor)),
        ])
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
}

/// `*chartutil.Capabilities`.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// `.Capabilities.KubeVersion`.
    pub kube_version: KubeVersion,
    /// `.Capabilities.APIVersions`.
    pub api_versions: Vec<String>,
    /// `.Capabilities.HelmVersion` fields: version, git commit, tree state, Go version.
    pub helm_version: [String; 4],
}

impl Default for Capabilities {
    /// Helm 3.17.1's defaults: Kubernetes v1.32.0 and its 56 group/versions.
    fn default() -> Self {
        Capabilities {
            kube_version: KubeVersion::default(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
            helm_version: [
                "v3.17.1".into(),
                "980d8ac1939e39138101364400756af2bdee1da5".into(),
                "clean".into(),
                "go1.23.5".into(),
            ],
        }
    }
}

impl Capabilities {
    fn helm_version_value(&self) -> Value {
        Value::map([
            ("version", Value::str(&self.helm_version[0])),
            ("git_commit", Value::str(&self.helm_version[1])),
            ("git_tree_state", Value::str(&self.helm_version[2])),
            ("go_version", Value::str(&self.helm_version[3])),
        ])
    }
}

impl Object for Capabilities {
    fn type_name(&self) -> String {
        "*chartutil.Capabilities".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::object(self.kube_version.clone())),
            "APIVersions" => Some(Value::object(VersionSet(self.api_versions.clone()))),
            "HelmVersion" => Some(Value::object(HelmVersion(self.helm_version.clone()))),
            _ => None,
        }
    }
    fn format(&self) -> String {
        format!(
            "&{{{} [{}] {{{} {} {} {}}}}}",
            self.kube_version.format(),
            self.api_versions.join(" "),
            self.helm_version[0],
            self.helm_version[1],
            self.helm_version[2],
            self.helm_version[3]
        )
    }
    fn to_data(&self) -> Value {
        Value::map([
            ("KubeVersion", self.kube_version.to_data()),
            ("APIVersions", Value::string_list(&self.api_versions)),
            ("HelmVersion", self.helm_version_value()),
        ])
    }
}

#[derive(Debug, Clone)]
struct HelmVersion([String; 4]);

impl Object for HelmVersion {
    fn type_name(&self) -> String {
        "version.BuildInfo".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        let i = ["Version", "GitCommit", "GitTreeState", "GoVersion"]
            .iter()
            .position(|n| *n == name)?;
        Some(Value::str(&self.0[i]))
    }
    fn format(&self) -> String {
        format!(
            "{{{} {} {} {}}}",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
    fn to_data(&self) -> Value {
        Value::map([
            ("version", Value::str(&self.0[0])),
            ("git_commit", Value::str(&self.0[1])),
            ("git_tree_state", Value::str(&self.0[2])),
            ("go_version", Value::str(&self.0[3])),
        ])
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
}

/// `engine.files`: a chart's non-template files by path.
#[derive(Debug, Clone, Default)]
pub struct Files(pub Arc<BTreeMap<String, Arc<Vec<u8>>>>);

impl Files {
    /// Files from `(path, bytes)` pairs; the bytes are shared with whoever else holds them.
    pub fn new(files: impl IntoIterator<Item = (String, Arc<Vec<u8>>)>) -> Self {
        Files(Arc::new(files.into_iter().collect()))
    }
}

/// Glob matching as gobwas/glob does with `/` as separator: `*` and `?` stay within a path
/// segment, `**` crosses segments, `[...]` classes, `{a,b}` alternatives.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn m(p: &[char], s: &[char]) -> bool {
        if p.is_empty() {
            return s.is_empty();
        }
        match p[0] {
            '*' => {
                if p.len() > 1 && p[1] == '*' {
                    let rest = &p[2..];
                    (0..=s.len()).any(|i| m(rest, &s[i..]))
                } else {
                    let rest = &p[1..];
                    for i in 0..=s.len() {
                        if m(rest, &s[i..]) {
                            return true;
                        }
                        if i < s.len() && s[i] == '/' {
                            break;
                        }
                    }
                    false
                }
            }
            '?' => !s.is_empty() && s[0] != '/' && m(&p[1..], &s[1..]),
            '[' => {
                let Some(end) = p.iter().position(|&c| c == ']') else {
                    return !s.is_empty() && s[0] == '[' && m(&p[1..], &s[1..]);
                };
                if s.is_empty() {
                    return false;
                }
                let class = &p[1..end];
                let (neg, class) = match class.first() {
                    Some('!') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        if class[i] <= s[0] && s[0] <= class[i + 2] {
                            hit = true;
                        }
                        i += 3;
                    } else {
                        if class[i] == s[0] {
                            hit = true;
                        }
                        i += 1;
                    }
                }
                hit != neg && m(&p[end + 1..], &s[1..])
            }
            '{' => {
                let Some(end) = p.iter().position(|&c| c == '}') else {
                    return !s.is_empty() && s[0] == '{' && m(&p[1..], &s[1..]);
                };
                let inner: String = p[1..end].iter().collect();
                inner.split(',').any(|alt| {
                    let mut np: Vec<char> = alt.chars().collect();
                    np.extend_from_slice(&p[end + 1..]);
                    m(&np, s)
                })
            }
            '\\' if p.len() > 1 => !s.is_empty() && s[0] == p[1] && m(&p[2..], &s[1..]),
            c => !s.is_empty() && s[0] == c && m(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    m(&p, &s)
}

fn base_name(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    match t.rfind('/') {
        Some(i) => &t[i + 1..],
        None => t,
    }
}

impl Object for Files {
    fn type_name(&self) -> String {
        "engine.files".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Sig> {
        match name {
            "Get" | "GetBytes" | "Glob" | "Lines" => Some(Sig::fixed(&[Ty::String])),
            "AsConfig" | "AsSecrets" => Some(Sig::fixed(&[])),
            _ => None,
        }
    }
    fn call_method(&self, name: &str, args: Vec<Value>) -> MethodResult {
        let arg = args
            .first()
            .and_then(|a| a.as_str())
            .unwrap_or("")
            .to_string();
        match name {
            "Get" => Ok(Value::str(
                self.0
                    .get(&arg)
                    .map(|b| crate::gostr::from_go_bytes(b).into_owned())
                    .unwrap_or_default(),
            )),
            "GetBytes" => Ok(Value::Bytes(Arc::from(
                self.0.get(&arg).map_or(&[][..], |b| b.as_slice()),
            ))),
            "Glob" => Ok(Value::object(Files(Arc::new(
                self.0
                    .iter()
                    .filter(|(k, _)| glob_match(&arg, k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )))),
            "Lines" => {
                let Some(b) = self.0.get(&arg) else {
                    return Ok(Value::List(List::typed(vec![], ElemType::String)));
                };
                let mut s = crate::gostr::from_go_bytes(b).into_owned();
                if s.ends_with('\n') {
                    s.pop();
                }
                Ok(Value::string_list(s.split('\n')))
            }
            // An empty group (a Glob that matched nothing) is still a map in Go, not nil:
            // `{}`, as Helm prints it.
            "AsConfig" | "AsSecrets" => {
                let m = Value::map(self.0.iter().map(|(k, v)| {
                    let text = if name == "AsConfig" {
                        crate::gostr::from_go_bytes(v).into_owned()
                    } else {
                        base64::engine::general_purpose::STANDARD.encode(v.as_slice())
                    };
                    (base_name(k).to_string(), Value::str(text))
                }));
                Ok(Value::str(crate::to_yaml(&m)))
            }
            _ => Err(FuncError::new(format!("no method {name}"))),
        }
    }
    fn format(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}:{}",
                    crate::gofmt::sprint_value(&Value::Bytes(Arc::from(v.as_slice())))
                )
            })
            .collect();
        format!("map[{}]", parts.join(" "))
    }
    fn to_data(&self) -> Value {
        Value::map(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bytes(Arc::from(v.as_slice())))),
        )
    }
    fn kind(&self) -> &'static str {
        "map"
    }
    fn len(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("files/*.txt", "files/a.txt"));
        assert!(!glob_match("files/*.txt", "files/sub/a.txt"));
        assert!(glob_match("files/**.txt", "files/sub/a.txt"));
        assert!(glob_match("files/{a,b}.txt", "files/b.txt"));
        assert!(glob_match("f?les/[a-c].txt", "files/b.txt"));
    }

    #[test]
    fn kube_version_parse() {
        let k = KubeVersion::parse("1.28.3").unwrap();
        assert_eq!(
            (k.version.as_str(), k.major.as_str(), k.minor.as_str()),
            ("v1.28.3", "1", "28")
        );
    }
}
